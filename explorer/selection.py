"""What the Explore tab's selection is: the rows a box/lasso chose, narrowed by a confusion cell.

A selection is kept as rows (``{"ds", "rows"}`` in a ``dcc.Store``), never as points of one
figure, so it survives every control that keeps the dataset (colouring, model, projection,
tabs); a cell clicked while a selection exists filters within it.  Pure functions of a
:class:`~explorer.store.ModelView` and the stores' checked contents.
"""
from __future__ import annotations

import numpy as np

from .checks import _cell_of, _rows_of
from .store import ModelView


def within(rows: np.ndarray | None, other: np.ndarray | None) -> np.ndarray | None:
    """Rows in both (sorted); either one alone where the other is ``None``; ``None`` for neither."""
    if rows is None:
        return other
    if other is None:
        return rows
    return np.intersect1d(rows, other).astype(np.int64)


def focus_rows(m: ModelView, sel: dict | None, cell_data: dict | None) -> tuple[np.ndarray | None, str]:
    """The rows the selection panel shows and their description: the scatter selection, within the
    chosen cell of ``m`` where one is chosen; ``(None, "")`` for neither."""
    ds = m.ds
    rows = _rows_of(sel, ds.name, ds.n)
    cell = _cell_of(cell_data, ds.name, len(ds.class_names))
    words = []
    if rows is not None:
        words.append("selected on the scatter")
    if cell is not None:
        t, p = cell
        what = "correctly classified" if t == p else f"predicted {ds.class_names[p]}"
        words.append(f"true {ds.class_names[t]}, {what} by {m.the_title}")
        rows = within(rows, m.rows_in_cell(t, p))
    return rows, ", ".join(words)

"""What the Explore tab's selection is: the rows a box/lasso chose, narrowed by a confusion cell.

A selection is kept as rows (``{"ds", "rows"}`` in a ``dcc.Store``), never as points of one
figure, so it survives every control that keeps the dataset (colouring, model, projection,
tabs); a cell clicked while a selection exists filters within it.  The URL keeps it with the
clicked point and the zoom (:func:`url_rows`, :func:`with_rows`).  Pure functions of a
:class:`~explorer.store.ModelView` and the stores' checked contents.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .checks import _cell_of, _int, _rows_of
from .state import MAX_SEL, ViewState, decode_rows, encode_rows, parse_zoom
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


def url_rows(s: ViewState, m: ModelView) -> dict:
    """The clicked point, selection and zoom stores a URL's state ``s`` sets, read against ``m``'s dataset."""
    n = m.ds.n
    rows = decode_rows(s.sel, n) if s.sel else None
    return {"point": {"ds": s.ds, "row": s.point} if s.point is not None and s.point < n else None,
            "sel": {"ds": s.ds, "rows": rows.tolist()} if rows is not None else None,
            "zoom": ({"view": f"{s.ds}/{m.name}/{s.proj}", "x": list(s.zoom[:2]), "y": list(s.zoom[2:])}
                     if s.zoom else None)}


def zoom_of(zoom, view: str) -> tuple[float, float, float, float] | None:
    """The axis ranges of a zoom store if they are of ``view`` (``dataset/model/projection``), checked."""
    if not isinstance(zoom, dict) or zoom.get("view") != view:
        return None
    x, y = zoom.get("x"), zoom.get("y")
    if not (isinstance(x, list) and isinstance(y, list) and len(x) == len(y) == 2):
        return None
    return parse_zoom(",".join(str(v) for v in (*x, *y)))


def with_rows(s: ViewState, m: ModelView, point, sel, zoom) -> tuple[ViewState, str]:
    """``s`` with the clicked point, selection and zoom the stores hold for ``m``'s view, and a note
    where the selection is too large for a URL (``""`` otherwise)."""
    ds = m.ds
    row = point.get("row") if isinstance(point, dict) and point.get("ds") == ds.name else None
    rows = _rows_of(sel, ds.name, ds.n)
    text, note = (encode_rows(rows, ds.n) if rows is not None and len(rows) else ""), ""
    if len(text) > MAX_SEL:
        note = (f"This selection ({len(rows):,} points) is too large for the page's URL ({len(text):,} "
                f"characters, at most {MAX_SEL:,}): a link to this view opens without it.")
        text = ""
    return replace(s, point=None if row is None else _int(row, 0, ds.n, "clicked row"), sel=text,
                   zoom=zoom_of(zoom, f"{ds.name}/{m.name}/{s.proj}")), note

"""What the Explore tab's selection is: the rows a box/lasso chose, narrowed by a confusion cell.

A selection is kept as rows (``{"ds", "rows"}`` in a ``dcc.Store``), never as points of one
figure, so it survives every control that keeps the dataset (colouring, model, projection,
tabs); a cell clicked while a selection exists filters within it.  The URL keeps it with the
clicked point, the zoom and the cell (:data:`FIELDS`; :func:`url_rows`, :func:`with_rows`), and the
filter bar's values (:func:`url_filters`, :func:`with_filters`).  Pure functions of a
:class:`~explorer.store.ModelView` and the stores' checked contents.
"""
from __future__ import annotations

import re

import numpy as np

from . import ids
from .checks import BadInput, _cell_of, _int, _rows_of, _short
from .figures import nines
from .registry import Field, ViewState, last
from .store import ModelView
from .urlvalues import (LAYERS, MAX_FIND, MAX_SEL, SEL_TEXT, SHOWS, decode_rows, encode_rows, numbers_text, pair_text,
                        parse_conf, parse_pair, parse_row, parse_zoom)


def within(rows: np.ndarray | None, other: np.ndarray | None) -> np.ndarray | None:
    """Rows in both (sorted); either one alone where the other is ``None``; ``None`` for neither."""
    if rows is None:
        return other
    if other is None:
        return rows
    return np.intersect1d(rows, other).astype(np.int64)


#: the filter bar's values when it filters nothing: confidence in nines (:func:`figures.nines`), 0 to 4
NO_FILTER = {"conf": [0.0, 4.0], "correct": "all", "issue": 0.0}
FOUND_MAX = 200  # found points ringed on the scatter; the count says how many more there are


def _filter(flt) -> dict:
    """The filter store checked: confidence range in nines, ``all``/``correct``/``wrong``, least issue score."""
    if not flt:
        return dict(NO_FILTER)
    if not isinstance(flt, dict):
        raise BadInput(f"filter must be an object (got {_short(flt)})")
    conf, correct, issue = flt.get("conf", NO_FILTER["conf"]), flt.get("correct", "all"), flt.get("issue", 0.0)
    if (not isinstance(conf, list) or len(conf) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in conf)):
        raise BadInput(f"confidence filter must be two numbers (got {_short(conf)})")
    if correct not in ("all", "correct", "wrong"):
        raise BadInput(f"correct/wrong filter must be all, correct or wrong (got {_short(correct)})")
    if not isinstance(issue, (int, float)) or isinstance(issue, bool):
        raise BadInput(f"label-issue filter must be a number (got {_short(issue)})")
    return {"conf": sorted(float(v) for v in conf), "correct": correct, "issue": float(issue)}


def filter_rows(m: ModelView, flt) -> np.ndarray | None:
    """Rows of ``m.ds`` that pass the filter bar (:data:`NO_FILTER` keys), sorted; ``None`` if it filters nothing.

    Confidence is compared in nines, as it is coloured (0.9 -> 1, 0.99 -> 2); the label-issue
    score only where ``m`` has label issues.
    """
    f = _filter(flt)
    lo, hi = f["conf"]
    keep = np.ones(m.ds.n, dtype=bool)
    if lo > NO_FILTER["conf"][0] or hi < NO_FILTER["conf"][1]:
        v = nines(m.confidence)
        keep &= (v >= lo - 1e-6) & (v <= hi + 1e-6)
    if f["correct"] != "all":
        keep &= (m.ds.labels == m.pred) == (f["correct"] == "correct")
    if f["issue"] > 0 and m.issues is not None:
        keep &= np.asarray(m.issues.score, dtype=float) >= f["issue"] - 1e-9
    return None if keep.all() else np.flatnonzero(keep).astype(np.int64)


#: what a search may start with: a predicted class (``pred``), or a true class said outright (``class``,
#: ``true``, ``label``), which a bare number cannot be: it is a sample id
FIND_PREFIX = re.compile(r"^(?:(?P<pred>pred(?:icted)?)|class|true|label)[\s:]+(?=\S)", flags=re.I)


def find_classes(names: list[str] | tuple[str, ...], text: str) -> list[int]:
    """The classes a name finds: the one whose whole name it is; else, for a number, the class of that
    number (``class 3``: the fourth, where no name is ``3``); else those whose names hold it (``"shi"``)."""
    low = [c.lower() for c in names]
    name = text.strip().lower()
    exact = [i for i, c in enumerate(low) if c == name]
    if exact or not name:
        return exact
    if name.isascii() and name.isdigit():
        return [int(name)] if int(name) < len(names) else []
    return [i for i, c in enumerate(low) if name in c]


def find_rows(m: ModelView, text) -> tuple[np.ndarray | None, str]:
    """Rows a search finds and what was searched, in words: sample ids (``"1234"``, ``"12, 40"``),
    a class (``"Shirt"``, or ``"class 7"`` / ``"true 7"`` / ``"label 7"``: its true class, by name or
    number) or a predicted class (``"pred Shirt"``); a class name may be a part (``"shi"``) where
    no name is the whole.  ``(None, "")`` for an empty search."""
    if text is None or text == "":
        return None, ""
    if not isinstance(text, str) or len(text) > 200:
        raise BadInput("search must be a short text (sample ids or a class name)")
    q = text.strip()
    ids_ = [p for p in re.split(r"[\s,;]+", q) if p]
    if ids_ and all(p.isascii() and p.isdigit() and len(p) <= 12 for p in ids_):
        return np.flatnonzero(np.isin(m.ds.sample_ids, [int(p) for p in ids_])).astype(np.int64), "sample id"
    prefix = FIND_PREFIX.match(q)
    pred = bool(prefix and prefix.group("pred"))
    classes = find_classes(m.ds.class_names, q[prefix.end():] if prefix else q)
    by = m.pred if pred else m.ds.labels
    what = ("predicted " if pred else "true class ") + " or ".join(m.ds.class_names[i] for i in classes)
    return np.flatnonzero(np.isin(by, classes)).astype(np.int64), what if classes else "no such class"


def focus_rows(m: ModelView, sel: dict | None, cell_data: dict | None,
               flt: dict | None = None) -> tuple[np.ndarray | None, str]:
    """The rows the selection panel shows and their description: the scatter selection, within the
    chosen cell of ``m`` where one is chosen, of the points passing the filter bar; ``(None, "")``
    for none of them."""
    ds = m.ds
    rows = _rows_of(sel, ds.name, ds.n)
    cell = _cell_of(cell_data, ds.name, len(ds.class_names))
    words = []
    if rows is not None:  # what chose them where it says (a sub-cluster's label), else the scatter
        what = sel.get("what") if isinstance(sel, dict) else None
        words.append(what[:200] if isinstance(what, str) and what else "selected on the scatter")
    if cell is not None:
        t, p = cell
        what = "correctly classified" if t == p else f"predicted {ds.class_names[p]}"
        words.append(f"true {ds.class_names[t]}, {what} by {m.the_title}")
        rows = within(rows, m.rows_in_cell(t, p))
    passing = filter_rows(m, flt)
    if passing is not None:
        words.append("passing the filters")
        rows = within(rows, passing)
    return rows, ", ".join(words)


#: Explore's URL fields of the clicked point, the selection, the zoom and the confusion cell (the filter
#: bar's and the 2-D / 3-D switch's are declared beside their controls, in tabs.filters and tabs.explore3d)
FIELDS = (
    Field("point", None, lambda v, r: parse_row(last(v)), lambda p: [] if p is None else [str(p)],
          (ids.CLICKED, "data"), at=14),
    Field("sel", "", lambda v, r: last(v) if SEL_TEXT.fullmatch(last(v) or "") else "", control=(ids.SELECTION, "data"),
          at=15),
    Field("zoom", None, lambda v, r: parse_zoom(last(v)), lambda z: [] if z is None else [numbers_text(z)],
          (ids.ZOOM, "data"), at=16),
    Field("cell", None, lambda v, r: parse_pair(last(v), r.n_classes), lambda c: [] if c is None else [pair_text(c)],
          (ids.CELL, "data"), at=18),
)


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
    return s.replace(point=None if row is None else _int(row, 0, ds.n, "clicked row"), sel=text,
                     zoom=zoom_of(zoom, f"{ds.name}/{m.name}/{s.proj}")), note


def url_filters(s: ViewState) -> dict:
    """The filter bar's control values a URL's state ``s`` sets: ``conf`` (the range slider, in nines),
    ``show`` (correct/wrong), ``score`` (least label-issue score) and ``find`` (the search); and the
    scatter's ``layers``."""
    return {"conf": list(s.conf) if s.conf else list(NO_FILTER["conf"]), "show": s.show, "score": s.score,
            "find": s.find, "layers": list(s.layers)}


def with_filters(s: ViewState, conf, show, score, find, layers=None) -> ViewState:
    """``s`` with the filter bar's control values (as the controls hold them: checked here, and a
    value that filters nothing left out of the URL)."""
    rng = None
    if isinstance(conf, list) and len(conf) == 2:
        rng = parse_conf(",".join(f"{v:.6g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else "x"
                                  for v in conf))
    ok_score = isinstance(score, (int, float)) and not isinstance(score, bool) and 0 < score <= 1
    return s.replace(conf=rng, show=show if show in SHOWS else "all", score=float(score) if ok_score else 0.0,
                     find=find.strip()[:MAX_FIND] if isinstance(find, str) else "",
                     layers=tuple(v for v in LAYERS if isinstance(layers, list) and v in layers))

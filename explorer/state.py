"""The view's shareable state and its query-string form.

``?tab=explore&ds=<name>&model=cnn&proj=umap&colour=true&cell=6-0&model2=pixels&proj2=tsne``
``&frame=3&pair=<name>:4-9&pair=<other>:0-6&issue=6-0&compare=<name>,<other>`` restores a view exactly; unknown or
invalid values fall back to defaults rather than failing, since URLs get hand-edited
and outlive caches: a model the dataset lacks becomes its default model.
``&point=17&sel=z<base64>&zoom=x0,x1,y0,y1`` add the clicked point, the box/lasso selection
(:func:`encode_rows`: a zlib-packed bitset of the rows) and the scatter's axis ranges;
``&conf=1,3&show=wrong&score=0.5&find=pred+Shirt`` Explore's filter bar (confidence in nines, correct/wrong,
least label-issue score) and its search, each only where it filters or finds something;
``&layers=labels,density`` the Explore scatter's class labels and density map;
``&dims=3`` Explore's 3-D view.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import re
import zlib
from dataclasses import dataclass
from typing import Mapping, Sequence
from urllib.parse import parse_qs, urlencode

import numpy as np

from .store import PROJECTIONS

TABS = ("explore", "issues", "datasets", "projections", "dynamics")
MAX_SEL = 8000  # characters of an encoded selection the URL takes; a bigger one stays on the page only
MAX_QUERY = MAX_SEL + 4096  # longer query strings are not ours: read none of it
MAX_ROW = 10_000_000
MAX_FRAME = 10_000
COLOURS = ("true", "pred", "correct", "confidence", "issues", "faith")
#: colourings that need a folder the pipeline may not have made for a model (label issues, faithfulness)
OPTIONAL_COLOURS = ("issues", "faith")
SHOWS = ("all", "correct", "wrong")  # the filter bar's correct/wrong choice
CONF_RANGE = (0.0, 4.0)  # the confidence filter's range in nines (figures.CONF_NINES)
MAX_FIND = 200  # characters of a search the URL keeps (selection.find_rows takes no more)
LAYERS = ("labels", "density")  # the Explore scatter's optional layers (explorer.layers)
COLOUR_LABELS = {"true": "True class", "pred": "Predicted class", "correct": "Correct / wrong",
                 "confidence": "Confidence", "issues": "Label-issue score", "faith": "Faithfulness"}


@dataclass(frozen=True)
class ViewState:
    """What the page shows; every field is one query parameter.

    ``model`` is the model of dataset ``ds`` the page shows (``""``: its default);
    ``cell`` is ``(true, predicted)`` of the chosen confusion cell of that model;
    ``model2``/``proj2`` are the right-hand view of "Compare models";
    ``frame`` is the step of the training-dynamics slider and ``pairs`` the class pair
    charted per dataset there, as ``((dataset, a, b), ...)``; ``issue`` is the
    ``(given, suggested)`` class pair the "Label issues" tab is filtered to; ``compare`` the
    datasets "Compare datasets" shows, in the cache's order (``()``: every one); ``point`` the
    clicked row, ``sel`` the Explore selection as :func:`encode_rows` writes it (checked against
    the dataset's size by :func:`decode_rows`), ``zoom`` the Explore scatter's ``(x0, x1, y0, y1)``;
    ``conf`` (``(lo, hi)`` in nines, ``None``: all), ``show``, ``score`` and ``find`` Explore's filter bar,
    ``layers`` the scatter's optional layers (:data:`LAYERS`).
    """

    tab: str = "explore"
    ds: str = ""  # a dataset name; default_state picks the cache's first
    model: str = ""
    proj: str = "umap"
    colour: str = "true"
    cell: tuple[int, int] | None = None
    model2: str = ""
    proj2: str = "tsne"
    frame: int = 0
    pairs: tuple[tuple[str, int, int], ...] = ()
    issue: tuple[int, int] | None = None
    compare: tuple[str, ...] = ()
    point: int | None = None
    sel: str = ""
    zoom: tuple[float, float, float, float] | None = None
    dims: int = 2  # Explore's 2-D scatter, or its 3-D view (``dims=3``)
    conf: tuple[float, float] | None = None
    show: str = "all"
    score: float = 0.0
    find: str = ""
    layers: tuple[str, ...] = ()


#: per dataset: its model names in order and its default model
Models = Mapping[str, tuple[Sequence[str], str]]


def model_defaults(names: Sequence[str], default: str) -> tuple[str, str]:
    """The models a dataset opens with: ``default`` on the left, and on the right (Compare
    models) the first other model in order (raw pixels in the default ladder)."""
    other = next((m for m in names if m != default), default)
    return default, other


def default_state(datasets: list[str], models: Models | None = None) -> ViewState:
    """Defaults for a cache holding ``datasets`` (the first one is shown, with its default models)."""
    ds = datasets[0] if datasets else ""
    left, right = model_defaults(*models[ds]) if models and ds in models else ("", "")
    return ViewState(ds=ds, model=left, model2=right)


def parse_query(search: str | None, datasets: list[str], n_classes: int = 10,
                models: Models | None = None, projections: Sequence[str] = PROJECTIONS) -> ViewState:
    """Read a ``ViewState`` from ``location.search`` (with or without the ``?``).

    Parameters
    ----------
    search : str or None
        The query string.
    datasets : list of str
        Dataset names the cache holds; any other ``ds`` falls back to the first.
    n_classes : int, default 10
        Bound of the class numbers in ``cell``.
    models : mapping, optional
        Per dataset ``(model names, default model)``; a ``model``/``model2`` the chosen
        dataset lacks falls back to :func:`model_defaults`.  Without it, models are
        kept as written (short strings) or left ``""``.
    projections : sequence of str, default :data:`~explorer.store.PROJECTIONS`
        The projection methods the cache has (:func:`explorer.store.projections`).
    """
    base = default_state(datasets, models)
    if not isinstance(search, str) or len(search) > MAX_QUERY:
        return base
    lists = parse_qs(search.lstrip("?"))
    q = {k: v[-1] for k, v in lists.items()}

    def pick(key: str, allowed, default):
        v = q.get(key)
        return v if v in allowed else default

    cell = parse_pair(q.get("cell", ""), n_classes)
    frame = base.frame
    f = q.get("frame", "")
    # isascii: str.isdigit accepts other scripts' digits, which int() would then read
    if f.isascii() and f.isdigit() and len(f) <= 5 and int(f) <= MAX_FRAME:
        frame = int(f)
    pairs = {}
    for item in lists.get("pair", []):
        name, _, ab = item.partition(":")
        pair = parse_pair(ab, n_classes, distinct=True)
        if name in datasets and pair is not None:
            pairs[name] = pair
    wanted = set(q.get("compare", "").split(","))
    compare = tuple(n for n in datasets if n in wanted)
    ds = pick("ds", datasets, base.ds)
    if models and ds in models:
        names, default = models[ds]
        left, right = model_defaults(names, default)
        model, model2 = pick("model", names, left), pick("model2", names, right)
    else:  # nothing to check against: any short name, as written
        model, model2 = (v if isinstance(v, str) and len(v) <= 64 else "" for v in (q.get("model"), q.get("model2")))
    return ViewState(tab=pick("tab", TABS, base.tab), ds=ds, model=model, proj=pick("proj", projections, base.proj),
                     colour=pick("colour", COLOURS, base.colour), cell=cell,
                     model2=model2, proj2=pick("proj2", projections, base.proj2),
                     frame=frame, pairs=tuple((n, a, b) for n, (a, b) in sorted(pairs.items())),
                     issue=parse_pair(q.get("issue", ""), n_classes, distinct=True),
                     compare=() if len(compare) == len(datasets) else compare, point=_row(q.get("point")),
                     sel=q.get("sel", "") if SEL_TEXT.fullmatch(q.get("sel", "")) else "",
                     zoom=parse_zoom(q.get("zoom")), conf=parse_conf(q.get("conf")),
                     show=pick("show", SHOWS, base.show), score=parse_score(q.get("score")),
                     find=q.get("find", "")[:MAX_FIND].strip(),
                     layers=tuple(v for v in LAYERS if v in q.get("layers", "").split(",")),
                     dims=3 if q.get("dims") == "3" else 2)


def _number(text: str, lo: float, hi: float) -> float | None:
    """A finite number within ``[lo, hi]`` as the URL writes it (short), or ``None``."""
    if not isinstance(text, str) or len(text) > 12:
        return None
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) and lo <= v <= hi else None


def parse_conf(text) -> tuple[float, float] | None:
    """``"1,3.5"`` -> ``(1.0, 3.5)``, a confidence range in nines within :data:`CONF_RANGE`; ``None``
    for anything else or the whole range (it filters nothing)."""
    parts = text.split(",") if isinstance(text, str) else []
    v = [_number(p, *CONF_RANGE) for p in parts]
    if len(v) != 2 or None in v or v[0] > v[1] or tuple(v) == CONF_RANGE:
        return None
    return v[0], v[1]


def parse_score(text) -> float:
    """A least label-issue score in ``(0, 1]`` as the URL writes it; ``0.0`` (no filter) otherwise."""
    v = _number(text, 0.0, 1.0)
    return 0.0 if v is None else v


SEL_TEXT = re.compile(r"z[A-Za-z0-9_-]{1,%d}" % (MAX_SEL - 1))


def _row(text) -> int | None:
    """A row number as the URL writes it, or ``None``."""
    if isinstance(text, str) and text.isascii() and text.isdigit() and int(text) < MAX_ROW:
        return int(text)
    return None


def parse_zoom(text) -> tuple[float, float, float, float] | None:
    """``"x0,x1,y0,y1"`` -> four finite floats with ``x0 < x1`` and ``y0 < y1``; ``None`` otherwise."""
    if not isinstance(text, str) or len(text) > 120:
        return None
    try:
        v = tuple(float(p) for p in text.split(","))
    except ValueError:
        return None
    if len(v) != 4 or not all(math.isfinite(x) for x in v) or not (v[0] < v[1] and v[2] < v[3]):
        return None
    return v


def encode_rows(rows, n: int) -> str:
    """Rows of a dataset of ``n`` as URL text: ``"z"`` and the zlib-compressed bitset in base64url.

    A bitset costs ``n / 8`` bytes before compression whatever the rows are (a lasso's rows are
    scattered over the dataset, so ranges would not help); zlib squeezes a sparse or dense one.
    """
    bits = np.zeros(n, dtype=bool)
    bits[np.asarray(rows, dtype=np.int64)] = True
    packed = zlib.compress(np.packbits(bits).tobytes(), 9)
    return "z" + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode_rows(text: str, n: int) -> np.ndarray | None:
    """The rows :func:`encode_rows` wrote for a dataset of ``n``; ``None`` for anything else."""
    if not isinstance(text, str) or not SEL_TEXT.fullmatch(text):
        return None
    try:
        packed = base64.urlsafe_b64decode(text[1:] + "=" * (-len(text[1:]) % 4))
        d = zlib.decompressobj()
        raw = d.decompress(packed, (n + 7) // 8 + 1)  # never more than the bitset: no zip bomb
    except (binascii.Error, zlib.error, ValueError):
        return None
    if len(raw) != (n + 7) // 8 or d.unconsumed_tail:
        return None
    bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8))
    if bits[n:].any():
        return None
    rows = np.flatnonzero(bits[:n]).astype(np.int64)
    return rows if len(rows) else None


def parse_pair(text, n_classes: int = 10, distinct: bool = False) -> tuple[int, int] | None:
    """``"6-0"`` -> ``(6, 0)``; ``None`` for anything but two class numbers below ``n_classes``.

    ``distinct`` refuses ``a == b`` (a class pair for confusions, not a matrix cell).
    """
    if not isinstance(text, str) or len(text) > 9:
        return None
    parts = text.split("-")
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    a, b = int(parts[0]), int(parts[1])
    if a >= n_classes or b >= n_classes or (distinct and a == b):
        return None
    return a, b


def to_query(state: ViewState) -> str:
    """The query string (with ``?``) of ``state``; ``cell``, ``issue``, ``compare``, ``point``, ``sel``,
    ``zoom`` and the filter bar's ``conf``, ``show``, ``score``, ``find`` only when chosen, one ``pair`` per dataset."""
    d = dataclasses.asdict(state)
    cell, issue, compare = d.pop("cell"), d.pop("issue"), d.pop("compare")
    pairs, point, sel, zoom = d.pop("pairs"), d.pop("point"), d.pop("sel"), d.pop("zoom")
    conf, show, score, find = d.pop("conf"), d.pop("show"), d.pop("score"), d.pop("find")
    if d.pop("dims") == 3:
        d["dims"] = "3"
    if conf is not None:
        d["conf"] = ",".join(f"{v:.6g}" for v in conf)
    if show != "all":
        d["show"] = show
    if score:
        d["score"] = f"{score:.6g}"
    if find:
        d["find"] = find
    layers = d.pop("layers")
    if layers:
        d["layers"] = ",".join(layers)
    if point is not None:
        d["point"] = str(point)
    if sel:
        d["sel"] = sel
    if zoom is not None:
        d["zoom"] = ",".join(f"{v:.6g}" for v in zoom)
    if compare:
        d["compare"] = ",".join(compare)
    if cell is not None:
        d["cell"] = f"{cell[0]}-{cell[1]}"
    if issue is not None:
        d["issue"] = f"{issue[0]}-{issue[1]}"
    items = list(d.items()) + [("pair", f"{n}:{a}-{b}") for n, a, b in pairs]
    return "?" + urlencode(items)

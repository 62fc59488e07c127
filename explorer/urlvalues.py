"""The values the URL's fields hold, and how they are written: class pairs, rows as a packed bitset,
the zoom, the filter bar's range and score; the colourings, filters and layers a URL may name; and
the bounds that keep a hand-edited or hostile URL small.  Pure functions, used by the views that own
the fields (:mod:`explorer.tabs`) and by :mod:`explorer.state`.
"""
from __future__ import annotations

import base64
import binascii
import math
import re
import zlib
from typing import Mapping, Sequence

import numpy as np

MAX_SEL = 8000  # characters of an encoded selection the URL takes; a bigger one stays on the page only
MAX_QUERY = MAX_SEL + 4096  # longer query strings are not ours: read none of it
MAX_ROW = 10_000_000
MAX_FRAME = 10_000
COLOURS = ("true", "pred", "correct", "confidence", "issues", "faith", "atypical")
#: colourings that need a folder the pipeline may not have made for a model (label issues, faithfulness)
OPTIONAL_COLOURS = ("issues", "faith")
SHOWS = ("all", "correct", "wrong")  # the filter bar's correct/wrong choice
CONF_RANGE = (0.0, 4.0)  # the confidence filter's range in nines (figures.CONF_NINES)
MAX_FIND = 200  # characters of a search the URL keeps (selection.find_rows takes no more)
LAYERS = ("labels", "subclusters", "density", "images")  # the Explore scatter's optional layers (explorer.layers)
COLOUR_LABELS = {"true": "True class", "pred": "Predicted class", "correct": "Correct / wrong",
                 "confidence": "Confidence", "issues": "Label-issue score", "faith": "Faithfulness",
                 "atypical": "Atypicality"}


#: per dataset: its model names in order and its default model
Models = Mapping[str, tuple[Sequence[str], str]]


def model_defaults(names: Sequence[str], default: str) -> tuple[str, str]:
    """The models a dataset opens with: ``default`` on the left, and on the right (Compare
    models) the first other model in order (raw pixels in the default ladder)."""
    other = next((m for m in names if m != default), default)
    return default, other


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


def parse_row(text) -> int | None:
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


def pair_text(pair: tuple[int, int]) -> str:
    """``(6, 0)`` -> ``"6-0"``, as :func:`parse_pair` reads it."""
    return f"{pair[0]}-{pair[1]}"


def numbers_text(values) -> str:
    """Numbers as the URL writes them (``"0.5,1.25"``): short, and read back by :func:`parse_zoom` or
    :func:`parse_conf`."""
    return ",".join(f"{v:.6g}" for v in values)

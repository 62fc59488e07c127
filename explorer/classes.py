"""What scales with a dataset's number of classes (2 to ``core.datasets.MAX_CLASSES``, 100: the
bound the import check shares): class colours, the scatter's legend, and the class axes of the
matrices (confusions, label-issue pairs).

Up to 10 classes keep Tableau 10.  Beyond it the palette grows by farthest-point
sampling in CIELAB: each added colour is the candidate farthest from every colour
already chosen (and from the plot's near-white background), the greedy step of
Glasbey et al., "Colour displays for categorical images" (2007).  The first 10 classes
thus keep their Tableau colours in every palette, and the list is computed, not
random, so it is the same on every run.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from core.datasets import MAX_CLASSES, MIN_CLASSES

#: Tableau 10: distinct hues that stay apart for most colour-vision deficiencies.
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
#: up to this many classes each has a bar in a selection's histogram and the legend a place on a phone
FEW_CLASSES = 10
#: above this many classes: no counts printed in matrix cells, thinned tick labels, the smallest legend
MANY_CLASSES = 20
BACKGROUND = "#fafbfc"  # the scatter's plot background: no class may be drawn near it


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of sRGB colours in [0, 1], shape (..., 3)."""
    c = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = c @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float64) / 255


@lru_cache(maxsize=1)
def _generated() -> tuple[str, ...]:
    """:data:`PALETTE` extended to :data:`MAX_CLASSES` colours by farthest-point sampling in CIELAB."""
    levels = np.linspace(0, 1, 18)
    cand = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    lab = _lab(cand)
    # neither near white (lost on the background) nor near black (the outline colour of highlights)
    keep = (lab[:, 0] > 22) & (lab[:, 0] < 88)
    cand, lab = cand[keep], lab[keep]
    chosen = [_lab(_rgb(c)) for c in PALETTE]
    nearest = np.min([np.linalg.norm(lab - c, axis=1) for c in chosen + [_lab(_rgb(BACKGROUND))]], axis=0)
    out = list(PALETTE)
    while len(out) < MAX_CLASSES:
        i = int(nearest.argmax())  # the first of equals: deterministic
        out.append("#" + "".join(f"{int(round(v * 255)):02x}" for v in cand[i]))
        nearest = np.minimum(nearest, np.linalg.norm(lab - lab[i], axis=1))
    return tuple(out)


def class_colours(k: int) -> list[str]:
    """One hex colour per class of a ``k``-class dataset: Tableau 10 up to 10, then generated ones.

    Raises
    ------
    ValueError
        If ``k`` is not from 1 to :data:`MAX_CLASSES`.
    """
    if not 1 <= k <= MAX_CLASSES:
        raise ValueError(f"a dataset has {MIN_CLASSES} to {MAX_CLASSES} classes (got {k})")
    return list(PALETTE[:k]) if k <= len(PALETTE) else list(_generated()[:k])


def class_colour(c: int, k: int) -> str:
    """The colour of class ``c`` of a ``k``-class dataset (:func:`class_colours`)."""
    return class_colours(k)[int(c) % k]


def dataset_colours(store) -> dict[str, str]:
    """Each dataset of explorer store ``store``'s colour where datasets are compared: ``current.json``'s, else a
    palette colour by position."""
    return {n: store.get(n).colour or PALETTE[i % len(PALETTE)] for i, n in enumerate(store.names)}


def legend(k: int, title: str) -> dict:
    """A scatter's class legend: as before up to :data:`FEW_CLASSES` classes; above, entries packed
    closer (smaller still above :data:`MANY_CLASSES`) in a legend that scrolls beside the plot (plotly.js
    scrolls a vertical legend taller than the plot).  ``assets/hover.js`` hides such a legend on a
    phone, where it would sit under the plot and take its room (the figure's ``meta.many_classes``)."""
    out = {"title": {"text": title, "font": {"size": 11}}, "itemsizing": "constant",
           "bgcolor": "rgba(255,255,255,0.85)"}
    if k > FEW_CLASSES:
        out.update(tracegroupgap=2)
    if k > MANY_CLASSES:
        out.update(font={"size": 10}, tracegroupgap=0, itemwidth=30)
    return out


def matrix_axes(names: list[str]) -> dict:
    """Tick settings of a k x k class matrix's axes: every class named up to :data:`MANY_CLASSES`,
    else every ``ceil(k / MANY_CLASSES)``-th (the hover names each cell exactly)."""
    k = len(names)
    step = 1 if k <= MANY_CLASSES else -(-k // MANY_CLASSES)
    vals = list(range(0, k, step))
    out = {"tickmode": "array", "tickvals": vals, "ticktext": [names[v] for v in vals]}
    if k > MANY_CLASSES:
        out["tickfont"] = {"size": 9}
    return out


def matrix_cells(k: int) -> dict:
    """Heatmap settings that depend on k: gaps between cells and counts printed in them only while
    cells are large enough to read (:data:`MANY_CLASSES` classes)."""
    if k > MANY_CLASSES:
        return {"xgap": 0, "ygap": 0}
    return {"xgap": 1, "ygap": 1, "texttemplate": "%{text}",
            "textfont": {"size": 10 if k > 5 else 12, "color": "#111"}}

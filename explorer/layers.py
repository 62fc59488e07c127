"""Optional layers over a scatter, as layout items rather than traces (the traces' order maps
points back to rows): class names at each class's cluster centre, each class's sub-clusters
(:mod:`explorer.subclusters`), and a density map per class.

The density is a small PNG of the layout's extent placed as a layout image under the points:
plotly's contour and 2-D histogram traces are not in the explorer's trimmed plotly.js, and an
image needs no trace at all.
"""
from __future__ import annotations

import base64
import io

import numpy as np

from .classes import class_colours
from .encoding import to_plot, view_grid
from .store import ModelView
from .subclusters import labels as subcluster_labels

LABEL_NAME = "class-label"
DENSITY_NAME = "density"
GRID = 160  # density pixels along the layout's longer side
BLUR = 2.5  # the density's Gaussian blur, in pixels
LEVELS = 5  # alpha bands: the map reads as nested contours
MAX_ALPHA = 0.45


def label_classes(m: ModelView, colour: str) -> tuple[np.ndarray, str]:
    """What the labels name: the model's predicted classes while the scatter is coloured by them, else
    the true ones; and which, in words."""
    return (m.pred, "predicted") if colour == "pred" else (m.ds.labels, "true")


def class_centres(m: ModelView, projection: str, colour: str) -> list[tuple[int, float, float]]:
    """``(class, x, y)`` per class present: the median of its points in the layout, as Embedding Atlas
    places its labels (a mean falls between the parts of a class split in two)."""
    by, _ = label_classes(m, colour)
    coords = m.coords(projection)
    out = []
    for c in np.unique(by):
        xy = coords[by == c]
        out.append((int(c), float(np.median(xy[:, 0])), float(np.median(xy[:, 1]))))
    return out


def class_labels(m: ModelView, projection: str, colour: str) -> list[dict]:
    """Layout annotations: each class's name at its :func:`class_centres` point (in the scatter's plot
    units, :mod:`explorer.encoding`), on a light box."""
    names = m.ds.class_names
    size = 12 if len(names) <= 20 else 9
    centres = class_centres(m, projection, colour)
    at = to_plot([(x, y) for _, x, y in centres], view_grid(m, projection)).reshape(-1, 2)
    return [{"x": float(x), "y": float(y), "xref": "x", "yref": "y", "text": names[c], "showarrow": False,
             "name": LABEL_NAME, "font": {"size": size, "color": "#111"}, "bgcolor": "rgba(255,255,255,0.72)",
             "borderpad": 1, "captureevents": False}
            for (c, _, _), (x, y) in zip(centres, at)]


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of the last two axes, as two matrix products (numpy only)."""
    def kernel(n: int) -> np.ndarray:
        d = np.arange(n)
        g = np.exp(-0.5 * ((d[:, None] - d[None, :]) / sigma) ** 2)
        return g / g.sum(1, keepdims=True)
    return kernel(a.shape[-2]) @ a @ kernel(a.shape[-1]).T


def density_grid(m: ModelView, projection: str, colour: str) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Blurred point counts per class on a grid over the layout: ``(k, h, w)`` and the extent
    ``(x0, x1, y0, y1)`` it covers (the points' bounds and a margin for the blur)."""
    by, _ = label_classes(m, colour)
    xy = m.coords(projection).astype(np.float64)
    lo, hi = xy.min(0), xy.max(0)
    span = np.maximum(hi - lo, 1e-9)
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    cell = (hi - lo).max() / GRID
    w, h = (int(np.ceil(v)) for v in (hi - lo) / cell)
    k = len(m.ds.class_names)
    grid = np.zeros((k, h, w))
    ix = np.clip(((xy[:, 0] - lo[0]) / cell).astype(int), 0, w - 1)
    iy = np.clip(((xy[:, 1] - lo[1]) / cell).astype(int), 0, h - 1)
    np.add.at(grid, (by.astype(int), iy, ix), 1.0)
    present = grid.reshape(k, -1).any(1)
    grid[present] = _blur(grid[present], BLUR)
    return grid, (float(lo[0]), float(lo[0] + w * cell), float(lo[1]), float(lo[1] + h * cell))


def density_image(m: ModelView, projection: str, colour: str) -> dict:
    """A layout image under the points: each pixel in the colour of the class densest there, its
    opacity in :data:`LEVELS` bands of the total density (the bands read as contours); placed in the
    scatter's plot units (:mod:`explorer.encoding`)."""
    from PIL import Image

    grid, (x0, x1, y0, y1) = density_grid(m, projection, colour)
    total = grid.sum(0)
    top = total.max() or 1.0
    # bands of the square root: a sparse class still shows its outline next to a dense one
    level = np.ceil(np.sqrt(total / top) * LEVELS - 0.15).clip(0, LEVELS) / LEVELS
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in class_colours(len(m.ds.class_names))],
                   dtype=np.uint8)
    rgba = np.zeros(total.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = rgb[grid.argmax(0)]
    rgba[..., 3] = (level * MAX_ALPHA * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgba[::-1], "RGBA").save(buf, format="PNG", optimize=True)  # image rows run top down
    (x0, y0), (x1, y1) = to_plot([(x0, y0), (x1, y1)], view_grid(m, projection)).tolist()
    return {"source": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"),
            "xref": "x", "yref": "y", "x": x0, "y": y1, "sizex": x1 - x0, "sizey": y1 - y0,
            "sizing": "stretch", "layer": "below", "name": DENSITY_NAME}


def layers(m: ModelView, projection: str, colour: str, chosen) -> dict:
    """The layout's ``annotations`` and ``images`` for the chosen layers (``"labels"``, ``"subclusters"``:
    :mod:`explorer.subclusters`, ``"density"``)."""
    chosen = chosen if isinstance(chosen, list) else []
    basis = label_classes(m, colour)[1]  # what they depend on besides the layout: true or predicted classes
    return {"annotations": (m.cached(f"labels-{projection}-{basis}", lambda: class_labels(m, projection, colour))
                            if "labels" in chosen else [])
            + (m.cached(f"subclusters-{projection}", lambda: subcluster_labels(m, projection))
               if "subclusters" in chosen else []),
            # about 0.1-0.4 s at 70,000 points on a busy laptop: once per model, layout and classes
            "images": ([m.cached(f"density-{projection}-{basis}", lambda: density_image(m, projection, colour))]
                       if "density" in chosen else [])}

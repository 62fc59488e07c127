"""Compact figure arrays: typed arrays, the 2-D scatter's uint16 "plot units" and each row's group.

A 2-D scatter's x/y go out as uint16 steps of one grid (the same step on both axes, so the aspect
stays; :data:`STEPS` steps across the longer side), 70,000 points in about 0.28 MB of gzip instead of
0.55 MB of float32.  The grid (``x0``, ``y0``, ``step``) rides in ``layout.meta.grid``, so the page, an
export or a test can convert plot units and data coordinates both ways (:func:`to_plot`, :func:`to_data`).
Base traces of a colouring by classes carry no row ids: ``layout.meta.groups`` gives each row's
trace, and trace ``k`` holds the rows of group ``k`` in ascending order (:func:`trace_rows`).
"""
from __future__ import annotations

import base64

import numpy as np

STEPS = 65_535  # uint16 steps across the layout's longer side: 1/65,535 of it is far below a pixel
_CODES = {np.dtype(np.float32): "f4", np.dtype(np.float64): "f8", np.dtype(np.int32): "i4",
          np.dtype(np.uint8): "u1", np.dtype(np.int16): "i2", np.dtype(np.uint16): "u2"}
_DTYPES = {code: dtype.type for dtype, code in _CODES.items()}


def typed(array: np.ndarray) -> dict:
    """Plotly's typed-array spec: ``{"dtype": "f4", "bdata": <base64>}``."""
    a = np.ascontiguousarray(array)
    return {"dtype": _CODES[a.dtype], "bdata": base64.b64encode(a.tobytes()).decode("ascii")}


def decode(spec) -> np.ndarray:
    """A typed array (:func:`typed`) or a plain list as numpy."""
    if isinstance(spec, dict) and "bdata" in spec:
        return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=_DTYPES[spec["dtype"]])
    return np.asarray(spec)


def plot_grid(xy: np.ndarray) -> dict:
    """The uint16 grid of a 2-D layout ``xy`` (n, 2): its origin ``x0``, ``y0`` (the points' lower
    bounds) and one ``step`` for both axes, :data:`STEPS` of them across the longer side."""
    xy = np.asarray(xy, dtype=np.float64)
    if not len(xy):
        return {"x0": 0.0, "y0": 0.0, "step": 1.0}
    lo, hi = xy.min(0), xy.max(0)
    span = float((hi - lo).max())
    return {"x0": float(lo[0]), "y0": float(lo[1]), "step": span / STEPS if span > 0 else 1.0}


def to_plot(xy, grid: dict) -> np.ndarray:
    """float64 plot units of data coordinates ``xy`` (..., 2), unrounded."""
    xy = np.asarray(xy, dtype=np.float64)
    return (xy - np.array([grid["x0"], grid["y0"]])) / grid["step"]


def to_data(xy, grid: dict) -> np.ndarray:
    """float64 data coordinates of plot units ``xy`` (..., 2)."""
    return np.asarray(xy, dtype=np.float64) * grid["step"] + np.array([grid["x0"], grid["y0"]])


def quantise(xy: np.ndarray, grid: dict) -> np.ndarray:
    """uint16 (n, 2) plot units of ``xy``: the grid step nearest each point (within half a step)."""
    return np.clip(np.rint(to_plot(xy, grid)), 0, STEPS).astype(np.uint16)


def ranges_to_plot(ranges, grid: dict) -> list[float]:
    """Axis ranges ``(x0, x1, y0, y1)`` in data coordinates as plot units (the figure's axes)."""
    x = to_plot(np.column_stack([ranges[:2], ranges[2:]]), grid)
    return [*x[:, 0].tolist(), *x[:, 1].tolist()]


def ranges_to_data(ranges, grid: dict) -> list[float]:
    """Axis ranges ``(x0, x1, y0, y1)`` in plot units as data coordinates (the URL's)."""
    x = to_data(np.column_stack([ranges[:2], ranges[2:]]), grid)
    return [*x[:, 0].tolist(), *x[:, 1].tolist()]


def group_of_rows(groups: list[np.ndarray], n: int) -> np.ndarray:
    """uint8 (n,) (uint16 past 255 groups) group of each row, from each group's rows.

    Raises
    ------
    ValueError
        If the groups do not cover each of the ``n`` rows exactly once.
    """
    out = np.full(n, -1, dtype=np.int64)
    for k, rows in enumerate(groups):
        out[rows] = k
    if sum(len(r) for r in groups) != n or (out < 0).any():
        raise ValueError(f"groups must hold each of the {n} rows exactly once")
    return out.astype(np.uint8 if len(groups) <= 256 else np.uint16)


def trace_rows(group_of: np.ndarray, k: int) -> np.ndarray:
    """int64 rows of trace ``k`` of a figure whose ``layout.meta.groups`` is ``group_of``: ascending."""
    return np.flatnonzero(np.asarray(group_of) == k)


def view_grid(m, projection: str) -> dict:
    """The :func:`plot_grid` of model view ``m``'s 2-D layout ``projection``, computed once per view."""
    return m.cached(f"plot-grid-{projection}", lambda: plot_grid(m.coords(projection)))


def view_xy(m, projection: str) -> np.ndarray:
    """uint16 (n, 2) plot units of ``m``'s 2-D layout ``projection`` (:func:`quantise`), computed once."""
    return m.cached(f"plot-xy-{projection}", lambda: quantise(m.coords(projection), view_grid(m, projection)))

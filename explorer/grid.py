"""A 2-D layout snapped to a grid, one point a cell, neighbours kept neighbours: the "t-SNE grid" of
images a deep-learning course shows (issue 24).

:func:`snap` assigns points to the cells of a near-square grid by a linear assignment
(:func:`scipy.optimize.linear_sum_assignment`) that minimises the summed squared distance between
each point, the layout scaled onto the grid, and its cell.  An exact assignment costs about n³
(10,000 points: a 10,000² cost matrix, 800 MB and about a minute), so above :data:`BLOCK` points the
grid is cut into blocks of about that many cells, each block given the points that fall there in
the layout (a balanced split: by x into column bands, each band by y into blocks, every block as
many points as it has cells), its points spread over the block's extent, and each block assigned
exactly.  :func:`kept_neighbours` says how
much of the layout's neighbourhoods the grid keeps; ``benchmarks/imagemap.py`` times both.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
# at import, not in the first map's assignment time
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

#: points assigned in one exact assignment at most; above it, by blocks of about this many cells.
#: Measured on clustered 2-D layouts (``benchmarks/imagemap.py``): blocks of 256 keep as much of the
#: layout's neighbourhoods as blocks of 1,024 or one exact assignment (0.62-0.67 of 10) in a tenth the time.
BLOCK = 256
#: the neighbours :func:`kept_neighbours` asks about
K = 10


@dataclass(frozen=True)
class Grid:
    """Where :func:`snap` put each point: ``cell[i]`` is point ``i``'s cell, ``row * cols + col``
    (row 0 at the top: the layout's highest y); the last ``rows * cols - n`` cells (the end of the
    bottom row) are empty."""

    rows: int
    cols: int
    cell: np.ndarray

    @property
    def row_col(self) -> tuple[np.ndarray, np.ndarray]:
        """Each point's grid row and column."""
        return self.cell // self.cols, self.cell % self.cols


def grid_shape(n: int) -> tuple[int, int]:
    """Rows and columns of the near-square grid for ``n`` points: ``ceil(sqrt(n))`` columns, as few
    rows as hold them (2,500 -> 50 x 50; 1,000 -> 32 x 32 with 24 cells empty)."""
    if n < 1:
        raise ValueError(f"a grid needs at least one point (got {n})")
    cols = math.isqrt(n - 1) + 1
    return -(-n // cols), cols


def _scaled(xy: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The layout scaled onto the grid's cell coordinates: (row, col) floats, row 0 at the top."""
    lo, hi = xy.min(0), xy.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)
    unit = (xy - lo) / span
    return np.stack([(1.0 - unit[:, 1]) * rows, unit[:, 0] * cols], axis=1)


def _assign(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """For each point (row, col floats), the index into ``cells`` (row, col integers) the exact
    assignment gives it; ``len(points) <= len(cells)``."""
    centres = cells.astype(np.float64) + 0.5
    cost = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    r, c = linear_sum_assignment(cost)
    out = np.empty(len(points), np.int64)
    out[r] = c
    return out


def _split(order: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """``order`` cut into consecutive parts of ``sizes``."""
    return np.split(order, np.cumsum(sizes)[:-1]) if sizes else []


def snap(xy, block: int = BLOCK) -> Grid:
    """Assign each point of the 2-D layout ``xy`` (n, 2) a cell of the grid :func:`grid_shape` gives.

    Deterministic (ties by the points' order).  Exact up to ``block`` points; above, per block.

    Raises
    ------
    ValueError
        If ``xy`` is not finite (n, 2) with n >= 1, or ``block`` is below 4.
    """
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) < 1:
        raise ValueError(f"a layout to snap must be (n, 2) with n >= 1 (got shape {xy.shape})")
    if not np.isfinite(xy).all():
        raise ValueError("a layout to snap must be finite (it has NaN or infinite coordinates)")
    if block < 4:
        raise ValueError(f"block must be at least 4 points (got {block})")
    n = len(xy)
    rows, cols = grid_shape(n)
    pts = _scaled(xy, rows, cols)
    used = np.arange(n)  # the cells in use: the first n in row-major order (the bottom row's end empty)
    cell = np.empty(n, np.int64)
    if n <= block:
        cells = np.stack([used // cols, used % cols], axis=1)
        cell[:] = used[_assign(pts, cells)]
        return Grid(rows, cols, cell)
    side = max(2, math.isqrt(block))  # a block is side x side cells, about
    r_cuts = np.linspace(0, rows, max(1, round(rows / side)) + 1).round().astype(int)
    c_cuts = np.linspace(0, cols, max(1, round(cols / side)) + 1).round().astype(int)
    in_use = np.zeros(rows * cols, bool)
    in_use[used] = True
    in_use = in_use.reshape(rows, cols)
    # column bands by x, each as many points as its cells in use; then blocks by y within a band
    bands = [(c0, c1) for c0, c1 in zip(c_cuts[:-1], c_cuts[1:])]
    by_x = np.lexsort((np.arange(n), pts[:, 1]))
    for (c0, c1), members in zip(bands, _split(by_x, [int(in_use[:, c0:c1].sum()) for c0, c1 in bands])):
        blocks = [(r0, r1) for r0, r1 in zip(r_cuts[:-1], r_cuts[1:])]
        by_y = members[np.lexsort((members, pts[members, 0]))]
        for (r0, r1), part in zip(blocks, _split(by_y, [int(in_use[r0:r1, c0:c1].sum()) for r0, r1 in blocks])):
            if not len(part):
                continue
            rr, cc = np.nonzero(in_use[r0:r1, c0:c1])
            cells = np.stack([rr + r0, cc + c0], axis=1)
            # the block's points spread over its cells (a cluster's points otherwise crowd a few cells,
            # which makes the exact assignment slow): scaled to the block's extent in each axis
            sub = pts[part]
            lo, hi = sub.min(0), sub.max(0)
            span = np.where(hi > lo, hi - lo, 1.0)
            sub = (sub - lo) / span * [r1 - r0, c1 - c0] + [r0, c0]
            pick = cells[_assign(sub, cells)]
            cell[part] = pick[:, 0] * cols + pick[:, 1]
    return Grid(rows, cols, cell)


def kept_neighbours(xy, grid: Grid, k: int = K) -> float:
    """How much of the layout's neighbourhoods the grid keeps: over every point, the share of its
    ``k`` nearest in the layout that sit among its nearest in the grid (the cells no farther than its
    ``k``-th nearest occupied cell, ties included: 12 cells inside the grid for ``k`` = 10).

    1.0 where the grid keeps every neighbourhood; a random placement keeps about ``12 / n``.
    """
    xy = np.asarray(xy, dtype=np.float64)
    n = len(xy)
    if n <= k:
        return 1.0
    near = cKDTree(xy).query(xy, k=k + 1)[1]
    near = np.where(near[:, :1] == np.arange(n)[:, None], near[:, 1:], near[:, :k])  # self dropped
    r, c = grid.row_col
    at = np.stack([r, c], axis=1).astype(np.float64)
    reach = cKDTree(at).query(at, k=k + 1)[0][:, k]  # the k-th nearest occupied cell's distance
    d = np.sqrt(((at[near] - at[:, None, :]) ** 2).sum(-1))
    return float((d <= reach[:, None] + 1e-9).mean())

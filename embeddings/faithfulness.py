"""Where a layout keeps its model's neighbourhoods: per point, which high-D neighbours the picture kept and which it invented.

``faithfulness[i]``: the share of row i's ``k`` nearest high-D neighbours (the shared
graph's first ``k`` columns) that are among its ``window`` nearest in the layout (10 among 30 by
default). A tolerant window (issue 25): with ``window = k`` a point inside an intact cluster whose ten
nearest are all of its class, only not the same ten, scored low (0.26 on average for UMAP, 0.46 for
t-SNE) and the page called its layout misleading; among the layout's 30 nearest a shuffle inside a
neighbourhood is kept and a tear (a point put among strangers) still scores near 0.
``benchmarks/faith_planted.py`` moves known points to wrong places in real layouts and compares how
well each window finds them.
``false_neighbours[i]``: the share of its ``k`` nearest layout neighbours that are not
among its ``k_far`` nearest high-D ones. Both are per-point versions of the
neighbourhood-preservation measures of Venna & Kaski (2006) and Lee & Verleysen (2009).
"""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np

from core.errors import ConfigError
from core.options import option, validate
from core.store import ArtifactStore, save_npy_atomic
from embeddings.knn import KnnGraph, build_knn, check_data

log = logging.getLogger(__name__)

STAGE = "faith"
#: Layouts of at most this many dimensions get their neighbours from a KD tree (exact): at 70,000 x 2
#: 0.3 s here against 35 s for build_knn's Annoy and ~77 s brute force, at 20,000 0.1 s against 4 s
#: brute force; the stage must cost under 20 % of the layout (t-SNE: 74 s at 70k).
KD_TREE_MAX_DIMS = 3


@dataclasses.dataclass(frozen=True)
class FaithConfig:
    """Neighbourhood sizes of the per-point faithfulness."""

    k: int = option(10, "neighbours compared in high-D and in the layout", lo=1, flag="--faith-k")
    k_far: int = option(30, "high-D neighbours a layout neighbour may be among and not count as false", lo=1,
                        flag="--faith-k-far")
    window: int = option(30, "layout neighbours a high-D neighbour may be among and still count as kept", lo=1,
                         flag="--faith-window")

    def __post_init__(self) -> None:
        validate(self, "faithfulness")
        if self.k_far < self.k:
            raise ConfigError(f"k_far must be >= k (got k_far={self.k_far}, k={self.k})")
        if self.window < self.k:
            raise ConfigError(f"window must be >= k: the layout neighbours searched must hold the k compared "
                              f"(got --faith-window {self.window}, --faith-k {self.k}); raise --faith-window or "
                              "lower --faith-k")


def layout_knn(Y: np.ndarray, k: int) -> KnnGraph:
    """Exact k-NN graph of a 2-D or 3-D layout, self excluded, from a KD tree (at 20,000 points 0.1 s
    where brute force took 4 s); brute force for wider data."""
    Y = check_data(Y, "layout coords")
    n = len(Y)
    if not 1 <= k < n:
        raise ConfigError(f"k must be in [1, n_samples) (got k={k} for {n} layout points)")
    if Y.shape[1] > KD_TREE_MAX_DIMS:
        return build_knn(Y, k, method="exact")
    from scipy.spatial import cKDTree

    t0 = time.perf_counter()
    dist, idx = cKDTree(Y).query(Y, k + 1, workers=1)
    # Duplicate points may put another row first: drop self wherever it is, else the farthest hit.
    is_self = idx == np.arange(n)[:, None]
    is_self[~is_self.any(1), -1] = True
    keep = ~is_self
    idx, dist = idx[keep].reshape(n, k), dist[keep].reshape(n, k)
    return KnnGraph(idx.astype(np.int32), dist.astype(np.float32), "kdtree", time.perf_counter() - t0)


def _share_in(a: np.ndarray, b: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Per row, the share of ``a[i]``'s entries that occur in ``b[i]``."""
    out = np.empty(len(a))
    for s in range(0, len(a), chunk):
        out[s:s + chunk] = (a[s:s + chunk, :, None] == b[s:s + chunk, None, :]).any(-1).mean(1)
    return out


def faithfulness(high_indices: np.ndarray, coords: np.ndarray, k: int = 10, k_far: int = 30,
                 low: KnnGraph | None = None, window: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(faithfulness, false_neighbours), float32 (n,) each: see the module docstring.

    Parameters
    ----------
    high_indices : int (n, >= k_far)
        The shared high-D graph: neighbours in the embedding, self excluded, nearest first.
    coords : float (n, 2 or 3)
        The layout; row i is row i of the graph.
    low : KnnGraph, optional
        The layout's own k-NN graph when already built (at least ``window`` columns).
    window : int, optional
        The layout neighbours a high-D neighbour may be among (default ``k``: the strict 10 among 10).

    Raises
    ------
    ConfigError
        Shapes that do not match, NaN coordinates, or ``k``/``k_far`` beyond the graph or n.
    """
    high = np.asarray(high_indices)
    if high.ndim != 2:
        raise ConfigError(f"the high-D graph must be (n, k), got shape {high.shape}")
    coords = check_data(coords, "layout coords")
    n = len(coords)
    if len(high) != n:
        raise ConfigError(f"the layout has {n} rows but the high-D graph {len(high)}; they must be the same samples")
    if not 1 <= k < n:
        raise ConfigError(f"k must be in [1, n_samples) (got k={k} for {n} points)")
    if not k <= k_far <= high.shape[1]:
        raise ConfigError(f"need k <= k_far <= the high-D graph's {high.shape[1]} columns "
                          f"(got k={k}, k_far={k_far})")
    if high.size and (high.min() < 0 or high.max() >= n):
        raise ConfigError(f"the high-D graph's indices must be rows in [0, {n}), got [{high.min()}, {high.max()}]")
    window = k if window is None else window
    if not k <= window < n:
        raise ConfigError(f"window must be in [k, n_samples) (got window={window}, k={k}, {n} points)")
    low = low if low is not None else layout_knn(coords, window)
    faith = _share_in(high[:, :k], low.head(window).indices)
    low_idx = low.head(k).indices
    false = 1.0 - _share_in(low_idx, high[:, :k_far])
    return faith.astype(np.float32), false.astype(np.float32)


def build_faith(dataset: str, model: str, method: str, proj_dir: Path, embed_dir: Path, store: ArtifactStore,
                config: FaithConfig = FaithConfig()) -> Path:
    """Compute (or reuse) one layout's ``faith/<key>/`` folder (docs/ARTIFACTS.md).

    ``k`` and ``k_far`` are clipped to what a small sample set allows (n - 1, the graph's columns).
    """
    proj_dir, embed_dir = Path(proj_dir), Path(embed_dir)
    record = {**dataclasses.asdict(config), "method": method, "model": model}

    def make(out: Path) -> dict:
        t0 = time.perf_counter()
        high = store.load_array(embed_dir / "knn-indices.npy")
        coords = store.load_array(proj_dir / "coords.npy")
        k = min(config.k, len(coords) - 1, high.shape[1])
        k_far = max(k, min(config.k_far, high.shape[1]))
        window = max(k, min(config.window, len(coords) - 1))
        if (k, k_far, window) != (config.k, config.k_far, config.window):
            log.warning("%s: faithfulness of %s %s with k=%d, k_far=%d, window=%d (only %d points, %d graph columns)",
                        dataset, model, method, k, k_far, window, len(coords), high.shape[1])
        low = layout_knn(coords, window)
        faith, false = faithfulness(high, coords, k, k_far, low=low, window=window)
        save_npy_atomic(out / "faithfulness.npy", faith)
        save_npy_atomic(out / "false_neighbours.npy", false)
        seconds = time.perf_counter() - t0
        log.info("%s: faithfulness of %s %s: mean %.3f in %.2f s", dataset, model, method, faith.mean(), seconds)
        return {"k_used": k, "k_far_used": k_far, "window_used": window, "layout_knn": low.method, "seconds": seconds,
                "mean": float(faith.mean()), "false_mean": float(false.mean())}

    return store.build(dataset, STAGE, record, make, upstream=(proj_dir.name, embed_dir.name))

"""The k-nearest-neighbour graph of an embedding set, built once and shared.

The same graph feeds UMAP (``precomputed_knn``), t-SNE affinities (openTSNE
``joint_probabilities_nn``), the separability metrics and the explorer's
neighbour strip.
"""
from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np

from core.errors import ConfigError

log = logging.getLogger(__name__)

#: Above this many distance terms (n**2 * d) the exact search gives way to Annoy (approximate):
#: 10,000 x 784 pixels stays exact (~3 s); 70,000 x 128 took 129 s exact here.
EXACT_BUDGET = 1e11


@dataclasses.dataclass
class KnnGraph:
    """Neighbours of every row, self excluded, nearest first.

    Attributes
    ----------
    indices : int32 (n, k)
    distances : float32 (n, k), euclidean
    method : {"exact", "annoy", "nndescent"}
    seconds : float
    """

    indices: np.ndarray
    distances: np.ndarray
    method: str = "exact"
    seconds: float = 0.0

    @property
    def k(self) -> int:
        return self.indices.shape[1]

    def head(self, k: int) -> "KnnGraph":
        """The graph truncated to its ``k`` nearest neighbours."""
        if k > self.k:
            raise ConfigError(f"asked for {k} neighbours but the shared graph has only {self.k}; "
                              f"rebuild it with a larger k")
        return KnnGraph(self.indices[:, :k], self.distances[:, :k], self.method, self.seconds)

    def with_self(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """UMAP's convention: ``k`` columns, the point itself first at distance 0."""
        n = len(self.indices)
        idx = np.concatenate([np.arange(n, dtype=np.int32)[:, None], self.indices[:, : k - 1]], axis=1)
        dist = np.concatenate([np.zeros((n, 1), np.float32), self.distances[:, : k - 1]], axis=1)
        return idx, dist


def check_data(X: np.ndarray, name: str = "X") -> np.ndarray:
    """Finite float32 2-D array, or a :class:`ConfigError` naming what is wrong."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ConfigError(f"{name} must be 2-D (samples x features), got shape {X.shape}")
    if len(X) < 2:
        raise ConfigError(f"{name} needs at least 2 samples, got {len(X)}")
    X = X.astype(np.float32, copy=False)
    bad = ~np.isfinite(X)
    if bad.any():
        rows = np.flatnonzero(bad.any(1))
        raise ConfigError(f"{name} has {bad.sum()} NaN or infinite values (first in rows "
                          f"{rows[:5].tolist()}); delete the embedding folder and rerun `embed`")
    return X


def build_knn(X: np.ndarray, k: int, method: str = "auto", seed: int = 0, n_jobs: int = -1) -> KnnGraph:
    """Euclidean k-NN graph of the rows of ``X``, self excluded.

    Parameters
    ----------
    X : array (n, d)
    k : int
        Neighbours per point; must be < n.
    method : {"auto", "exact", "annoy", "nndescent"}
        "auto" is exact brute force while ``n**2 * d`` is below :data:`EXACT_BUDGET`
        and Annoy (approximate, as openTSNE uses) beyond: at 70,000 x 128 and k=90 it
        took 19 s here against 39 s for pynndescent.
    """
    X = check_data(X)
    n = len(X)
    if not 1 <= k < n:
        raise ConfigError(f"k must be in [1, n_samples) (got k={k} for {n} samples)")
    if method == "auto":
        method = "exact" if float(n) ** 2 * X.shape[1] <= EXACT_BUDGET else "annoy"
        log.debug("k-NN graph of %d x %d: using %s search", n, X.shape[1], method)
    t0 = time.perf_counter()
    if method == "exact":
        idx, dist = _exact(X, k)
    elif method == "annoy":
        from openTSNE.nearest_neighbors import Annoy

        # openTSNE drops each row's first hit as "itself"; with duplicate rows it may not be,
        # so ask for one more and remove self explicitly.
        idx, dist = Annoy(X, k + 1, metric="euclidean", n_jobs=n_jobs, random_state=seed).build()
        idx, dist = _drop_self(np.asarray(idx), np.asarray(dist), k)
    elif method == "nndescent":
        from pynndescent import NNDescent

        index = NNDescent(X, n_neighbors=k + 1, random_state=seed, n_jobs=n_jobs, low_memory=True)
        idx, dist = index.neighbor_graph
        idx, dist = _drop_self(idx, dist, k)
    else:
        raise ConfigError(f"unknown k-NN method {method!r}; use auto, exact, annoy or nndescent")
    return KnnGraph(idx.astype(np.int32), dist.astype(np.float32), method, time.perf_counter() - t0)


def _exact(X: np.ndarray, k: int, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    n = len(X)
    sq = np.einsum("ij,ij->i", X, X, dtype=np.float64).astype(np.float32)
    idx = np.empty((n, k), np.int64)
    dist = np.empty((n, k), np.float32)
    for s in range(0, n, chunk):
        e = min(s + chunk, n)
        d2 = sq[s:e, None] - 2 * (X[s:e] @ X.T) + sq[None, :]
        d2[np.arange(e - s), np.arange(s, e)] = np.inf  # never your own neighbour
        part = np.argpartition(d2, k, axis=1)[:, :k]
        pd = np.take_along_axis(d2, part, 1)
        order = np.argsort(pd, axis=1, kind="stable")
        idx[s:e] = np.take_along_axis(part, order, 1)
        dist[s:e] = np.sqrt(np.maximum(np.take_along_axis(pd, order, 1), 0))
    return idx, dist


def _drop_self(idx: np.ndarray, dist: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Remove each row's own index (wherever duplicates put it) and keep k columns."""
    n = len(idx)
    is_self = idx == np.arange(n)[:, None]
    # Rows where self was not found lose their farthest neighbour instead.
    missing = ~is_self.any(1)
    is_self[missing, -1] = True
    keep = ~is_self
    return idx[keep].reshape(n, -1)[:, :k], dist[keep].reshape(n, -1)[:, :k]

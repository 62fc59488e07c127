"""UMAP (McInnes et al. 2018; umap-learn) on the shared k-NN graph: local neighbourhoods and
some global structure; a cluster's size on screen says nothing of its spread."""
from __future__ import annotations

import io
import logging
import re
import time
import warnings

import numpy as np

from embeddings.knn import KnnGraph, build_knn

from .base import Bound, ProgressFn, Projection, require_graph
from .registry import Method, Param

log = logging.getLogger(__name__)

DEFAULT_UMAP_NEIGHBORS = 15    # McInnes et al. 2018 (umap-learn's defaults)
DEFAULT_UMAP_MIN_DIST = 0.1


class UMAP(Projection):
    """UMAP (McInnes et al. 2018; umap-learn) on the shared k-NN graph.

    Parameters
    ----------
    n_neighbors : int, default :data:`DEFAULT_UMAP_NEIGHBORS`
    min_dist : float, default 0.1
    n_epochs : int or None, default None (umap-learn's choice: 200 above 10,000 points, else 500)
    """

    method = "umap"
    title = "UMAP"
    _parameter_constraints = {**Projection._parameter_constraints,
                              "n_neighbors": Bound(lo=2, below_n=True), "min_dist": Bound(lo=0, hi=1),
                              "n_epochs": Bound(lo=1, none_ok=True)}

    def __init__(self, *, n_components: int = 2, n_neighbors: int = DEFAULT_UMAP_NEIGHBORS,
                 min_dist: float = DEFAULT_UMAP_MIN_DIST,
                 n_epochs: int | None = None, random_state: int = 0):
        super().__init__(n_components=n_components, random_state=random_state)
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.n_epochs = n_epochs

    def neighbours_needed(self, n: int | None = None) -> int:
        k = self.n_neighbors - 1  # umap-learn counts the point itself among its neighbours
        return k if n is None else min(k, n - 1)

    def epochs(self, n: int) -> int:
        """umap-learn's rule when ``n_epochs`` is None (``simplicial_set_embedding``), resolved here to be logged."""
        return self.n_epochs if self.n_epochs is not None else (500 if n <= 10_000 else 200)

    def _umap_kwargs(self) -> dict:
        """umap-learn's ``UMAP`` arguments beyond the graph and the progress bar."""
        return {"n_components": self.n_components, "n_neighbors": self.n_neighbors, "min_dist": self.min_dist,
                "n_epochs": self.n_epochs, "random_state": self.random_state}

    def fit(self, X: np.ndarray, knn: KnnGraph | None = None, progress: ProgressFn | None = None) -> "UMAP":
        X = self._validate(X)
        n = len(X)
        import umap  # slow import (numba); only when UMAP is asked for

        cache_umap_compilation()
        if knn is None:
            knn = build_knn(X, self.n_neighbors - 1, seed=self.random_state)
        require_graph(knn, self.n_neighbors - 1, self.title, f"n_neighbors {self.n_neighbors}")
        idx, dist = knn.with_self(self.n_neighbors)
        epochs = self.epochs(n)
        log.debug("%s of %d points: %d epochs, %d neighbours (self included) from the shared graph",
                  self.title, n, epochs, self.n_neighbors)
        t0 = time.perf_counter()
        bar = ({"disable": False, "file": _EpochProgress(progress), "bar_format": "{n}/{total}",
                "mininterval": 0.5, "leave": False} if progress else None)
        reducer = umap.UMAP(**self._umap_kwargs(), precomputed_knn=(idx, dist), force_approximation_algorithm=True,
                            n_jobs=1, verbose=False, tqdm_kwds=bar)
        with warnings.catch_warnings():
            # We never transform new points, so UMAP's search index is not needed.
            warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]", category=UserWarning)
            self.embedding_ = reducer.fit_transform(X).astype(np.float32)
        self.seconds_ = time.perf_counter() - t0
        if progress:
            progress(epochs, epochs)
        return self


class _EpochProgress(io.StringIO):
    """The file of umap-learn's epoch bar (tqdm, ``bar_format="{n}/{total}"``): each update it
    writes becomes a ``progress(epoch, epochs)`` call, so a 70,000-point layout is never silent."""

    def __init__(self, progress: ProgressFn):
        super().__init__()
        self.progress = progress

    def write(self, text: str) -> int:
        found = re.search(r"(\d+)/(\d+)", text)
        if found:
            self.progress(int(found[1]), int(found[2]))
        return len(text)


#: umap-learn's jitted functions that a fit compiles in every new process (umap caches only ``rdist``):
#: about 10 s of each run's first UMAP here (15-20 s against 5-6 s at 3,000 points). numba's on-disk cache
#: (in umap's ``__pycache__``, or ``NUMBA_CACHE_DIR``) pays it once per install; results are bit-identical.
_UMAP_JITTED = (("umap.umap_", "smooth_knn_dist"), ("umap.umap_", "compute_membership_strengths"),
                ("umap.layouts", "_nb_optimize_layout_euclidean_single_epoch"))
_cached: list[str] = []


def cache_umap_compilation() -> list[str]:
    """Turn on numba's on-disk cache for :data:`_UMAP_JITTED` (once per process); returns those it covers.

    A function umap-learn no longer has, or a cache folder numba cannot write, is skipped: the
    fit then compiles as before.
    """
    import importlib

    if _cached:
        return _cached
    for module, name in _UMAP_JITTED:
        fn = getattr(importlib.import_module(module), name, None)
        try:
            fn.enable_caching()
        except (AttributeError, RuntimeError) as e:  # not a numba dispatcher, or no writable cache folder
            log.debug("numba cache for %s.%s unavailable: %s", module, name, e)
            continue
        _cached.append(f"{module}.{name}")
    return _cached


METHOD = Method(
    name="umap", title="UMAP", about="local neighbourhoods, some global structure",
    estimator=UMAP, order=10, seconds=20,
    params=(Param("umap_neighbors", "n_neighbors", "UMAP n_neighbors"),
            Param("umap_min_dist", "min_dist", "UMAP min_dist")))

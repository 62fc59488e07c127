"""PCA, t-SNE and UMAP to 2-D or 3-D, as small estimator-shaped classes.

All three look alike to the rest of the code: keyword-only constructor arguments
stored unchanged, validation at ``fit`` time against the data, ``embedding_`` after
``fit``, ``fit`` returns ``self`` and ``fit_transform`` the coordinates.  t-SNE and
UMAP accept the shared :class:`~embeddings.knn.KnnGraph` so the neighbour search is
done once per embedding set.
"""
from __future__ import annotations

import io
import logging
import re
import time
import warnings
from typing import Callable

import numpy as np

from embeddings.knn import KnnGraph, build_knn, check_data
from core.errors import ConfigError

log = logging.getLogger(__name__)

#: Called with (step, total_steps) while an optimiser runs; for progress bars.
ProgressFn = Callable[[int, int], None]

#: Defaults of the estimators below, which the pipeline's config also starts from.
DEFAULT_PERPLEXITY = 30.0      # van der Maaten & Hinton 2008
DEFAULT_TSNE_ITER = 500        # after 250 of early exaggeration (openTSNE's defaults)
DEFAULT_UMAP_NEIGHBORS = 15    # McInnes et al. 2018 (umap-learn's defaults)
DEFAULT_UMAP_MIN_DIST = 0.1


def tsne_neighbours(perplexity: float) -> int:
    """Neighbours t-SNE's affinities need: 3 x perplexity (van der Maaten 2014; openTSNE's rule)."""
    return int(3 * perplexity)


def _require(knn: KnnGraph, k: int, method: str, what: str) -> None:
    """Refuse a shared graph that is too short: truncating it would change the affinities silently."""
    if knn.k < k:
        raise ConfigError(f"{method} with {what} needs {k} neighbours per point but the k-NN graph has "
                          f"{knn.k}; rebuild the graph with k >= {k} (the pipeline derives it from "
                          f"--perplexity and --umap-neighbors)")


class _Projection:
    method = ""

    def __init__(self, *, n_components: int = 2, random_state: int = 0):
        self.n_components = n_components
        self.random_state = random_state

    def get_params(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}

    def _validate(self, X: np.ndarray) -> np.ndarray:
        X = check_data(X)
        if self.n_components not in (2, 3):
            raise ConfigError(f"n_components must be 2 or 3 (got {self.n_components})")
        if len(X) <= self.n_components:
            raise ConfigError(f"{self.method} needs more than {self.n_components} samples (got {len(X)})")
        return X

    def fit_transform(self, X: np.ndarray, knn: KnnGraph | None = None,
                      progress: ProgressFn | None = None) -> np.ndarray:
        return self.fit(X, knn=knn, progress=progress).embedding_

    def fit(self, X, knn=None, progress=None):  # pragma: no cover - overridden
        raise NotImplementedError


class PCA(_Projection):
    """Principal components (scikit-learn: full SVD in 2-D for reproducibility; see :meth:`fit` for 3-D)."""

    method = "pca"

    def fit(self, X: np.ndarray, knn: KnnGraph | None = None, progress: ProgressFn | None = None) -> "PCA":
        from sklearn.decomposition import PCA as SkPCA

        X = self._validate(X)
        t0 = time.perf_counter()
        # 2-D: the full SVD, as every cached 2-D PCA was made. 3-D (the explorer's 3-D view, made on every
        # run): the covariance's eigenvectors where samples far outnumber features, 5x faster on 10,000
        # raw-pixel images (2 s against 12 s here) and the same components to float32 round-off
        solver = "full" if self.n_components == 2 or len(X) < 10 * X.shape[1] else "covariance_eigh"
        pca = SkPCA(n_components=self.n_components, svd_solver=solver, random_state=self.random_state)
        emb = pca.fit_transform(X)
        # Fix each component's sign so reruns and other BLAS builds agree.
        signs = np.sign(emb[np.abs(emb).argmax(0), range(self.n_components)])
        self.embedding_ = (emb * np.where(signs == 0, 1, signs)).astype(np.float32)
        self.explained_variance_ratio_ = pca.explained_variance_ratio_
        self.seconds_ = time.perf_counter() - t0
        if progress:
            progress(1, 1)
        return self


def gradient_method(n: int, n_components: int = 2) -> str:
    """openTSNE's rule, resolved here so it can be logged: FFT from 10,000 points, else Barnes-Hut.

    The FFT interpolation has a fixed per-iteration cost that dominates on small data
    (about 30 ms per iteration even at 100 points); it only works in 2-D.
    """
    method = "fft" if n >= 10_000 and n_components == 2 else "bh"
    log.debug("t-SNE of %d points in %d-D: %s gradients", n, n_components, method.upper())
    return method


class TSNE(_Projection):
    """FFT-accelerated t-SNE (openTSNE; Linderman et al. 2019) on the shared k-NN graph.

    Parameters
    ----------
    perplexity : float, default :data:`DEFAULT_PERPLEXITY`
        Needs ``3 * perplexity`` neighbours; must be below the number of samples.
    n_iter : int, default 500
        Iterations after 250 of early exaggeration (openTSNE's defaults).
    n_jobs : int, default -1 (all cores)
    """

    method = "tsne"

    def __init__(self, *, n_components: int = 2, perplexity: float = DEFAULT_PERPLEXITY,
                 n_iter: int = DEFAULT_TSNE_ITER,
                 early_exaggeration_iter: int = 250, random_state: int = 0, n_jobs: int = -1):
        super().__init__(n_components=n_components, random_state=random_state)
        self.perplexity = perplexity
        self.n_iter = n_iter
        self.early_exaggeration_iter = early_exaggeration_iter
        self.n_jobs = n_jobs

    def neighbours_needed(self, n: int) -> int:
        return min(tsne_neighbours(self.perplexity), n - 1)

    def fit(self, X: np.ndarray, knn: KnnGraph | None = None, progress: ProgressFn | None = None) -> "TSNE":
        import openTSNE
        from openTSNE import affinity, initialization

        X = self._validate(X)
        n = len(X)
        if not 0 < self.perplexity < n:
            raise ConfigError(f"perplexity must be > 0 and < n_samples (got {self.perplexity} for {n} samples)")
        if self.n_iter < 1 or self.early_exaggeration_iter < 0:
            raise ConfigError(f"n_iter must be >= 1 and early_exaggeration_iter >= 0 "
                              f"(got {self.n_iter}, {self.early_exaggeration_iter})")
        k = self.neighbours_needed(n)
        if knn is None:
            knn = build_knn(X, k, seed=self.random_state)
        _require(knn, k, "t-SNE", f"perplexity {self.perplexity:g}")
        knn = knn.head(k)
        t0 = time.perf_counter()
        n_jobs = self.n_jobs
        P = affinity.joint_probabilities_nn(knn.indices, knn.distances, [self.perplexity],
                                            symmetrize=True, n_jobs=n_jobs)
        aff = affinity.PrecomputedAffinities(P)
        init = initialization.pca(X, n_components=self.n_components, random_state=self.random_state)
        total = self.early_exaggeration_iter + self.n_iter
        callbacks = []
        if progress:
            done = [0]

            def cb(iteration, error, embedding):
                done[0] += 10
                progress(min(done[0], total), total)

            callbacks = [cb]
        tsne = openTSNE.TSNE(n_components=self.n_components, n_iter=self.n_iter,
                             early_exaggeration_iter=self.early_exaggeration_iter,
                             n_jobs=n_jobs, random_state=self.random_state,
                             negative_gradient_method=gradient_method(n, self.n_components),
                             callbacks=callbacks or None, callbacks_every_iters=10)
        emb = tsne.fit(affinities=aff, initialization=init)
        self.embedding_ = np.asarray(emb, dtype=np.float32)
        self.kl_divergence_ = float(getattr(emb, "kl_divergence", np.nan))
        self.seconds_ = time.perf_counter() - t0
        return self


class UMAP(_Projection):
    """UMAP (McInnes et al. 2018; umap-learn) on the shared k-NN graph.

    Parameters
    ----------
    n_neighbors : int, default :data:`DEFAULT_UMAP_NEIGHBORS`
    min_dist : float, default 0.1
    n_epochs : int or None, default None (umap-learn's choice: 200 above 10,000 points, else 500)
    """

    method = "umap"

    def __init__(self, *, n_components: int = 2, n_neighbors: int = DEFAULT_UMAP_NEIGHBORS,
                 min_dist: float = DEFAULT_UMAP_MIN_DIST,
                 n_epochs: int | None = None, random_state: int = 0):
        super().__init__(n_components=n_components, random_state=random_state)
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.n_epochs = n_epochs

    def neighbours_needed(self, n: int) -> int:
        return min(self.n_neighbors, n - 1)

    def fit(self, X: np.ndarray, knn: KnnGraph | None = None, progress: ProgressFn | None = None) -> "UMAP":
        X = self._validate(X)
        n = len(X)
        if not 2 <= self.n_neighbors < n:
            raise ConfigError(f"n_neighbors must be >= 2 and < n_samples (got {self.n_neighbors} for {n} samples)")
        if not 0 <= self.min_dist <= 1:
            raise ConfigError(f"min_dist must be in [0, 1] (got {self.min_dist})")
        import umap  # slow import (numba); only when UMAP is asked for

        cache_umap_compilation()
        if knn is None:
            knn = build_knn(X, self.n_neighbors - 1, seed=self.random_state)
        _require(knn, self.n_neighbors - 1, "UMAP", f"n_neighbors {self.n_neighbors}")
        idx, dist = knn.with_self(self.n_neighbors)
        # umap-learn's own rule when n_epochs is None (simplicial_set_embedding), resolved here to be logged.
        epochs = self.n_epochs if self.n_epochs is not None else (500 if n <= 10_000 else 200)
        log.debug("UMAP of %d points: %d epochs, %d neighbours (self included) from the shared graph",
                  n, epochs, self.n_neighbors)
        t0 = time.perf_counter()
        bar = ({"disable": False, "file": _EpochProgress(progress), "bar_format": "{n}/{total}",
                "mininterval": 0.5, "leave": False} if progress else None)
        reducer = umap.UMAP(n_components=self.n_components, n_neighbors=self.n_neighbors,
                            min_dist=self.min_dist, n_epochs=self.n_epochs, random_state=self.random_state,
                            precomputed_knn=(idx, dist), force_approximation_algorithm=True,
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


METHODS = {"pca": PCA, "tsne": TSNE, "umap": UMAP}


def make_projection(method: str, **params) -> _Projection:
    """Build a projection by name, with the valid names in the error."""
    try:
        cls = METHODS[method]
    except KeyError:
        raise ConfigError(f"unknown projection {method!r}; choose one of {', '.join(METHODS)}") from None
    try:
        return cls(**params)
    except TypeError as e:
        raise ConfigError(f"bad parameter for {method}: {e}") from None

"""t-SNE (openTSNE; Linderman et al. 2019) on the shared k-NN graph: local neighbourhoods,
clusters pulled apart; distances between clusters mean little."""
from __future__ import annotations

import logging
import time

import numpy as np

from embeddings.knn import KnnGraph, build_knn

from .base import Bound, ProgressFn, Projection, require_graph
from .registry import Method, Param

log = logging.getLogger(__name__)

DEFAULT_PERPLEXITY = 30.0      # van der Maaten & Hinton 2008
#: after 250 of early exaggeration (openTSNE's default is 500): measured on the CNN's embeddings of
#: 10,000 images, 250 gave the same 2-D 10-NN accuracy and trustworthiness (within 0.0001) in 0.4x
#: the time, and on 70,000 (Fashion-MNIST pixels, PCA-50) within 0.003 in 0.57x (benchmarks/RESULTS.md)
DEFAULT_TSNE_ITER = 250


def tsne_neighbours(perplexity: float) -> int:
    """Neighbours t-SNE's affinities need: 3 x perplexity (van der Maaten 2014; openTSNE's rule)."""
    return int(3 * perplexity)


def gradient_method(n: int, n_components: int = 2) -> str:
    """openTSNE's rule, resolved here so it can be logged: FFT from 10,000 points, else Barnes-Hut.

    The FFT interpolation has a fixed per-iteration cost that dominates on small data
    (about 30 ms per iteration even at 100 points); it only works in 2-D.
    """
    method = "fft" if n >= 10_000 and n_components == 2 else "bh"
    log.debug("t-SNE of %d points in %d-D: %s gradients", n, n_components, method.upper())
    return method


class TSNE(Projection):
    """FFT-accelerated t-SNE (openTSNE; Linderman et al. 2019) on the shared k-NN graph.

    Parameters
    ----------
    perplexity : float, default :data:`DEFAULT_PERPLEXITY`
        Needs ``3 * perplexity`` neighbours; must be below the number of samples.
    n_iter : int, default :data:`DEFAULT_TSNE_ITER` (250)
        Iterations after 250 of early exaggeration.
    n_jobs : int, default -1 (all cores)
    """

    method = "tsne"
    _parameter_constraints = {**Projection._parameter_constraints,
                              "perplexity": Bound(lo=0, lo_open=True, below_n=True),
                              "n_iter": Bound(lo=1), "early_exaggeration_iter": Bound(lo=0)}

    def __init__(self, *, n_components: int = 2, perplexity: float = DEFAULT_PERPLEXITY,
                 n_iter: int = DEFAULT_TSNE_ITER,
                 early_exaggeration_iter: int = 250, random_state: int = 0, n_jobs: int = -1):
        super().__init__(n_components=n_components, random_state=random_state)
        self.perplexity = perplexity
        self.n_iter = n_iter
        self.early_exaggeration_iter = early_exaggeration_iter
        self.n_jobs = n_jobs

    def neighbours_needed(self, n: int | None = None) -> int:
        k = tsne_neighbours(self.perplexity)
        return k if n is None else min(k, n - 1)

    def fit(self, X: np.ndarray, knn: KnnGraph | None = None, progress: ProgressFn | None = None) -> "TSNE":
        import openTSNE
        from openTSNE import affinity, initialization

        X = self._validate(X)
        n = len(X)
        k = self.neighbours_needed(n)
        if knn is None:
            knn = build_knn(X, k, seed=self.random_state)
        require_graph(knn, k, "t-SNE", f"perplexity {self.perplexity:g}")
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


METHOD = Method(
    name="tsne", title="t-SNE", about="local neighbourhoods; distances between clusters mean little",
    estimator=TSNE, order=20, seconds=35,
    params=(Param("perplexity", "perplexity", "t-SNE perplexity (needs 3 x perplexity neighbours)"),
            Param("tsne_iter", "n_iter", "t-SNE iterations after early exaggeration")))

"""PCA: the two (or three) directions of largest variance; linear, so it keeps global structure."""
from __future__ import annotations

import time

import numpy as np

from embeddings.knn import KnnGraph

from .base import ProgressFn, Projection
from .registry import Method


class PCA(Projection):
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


METHOD = Method(name="pca", title="PCA", about="the two directions of largest variance: linear, global",
                estimator=PCA, order=30,
                always_3d=True, seconds=1)  # milliseconds: the explorer's 3-D view always has one

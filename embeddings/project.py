"""The projection stage: one cached 2-D (or 3-D) layout per dataset, model and method."""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np

from core.options import option, validate
from core.store import ArtifactStore, save_npy_atomic
from core.vocab import METHODS
from embeddings.extract import load_knn, space_matrix
from embeddings.projections import (DEFAULT_PERPLEXITY, DEFAULT_TSNE_ITER, DEFAULT_UMAP_MIN_DIST,
                                    DEFAULT_UMAP_NEIGHBORS, make_projection, tsne_neighbours)

log = logging.getLogger(__name__)

STAGE = "proj"


@dataclasses.dataclass(frozen=True)
class ProjectConfig:
    """Which layouts to compute and every method's parameters; only the chosen method's
    parameters enter a layout's cache key (:meth:`params`)."""

    methods: tuple[str, ...] = option(METHODS, "projections to compute", choices=METHODS, many=True)
    dims: int = option(2, "3: every method also in 3-D, for the explorer's 3-D view (PCA always is)",
                       choices=(2, 3))
    perplexity: float = option(DEFAULT_PERPLEXITY, "t-SNE perplexity (needs 3 x perplexity neighbours)",
                               lo=0, lo_open=True)
    tsne_iter: int = option(DEFAULT_TSNE_ITER, "t-SNE iterations after early exaggeration", lo=1)
    umap_neighbors: int = option(DEFAULT_UMAP_NEIGHBORS, "UMAP n_neighbors", lo=2)
    umap_min_dist: float = option(DEFAULT_UMAP_MIN_DIST, "UMAP min_dist", lo=0, hi=1)
    seed: int = option(0, "seed of every layout", derived=True)

    def __post_init__(self) -> None:
        validate(self, "projection")

    def params(self, method: str, dims: int = 2) -> dict:
        """Constructor arguments of ``method``'s estimator (:mod:`embeddings.projections`) in ``dims`` dimensions."""
        common = {"n_components": dims, "random_state": self.seed}
        if method == "tsne":
            return {**common, "perplexity": self.perplexity, "n_iter": self.tsne_iter}
        if method == "umap":
            return {**common, "n_neighbors": self.umap_neighbors, "min_dist": self.umap_min_dist}
        return common

    def dims_of(self, method: str) -> tuple[int, ...]:
        """The layouts ``method`` gets: 2-D for every view; 3-D too, for the explorer's 3-D view, with
        ``--dims 3`` or where it costs nothing (PCA: milliseconds, so the 3-D view always has one)."""
        return (2, 3) if self.dims == 3 or method == "pca" else (2,)

    def neighbours_needed(self) -> int:
        """Neighbours the shared graph must hold for the chosen methods (before clipping to n - 1)."""
        needs = [tsne_neighbours(self.perplexity) if "tsne" in self.methods else 0,
                 self.umap_neighbors - 1 if "umap" in self.methods else 0]  # UMAP counts the point itself
        return max(needs)


def project(dataset: str, model: str, kind: str, embed_dir: Path, samples_dir: Path, method: str,
            config: ProjectConfig, store: ArtifactStore, progress=None, dims: int = 2) -> Path:
    """Compute (or reuse) one ``dims``-D layout of one model's embedding; returns its folder holding ``coords.npy``."""
    params = config.params(method, dims)
    estimator = make_projection(method, **params)  # validates the name and parameters early
    desc = {"method": method, "model": model, **params}

    def make(out: Path) -> dict:
        X = space_matrix(embed_dir, samples_dir, kind, store=store)
        knn = load_knn(embed_dir, store=store)
        t0 = time.perf_counter()
        coords = estimator.fit_transform(np.asarray(X), knn=knn, progress=progress)
        seconds = time.perf_counter() - t0
        save_npy_atomic(out / "coords.npy", coords.astype(np.float32))
        log.info("%s: %d-D %s of %s (%d points) in %.1f s", dataset, dims, method, model, len(coords), seconds)
        return {"seconds": seconds}

    return store.build(dataset, STAGE, desc, make, upstream=(Path(embed_dir).name,))

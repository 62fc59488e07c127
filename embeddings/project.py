"""The projection stage: one cached 2-D (or 3-D) layout per dataset, space and method."""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np

from embeddings.extract import load_knn, space_matrix
from embeddings.projections import make_projection
from pipeline.cache import ArtifactStore, config_key, save_npy_atomic
from pipeline.errors import ConfigError

log = logging.getLogger(__name__)

STAGE = "proj"


@dataclasses.dataclass(frozen=True)
class ProjectConfig:
    """Parameters of every projection method; only the chosen method's enter its cache key."""

    n_components: int = 2
    seed: int = 0
    tsne_perplexity: float = 30.0
    tsne_n_iter: int = 500
    umap_n_neighbors: int = 15
    umap_min_dist: float = 0.1

    def __post_init__(self) -> None:
        if self.n_components not in (2, 3):
            raise ConfigError(f"n_components must be 2 or 3 (got {self.n_components})")

    def params(self, method: str) -> dict:
        """Constructor arguments of ``method``'s estimator."""
        common = {"n_components": self.n_components, "random_state": self.seed}
        if method == "tsne":
            return {**common, "perplexity": self.tsne_perplexity, "n_iter": self.tsne_n_iter}
        if method == "umap":
            return {**common, "n_neighbors": self.umap_n_neighbors, "min_dist": self.umap_min_dist}
        return common


def project(dataset: str, embed_dir: Path, embed_key: str, space: str, method: str,
            config: ProjectConfig, store: ArtifactStore, progress=None) -> Path:
    """Compute (or reuse) one projection; returns its folder holding ``coords.npy``."""
    params = config.params(method)
    estimator = make_projection(method, **params)  # validates the name and parameters early
    desc = {"method": method, "space": space, **params}
    key = config_key(desc, embed_key)
    if store.exists(dataset, STAGE, key):
        log.info("%s: reusing %s of %s", dataset, method, space)
        return store.path(dataset, STAGE, key)
    with store.lock(f"{dataset}-{STAGE}-{key}"):
        if not store.exists(dataset, STAGE, key):
            X = space_matrix(embed_dir, space)
            knn = load_knn(embed_dir, space)
            t0 = time.perf_counter()
            coords = estimator.fit_transform(np.asarray(X), knn=knn, progress=progress)
            seconds = time.perf_counter() - t0
            with store.writing(dataset, STAGE, key, {**desc, "embed": embed_key, "seconds": seconds}) as out:
                save_npy_atomic(out / "coords.npy", coords.astype(np.float32))
            log.info("%s: %s of %s (%d points) in %.1f s", dataset, method, space, len(coords), seconds)
    return store.path(dataset, STAGE, key)

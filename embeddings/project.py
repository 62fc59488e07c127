"""The projection stage: one cached 2-D (or 3-D) layout per dataset, model and method.

:class:`ProjectConfig` is composed from the registry of methods (:mod:`embeddings.methods`):
``--methods`` and ``--dims``, then each registered method's parameters in registration
order, so a new method's flags appear without an edit here.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np

from core.options import option, validate
from core.store import ArtifactStore, save_npy_atomic
from embeddings import methods as registry
from embeddings.extract import load_knn, space_matrix

log = logging.getLogger(__name__)

STAGE = "proj"


class _ProjectRules:
    """What :class:`ProjectConfig` derives from its fields, each answer asked of the registry."""

    def __post_init__(self) -> None:
        validate(self, "projection")

    def params(self, method: str, dims: int = 2) -> dict:
        """Constructor arguments of ``method``'s estimator (:mod:`embeddings.methods`) in ``dims`` dimensions.

        With the method's name and the model, exactly what a layout's cache key holds.
        """
        return {"n_components": dims, "random_state": self.seed, **registry.get(method).arguments(self)}

    def dims_of(self, method: str) -> tuple[int, ...]:
        """The layouts ``method`` gets: 2-D for every view; 3-D too, for the explorer's 3-D view, with
        ``--dims 3`` or where it costs nothing (PCA: milliseconds, so the 3-D view always has one)."""
        return (2, 3) if self.dims == 3 or registry.get(method).always_3d else (2,)

    def neighbours_needed(self) -> int:
        """Neighbours the shared graph must hold for the chosen methods (before clipping to n - 1)."""
        return max((registry.make_projection(m, **self.params(m)).neighbours_needed() for m in self.methods),
                   default=0)


def _fields() -> list[tuple]:
    names = registry.names()
    return [("methods", tuple[str, ...], option(registry.defaults(), "projections to compute", choices=names,
                                                many=True)),
            ("dims", int, option(2, "3: every method also in 3-D, for the explorer's 3-D view (PCA always is)",
                                 choices=(2, 3))),
            *[f for m in registry.table() for f in m.fields()],
            ("seed", int, option(0, "seed of every layout", derived=True))]


#: Which layouts to compute and every method's parameters (one field per registered method's
#: parameter, named as its flag); only the chosen method's parameters enter a layout's cache
#: key (:meth:`params`).
ProjectConfig = dataclasses.make_dataclass("ProjectConfig", _fields(), bases=(_ProjectRules,), frozen=True)
ProjectConfig.__module__ = __name__  # (make_dataclass's own ``module=`` needs Python 3.12) pickles find it here
ProjectConfig.__doc__ = ("Which layouts to compute and every registered method's parameters; only the chosen "
                         "method's parameters enter a layout's cache key (:meth:`params`).")


def project(dataset: str, model: str, kind: str, embed_dir: Path, samples_dir: Path, method: str,
            config: ProjectConfig, store: ArtifactStore, progress=None, dims: int = 2) -> Path:
    """Compute (or reuse) one ``dims``-D layout of one model's embedding; returns its folder holding ``coords.npy``."""
    params = config.params(method, dims)
    estimator = registry.make_projection(method, **params)  # validates the name and parameters early
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

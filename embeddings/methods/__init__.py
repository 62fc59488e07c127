"""Projection methods, one module each, and the table that lists them (:mod:`.registry`).

Adding a method: write ``<name>.py`` with its estimator (a :class:`~.base.Projection`) and
its :class:`~.registry.Method`, and register it below.  Its parameters become flags of
``python -m pipeline project`` and fields of :class:`embeddings.project.ProjectConfig`; its
title and what it shows reach the explorer through ``current.json`` (:func:`facts`).
"""
from __future__ import annotations

from . import densmap, pca, tsne, umap
from .base import Bound, Projection
from .registry import Method, Param, defaults, facts, get, make_projection, names, register, table

# the order the pipeline computes them; the explorer lists them by each one's ``order``
register(pca.METHOD)
register(tsne.METHOD)
register(umap.METHOD)
register(densmap.METHOD)

__all__ = ["Bound", "Method", "Param", "Projection", "defaults", "facts", "get", "make_projection", "names",
           "register", "table"]

"""The projection estimators by their old address: each now lives in its own module of
:mod:`embeddings.methods` (the registry of methods); this module forwards to them."""
from __future__ import annotations

from embeddings.methods import get, make_projection, names
from embeddings.methods.base import ProgressFn, Projection
from embeddings.methods.densmap import DensMAP
from embeddings.methods.pca import PCA
from embeddings.methods.tsne import DEFAULT_PERPLEXITY, DEFAULT_TSNE_ITER, TSNE, gradient_method, tsne_neighbours
from embeddings.methods.umap import DEFAULT_UMAP_MIN_DIST, DEFAULT_UMAP_NEIGHBORS, UMAP, cache_umap_compilation

#: name -> estimator class, for every registered method
METHODS = {name: get(name).estimator for name in names()}

__all__ = ["DEFAULT_PERPLEXITY", "DEFAULT_TSNE_ITER", "DEFAULT_UMAP_MIN_DIST", "DEFAULT_UMAP_NEIGHBORS", "METHODS",
           "PCA", "TSNE", "UMAP", "DensMAP", "ProgressFn", "Projection", "cache_umap_compilation", "gradient_method",
           "make_projection", "tsne_neighbours"]

"""PCA, t-SNE and UMAP: shapes, seeds, the shared graph, and parameter validation."""
import numpy as np
import pytest

from embeddings import metrics
from embeddings.knn import build_knn
from embeddings.projections import PCA, TSNE, UMAP, make_projection
from core.errors import ConfigError


@pytest.mark.parametrize("cls,params", [(PCA, {}), (TSNE, {"perplexity": 10, "n_iter": 150}),
                                         (UMAP, {"n_neighbors": 10, "n_epochs": 100})])
def test_projection_shapes_seed_and_quality(cls, params, blobs):
    X, y = blobs
    knn = build_knn(X, 30)
    a = cls(**params, random_state=3).fit(X, knn=knn)
    assert a.embedding_.shape == (len(X), 2) and a.embedding_.dtype == np.float32
    assert np.isfinite(a.embedding_).all()
    b = cls(**params, random_state=3).fit_transform(X, knn=knn)
    np.testing.assert_allclose(a.embedding_, b, rtol=1e-5, atol=1e-5)  # seeded, reproducible
    acc = metrics.knn_accuracy(build_knn(a.embedding_, 5), y, 5)
    assert acc > 0.95  # three clear clusters must stay apart in 2-D


@pytest.mark.parametrize("cls,params", [(PCA, {}), (TSNE, {"perplexity": 10, "n_iter": 100}),
                                         (UMAP, {"n_neighbors": 10, "n_epochs": 50})])
def test_three_dimensions(cls, params, blobs):
    X, _ = blobs
    assert cls(**params, n_components=3).fit_transform(X).shape == (len(X), 3)


def test_tsne_builds_its_own_graph_without_one(blobs):
    X, _ = blobs
    assert TSNE(perplexity=5, n_iter=50).fit_transform(X[:100]).shape == (100, 2)


def test_progress_is_reported(blobs):
    X, _ = blobs
    seen = []
    TSNE(perplexity=10, n_iter=50, early_exaggeration_iter=50).fit(X, progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1] == (100, 100)


def test_validation_names_parameter_bound_and_value(blobs):
    X, _ = blobs
    small = X[:40]
    with pytest.raises(ConfigError, match=r"perplexity must be > 0 and < n_samples \(got 50 for 40 samples\)"):
        TSNE(perplexity=50).fit(small)
    with pytest.raises(ConfigError, match=r"n_neighbors must be >= 2 and < n_samples \(got 40 for 40 samples\)"):
        UMAP(n_neighbors=40).fit(small)
    with pytest.raises(ConfigError, match=r"min_dist must be in \[0, 1\] \(got 2\)"):
        UMAP(min_dist=2).fit(small)
    with pytest.raises(ConfigError, match="n_components must be 2 or 3"):
        PCA(n_components=4).fit(small)
    nan = small.copy()
    nan[0, 0] = np.inf
    with pytest.raises(ConfigError, match="NaN or infinite"):
        PCA().fit(nan)
    with pytest.raises(ConfigError, match="unknown projection 'lle'; choose one of pca, tsne, umap"):
        make_projection("lle")
    with pytest.raises(ConfigError, match="bad parameter for pca"):
        make_projection("pca", perplexity=3)


def test_umap_reports_its_epochs_and_caches_its_compilation(blobs):
    from embeddings.projections import cache_umap_compilation

    X, _ = blobs
    seen = []
    UMAP(n_neighbors=10, n_epochs=60).fit(X, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 60) and seen[-1] == (60, 60) and all(t == 60 for _, t in seen)
    # umap-learn still has every jitted function its fit compiles, so each is compiled once per install
    assert len(cache_umap_compilation()) == 3

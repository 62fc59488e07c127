"""The shared k-NN graph and the separability metrics, against known answers."""
import numpy as np
import pytest
from sklearn.manifold import trustworthiness as sk_trustworthiness
from sklearn.neighbors import NearestNeighbors

from embeddings import metrics
from embeddings.knn import KnnGraph, build_knn
from core.errors import ConfigError


def test_exact_graph_matches_sklearn_and_excludes_self(blobs):
    X, _ = blobs
    g = build_knn(X, 8, method="exact")
    ref_d, ref_i = NearestNeighbors(n_neighbors=9).fit(X).kneighbors(X)
    assert g.indices.dtype == np.int32 and g.distances.dtype == np.float32 and g.indices.shape == (len(X), 8)
    assert not (g.indices == np.arange(len(X))[:, None]).any()
    np.testing.assert_allclose(g.distances, ref_d[:, 1:], rtol=1e-4, atol=1e-4)
    assert (np.sort(g.indices, 1) == np.sort(ref_i[:, 1:], 1)).mean() > 0.99


@pytest.mark.parametrize("method", [pytest.param("nndescent", marks=pytest.mark.slow),  # numba compiles it: ~30 s
                                    "annoy"])
def test_approximate_graphs_are_close_to_exact(blobs, method):
    X, _ = blobs
    exact = build_knn(X, 10, method="exact")
    approx = build_knn(X, 10, method=method)
    assert approx.indices.shape == (len(X), 10)
    assert not (approx.indices == np.arange(len(X))[:, None]).any()
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact.indices, approx.indices)])
    assert recall > 0.95


def test_duplicates_never_list_self():
    X = np.zeros((6, 3), np.float32)
    g = build_knn(X, 3, method="exact")
    assert not (g.indices == np.arange(6)[:, None]).any()


def test_graph_validation():
    with pytest.raises(ConfigError, match=r"k must be in \[1, n_samples\) \(got k=5 for 5 samples\)"):
        build_knn(np.zeros((5, 2)), 5)
    bad = np.ones((5, 2))
    bad[3, 1] = np.nan
    with pytest.raises(ConfigError, match=r"1 NaN or infinite values \(first in rows \[3\]\)"):
        build_knn(bad, 2)
    with pytest.raises(ConfigError, match="unknown k-NN method"):
        build_knn(np.zeros((5, 2)), 2, method="faiss")


def test_head_and_with_self():
    g = KnnGraph(np.array([[1, 2], [0, 2], [1, 0]], np.int32), np.array([[1, 2], [1, 3], [2, 2]], np.float32))
    idx, dist = g.with_self(2)
    assert idx.tolist() == [[0, 1], [1, 0], [2, 1]] and dist[:, 0].tolist() == [0, 0, 0]
    with pytest.raises(ConfigError, match="only 2"):
        g.head(3)


def test_trustworthiness_matches_sklearn(rng):
    X = rng.normal(size=(400, 12))
    Y = X[:, :2] + rng.normal(scale=0.3, size=(400, 2))
    assert metrics.trustworthiness(X, Y, 7) == pytest.approx(sk_trustworthiness(X, Y, n_neighbors=7), abs=1e-6)


def test_trustworthiness_known_answers(rng):
    X = rng.normal(size=(300, 2))
    theta = 0.7
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    assert metrics.trustworthiness(X, 3.0 * X @ R + 5.0, 10) == pytest.approx(1.0)
    shuffled = metrics.trustworthiness(X, X[rng.permutation(300)], 10)
    assert shuffled < 0.7


def test_trustworthiness_query_sample_estimates_full(rng):
    X = rng.normal(size=(1500, 8))
    Y = X[:, :2]
    full = metrics.trustworthiness(X, Y, 10)
    est = metrics.trustworthiness(X, Y, 10, max_queries=500)
    assert abs(full - est) < 0.01


def test_trustworthiness_validation(rng):
    with pytest.raises(ConfigError, match=r"k must be in \[1, n_samples / 2\) \(got k=5 for 10 samples\)"):
        metrics.trustworthiness(rng.normal(size=(10, 3)), rng.normal(size=(10, 2)), 5)
    with pytest.raises(ConfigError, match="same number of rows"):
        metrics.trustworthiness(rng.normal(size=(10, 3)), rng.normal(size=(9, 2)), 2)


def test_knn_accuracy_and_silhouette_on_separated_clusters(blobs):
    X, y = blobs
    g = build_knn(X, 10)
    acc = metrics.knn_accuracy(g, y, 10)
    # Every clustered point is right; the lone class-3 point cannot be.
    assert acc == pytest.approx(300 / 301)
    assert metrics.silhouette(X, y) > 0.7
    shuffled = y[np.random.default_rng(0).permutation(len(y))]
    assert metrics.knn_accuracy(g, shuffled, 10) < 0.6
    assert metrics.silhouette(X, shuffled) < 0.1


def test_knn_accuracy_ties_go_to_nearest():
    g = KnnGraph(np.array([[1, 2], [0, 2], [0, 1]], np.int32), np.ones((3, 2), np.float32))
    assert metrics.knn_accuracy(g, np.array([1, 1, 0]), 2) == pytest.approx(2 / 3)


def test_overlap_and_pairs(blobs):
    X, y = blobs
    g = build_knn(X, 10)
    M = metrics.neighbourhood_overlap(g, y, 4, 10)
    np.testing.assert_allclose(M.sum(1), 1.0)
    assert M[0, 0] > 0.99
    confusion = np.diag([10, 10, 10, 1])
    confusion[0, 1], confusion[1, 0], confusion[2, 3] = 3, 2, 1
    pairs = metrics.confusion_pairs(confusion, M, ["a", "b", "c", "d"])
    assert len(pairs) == 6
    assert pairs[0]["names"] == ["a", "b"] and pairs[0]["confusions"] == 5
    assert pairs[0]["confusions_ab"] == 3 and pairs[0]["confusions_ba"] == 2
    assert pairs[1]["names"] == ["c", "d"]

"""Per-point faithfulness of a layout: known answers, clear errors, the cached stage, and the pipeline end to end."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import ConfigError
from core.store import ArtifactStore
from embeddings.faithfulness import FaithConfig, build_faith, faithfulness, layout_knn
from embeddings.knn import build_knn


def _affine(X: np.ndarray, rng) -> np.ndarray:
    theta = rng.uniform(0, 2 * np.pi)
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return (X @ R.T * 3.7 + np.array([5.0, -2.0])).astype(np.float32)


def test_an_affine_map_is_faithful_everywhere(rng):
    X = rng.normal(size=(600, 2)).astype(np.float32)
    high = build_knn(X, 30, method="exact").indices
    faith, false = faithfulness(high, _affine(X, rng))
    assert faith.dtype == np.float32 and faith.shape == (600,)
    np.testing.assert_array_equal(faith, 1.0)
    np.testing.assert_array_equal(false, 0.0)


def test_shuffling_half_the_rows_lowers_exactly_those(rng):
    # Two groups far apart in both spaces: shuffling the layout rows of group B within B
    # leaves every A point's neighbourhoods (all inside A) exactly as they were.
    a = rng.normal(size=(300, 2))
    b = rng.normal(size=(300, 2)) + 100
    X = np.vstack([a, b]).astype(np.float32)
    high = build_knn(X, 30, method="exact").indices
    Y = X.copy()
    shuffled = np.arange(300, 600)
    Y[shuffled] = Y[rng.permutation(shuffled)]
    faith, false = faithfulness(high, Y)
    np.testing.assert_array_equal(faith[:300], 1.0)
    np.testing.assert_array_equal(false[:300], 0.0)
    # a shuffled point keeps about k/300 of its neighbours by chance
    assert faith[300:].mean() < 0.1 and false[300:].mean() > 0.8


def test_shuffling_lowers_the_shuffled_most_on_one_cloud(rng):
    X = rng.normal(size=(1000, 2)).astype(np.float32)
    high = build_knn(X, 30, method="exact").indices
    Y = X.copy()
    rows = rng.choice(1000, 500, replace=False)
    Y[rows] = Y[rng.permutation(rows)]
    faith, _ = faithfulness(high, Y)
    kept = np.setdiff1d(np.arange(1000), rows)
    assert faith[rows].mean() < 0.05
    # the kept points lose their shuffled neighbours (about half): they stay near 1/2, far above the shuffled ones
    assert 0.35 < faith[kept].mean() < 0.75


def test_the_kd_tree_route_matches_exact_search(rng, monkeypatch):
    import embeddings.faithfulness as f

    Y = rng.normal(size=(2000, 2)).astype(np.float32)
    tree = layout_knn(Y, 10)
    monkeypatch.setattr(f, "KD_TREE_MAX_DIMS", 1)
    exact = layout_knn(Y, 10)
    assert tree.method == "kdtree" and exact.method == "exact"
    np.testing.assert_array_equal(np.sort(tree.indices, 1), np.sort(exact.indices, 1))
    # brute force works in float32 from |x|^2 - 2xy + |y|^2: its small distances are the less exact ones
    np.testing.assert_allclose(tree.distances, exact.distances, atol=1e-4)


@pytest.mark.parametrize("change, match", [
    (lambda H, Y: (H, Y[:-1]), "layout has 99 rows but the high-D graph 100"),
    (lambda H, Y: (H, np.where(np.arange(100)[:, None] == 3, np.nan, Y)), "NaN or infinite"),
    (lambda H, Y: (H[:, :20], Y), "k_far <= the high-D graph's 20 columns"),
    (lambda H, Y: (H[0], Y), "must be \\(n, k\\)"),
    (lambda H, Y: (H + 1000, Y), "rows in \\[0, 100\\)"),
])
def test_bad_input_says_what_was_expected(rng, change, match):
    Y = rng.normal(size=(100, 2)).astype(np.float32)
    H = build_knn(Y, 30, method="exact").indices
    with pytest.raises(ConfigError, match=match):
        faithfulness(*change(H, Y))


def test_k_beyond_n_and_bad_config_are_refused(rng):
    Y = rng.normal(size=(8, 2)).astype(np.float32)
    with pytest.raises(ConfigError, match="k must be in \\[1, n_samples\\) \\(got k=10 for 8"):
        faithfulness(np.zeros((8, 30), int), Y)
    with pytest.raises(ConfigError, match="k_far must be >= k"):
        FaithConfig(k=10, k_far=5)


def _folders(store: ArtifactStore, X: np.ndarray, Y: np.ndarray, tag: str = "a"):
    def embed(out):
        np.save(out / "knn-indices.npy", build_knn(X, 30, method="exact").indices)

    def proj(out):
        np.save(out / "coords.npy", Y)

    e = store.build("toy", "embed", {"tag": tag}, embed)
    p = store.build("toy", "proj", {"tag": tag}, proj, upstream=(e.name,))
    return e, p


def test_the_stage_is_cached_and_follows_its_upstream(tmp_path, rng, monkeypatch):
    import embeddings.faithfulness as f

    store = ArtifactStore(tmp_path)
    X = rng.normal(size=(200, 2)).astype(np.float32)
    e, p = _folders(store, X, X)
    calls = []
    real = f.faithfulness
    monkeypatch.setattr(f, "faithfulness", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    first = build_faith("toy", "m", "tsne", p, e, store)
    assert build_faith("toy", "m", "tsne", p, e, store) == first and len(calls) == 1
    faith = np.load(first / "faithfulness.npy")
    assert faith.shape == (200,) and faith.dtype == np.float32 and (faith == 1).all()
    assert np.load(first / "false_neighbours.npy").shape == (200,)
    cfg = store.recorded(first)
    assert cfg["stage"] == "faith" and cfg["config"]["upstream"] == [p.name, e.name]
    assert cfg["config"]["mean"] == 1.0 and cfg["config"]["k"] == 10
    # another layout of the same model: a new folder, computed again
    _, p2 = _folders(store, X, X[::-1].copy(), tag="b")
    second = build_faith("toy", "m", "tsne", p2, e, store)
    assert second != first and len(calls) == 2 and np.load(second / "faithfulness.npy").mean() < 0.2


@pytest.mark.slow  # the session's tiny real run
def test_end_to_end_publishes_both_stages(tiny_run):
    """The real pipeline, tiny: current.json names the new folders, with the right shapes, and the report has them."""
    cache, r = tiny_run.cache, tiny_run
    current = json.loads((cache / "current.json").read_text())
    store = ArtifactStore(cache)
    models = current["datasets"]["mnist"]["models"]
    report = json.loads((cache / current["report"]).read_text())["datasets"]["mnist"]["models"]
    for name in ("pixels", "cnn"):
        m = models[name]
        issues = store.resolve(m["issues"])
        assert store.load_array(issues / "score.npy").shape == (300,)
        assert store.load_array(issues / "suggested.npy").dtype == np.uint8
        assert store.load_array(issues / "suspect.npy").dtype == bool
        assert isinstance(store.read_json(issues / "ranked.json"), list)
        assert store.recorded(issues)["config"]["oos"] == "test"
        assert set(m["faithfulness"]) == set(m["projections"]) == {"pca", "tsne", "umap"}
        for method, rel in m["faithfulness"].items():
            faith = store.load_array(store.resolve(rel) / "faithfulness.npy")
            assert faith.shape == (300,) and 0 <= faith.min() <= faith.max() <= 1
            assert report[name]["projections"][method]["faithfulness"] == pytest.approx(float(faith.mean()), abs=1e-6)
        li = report[name]["label_issues"]
        assert set(li) >= {"count", "threshold", "top"} and len(li["top"]) == 20
        assert all(0 <= i < 10000 for i in li["top"])
    assert "label suspects" in r.stdout and "t-SNE faith." in r.stdout


def test_the_window_forgives_a_shuffle_inside_a_neighbourhood_and_still_finds_a_tear(rng):
    """Issue 25 §4: each point nudged within its neighbourhood keeps its 10 nearest among the layout's 30
    (tolerant) though not among its 10 (strict); a point moved far away loses them under both."""
    X = rng.normal(size=(800, 2))
    high = build_knn(X, 30, method="exact").indices
    spacing = np.median(np.sort(((X[:, None] - X[None]) ** 2).sum(-1), 1)[:, 1] ** 0.5)
    Y = X + rng.normal(0, spacing, X.shape)  # a shuffle among near neighbours: no tear
    torn = 17
    Y[torn] = X.max(0) + 10  # a tear: put among nobody
    strict = faithfulness(high, Y, k=10, k_far=30)[0]
    tolerant = faithfulness(high, Y, k=10, k_far=30, window=30)[0]
    rest = np.arange(len(X)) != torn
    assert tolerant[rest].mean() > strict[rest].mean() + 0.2
    assert (tolerant[rest] <= 0.3).mean() < (strict[rest] <= 0.3).mean()
    assert strict[torn] == tolerant[torn] == 0.0
    with pytest.raises(ConfigError, match="window"):
        faithfulness(high, Y, k=10, window=5)
    with pytest.raises(ConfigError, match="window must be >= k"):
        FaithConfig(k=10, window=5)

"""The report's sampled silhouette and trustworthiness: exact where every point is a query, unbiased
with an honest standard error where not, and the report entry that stores them."""
import json

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from core.errors import ConfigError
from embeddings import metrics, report
from embeddings.faithfulness import layout_knn
from embeddings.knn import build_knn


@pytest.fixture(scope="module")
def clusters():
    """1,200 points in 4 overlapping 8-D classes, a faithful-ish layout and a poor one."""
    r = np.random.default_rng(5)
    labels = np.repeat(np.arange(4), 300)
    X = r.normal(scale=3, size=(4, 8))[labels] + r.normal(size=(1200, 8))
    good = X[:, :2] + r.normal(scale=0.2, size=(1200, 2))
    poor = r.normal(size=(1200, 2))
    return X.astype(np.float32), labels, [good.astype(np.float32), poor.astype(np.float32)]


def test_count_below_is_exact_on_the_partition_path(rng):
    d = np.round(rng.random((40, 5000)), 3)  # many ties
    d[np.arange(40), np.arange(40)] = -np.inf
    t = np.concatenate([d[:, rng.integers(0, 5000, 20)], np.full((40, 1), 2.0), np.full((40, 1), -1.0)], 1)
    got = metrics.count_below(d, t)
    assert got.tolist() == (d[:, None, :] < t[:, :, None]).sum(-1).tolist()
    assert (got[:, -2] == 5000).all() and (got[:, -1] == 1).all()  # everything, then only the -inf


def test_all_queries_give_the_exact_values(clusters, blobs):
    X, y, Ys = clusters
    trust, sil = metrics.separability_estimates(X, y, Ys, 10, max_queries=None)
    assert [t.value for t in trust] == metrics.trustworthiness_many(X, Ys, 10, max_queries=None)
    assert all(t.se == 0 and t.queries == len(X) for t in [*trust, sil])
    assert sil.value == pytest.approx(silhouette_score(X, y), abs=1e-6)  # sklearn sums in float32
    # a class of one sample has silhouette 0, as scikit-learn has it
    Xb, yb = blobs
    _, sil_b = metrics.separability_estimates(Xb, yb, [], 5, max_queries=None)
    assert sil_b.value == pytest.approx(silhouette_score(Xb, yb), abs=1e-6)
    assert trust[0].value > 0.8 > 0.6 > trust[1].value


def test_sampled_estimates_are_within_their_error_bars(clusters):
    X, y, Ys = clusters
    full, full_sil = metrics.separability_estimates(X, y, Ys, 10, max_queries=None)
    runs = [metrics.separability_estimates(X, y, Ys, 10, max_queries=200, seed=s) for s in range(20)]
    for i in range(len(Ys)):
        est = np.array([r[0][i].value for r in runs])
        se = np.array([r[0][i].se for r in runs])
        assert (se > 0).all() and all(r[0][i].queries == 200 for r in runs)
        assert (np.abs(est - full[i].value) <= 4 * se).all()
        # the stated error is the real spread of the estimate over seeds, within sampling noise
        assert 0.5 < est.std() / se.mean() < 1.6
    sil = np.array([r[1].value for r in runs])
    sil_se = np.array([r[1].se for r in runs])
    assert (np.abs(sil - full_sil.value) <= 4 * sil_se).all() and 0.5 < sil.std() / sil_se.mean() < 1.6


def test_separability_validation(clusters):
    X, y, Ys = clusters
    with pytest.raises(ConfigError, match="at least 2 classes"):
        metrics.separability_estimates(X, np.zeros(len(X), int), Ys, 10)
    with pytest.raises(ConfigError, match=r"X and labels must have the same number of rows \(got 1200 and 5\)"):
        metrics.separability_estimates(X, y[::240], Ys, 10)


def _model_folders(tmp_path, X, y, Ys) -> dict:
    embed, model = tmp_path / "embed", tmp_path / "model"
    embed.mkdir()
    model.mkdir()
    (model / "metrics.json").write_text(json.dumps({"test_accuracy": 0.9, "train_seconds": 3.0}))
    np.save(embed / "space.npy", X)
    np.save(embed / "pred.npy", y.astype(np.uint8))
    g = build_knn(X, 15, method="exact")
    np.save(embed / "knn-indices.npy", g.indices)
    np.save(embed / "knn-distances.npy", g.distances)
    projections = {}
    for name, Y in zip(("tsne", "pca"), Ys):
        (tmp_path / name).mkdir()
        np.save(tmp_path / name / "coords.npy", Y)
        projections[name] = tmp_path / name
    return dict(title="Net", kind="mlp", model_dir=model, embed_dir=embed, projections=projections,
                dynamics_dir=None, issues_dir=None, faith={})


@pytest.mark.parametrize("sampled", [False, True])
def test_model_report_stores_estimates_and_reports_progress(tmp_path, clusters, monkeypatch, sampled):
    X, y, Ys = clusters
    if sampled:
        monkeypatch.setattr(metrics, "EXACT_MAX", 1000)
        monkeypatch.setattr(metrics, "SAMPLE_QUERIES", 300)
    m = _model_folders(tmp_path, X, y, Ys)
    seen, timings = [], {}
    e = report.model_report(y, list("abcd"), tmp_path, m, 10, 0, None,
                            progress=lambda d, t: seen.append((d, t)), timings=timings)
    assert seen[-1] == (100, 100) and all(a[0] <= b[0] for a, b in zip(seen, seen[1:])) and len(seen) > 4
    assert set(timings) == {"load", "neighbours", "queries", "rest"}
    exact_trust = metrics.trustworthiness_many(X, Ys, 10, max_queries=None, y_knns=[layout_knn(Y, 10) for Y in Ys])
    for (p, t), exact in zip(e["projections"].items(), exact_trust):
        if sampled:
            assert 0 < t["trustworthiness_se"] and abs(t["trustworthiness"] - exact) <= 4 * t["trustworthiness_se"]
        else:
            assert t["trustworthiness"] == exact and t["trustworthiness_se"] == 0
    assert e["metric_queries"] == (300 if sampled else len(X))
    assert (e["silhouette_se"] > 0) == sampled
    if not sampled:
        assert e["silhouette"] == metrics.silhouette(X, y)


def test_the_table_shows_error_bars_only_for_estimates():
    entry = {"title": "CNN", "test_accuracy": 0.99, "knn_accuracy": 0.99, "silhouette": 0.3612, "train_seconds": 1,
             "pairs": [], "projections": {"tsne": {"knn_accuracy": 0.98, "trustworthiness": 0.99612}}}
    sampled = {**entry, "silhouette_se": 0.0016,
               "projections": {"tsne": {"knn_accuracy": 0.98, "trustworthiness": 0.99612, "trustworthiness_se": 0.0004}}}
    exact = report.format_table({"k": 10, "datasets": {"a": {"title": "A", "models": {"cnn": entry}}}})
    assert "0.9961" in exact and "±" not in exact
    text = report.format_table({"k": 10, "datasets": {"a": {"title": "A", "models": {"cnn": sampled}}}})
    assert "0.9961 ±0.0004" in text and "0.361 ±0.002" in text and "standard error" in text

"""Suspected label errors: planted flips ranked first, clear errors, out-of-sample sources, the cached stage."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.label_issues import compare, flip_labels, plain_scores, precision_recall
from core.errors import ConfigError
from core.store import ArtifactStore
from embeddings.knn import build_knn
from embeddings.label_issues import (IssuesConfig, build_issues, check_inputs, neighbour_shares, oos_source,
                                     score_labels, suggested_labels, summary)


@pytest.fixture(scope="module")
def noisy_blobs():
    """2,000 points of 10 overlapping classes, the exact posterior as the 'model' (98.6 % right) and the k-NN graph."""
    rng = np.random.default_rng(3)
    centres = rng.normal(scale=1.8, size=(10, 8))
    y = rng.integers(0, 10, 2000)
    X = (centres[y] + rng.normal(size=(2000, 8))).astype(np.float32)
    d = ((X[:, None, :] - centres[None]) ** 2).sum(-1)
    proba = np.exp(-(d - d.min(1, keepdims=True)) / 2)
    proba /= proba.sum(1, keepdims=True)
    return X, y, proba, build_knn(X, 30, method="exact").indices


def test_planted_flips_are_ranked_first(noisy_blobs):
    X, y, proba, knn = noisy_blobs
    assert 0.9 < (proba.argmax(1) == y).mean() < 0.99  # the model itself makes mistakes
    result = compare(y, proba, knn, share=0.02, seed=0, ks=(40, 80))
    assert result["flips"] == 40
    precision, recall = result["ours"][40]
    # measured: 0.925 at K = #flips. The plain ranking gets 0.95 here: with the exact posterior as
    # the model the neighbours add only noise (on MNIST, where no model is exact, they help; see
    # benchmarks/label_issues.py), so the test asks for a high precision, not a win.
    assert precision >= 0.9
    assert precision >= result["plain"][40][0] - 0.05
    assert result["ours"][80][1] >= 0.95
    assert result["suspect_recall"] >= 0.9


def test_flips_half_random_half_confusable(noisy_blobs):
    _, y, proba, _ = noisy_blobs
    flipped, rows = flip_labels(y, proba, 0.02, seed=1)
    assert len(rows) == 40 and (flipped[rows] != y[rows]).all()
    np.testing.assert_array_equal(np.flatnonzero(flipped != y), rows)
    masked = proba.copy()
    masked[np.arange(len(y)), y] = -1
    confusable = flipped[rows] == masked[rows].argmax(1)
    assert confusable.sum() >= 20  # the confusable half, plus random ones that happen to land there
    again, rows2 = flip_labels(y, proba, 0.02, seed=1)
    np.testing.assert_array_equal(again, flipped)


def test_precision_recall_and_plain_scores():
    scores = np.array([0.9, 0.1, 0.8, 0.2, 0.7])
    pr = precision_recall(scores, np.array([0, 4]), ks=(1, 2, 3))
    assert pr == {1: (1.0, 0.5), 2: (0.5, 0.5), 3: (2 / 3, 1.0)}
    np.testing.assert_allclose(plain_scores(np.array([0, 1]), np.array([[0.9, 0.1], [0.6, 0.4]])), [0.1, 0.6])


def test_scores_suggestions_and_flags_on_a_known_case():
    labels = np.array([0, 0, 0, 1, 1, 1, 0])
    proba = np.array([[.9, .1]] * 3 + [[.1, .9]] * 3 + [[.05, .95]])
    knn = np.array([[1, 2], [0, 2], [0, 1], [4, 5], [3, 5], [3, 4], [3, 4]])
    r = score_labels(labels, proba, knn, IssuesConfig(k=2, weight=0.5, quality="normalized_margin"))
    # row 6: model 0.05 and neighbours 0 for its label 0 -> evidence 0.025 against 0.975
    assert r["score"][6] == pytest.approx((0.975 - 0.025 + 1) / 2)
    d = score_labels(labels, proba, knn, IssuesConfig(k=2))  # the default: 0.95 model, self-confidence
    assert d["score"][6] == pytest.approx(1 - 0.95 * 0.05) and d["score"].argmax() == 6
    assert r["score"].argmax() == 6 and (r["score"][:6] < 0.5).all()
    np.testing.assert_array_equal(r["suggested"], [1, 1, 1, 0, 0, 0, 1])
    assert r["suspect"].dtype == bool and r["suspect"].shape == (7,)
    np.testing.assert_array_equal(suggested_labels(np.array([[.2, .5, .3], [.6, .1, .3]]), np.array([0, 0])), [1, 2])
    np.testing.assert_allclose(neighbour_shares(knn, labels, 2, 2)[6], [0, 1])


@pytest.mark.parametrize("args, match", [
    ((np.zeros(5, int), np.full((4, 3), 1 / 3)), "proba must be \\(n, classes\\) with n = 5 labels, got shape \\(4, 3\\)"),
    ((np.zeros(4, int), np.where(np.eye(4, 3) > 0, np.nan, 0.5)), "finite and >= 0; 3 values are not"),
    ((np.array([0, 1, 3, 0]), np.full((4, 3), 1 / 3)), "integers in \\[0, 3\\) .* got int64 in \\[0, 3\\]"),
    ((np.zeros(4, int), np.full((4, 3), 1 / 3), np.zeros((4, 2), int), 10), "k must be in \\[1, 2\\].*got k=10"),
    ((np.zeros(4, int), np.full((4, 3), 1 / 3), np.zeros((3, 2), int)), "knn indices must be \\(n, k\\) with n = 4"),
    ((np.zeros(4, int), np.zeros((4, 3))), "must not be all zero"),
])
def test_bad_input_says_what_was_expected(args, match):
    with pytest.raises(ConfigError, match=match):
        check_inputs(*args)


def test_bad_config_is_refused():
    with pytest.raises(ConfigError, match="weight"):
        IssuesConfig(weight=1.5)
    with pytest.raises(ConfigError, match="quality"):
        IssuesConfig(quality="entropy")


def test_where_the_out_of_sample_probabilities_come_from():
    test_ids, all_ids = np.arange(100), np.arange(59_950, 60_050)
    assert oos_source("cnn", test_ids, "test", 5, n_train=60_000) == "test"
    assert oos_source("cnn", np.arange(60_000, 60_100), "all", 5, n_train=60_000) == "test"
    assert oos_source("cnn", all_ids, "all", 5, n_train=60_000) == "cv-5"
    assert oos_source("keras", all_ids, "all", 3, n_train=60_000) == "cv-3"
    assert oos_source("pixels", all_ids, "all", 5, n_train=60_000) == "loo"


def _folders(store, X, y, proba, knn, sample_set="test", ids=None, tag="a", n_train=60_000):
    ids = np.arange(len(y)) if ids is None else ids

    def samples(out):
        np.save(out / "index.npy", ids.astype(np.int64))
        np.save(out / "labels.npy", y.astype(np.uint8))
        return {"n_train": n_train}  # as embeddings.extract.samples records it

    def embed(out):
        np.save(out / "proba.npy", proba.astype(np.float32))
        np.save(out / "space.npy", X)
        np.save(out / "knn-indices.npy", knn.astype(np.int32))

    s = store.build("toy", "samples", {"sample_set": sample_set, "subset": None, "tag": tag}, samples)
    e = store.build("toy", "embed", {"tag": tag}, embed, upstream=(s.name,))
    return s, e


def test_the_stage_writes_the_spec_files_and_is_cached(tmp_path, noisy_blobs, monkeypatch):
    import embeddings.label_issues as li

    X, y, proba, knn = noisy_blobs
    store = ArtifactStore(tmp_path)
    flipped, rows = flip_labels(y, proba, 0.02, seed=0)
    s, e = _folders(store, X, flipped, proba, knn)
    calls = []
    real = li.score_labels
    monkeypatch.setattr(li, "score_labels", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    folder = build_issues("toy", "cnn", "cnn", e, s, store)
    assert build_issues("toy", "cnn", "cnn", e, s, store) == folder and len(calls) == 1
    score = store.load_array(folder / "score.npy")
    assert score.dtype == np.float32 and score.shape == (2000,) and 0 <= score.min() <= score.max() <= 1
    assert store.load_array(folder / "suggested.npy").dtype == np.uint8
    suspect = store.load_array(folder / "suspect.npy")
    ranked = store.read_json(folder / "ranked.json")
    listed = suspect | (score > 0.5)  # flagged by confident learning, or the evidence favours another label
    assert [r["row"] for r in ranked] == sorted(np.flatnonzero(listed).tolist(), key=lambda r: (-score[r], r))
    assert set(ranked[0]) == {"row", "id", "given", "suggested", "score", "flagged"}
    assert [r["flagged"] for r in ranked] == [bool(suspect[r["row"]]) for r in ranked]
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    cfg = store.recorded(folder)["config"]
    assert cfg["oos"] == "test" and cfg["upstream"] == [e.name, s.name] and "mean" in cfg["combine"]
    top = summary(folder, np.arange(2000), store.load_array)
    assert top["threshold"] == 0.5 and top["count"] == int((score > 0.5).sum()) and len(top["top"]) == 20
    assert len(set(top["top"]) & set(rows.tolist())) >= 18
    # a changed upstream (other labels) is a new folder, computed again
    s2, e2 = _folders(store, X, y, proba, knn, tag="b")
    assert build_issues("toy", "cnn", "cnn", e2, s2, store) != folder and len(calls) == 2


def test_training_rows_are_cross_validated(tmp_path, noisy_blobs):
    X, y, proba, knn = noisy_blobs
    store = ArtifactStore(tmp_path)
    ids = np.concatenate([np.arange(1500), 60_000 + np.arange(500)])
    # in-sample probabilities a network might give its training images: the given label, surely
    memorised = np.eye(10)[y] * 0.999 + 0.0001
    memorised[1500:] = proba[1500:]
    flipped, rows = flip_labels(y, proba, 0.02, seed=0)
    memorised[:1500] = np.eye(10)[flipped[:1500]] * 0.999 + 0.0001
    s, e = _folders(store, X, flipped, memorised, knn, sample_set="all", ids=ids)
    folder = build_issues("toy", "cnn", "cnn", e, s, store)
    assert store.recorded(folder)["config"]["oos"] == "cv-5"
    score = store.load_array(folder / "score.npy")
    train_flips = rows[rows < 1500]
    # the memorised probabilities would hide these flips; cross-validation finds them
    assert np.median(score[train_flips]) > 0.5 > np.median(np.delete(score, rows))
    pixels = build_issues("toy", "pixels", "pixels", e, s, store)
    assert store.recorded(pixels)["config"]["oos"] == "loo"


def test_the_training_set_size_comes_from_the_samples(tmp_path, noisy_blobs, monkeypatch):
    """Ids below the samples' recorded n_train are training rows, whatever the dataset's size; a samples
    folder made before the record existed takes the size from the dataset's facts as loaded."""
    from embeddings.label_issues import training_size
    from training import datasets

    X, y, proba, knn = noisy_blobs
    store = ArtifactStore(tmp_path)
    ids = np.arange(2000)  # a dataset of 1,200 training images, then 800 test images
    s, e = _folders(store, X, y, proba, knn, sample_set="all", ids=ids, tag="small", n_train=1200)
    assert training_size("toy", s, store) == 1200
    assert store.recorded(build_issues("toy", "cnn", "cnn", e, s, store))["config"]["oos"] == "cv-5"
    s, e = _folders(store, X, y, proba, knn, sample_set="all", ids=ids, tag="no-train", n_train=0)
    assert store.recorded(build_issues("toy", "cnn", "cnn", e, s, store))["config"]["oos"] == "test"
    # an older samples folder: no n_train in its record
    old = store.build("mnist", "samples", {"sample_set": "all", "subset": 5},
                      lambda out: np.save(out / "index.npy", np.arange(5, dtype=np.int64)))
    monkeypatch.setattr(datasets, "_OPENED", {})
    assert training_size("mnist", old, store) == datasets.get("mnist").n_train == 60_000
    monkeypatch.setitem(datasets._OPENED, "mnist", dataclasses.replace(datasets.get("mnist"), n_train=3))
    assert training_size("mnist", old, store) == 3

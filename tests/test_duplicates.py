"""Near-duplicates (embeddings/duplicates.py, explorer/duplicates.py): planted near-copies are found,
distinct images of a class are not, the threshold follows its stated rule, and the folder and CSV say so."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core.errors import CacheError, ConfigError
from core.store import ArtifactStore
from embeddings.duplicates import (DuplicatesConfig, aligned_distance, build_duplicates, calibrate, find,
                                   plant_copies, summary)
from embeddings.knn import build_knn
from explorer.duplicates import CSV_HEADER, Duplicates, duplicates_csv


def strokes(n: int, seed: int) -> np.ndarray:
    """``n`` distinct digit-like images: a few random bright bars on black, inside a 2-pixel border."""
    r = np.random.default_rng(seed)
    out = np.zeros((n, 28, 28), np.uint8)
    for img in out:
        for _ in range(4):
            y, x = r.integers(2, 20, size=2)
            h, w = r.integers(2, 7, size=2)
            img[y:y + h, x:x + w] = r.integers(120, 256)
    return out


@pytest.fixture(scope="module")
def planted():
    """300 distinct images in 3 classes plus near-copies of rows 0, 1 and 2 (row 2's with another label)."""
    rng = np.random.default_rng(5)
    base = strokes(300, 1)
    labels = np.arange(300) % 3
    copies = plant_copies(base[:3], rng, noise=4.0)
    images = np.concatenate([base, copies])
    labels = np.concatenate([labels, [labels[0], labels[1], (labels[2] + 1) % 3]])
    return images, labels


def graphs_of(images: np.ndarray) -> dict:
    return {"pixels": build_knn(images.reshape(len(images), -1).astype(np.float32) / 255, 5).indices}


def test_a_shifted_copy_is_at_distance_zero_and_black_is_far():
    img = strokes(2, 3)
    moved = np.zeros_like(img)
    moved[:, 1:] = img[:, :-1]
    assert aligned_distance(img, moved).max() < 1e-6
    assert aligned_distance(img, moved, shift=0).min() > 0.05  # without the shift it is not a copy
    assert aligned_distance(img[:1], np.zeros_like(img[:1]))[0] == 1.0
    assert 0.05 < aligned_distance(img[:1], img[1:])[0] <= 1.0


def test_planted_copies_are_found_and_distinct_images_of_a_class_are_not(planted):
    images, labels = planted
    result = find(images, labels, np.ones(len(images)), graphs_of(images), DuplicatesConfig(guard=0.05))
    pairs = {tuple(p) for p in result["pairs"].tolist()}
    assert pairs == {(0, 300), (1, 301), (2, 302)}
    assert result["calibration"]["bound"] == "planted" and result["calibration"]["planted_found"] >= 0.95
    assert (result["distance"] <= result["calibration"]["threshold"]).all()
    # the group with differing labels comes first; every other row is in none
    group = result["group"]
    assert group[2] == group[302] == 0 and {group[0], group[1]} == {1, 2}
    assert (group[3:300] == -1).all()
    assert result["sources"] == ["pixels"] and (result["found"] == 1).all()


def test_the_threshold_is_the_smaller_of_its_two_quantiles(planted):
    images, labels = planted
    nearest = np.linspace(0.01, 0.5, 100)
    config = DuplicatesConfig(recall=0.9, guard=0.02, noise=8.0, planted=50)
    cal = calibrate(images, nearest, config)
    rng = np.random.default_rng(config.seed)
    rows = rng.choice(len(images), 50, replace=False)
    copies = aligned_distance(images[rows], plant_copies(images[rows], rng, 8.0))
    assert cal["planted_quantile"] == pytest.approx(float(np.quantile(copies, 0.9, method="higher")))
    assert cal["guard_quantile"] == pytest.approx(float(np.quantile(nearest, 0.02)))
    assert cal["threshold"] == min(cal["planted_quantile"], cal["guard_quantile"])
    assert cal["bound"] == "planted" and "0.9 quantile of planted" in cal["rule"]
    # when most images have a close neighbour the guard binds: at most 2% of them fall under it
    cal = calibrate(images, np.full(100, 1e-5), config)
    assert cal["bound"] == "guard" and cal["threshold"] == pytest.approx(1e-5)
    # a given threshold is used as it is
    given = find(images, labels, np.ones(len(images)), graphs_of(images), DuplicatesConfig(threshold=0.0))
    assert given["calibration"]["bound"] == "given" and len(given["pairs"]) == 0


def test_embedding_graph_credits_its_pairs(planted):
    images, labels = planted
    pix = graphs_of(images)["pixels"]
    emb = np.roll(pix, 1, axis=1)  # the same neighbours in another order: each pair found by both
    result = find(images, labels, np.ones(len(images)), {"pixels": pix, "cnn": emb}, DuplicatesConfig(guard=0.05))
    assert result["sources"] == ["pixels", "cnn"] and (result["found"] == 3).all()


@pytest.mark.parametrize("call, match", [
    (lambda: aligned_distance(np.zeros((2, 28, 28)), np.zeros((2, 28, 28))), "uint8"),
    (lambda: aligned_distance(np.zeros((2, 28), np.uint8), np.zeros((2, 28), np.uint8)), r"\(n, h, w\)"),
    (lambda: find(strokes(4, 0), np.zeros(3), np.zeros(4), {"pixels": np.zeros((4, 1), int)}), "one value per"),
    (lambda: find(strokes(4, 0), np.zeros(4), np.zeros(4), {"pixels": np.zeros((3, 1), int)}), "3 rows for 4"),
    (lambda: find(strokes(4, 0), np.zeros(4), np.zeros(4), {"pixels": np.full((4, 1), 9)}), r"rows in \[0, 4\)"),
    (lambda: find(strokes(4, 0), np.zeros(4), np.zeros(4), {}), "at least one k-NN graph"),
    (lambda: DuplicatesConfig(recall=0), "recall"),
    (lambda: DuplicatesConfig(threshold=2.0), "threshold"),
])
def test_bad_input_says_what_was_expected(call, match):
    with pytest.raises(ConfigError, match=match):
        call()


def _samples(store, images, labels, ids, sample_set):
    def make(out):
        np.save(out / "index.npy", ids.astype(np.int64))
        np.save(out / "images.npy", images)
        np.save(out / "labels.npy", labels.astype(np.uint8))
        return {"n_train": 1000}
    return store.build("toy", "samples", {"sample_set": sample_set, "subset": None}, make)


def _embed(store, samples, knn, tag):
    return store.build("toy", "embed", {"tag": tag}, lambda out: np.save(out / "knn-indices.npy", knn.astype(np.int32)),
                       upstream=(samples.name,))


def test_the_stage_searches_the_training_images_for_each_test_image(tmp_path, planted):
    """Test sample set: a test image's near-copy among the training images is found, its member named
    by its dataset id with no row; the folder, the report's summary and the explorer's CSV agree."""
    images, labels = planted
    store = ArtifactStore(tmp_path)
    test_images, test_labels = images[:300], labels[:300]
    train = (np.concatenate([strokes(200, 9), images[300:302]]), np.concatenate([np.zeros(200, int), labels[300:302]]))
    s = _samples(store, test_images, test_labels, np.arange(300), "test")
    e = _embed(store, s, graphs_of(test_images)["pixels"], "px")
    folder = build_duplicates("toy", s, {"pixels": (e, True)}, store, DuplicatesConfig(guard=0.05), train=train,
                              n_train=1000)
    assert build_duplicates("toy", s, {"pixels": (e, True)}, store, DuplicatesConfig(guard=0.05), train=train,
                            n_train=1000) == folder  # cached
    data = store.read_json(folder / "duplicates.json")
    assert data["counts"] == {"groups": 2, "images": 4, "pairs": 2, "within_train": 0, "within_test": 0,
                              "train_test": 2, "mixed_labels": 0}
    members = sorted((m["split"], m["id"], m["row"]) for g in data["groups"] for m in g["members"])
    assert members == [("test", 1000, 0), ("test", 1001, 1), ("train", 200, None), ("train", 201, None)]
    group = store.load_array(folder / "group.npy")
    assert group.dtype == np.int32 and group.shape == (300,) and (group >= 0).sum() == 2
    assert store.load_array(folder / "images.npy").shape == (4, 28, 28)
    assert summary(folder)["train_test"] == 2 and store.recorded(folder)["config"]["search_train"]

    class DS:  # what Duplicates.load reads of a DatasetView
        n, class_names = 300, ["a", "b", "c"]

    dup = Duplicates.load(folder, store, DS)
    text = duplicates_csv(dup, DS.class_names).splitlines()
    assert text[0].split(",") == CSV_HEADER and len(text) == 5
    assert any(line.split(",")[2:5] == ["200", "train", ""] for line in text[1:])
    assert duplicates_csv(dup, DS.class_names, mixed_only=True).splitlines() == text[:1]
    assert "Threshold" in dup.rule_words() and "planted" in dup.rule_words()
    DS.n = 1  # a row past the samples: the folder does not belong to them
    with pytest.raises(CacheError, match="not a row of the 1 samples"):
        Duplicates.load(folder, store, DS)


def test_the_all_sample_set_counts_pairs_within_and_across_splits(tmp_path, planted):
    images, labels = planted
    store = ArtifactStore(tmp_path)
    ids = np.arange(len(images))  # n_train = 1000: rows 0-302 are all training images but 301 and 302
    ids[301:] = [1000, 1001]
    s = _samples(store, images, labels, ids, "all")
    e = _embed(store, s, graphs_of(images)["pixels"], "px")
    folder = build_duplicates("toy", s, {"pixels": (e, True)}, store, dataclasses.replace(DuplicatesConfig(), guard=0.05),
                              n_train=1000)
    counts = store.read_json(folder / "duplicates.json")["counts"]
    assert counts == {"groups": 3, "images": 6, "pairs": 3, "within_train": 1, "within_test": 0, "train_test": 2,
                      "mixed_labels": 1}

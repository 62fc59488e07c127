"""The network layer by layer (embeddings/layers.py, explorer/depth.py): which layers are followed, how a
layer becomes one row per image, the frames and the anchors that place any image on them."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import CacheError, ConfigError
from embeddings.layers import LayersConfig, depth_taps, features, follow, how, named_taps, pool_size, subset


def test_a_convolution_map_is_pooled_only_as_far_as_it_must_be_and_says_how():
    assert pool_size((7, 7, 48)) == 1  # 2,352 values: flattened
    assert pool_size((14, 14, 32)) == 2  # 6,272 -> 7 x 7 x 32 = 1,568
    assert pool_size((28, 28, 64)) == 4  # 50,176 -> 7 x 7 x 64 = 3,136 (3 would leave 10 x 10 x 64)
    act = np.arange(2 * 5 * 5 * 3, dtype=np.float32).reshape(2, 5, 5, 3)
    out = features(act, 2)  # 5 x 5 padded to 6 x 6 by repeating the edge, then 2 x 2 means
    assert out.shape == (2, 3 * 3 * 3)
    assert out.reshape(2, 3, 3, 3)[0, 0, 0, 0] == act[0, :2, :2, 0].mean()
    assert out.reshape(2, 3, 3, 3)[1, 2, 2, 1] == act[1, 4, 4, 1]  # a corner cell of edge copies
    assert "2 x 2 average-pooled to 7 x 7 x 32 = 1,568 values" in how((14, 14, 32), 2)
    assert how((10,), 1, logits=True).startswith("the logits")


def test_the_layers_followed_are_each_stage_each_dense_layer_and_the_logits():
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(4, 3, padding="same", name="a")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.ReLU(name="after_pool")(x)  # a stage ends at its last layer before the next convolution
    x = layers.Conv2D(4, 3, padding="same")(x)
    x = layers.Conv2D(4, 3, padding="same")(x)  # no pooling yet: no stage ends here
    x = layers.MaxPooling2D(name="second")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(8, activation="relu", name="hidden")(x)
    out = layers.Dense(3, activation="softmax", name="out")(x)
    taps = depth_taps(keras.Model(inputs, out))
    assert [(t.name, t.title, t.logits) for t in taps] == [
        ("after_pool", "conv stage 1", False), ("second", "conv stage 2", False), ("hidden", "hidden", False),
        ("out", "logits", True)]
    model = keras.Model(inputs, out, name="mine")
    # a user's file: the layers chosen by name, in the model's order, its softmax output as its logits
    assert [(t.name, t.title, t.logits) for t in named_taps(model, ("out", "a"))] == [
        ("a", "a", False), ("out", "logits", True)]
    with pytest.raises(ConfigError, match=r"--layers-name nope: mine has no such layer; its layers are a, "):
        named_taps(model, ("nope",))
    plain = keras.Model(inputs, layers.Dense(3, name="scores")(layers.Flatten()(inputs)))
    assert [(t.title, t.logits) for t in depth_taps(plain)] == [("logits", False)]  # no softmax: as it is


def test_the_framed_subset_is_class_balanced_and_fixed():
    labels = np.repeat(np.arange(4), [50, 30, 10, 10])
    rows = subset(labels, 20, seed=3)
    assert len(rows) == 20 and np.all(np.diff(rows) > 0)
    assert np.bincount(labels[rows]).tolist() == [5, 5, 5, 5]
    assert np.array_equal(rows, subset(labels, 20, seed=3)) and not np.array_equal(rows, subset(labels, 20, seed=4))
    assert np.array_equal(subset(labels, 500), np.arange(100))


def _layers(n: int = 240, seed: int = 0):
    """Three synthetic layers whose classes separate more with depth."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 4
    centres = rng.normal(0, 1, (4, 12))
    out = []
    for i, spread in enumerate((3.0, 1.0, 0.2)):
        X = (centres[labels] * 2 + rng.normal(0, spread, (n, 12))).astype(np.float32)
        out.append((f"layer {i}", X, f"{X.shape[1]} values"))
    return out, labels


def test_follow_measures_each_layer_frames_a_fixed_subset_and_anchors_every_image():
    layers, labels = _layers()
    config = LayersConfig(methods=("pca",), points=80, probe_points=200, probe_folds=2)
    rows, frames, anchors, table = follow(layers, labels, config)
    assert len(rows) == 80 and frames["pca"].shape == (3, 80, 2) and anchors.shape == (3, 240, 5)
    knn = [r["knn_accuracy"] for r in table]
    assert knn[0] < knn[2] and table[2]["probe_accuracy"] > 0.95 and table[0]["silhouette"] < table[2]["silhouette"]
    assert [r["title"] for r in table] == ["layer 0", "layer 1", "layer 2"]
    # a framed image's nearest framed image is itself
    assert np.array_equal(anchors[:, rows, 0], np.tile(np.arange(80), (3, 1)))
    # each frame is rotated onto the one before: closer to it than its own reflection would be
    for i in (1, 2):
        flipped = frames["pca"][i] * np.array([-1, 1], np.float32)
        assert np.abs(frames["pca"][i] - frames["pca"][i - 1]).mean() < np.abs(flipped - frames["pca"][i - 1]).mean()


def test_the_depth_view_places_any_image_and_refuses_a_folder_that_disagrees(explorer_cache, tmp_path):
    import shutil

    from core.store import ArtifactStore
    from explorer.depth import DepthView
    from explorer.store import ExplorerStore

    m = ExplorerStore(ArtifactStore(explorer_cache)).get("mnist").models["cnn"]
    depth = m.depth
    framed, other = int(depth.rows[3]), int(np.setdiff1d(np.arange(m.ds.n), depth.rows)[0])
    at = depth.placed("umap", np.array([framed, other]))
    f = depth.frames["umap"]
    np.testing.assert_array_equal(at[:, 0], f[:, 3])  # a framed image sits on its own point
    np.testing.assert_allclose(at[:, 1], f[np.arange(len(f))[:, None], depth.anchors[:, other]].mean(1), rtol=1e-6)
    assert m.ds.models["pixels"].depth is None  # the pixel k-NN has no layers
    broken = tmp_path / "layers"
    shutil.copytree(m.layers_dir, broken)
    np.save(broken / "anchors.npy", depth.anchors[:, :10])
    with pytest.raises(CacheError, match="anchors.npy"):
        DepthView.load(broken, ArtifactStore(tmp_path), m.ds.n)


def test_a_frame_keeps_the_spread_of_the_one_before_however_little_it_resembles_it():
    from embeddings.layers import rotated_onto

    rng = np.random.default_rng(0)
    reference = rng.normal(0, 5, (300, 2)).astype(np.float32)
    unrelated = rng.normal(0, 0.01, (300, 2)).astype(np.float32)  # least squares would shrink it to a dot
    out = rotated_onto(unrelated, reference)
    assert np.isclose(np.sqrt(((out - out.mean(0)) ** 2).sum()), np.sqrt(((reference - reference.mean(0)) ** 2).sum()),
                      rtol=1e-4)
    turned = reference @ np.array([[0, -1], [1, 0]], np.float32) * 3 + 7  # the same layout turned, grown, moved
    np.testing.assert_allclose(rotated_onto(turned, reference), reference, atol=1e-3)


def test_the_pixels_are_measured_once_per_sample_set_and_never_lent_to_another():
    from embeddings import layers as L

    mnist, labels = _layers(seed=1)
    other, _ = _layers(seed=2)
    config = LayersConfig(methods=("pca",), points=60, probe_points=120, probe_folds=2)
    L._PIXELS.clear()
    first = L.follow(mnist[:1], labels, config, pixels_key=("/cache/mnist/samples/k",))[3][0]
    again = L.follow(other[:1], labels, config, pixels_key=("/cache/mnist/samples/k",))[3][0]
    assert again == first  # the same sample set: measured once
    own = L.follow(other[:1], labels, config, pixels_key=("/cache/fashion-mnist/samples/k",))[3][0]
    assert own["knn_accuracy"] != first["knn_accuracy"] or own["silhouette"] != first["silhouette"]

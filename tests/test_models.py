"""The model ladder: pixel k-NN, dense network, and the user's own .keras models checked, seen and keyed by content."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError
from core.store import ArtifactStore
from tests.conftest import pipeline_main
from training.pixels import PixelsConfig, fit_pixels, flat, vote
from training.user_model import configure, load_checked, to_probabilities


def test_pixel_knn_votes_and_never_counts_a_training_image_for_itself():
    r = np.random.default_rng(0)
    train = r.normal(size=(200, 5)).astype(np.float32)
    labels = r.integers(0, 4, 200)
    cfg = PixelsConfig(k=1, weights="uniform")
    # queried with the training images themselves: 1-NN with self would be perfect
    with_self = vote(train, train, labels, 4, cfg).argmax(1)
    left_out = vote(train, train, labels, 4, cfg, self_rows=np.arange(200)).argmax(1)
    assert (with_self == labels).all()
    assert (left_out == labels).mean() < 0.5  # random labels: out of sample is near chance
    # a query next to a class-2 cluster gets class 2's full vote, whatever the weighting
    cluster = np.zeros((5, 5), np.float32) + 10
    q = np.full((1, 5), 10.1, np.float32)
    both = np.vstack([train, cluster])
    lab = np.concatenate([labels, [2] * 5])
    for weights in ("uniform", "distance"):
        p = vote(q, both, lab, 4, PixelsConfig(k=5, weights=weights))
        assert p.shape == (1, 4) and p[0, 2] == pytest.approx(1.0) and p.sum() == pytest.approx(1.0)


def test_pixel_model_folder_holds_test_metrics_and_probabilities(tiny_images, tmp_path):
    store = ArtifactStore(tmp_path)
    folder = fit_pixels(PixelsConfig(dataset="mnist"), tiny_images, store)
    m = store.read_json(folder / "metrics.json")
    proba = store.load_array(folder / "test-proba.npy")
    assert proba.shape == (200, 10) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert m["kind"] == "pixels" and m["test_accuracy"] == pytest.approx((proba.argmax(1) == tiny_images["y_test"]).mean())
    assert m["test_accuracy"] > 0.9  # the bars say the class
    assert fit_pixels(PixelsConfig(dataset="mnist"), tiny_images, store) == folder  # reused


def test_dense_network_trains_with_a_named_embedding_layer(tiny_images, tmp_path):
    from training.config import make_config
    from training.train import train

    cfg = make_config("mnist", "mlp", epochs=2, snapshot_samples=50)
    store = ArtifactStore(tmp_path)
    folder = train(cfg, tiny_images, store, progress=False)
    m = store.read_json(folder / "metrics.json")
    assert m["kind"] == "mlp" and m["test_accuracy"] > 0.5
    assert store.load_array(folder / "dynamics" / "embeddings.npy").shape[-1] == 128  # the last hidden layer
    import keras

    model = keras.models.load_model(folder / "model.keras", safe_mode=True, compile=False)
    assert [layer.name for layer in model.layers if layer.name == "embedding"] == ["embedding"]


# -- the user's own model ------------------------------------------------------------------
def _save(model, path: Path) -> Path:
    model.save(path)
    return path


@pytest.fixture(scope="module")
def user_models(tmp_path_factory) -> dict[str, Path]:
    import keras
    from keras import layers

    d = tmp_path_factory.mktemp("user-models")
    keras.utils.set_random_seed(0)
    out = {}
    i = keras.Input((28, 28))
    x = layers.Flatten()(i)
    x = layers.Dense(16, activation="relu", name="odd_features_7")(x)
    out["logits"] = _save(keras.Model(i, layers.Dense(10, name="scores")(x)), d / "logits.keras")
    i = keras.Input((28, 28, 1))
    x = layers.Rescaling(1 / 255.0, name="scale_me")(i)
    x = layers.Flatten()(x)
    x = layers.Dense(12, activation="relu", name="feats")(x)
    x = layers.Dense(10)(x)
    out["rescaling"] = _save(keras.Model(i, layers.Activation("softmax")(x)), d / "rescaling.keras")
    i = keras.Input((32, 32, 3))
    out["rgb"] = _save(keras.Model(i, layers.Dense(10, activation="softmax")(layers.Flatten()(i))), d / "rgb.keras")
    i = keras.Input((784,))
    out["five"] = _save(keras.Model(i, layers.Dense(5, activation="softmax")(i)), d / "five.keras")
    i = keras.Input((28, 28, 1))
    x = layers.GlobalAveragePooling2D()(layers.Conv2D(10, 3)(i))
    out["nohead"] = _save(keras.Model(i, layers.Softmax()(x)), d / "nohead.keras")
    (d / "corrupt.keras").write_bytes(out["logits"].read_bytes()[:300])
    out["corrupt"] = d / "corrupt.keras"
    (d / "weights.h5").write_bytes(b"\x89HDF")
    out["h5"] = d / "weights.h5"
    return out


@pytest.mark.parametrize("case,message", [
    ("rgb", "takes inputs of shape (32, 32, 3); expected 28x28 grayscale images"),
    ("five", "gives outputs of shape (5,); expected 10 class scores (one per MNIST class)"),
    ("nohead", "gets its class scores from a GlobalAveragePooling2D layer"),
    ("corrupt", "is not a .keras archive"),
])
def test_a_user_model_that_cannot_be_seen_is_refused_in_one_line(user_models, case, message):
    cfg = configure("mnist", case, user_models[case], None, "auto")
    with pytest.raises(ConfigError) as e:
        load_checked(user_models[case], cfg)
    text = str(e.value)
    assert text.startswith(f"--model {user_models[case]}") and message in text and "\n" not in text


def test_user_model_files_are_checked_before_tensorflow(user_models, tmp_path):
    with pytest.raises(ConfigError, match="no such file; expected a .keras model file"):
        configure("mnist", "x", tmp_path / "missing.keras", None, "auto")
    with pytest.raises(ConfigError, match=r"expected a .keras file, found \.h5"):
        configure("mnist", "x", user_models["h5"], None, "auto")
    with pytest.raises(ConfigError, match="has no layer named 'nope' .* its layers are"):
        load_checked(user_models["logits"], configure("mnist", "x", user_models["logits"], "nope", "auto"))


def test_what_is_found_out_about_a_user_model(user_models, tiny_images):
    from training.user_model import run

    logits = load_checked(user_models["logits"], configure("mnist", "a", user_models["logits"], None, "auto"))
    assert logits.layer == "input of scores" and logits.scale == pytest.approx(1 / 255)
    emb, proba, were_logits = run(logits, tiny_images["x_test"][:20])
    assert emb.shape == (20, 16) and were_logits and np.allclose(proba.sum(1), 1, atol=1e-5)
    named = load_checked(user_models["logits"], configure("mnist", "a", user_models["logits"], "odd_features_7", "1"))
    assert named.layer == "odd_features_7" and named.scale == 1.0
    scaled = load_checked(user_models["rescaling"], configure("mnist", "b", user_models["rescaling"], None, "auto"))
    assert scaled.scale == 1.0 and "rescales itself in 'scale_me'" in " ".join(scaled.notes)
    emb, proba, were_logits = run(scaled, tiny_images["x_test"][:20])
    assert emb.shape == (20, 12) and not were_logits  # the input of the Dense under the softmax
    p, was = to_probabilities(np.array([[0.2, 0.8], [1.0, 0.0]]))
    assert not was and np.allclose(p, [[0.2, 0.8], [1.0, 0.0]])


def _pipeline(*args):
    r = pipeline_main(*args)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


@pytest.mark.slow  # three real runs
def test_a_user_model_is_seen_beside_the_ladder_and_keyed_by_its_content(user_models, real_data_dir, tmp_path):
    import shutil

    mine = tmp_path / "mine.keras"
    shutil.copyfile(user_models["logits"], mine)
    args = ["all", "--no-serve", "--cache-dir", str(tmp_path / "cache"), "--data-dir", str(real_data_dir),
            "--dataset", "mnist", "--models", "pixels", "--train-subset", "1000", "--embed-subset", "300",
            "--tsne-iter", "100", "--model", str(mine), "--model-name", "my-net", "-q"]
    r = _pipeline(*args)
    cur = json.loads((tmp_path / "cache" / "current.json").read_text())["datasets"]["mnist"]
    assert list(cur["models"]) == ["pixels", "my-net"] and cur["models"]["my-net"]["kind"] == "keras"
    assert set(cur["models"]["my-net"]["projections"]) == {"pca", "tsne", "umap"}
    cache = tmp_path / "cache"
    assert np.load(cache / cur["models"]["my-net"]["embed"] / "space.npy").shape == (300, 16)
    metrics = json.loads((cache / cur["models"]["my-net"]["model"] / "metrics.json").read_text())
    assert any("softmax applied" in n for n in metrics["notes"]) and metrics["sha256"]
    assert "my-net" in r.stdout  # the models table
    # the Layers view follows its dense layers, named as the file names them, its last as the logits
    layers = json.loads((cache / cur["models"]["my-net"]["layers"] / "layers.json").read_text())["layers"]
    assert [x["title"] for x in layers] == ["pixels", "odd_features_7", "logits"]
    # the same file again: everything reused; a changed file: its folders only are new
    _pipeline(*args)
    again = json.loads((cache / "current.json").read_text())["datasets"]["mnist"]
    assert again == cur
    shutil.copyfile(user_models["rescaling"], mine)
    _pipeline(*args)
    changed = json.loads((cache / "current.json").read_text())["datasets"]["mnist"]
    assert changed["models"]["my-net"]["model"] != cur["models"]["my-net"]["model"]
    assert changed["models"]["pixels"] == cur["models"]["pixels"]


def test_flat_is_the_pixel_space():
    images = np.arange(2 * 28 * 28, dtype=np.int64).reshape(2, 28, 28) % 256
    X = flat(images.astype(np.uint8))
    assert X.shape == (2, 784) and X.dtype == np.float32 and X.max() <= 1.0


@pytest.mark.slow  # four real runs
def test_a_run_of_one_dataset_keeps_the_others_on_the_page(real_data_dir, tmp_path):
    """`--dataset fashion-mnist --model mine.keras` after a full run must not take MNIST off the page."""
    cache = tmp_path / "cache"
    tiny = ["all", "--no-serve", "--cache-dir", str(cache), "--data-dir", str(real_data_dir), "--models", "pixels",
            "--train-subset", "1000", "--embed-subset", "200", "--tsne-iter", "100", "--methods", "pca,tsne", "-q"]
    _pipeline(*tiny, "--dataset", "mnist")
    first = json.loads((cache / "current.json").read_text())
    _pipeline(*tiny, "--dataset", "fashion-mnist")
    both = json.loads((cache / "current.json").read_text())
    assert list(both["datasets"]) == ["mnist", "fashion-mnist"]
    assert both["datasets"]["mnist"] == first["datasets"]["mnist"]  # untouched, with its own run record
    assert both["datasets"]["mnist"]["run"]["data"]["dataset"] == ["mnist"]
    report = json.loads((cache / both["report"]).read_text())
    assert set(report["datasets"]) == {"mnist", "fashion-mnist"}
    # rerunning MNIST keeps its place; a report measured with another k cannot sit beside the new one
    _pipeline(*tiny, "--dataset", "mnist", "--seed", "1")
    again = json.loads((cache / "current.json").read_text())
    assert list(again["datasets"]) == ["mnist", "fashion-mnist"]
    assert again["datasets"]["mnist"]["samples"] == first["datasets"]["mnist"]["samples"]
    assert again["datasets"]["mnist"]["models"] != first["datasets"]["mnist"]["models"]  # seeded layouts
    _pipeline(*tiny, "--dataset", "mnist", "--report-k", "5")
    assert list(json.loads((cache / "current.json").read_text())["datasets"]) == ["mnist"]
    # verify --repair reruns each dataset's own recorded settings
    from pipeline.commands import recorded_runs

    runs = recorded_runs(again)
    assert sorted(r["data"]["dataset"] for r in runs) == [["fashion-mnist"], ["mnist"]]
    assert {r["seed"]["seed"] for r in runs} == {0, 1}

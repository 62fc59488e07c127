"""Training on a small subset: the saved model, the named embedding layer, metrics and snapshots."""
import json

import numpy as np
import pytest

from core.store import ArtifactStore
from core.errors import ConfigError
from training.config import EMBEDDING_LAYER, make_config
from training.train import balanced_subset, classification_metrics, train


def test_classification_metrics_known_answer():
    m = classification_metrics(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]), 3)
    assert m["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert m["test_accuracy"] == pytest.approx(0.6)
    assert m["precision"] == pytest.approx([0.5, 2 / 3, 0.0])
    assert m["recall"] == pytest.approx([0.5, 1.0, 0.0])


def test_balanced_subset():
    labels = np.repeat(np.arange(10), [50] * 9 + [3])
    idx = balanced_subset(labels, 40, seed=0)
    assert len(idx) == 40 and len(set(idx)) == 40 and (np.diff(idx) > 0).all()
    # Round-robin over classes: the 3-sample class gives all it has, the first class one extra.
    assert np.bincount(labels[idx], minlength=10).tolist() == [5] + [4] * 8 + [3]
    even = balanced_subset(np.repeat(np.arange(10), 50), 40, seed=0)
    assert np.bincount(np.repeat(np.arange(10), 50)[even]).tolist() == [4] * 10
    assert (balanced_subset(labels, 40, seed=0) == idx).all()


def test_config_validation_and_profiles():
    assert make_config("mnist", "strong").augment is True
    assert make_config("mnist", epochs=2).epochs == 2
    with pytest.raises(ConfigError, match=r"training epochs must be >= 1 \(got 0\)"):
        make_config("mnist", epochs=0)
    with pytest.raises(ConfigError, match="unknown training profile 'huge'"):
        make_config("mnist", "huge")


@pytest.mark.parametrize("profile", ["default", "strong", "mlp"])
def test_the_networks_take_the_datas_image_shape(profile):
    """The input shape is the data's (training/train.py passes its arrays'), never a fixed 28x28."""
    from training.model import build_network
    from training.train import to_input

    x = to_input(np.zeros((2, 20, 12, 3), np.uint8))  # RGB images of 20 x 12 pixels
    model = build_network(make_config("fashion-mnist", profile), 5, input_shape=x.shape[1:])
    assert model.input_shape == (None, 20, 12, 3) and model.output_shape == (None, 5)
    assert model(x).shape == (2, 5)
    assert to_input(np.zeros((2, 28, 28), np.uint8)).shape == (2, 28, 28, 1)  # grey gets its channel


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_images):
    store = ArtifactStore(tmp_path_factory.mktemp("cache"))
    cfg = make_config("mnist", epochs=2, train_subset=600, snapshot_samples=50, batch_size=64)
    return store, cfg, train(cfg, tiny_images, store, progress=False)


def test_training_smoke_run_saves_everything(trained, tiny_images):
    import keras

    store, cfg, folder = trained
    model = keras.models.load_model(folder / "model.keras", safe_mode=True, compile=False)
    assert model.get_layer(EMBEDDING_LAYER).output.shape[-1] == cfg.embedding_dim
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.5  # the bar patterns are easy; chance is 0.1
    assert np.array(metrics["confusion"]).sum() == len(tiny_images["y_test"])
    assert len(metrics["precision"]) == 10 and metrics["epochs"] == 2
    history = json.loads((folder / "history.json").read_text())
    assert len(history["val_accuracy"]) == 2 and len(history["seconds"]) == 2
    saved = json.loads((folder / "config.json").read_text())["config"]
    assert saved["epochs"] == 2 and saved["train_subset"] == 600


def test_snapshots_per_epoch(trained):
    _, cfg, folder = trained
    emb = np.load(folder / "dynamics" / "embeddings.npy", allow_pickle=False)
    proba = np.load(folder / "dynamics" / "proba.npy", allow_pickle=False)
    idx = np.load(folder / "dynamics" / "index.npy", allow_pickle=False)
    epochs = np.load(folder / "dynamics" / "epochs.npy")
    acc = np.load(folder / "dynamics" / "test_accuracy.npy")
    # untrained, fractions of the first epoch, then one per epoch
    assert epochs.tolist() == pytest.approx([*cfg.snapshot_fractions, 1, 2])
    frames = len(epochs)
    assert emb.shape == (frames, 50, cfg.embedding_dim) and proba.shape == (frames, 50, 10) and idx.shape == (50,)
    np.testing.assert_allclose(proba.sum(-1), 1.0, rtol=1e-4)
    assert not np.allclose(emb[0], emb[-1])  # training moved the embeddings
    history = json.loads((folder / "history.json").read_text())
    # at epoch ends the frame's accuracy is exactly the saved history's
    assert acc[-2:].tolist() == pytest.approx(history["val_accuracy"], abs=1e-6)
    assert acc[0] < 0.5 < acc[-1]  # untrained is near chance; trained is not


def test_cached_model_is_reused_and_config_change_retrains(trained, tiny_images):
    store, cfg, folder = trained
    mtime = (folder / "model.keras").stat().st_mtime_ns
    assert train(cfg, tiny_images, store, progress=False) == folder
    assert (folder / "model.keras").stat().st_mtime_ns == mtime
    other = make_config("mnist", epochs=1, train_subset=600, snapshot_samples=0, batch_size=64)
    folder2 = train(other, tiny_images, store, progress=False)
    assert folder2 != folder and not (folder2 / "dynamics").exists()

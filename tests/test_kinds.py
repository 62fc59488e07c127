"""Model kinds as a registry (training/kinds/): the built-in kinds' facts, and a kind of the test's own,
registered from here, going through every stage to ``current.json`` without an edit elsewhere."""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError
from training import kinds
from training.kinds import Kind, ModelSpec, Rung, SampleSet


# -- a kind of the test's own: a seeded random projection of the pixels -----------------------------------
@dataclasses.dataclass(frozen=True)
class RandomProjectionConfig:
    """What keys the model folder: the projection's width and seed, and the images its centroids come from."""

    dataset: str
    dims: int = 16
    seed: int = 0
    train_subset: int | None = None


def _projected(images: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    from training.pixels import flat

    return flat(images) @ matrix


def _centroid_proba(emb: np.ndarray, arrays: dict, matrix: np.ndarray, config: RandomProjectionConfig) -> np.ndarray:
    """Softmax of minus the squared distances to the class centroids of the projected training images."""
    n = config.train_subset or len(arrays["x_train"])
    train, labels = _projected(arrays["x_train"][:n], matrix), arrays["y_train"][:n]
    centroids = np.stack([train[labels == c].mean(0) for c in range(int(labels.max()) + 1)])
    d2 = ((emb[:, None, :] - centroids[None]) ** 2).sum(-1)
    z = -(d2 - d2.min(1, keepdims=True)) / (0.1 * d2.std())
    return (np.exp(z) / np.exp(z).sum(1, keepdims=True)).astype(np.float32)


def fit_random_projection(spec: ModelSpec, arrays: dict, store, progress: bool = True, step=None) -> Path:
    """Draw the matrix and measure the nearest-centroid classifier on the test images."""
    from core.store import write_json_atomic
    from training.train import classification_metrics

    config = spec.config

    def make(out: Path) -> None:
        side = int(np.prod(arrays["x_test"].shape[1:]))
        matrix = np.random.default_rng(config.seed).normal(size=(side, config.dims)).astype(np.float32)
        np.save(out / "projection.npy", matrix, allow_pickle=False)
        proba = _centroid_proba(_projected(arrays["x_test"], matrix), arrays, matrix, config)
        metrics = classification_metrics(arrays["y_test"], proba.argmax(1), proba.shape[1])
        write_json_atomic(out / "metrics.json", {**metrics, "kind": spec.kind, "train_seconds": 0.0})

    return store.build(config.dataset, "model", {"kind": spec.kind, **dataclasses.asdict(config)}, make)


def embed_random_projection(spec: ModelSpec, model_dir: Path, samples: SampleSet, store, progress=None):
    matrix = store.load_array(Path(model_dir) / "projection.npy")
    emb = _projected(samples.images, matrix)
    return emb, _centroid_proba(emb, samples.arrays, matrix, spec.config)


RANDOM_PROJECTION = Kind(
    name="randproj", title="Random projection", fit=fit_random_projection, embed=embed_random_projection,
    in_sample=True,
    words="drawing a {spec.config.dims}-D projection",
    rungs=(Rung("randproj", lambda dataset, train, seed: RandomProjectionConfig(
        dataset=dataset, seed=seed, train_subset=train.train_subset), default=False),))


@pytest.fixture
def random_projection():
    kinds.register(RANDOM_PROJECTION)
    yield RANDOM_PROJECTION
    kinds.unregister(RANDOM_PROJECTION.name)


# -- the registry -------------------------------------------------------------------------------------------
def test_the_built_in_kinds_and_the_ladder_they_offer():
    assert [k.name for k in kinds.table()] == ["pixels", "mlp", "cnn", "keras", "given"]
    assert kinds.rung_names() == ("pixels", "mlp", "cnn", "cnn-strong")
    assert kinds.default_rungs() == ("pixels", "mlp", "cnn")
    assert kinds.preferred(["pixels", "mlp", "cnn"]) == "cnn" and kinds.preferred(["pixels", "mlp"]) == "pixels"
    # what each kind declares, where the stages used to compare names
    assert [k.name for k in kinds.table() if k.in_sample] == ["mlp", "cnn", "keras"]
    assert [k.name for k in kinds.table() if k.snapshots] == ["mlp", "cnn"]
    assert [k.name for k in kinds.table() if k.pixel_space] == ["pixels"]
    assert [k.name for k in kinds.table() if k.fit_bar] == ["pixels", "given"]
    assert [k.name for k in kinds.table() if k.check] == ["keras"]
    assert [k.name for k in kinds.table() if not k.article] == ["keras"]
    with pytest.raises(ConfigError, match="unknown model kind 'rbf'; the kinds are pixels, mlp, cnn, keras, given"):
        kinds.get("rbf")


def test_a_rung_makes_the_spec_the_ladder_made_before():
    from training.config import TrainOptions
    from training.pixels import PixelsConfig

    train = TrainOptions(epochs=3, train_subset=500)
    pixels = kinds.spec("pixels", "mnist", train, 0)
    assert pixels == ModelSpec("pixels", "pixels", "Raw pixels (k-NN)", PixelsConfig(dataset="mnist", train_subset=500))
    cnn, strong, mlp = (kinds.spec(n, "mnist", train, 1) for n in ("cnn", "cnn-strong", "mlp"))
    assert (cnn.kind, cnn.title, cnn.config.profile, cnn.config.seed, cnn.config.epochs) == ("cnn", "CNN", "default", 1, 3)
    assert (strong.kind, strong.title, strong.config.profile) == ("cnn", "Strong CNN", "strong")
    assert (mlp.kind, mlp.title, mlp.config.architecture) == ("mlp", "Dense network", "mlp")
    assert kinds.spec("cnn", "mnist", TrainOptions(profile="strong"), 0).title == "CNN (strong profile)"
    # the words the explorer shows while each is fit
    assert kinds.get("cnn").fit_words(cnn) == "3 epochs"
    assert kinds.get("pixels").fit_words(pixels) == "k-NN vote of the training images"


@pytest.mark.slow  # trains two tiny networks
def test_the_trained_networks_open_for_the_layers_view_with_the_layers_their_architecture_has(tiny_images, tmp_path):
    """A network kind opens its saved model for the Layers view: each convolution stage, each dense layer and
    the logits are followed, and the logits are the ones the softmax turns into the model's output."""
    from core.store import ArtifactStore
    from embeddings.layers import activations, depth_taps
    from training.config import make_config
    from training.train import train

    store = ArtifactStore(tmp_path)
    expected = {"cnn": ["conv stage 1", "conv stage 2", "embedding", "logits"],
                "mlp": ["dense1", "embedding", "logits"]}
    for profile, kind in (("default", "cnn"), ("mlp", "mlp")):
        config = make_config("mnist", profile, epochs=1, snapshot_samples=0, batch_size=200)
        folder = train(config, tiny_images, store, progress=False)
        model, to_input = kinds.get(kind).network(ModelSpec(kind, kind, kind, config), folder, store)
        taps = depth_taps(model)
        assert [t.title for t in taps] == expected[kind] and [t.logits for t in taps][-1]
        images = tiny_images["x_test"][:40]
        acts = activations(model, to_input, taps, images, batch=16)  # batches that do not divide 40
        logits = acts[-1][0]
        soft = np.exp(logits - logits.max(1, keepdims=True))
        np.testing.assert_allclose(soft / soft.sum(1, keepdims=True),
                                   model.predict(to_input(images), verbose=0), atol=1e-5)
        assert all(len(X) == 40 and X.shape[1] <= 4096 for X, _ in acts)
    assert kinds.get("pixels").network is None and kinds.get("given").network is None


def test_how_words_name_a_model_comes_from_its_kind_through_current_json(tmp_path):
    """A user's model is called by its name ("my_net", not "the my_net"): its kind's article, written into
    current.json; a file written before it was gets the article its kind had."""
    from core.current import parse
    from explorer.store import DatasetView
    from pipeline.results import ModelRun

    spec = ModelSpec("my_net", "keras", "my_net", None)
    assert ModelRun(spec=spec, model=tmp_path, embed=tmp_path).entry(str).article == ""
    entry = {"kind": "keras", "title": "my_net", "model": "m", "embed": "e", "projections": {}}
    models = {"my_net": entry, "cnn": {**entry, "kind": "cnn", "title": "CNN"}}
    current = {"version": 3, "datasets": {"mnist": {"class_names": ["a", "b"], "n": 2, "samples": "s",
                                                    "models": models}}}
    read = parse(json.loads(json.dumps(current)), "current.json")["datasets"]["mnist"]["models"]
    assert (read["my_net"]["article"], read["cnn"]["article"]) == ("", "the")
    ds = DatasetView(name="mnist", title="MNIST", class_names=["a", "b"], sample_set="test", n=2, samples_dir=tmp_path)
    views = [ds.add_model(name, m["title"], m["kind"], tmp_path, tmp_path, {}, article=m["article"])
             for name, m in read.items()]
    assert [v.the_title for v in views] == ["my_net", "the CNN"]


def test_a_kind_registered_elsewhere_joins_the_command_line(random_projection):
    from pipeline.cli import build_parser, config_of

    config = config_of(build_parser().parse_args(["all", "--models", "pixels,randproj", "--train-subset", "500"]))
    assert config.models.models == ("pixels", "randproj")
    assert config.models.models[1] in kinds.rung_names() and "randproj" not in kinds.default_rungs()
    with pytest.raises(ConfigError, match=re.escape("--model-name 'randproj'")):
        config_of(build_parser().parse_args(["all", "--dataset", "mnist", "--model", "a.keras",
                                             "--model-name", "randproj"]))
    with pytest.raises(ValueError, match="a model kind called 'randproj' is registered already"):
        kinds.register(random_projection)
    with pytest.raises(ValueError, match="the rung 'cnn' is taken"):
        kinds.register(dataclasses.replace(random_projection, name="other", rungs=(Rung("cnn", lambda *a: None),)))


@pytest.mark.slow  # a tiny real run (the real data fetched once per session)
def test_a_kind_registered_elsewhere_goes_through_every_stage(random_projection, real_data_dir, tmp_path):
    """Registered from this module only: fit, embed, layouts, faithfulness, label issues, report, current.json."""
    from pipeline.config import RunConfig
    from pipeline.run import Pipeline

    pipe = Pipeline(RunConfig.from_sections({
        "where": {"cache_dir": tmp_path}, "data": {"dataset": ("mnist",), "data_dir": real_data_dir, "quiet": True},
        "models": {"models": ("pixels", "randproj")}, "train": {"train_subset": 1000},
        "embed": {"embed_subset": 300}, "project": {"methods": ("pca", "tsne"), "tsne_iter": 250}}))
    pipe.report()
    pipe.publish()
    current = json.loads((tmp_path / "current.json").read_text())["datasets"]["mnist"]
    assert list(current["models"]) == ["pixels", "randproj"] and current["default_model"] == "pixels"
    m = current["models"]["randproj"]
    assert (m["kind"], m["title"], m["article"], m["dynamics"]) == ("randproj", "Random projection", "the", None)
    assert set(m["projections"]) == set(m["faithfulness"]) == {"pca", "tsne"} and "pca" in m["projections3d"]
    for folder in (*m["projections"].values(), *m["faithfulness"].values(), m["issues"], m["model"], m["embed"]):
        assert (tmp_path / folder / "config.json").is_file()
    assert np.load(tmp_path / m["embed"] / "space.npy").shape == (300, 16)
    assert not (tmp_path / current["models"]["pixels"]["embed"] / "space.npy").exists()  # pixels: the images
    issues = json.loads((tmp_path / m["issues"] / "config.json").read_text())["config"]
    assert (issues["kind"], issues["oos"]) == ("randproj", "test")
    entry = json.loads(Path(pipe.report_path).read_text())["datasets"]["mnist"]["models"]["randproj"]
    assert entry["kind"] == "randproj" and entry["test_accuracy"] > 0.3  # nearest centroid in 16 random directions
    assert all("faithfulness" in entry["projections"][p] for p in ("pca", "tsne"))
    assert entry["label_issues"]["top"] and entry["label_issues"]["suspects"] >= 0

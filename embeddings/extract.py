"""Penultimate-layer activations, predictions and the shared k-NN graphs of one sample set."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np

from embeddings.knn import build_knn, check_data
from pipeline.cache import ArtifactStore, config_key, load_array
from pipeline.errors import ConfigError

log = logging.getLogger(__name__)

STAGE = "embed"
SPACES = ("cnn", "pixels")
SAMPLE_SETS = ("test", "all")


@dataclasses.dataclass(frozen=True)
class EmbedConfig:
    """Which samples to embed and how many neighbours the shared graph keeps."""

    sample_set: str = "test"   # "test": the 10,000 test images; "all": 60,000 train + 10,000 test
    knn_k: int = 90            # 3 x t-SNE's default perplexity of 30; UMAP and the metrics use fewer
    knn_method: str = "auto"   # "auto", "exact" or "nndescent" (see embeddings.knn.build_knn)
    subset: int | None = None  # first N samples of the set (tests and quick looks)
    seed: int = 0

    def __post_init__(self) -> None:
        if self.sample_set not in SAMPLE_SETS:
            raise ConfigError(f"sample_set must be one of {', '.join(SAMPLE_SETS)} (got {self.sample_set!r})")
        if self.knn_k < 2:
            raise ConfigError(f"knn_k must be >= 2 (got {self.knn_k})")
        if self.subset is not None and self.subset < 3:
            raise ConfigError(f"embed subset must be >= 3 samples (got {self.subset})")


def select_samples(arrays: dict, config: EmbedConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sample ids, images, labels) of the configured set; ids 60000+ are test images in "all"."""
    if config.sample_set == "test":
        ids = np.arange(len(arrays["x_test"]))
        images, labels = arrays["x_test"], arrays["y_test"]
    else:
        ids = np.arange(len(arrays["x_train"]) + len(arrays["x_test"]))
        images = np.concatenate([arrays["x_train"], arrays["x_test"]])
        labels = np.concatenate([arrays["y_train"], arrays["y_test"]])
    if config.subset:
        ids, images, labels = ids[: config.subset], images[: config.subset], labels[: config.subset]
    return ids.astype(np.int64), images, labels


def space_matrix(folder: Path, space: str, images: np.ndarray | None = None) -> np.ndarray:
    """The high-dimensional matrix of ``space`` for the samples of an embed folder."""
    if space == "cnn":
        return load_array(folder / "space-cnn.npy")
    if space == "pixels":
        images = load_array(folder / "images.npy") if images is None else images
        return images.reshape(len(images), -1).astype(np.float32) / 255.0
    raise ConfigError(f"unknown embedding space {space!r}; choose one of {', '.join(SPACES)}")


def embed(dataset: str, model_dir: Path, model_key: str, arrays: dict, config: EmbedConfig,
          store: ArtifactStore) -> tuple[Path, str]:
    """Compute (or reuse) the embed folder: activations, softmax, images and k-NN graphs.

    Returns
    -------
    (folder, key)
    """
    key = config_key(config, model_key)
    if store.exists(dataset, STAGE, key):
        log.info("%s: reusing embeddings %s", dataset, store.path(dataset, STAGE, key))
        return store.path(dataset, STAGE, key), key
    with store.lock(f"{dataset}-{STAGE}-{key}"):
        if not store.exists(dataset, STAGE, key):
            with store.writing(dataset, STAGE, key, {**dataclasses.asdict(config), "model": model_key}) as out:
                _embed(model_dir, arrays, config, out)
    return store.path(dataset, STAGE, key), key


def _embed(model_dir: Path, arrays: dict, config: EmbedConfig, out: Path) -> None:
    import keras

    from training.model import embedding_model
    from training.train import to_input

    ids, images, labels = select_samples(arrays, config)
    # safe_mode refuses lambda layers and other deserialised code in the model file.
    model = keras.models.load_model(model_dir / "model.keras", safe_mode=True, compile=False)
    emb, proba = embedding_model(model).predict(to_input(images), batch_size=1000, verbose=0)
    emb = check_data(emb, f"CNN embeddings from {model_dir / 'model.keras'}")
    np.save(out / "index.npy", ids, allow_pickle=False)
    np.save(out / "images.npy", np.ascontiguousarray(images, dtype=np.uint8), allow_pickle=False)
    np.save(out / "labels.npy", labels.astype(np.uint8), allow_pickle=False)
    np.save(out / "pred.npy", proba.argmax(1).astype(np.uint8), allow_pickle=False)
    np.save(out / "proba.npy", proba.astype(np.float32), allow_pickle=False)
    np.save(out / "space-cnn.npy", emb.astype(np.float32), allow_pickle=False)
    k = min(config.knn_k, len(ids) - 1)
    for space in SPACES:
        X = emb if space == "cnn" else space_matrix(out, space, images)
        graph = build_knn(X, k, method=config.knn_method, seed=config.seed)
        log.info("k-NN graph of %s (%d x %d, k=%d, %s) in %.1f s", space, *X.shape, k, graph.method, graph.seconds)
        np.save(out / f"knn-{space}-indices.npy", graph.indices, allow_pickle=False)
        np.save(out / f"knn-{space}-distances.npy", graph.distances, allow_pickle=False)


def load_knn(folder: Path, space: str):
    from embeddings.knn import KnnGraph

    return KnnGraph(load_array(folder / f"knn-{space}-indices.npy"),
                    load_array(folder / f"knn-{space}-distances.npy"))

"""Penultimate-layer activations, predictions and the shared k-NN graphs of one sample set."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np

from core.errors import ConfigError
from core.options import option, validate
from core.store import ArtifactStore, load_array
from core.vocab import SAMPLE_SETS, SPACES
from embeddings.knn import build_knn, check_data

log = logging.getLogger(__name__)

STAGE = "embed"
KNN_METHODS = ("auto", "exact", "annoy", "nndescent")


@dataclasses.dataclass(frozen=True)
class EmbedConfig:
    """Which samples to embed, and the shared k-NN graph built of them."""

    sample_set: str = option("test", "project the 10,000 test images or all 70,000 (train + test)",
                             choices=SAMPLE_SETS)
    embed_subset: int | None = option(None, "only the first N samples of the set", lo=3)
    # Neighbours the shared graph keeps: set by the run config from its largest consumer
    # (t-SNE's 3 x perplexity, UMAP's n_neighbors, the report's k); see pipeline.config.
    knn_k: int = option(90, "neighbours per point in the shared graph", lo=2, derived=True)
    knn_method: str = option("auto", "k-NN search: exact below 1e11 distance terms, Annoy above",
                             choices=KNN_METHODS)
    seed: int = option(0, "seed of the approximate k-NN search", derived=True)

    def __post_init__(self) -> None:
        validate(self, "embed")


def select_samples(arrays: dict, config: EmbedConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sample ids, images, labels) of the configured set; ids 60000+ are test images in "all"."""
    if config.sample_set == "test":
        ids = np.arange(len(arrays["x_test"]))
        images, labels = arrays["x_test"], arrays["y_test"]
    else:
        ids = np.arange(len(arrays["x_train"]) + len(arrays["x_test"]))
        images = np.concatenate([arrays["x_train"], arrays["x_test"]])
        labels = np.concatenate([arrays["y_train"], arrays["y_test"]])
    if config.embed_subset:
        n = config.embed_subset
        ids, images, labels = ids[:n], images[:n], labels[:n]
    return ids.astype(np.int64), images, labels


def space_matrix(folder: Path, space: str, images: np.ndarray | None = None,
                 store: ArtifactStore | None = None) -> np.ndarray:
    """The high-dimensional matrix of ``space`` for the samples of an embed folder
    (verified against the folder's record when ``store`` is given)."""
    load = store.load_array if store is not None else load_array
    if space == "cnn":
        return load(folder / "space-cnn.npy")
    if space == "pixels":
        images = load(folder / "images.npy") if images is None else images
        return images.reshape(len(images), -1).astype(np.float32) / 255.0
    raise ConfigError(f"unknown embedding space {space!r}; choose one of {', '.join(SPACES)}")


def embed(dataset: str, model_dir: Path, model_key: str, arrays: dict, config: EmbedConfig,
          store: ArtifactStore) -> tuple[Path, str]:
    """Compute (or reuse) the embed folder: activations, softmax, images and k-NN graphs.

    Returns
    -------
    (folder, key)
    """
    folder = store.build(dataset, STAGE, config, lambda out: _embed(store, model_dir, arrays, config, out),
                         upstream=(model_key,))
    return folder, folder.name


def _embed(store: ArtifactStore, model_dir: Path, arrays: dict, config: EmbedConfig, out: Path) -> None:
    import keras

    from training.model import embedding_model
    from training.train import to_input

    ids, images, labels = select_samples(arrays, config)
    # safe_mode refuses lambda layers and other deserialised code in the model file.
    model = keras.models.load_model(store.check(model_dir / "model.keras"), safe_mode=True, compile=False)
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


def load_knn(folder: Path, space: str, store: ArtifactStore | None = None):
    """The shared k-NN graph of ``space`` (verified against the folder's record when ``store`` is given)."""
    from embeddings.knn import KnnGraph

    load = store.load_array if store is not None else load_array
    return KnnGraph(load(folder / f"knn-{space}-indices.npy"), load(folder / f"knn-{space}-distances.npy"))

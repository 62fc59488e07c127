"""The sample set, and each model's view of it: predictions, embedding and the shared k-NN graph."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Callable

import numpy as np

from core.options import option, validate
from core.store import ArtifactStore, load_array
from core.vocab import SAMPLE_SETS
from embeddings.knn import build_knn, check_data
from training import kinds

log = logging.getLogger(__name__)

STAGE = "embed"
SAMPLES_STAGE = "samples"
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
    """(sample ids, images, labels) of the configured set; in "all" the training images come first,
    the test images' ids start at ``len(arrays["x_train"])``."""
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


def samples(dataset: str, arrays: dict, config: EmbedConfig, store: ArtifactStore,
            upstream: tuple[str, ...] = ()) -> Path:
    """Compute (or reuse) the samples folder: ids, images and labels of the configured set
    (``upstream``: the import folder's key, for a dataset of the user's own). Its record keeps the
    dataset's number of training images beside the key: with ``"all"`` the ids below it are training
    images."""
    def make(out: Path) -> dict:
        ids, images, labels = select_samples(arrays, config)
        np.save(out / "index.npy", ids, allow_pickle=False)
        np.save(out / "images.npy", np.ascontiguousarray(images, dtype=np.uint8), allow_pickle=False)
        np.save(out / "labels.npy", labels.astype(np.uint8), allow_pickle=False)
        return {"n_train": len(arrays["x_train"])}

    return store.build(dataset, SAMPLES_STAGE, {"sample_set": config.sample_set, "subset": config.embed_subset}, make,
                       upstream=upstream)


def space_matrix(embed_dir: Path, samples_dir: Path, kind: str, store: ArtifactStore | None = None) -> np.ndarray:
    """The high-dimensional matrix a model of ``kind`` sees the samples in: its embedding, or
    for a kind whose space is the pixels the images scaled to [0, 1] (verified against the
    folders' records when ``store`` is given)."""
    load = store.load_array if store is not None else load_array
    if kinds.get(kind).pixel_space:
        from training.pixels import flat

        return flat(load(Path(samples_dir) / "images.npy"))
    return load(Path(embed_dir) / "space.npy")


def embed(dataset: str, spec, model_dir: Path, model_key: str, samples_dir: Path, arrays: dict,
          config: EmbedConfig, store: ArtifactStore, progress: Callable[[int, int], None] | None = None) -> Path:
    """Compute (or reuse) one model's embed folder: its predictions, embedding and k-NN graph.

    ``spec`` is the model's :class:`training.kinds.ModelSpec`, embedded by its kind;
    ``progress(done, total)`` follows what the kind counts (the pixel k-NN's votes for training rows).
    """
    record = {**dataclasses.asdict(config), "kind": spec.kind}
    return store.build(dataset, STAGE, record,
                       lambda out: _embed(store, spec, model_dir, samples_dir, arrays, config, out, progress),
                       upstream=(model_key, Path(samples_dir).name))


def _embed(store: ArtifactStore, spec, model_dir: Path, samples_dir: Path, arrays: dict, config: EmbedConfig,
           out: Path, progress=None) -> None:
    ids = store.load_array(samples_dir / "index.npy")
    images = store.load_array(samples_dir / "images.npy")
    kind = kinds.get(spec.kind)
    emb, proba = kind.embed(spec, model_dir, kinds.SampleSet(ids, images, arrays, config.sample_set), store,
                            progress=progress)
    if emb is None and not kind.pixel_space:
        raise ValueError(f"{spec.name}: the {kind.name} kind gave no embedding, and its space is not the pixels")
    if emb is not None:
        emb = check_data(np.asarray(emb, np.float32).reshape(len(ids), -1),
                         f"{spec.name} embeddings from {model_dir / 'model.keras'}")
        np.save(out / "space.npy", emb, allow_pickle=False)
    np.save(out / "pred.npy", proba.argmax(1).astype(np.uint8), allow_pickle=False)
    np.save(out / "proba.npy", proba.astype(np.float32), allow_pickle=False)
    X = emb if emb is not None else space_matrix(out, samples_dir, spec.kind, store)
    k = min(config.knn_k, len(ids) - 1)
    graph = build_knn(X, k, method=config.knn_method, seed=config.seed)
    log.info("k-NN graph of %s (%d x %d, k=%d, %s) in %.1f s", spec.name, *X.shape, k, graph.method, graph.seconds)
    np.save(out / "knn-indices.npy", graph.indices, allow_pickle=False)
    np.save(out / "knn-distances.npy", graph.distances, allow_pickle=False)


def load_knn(folder: Path, store: ArtifactStore | None = None):
    """A model's shared k-NN graph (verified against the folder's record when ``store`` is given)."""
    from embeddings.knn import KnnGraph

    load = store.load_array if store is not None else load_array
    return KnnGraph(load(folder / "knn-indices.npy"), load(folder / "knn-distances.npy"))

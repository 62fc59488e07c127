"""The first rung of the ladder: a k-nearest-neighbour classifier on the raw pixels, no training.

Each image takes the distance-weighted vote of its ``k`` nearest training images
(euclidean, pixels scaled to [0, 1]); a training image never votes for itself, so every
prediction is out of sample. Its "model" folder holds the test metrics and the test
probabilities; the embed stage reuses them for the test rows.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Callable

import numpy as np

from core.options import option, validate
from core.store import ArtifactStore, save_npy_atomic, write_json_atomic
from training import datasets as facts
from training.datasets import Arrays

log = logging.getLogger(__name__)

STAGE = "model"
CHUNK = 1000  # query rows per distance block: 1000 x 60000 float32 = 240 MB


@dataclasses.dataclass(frozen=True)
class PixelsConfig:
    """The k-NN classifier on raw pixels (its cache key)."""

    dataset: str = "mnist"
    k: int = option(5, "neighbours that vote", lo=1)
    weights: str = option("distance", "vote weights", choices=("distance", "uniform"))
    train_subset: int | None = option(None, "first N training images", lo=10, hi=60000)
    #: the import folder's key, for a dataset of the user's own (its content keys this model)
    source: str | None = None
    #: key of the corrected training labels it votes with (core.corrections.fixes_digest; "" for none)
    label_fixes: str = ""

    def __post_init__(self) -> None:
        validate(self, "pixels classifier")


def flat(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) -> float32 (n, 784) in [0, 1]: the pixel space (any image shape: flattened)."""
    return images.reshape(len(images), int(np.prod(images.shape[1:]))).astype(np.float32) / 255.0


def vote(queries: np.ndarray, train: np.ndarray, train_labels: np.ndarray, n_classes: int, config: PixelsConfig,
         self_rows: np.ndarray | None = None, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """float32 (len(queries), n_classes) vote shares of each query's ``k`` nearest training images.

    ``self_rows[i]`` is the training row query ``i`` is (or -1): it is left out of its own vote.
    """
    sq_train = np.einsum("ij,ij->i", train, train)
    proba = np.zeros((len(queries), n_classes), np.float32)
    k = min(config.k, len(train) - 1)
    for s in range(0, len(queries), CHUNK):
        q = queries[s:s + CHUNK]
        d2 = np.einsum("ij,ij->i", q, q)[:, None] - 2 * (q @ train.T) + sq_train[None, :]
        if self_rows is not None:
            own = self_rows[s:s + CHUNK]
            hit = own >= 0
            d2[np.flatnonzero(hit), own[hit]] = np.inf
        nb = np.argpartition(d2, k, axis=1)[:, :k]
        dist = np.sqrt(np.maximum(np.take_along_axis(d2, nb, 1), 0))
        w = 1.0 / np.maximum(dist, 1e-6) if config.weights == "distance" else np.ones_like(dist)
        rows = np.repeat(np.arange(len(q)), k)
        np.add.at(proba[s:s + CHUNK], (rows, train_labels[nb].ravel()), w.ravel())
        if progress:
            progress(min(s + CHUNK, len(queries)), len(queries))
    return proba / proba.sum(1, keepdims=True)


def training_images(arrays: Arrays, config: PixelsConfig) -> tuple[np.ndarray, np.ndarray]:
    x, y = arrays["x_train"], arrays["y_train"]
    if config.train_subset:
        x, y = x[: config.train_subset], y[: config.train_subset]
    return flat(x), y.astype(np.int64)


def fit_pixels(config: PixelsConfig, arrays: Arrays, store: ArtifactStore,
               progress: Callable[[int, int], None] | None = None) -> Path:
    """Evaluate (or reuse) the pixel k-NN classifier on the test set; returns its folder."""
    from training.train import classification_metrics

    def make(out: Path) -> None:
        info = facts.get(config.dataset)
        t0 = time.perf_counter()
        train, labels = training_images(arrays, config)
        test = flat(arrays["x_test"])
        # an imported dataset has no training images: each sample takes the vote of the others
        loo = len(train) == 0
        if loo:
            train, labels = test, arrays["y_test"].astype(np.int64)
        proba = vote(test, train, labels, len(info.class_names), config, progress=progress,
                     self_rows=np.arange(len(test)) if loo else None)
        seconds = time.perf_counter() - t0
        metrics = classification_metrics(arrays["y_test"], proba.argmax(1), len(info.class_names))
        metrics.update(kind="pixels", class_names=list(info.class_names), train_seconds=seconds, k=config.k,
                       weights=config.weights, train_images=0 if loo else int(len(train)), leave_one_out=loo)
        save_npy_atomic(out / "test-proba.npy", proba)
        write_json_atomic(out / "metrics.json", metrics)
        log.info("%s: pixel %d-NN test accuracy %.4f in %.0f s", config.dataset, config.k,
                 metrics["test_accuracy"], seconds)

    record = {"kind": "pixels", **dataclasses.asdict(config)}
    if record["source"] is None:  # built-in datasets keep the key they had before imports existed
        del record["source"]
    if not record["label_fixes"]:  # the dataset's own labels: the key it had before corrections existed
        del record["label_fixes"]
    return store.build(config.dataset, STAGE, record, make)

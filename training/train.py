"""Fit a network (CNN or dense) on one dataset and save the model, its history, test metrics and per-epoch snapshots."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

import numpy as np

from core.store import ArtifactStore, save_npy_atomic, write_json_atomic
from training import datasets as facts
from training.config import TrainConfig
from training.datasets import Arrays

log = logging.getLogger(__name__)

STAGE = "model"


def balanced_subset(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted indices of ``n`` samples, as equal per class as the data allows (seeded)."""
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    per = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    take, i = [], 0
    while len(take) < min(n, len(labels)):
        for p in per:
            if i < len(p) and len(take) < n:
                take.append(p[i])
        i += 1
    return np.sort(np.asarray(take, dtype=np.int64))


def to_input(images: np.ndarray) -> np.ndarray:
    """uint8 (n, h, w) grey or (n, h, w, 3) RGB -> float32 (n, h, w, channels) in [0, 1]: the networks' input."""
    x = images.astype(np.float32) / 255.0
    return x if x.ndim == 4 else x[..., None]


def _seed_everything(seed: int) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    # Same seed, same weights: needed for "interrupted run == uninterrupted run".
    tf.config.experimental.enable_op_determinism()


def train(config: TrainConfig, arrays: Arrays, store: ArtifactStore, progress: bool = True,
          on_epoch: Callable[[dict], None] | None = None) -> Path:
    """Train (or reuse) the model for ``config`` and return its artifact directory.

    Saved in ``<cache>/<dataset>/model/<key>/``: ``model.keras``, ``history.json``,
    ``metrics.json`` (accuracy, per-class precision/recall, confusion matrix) and
    ``dynamics/`` (per-epoch embeddings and predictions of a fixed class-balanced
    test subset, when ``snapshot_samples > 0``).
    """
    return store.build(config.dataset, STAGE, config.record(), lambda out: _fit(config, arrays, out, progress, on_epoch))


def _fit(config: TrainConfig, arrays: Arrays, out: Path, progress: bool, on_epoch=None) -> None:
    import keras

    from training.model import build_network, embedding_model
    from training.callbacks import EpochProgress, Snapshot

    _seed_everything(config.seed)
    info = facts.get(config.dataset)
    x_train, y_train = arrays["x_train"], arrays["y_train"]
    if config.train_subset:
        x_train, y_train = x_train[: config.train_subset], y_train[: config.train_subset]
    x_test, y_test = arrays["x_test"], arrays["y_test"]
    xtr, xte = to_input(x_train), to_input(x_test)

    model = build_network(config, n_classes=len(info.class_names), input_shape=xtr.shape[1:])
    steps = config.epochs * int(np.ceil(len(xtr) / config.batch_size))
    warmup = int(steps * config.warmup_fraction)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else config.learning_rate, decay_steps=steps - warmup,
        warmup_target=config.learning_rate if warmup else None, warmup_steps=warmup)
    # class ids, not one-hot rows, unless label smoothing needs the rows (the same loss either way)
    sparse = not config.label_smoothing
    loss = (keras.losses.SparseCategoricalCrossentropy() if sparse
            else keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing))
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, metrics=["accuracy"])

    snapshot = None
    if config.snapshot_samples:
        snap_idx = balanced_subset(y_test, config.snapshot_samples, config.seed)
        snapshot = Snapshot(embedding_model(model), xte, snap_idx, y_test, config.snapshot_fractions,
                            out / "dynamics")
        save_npy_atomic(out / "dynamics" / "index.npy", snap_idx)

    callbacks = [EpochProgress(config.dataset, config.epochs, enabled=progress, on_epoch=on_epoch)]
    if snapshot is not None:
        callbacks.append(snapshot)
    n_classes = len(info.class_names)
    target = (lambda y: y.astype(np.int64)) if sparse else (lambda y: keras.utils.to_categorical(y, n_classes))
    t0 = time.perf_counter()
    hist = model.fit(xtr, target(y_train), batch_size=config.batch_size, epochs=config.epochs, verbose=0,
                     shuffle=True, validation_data=(xte, target(y_test)), validation_batch_size=1000,
                     callbacks=callbacks)
    train_seconds = time.perf_counter() - t0

    proba = model.predict(xte, batch_size=1000, verbose=0)
    pred = proba.argmax(1)
    history = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
    history["seconds"] = callbacks[0].epoch_seconds
    history["images_per_second"] = [len(xtr) / s for s in callbacks[0].epoch_seconds]
    metrics = classification_metrics(y_test, pred, n_classes)
    metrics.update(kind=config.architecture, test_loss=float(history["val_loss"][-1]), class_names=list(info.class_names),
                   train_seconds=train_seconds, epochs=config.epochs, train_images=int(len(xtr)))
    model.save(out / "model.keras")
    write_json_atomic(out / "history.json", history)
    write_json_atomic(out / "metrics.json", metrics)
    if snapshot is not None:
        snapshot.finish(y_test[snap_idx])
    log.info("%s: test accuracy %.4f after %d epochs in %.0f s", config.dataset,
             metrics["test_accuracy"], config.epochs, train_seconds)


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict:
    """Accuracy, per-class precision and recall, and the confusion matrix (rows = true)."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true.astype(np.int64), y_pred.astype(np.int64)), 1)
    tp = np.diag(cm).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(cm.sum(0) > 0, tp / cm.sum(0), 0.0)
        recall = np.where(cm.sum(1) > 0, tp / cm.sum(1), 0.0)
    return {"test_accuracy": float(tp.sum() / cm.sum()), "precision": precision.tolist(),
            "recall": recall.tolist(), "confusion": cm.tolist()}

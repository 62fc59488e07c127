"""Keras callbacks: a progress bar over epochs, and per-epoch embedding snapshots."""
from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np
from tqdm.auto import tqdm


class EpochProgress(keras.callbacks.Callback):
    """One tqdm bar per training run, advanced per batch, with the epoch's metrics."""

    def __init__(self, name: str, epochs: int, enabled: bool = True):
        super().__init__()
        self.name, self.epochs, self.enabled = name, epochs, enabled
        self.epoch_seconds: list[float] = []
        self.bar = None

    def on_train_begin(self, logs=None):
        steps = self.params.get("steps") or 0
        self.bar = tqdm(total=self.epochs * steps, desc=f"train {self.name}", unit="batch", mininterval=1.0,
                        disable=not self.enabled, dynamic_ncols=True)

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._t)
        logs = logs or {}
        self.bar.set_postfix(epoch=f"{epoch + 1}/{self.epochs}", acc=f"{logs.get('accuracy', 0):.4f}",
                             test_acc=f"{logs.get('val_accuracy', 0):.4f}")
        if not self.enabled:
            return
        tqdm.write(f"  {self.name} epoch {epoch + 1}/{self.epochs}: train acc {logs.get('accuracy', 0):.4f}, "
                   f"test acc {logs.get('val_accuracy', 0):.4f} ({self.epoch_seconds[-1]:.0f} s)")

    def on_train_end(self, logs=None):
        self.bar.close()


class Snapshot(keras.callbacks.Callback):
    """After each epoch, embed a fixed test subset and keep its softmax (training dynamics)."""

    def __init__(self, embedder: keras.Model, x: np.ndarray, out: Path):
        super().__init__()
        self.embedder, self.x, self.out = embedder, x, Path(out)
        self.embeddings: list[np.ndarray] = []
        self.probas: list[np.ndarray] = []

    def on_epoch_end(self, epoch, logs=None):
        emb, proba = self.embedder.predict(self.x, batch_size=1000, verbose=0)
        self.embeddings.append(emb.astype(np.float32))
        self.probas.append(proba.astype(np.float32))

    def finish(self, labels: np.ndarray) -> None:
        """Write ``embeddings.npy`` (epochs, n, d), ``proba.npy`` (epochs, n, 10), ``labels.npy``."""
        self.out.mkdir(parents=True, exist_ok=True)
        np.save(self.out / "embeddings.npy", np.stack(self.embeddings), allow_pickle=False)
        np.save(self.out / "proba.npy", np.stack(self.probas), allow_pickle=False)
        np.save(self.out / "labels.npy", labels.astype(np.uint8), allow_pickle=False)

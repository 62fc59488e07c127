"""Keras callbacks: a progress bar over epochs, and per-epoch embedding snapshots."""
from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np
from tqdm.auto import tqdm


class EpochProgress(keras.callbacks.Callback):
    """One tqdm bar per training run, advanced per batch, with the epoch's metrics.

    ``on_epoch`` gets each finished epoch as ``{"epoch", "of", "seconds", "loss", "accuracy", "val_loss",
    "val_accuracy"}`` (a running explorer shows them while the network trains).
    """

    def __init__(self, name: str, epochs: int, enabled: bool = True, on_epoch=None):
        super().__init__()
        self.name, self.epochs, self.enabled, self.on_epoch = name, epochs, enabled, on_epoch
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
        if self.on_epoch is not None:
            self.on_epoch({"epoch": epoch + 1, "of": self.epochs, "seconds": self.epoch_seconds[-1],
                           **{k: float(logs[k]) for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k in logs}})
        if not self.enabled:
            return
        tqdm.write(f"  {self.name} epoch {epoch + 1}/{self.epochs}: train acc {logs.get('accuracy', 0):.4f}, "
                   f"test acc {logs.get('val_accuracy', 0):.4f} ({self.epoch_seconds[-1]:.0f} s)")

    def on_train_end(self, logs=None):
        self.bar.close()


class Snapshot(keras.callbacks.Callback):
    """Embed a fixed test subset at chosen moments of training (training dynamics).

    Snapshots are taken before training (fraction 0.0), at fractions of the first
    epoch, and after every epoch. Each records the subset's embeddings and softmax and
    an accuracy: at epoch ends the whole test set's (the fit's own ``val_accuracy``, so it
    equals the saved history); before training and inside the first epoch the subset's own
    (its class-balanced images, ``snapshot_samples`` of the test set): a pass over all 10,000
    test images at each of those moments took about a second (issue 23).
    """

    def __init__(self, embedder: keras.Model, x: np.ndarray, subset: np.ndarray, y_test: np.ndarray,
                 fractions: tuple[float, ...], out: Path):
        super().__init__()
        self.embedder, self.x, self.y = embedder, x[subset], y_test[subset]
        self.fractions = sorted(f for f in fractions if 0 <= f < 1)
        self.out = Path(out)
        self.epochs: list[float] = []
        self.accuracy: list[float] = []
        self.embeddings: list[np.ndarray] = []
        self.probas: list[np.ndarray] = []
        self._at_batch: dict[int, float] = {}

    def _take(self, epoch: float, accuracy: float | None) -> None:
        emb, proba = self.embedder.predict(self.x, batch_size=1000, verbose=0)
        if accuracy is None:
            accuracy = float((proba.argmax(1) == self.y).mean())
        self.epochs.append(float(epoch))
        self.accuracy.append(float(accuracy))
        self.embeddings.append(emb.astype(np.float32))
        self.probas.append(proba.astype(np.float32))

    def on_train_begin(self, logs=None):
        steps = self.params.get("steps") or 0
        self._at_batch = {max(1, round(f * steps)): f for f in self.fractions if f > 0}
        if 0.0 in self.fractions:
            self._take(0.0, None)

    def on_train_batch_end(self, batch, logs=None):
        if not self.epochs or self.epochs[-1] < 1:  # only inside the first epoch
            f = self._at_batch.get(batch + 1)
            if f is not None and (not self.epochs or self.epochs[-1] < f):
                self._take(f, None)

    def on_epoch_end(self, epoch, logs=None):
        self._take(epoch + 1, (logs or {}).get("val_accuracy"))

    def finish(self, labels: np.ndarray) -> None:
        """Write ``embeddings.npy`` (frames, n, d), ``proba.npy`` (frames, n, 10), ``labels.npy``,
        ``epochs.npy`` (frames,: 0 = untrained, fractions, then 1, 2, ...) and ``test_accuracy.npy``."""
        self.out.mkdir(parents=True, exist_ok=True)
        np.save(self.out / "embeddings.npy", np.stack(self.embeddings), allow_pickle=False)
        np.save(self.out / "proba.npy", np.stack(self.probas), allow_pickle=False)
        np.save(self.out / "labels.npy", labels.astype(np.uint8), allow_pickle=False)
        np.save(self.out / "epochs.npy", np.asarray(self.epochs, np.float32), allow_pickle=False)
        np.save(self.out / "test_accuracy.npy", np.asarray(self.accuracy, np.float32), allow_pickle=False)

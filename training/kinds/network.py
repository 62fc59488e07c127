"""What the trained networks share (the dense network and the CNN): fit by ``training/train.py``,
embedded through their named ``embedding`` layer, trained with snapshots."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .registry import Kind, ModelSpec, Rung, SampleSet


def fit(spec: ModelSpec, arrays: dict, store, progress: bool = True, step=None, on_epoch=None) -> Path:
    from training.train import train

    return train(spec.config, arrays, store, progress=progress, on_epoch=on_epoch)


def embed(spec: ModelSpec, model_dir: Path, samples: SampleSet, store, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """(activations of the ``embedding`` layer, softmax) of the samples."""
    import keras

    from training.model import embedding_model
    from training.train import to_input

    # safe_mode refuses lambda layers and other deserialised code in the model file.
    model = keras.models.load_model(store.check(Path(model_dir) / "model.keras"), safe_mode=True, compile=False)
    return tuple(embedding_model(model).predict(to_input(samples.images), batch_size=1000, verbose=0))


def network(spec: ModelSpec, model_dir: Path, store) -> tuple:
    """(the trained network, ``training.train.to_input``): what the Layers view feeds and follows."""
    import keras

    from training.train import to_input

    return keras.models.load_model(store.check(Path(model_dir) / "model.keras"), safe_mode=True, compile=False), to_input


def profile(name: str | None) -> Callable:
    """A rung's config maker: the training profile ``name`` (``None``: the run's ``--profile``)."""
    return lambda dataset, train, seed: train.config(dataset, seed, name)


def network_kind(name: str, title: str, rungs: tuple[Rung, ...], fit_seconds: float) -> Kind:
    """A kind of trained network: its predictions on its training images are in sample."""
    return Kind(name=name, title=title, fit=fit, embed=embed, network=network, in_sample=True, snapshots=True,
                words="{spec.config.epochs} epochs", rungs=rungs, fit_seconds=fit_seconds)

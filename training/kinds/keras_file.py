"""A user's own ``.keras`` model (``--model``): checked before any work, evaluated, seen like ours.

Its models come from ``--model`` files, not from ``--models``; each is called by its user's
name. Loading, checking and running it is ``training/user_model.py``'s.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .registry import Kind, ModelSpec, SampleSet


def fit(spec: ModelSpec, arrays: dict, store, progress: bool = True, step=None, on_epoch=None) -> Path:
    from training.user_model import import_model

    return import_model(spec.config, arrays, store)


def embed(spec: ModelSpec, model_dir: Path, samples: SampleSet, store, progress=None) -> tuple[np.ndarray, np.ndarray]:
    from training.user_model import load_checked, run

    emb, proba, _ = run(load_checked(store.check(Path(model_dir) / "model.keras"), spec.config), samples.images)
    return emb, proba


def network(spec: ModelSpec, model_dir: Path, store) -> tuple:
    """(the user's network, how images become its input: scaled and shaped as its check found)."""
    from training.user_model import load_checked

    checked = load_checked(store.check(Path(model_dir) / "model.keras"), spec.config)
    shape = tuple(checked.model.inputs[0].shape[1:])

    def to_input(images: np.ndarray) -> np.ndarray:
        return (images.astype(np.float32) * checked.scale).reshape((len(images), *shape))

    return checked.model, to_input


def check(spec: ModelSpec) -> list[str]:
    """Load and check the file now (before any other work); returns what was found out."""
    from training.user_model import load_checked

    return load_checked(Path(spec.config.path), spec.config).notes


KIND = Kind(name="keras", title="Your Keras model", fit=fit, embed=embed, network=network,
            in_sample=True,  # it may have learned from any training image
            words="checking your model", article="", check=check, fit_seconds=10)


def user_specs(dataset: str, models) -> list[ModelSpec]:
    """The models of the ``--model`` files of ``models`` (a :class:`training.ladder.ModelOptions`);
    each file is hashed here."""
    from training.user_model import configure

    layers_given = models.embedding_layer
    per_file = layers_given * len(models.model) if len(layers_given) == 1 else layers_given
    out = []
    for i, (path, name) in enumerate(zip(models.model, models.user_names())):
        config = configure(dataset, name, path, per_file[i] if per_file else None, models.input_scale)
        out.append(ModelSpec(name, KIND.name, name, config))
    return out

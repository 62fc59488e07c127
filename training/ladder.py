"""Which models a run sees each dataset through: the ladder's rungs, and the user's own ``.keras`` files.

The kinds of model, and the rungs ``--models`` takes, are the registry's (``training/kinds/``);
:func:`specs` makes a :class:`ModelSpec` (name, kind, title, the config that makes and keys its
``model/<key>/`` folder) per model, and :func:`fit` makes that folder through its kind.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Callable

from core.errors import ConfigError
from core.options import option, validate
from core.store import ArtifactStore
from core.vocab import MODEL_NAME
from training import kinds
from training.config import TrainOptions
from training.datasets import Arrays
from training.kinds import ModelSpec
from training.kinds.given import imported_specs
from training.kinds.keras_file import user_specs

__all__ = ["ModelOptions", "ModelSpec", "check", "fit", "imported_specs", "specs"]


@dataclasses.dataclass(frozen=True)
class ModelOptions:
    """What the command line sets about the models: rungs of the ladder, and the user's own files."""

    models: tuple[str, ...] = option(kinds.default_rungs(), "rungs of the model ladder, simplest first",
                                     choices=kinds.rung_names, many=True)
    model: tuple[Path, ...] = option((), "your own .keras model, seen beside the ladder (one --dataset)",
                                     repeat=True, type=Path)
    model_name: tuple[str, ...] = option((), "name of each --model, in order (default: the file's name)",
                                         repeat=True)
    embedding_layer: tuple[str, ...] = option(
        (), "layer of each --model whose activations are its embedding (default: the input of its "
            "final Dense layer); one for all or one per --model", repeat=True)
    input_scale: str = option("auto", "pixel scaling your models expect: 1/255 (inputs in [0, 1]), 1 (0-255), "
                                      "or auto (1 if the model has a Rescaling layer)",
                              choices=("auto", "1/255", "1"))

    def __post_init__(self) -> None:
        for name in ("models", "model", "model_name", "embedding_layer"):  # argparse gives lists
            object.__setattr__(self, name, tuple(getattr(self, name)))
        validate(self, "models")
        if len(set(self.models)) != len(self.models):
            raise ConfigError(f"--models lists a model twice ({','.join(self.models)})")
        if self.model_name and len(self.model_name) != len(self.model):
            raise ConfigError(f"--model-name given {len(self.model_name)} times for {len(self.model)} --model "
                              "files; give one name per model, in the same order")
        if len(self.embedding_layer) not in (0, 1, len(self.model)) or (self.embedding_layer and not self.model):
            raise ConfigError(f"--embedding-layer given {len(self.embedding_layer)} times for {len(self.model)} "
                              "--model files; give one for all of them or one per model")
        names, taken = self.user_names(), kinds.rung_names()
        for name in names:
            if not MODEL_NAME.match(name) or name in taken:
                raise ConfigError(f"--model-name {name!r}: use 1-40 lowercase letters, digits, '.', '_' or '-', "
                                  f"and none of {', '.join(taken)}")
        if len(set(names)) != len(names):
            raise ConfigError(f"two --model files have the same name ({', '.join(names)}); "
                              "tell them apart with --model-name")

    def user_names(self) -> tuple[str, ...]:
        if self.model_name:
            return self.model_name
        return tuple(re.sub(r"[^a-z0-9_.-]+", "-", Path(p).stem.lower()).strip("-._")[:40] or "model"
                     for p in self.model)


def specs(dataset: str, models: ModelOptions, train: TrainOptions, seed: int) -> list[ModelSpec]:
    """The models of ``dataset`` in ladder order, then the user's; user files are hashed here."""
    return [kinds.spec(name, dataset, train, seed) for name in models.models] + user_specs(dataset, models)


def fit(spec: ModelSpec, arrays: Arrays, store: ArtifactStore, progress: bool = True,
        step: Callable[[int, int], None] | None = None, on_epoch: Callable[[dict], None] | None = None) -> Path:
    """Make (or reuse) the model folder of ``spec`` through its kind: train, vote, import a file, ...

    ``step(done, total)`` follows a fit that counts (the k-NN's queries); ``on_epoch(record)`` gets each
    finished epoch of a trained network (:class:`training.callbacks.EpochProgress`).
    """
    kind_fit = kinds.get(spec.kind).fit
    hooks = {"on_epoch": on_epoch} if on_epoch is not None and _takes(kind_fit, "on_epoch") else {}
    return kind_fit(spec, arrays, store, progress=progress, step=step, **hooks)


def _takes(function: Callable, name: str) -> bool:
    """Whether ``function`` accepts keyword ``name`` (a kind registered before the hook existed does not)."""
    import inspect

    params = inspect.signature(function).parameters
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def check(spec: ModelSpec) -> list[str]:
    """Load and check a model now, before any other work, where its kind checks one (a user's file);
    returns what was found out."""
    kind = kinds.get(spec.kind)
    return kind.check(spec) if kind.check else []

"""Which models a run sees each dataset through: the ladder, and the user's own ``.keras`` files.

A :class:`ModelSpec` names one model of one dataset, its kind and the config that makes
(and keys) its ``model/<key>/`` folder; :func:`fit` makes that folder whatever the kind.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Callable, Union

from core.errors import ConfigError
from core.options import option, validate
from core.store import ArtifactStore
from core.vocab import DEFAULT_MODELS, MODEL_NAME, MODEL_TITLES, MODELS
from training.config import TrainConfig, TrainOptions
from training.datasets import Arrays
from training.pixels import PixelsConfig
from training.user_model import UserModelConfig, configure

KINDS = {"pixels": "pixels", "mlp": "mlp", "cnn": "cnn", "cnn-strong": "cnn"}


@dataclasses.dataclass(frozen=True)
class ModelOptions:
    """What the command line sets about the models: rungs of the ladder, and the user's own files."""

    models: tuple[str, ...] = option(DEFAULT_MODELS, "rungs of the model ladder, simplest first",
                                     choices=MODELS, many=True)
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
        names = self.user_names()
        for name in names:
            if not MODEL_NAME.match(name) or name in MODELS:
                raise ConfigError(f"--model-name {name!r}: use 1-40 lowercase letters, digits, '.', '_' or '-', "
                                  f"and none of {', '.join(MODELS)}")
        if len(set(names)) != len(names):
            raise ConfigError(f"two --model files have the same name ({', '.join(names)}); "
                              "tell them apart with --model-name")

    def user_names(self) -> tuple[str, ...]:
        if self.model_name:
            return self.model_name
        return tuple(re.sub(r"[^a-z0-9_.-]+", "-", Path(p).stem.lower()).strip("-._")[:40] or "model"
                     for p in self.model)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One model of one dataset: its name (folders, URLs, tables), kind and making config."""

    name: str
    kind: str          # pixels | mlp | cnn | keras | given (an imported dataset's embeddings)
    title: str
    config: Union[TrainConfig, PixelsConfig, UserModelConfig]

    @property
    def trained(self) -> bool:
        return self.kind in ("mlp", "cnn")


def specs(dataset: str, models: ModelOptions, train: TrainOptions, seed: int) -> list[ModelSpec]:
    """The models of ``dataset`` in ladder order, then the user's; user files are hashed here."""
    out = []
    for name in models.models:
        if name == "pixels":
            config = PixelsConfig(dataset=dataset, train_subset=train.train_subset)
        else:
            config = train.config(dataset, seed, name)
        title = MODEL_TITLES[name] if not (name == "cnn" and train.profile == "strong") else "CNN (strong profile)"
        out.append(ModelSpec(name, KINDS[name], title, config))
    layers = models.embedding_layer * len(models.model) if len(models.embedding_layer) == 1 else models.embedding_layer
    for i, (path, name) in enumerate(zip(models.model, models.user_names())):
        config = configure(dataset, name, path, layers[i] if layers else None, models.input_scale)
        out.append(ModelSpec(name, "keras", name, config))
    return out


def imported_specs(dataset: str, import_dir: Path, store: ArtifactStore) -> list[ModelSpec]:
    """The one model of an imported dataset: its given embeddings, else the raw pixels."""
    from training.imported import GivenConfig

    import_dir = Path(import_dir)
    record = store.read_json(import_dir / "facts.json")
    if (import_dir / "embeddings.npy").exists():
        name = record.get("model_name") or "embeddings"
        return [ModelSpec(name, "given", record.get("model_title") or name,
                          GivenConfig(dataset=dataset, name=name, source=import_dir.name))]
    return [ModelSpec("pixels", "pixels", MODEL_TITLES["pixels"],
                      PixelsConfig(dataset=dataset, source=import_dir.name))]


def fit(spec: ModelSpec, arrays: Arrays, store: ArtifactStore, progress: bool = True,
        step: Callable[[int, int], None] | None = None) -> Path:
    """Make (or reuse) the model folder of ``spec``: train, evaluate the pixel k-NN, or import a file."""
    if spec.kind == "given":
        from training.imported import STAGE, fit_given

        return fit_given(spec.config, store.path(spec.config.dataset, STAGE, spec.config.source), store,
                         progress=step)
    if spec.kind == "pixels":
        from training.pixels import fit_pixels

        return fit_pixels(spec.config, arrays, store, progress=step)
    if spec.kind == "keras":
        from training.user_model import import_model

        return import_model(spec.config, arrays, store)
    from training.train import train

    return train(spec.config, arrays, store, progress=progress)


def check_user_model(spec: ModelSpec) -> list[str]:
    """Load and check a user model now (before any other work); returns what was found out."""
    from training.user_model import load_checked

    return load_checked(Path(spec.config.path), spec.config).notes

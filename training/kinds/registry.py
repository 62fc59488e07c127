"""The table of model kinds: name -> :class:`Kind`, and the rungs of the model ladder each kind offers.

A kind is one way of seeing a dataset through a model: the pixel k-NN, a trained network, a
user's ``.keras`` file, an imported dataset's own embeddings. Its :class:`Kind` says how it is
fit (its ``model/<key>/`` folder), how it embeds a sample set, the network the Layers view opens,
whether its predictions on the images it learned from are in sample (the label-issue stage
then cross-validates them), whether it leaves training snapshots (the dynamics stage), and
the words shown while it works. The pipeline and the embedding stages look a kind up here by
the name its models carry (``ModelSpec.kind``, recorded in cache keys and ``current.json``);
none of them compares that name to a string.

A :class:`Rung` is a name ``--models`` takes (``cnn``, ``cnn-strong``): a kind with the config
it is made with. Rungs list in registration order, which is the ladder's, simplest first.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from core.errors import ConfigError
from core.vocab import MODEL_NAME


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One model of one dataset: its name (folders, URLs, tables), kind, title and making config."""

    name: str
    kind: str          # a registered Kind's name
    title: str
    config: Any        # the kind's config: what keys its model folder


@dataclasses.dataclass(frozen=True)
class SampleSet:
    """The samples a model embeds.

    ``ids`` int64 (n,): sample ids (``sample_set="all"``: training images first, then the test
    images after ``len(arrays["x_train"])``); ``images`` uint8 (n, h, w[, c]); ``arrays`` the
    dataset's ``x_train``, ``y_train``, ``x_test``, ``y_test``.
    """

    ids: np.ndarray
    images: np.ndarray
    arrays: dict
    sample_set: str


@dataclasses.dataclass(frozen=True)
class Rung:
    """One rung of the model ladder: a name ``--models`` takes, and how its kind's config is made.

    ``config(dataset, train, seed)`` gets the run's :class:`training.config.TrainOptions`;
    ``title`` defaults to its kind's, ``titled(train)`` overrides it where the training options
    change it. ``default``: in the default ``--models``; ``preferred``: the model the explorer
    opens with, when a run has it.
    """

    name: str
    config: Callable[[str, Any, int], Any]
    title: str = ""
    titled: Callable[[Any], str] | None = None
    default: bool = True
    preferred: bool = False


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of model.

    Attributes
    ----------
    name : str
        Its name in ``ModelSpec.kind``, the model and embed folders' records, ``current.json``
        and the report. Changing it changes those folders' keys.
    title : str
        What it is called in tables ("Raw pixels (k-NN)").
    fit : callable(spec, arrays, store, progress=bool, step=callable[, on_epoch=callable]) -> Path
        Makes (or reuses) the model folder of ``spec`` through ``store.build(dataset, "model", record,
        make)``, ``record`` holding ``"kind": name`` and the config. ``progress``: whether bars may be
        drawn; ``step(done, total)``: the bar of :attr:`fit_bar`, when it has one; ``on_epoch(record)``,
        if it takes it: each finished epoch of a trained network (a running explorer shows them).
    embed : callable(spec, model_dir, samples, store, progress=callable) -> (embedding, probabilities)
        float32 (n, d) embedding of a :class:`SampleSet` (``None`` with :attr:`pixel_space`: the images
        themselves) and (n, classes) class probabilities.
    network : callable(spec, model_dir, store) -> (keras.Model, callable), optional
        Opens its Keras network (safe mode) and says how uint8 images become its input, for the
        Layers view (``embeddings/layers.py`` picks the layers it follows); ``None``: a kind with
        no layers to follow (the pixels, given embeddings).
    in_sample : bool
        Its predictions on the images it learned from are in sample, so the label-issue stage
        cross-validates those rows (``cv-K``); else they are already out of sample (``loo``).
    snapshots : bool
        Trained with snapshots of its embedding, which the dynamics stage aligns.
    words : str
        What the explorer says while it is fit, formatted with ``spec`` ("{spec.config.epochs} epochs").
    fit_bar : str
        What the progress bar of its fit counts ("k-NN"); empty: its fit takes no ``step``.
    pixel_space : bool
        Its space is the images (pixels scaled to [0, 1]); its embed folder holds no ``space.npy``.
    article : str
        The word before its title in a sentence: "the" (the CNN); empty for a model called by its
        user's name.
    fit_seconds : float
        A first guess at its fit's seconds on a 60,000-image dataset on 2 cores, for the page's "about
        N s" until the run has timed one (``pipeline/schedule.py``).
    check : callable(spec) -> list of str, optional
        Loads and checks a model before any work (a user's file); returns what was found out.
    rungs : tuple of Rung
        The names ``--models`` takes for it, in ladder order (none: its models come otherwise).
    """

    name: str
    title: str
    fit: Callable[..., Path]
    embed: Callable[..., tuple]
    in_sample: bool
    words: str
    network: Callable[[ModelSpec, Path, Any], tuple[Any, Callable[[np.ndarray], np.ndarray]]] | None = None
    snapshots: bool = False
    fit_bar: str = ""
    pixel_space: bool = False
    article: str = "the"
    check: Callable[[ModelSpec], list[str]] | None = None
    rungs: tuple[Rung, ...] = ()
    fit_seconds: float = 30.0

    def __post_init__(self) -> None:
        for name in (self.name, *(r.name for r in self.rungs)):
            if not MODEL_NAME.match(name):
                raise ValueError(f"model kind or rung name {name!r} must match {MODEL_NAME.pattern}")

    def fit_words(self, spec: ModelSpec) -> str:
        return self.words.format(spec=spec)


_TABLE: dict[str, Kind] = {}
_RUNGS: dict[str, tuple[Rung, Kind]] = {}


def register(kind: Kind) -> Kind:
    """Add ``kind`` and its rungs to the table (after those registered before) and return it.

    Raises
    ------
    ValueError
        If its name or one of its rungs' names is taken.
    """
    if kind.name in _TABLE:
        raise ValueError(f"a model kind called {kind.name!r} is registered already")
    for r in kind.rungs:
        if r.name in _RUNGS:
            raise ValueError(f"{kind.name}: the rung {r.name!r} is taken (by {_RUNGS[r.name][1].name})")
    _TABLE[kind.name] = kind
    _RUNGS.update({r.name: (r, kind) for r in kind.rungs})
    return kind


def unregister(name: str) -> None:
    """Take kind ``name`` and its rungs off the table (a test's own kind, once it is done)."""
    kind = _TABLE.pop(name, None)
    for r in kind.rungs if kind else ():
        _RUNGS.pop(r.name, None)


def get(name: str) -> Kind:
    """The kind called ``name``.

    Raises
    ------
    ConfigError
        Naming the registered kinds, for any other name.
    """
    try:
        return _TABLE[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown model kind {name!r}; the kinds are {', '.join(_TABLE)}") from None


def table() -> tuple[Kind, ...]:
    return tuple(_TABLE.values())


def rung_names() -> tuple[str, ...]:
    """Every name ``--models`` takes, simplest first; names no user model may take."""
    return tuple(_RUNGS)


def default_rungs() -> tuple[str, ...]:
    """The rungs the default ``--models`` fits."""
    return tuple(name for name, (r, _) in _RUNGS.items() if r.default)


def rung(name: str) -> tuple[Rung, Kind]:
    try:
        return _RUNGS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(_RUNGS)}") from None


def spec(name: str, dataset: str, train: Any, seed: int) -> ModelSpec:
    """The :class:`ModelSpec` of rung ``name`` on ``dataset`` under the run's training options."""
    r, kind = rung(name)
    title = r.titled(train) if r.titled else r.title or kind.title
    return ModelSpec(name, kind.name, title, r.config(dataset, train, seed))


def preferred(models: Iterable[str]) -> str:
    """The model the explorer opens with: the first preferred rung among ``models``, else the first model."""
    models = list(models)
    chosen = [m for m, (r, _) in _RUNGS.items() if r.preferred and m in models]
    return chosen[0] if chosen else models[0]

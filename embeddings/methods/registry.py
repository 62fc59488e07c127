"""The table of projection methods: name -> :class:`Method`, in the order they are registered.

A method is one module (``embeddings/methods/<name>.py``) holding its estimator and a
:class:`Method` that says what the rest of the project needs to know of it: its title and
what its layout shows (the explorer's words, written into ``current.json``), its
parameters (each one a command-line flag and a field of
:class:`embeddings.project.ProjectConfig`), whether the default run computes it, whether it
is laid out in 3-D without ``--dims 3``, and its place on the explorer's page.  One line
of ``embeddings/methods/__init__.py`` registers it; nothing else names it.
"""
from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

from core.errors import ConfigError
from core.options import option

from .base import Projection

#: What a method may be called: it names cache folders, URL values and command-line choices.
NAME = re.compile(r"^[a-z][a-z0-9_]{0,23}$")

_TABLE: dict[str, "Method"] = {}


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter of a method as the run config holds it.

    ``field`` is the config field (and flag: ``umap_neighbors`` -> ``--umap-neighbors``),
    ``arg`` the estimator's keyword.  The default is the estimator's own and the bound its
    ``_parameter_constraints`` entry, so each exists once.
    """

    field: str
    arg: str
    help: str


@dataclasses.dataclass(frozen=True)
class Method:
    """One projection method.

    Attributes
    ----------
    name : str
        Its name in ``--methods``, cache records, ``current.json`` and URLs.
    title : str
        How pages and messages call it ("t-SNE").
    about : str
        One line on what its layout shows, for the explorer.
    estimator : type
        Its :class:`~embeddings.methods.base.Projection` subclass.
    params : tuple of Param
        Its settable parameters, beside ``n_components`` and ``random_state``.
    order : int
        Its place in the explorer's lists (smaller first).
    default : bool
        Whether the default ``--methods`` computes it.
    always_3d : bool
        Also laid out in 3-D without ``--dims 3`` (where that costs nothing).
    seconds : float
        A first guess at its seconds for 10,000 points on 2 cores, for the page's "about N s" until
        the run has timed one; the quickest method makes each model's first picture (``pipeline/schedule.py``).
    """

    name: str
    title: str
    about: str
    estimator: type
    params: tuple[Param, ...] = ()
    order: int = 100
    default: bool = True
    always_3d: bool = False
    seconds: float = 30.0

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise ValueError(f"method name {self.name!r} must match {NAME.pattern}")
        if not (isinstance(self.estimator, type) and issubclass(self.estimator, Projection)):
            raise TypeError(f"{self.name}: estimator must be a Projection subclass (got {self.estimator!r})")
        signature = inspect.signature(self.estimator).parameters
        for p in self.params:
            if p.arg not in signature or p.arg not in self.estimator._parameter_constraints:
                raise TypeError(f"{self.name}: {self.estimator.__name__} has no constrained parameter {p.arg!r}")

    def default_of(self, p: Param) -> Any:
        """The estimator's default of ``p``."""
        return inspect.signature(self.estimator).parameters[p.arg].default

    def fields(self) -> list[tuple[str, type, dataclasses.Field]]:
        """The config fields of its parameters, for :func:`dataclasses.make_dataclass`."""
        out = []
        for p in self.params:
            default, bound = self.default_of(p), self.estimator._parameter_constraints[p.arg]
            out.append((p.field, type(default), option(default, p.help, choices=bound.choices, **bound.meta)))
        return out

    def arguments(self, config: Any) -> dict:
        """Its estimator's keywords from the config's fields (``n_components`` and ``random_state`` aside)."""
        return {p.arg: getattr(config, p.field) for p in self.params}

    def facts(self) -> dict:
        """What the explorer shows of it: ``{"title", "about", "order"}``."""
        return {"title": self.title, "about": self.about, "order": self.order}


def register(method: Method) -> Method:
    """Add ``method`` to the table (after those registered before it) and return it.

    Raises
    ------
    ValueError
        If its name, or one of its parameters' fields, is taken.
    """
    if method.name in _TABLE:
        raise ValueError(f"a projection method called {method.name!r} is registered already")
    taken = {p.field: m.name for m in _TABLE.values() for p in m.params}
    for p in method.params:
        if p.field in taken or p.field in ("methods", "dims", "seed"):
            raise ValueError(f"{method.name}: config field {p.field!r} is taken (by {taken.get(p.field, 'the stage')})")
    _TABLE[method.name] = method
    return method


def table() -> tuple[Method, ...]:
    """Every method, in registration order (the order the pipeline computes them)."""
    return tuple(_TABLE.values())


def names() -> tuple[str, ...]:
    return tuple(_TABLE)


def defaults() -> tuple[str, ...]:
    """The methods the default ``--methods`` computes."""
    return tuple(m.name for m in _TABLE.values() if m.default)


def get(name: str) -> Method:
    """The method called ``name``.

    Raises
    ------
    ConfigError
        Naming the registered methods, for any other name.
    """
    try:
        return _TABLE[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown projection {name!r}; choose one of {', '.join(_TABLE)}") from None


def facts(chosen) -> dict[str, dict]:
    """``{name: {"title", "about", "order"}}`` of the ``chosen`` methods, in the explorer's order.

    What a dataset's ``current.json`` entry records, so that the explorer (which imports no
    ``embeddings``) lists and labels every method the run computed.
    """
    methods = sorted({get(n).name: get(n) for n in chosen}.values(), key=lambda m: m.order)
    return {m.name: m.facts() for m in methods}


def make_projection(method: str, **params) -> Projection:
    """Build a projection by name, with the valid names in the error."""
    cls = get(method).estimator
    try:
        return cls(**params)
    except TypeError as e:
        raise ConfigError(f"bad parameter for {method}: {e}") from None

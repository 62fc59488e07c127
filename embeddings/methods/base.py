"""What every projection estimator shares: the parameter rules, their one check, the base class.

Each method's estimator (``embeddings/methods/<name>.py``) is scikit-learn shaped:
keyword-only constructor arguments stored unchanged, validation at ``fit`` time against
the data, ``embedding_`` after ``fit``, ``fit`` returns ``self``.  Its parameters'
rules are declared once, in ``_parameter_constraints`` (scikit-learn's idea), as
:class:`Bound` values; :func:`check_params` checks them at ``fit`` and the pipeline's
command line takes the same bounds (:class:`embeddings.methods.registry.Param`).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

from core.errors import ConfigError
from core.options import bound_text, within
from embeddings.knn import KnnGraph, check_data

#: Called with (step, total_steps) while an optimiser runs; for progress bars.
ProgressFn = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class Bound:
    """One parameter's rule, as scikit-learn's ``Interval``/``StrOptions`` say it.

    ``lo``/``hi`` are inclusive (``lo`` exclusive with ``lo_open``); ``below_n``: also below
    the number of samples, checked against the data at ``fit``; ``choices``: the allowed
    values; ``none_ok``: ``None`` (resolved later, "auto") passes.
    """

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    below_n: bool = False
    choices: tuple | None = None
    none_ok: bool = False

    @property
    def meta(self) -> dict:
        """The bounds in :func:`core.options.option`'s metadata form (for ``--help`` and the config's check)."""
        return {"lo": self.lo, "hi": self.hi, "lo_open": self.lo_open}

    def text(self) -> str:
        """``"> 0 and < n_samples"``, ``"in [0, 1]"``, ``"2 or 3"``: the rule as errors say it."""
        if self.choices is not None:
            shown = [str(c) for c in self.choices]
            words = " or ".join(shown) if len(shown) == 2 else "one of " + ", ".join(shown)
        else:
            words = bound_text(self.meta)
        return " and ".join(w for w in (words, "< n_samples" if self.below_n else "") if w)

    def check(self, name: str, value: Any, n: int | None = None) -> None:
        """Raise a :class:`ConfigError` naming ``name``, this rule and ``value`` (and ``n``) unless it holds."""
        if value is None and self.none_ok:
            return
        try:
            ok = ((self.choices is None or value in self.choices) and within(self.meta, value)
                  and not (self.below_n and n is not None and value >= n))
        except TypeError:  # not a number: no bound holds
            ok = False
        if not ok:
            samples = f" for {n} samples" if self.below_n and n is not None else ""
            raise ConfigError(f"{name} must be {self.text()} (got {value}{samples})")


def check_params(estimator: Any, n: int | None = None) -> None:
    """Check every parameter of ``estimator`` its ``_parameter_constraints`` names; ``n``: the number of samples."""
    for name, bound in type(estimator)._parameter_constraints.items():
        bound.check(name, getattr(estimator, name), n)


def require_graph(knn: KnnGraph, k: int, title: str, what: str) -> None:
    """Refuse a shared graph that is too short: truncating it would change the affinities silently."""
    if knn.k < k:
        raise ConfigError(f"{title} with {what} needs {k} neighbours per point but the k-NN graph has "
                          f"{knn.k}; rebuild the graph with k >= {k} (the pipeline derives it from the "
                          f"chosen methods' parameters, such as --perplexity and --umap-neighbors)")


class Projection:
    """Base of the estimators: ``n_components`` (2 or 3) and ``random_state``, checked at ``fit``.

    A subclass sets ``method`` (its registry name), extends ``_parameter_constraints``,
    overrides :meth:`fit` and, if it reads the shared k-NN graph, :meth:`neighbours_needed`.
    """

    method = ""
    _parameter_constraints: dict[str, Bound] = {"n_components": Bound(choices=(2, 3))}

    def __init__(self, *, n_components: int = 2, random_state: int = 0):
        self.n_components = n_components
        self.random_state = random_state

    def get_params(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")}

    def neighbours_needed(self, n: int | None = None) -> int:
        """Neighbours per point (self excluded) the shared graph must hold; at most ``n - 1`` given ``n``."""
        return 0

    def _validate(self, X: np.ndarray) -> np.ndarray:
        X = check_data(X)
        check_params(self, len(X))
        if len(X) <= self.n_components:
            raise ConfigError(f"{self.method} needs more than {self.n_components} samples (got {len(X)})")
        return X

    def fit_transform(self, X: np.ndarray, knn: KnnGraph | None = None,
                      progress: ProgressFn | None = None) -> np.ndarray:
        return self.fit(X, knn=knn, progress=progress).embedding_

    def fit(self, X, knn=None, progress=None):  # pragma: no cover - overridden
        raise NotImplementedError

"""A model's accuracy as every view writes it: one figure, one rounding rule, and the images it is over.

Explore's confusion matrix, the "Compare datasets" cards, the models table and the
training-dynamics view each rounded the same model's accuracy their own way (99.5 %, 99.4 %,
0.995; issue 26).  :func:`shown_accuracy` is the one figure of a model (its predictions against
the labels of the test images the explorer shows), :class:`Accuracy` the one way of writing it,
or any other accuracy (a training snapshot's), always with the images it counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from .views import DatasetView, ModelView


@dataclass(frozen=True)
class Accuracy:
    """A share ``fraction`` of ``n`` images right; ``images`` says which (``"test images"``)."""

    fraction: float
    n: int
    images: str = "test images"

    @classmethod
    def of(cls, fraction: float, n: int, images: str = "test images") -> "Accuracy":
        """From any number (a float32 of ``epochs.json``, a count's quotient)."""
        return cls(float(fraction), max(0, int(n)), images)

    @property
    def percent(self) -> str:
        """``"99.45%"``: two decimals, half up, of the percentage to six significant digits (a float32 0.9945,
        0.99449998, is 99.45 % as 9,945 of 10,000 are); never a false 100 % or 0 %."""
        if self.n <= 0 or not np.isfinite(self.fraction):
            return "n/a"
        v = Decimal(f"{100 * self.fraction:.6g}").quantize(Decimal("0.01"), ROUND_HALF_UP)
        if self.fraction < 1:
            v = min(v, Decimal("99.99"))
        if self.fraction > 0:
            v = max(v, Decimal("0.01"))
        return f"{v}%"

    @property
    def words(self) -> str:
        """``"99.45% of 10,000 test images"``."""
        return f"{self.percent} of {self.n:,} {self.images}"


def accuracy_words(fraction: float, n: int, images: str = "test images") -> str:
    """``0.9945, 10000`` -> ``"99.45% of 10,000 test images"`` (:meth:`Accuracy.of`)."""
    return Accuracy.of(fraction, n, images).words


def accuracy_rows(ds: DatasetView) -> tuple[np.ndarray, str]:
    """The rows a model's accuracy is over and what they are: the test images shown (those after the
    training images in ``sample_set="all"``), every image of an imported dataset (no test set), the
    training images of an "all" subset that holds no test image."""
    every = np.arange(ds.n)
    if ds.imported:
        return every, "images"
    if ds.sample_set == "all":
        test = np.flatnonzero(ds.sample_ids >= ds.n_train)
        return (test, "test images") if len(test) else (every, "training images")
    return every, "test images"


def shown_accuracy(m: ModelView) -> Accuracy:
    """``m``'s accuracy over :func:`accuracy_rows`: the one figure Explore, "Compare datasets" and the models
    table show (the confusion matrix's diagonal, where it counts test images only)."""
    def compute() -> Accuracy:
        rows, images = accuracy_rows(m.ds)
        right = int(np.count_nonzero(m.ds.labels[rows] == m.pred[rows]))
        return Accuracy.of(right / max(1, len(rows)), len(rows), images)
    return m.cached("shown-accuracy", compute)

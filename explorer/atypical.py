"""How unlike the rest of its class each image is in the model's embedding (issue 25 §2, outliers): a
colouring of any scatter ("Atypicality") and the Image map's "most atypical" images of each class.

A row's raw score is the mean distance to its :data:`K` nearest neighbours in the model's embedding
(the shared k-NN graph's ``knn-distances.npy``, so nothing is computed but a mean): an image far from
every other is an outlier of the whole set.  Distances mean different things in different classes (a
class of ones is tighter than a class of eights), so the score shown is the raw score's percentile
within the image's given class: 1.0 is its class's most atypical image, 0.5 its median one.
"""
from __future__ import annotations

import numpy as np

from .store import ModelView

K = 10  # neighbours whose mean distance is the raw score
MOST = 100  # the Image map's "most atypical": this many of each class at most


def raw_distance(m: ModelView) -> np.ndarray:
    """float32 (n,): each row's mean distance to its :data:`K` nearest neighbours in ``m``'s embedding."""
    def make() -> np.ndarray:
        dist = m._array("knn-distances.npy", mmap=True)  # read as the model's other arrays: a row per image
        return np.asarray(dist[:, :K], dtype=np.float64).mean(1).astype(np.float32)
    return m.cached("knn-mean-distance", make)


def atypicality(m: ModelView) -> np.ndarray:
    """float32 (n,) in (0, 1]: each row's :func:`raw_distance` as a percentile within its given class
    (ties share the higher rank)."""
    def make() -> np.ndarray:
        raw, labels = raw_distance(m), m.ds.labels
        out = np.zeros(len(raw), np.float32)
        for c in np.unique(labels):
            rows = np.flatnonzero(labels == c)
            v = raw[rows]
            out[rows] = np.searchsorted(np.sort(v), v, side="right") / len(v)
        return out
    return m.cached("atypicality", make)


def most_atypical(m: ModelView, most: int = MOST) -> np.ndarray:
    """The rows of the ``most`` most atypical images of each class (by :func:`raw_distance` within it), sorted."""
    raw, labels = raw_distance(m), m.ds.labels
    out = []
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        out.append(rows[np.argsort(-raw[rows], kind="stable")[:most]])
    return np.sort(np.concatenate(out)) if out else np.zeros(0, np.int64)

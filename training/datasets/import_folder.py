"""A user's dataset as a source: the import folder ``<name>/import/<key>/`` that
``training/imported.py`` wrote (``python -m pipeline import``, ``explorer.from_arrays``),
read back as the same arrays a built-in dataset's loader gives.

There is no train/test split: every image is a sample (a "test" image), its id its row.
Its declared facts come from the folder's ``facts.json``; the pair it is known to confuse is
unknown, so its two largest classes are charted first.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from core.datasets import DatasetFacts
from core.store import ArtifactStore

_PALETTE = ("#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")


def declared(name: str, record: dict, labels: np.ndarray, upstream: tuple[str, ...] = ()) -> DatasetFacts:
    """The facts ``facts.json`` and the labels declare; the arrays add theirs (``DatasetFacts.measured``)."""
    names = tuple(record["class_names"])
    counts = np.bincount(labels, minlength=len(names))
    a, b = (int(i) for i in np.argsort(-counts, kind="stable")[:2])
    colour = _PALETTE[int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(_PALETTE)]
    return DatasetFacts(name, record["title"], names, mirror_symmetric=False, default_pair=(a, b), colour=colour,
                        source="imported", upstream=upstream)


def read(folder: Path, store: ArtifactStore) -> tuple[DatasetFacts, dict]:
    """(facts, arrays) of an import folder: no training images, every sample a "test" image.

    Its key enters the facts' ``upstream``, so everything made from these arrays is keyed by them.
    """
    folder = Path(folder)
    name = folder.parent.parent.name
    record = store.read_json(folder / "facts.json")
    images = store.load_array(folder / "images.npy")
    labels = store.load_array(folder / "labels.npy")
    arrays = {"x_train": images[:0], "y_train": labels[:0], "x_test": images, "y_test": labels}
    return declared(name, record, labels, upstream=(folder.name,)).measured(arrays), arrays

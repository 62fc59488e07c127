"""Every dataset the stages can see, by name, and the one way they are opened.

A dataset is its facts (``core.datasets.DatasetFacts``) and its arrays: uint8 ``x_train``,
``y_train``, ``x_test``, ``y_test``. A built-in dataset is one module of this package
(``mnist.py``, ``fashion_mnist.py``) declaring its facts, its pinned offline sources and the
checksums of its decoded arrays (:class:`~.builtin.Builtin`), registered in :data:`DATASETS`
below; a user's dataset is an import folder (:mod:`.import_folder`). :func:`open_dataset`
opens either and records the facts its arrays show (image shape, images per split) for every
later stage: :func:`get`.

Adding a built-in dataset: write ``<name>.py`` with its ``DATASET = Builtin(...)`` and add it
to :data:`DATASETS`. The command line's ``--dataset`` choices, the stages and
``current.json`` learn it from there.
"""
from __future__ import annotations

import logging
from pathlib import Path

from core.datasets import DatasetFacts
from core.errors import DataError
from training.idx import IDX_FILES  # noqa: F401 - the four files of a local copy, for callers

from . import fashion_mnist, mnist
from .builtin import SPLITS, Arrays, Builtin, sha256_array  # noqa: F401 - the package's words
from .sources import from_local  # noqa: F401 - the local data folder, for callers

log = logging.getLogger(__name__)

#: The built-in datasets, in the order a run takes them by default.
DATASETS: dict[str, Builtin] = {d.name: d for d in (mnist.DATASET, fashion_mnist.DATASET)}
NAMES = tuple(DATASETS)
#: The facts of each dataset this process has opened, as its arrays show them.
_OPENED: dict[str, DatasetFacts] = {}


def builtin(name: str) -> Builtin:
    """The built-in dataset ``name``, with the list of valid names in the error."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)} "
                        "(or import your own: python -m pipeline import NAME --images ...)") from None


def get(name: str) -> DatasetFacts:
    """A dataset's facts: as its arrays showed them if this process opened it, else as declared."""
    if name in _OPENED:
        return _OPENED[name]
    return builtin(name).facts


def verify(name: str, arrays: Arrays, source: str) -> Arrays:
    """Check decoded arrays against the pinned shapes and checksums of the built-in dataset ``name``."""
    return builtin(name).verify(arrays, source)


def load(name: str, data_dir: Path, allow_download: bool = True) -> Arrays:
    """The verified arrays of the built-in dataset ``name``, fetched and kept in ``data_dir`` if needed.

    Parameters
    ----------
    name : one of :data:`NAMES`
    data_dir : Path
        The local data folder; a verified ``<name>.npz`` is written there.
    allow_download : bool
        If False, only the local folder is tried.

    Raises
    ------
    DataError
        Unknown name, a corrupt or mismatching source, or no source available.
    """
    return open_dataset(name, data_dir, allow_download=allow_download)[1]


def open_dataset(name: str, data_dir: Path | None = None, store=None, folder: Path | None = None,
                 allow_download: bool = True) -> tuple[DatasetFacts, Arrays]:
    """(facts, arrays) of a dataset: a built-in one from its pinned sources (``data_dir``), or a
    user's from its import ``folder`` (read through ``store``). Its facts are recorded for :func:`get`.

    Raises
    ------
    DataError
        Unknown name, a damaged or mismatching source, or a user's dataset named like a built-in one.
    """
    if folder is None:
        entry = builtin(name)
        arrays = entry.load(Path(data_dir), allow_download)
        info = entry.facts.measured(arrays)
    else:
        from .import_folder import read

        if name in DATASETS:
            raise DataError(f"{name!r} is a built-in dataset; give your dataset another name")
        info, arrays = read(folder, store)
    _OPENED[name] = info
    return info, arrays

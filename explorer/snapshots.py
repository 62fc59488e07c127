"""A dataset's training-dynamics folder (``dynamics/<key>/``), loaded and checked.

The pipeline embedded the same ~2,000 test images at every snapshot of training and
aligned the frames; :class:`DynamicsView` holds them with their predictions, and maps
each image to the row of the dataset's embed folder that holds its picture.
Figures of it are :mod:`explorer.dynamics`'s.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from core.errors import CacheError
from core.store import ArtifactStore
from core.vocab import test_id_to_sample_id

log = logging.getLogger(__name__)


class DynamicsView:
    """The aligned per-snapshot frames of one dataset (``dynamics/<key>/``), loaded at once.

    ``m`` test images (class-balanced, ~2,000) were embedded at every snapshot;
    ``rows[k]`` is the row of the dataset's embed folder that holds image ``k``'s
    picture, or -1 when the shown sample set lacks it.

    Parameters
    ----------
    folder : Path
        The ``dynamics/<key>/`` folder.
    artifacts : ArtifactStore
        Verifies each file against the folder's record before it is read.
    sample_ids : array of int
        ``index.npy`` of the dataset's embed folder, whose rows give the pictures.
    sample_set : str
        ``"test"`` or ``"all"``: how ``sample_ids`` number the test images.

    Raises
    ------
    core.store.CacheError
        If the arrays are missing, damaged (``DamagedArtifact``) or their shapes disagree.
    """

    def __init__(self, folder: Path, artifacts: ArtifactStore, sample_ids: np.ndarray, sample_set: str,
                 n_train: int = 60_000):
        self.folder = Path(folder)
        self.version = self.folder.name
        load_array, read_json = artifacts.load_array, artifacts.read_json
        self.frames = load_array(self.folder / "frames.npy")
        self.index = load_array(self.folder / "index.npy").astype(np.int64)
        self.labels = load_array(self.folder / "labels.npy").astype(np.uint8)
        self.proba = load_array(self.folder / "proba.npy")
        self.rows_json: list[dict] = read_json(self.folder / "epochs.json")
        n_frames, m = self.frames.shape[:2] if self.frames.ndim == 3 else (0, 0)
        if (self.frames.ndim != 3 or self.frames.shape[2] < 2 or len(self.index) != m
                or len(self.labels) != m or self.proba.shape[:2] != (n_frames, m)
                or len(self.rows_json) != n_frames or n_frames == 0):
            raise CacheError(f"{self.folder} is inconsistent (frames {self.frames.shape}, index "
                             f"{self.index.shape}, proba {self.proba.shape}, {len(self.rows_json)} "
                             "epochs.json rows); rerun the pipeline")
        self.frames = np.ascontiguousarray(self.frames[:, :, :2], dtype=np.float32)
        if (self.folder / "epochs.npy").is_file():
            # float32 on disk: 0.05 reads back as 0.0500000007
            self.epochs = np.round(load_array(self.folder / "epochs.npy").astype(np.float64), 6)
        else:  # folders from before fractional snapshots: one frame per epoch, epochs.json says which
            self.epochs = np.array([float(r.get("epoch", i + 1)) for i, r in enumerate(self.rows_json)])
        self.pred = self.proba.argmax(axis=2).astype(np.uint8)  # (frames, m)
        self.confidence = self.proba.max(axis=2).astype(np.float32)
        self.rows = rows_of_test_ids(self.index, sample_ids, sample_set, n_train)

    @property
    def n_frames(self) -> int:
        return len(self.frames)

    @property
    def m(self) -> int:
        return self.frames.shape[1]

    def confusion(self, frame: int) -> np.ndarray:
        """(k, k) counts on the snapshot subset at ``frame`` (rows = true), from ``epochs.json``."""
        c = self.rows_json[frame].get("confusion")
        if c is not None:
            return np.asarray(c, dtype=np.int64)
        k = self.proba.shape[2]
        m = np.zeros((k, k), np.int64)
        np.add.at(m, (self.labels.astype(np.intp), self.pred[frame].astype(np.intp)), 1)
        return m

    def metric(self, name: str) -> list[float | None]:
        """One ``epochs.json`` field over the frames (``None`` where a frame lacks it)."""
        return [None if r.get(name) is None else float(r[name]) for r in self.rows_json]


def rows_of_test_ids(test_ids: np.ndarray, sample_ids: np.ndarray, sample_set: str,
                     n_train: int = 60_000) -> np.ndarray:
    """Rows of an embed folder holding the given test-set images; -1 where it holds none.

    Parameters
    ----------
    test_ids : array of int, shape (m,)
        Test-set ids (0-9999).
    sample_ids : array of int, shape (n,)
        The embed folder's ``index.npy``: test ids with ``sample_set="test"``, or
        0-69999 with ``"all"`` (test id ``t`` is sample id ``n_train + t``).
    sample_set : str
    n_train : int, default 60,000
        The dataset's training images (``current.json``'s ``n_train``).

    Returns
    -------
    ndarray of int64, shape (m,)
    """
    wanted = test_id_to_sample_id(np.asarray(test_ids, dtype=np.int64), sample_set, n_train)
    ids = np.asarray(sample_ids, dtype=np.int64)
    if len(ids) == 0:
        return np.full(len(wanted), -1, np.int64)
    # looked up, not assumed: the embed set may be a subset or in another order
    order = np.argsort(ids, kind="stable")
    pos = np.minimum(np.searchsorted(ids[order], wanted), len(ids) - 1)
    return np.where(ids[order][pos] == wanted, order[pos], -1).astype(np.int64)

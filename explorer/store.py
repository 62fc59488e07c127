"""Read-only view of the pipeline's artifacts for the explorer.

``current.json`` is re-read when it changes (the pipeline serves the first dataset
while it still prepares the second); each dataset's arrays are loaded on first use
(images memory-mapped) and kept, behind a lock so that waitress threads never load
the same file twice.  Datasets whose folders did not change keep their loaded arrays.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.cache import ArtifactStore, CacheError, load_array, read_json

log = logging.getLogger(__name__)

SPACES = ("cnn", "pixels")
PROJECTIONS = ("umap", "tsne", "pca")
SPACE_LABELS = {"cnn": "CNN embedding", "pixels": "Raw pixels"}
PROJECTION_LABELS = {"umap": "UMAP", "tsne": "t-SNE", "pca": "PCA"}


@dataclass
class DatasetView:
    """One dataset as ``current.json`` names it, with lazily loaded arrays.

    Row ``i`` of every array is the same sample; ``row`` is the index the whole
    explorer passes around (URLs, figures, CSV).  ``sample_ids[row]`` is the id
    of ``index.npy`` (0-9999 test, or 0-69999 for the full set).
    """

    name: str
    title: str
    class_names: list[str]
    sample_set: str
    n: int
    embed_dir: Path
    model_dir: Path
    projection_dirs: dict[str, dict[str, Path]]
    dynamics_dir: Path | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    # reentrant: a derived array (confidence, confusion) loads its inputs under the same lock
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def version(self) -> str:
        """Key of the embed folder: changes whenever the images or rows change."""
        return self.embed_dir.name

    def _get(self, key: str, loader) -> Any:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = loader()
            return self._cache[key]

    def _array(self, name: str, mmap: bool = False) -> np.ndarray:
        def load() -> np.ndarray:
            arr = load_array(self.embed_dir / name, mmap=mmap)
            if len(arr) != self.n:
                raise CacheError(f"{self.embed_dir / name} has {len(arr)} rows, current.json says "
                                 f"{self.n}; rerun the pipeline")
            return arr
        return self._get(name, load)

    @property
    def images(self) -> np.ndarray:
        """uint8 (n, 28, 28), memory-mapped: 70,000 images need not sit in RAM."""
        return self._array("images.npy", mmap=True)

    @property
    def labels(self) -> np.ndarray:
        return self._array("labels.npy")

    @property
    def pred(self) -> np.ndarray:
        return self._array("pred.npy")

    @property
    def proba(self) -> np.ndarray:
        return self._array("proba.npy")

    @property
    def sample_ids(self) -> np.ndarray:
        return self._array("index.npy")

    @property
    def confidence(self) -> np.ndarray:
        """float32 (n,): probability the CNN gave its predicted class."""
        return self._get("confidence", lambda: self.proba.max(axis=1).astype(np.float32))

    @property
    def confusion(self) -> np.ndarray:
        """int64 (10, 10) counts of the shown rows (rows = true, columns = predicted).

        Computed from ``labels``/``pred`` rather than taken from ``metrics.json``, so
        that a cell's count is exactly the number of points it highlights, also
        when the full 70,000-sample set is shown.
        """
        def compute() -> np.ndarray:
            m = np.zeros((len(self.class_names),) * 2, np.int64)
            np.add.at(m, (self.labels.astype(np.intp), self.pred.astype(np.intp)), 1)
            return m
        return self._get("confusion", compute)

    @property
    def metrics(self) -> dict:
        return self._get("metrics", lambda: read_json(self.model_dir / "metrics.json"))

    def coords(self, space: str, projection: str) -> np.ndarray:
        """float32 (n, 2) coordinates; a 3-D projection shows its first two axes."""
        try:
            d = self.projection_dirs[space][projection]
        except KeyError:
            raise KeyError(f"{self.name} has no {space}/{projection} projection") from None

        def load() -> np.ndarray:
            arr = load_array(d / "coords.npy")
            if arr.ndim != 2 or arr.shape[0] != self.n or arr.shape[1] < 2:
                raise CacheError(f"{d / 'coords.npy'} has shape {arr.shape}, expected ({self.n}, 2)")
            return np.ascontiguousarray(arr[:, :2], dtype=np.float32)
        return self._get(f"coords-{space}-{projection}", load)

    def knn(self, space: str) -> np.ndarray:
        """int32 (n, k) nearest neighbours of each row in the high-dimensional space."""
        if space not in SPACES:
            raise KeyError(f"unknown space {space!r}")
        return self._array(f"knn-{space}-indices.npy", mmap=True)

    def rows_in_cell(self, true: int, pred: int) -> np.ndarray:
        """Rows whose true class is ``true`` and predicted class ``pred``, ascending."""
        return np.flatnonzero((self.labels == true) & (self.pred == pred))

    def has(self, space: str, projection: str) -> bool:
        return projection in self.projection_dirs.get(space, {})

    @property
    def dynamics(self) -> DynamicsView | None:
        """The aligned training-dynamics frames, or ``None`` for a model without snapshots."""
        if self.dynamics_dir is None:
            return None
        return self._get("dynamics", lambda: DynamicsView(self.dynamics_dir, self))


class DynamicsView:
    """The aligned per-snapshot frames of one dataset (``dynamics/<key>/``), loaded at once.

    ``m`` test images (class-balanced, ~2,000) were embedded at every snapshot;
    ``rows[k]`` is the row of the dataset's embed folder that holds image ``k``'s
    picture, or -1 when the shown sample set lacks it.

    Parameters
    ----------
    folder : Path
        The ``dynamics/<key>/`` folder.
    ds : DatasetView
        The dataset whose embed folder gives the pictures.

    Raises
    ------
    pipeline.cache.CacheError
        If the arrays are missing or their shapes disagree.
    """

    def __init__(self, folder: Path, ds: DatasetView):
        self.folder = Path(folder)
        self.version = self.folder.name
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
        self.rows = rows_of_test_ids(self.index, ds.sample_ids, ds.sample_set)

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


def rows_of_test_ids(test_ids: np.ndarray, sample_ids: np.ndarray, sample_set: str) -> np.ndarray:
    """Rows of an embed folder holding the given test-set images; -1 where it holds none.

    Parameters
    ----------
    test_ids : array of int, shape (m,)
        Test-set ids (0-9999).
    sample_ids : array of int, shape (n,)
        The embed folder's ``index.npy``: test ids with ``sample_set="test"``, or
        0-69999 with ``"all"`` (test id ``t`` is sample id ``60000 + t``).
    sample_set : str

    Returns
    -------
    ndarray of int64, shape (m,)
    """
    wanted = np.asarray(test_ids, dtype=np.int64) + (60_000 if sample_set == "all" else 0)
    ids = np.asarray(sample_ids, dtype=np.int64)
    if len(ids) == 0:
        return np.full(len(wanted), -1, np.int64)
    # looked up, not assumed: the embed set may be a subset or in another order
    order = np.argsort(ids, kind="stable")
    pos = np.minimum(np.searchsorted(ids[order], wanted), len(ids) - 1)
    return np.where(ids[order][pos] == wanted, order[pos], -1).astype(np.int64)


def pid_alive(pid: Any) -> bool:
    """Whether process ``pid`` runs (a stale progress file outlives a killed pipeline)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


PROGRESS_FILE = "progress.json"
RELOAD_CHECK_SECONDS = 1.0


class ExplorerStore:
    """Everything the explorer shows, read from one cache root, following ``current.json``.

    Parameters
    ----------
    artifacts : ArtifactStore
        The pipeline's store; only ``current.json``, ``progress.json`` and the paths
        ``current.json`` names are read.

    Raises
    ------
    pipeline.cache.CacheError
        If ``current.json`` is missing or malformed.
    """

    def __init__(self, artifacts: ArtifactStore):
        self.artifacts = artifacts
        self._lock = threading.Lock()
        self._entries: dict[str, str] = {}
        self.datasets: dict[str, DatasetView] = {}
        self._report_rel: str | None = None
        self._report: dict | None = None
        self._stamp = self._current_stamp()
        self._checked = time.monotonic()
        self._load(artifacts.read_current())

    def _current_stamp(self) -> tuple | None:
        try:
            st = (self.artifacts.root / "current.json").stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def _load(self, current: dict) -> None:
        artifacts = self.artifacts
        try:
            entries = current["datasets"]
            entries.items()
        except (KeyError, TypeError, AttributeError):
            raise CacheError(f"{artifacts.root}/current.json has no 'datasets'; rerun the pipeline") from None
        datasets: dict[str, DatasetView] = {}
        signatures: dict[str, str] = {}
        for name, e in entries.items():
            sig = json.dumps(e, sort_keys=True, default=str)
            if self._entries.get(name) == sig:  # unchanged folders: keep the loaded arrays
                datasets[name], signatures[name] = self.datasets[name], sig
                continue
            try:
                dyn = e.get("dynamics")
                datasets[name] = DatasetView(
                    name=name, title=e.get("title", name), class_names=list(e["class_names"]),
                    sample_set=e.get("sample_set", "test"), n=int(e["n"]),
                    embed_dir=artifacts.resolve(e["embed"]), model_dir=artifacts.resolve(e["model"]),
                    projection_dirs={s: {p: artifacts.resolve(r) for p, r in ps.items()}
                                     for s, ps in e["projections"].items()},
                    dynamics_dir=artifacts.resolve(dyn) if dyn else None)
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                raise CacheError(f"current.json entry {name!r} is incomplete ({err!r}); "
                                 "rerun the pipeline") from None
            signatures[name] = sig
        if not datasets:
            raise CacheError(f"{artifacts.root}/current.json lists no datasets; run the pipeline")
        report_rel = current.get("report")
        with self._lock:
            if report_rel != self._report_rel:
                self._report = None
            self._report_rel = report_rel
            # one assignment each: a request thread sees the old or the new view, never a mix
            self.datasets = datasets
            self._entries = signatures

    def maybe_reload(self, force: bool = False) -> bool:
        """Re-read ``current.json`` if it changed; checked at most once a second.

        Cheap enough to call on every request.  A ``current.json`` that cannot be
        read (mid-rewrite on a filesystem without atomic rename, or broken) keeps
        the current view and logs why.

        Returns
        -------
        bool
            True if the dataset list was reloaded.
        """
        now = time.monotonic()
        if not force and now - self._checked < RELOAD_CHECK_SECONDS:
            return False
        self._checked = now
        stamp = self._current_stamp()
        if stamp is None or stamp == self._stamp:
            return False
        try:
            self._load(self.artifacts.read_current())
        except CacheError as e:
            log.warning("current.json changed but could not be read (%s); keeping the current view", e)
            return False
        self._stamp = stamp
        log.info("current.json changed: now serving %s", ", ".join(self.names))
        return True

    def progress(self) -> dict | None:
        """The running pipeline's ``progress.json``, or ``None`` when none runs (or its pid is gone)."""
        try:
            with open(self.artifacts.root / PROGRESS_FILE) as f:
                p = json.load(f)
        except (OSError, ValueError):
            return None
        if not isinstance(p, dict) or not pid_alive(p.get("pid")) or not isinstance(p.get("datasets"), dict):
            return None
        return p

    @property
    def names(self) -> list[str]:
        """Dataset names, MNIST first (the easy one reads first in comparisons)."""
        order = {"mnist": 0, "fashion-mnist": 1}
        return sorted(self.datasets, key=lambda n: (order.get(n, 9), n))

    def get(self, name: str) -> DatasetView:
        """The dataset called ``name``; ``KeyError`` with the known names otherwise."""
        try:
            return self.datasets[name]
        except (KeyError, TypeError):
            shown = repr(name)[:40] if isinstance(name, str) else type(name).__name__
            raise KeyError(f"unknown dataset {shown}; known: {', '.join(self.names)}") from None

    @property
    def report(self) -> dict:
        """The separability report, or ``{}`` when the pipeline has not made one."""
        with self._lock:
            if self._report is None:
                self._report = (read_json(self.artifacts.resolve(self._report_rel))
                                if self._report_rel else {})
            return self._report

"""Read-only view of the pipeline's artifacts for the explorer.

``current.json`` is re-read when it changes (the pipeline serves the first dataset
while it still prepares the second); each dataset's arrays are loaded on first use
(images and k-NN memory-mapped) and kept, behind a lock so that waitress threads never
load the same file twice.  Datasets whose folders did not change keep their loaded arrays.

Every file is read through :class:`core.store.ArtifactStore`'s verified loaders: a
file that no longer matches the size and sha256 its folder recorded when it was
published raises :class:`core.store.DamagedArtifact` (a ``CacheError``) naming it,
which the page shows in its alert area and the HTTP routes answer with a 503.

What the explorer knows about a dataset (title, class names, the class pair charted
first, its colour in comparisons) comes from its ``current.json`` entry alone; the
explorer holds no list of dataset names.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.store import ArtifactStore, CacheError
from core.vocab import PROJECTION_LABELS, SPACE_LABELS, SPACES

from .snapshots import DynamicsView, rows_of_test_ids

log = logging.getLogger(__name__)

#: Projection methods in the order the page lists them (``core.vocab.METHODS`` is the pipeline's order).
PROJECTIONS = ("umap", "tsne", "pca")
_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}")

__all__ = ["PROJECTIONS", "PROJECTION_LABELS", "SPACES", "SPACE_LABELS", "DatasetView", "DynamicsView",
           "ExplorerStore", "rows_of_test_ids", "pid_alive"]


@dataclass
class DatasetView:
    """One dataset as ``current.json`` names it, with lazily loaded arrays.

    Row ``i`` of every array is the same sample; ``row`` is the index the whole
    explorer passes around (URLs, figures, CSV).  ``sample_ids[row]`` is the id
    of ``index.npy`` (0-9999 test, or 0-69999 for the full set).

    ``artifacts`` verifies each file against its folder's record before it is read;
    a view made without one (tests) verifies against a store rooted at the embed
    folder's parent.  ``default_pair`` and ``colour`` are ``current.json``'s facts,
    ``None`` where an older cache lacks them (see :meth:`pair_to_chart`).
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
    artifacts: ArtifactStore | None = None
    default_pair: tuple[int, int] | None = None
    colour: str | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    # reentrant: a derived array (confidence, confusion) loads its inputs under the same lock
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        if self.artifacts is None:
            self.artifacts = ArtifactStore(Path(self.embed_dir).parent)

    @property
    def version(self) -> str:
        """Key of the embed folder: changes whenever the images or rows change."""
        return self.embed_dir.name

    def cached(self, key: str, make) -> Any:
        """``make()``, computed once per view and kept (a new folder gets a new view).

        Anything derived from the view's arrays (figure groups, say) belongs here rather
        than in a module-level cache, so that two apps in one process share nothing.
        A ``make`` that raises stores nothing: the next call tries again.
        """
        with self._lock:
            if key not in self._cache:
                self._cache[key] = make()
            return self._cache[key]

    def _array(self, name: str, mmap: bool = False) -> np.ndarray:
        def load() -> np.ndarray:
            arr = self.artifacts.load_array(self.embed_dir / name, mmap=mmap)
            if len(arr) != self.n:
                raise CacheError(f"{self.embed_dir / name} has {len(arr)} rows, current.json says "
                                 f"{self.n}; rerun the pipeline")
            return arr
        return self.cached(name, load)

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
        return self.cached("confidence", lambda: self.proba.max(axis=1).astype(np.float32))

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
        return self.cached("confusion", compute)

    @property
    def metrics(self) -> dict:
        return self.cached("metrics", lambda: self.artifacts.read_json(self.model_dir / "metrics.json"))

    def coords(self, space: str, projection: str) -> np.ndarray:
        """float32 (n, 2) coordinates; a 3-D projection shows its first two axes."""
        try:
            d = self.projection_dirs[space][projection]
        except KeyError:
            raise KeyError(f"{self.name} has no {space}/{projection} projection") from None

        def load() -> np.ndarray:
            arr = self.artifacts.load_array(d / "coords.npy")
            if arr.ndim != 2 or arr.shape[0] != self.n or arr.shape[1] < 2:
                raise CacheError(f"{d / 'coords.npy'} has shape {arr.shape}, expected ({self.n}, 2)")
            return np.ascontiguousarray(arr[:, :2], dtype=np.float32)
        return self.cached(f"coords-{space}-{projection}", load)

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

    def pair_to_chart(self) -> tuple[int, int]:
        """The class pair charted first in "Training dynamics", as ``(low, high)``.

        ``current.json``'s ``default_pair`` when it names two different classes; else
        (older caches) the pair the CNN confused most at the last snapshot, or ``(0, 1)``
        without snapshots.
        """
        k = len(self.class_names)
        pair = self.default_pair
        if pair is not None and pair[0] != pair[1] and all(0 <= c < k for c in pair):
            return (min(pair), max(pair))
        dyn = self.dynamics
        if dyn is None or k < 2:
            return (0, 1)
        c = dyn.confusion(dyn.n_frames - 1)
        both = c + c.T
        np.fill_diagonal(both, -1)
        a, b = np.unravel_index(int(both.argmax()), both.shape)
        return (int(min(a, b)), int(max(a, b)))

    @property
    def dynamics(self) -> DynamicsView | None:
        """The aligned training-dynamics frames, or ``None`` for a model without snapshots."""
        if self.dynamics_dir is None:
            return None
        return self.cached("dynamics", lambda: DynamicsView(self.dynamics_dir, self.artifacts, self.sample_ids,
                                                          self.sample_set))


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
    core.store.CacheError
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
        # dicts keep current.json's order: the page lists the datasets as the pipeline wrote them
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
                    name=name, title=str(e.get("title") or name), class_names=list(e["class_names"]),
                    sample_set=e.get("sample_set", "test"), n=int(e["n"]),
                    embed_dir=artifacts.resolve(e["embed"]), model_dir=artifacts.resolve(e["model"]),
                    projection_dirs={s: {p: artifacts.resolve(r) for p, r in ps.items()}
                                     for s, ps in e["projections"].items()},
                    dynamics_dir=artifacts.resolve(dyn) if dyn else None, artifacts=artifacts,
                    default_pair=_pair_fact(name, e.get("default_pair")),
                    colour=_colour_fact(name, e.get("colour")))
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
        """Dataset names in ``current.json``'s order (the pipeline writes the easier one first)."""
        return list(self.datasets)

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
                self._report = (self.artifacts.read_json(self.artifacts.resolve(self._report_rel))
                                if self._report_rel else {})
            return self._report


def _pair_fact(name: str, value: Any) -> tuple[int, int] | None:
    """``current.json``'s ``default_pair`` as two ints; ``None`` if absent or malformed."""
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(c, int) and not isinstance(c, bool) for c in value)):
        return int(value[0]), int(value[1])
    if value is not None:
        log.warning("current.json: default_pair %r of %s is not two class numbers; "
                    "charting its most confused pair", value, name)
    return None


def _colour_fact(name: str, value: Any) -> str | None:
    """``current.json``'s ``colour`` if it is a CSS hex colour; ``None`` (a palette colour) otherwise."""
    if isinstance(value, str) and _COLOUR.fullmatch(value):
        return value
    if value is not None:
        log.warning("current.json: colour %r of %s is not a hex colour; using a palette colour", value, name)
    return None

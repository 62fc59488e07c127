"""Read-only view of the pipeline's artifacts for the explorer.

``current.json`` is read once; each dataset's arrays are loaded on first use
(images memory-mapped) and kept, behind a lock so that waitress threads never
load the same file twice.
"""
from __future__ import annotations

import logging
import threading
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


class ExplorerStore:
    """Everything the explorer shows, read from one cache root.

    Parameters
    ----------
    artifacts : ArtifactStore
        The pipeline's store; only ``current.json`` and the paths it names are read.

    Raises
    ------
    pipeline.cache.CacheError
        If ``current.json`` is missing or malformed.
    """

    def __init__(self, artifacts: ArtifactStore):
        self.artifacts = artifacts
        current = artifacts.read_current()
        try:
            entries = current["datasets"]
        except (KeyError, TypeError):
            raise CacheError(f"{artifacts.root}/current.json has no 'datasets'; rerun the pipeline") from None
        self.datasets: dict[str, DatasetView] = {}
        for name, e in entries.items():
            try:
                self.datasets[name] = DatasetView(
                    name=name, title=e.get("title", name), class_names=list(e["class_names"]),
                    sample_set=e.get("sample_set", "test"), n=int(e["n"]),
                    embed_dir=artifacts.resolve(e["embed"]), model_dir=artifacts.resolve(e["model"]),
                    projection_dirs={s: {p: artifacts.resolve(r) for p, r in ps.items()}
                                     for s, ps in e["projections"].items()})
            except (KeyError, TypeError, ValueError) as err:
                raise CacheError(f"current.json entry {name!r} is incomplete ({err!r}); "
                                 "rerun the pipeline") from None
        if not self.datasets:
            raise CacheError(f"{artifacts.root}/current.json lists no datasets; run the pipeline")
        self._report_rel = current.get("report")
        self._report: dict | None = None
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        """Dataset names, MNIST first (the easy one reads first in comparisons)."""
        order = {"mnist": 0, "fashion-mnist": 1}
        return sorted(self.datasets, key=lambda n: (order.get(n, 9), n))

    def get(self, name: str) -> DatasetView:
        """The dataset called ``name``; ``KeyError`` with the known names otherwise."""
        try:
            return self.datasets[name]
        except KeyError:
            raise KeyError(f"unknown dataset {name!r}; known: {', '.join(self.names)}") from None

    @property
    def report(self) -> dict:
        """The separability report, or ``{}`` when the pipeline has not made one."""
        with self._lock:
            if self._report is None:
                self._report = (read_json(self.artifacts.resolve(self._report_rel))
                                if self._report_rel else {})
            return self._report

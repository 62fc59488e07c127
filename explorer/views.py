"""One dataset as ``current.json`` (version 2) names it, and each model's view of its samples.

A :class:`DatasetView` holds what every model shares: the sample set (images, true labels, sample ids)
and the dataset's facts.  Its :class:`ModelView`\\ s, one per model in ``current.json``'s order, hold
what a model makes of those samples: predictions, probabilities, the k-NN graph of its embedding, a
layout per projection, its training dynamics, suspected label errors (``issues/<key>/``) and per
layout how faithfully it keeps its neighbourhoods (``faith/<key>/``), where made.  Arrays are loaded
on first use (images and k-NN memory-mapped) through :class:`core.store.ArtifactStore`'s verified
loaders and kept on the dataset's view, behind its lock.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.store import ArtifactStore, CacheError

from .labelissues import LabelIssues
from .snapshots import DynamicsView
from .thumbnails import SpriteGrid

log = logging.getLogger(__name__)

#: neighbours per point that ``faithfulness.npy`` compares where its folder does not say (the stage's default)
FAITH_K = 10
#: ``current.json``'s ``image_shape`` where a cache names none (made before imported datasets)
DEFAULT_IMAGE_SHAPE = (28, 28, 1)
#: where a dataset's images come from (``current.json``'s ``source``): a built-in one, or a user's own
SOURCES = ("builtin", "imported")


def _rows_checked(arr: np.ndarray, path: Path, n: int) -> np.ndarray:
    if len(arr) != n:
        raise CacheError(f"{path} has {len(arr)} rows, current.json says {n}; rerun the pipeline")
    return arr


@dataclass(eq=False)
class DatasetView:
    """One dataset: its samples (``samples/<key>/``), its facts and its models.

    Row ``i`` of every array, the dataset's and each model's, is the same sample; ``row`` is the index the
    whole explorer passes around (URLs, figures, CSV). ``sample_ids[row]`` is the id of ``index.npy``
    (0-9999 test, or 0-69999 for the full set; an imported dataset's 0 to n-1, with no train/test split).

    ``artifacts`` verifies each file against its folder's record before it is read (made without one,
    against a store at the samples folder's parent).  ``default_pair`` and ``colour`` are
    ``current.json``'s facts (``None`` where it lacks them); ``image_shape`` is ``(h, w, c)``, c = 1 or 3;
    ``source`` is ``"builtin"`` or ``"imported"``; ``models`` is filled with :meth:`add_model`.
    """

    name: str
    title: str
    class_names: list[str]
    sample_set: str
    n: int
    samples_dir: Path
    default_model: str = ""
    artifacts: ArtifactStore | None = None
    default_pair: tuple[int, int] | None = None
    colour: str | None = None
    image_shape: tuple[int, int, int] = DEFAULT_IMAGE_SHAPE
    source: str = "builtin"
    n_train: int = 60_000  # training images: test image t is sample id n_train + t in ``sample_set="all"``
    #: ``current.json``'s projection methods: ``{name: {"title", "about"[, "order"]}}`` ({} in an older cache);
    #: read through :func:`explorer.store.method_facts`
    methods: dict[str, dict] = field(default_factory=dict)
    duplicates_dir: Path | None = None  # its near-duplicates folder, where made (newer caches)
    models: dict[str, "ModelView"] = field(default_factory=dict)
    #: a view of ``base`` showing corrected labels (``explorer.corrections.shown``): arrays read from files are base's
    base: "DatasetView | None" = field(default=None, repr=False)
    label_override: np.ndarray | None = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    # reentrant: a derived array (confidence, confusion) loads its inputs under the same lock
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        if self.artifacts is None:
            self.artifacts = ArtifactStore(Path(self.samples_dir).parent)

    @property
    def version(self) -> str:
        """Key of the samples folder: changes whenever the images or rows change (sprite URLs carry it)."""
        return Path(self.samples_dir).name

    def cached(self, key: str, make) -> Any:
        """``make()``, computed once per view and kept (a new folder gets a new view).

        Anything derived from the arrays (figure groups, say) belongs here, not in a module-level cache:
        two apps in one process share nothing.  A ``make`` that raises stores nothing.
        """
        if self.base is not None and (key.endswith((".npy", "sprite-grid")) or "/coords-" in key):
            return self.base.cached(key, make)  # a file's array is the same whatever the labels
        with self._lock:
            if key not in self._cache:
                self._cache[key] = make()
            return self._cache[key]

    def _array(self, name: str, mmap: bool = False) -> np.ndarray:
        path = Path(self.samples_dir) / name
        return self.cached(name, lambda: _rows_checked(self.artifacts.load_array(path, mmap=mmap), path, self.n))

    @property
    def imported(self) -> bool:
        """Whether these are a user's own images (no train/test split, no training snapshots)."""
        return self.source == "imported"

    @property
    def grid(self) -> SpriteGrid:
        """How its images are tiled on sprite pages (tile size, grey or RGB)."""
        return self.cached("sprite-grid", lambda: SpriteGrid.of(self.image_shape))

    @property
    def images(self) -> np.ndarray:
        """uint8 (n, h, w), or (n, h, w, 3) for RGB, memory-mapped: 70,000 images need not sit in RAM.

        Raises
        ------
        core.store.CacheError
            If ``images.npy`` is not uint8 of the shape ``current.json``'s ``image_shape`` says.
        """
        path = Path(self.samples_dir) / "images.npy"

        def load() -> np.ndarray:
            arr = _rows_checked(self.artifacts.load_array(path, mmap=True), path, self.n)
            h, w, c = self.image_shape
            want = (h, w) if c == 1 else (h, w, c)
            if arr.dtype != np.uint8 or tuple(arr.shape[1:]) != want:
                raise CacheError(f"{path} holds {arr.dtype} {tuple(arr.shape)}, current.json's image_shape "
                                 f"{list(self.image_shape)} means uint8 ({self.n}, {', '.join(map(str, want))}); "
                                 "rerun the pipeline")
            return arr
        return self.cached("images.npy", load)

    @property
    def labels(self) -> np.ndarray:
        """The labels shown: the dataset's, or corrected ones in a corrected view (:attr:`base`)."""
        return self._array("labels.npy") if self.label_override is None else self.label_override

    @property
    def original_labels(self) -> np.ndarray:
        return (self.base or self).labels

    @property
    def sample_ids(self) -> np.ndarray:
        return self._array("index.npy")

    @property
    def duplicates(self):
        """Its near-duplicate groups (:class:`explorer.duplicates.Duplicates`), or ``None`` where not made."""
        from .duplicates import Duplicates

        ds = self.base or self  # the dataset's own labels, also in a corrected view
        return None if self.duplicates_dir is None else ds.cached(
            "duplicates", lambda: Duplicates.load(self.duplicates_dir, ds.artifacts, ds))

    # -- models ---------------------------------------------------------------------------
    def add_model(self, name: str, title: str, kind: str, embed_dir: Path, model_dir: Path,
                  projection_dirs: dict[str, Path], dynamics_dir: Path | None = None,
                  issues_dir: Path | None = None, faith_dirs: dict[str, Path] | None = None,
                  projection3d_dirs: dict[str, Path] | None = None, article: str = "the",
                  layers_dir: Path | None = None) -> "ModelView":
        """Add one model's view (in ``current.json``'s order) and return it.

        ``issues_dir`` and ``faith_dirs`` (projection -> folder) are optional: a cache made
        before them has none, and the views they feed say so.
        """
        view = ModelView(ds=self, name=name, title=title, kind=kind, embed_dir=Path(embed_dir),
                         model_dir=Path(model_dir), projection_dirs=dict(projection_dirs),
                         dynamics_dir=Path(dynamics_dir) if dynamics_dir else None,
                         issues_dir=Path(issues_dir) if issues_dir else None,
                         faith_dirs={p: Path(d) for p, d in (faith_dirs or {}).items()},
                         projection3d_dirs={p: Path(d) for p, d in (projection3d_dirs or {}).items()},
                         article=article, layers_dir=Path(layers_dir) if layers_dir else None)
        self.models[name] = view
        if not self.default_model:
            self.default_model = name
        return view

    @property
    def model_names(self) -> list[str]:
        """The models in ``current.json``'s order (the ladder, then a user's models)."""
        return list(self.models)

    def model(self, name: str) -> "ModelView":
        """The model called ``name``; ``KeyError`` naming this dataset's models otherwise."""
        try:
            return self.models[name]
        except (KeyError, TypeError):
            shown = repr(name)[:40] if isinstance(name, str) else type(name).__name__
            raise KeyError(f"{self.title} has no model {shown}; its models: {', '.join(self.models)}") from None

    def pick(self, name: Any) -> "ModelView":
        """The model ``name`` if this dataset has it, else its default model (the dataset changed, or a URL
        outlived its cache)."""
        if isinstance(name, str) and name in self.models:
            return self.models[name]
        return self.models[self.default_model]

    def other_model(self, name: str) -> "ModelView":
        """The first model in order that is not ``name`` (the Compare view's right side); ``name``'s own if alone."""
        return next((m for m in self.models.values() if m.name != name), self.pick(name))

    def dynamics_model(self, prefer: Any = None) -> "ModelView | None":
        """The model whose training dynamics to show: ``prefer`` if it has snapshots, else the
        default model if it has, else the first that has; ``None`` when no model has."""
        order = [self.pick(prefer), self.pick(None), *self.models.values()]
        return next((m for m in order if m.dynamics_dir is not None), None)


@dataclass(eq=False)
class ModelView:
    """One model's view of its dataset's samples (``embed/<key>/``, ``proj/<key>/``, ``dynamics/<key>/``,
    ``issues/<key>/``, ``faith/<key>/``).

    ``ds`` is the dataset whose samples these rows are; derived arrays are kept in its
    cache under keys prefixed with the model's name.  ``issues_dir`` is ``None`` and
    ``faith_dirs`` lacks a projection where the pipeline made none.
    """

    ds: DatasetView
    name: str
    title: str
    kind: str
    embed_dir: Path
    model_dir: Path
    projection_dirs: dict[str, Path]
    dynamics_dir: Path | None = None
    issues_dir: Path | None = None
    faith_dirs: dict[str, Path] = field(default_factory=dict)
    projection3d_dirs: dict[str, Path] = field(default_factory=dict)  # the 3-D view's layouts, where made
    article: str = "the"  # current.json's: "" for a model called by its user's name
    layers_dir: Path | None = None  # the Layers view's folder (a network's), where made

    def __repr__(self) -> str:
        return f"ModelView({self.ds.name}/{self.name})"

    @property
    def the_title(self) -> str:
        """The title as words use it: ``the CNN``, ``the embeddings``; a model called by its user's name
        (``article`` empty: ``my_model``) and a title that speaks to the user (``your embeddings``) bare."""
        if not self.article or self.title.lower().startswith(("your ", "my ")):
            return self.title
        return f"{self.article} {self.title}"

    @property
    def possessive(self) -> str:
        """:attr:`the_title` owning something: ``the CNN's``, ``your embeddings'``."""
        return self.the_title + ("'" if self.the_title.endswith("s") else "'s")

    @property
    def version(self) -> str:
        """Key of the embed folder: changes whenever the model or its predictions change."""
        return self.embed_dir.name

    def cached(self, key: str, make) -> Any:
        """:meth:`DatasetView.cached` under this model's name."""
        return self.ds.cached(f"{self.name}/{key}", make)

    def _array(self, name: str, mmap: bool = False) -> np.ndarray:
        path = self.embed_dir / name
        return self.cached(name, lambda: _rows_checked(self.ds.artifacts.load_array(path, mmap=mmap),
                                                        path, self.ds.n))

    @property
    def pred(self) -> np.ndarray:
        """uint8 (n,): the model's predicted class."""
        return self._array("pred.npy")

    @property
    def proba(self) -> np.ndarray:
        """float32 (n, classes): its class probabilities (for ``pixels`` the neighbours' vote shares)."""
        return self._array("proba.npy")

    @property
    def knn(self) -> np.ndarray:
        """int32 (n, k) nearest neighbours of each row in the model's embedding, nearest first."""
        return self._array("knn-indices.npy", mmap=True)

    @property
    def confidence(self) -> np.ndarray:
        """float32 (n,): probability the model gave its predicted class."""
        return self.cached("confidence", lambda: self.proba.max(axis=1).astype(np.float32))

    @property
    def confusion(self) -> np.ndarray:
        """int64 (k, k) counts of the shown rows (rows = true, columns = predicted).

        Computed from the labels and ``pred`` rather than taken from ``metrics.json``, so
        that a cell's count is exactly the number of points it highlights, also when the
        full 70,000-sample set is shown.
        """
        def compute() -> np.ndarray:
            m = np.zeros((len(self.ds.class_names),) * 2, np.int64)
            np.add.at(m, (self.ds.labels.astype(np.intp), self.pred.astype(np.intp)), 1)
            return m
        return self.cached("confusion", compute)

    @property
    def metrics(self) -> dict:
        """The model's ``metrics.json``."""
        return self.cached("metrics", lambda: self.ds.artifacts.read_json(self.model_dir / "metrics.json"))

    def has(self, projection: str) -> bool:
        return projection in self.projection_dirs

    def coords(self, projection: str, dims: int = 2) -> np.ndarray:
        """float32 (n, dims) coordinates of one projection's 2-D (or 3-D: :attr:`projection3d_dirs`) layout."""
        try:
            d = (self.projection_dirs if dims == 2 else self.projection3d_dirs)[projection]
        except (KeyError, TypeError):
            raise KeyError(f"{self.ds.title} · {self.title} has no {str(projection)[:40]} projection"
                           + ("" if dims == 2 else " in 3-D")) from None

        def load() -> np.ndarray:
            arr = self.ds.artifacts.load_array(d / "coords.npy")
            if arr.ndim != 2 or arr.shape[0] != self.ds.n or arr.shape[1] < dims:
                raise CacheError(f"{d / 'coords.npy'} has shape {arr.shape}, expected ({self.ds.n}, {dims})")
            return np.ascontiguousarray(arr[:, :dims], dtype=np.float32)
        return self.cached(f"coords-{projection}" + ("" if dims == 2 else f"-{dims}d"), load)

    def rows_in_cell(self, true: int, pred: int) -> np.ndarray:
        """Rows whose true class is ``true`` and this model's predicted class ``pred``, ascending."""
        return np.flatnonzero((self.ds.labels == true) & (self.pred == pred))

    @property
    def dynamics(self) -> DynamicsView | None:
        """The aligned training-dynamics frames, or ``None`` for a model without snapshots."""
        if self.dynamics_dir is None:
            return None
        ds = self.ds
        return self.cached("dynamics", lambda: DynamicsView(self.dynamics_dir, ds.artifacts, ds.sample_ids,
                                                          ds.sample_set, ds.n_train))

    @property
    def depth(self):
        """The network layer by layer (:class:`explorer.depth.DepthView`), or ``None`` for a model without layers."""
        from .depth import DepthView

        return None if self.layers_dir is None else self.cached(
            "depth", lambda: DepthView.load(self.layers_dir, self.ds.artifacts, self.ds.n))

    # -- label issues and faithfulness (optional) ------------------------------------------
    @property
    def has_issues(self) -> bool:
        """Whether ``current.json`` names a label-issues folder for this model (nothing is read)."""
        return self.issues_dir is not None

    @property
    def issues(self) -> LabelIssues | None:
        """The suspected label errors (score, suggested, suspect, ranked), or ``None`` when not computed.

        Raises
        ------
        core.store.CacheError
            If the folder is damaged or disagrees with the samples.
        """
        if self.issues_dir is None or self.ds.base is not None:  # scored against the dataset's own labels
            return None if self.issues_dir is None else self.ds.base.models[self.name].issues
        return self.cached("issues", lambda: LabelIssues.load(self.issues_dir, self.ds.artifacts, self.ds))

    def has_faithfulness(self, projection: str) -> bool:
        """Whether ``current.json`` names a faithfulness folder for this model's ``projection`` layout."""
        return isinstance(projection, str) and projection in self.faith_dirs

    def faithfulness(self, projection: str) -> np.ndarray | None:
        """float32 (n,) in [0, 1]: share of each row's k nearest neighbours in the model's embedding that
        are among its window nearest in the ``projection`` layout (:meth:`faith_sizes`); ``None`` when
        not computed."""
        if not self.has_faithfulness(projection):
            return None
        path = self.faith_dirs[projection] / "faithfulness.npy"

        def load() -> np.ndarray:
            arr = _rows_checked(self.ds.artifacts.load_array(path), path, self.ds.n)
            if arr.ndim != 1 or arr.dtype.kind != "f" or not np.all((arr >= 0) & (arr <= 1)):
                raise CacheError(f"{path} is not one share in [0, 1] per row ({arr.dtype}, {arr.shape}); "
                                 "rerun the pipeline")
            return arr.astype(np.float32)
        return self.cached(f"faith-{projection}", load)

    def faith_sizes(self, projection: str) -> tuple[int, int]:
        """``(k, window)`` of ``projection``'s faithfulness: its folder's ``k_used``, ``window_used`` (k before it)."""
        def load() -> tuple[int, int]:
            config = self.ds.artifacts.recorded(self.faith_dirs[projection]).get("config") or {}
            k, w = config.get("k_used", config.get("k")), config.get("window_used", config.get("window"))
            k = k if isinstance(k, int) and not isinstance(k, bool) and k > 0 else FAITH_K
            return k, (w if isinstance(w, int) and not isinstance(w, bool) and w >= k else k)
        return self.cached(f"faith-sizes-{projection}", load)

    def true_neighbours(self, projection: str, row: int) -> int | None:
        """How many of ``row``'s k nearest in the embedding are among its window nearest in the layout, or ``None``."""
        f = self.faithfulness(projection)
        return None if f is None else int(round(float(f[row]) * self.faith_sizes(projection)[0]))

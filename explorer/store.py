"""Read-only view of the pipeline's artifacts for the explorer.

``current.json`` (version 2, ``docs/ARTIFACTS.md``) is re-read when it changes (the
pipeline serves the first dataset while it still prepares the second); each dataset is
a :class:`~explorer.views.DatasetView` (its samples) with one
:class:`~explorer.views.ModelView` per model, whose arrays are loaded on first use
(images and k-NN memory-mapped) and kept, behind a lock so that waitress threads never
load the same file twice.  Label issues, faithfulness and near-duplicates are optional.

Every file is read through :class:`core.store.ArtifactStore`'s verified loaders: a file that no longer
matches the size and sha256 its folder recorded when it was published raises :class:`core.store.DamagedArtifact` (a ``CacheError``) naming it,
which the page shows in its alert area and the HTTP routes answer with a 503.

What the explorer knows about a dataset (title, class names, the class pair charted first, its
colour in comparisons) comes from its ``current.json`` entry alone; it holds no list of dataset names.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from core import current as current_json
from core.store import ArtifactStore, CacheError
from core.vocab import PROJECTION_LABELS

from .labels import shown
from .snapshots import DynamicsView, rows_of_test_ids
from .views import DEFAULT_IMAGE_SHAPE, SOURCES, DatasetView, ModelView

log = logging.getLogger(__name__)

#: The projection methods of a cache whose ``current.json`` names none (made before it recorded the
#: methods' facts), in the page's order; otherwise :func:`method_facts` lists a dataset's methods.
PROJECTIONS = tuple(PROJECTION_LABELS)
#: characters of a method's title and of its "what it shows" line the page takes from current.json
_TITLE_CHARS, _ABOUT_CHARS = 40, 300
#: The ``current.json`` layout this explorer reads (``core/current.py``).
CURRENT_VERSION = current_json.CURRENT_VERSION
_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}")
#: bounds of an image's height and width (docs/ARTIFACTS.md); channels are 1 (grey) or 3 (RGB)
IMAGE_SIDE = (8, 64)

__all__ = ["PROJECTIONS", "PROJECTION_LABELS", "CURRENT_VERSION", "DatasetView", "ModelView", "DynamicsView",
           "ExplorerStore", "model_entry", "rows_of_test_ids", "pid_alive", "read_current", "method_facts",
           "method_title", "projections", "read_progress"]


def read_current(artifacts: ArtifactStore) -> dict:
    """``current.json`` of ``artifacts``, checked against its declaration and migrated to
    :data:`CURRENT_VERSION` (``core/current.py``).

    Raises
    ------
    core.store.CacheError
        If it is missing, not JSON, malformed (naming the entry and field), or written by an
        older (or newer) pipeline.
    """
    return artifacts.read_current()


def pid_alive(pid: Any) -> bool:
    """Whether process ``pid`` runs (a stale progress file outlives a killed pipeline)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:  # a zombie has ended: its parent just has not reaped it yet
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.AccessDenied:  # someone else's process: alive
        return True
    except psutil.Error:
        return False


PROGRESS_FILE = "progress.json"
RELOAD_CHECK_SECONDS = 1.0


def read_progress(root) -> dict | None:
    """``<root>/progress.json`` of a running pipeline, or ``None`` when none runs (or its pid is gone).

    Only its shape is checked here (an object with a live ``pid`` and a ``datasets`` object);
    :mod:`explorer.progress` checks each field before the page uses it.
    """
    try:
        with open(Path(root) / PROGRESS_FILE) as f:
            p = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(p, dict) or not pid_alive(p.get("pid")) or not isinstance(p.get("datasets"), dict):
        return None
    return p


class ExplorerStore:
    """Everything the explorer shows, read from one cache root, following ``current.json``.

    Parameters
    ----------
    artifacts : ArtifactStore
        The pipeline's store; only ``current.json``, ``progress.json`` and the paths
        ``current.json`` names are read.

    A pipeline that runs (its ``progress.json`` names a live pid) may not have written
    ``current.json`` yet, or one listing no dataset: the store then holds none (``names == []``,
    the page says what is being prepared) and :meth:`maybe_reload` picks up the first one.

    Raises
    ------
    core.store.CacheError
        If ``current.json`` is malformed, or missing (or lists no dataset) while no pipeline runs.
    """

    def __init__(self, artifacts: ArtifactStore):
        self.artifacts = artifacts
        self._lock = threading.Lock()
        #: called with the views after every (re)load, in the thread that loaded (explorer.warmup: must be quick)
        self.listeners: list = []
        self._entries: dict[str, str] = {}
        self.datasets: dict[str, DatasetView] = {}
        self._report_rel: str | None = None
        self._report: dict | None = None
        self._stamp = self._current_stamp()
        self._checked = time.monotonic()
        if self._stamp is None and self.progress() is not None:
            log.info("no current.json yet: waiting for the running pipeline's first dataset")
            return
        current = read_current(artifacts)
        self._load(current, empty_ok=self.progress() is not None)

    @property
    def waiting(self) -> bool:
        """True while the store holds no dataset (a pipeline that runs has published none yet)."""
        return not self.datasets

    def _current_stamp(self) -> tuple | None:
        try:
            st = (self.artifacts.root / "current.json").stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def _load(self, current: dict, empty_ok: bool = False) -> None:
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
            datasets[name] = _dataset_view(artifacts, name, e)
            signatures[name] = sig
        if not datasets and not empty_ok:
            raise CacheError(f"{artifacts.root}/current.json lists no datasets; run the pipeline")
        report_rel = current.get("report")
        with self._lock:
            if report_rel != self._report_rel:
                self._report = None
            self._report_rel = report_rel
            # one assignment each: a request thread sees the old or the new view, never a mix
            self.datasets = datasets
            self._entries = signatures
        for listener in list(self.listeners):
            listener(datasets)

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
            self._load(read_current(self.artifacts), empty_ok=self.waiting)
        except CacheError as e:
            log.warning("current.json changed but could not be read (%s); keeping the current view", e)
            return False
        self._stamp = stamp
        log.info("current.json changed: now serving %s", ", ".join(self.names))
        return True

    def progress(self) -> dict | None:
        """The running pipeline's ``progress.json``, or ``None`` when none runs (or its pid is gone)."""
        return read_progress(self.artifacts.root)

    @property
    def names(self) -> list[str]:
        """Dataset names in ``current.json``'s order (the pipeline writes the easier one first)."""
        return list(self.datasets)

    def get(self, name: str) -> DatasetView:
        """The dataset ``name``, labelled as the request asks (:func:`.labels.shown`); else ``KeyError``."""
        try:
            return shown(self.datasets[name])
        except (KeyError, TypeError):
            asked = repr(name)[:40] if isinstance(name, str) else type(name).__name__
            raise KeyError(f"unknown dataset {asked}; known: {', '.join(self.names)}") from None

    @property
    def report(self) -> dict:
        """The separability report, or ``{}`` when the pipeline has not made one."""
        with self._lock:
            if self._report is None:
                self._report = (self.artifacts.read_json(self.artifacts.resolve(self._report_rel))
                                if self._report_rel else {})
            return self._report

    def model_report(self, dataset: str, model: str) -> dict:
        """The report's entry of one model of one dataset (:func:`model_entry`)."""
        return model_entry(self.report, dataset, model)


def model_entry(report: dict, dataset: str, model: str) -> dict:
    """``report["datasets"][dataset]["models"][model]``, or ``{}`` where the report lacks it."""
    entry = report.get("datasets", {}).get(dataset, {}) if isinstance(report, dict) else {}
    models = entry.get("models", {}) if isinstance(entry, dict) else {}
    found = models.get(model) if isinstance(models, dict) else None
    return found if isinstance(found, dict) else {}


def _dataset_view(artifacts: ArtifactStore, name: str, e: dict) -> DatasetView:
    """The :class:`DatasetView` of one ``current.json`` entry, with its models in their order.

    Raises
    ------
    core.store.CacheError
        Naming the entry (and the model) when a required field is missing or malformed.
    """
    where = f"current.json entry {name!r}"
    try:
        ds = DatasetView(
            name=name, title=str(e.get("title") or name), class_names=list(e["class_names"]),
            sample_set=e.get("sample_set", "test"), n=int(e["n"]), samples_dir=artifacts.resolve(e["samples"]),
            artifacts=artifacts, default_pair=_pair_fact(name, e.get("default_pair")),
            colour=_colour_fact(name, e.get("colour")), image_shape=_shape_fact(name, e.get("image_shape")),
            source=_source_fact(name, e.get("source")), methods=_methods_fact(name, e.get("methods")),
            # a cache without it holds the built-in datasets of 60,000 training images
            n_train=e["n_train"] if isinstance(e.get("n_train"), int) and e["n_train"] >= 0 else 60_000)
        models = e["models"]
        for model, m in models.items():
            where = f"current.json entry {name!r}, model {model!r}"
            dyn, issues = m.get("dynamics"), m.get("issues")
            ds.add_model(model, title=str(m.get("title") or model), kind=str(m.get("kind") or model),
                         article=str(m.get("article", "the")),
                         embed_dir=artifacts.resolve(m["embed"]), model_dir=artifacts.resolve(m["model"]),
                         projection_dirs={p: artifacts.resolve(r) for p, r in m["projections"].items()},
                         dynamics_dir=artifacts.resolve(dyn) if dyn else None,
                         layers_dir=artifacts.resolve(m["layers"]) if m.get("layers") else None,
                         # optional (issue 13): older caches have neither, null means not computed
                         issues_dir=artifacts.resolve(issues) if issues else None,
                         faith_dirs={p: artifacts.resolve(r) for p, r in (m.get("faithfulness") or {}).items()
                                     if r},
                         # optional too: the 3-D view's layouts (PCA always, t-SNE and UMAP with --dims 3)
                         projection3d_dirs={p: artifacts.resolve(r)
                                            for p, r in (m.get("projections3d") or {}).items() if r})
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise CacheError(f"{where} is incomplete ({err!r}); rerun the pipeline") from None
    if not ds.models:
        raise CacheError(f"current.json entry {name!r} lists no models; rerun the pipeline")
    ds.duplicates_dir = artifacts.resolve(e["duplicates"]) if e.get("duplicates") else None
    default = e.get("default_model")
    if default in ds.models:
        ds.default_model = default
    else:
        log.warning("current.json: default_model %r of %s is none of its models; opening with %s",
                    default, name, ds.default_model)
    return ds


def _pair_fact(name: str, value: Any) -> tuple[int, int] | None:
    """``current.json``'s ``default_pair`` as two ints; ``None`` if absent or malformed."""
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(c, int) and not isinstance(c, bool) for c in value)):
        return int(value[0]), int(value[1])
    if value is not None:
        log.warning("current.json: default_pair %r of %s is not two class numbers; "
                    "charting its most confused pair", value, name)
    return None


def _shape_fact(name: str, value: Any) -> tuple[int, int, int]:
    """``current.json``'s ``image_shape`` ``[h, w, c]``; ``[28, 28, 1]`` where absent (an older cache).

    Raises
    ------
    core.store.CacheError
        If it is there but not three integers with h and w in :data:`IMAGE_SIDE` and c 1 or 3:
        the images could not be drawn.
    """
    if value is None:
        return DEFAULT_IMAGE_SHAPE
    lo, hi = IMAGE_SIDE
    if (isinstance(value, (list, tuple)) and len(value) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and lo <= value[0] <= hi and lo <= value[1] <= hi and value[2] in (1, 3)):
        return int(value[0]), int(value[1]), int(value[2])
    raise CacheError(f"current.json entry {name!r} has image_shape {str(value)[:60]}, not [h, w, c] with h and w "
                     f"from {lo} to {hi} and c 1 (grey) or 3 (RGB); rerun the pipeline")


def _methods_fact(name: str, value: Any) -> dict[str, dict]:
    """``current.json``'s ``methods`` as ``{name: {"title", "about"[, "order"]}}``; ``{}`` if absent or malformed."""
    if not value:
        return {}
    ok = isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(f, dict) and isinstance(f.get("title"), str)
        and isinstance(f.get("about", ""), str) for k, f in value.items())
    if not ok:
        log.warning("current.json: methods of %s are not {name: {title, about}}; naming the layouts by their "
                    "method", name)
        return {}
    return {k: {"title": f["title"][:_TITLE_CHARS], "about": f.get("about", "")[:_ABOUT_CHARS],
                **({"order": f["order"]} if isinstance(f.get("order"), int) else {})} for k, f in value.items()}


def method_facts(where: "DatasetView | ExplorerStore | None") -> dict[str, dict]:
    """The projection methods ``where`` has, in the page's order: ``{name: {"title", "about"}}``.

    The one reader of a dataset's method facts: ``current.json`` records them from the
    pipeline's registry of methods, so a method new to this explorer is listed and titled all
    the same.  A cache without them has :data:`PROJECTIONS`, titled as
    :data:`core.vocab.PROJECTION_LABELS` says; a layout of a model that neither names comes last,
    called by its name.  For the whole store, every dataset's methods (the first dataset's facts
    win); for ``None``, :data:`PROJECTIONS`.
    """
    if isinstance(where, ExplorerStore):
        merged: dict[str, dict] = {}
        for ds in where.datasets.values():
            for n, f in method_facts(ds).items():
                merged.setdefault(n, f)
        return _in_order(merged)
    facts = dict(where.methods) if where is not None else {}
    if not facts:
        facts = {p: {"title": PROJECTION_LABELS[p], "about": ""} for p in PROJECTIONS}
    for m in (where.models.values() if where is not None else ()):
        for p in (*m.projection_dirs, *m.projection3d_dirs):
            facts.setdefault(p, {"title": PROJECTION_LABELS.get(p, str(p)[:_TITLE_CHARS]), "about": ""})
    return _in_order(facts)


def _in_order(facts: dict[str, dict]) -> dict[str, dict]:
    """By each method's ``order`` where every one has one; else as written (the pipeline writes them in order)."""
    if facts and all("order" in f for f in facts.values()):
        return dict(sorted(facts.items(), key=lambda kv: kv[1]["order"]))
    return facts


def method_title(where: "DatasetView | ExplorerStore | None", name: Any) -> str:
    """How the page calls projection ``name`` ("t-SNE"): :func:`method_facts`' title, else its name."""
    if not isinstance(name, str):
        return str(name)[:_TITLE_CHARS]
    found = method_facts(where).get(name)
    return found["title"] if found else PROJECTION_LABELS.get(name, name[:_TITLE_CHARS])


def projections(where: "DatasetView | ExplorerStore | None") -> list[str]:
    """The names of the projection methods ``where`` has, in the page's order (:func:`method_facts`)."""
    return list(method_facts(where))


def _source_fact(name: str, value: Any) -> str:
    """``current.json``'s ``source``: ``builtin`` (also where absent) or ``imported``."""
    if value is None or value in SOURCES:
        return value or SOURCES[0]
    log.warning("current.json: source %r of %s is none of %s; taking it for built-in", value, name,
                ", ".join(SOURCES))
    return SOURCES[0]


def _colour_fact(name: str, value: Any) -> str | None:
    """``current.json``'s ``colour`` if it is a CSS hex colour; ``None`` (a palette colour) otherwise."""
    if isinstance(value, str) and _COLOUR.fullmatch(value):
        return value
    if value is not None:
        log.warning("current.json: colour %r of %s is not a hex colour; using a palette colour", value, name)
    return None

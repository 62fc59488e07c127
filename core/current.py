"""``current.json``, declared once: what the explorer shows, written by the pipeline, read by both.

The file names, per dataset, the folders of every model's artifacts (``docs/ARTIFACTS.md``).
:class:`ModelEntry` and :class:`DatasetEntry` are its typed parts: the pipeline builds them
(``pipeline/run.py``'s ``publish``), :func:`to_json` writes them, and :func:`parse` checks a
file read back against the same declarations, with a message naming the entry and the field,
and migrates the file formats it knows.

Versions: 1 had one model per dataset (refused: a rerun reuses the trained models); 2 added a
model ladder per dataset; 3 adds each dataset's ``methods`` (title and what each layout method
shows, so the explorer learns a new method from the cache) and the run's ``stages`` (the version
of each stage that made the folders). A version 2 file is migrated when read.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Any

from core.errors import CacheError
from core.vocab import PROJECTION_LABELS

CURRENT_VERSION = 3
#: The only layout methods a version 2 file could name, with the facts version 3 records (titles: the
#: explorer's fallback for a cache without them, ``core.vocab.PROJECTION_LABELS``).
_V2_ABOUT = {"umap": "local neighbourhoods, some global structure",
             "tsne": "local neighbourhoods; distances between clusters mean little",
             "pca": "the two directions of largest variance: linear, global"}
V2_METHODS = {p: {"title": title, "about": _V2_ABOUT[p]} for p, title in PROJECTION_LABELS.items()}
#: The model kinds called by their user's name in a file written before each model's ``article`` was
#: (a user's ``.keras``): such an entry gets "" when read, every other "the".
NAMED_BEFORE_ARTICLES = ("keras",)
RERUN = "rerun the pipeline"


@dataclasses.dataclass(kw_only=True)
class ModelEntry:
    """One model of a dataset: paths (relative to the cache root) of its artifact folders."""

    title: str = ""
    kind: str = ""
    # the word before its title in a sentence, as its kind says (training/kinds/): "the" (the CNN), or
    # "" for a model called by its user's name
    article: str = "the"
    model: str
    embed: str
    projections: dict[str, str]  # the 2-D layouts every view uses
    # optional folders: absent, null (older caches) or empty where the run made none
    projections3d: dict[str, str] | None = dataclasses.field(default_factory=dict)  # the 3-D view's
    dynamics: str | None = None
    layers: str | None = None  # the Layers view's frames (a network's; newer caches)
    issues: str | None = None
    faithfulness: dict[str, str] | None = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(kw_only=True)
class DatasetEntry:
    """One dataset: its facts (``core.datasets.DatasetFacts.to_json``), its samples and models."""

    title: str = ""
    class_names: list[str]
    mirror_symmetric: bool = False
    default_pair: list[int] | None = None
    colour: str | None = None
    image_shape: list[int] | None = None
    source: str = "builtin"
    n_train: int | None = None  # training images before the test images in sample ids (sample_set "all")
    run: dict | None = None  # the run that made it (an imported dataset's adds its import_folder)
    sample_set: str = "test"
    n: int
    samples: str
    default_model: str = ""
    models: dict[str, ModelEntry]
    methods: dict[str, dict] = dataclasses.field(default_factory=dict)
    duplicates: str | None = None  # its near-duplicates folder (newer caches)


def to_json(datasets: dict[str, DatasetEntry | dict], report: str, run: dict, stages: dict[str, int]) -> dict:
    """The file's content: entries as dicts (an entry kept from an earlier file passes as it is)."""
    out = {}
    for name, entry in datasets.items():
        d = dataclasses.asdict(entry) if dataclasses.is_dataclass(entry) else dict(entry)
        for model in d.get("models", {}).values():  # absent optional folders stay absent, as before
            for key in ("issues", "faithfulness", "layers"):
                if not model.get(key):
                    model.pop(key, None)
        if not d.get("duplicates"):
            d.pop("duplicates", None)
        out[name] = d
    return {"version": CURRENT_VERSION, "datasets": out, "report": report, "run": run, "stages": dict(stages)}


def parse(current: Any, path: str) -> dict:
    """``current`` (the file's JSON) checked against the declarations, migrated to :data:`CURRENT_VERSION`.

    Raises
    ------
    CacheError
        Naming the file, the entry and the field, and what to do: a version 1 file or one without
        a version asks for a rerun (trained models are reused); a newer one for an update of this
        checkout; a missing or mistyped field names itself.
    """
    version = current.get("version") if isinstance(current, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version > CURRENT_VERSION:
        raise CacheError(f"{path} is version {version}, written by a newer pipeline than this checkout "
                         f"(it reads versions 2 to {CURRENT_VERSION}); update this checkout")
    if version == 1 or version is None:
        raise CacheError(f"{path} was written by an older pipeline (version {version!r}, one model per dataset; "
                         f"this one reads versions 2 to {CURRENT_VERSION}, with several models per dataset): "
                         "rerun `./run.sh` (trained models are reused)")
    if version not in (2, CURRENT_VERSION):
        raise CacheError(f"{path} has an unknown format (version {version!r}, expected {CURRENT_VERSION}); {RERUN}")
    datasets = current.get("datasets")
    if not isinstance(datasets, dict):
        raise CacheError(f"{path} has no 'datasets'; {RERUN}")
    for name, entry in datasets.items():
        _check(entry, DatasetEntry, f"current.json entry {name!r}")
        for model, m in entry["models"].items():
            _check(m, ModelEntry, f"current.json entry {name!r}, model {model!r}")
    if version == 2:
        current = migrate_v2(current)
    for entry in current["datasets"].values():  # written before models had an article
        for m in entry["models"].values():
            m.setdefault("article", "" if m.get("kind") in NAMED_BEFORE_ARTICLES else "the")
    return current


def migrate_v2(current: dict) -> dict:
    """A version 2 file as version 3: every dataset's methods are the three a version 2 run knew."""
    datasets = {}
    for name, entry in current["datasets"].items():
        named = {p for m in entry["models"].values() for p in (*m["projections"], *(m.get("projections3d") or {}))}
        methods = {p: dict(facts) for p, facts in V2_METHODS.items() if p in named}
        datasets[name] = {**entry, "methods": entry.get("methods") or methods}
    return {**current, "datasets": datasets, "version": CURRENT_VERSION, "stages": current.get("stages", {})}


_SIMPLE = {str: str, int: int, bool: bool, float: (int, float), dict: dict, list: list}


def _check(value: Any, cls: type, where: str) -> None:
    """Raise a :class:`CacheError` naming ``where`` and the field unless ``value`` fits ``cls``'s fields."""
    if not isinstance(value, dict):
        raise CacheError(f"{where} is incomplete (not an object: {type(value).__name__}); {RERUN}")
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.name not in value:
            if required:
                raise CacheError(f"{where} is incomplete (no {f.name!r}); {RERUN}")
            continue
        if not _fits(value[f.name], hints[f.name]):
            raise CacheError(f"{where} is incomplete ({f.name!r} is {str(value[f.name])[:60]!r}, "
                             f"not {_name(hints[f.name])}); {RERUN}")


def _fits(value: Any, hint: Any) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(_fits(value, a) for a in args)
    if hint is type(None):
        return value is None
    if origin is dict:
        # a model's folders must be paths; other dicts (a run record, method facts) only dicts
        return isinstance(value, dict) and (args[1] is not str or all(isinstance(v, str) for v in value.values()))
    if origin is list:
        return isinstance(value, list)
    if hint is ModelEntry:
        return isinstance(value, dict)
    want = _SIMPLE.get(hint, object)
    return isinstance(value, want) and not (hint in (int, float) and isinstance(value, bool))


def _name(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")

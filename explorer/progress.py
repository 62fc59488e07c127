"""What a running pipeline says it is doing (``progress.json``), checked, in words; and the page's wish
for a view not made yet (``wanted.json``).

``progress.json`` is written by another process and read on every poll: every field is untrusted, so
:func:`dataset_progress` keeps only well-typed values, strings and lists cut to a bound.  Its shape::

    {"pid": int, "updated": float, "datasets": {name: {
        "stage": str, "words": str, "detail": str, "title": str,
        "coming": [{"model": "cnn", "title": "CNN", "proj": "umap", "eta_s": 140.0}, ...],
        "epochs": {"model": "cnn", "epoch": 3, "of": 8,
                   "history": [{"epoch": 1, "loss": 0.31, "accuracy": 0.91, "val_accuracy": 0.97}, ...]}}}}

``coming`` lists the 2-D views not published yet in the order the pipeline makes them, each with its
estimated seconds until ready (``null`` when unknown); ``epochs`` is there while a network trains.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.store import write_json_atomic

#: the file the page writes when asked for a view not made yet; the pipeline may make it sooner
WANTED_FILE = "wanted.json"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # a dataset's, model's or method's name
MAX_COMING, MAX_EPOCHS = 64, 500  # entries kept of ``coming`` and of an ``epochs`` history
MAX_ETA_S = 7 * 24 * 3600.0
_TITLE, _WORDS, _DETAIL = 40, 80, 80  # characters kept of a title, the stage's words, its detail
#: the words of a progress.json written before the pipeline wrote each stage's own (pipeline/stages.py)
STAGE_WORDS = {"train": "training", "waiting": "waiting for its turn", "fetch": "fetching the data",
               "embed": "extracting embeddings", "project": "projecting", "dynamics": "aligning training snapshots",
               "report": "measuring separability", "faith": "measuring how faithful each layout is",
               "issues": "looking for label errors"}
SPARK = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Coming:
    """A 2-D view the pipeline will make: ``proj`` of ``model`` (titled ``title``), ready in ``eta_s`` s."""

    model: str
    title: str
    proj: str
    eta_s: float | None


@dataclass(frozen=True)
class Epochs:
    """A network in training: epoch ``epoch`` of ``of``; ``history`` one dict per finished epoch
    (``epoch`` int, ``loss``, ``accuracy``, ``val_accuracy`` floats or ``None``)."""

    model: str
    epoch: int
    of: int
    history: tuple[dict, ...]


@dataclass(frozen=True)
class DatasetProgress:
    """One dataset's entry of ``progress.json``, checked."""

    name: str
    title: str
    stage: str
    words: str
    detail: str
    coming: tuple[Coming, ...] = ()
    epochs: Epochs | None = None

    def eta(self, model: str, proj: str | None = None) -> float | None:
        """Seconds until ``model``'s ``proj`` layout (``None``: its first layout) is ready; ``None`` if unknown."""
        for c in self.coming:
            if c.model == model and (proj is None or c.proj == proj):
                return c.eta_s
        return None

    def coming_models(self) -> dict[str, str]:
        """The models ``coming`` names, by name, with their titles, in the order they come."""
        out: dict[str, str] = {}
        for c in self.coming:
            out.setdefault(c.model, c.title)
        return out

    def is_coming(self, model: str, proj: str | None = None) -> bool:
        return any(c.model == model and (proj is None or c.proj == proj) for c in self.coming)


def _str(value: Any, cap: int) -> str:
    return value[:cap] if isinstance(value, str) else ""


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) and NAME.fullmatch(value) else None


def _int(value: Any, lo: int = 0, hi: int = 100_000) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi else None


def _float(value: Any, lo: float = 0.0, hi: float = MAX_ETA_S) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value) if lo <= value <= hi else None


def _coming(value: Any) -> tuple[Coming, ...]:
    out = []
    for c in value[:MAX_COMING] if isinstance(value, list) else ():
        if isinstance(c, dict) and _name(c.get("model")) and _name(c.get("proj")):
            out.append(Coming(c["model"], _str(c.get("title"), _TITLE) or c["model"], c["proj"],
                              _float(c.get("eta_s"))))
    return tuple(out)


def _epochs(value: Any) -> Epochs | None:
    if not isinstance(value, dict) or not _name(value.get("model")):
        return None
    epoch, of = _int(value.get("epoch")), _int(value.get("of"), 1)
    if epoch is None or of is None:
        return None
    history = []
    for h in value.get("history")[-MAX_EPOCHS:] if isinstance(value.get("history"), list) else ():
        if isinstance(h, dict) and _int(h.get("epoch")) is not None:
            history.append({"epoch": h["epoch"], **{k: _float(h.get(k), 0.0, 1e6)
                                                    for k in ("loss", "accuracy", "val_accuracy")}})
    return Epochs(value["model"], epoch, of, tuple(history))


def dataset_progress(progress: dict | None, name: str) -> DatasetProgress | None:
    """Dataset ``name``'s entry of ``progress`` (:meth:`ExplorerStore.progress`), checked; ``None`` if none."""
    entries = progress.get("datasets") if isinstance(progress, dict) else None
    e = entries.get(name) if isinstance(entries, dict) else None
    if not isinstance(e, dict):
        return None
    stage = _str(e.get("stage"), _TITLE)
    return DatasetProgress(name=name, title=_str(e.get("title"), _TITLE) or name[:_TITLE], stage=stage,
                           words=_str(e.get("words"), _WORDS) or STAGE_WORDS.get(stage, stage),
                           detail=_str(e.get("detail"), _DETAIL), coming=_coming(e.get("coming")),
                           epochs=_epochs(e.get("epochs")))


def all_progress(progress: dict | None) -> list[DatasetProgress]:
    """Every dataset's entry of ``progress``, checked, in the file's order (at most 32)."""
    entries = progress.get("datasets") if isinstance(progress, dict) else None
    names = [n for n in entries if _name(n)][:32] if isinstance(entries, dict) else []
    return [p for p in (dataset_progress(progress, n) for n in names) if p is not None]


# -- words -----------------------------------------------------------------------------------------
def eta_words(seconds: float | None) -> str:
    """``about 40 s``, ``about 2 min``, ``about 1 h 20 min``; ``time unknown`` for ``None``."""
    if seconds is None:
        return "time unknown"
    if seconds < 5:
        return "a few seconds"
    if seconds < 90:
        return f"about {int(round(seconds / 5.0) * 5)} s"
    minutes = int(round(seconds / 60.0))
    if minutes < 90:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60:02d} min"


def sparkline(values: list[float]) -> str:
    """``values`` as block characters from lowest to highest (``▁`` to ``█``); ``""`` for none."""
    vals = [v for v in values if v is not None]
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int((v - lo) / span * (len(SPARK) - 1) + 0.5))] for v in vals)


def training_words(e: Epochs, title: str) -> str:
    """``CNN training, epoch 3 of 8 (accuracy 0.981)``: the last finished epoch's validation accuracy,
    else its training accuracy."""
    last = e.history[-1] if e.history else {}
    acc = last.get("val_accuracy") if last.get("val_accuracy") is not None else last.get("accuracy")
    return f"{title} training, epoch {e.epoch} of {e.of}" + (f" (accuracy {acc:.3f})" if acc is not None else "")


def history_words(e: Epochs) -> tuple[str, str]:
    """The training history as a sparkline line and its per-epoch numbers (a tooltip):
    ``("loss ▇▄▂▁ 0.31 → 0.08 · accuracy ▁▄▆█ 0.910 → 0.981", "epoch 1: loss 0.310, ...")``."""
    parts = []
    for key, fmt in (("loss", "{:.3g}"), ("val_accuracy", "{:.3f}"), ("accuracy", "{:.3f}")):
        vals = [h[key] for h in e.history if h.get(key) is not None]
        if not vals or (key == "accuracy" and parts and "accuracy" in parts[-1]):
            continue
        label = "accuracy" if key != "loss" else "loss"
        ends = fmt.format(vals[0]) + (f" → {fmt.format(vals[-1])}" if len(vals) > 1 else "")
        parts.append(f"{label} {sparkline(vals)} {ends}")
    rows = ["epoch {}: ".format(h["epoch"]) + ", ".join(f"{k.replace('_', ' ')} {h[k]:.4g}"
                                                         for k in ("loss", "accuracy", "val_accuracy")
                                                         if h.get(k) is not None) for h in e.history[-40:]]
    return " · ".join(parts), "\n".join(rows)


# -- the page's wish -------------------------------------------------------------------------------
def check_wish(wish: Any, known: dict[str, tuple[set, set]]) -> dict | None:
    """``wish`` (``{"dataset", "model", "proj"}``) if each value is one the cache or the pipeline names:
    ``known`` maps a dataset to its (model names, projection names), made and coming; else ``None``."""
    if not isinstance(wish, dict):
        return None
    ds, model, proj = wish.get("dataset"), wish.get("model"), wish.get("proj")
    if not (isinstance(ds, str) and ds in known):
        return None
    models, projs = known[ds]
    if not (isinstance(model, str) and model in models and isinstance(proj, str) and proj in projs):
        return None
    return {"dataset": ds, "model": model, "proj": proj}


def write_wanted(root: Path, wish: dict, known: dict[str, tuple[set, set]]) -> dict | None:
    """Write ``<root>/wanted.json`` atomically: ``{"dataset", "model", "proj", "time"}`` (seconds since
    the epoch), when :func:`check_wish` accepts ``wish``; returns what was written, else ``None``."""
    checked = check_wish(wish, known)
    if checked is None:
        return None
    body = {**checked, "time": time.time()}
    write_json_atomic(Path(root) / WANTED_FILE, body)
    return body

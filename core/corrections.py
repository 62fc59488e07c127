"""A dataset's label corrections: an append-only log kept in the cache, never in the dataset's files.

``<cache>/<dataset>/corrections.jsonl`` holds one entry a line, oldest first: ``{"seq": 3, "time":
"2026-12-06T23:40:12Z", "split": "test", "index": 4, "old": 9, "new": 4, "action": "accept", "batch": "b3f2"}``.
``split`` and ``index`` name the image as its dataset does (``train`` / ``test``, or ``all`` for a user's
own images), the same whichever sample set a run shows; ``old`` and ``new`` are the class numbers
before and after. The actions:

- ``relabel``: another class chosen; ``accept``: the suggested label taken (both change the label);
- ``ambiguous`` and ``confirmed`` ("the label is right"): marks, the label kept (``new == old``);
- ``undo``: takes back the entry ``undoes`` names (``old``/``new``: the label before and after).

Entries are never rewritten: an undo is an entry of its own. A sample's label is the ``new`` of its
last standing label-changing entry (one no undo took back), its mark the last standing entry's action.
Each write takes the log's lock (threads and processes), reads the log, appends and replaces the
file atomically, so two pages correcting at once lose nothing and a crash leaves the old log or the
new one. :class:`CorrectionLog` reads and writes it, exports it and imports an export (``core.correction_files``).
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from core.correction_files import COLUMNS, parse_file
from core.errors import CorrectionsError
from core.files import atomic_file

FILE = "corrections.jsonl"
#: what each action does, in the words the page and the report use
ACTIONS = {"relabel": "relabelled", "accept": "suggested label taken", "ambiguous": "marked ambiguous",
           "confirmed": "label confirmed right", "undo": "undone"}
CHANGES = ("relabel", "accept")  # the actions that change a label
MARKS = ("ambiguous", "confirmed")  # the actions that keep it
SPLITS = ("train", "test", "all")
_LOCKS: dict[Path, threading.Lock] = {}  # one per log file in this process (the file lock spans processes)
_LOCKS_GUARD = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Correction:
    """One entry of the log (the module's docstring says what each field means)."""
    seq: int
    time: str
    split: str
    index: int
    old: int
    new: int
    action: str
    batch: str = ""
    undoes: int | None = None

    sample = property(lambda self: (self.split, self.index))

    def to_json(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "undoes" or v is not None}


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def standing(entries: Sequence[Correction]) -> list[Correction]:
    """The entries no undo took back, undo entries left out, in order."""
    undone = {e.undoes for e in entries if e.action == "undo"}
    return [e for e in entries if e.action != "undo" and e.seq not in undone]


@dataclasses.dataclass(frozen=True)
class SampleState:
    """Where a sample stands after the log: its label (``None``: the original one) and its last mark."""

    label: int | None
    action: str
    entry: Correction


def states(entries: Sequence[Correction]) -> dict[tuple[str, int], SampleState]:
    """Per sample the log touched and did not wholly take back: its :class:`SampleState`."""
    now: dict[tuple[str, int], SampleState] = {}
    for e in standing(entries):
        step(now, e)
    return now


def step(now: dict, e: Correction) -> None:
    """:func:`states`' map after one more standing entry ``e`` (a mark keeps the label it finds)."""
    was = now.get(e.sample)
    now[e.sample] = SampleState(e.new if e.action in CHANGES else was.label if was else None, e.action, e)


class SampleKeys:
    """Rows of a sample set <-> ``(split, index)``: ``sample_ids`` as ``index.npy`` numbers them
    (test images 0-9,999 in the ``test`` set; training images then test images in ``all``; a user's
    own images 0 to n-1)."""

    def __init__(self, sample_ids: np.ndarray, sample_set: str, n_train: int, imported: bool = False):
        ids = np.asarray(sample_ids, dtype=np.int64)
        if imported:
            split = np.full(len(ids), 2, np.int8)
            index = ids
        elif sample_set == "test":
            split, index = np.full(len(ids), 1, np.int8), ids
        else:
            split = np.where(ids < n_train, 0, 1).astype(np.int8)
            index = np.where(ids < n_train, ids, ids - n_train)
        self.split, self.index = split, index
        self._rows = {s: {int(i): r for r, i in zip(np.flatnonzero(split == k), index[split == k])}
                      for k, s in enumerate(SPLITS)}

    def key(self, row: int) -> tuple[str, int]:
        return SPLITS[int(self.split[row])], int(self.index[row])

    def row(self, split: str, index: int) -> int | None:
        """The row showing that image, ``None`` where this sample set does not hold it."""
        return self._rows.get(split, {}).get(int(index))


def corrected(original: np.ndarray, keys: SampleKeys, entries: Sequence[Correction]) -> np.ndarray:
    """``original`` labels (one per row) with the log's standing corrections applied (a copy)."""
    out = np.array(original, copy=True)
    for (split, index), st in states(entries).items():
        row = keys.row(split, index)
        if row is not None and st.label is not None:
            out[row] = st.label
    return out


def train_fixes(entries: Sequence[Correction]) -> dict[int, int]:
    """``{training image index: corrected label}`` of the standing corrections of training images."""
    return {i: st.label for (s, i), st in states(entries).items() if s == "train" and st.label is not None}


def fixes_digest(fixes: Mapping[int, int]) -> str:
    """A short key of a set of training-label corrections ("" for none): what a model trained on them is keyed by."""
    if not fixes:
        return ""
    text = ",".join(f"{i}:{v}" for i, v in sorted(fixes.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class CorrectionLog:
    """The log of one dataset in a cache (``<root>/<dataset>/corrections.jsonl``).

    ``class_names`` and ``sizes`` (images per split, ``{"train": 60000, "test": 10000}``) are what
    entries are checked against, when read and when written.
    """

    def __init__(self, root: Path | str, dataset: str, class_names: Sequence[str], sizes: Mapping[str, int]):
        self.root, self.dataset = Path(root), dataset
        self.class_names, self.sizes = list(class_names), dict(sizes)
        self.path = self.root / dataset / FILE
        with _LOCKS_GUARD:
            self._thread_lock = _LOCKS.setdefault(self.path.resolve(), threading.Lock())
        self._seen: tuple | None = None
        self._entries: list[Correction] = []
        self._digest = ""

    # -- reading --------------------------------------------------------------------------
    def _stamp(self) -> tuple | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def entries(self) -> list[Correction]:
        """Every entry, oldest first, checked (re-read only when the file changed)."""
        stamp = self._stamp()
        if stamp != self._seen:
            self._entries, self._digest = self._read() if stamp is not None else ([], "")
            self._seen = stamp
        return list(self._entries)

    def digest(self) -> str:
        """A key of the log's content ("" when there is none): asked on every request, so kept with the entries."""
        self.entries()
        return self._digest

    def _read(self) -> tuple[list[Correction], str]:
        out: list[Correction] = []
        text = self.path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            where = f"{self.path}, line {n}"
            try:
                raw = json.loads(line)
            except ValueError:
                raise CorrectionsError(f"{where} is not JSON; the log is only ever appended to by the explorer and "
                                       "`pipeline import --corrections`: restore it from an export, or remove the "
                                       "line") from None
            out.append(self._checked(raw, where, out, numbers_only=True))
        return out, hashlib.sha256(text.encode()).hexdigest()[:16] if out else ""

    def _checked(self, raw, where: str, before: Sequence[Correction], numbers_only: bool = False,
                 seq: int | None = None) -> Correction:
        """One entry as :class:`Correction`, or a :class:`CorrectionsError` naming ``where`` and the fix."""
        if not isinstance(raw, dict):
            raise CorrectionsError(f"{where}: expected an object with {', '.join(COLUMNS[3:8])}; got {_short(raw)}")
        action = raw.get("action") or "relabel"
        if action not in ACTIONS:
            raise CorrectionsError(f"{where}: unknown action {_short(action)}; use one of {', '.join(ACTIONS)}")
        split = raw.get("split")
        if split not in self.sizes:
            raise CorrectionsError(f"{where}: split {_short(split)} is not one of this dataset's "
                                   f"({', '.join(self.sizes)}); name the image's split")
        index = _integer(raw.get("index"))
        if index is None or not 0 <= index < self.sizes[split]:
            raise CorrectionsError(f"{where}: no {split} image {_short(raw.get('index'))} in {self.dataset} "
                                   f"(its {split} images are 0 to {self.sizes[split] - 1}); fix the index")
        new = self._class(raw.get("new"), where, "new", numbers_only)
        old = self._class(raw.get("old"), where, "old", numbers_only) if raw.get("old") not in (None, "") else None
        undoes = _integer(raw.get("undoes")) if raw.get("undoes") not in (None, "") else None
        if action == "undo" and (undoes is None or not any(e.seq == undoes for e in before)):
            raise CorrectionsError(f"{where}: an undo must name an earlier entry's seq in 'undoes' (got "
                                   f"{_short(raw.get('undoes'))}); export the whole log, undos with what they undo")
        if action in MARKS and old is not None and old != new:
            raise CorrectionsError(f"{where}: '{action}' keeps the label, but old {old} and new {new} differ; "
                                   "use 'relabel' to change it")
        seq = seq if seq is not None else _integer(raw.get("seq"))
        if seq is None or (before and seq <= before[-1].seq):
            raise CorrectionsError(f"{where}: seq {_short(raw.get('seq'))} must be a whole number above the "
                                   "entry before it's; restore the log from an export")
        stamp = raw.get("time") or now()
        if not isinstance(stamp, str) or len(stamp) > 40:
            raise CorrectionsError(f"{where}: time must be a short text (ISO 8601); got {_short(stamp)}")
        batch = raw.get("batch") or ""
        if not isinstance(batch, str) or len(batch) > 64:
            raise CorrectionsError(f"{where}: batch must be a short text; got {_short(batch)}")
        return Correction(seq, stamp, split, index, new if old is None else old, new, action, batch, undoes)

    def _class(self, value, where: str, what: str, numbers_only: bool) -> int:
        if not numbers_only and isinstance(value, str) and value in self.class_names:
            return self.class_names.index(value)
        v = _integer(value)
        if v is None or not 0 <= v < len(self.class_names):
            raise CorrectionsError(f"{where}: {what} label {_short(value)} is not a class of {self.dataset}; "
                                   f"use a class name ({', '.join(self.class_names[:12])}"
                                   f"{', ...' if len(self.class_names) > 12 else ''}) or number 0 to "
                                   f"{len(self.class_names) - 1}")
        return v

    # -- writing --------------------------------------------------------------------------
    def _locked(self):
        from filelock import FileLock

        lock_dir = self.root / ".locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        return FileLock(str(lock_dir / f"corrections-{self.dataset}.lock"))

    def append(self, rows: Iterable[dict], original: Mapping[tuple[str, int], int] | None = None,
               where: str = "") -> list[Correction]:
        """Append ``rows`` (``split``, ``index``, ``new``, ``action``; ``old`` filled from the log where
        absent, else from ``original`` labels) as one batch, atomically; the entries written."""
        rows = list(rows)
        with self._thread_lock, self._locked():
            self._seen = None
            have = self.entries()
            made = self._made(rows, have, original or {}, where)
            if made:
                self._write(have + made)
            return made

    def _made(self, rows: list[dict], have: list[Correction], original: Mapping, where: str) -> list[Correction]:
        """The entries of ``rows`` (no undo: :meth:`undo` makes those), checked, numbered after ``have``."""
        batch, last = uuid.uuid4().hex[:12], have[-1].seq if have else 0
        made: list[Correction] = []
        label = {s: st.label for s, st in states(have).items() if st.label is not None}
        for n, raw in enumerate(rows, 1):
            raw, key = dict(raw), (raw.get("split"), _integer(raw.get("index")))
            if raw.get("old") in (None, ""):
                raw["old"] = label.get(key, original.get(key))
            if raw.get("action") in MARKS and raw.get("new") in (None, ""):
                raw["new"] = raw.get("old")
            raw.setdefault("batch", batch)
            made.append(e := self._checked(raw, where or f"correction {n}", have + made, seq=last + n))
            if e.action in CHANGES:
                label[e.sample] = e.new
        return made

    def undo(self, batch: str | None = None, seqs: Sequence[int] = ()) -> list[Correction]:
        """Take back a batch (or the entries ``seqs``): one undo entry per standing entry, newest first."""
        with self._thread_lock, self._locked():
            self._seen = None
            have = self.entries()
            alive = {e.seq for e in standing(have)}
            target = [e for e in have if e.seq in alive and (e.batch == batch if batch else e.seq in seqs)]
            made: list[Correction] = []
            stamp, new_batch = now(), uuid.uuid4().hex[:12]
            seq = have[-1].seq if have else 0
            for e in reversed(target):
                before = states(have + made).get(e.sample)
                seq += 1
                undo = Correction(seq, stamp, e.split, e.index, 0, 0, "undo", new_batch, e.seq)
                after = states(have + made + [undo]).get(e.sample)
                made.append(dataclasses.replace(undo, old=_label(before, e), new=_label(after, e, initial=True)))
            if made:
                self._write(have + made)
            return made

    def _write(self, entries: list[Correction]) -> None:
        with atomic_file(self.path, ".jsonl") as f:
            f.write("".join(json.dumps(e.to_json()) + "\n" for e in entries).encode("utf-8"))
        self._seen = None

    # -- files in and out -----------------------------------------------------------------
    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(COLUMNS)
        for e in self.entries():
            w.writerow([e.seq, e.time, self.dataset, e.split, e.index, self.class_names[e.old],
                        self.class_names[e.new], e.action, e.batch, "" if e.undoes is None else e.undoes])
        return buf.getvalue()

    def to_json(self) -> str:
        return json.dumps({"format": "corrections", "version": 1, "dataset": self.dataset,
                           "class_names": self.class_names,
                           "corrections": [{**e.to_json(), "old": self.class_names[e.old],
                                            "new": self.class_names[e.new]} for e in self.entries()]}, indent=1)

    def import_file(self, path: Path, original: Mapping[tuple[str, int], int] | None = None) -> list[Correction]:
        """Append an exported file's entries (those this log lacks), all or none; the entries written."""
        rows = parse_file(path, self.dataset)
        with self._thread_lock, self._locked():
            self._seen = None
            have = self.entries()
            known = {(e.time, e.split, e.index, e.old, e.new, e.action, e.batch, e.undoes): e.seq for e in have}
            seq_map: dict[int, int] = {}
            made: list[Correction] = []
            seq = have[-1].seq if have else 0
            now = states(have)  # kept up to date row by row (recomputed only after an undo)
            for where, raw in rows:
                theirs = _integer(raw.get("seq"))
                if raw.get("undoes") not in (None, ""):
                    mapped = seq_map.get(_integer(raw.get("undoes")))
                    if mapped is None:
                        raise CorrectionsError(f"{where}: undoes seq {_short(raw.get('undoes'))}, which no row "
                                               "before it has; export the whole log, undos with what they undo")
                    raw = {**raw, "undoes": mapped}
                key = (raw.get("split"), _integer(raw.get("index")))
                if raw.get("old") in (None, ""):
                    held = now[key].label if key in now and now[key].label is not None else None
                    raw = {**raw, "old": held if held is not None else (original or {}).get(key)}
                    if raw["old"] is None:
                        raw["old"] = raw.get("new")
                e = self._checked({**raw, "seq": seq + 1}, where, have + made)
                same = known.get((e.time, e.split, e.index, e.old, e.new, e.action, e.batch, e.undoes))
                if same is None and not raw.get("time"):  # a row of a hand-made file: skipped where in effect
                    st = now.get(e.sample)
                    now_label = st.label if st and st.label is not None else e.old
                    if now_label == e.new if e.action in CHANGES else (st is not None and st.action == e.action):
                        same = st.entry.seq if st else -1
                if same is not None:
                    seq_map[theirs if theirs is not None else -1] = same
                    continue
                seq += 1
                made.append(e)
                if theirs is not None:
                    seq_map[theirs] = e.seq
                if e.action == "undo":
                    now = states(have + made)
                else:
                    step(now, e)
            if made:
                self._write(have + made)
            return made


def _label(state: SampleState | None, e: Correction, initial: bool = False) -> int:
    if state is not None and state.label is not None:
        return state.label
    if initial:  # nothing standing changes it: the label before the first entry of the sample
        return e.old if e.action in CHANGES else e.new
    return e.new


def _integer(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 12:
        return int(value)
    return None


def _short(value) -> str:
    return repr(value)[:40]

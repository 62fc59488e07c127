"""A run's label corrections: files given with ``--corrections`` added to each dataset's log
(``core.corrections``), the corrected training labels the models learn from, and the report's counts.

The log is the cache's (``<cache>/<dataset>/corrections.jsonl``, written by the explorer too). A model
that learns from labels (the pixel k-NN's votes, the networks) is keyed by the digest of the corrected
training labels (``label_fixes``), so a run after a correction of a training image retrains it, and
one without corrections keeps the key and the folder it always had. The samples the views show keep
the dataset's own labels; the explorer and the report apply the log on top.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np

from core.corrections import (CorrectionLog, CorrectionsError, SampleKeys, corrected, fixes_digest, parse_file,
                              states, train_fixes)
from core.options import option
from core.store import ArtifactStore
from training import datasets as facts


@dataclasses.dataclass(frozen=True)
class CorrectionsOptions:
    """What the command line says about corrections."""

    corrections: tuple[Path, ...] = option(
        (), "a corrections file (CSV or JSON, as the explorer exports them) added to its dataset's log before "
            "the run; models then learn from the corrected training labels", repeat=True, type=Path)

    def __post_init__(self) -> None:
        object.__setattr__(self, "corrections", tuple(Path(p) for p in self.corrections))


def log_of(store: ArtifactStore, name: str) -> CorrectionLog:
    """The log of dataset ``name`` (its facts as this process opened or declared them)."""
    info = facts.get(name)
    sizes = ({"all": int(info.n_test or 0) + int(info.n_train or 0)} if info.source == "imported"
             else {"train": int(info.n_train), "test": int(info.n_test)})
    return CorrectionLog(store.root, name, info.class_names, sizes)


def dataset_of(path: Path, names: Sequence[str]) -> str:
    """The dataset a corrections file is of: the one its rows name, else the run's only one."""
    named = {raw.get("dataset") for _, raw in parse_file(path, None)} - {None, ""}
    if len(named) == 1:
        return named.pop()
    if len(names) == 1:
        return names[0]
    raise CorrectionsError(f"--corrections {path}: its rows name no dataset and the run has {len(names)} "
                           f"({', '.join(names)}); add a dataset column, or run with --dataset NAME")


def import_files(store: ArtifactStore, paths: Sequence[Path], names: Sequence[str],
                 arrays: dict[str, dict]) -> list[str]:
    """Add each file to its dataset's log (all of a file or none of it); a line per file said."""
    said = []
    for path in paths:
        name = dataset_of(path, names)
        if name not in arrays:
            raise CorrectionsError(f"--corrections {path}: it is of dataset {name!r}, which this run does not "
                                   f"have ({', '.join(names)}); add --dataset {name}")
        a = arrays[name]
        original = {("train", i): int(v) for i, v in enumerate(a["y_train"])}
        original.update({("test", i): int(v) for i, v in enumerate(a["y_test"])})
        log = log_of(store, name)
        made = log.import_file(path, original)
        said.append(f"{path}: {len(made)} correction{'s' if len(made) != 1 else ''} added to {log.path}"
                    + ("" if made else " (all were there already)"))
    return said


def fixed_training(store: ArtifactStore, name: str, arrays: dict) -> tuple[dict, str]:
    """``arrays`` with the log's corrected training labels, and their digest ("": none, ``arrays`` as given)."""
    if facts.get(name).source == "imported":
        return arrays, ""
    fixes = train_fixes(log_of(store, name).entries())
    if not fixes:
        return arrays, ""
    y = np.array(arrays["y_train"], copy=True)
    rows = np.fromiter(fixes, dtype=np.int64)
    y[rows] = np.fromiter(fixes.values(), dtype=y.dtype)
    return {**arrays, "y_train": y}, fixes_digest(fixes)


def with_fixes(specs: list, digest: str) -> list:
    """Each spec whose model learns from labels (its config has ``label_fixes``) keyed by ``digest``."""
    if not digest:
        return specs
    return [dataclasses.replace(s, config=dataclasses.replace(s.config, label_fixes=digest))
            if hasattr(s.config, "label_fixes") else s for s in specs]


def report_part(store: ArtifactStore, name: str, samples_dir: Path, preds: dict[str, Path]) -> dict | None:
    """What the report says of the corrections of ``name``: how many labels of the samples changed (and
    of training images), the marks, and each model's accuracy against the corrected labels; ``None``
    when the log is empty."""
    entries = log_of(store, name).entries()
    if not entries:
        return None
    labels = store.load_array(Path(samples_dir) / "labels.npy")
    ids = store.load_array(Path(samples_dir) / "index.npy")
    info = facts.get(name)
    keys = SampleKeys(ids, "all" if len(labels) > int(info.n_test or 0) else "test", int(info.n_train or 0),
                      info.source == "imported")
    fixed = corrected(labels, keys, entries)
    st = states(entries)
    test = keys.split != 0  # accuracy over the test images (or a user's own), as the explorer counts it
    accuracy = {}
    for model, embed_dir in preds.items():
        pred = store.load_array(Path(embed_dir) / "pred.npy")[test]
        accuracy[model] = {"original": float(np.mean(pred == labels[test])),
                           "corrected": float(np.mean(pred == fixed[test]))}
    return {"log": str(log_of(store, name).path), "entries": len(entries),
            "changed": int(np.count_nonzero(fixed != labels)),
            "train_changed": len(train_fixes(entries)),
            "marked": {a: sum(1 for s in st.values() if s.action == a) for a in ("ambiguous", "confirmed")},
            "accuracy": accuracy}

"""One model's suspected label errors (``issues/<key>/``), loaded and checked against its samples.

The pipeline scored every sample's given label (the model's out-of-sample probability
of it, combined with the labels of its nearest neighbours in the model's embedding) and
flagged the suspects with confident learning; :class:`LabelIssues` holds the scores,
the suggested labels and the ranked suspects, and answers the "Label issues" tab's
questions (which class pairs, which rows, the CSV).
"""
from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import CacheError
from core.store import ArtifactStore

log = logging.getLogger(__name__)

RANKED_FIELDS = ("row", "id", "given", "suggested", "score")
#: the score above which the pipeline ranks a label as a suspect, where the folder records none
#: (``embeddings.label_issues.IssuesConfig.threshold``'s default)
THRESHOLD = 0.5
CSV_HEADER = ["rank", "row", "index", "given", "given_name", "suggested", "suggested_name", "score"]


@dataclass(frozen=True, eq=False)
class LabelIssues:
    """The arrays of ``issues/<key>/``; row ``i`` is row ``i`` of the samples folder.

    ``score`` float32 (n,) in [0, 1] (1 = the given label is surely wrong), ``suggested``
    uint8 (n,) (the label the evidence prefers), ``suspect`` bool (n,) (flagged), and
    ``ranked`` the suspects most likely wrong first (``ranked.json``'s entries, checked),
    whose rows are ``rows``.  ``config`` is the folder's ``config``: ``oos`` says how the
    out-of-sample probabilities were obtained.
    """

    folder: Path
    score: np.ndarray
    suggested: np.ndarray
    suspect: np.ndarray
    ranked: list[dict]
    rows: np.ndarray
    config: dict

    @classmethod
    def load(cls, folder: Path, artifacts: ArtifactStore, ds: Any) -> "LabelIssues":
        """Read and check one folder against the samples of ``ds`` (a :class:`~explorer.views.DatasetView`:
        ``n``, ``class_names``, ``labels``, ``sample_ids``; not imported, views imports this module).

        Raises
        ------
        core.store.CacheError
            If a file is missing or damaged (``DamagedArtifact``), an array has the wrong
            shape, type or range, or ``ranked.json`` disagrees with the arrays or the samples.
        """
        folder = Path(folder)
        n, k = ds.n, len(ds.class_names)

        def array(name: str, kinds: str) -> np.ndarray:
            path = folder / name
            arr = artifacts.load_array(path)
            if arr.ndim != 1 or len(arr) != n:
                raise CacheError(f"{path} has shape {arr.shape}, current.json says {n} rows; rerun the pipeline")
            if arr.dtype.kind not in kinds:
                raise CacheError(f"{path} holds {arr.dtype}, not the documented type; rerun the pipeline")
            return arr

        score = array("score.npy", "f").astype(np.float32)
        if not np.all((score >= 0) & (score <= 1)):  # NaN fails too
            raise CacheError(f"{folder / 'score.npy'} has scores outside [0, 1]; rerun the pipeline")
        suggested = array("suggested.npy", "ui")
        if len(suggested) and (suggested.min() < 0 or suggested.max() >= k):
            raise CacheError(f"{folder / 'suggested.npy'} names a class outside 0-{k - 1}; rerun the pipeline")
        suspect = array("suspect.npy", "bui").astype(bool)
        ranked = artifacts.read_json(folder / "ranked.json")
        rows = _check_ranked(ranked, folder / "ranked.json", ds, score, suggested.astype(np.uint8))
        try:
            config = artifacts.recorded(folder).get("config") or {}
        except (CacheError, AttributeError):
            config = {}
        return cls(folder=folder, score=score, suggested=suggested.astype(np.uint8), suspect=suspect,
                   ranked=ranked, rows=rows, config=config if isinstance(config, dict) else {})

    @property
    def version(self) -> str:
        return self.folder.name

    @property
    def threshold(self) -> float:
        """The score above which the pipeline ranked a label as a suspect (the folder's ``threshold``)."""
        t = self.config.get("threshold")
        return float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) and 0 <= t <= 1 else THRESHOLD

    def in_doubt(self, row: int) -> bool:
        """Whether ``row``'s given label is doubted, as ``ranked.json`` lists suspects: flagged by confident
        learning, or scored above :attr:`threshold`.  A suggested label means something only here:
        ``suggested`` is the best class other than the given one for every row, a sure one included."""
        return bool(self.suspect[row]) or float(self.score[row]) > self.threshold

    def pair_counts(self, n_classes: int) -> np.ndarray:
        """int64 (k, k): ranked suspects per (given, suggested) pair."""
        m = np.zeros((n_classes, n_classes), np.int64)
        given = np.array([e["given"] for e in self.ranked], dtype=np.intp)
        sugg = np.array([e["suggested"] for e in self.ranked], dtype=np.intp)
        np.add.at(m, (given, sugg), 1)
        return m

    def ranked_rows(self, pair: tuple[int, int] | None = None) -> np.ndarray:
        """Rows of the ranked suspects, most likely wrong first; only ``(given, suggested)`` = ``pair`` if given."""
        if pair is None:
            return self.rows
        keep = [i for i, e in enumerate(self.ranked) if (e["given"], e["suggested"]) == tuple(pair)]
        return self.rows[keep]

    def oos_words(self, imported: bool = False) -> str:
        """How the out-of-sample probabilities were obtained, in words (``config.json``'s ``oos``).

        ``imported``: the samples are a user's own images, with no train/test split, so none
        is called a test or training image.
        """
        oos = str(self.config.get("oos") or "")
        which = "every image was" if imported else "training images were"
        if oos == "test":
            return "" if imported else "every image is a test image the model never trained on"
        if oos == "loo":  # the pixel k-NN: its own training images leave themselves out of their neighbours
            return f"{which} scored leave-one-out (each left out of its own neighbours)"
        if oos.startswith("cv-") and oos[3:].isdigit():
            return (f"{which} scored by {oos[3:]}-fold cross-validation of a logistic "
                    "regression on the model's embedding")
        return ""


def _check_ranked(ranked, path: Path, ds: Any, score: np.ndarray, suggested: np.ndarray) -> np.ndarray:
    """The rows of ``ranked.json``'s entries after checking each against the arrays and the samples."""
    if not isinstance(ranked, list):
        raise CacheError(f"{path} is not a list; rerun the pipeline")
    n = ds.n
    labels, ids = ds.labels, ds.sample_ids
    rows = np.empty(len(ranked), np.int64)
    for i, e in enumerate(ranked):
        if not isinstance(e, dict) or any(f not in e for f in RANKED_FIELDS):
            raise CacheError(f"{path} entry {i} lacks one of {', '.join(RANKED_FIELDS)}; rerun the pipeline")
        r = e["row"]
        if not isinstance(r, int) or isinstance(r, bool) or not 0 <= r < n:
            raise CacheError(f"{path} entry {i} has row {str(r)[:20]}, not one of 0-{n - 1}; rerun the pipeline")
        if (e["id"] != int(ids[r]) or e["given"] != int(labels[r]) or e["suggested"] != int(suggested[r])
                or not isinstance(e["score"], (int, float)) or abs(e["score"] - float(score[r])) > 1e-3):
            raise CacheError(f"{path} entry {i} (row {r}) disagrees with the samples or the score arrays; "
                             "rerun the pipeline")
        rows[i] = r
    return rows


def issues_csv(issues: LabelIssues, class_names: list[str], rows: np.ndarray | None = None) -> str:
    """The ranked suspects (or ``rows`` of them, in ranked order) as CSV: rank, row, sample id,
    given and suggested class (number and name), score."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_HEADER)
    wanted = None if rows is None else {int(r) for r in rows}
    for rank, e in enumerate(issues.ranked, 1):
        if wanted is not None and e["row"] not in wanted:
            continue
        g, s = e["given"], e["suggested"]
        w.writerow([rank, e["row"], e["id"], g, class_names[g], s, class_names[s], f"{float(e['score']):.6f}"])
    return buf.getvalue()

"""Suspected label errors: one model's out-of-sample probabilities joined with its neighbours' labels.

Per row the evidence is a class distribution: a weighted mean (``weight``, 0.95 by default)
of the model's probabilities (out of sample: test images, the pixel k-NN's leave-one-out
votes, or K-fold cross-validation of a logistic regression on the embedding for training
images a network learned from) and the label shares of its ``k`` nearest high-D
neighbours. The score is ``1 -`` cleanlab's label quality of that evidence
(``self_confidence``: 1 - the evidence for the given label); cleanlab's confident
learning (``find_label_issues``) flags the suspects (Northcutt, Jiang & Chuang 2021,
"Confident Learning: Estimating Uncertainty in Dataset Labels").
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import ConfigError
from core.options import option, validate
from core.store import ArtifactStore, save_npy_atomic, write_json_atomic
from training import kinds

log = logging.getLogger(__name__)

STAGE = "issues"
COMBINE = "mean of the model's out-of-sample probabilities and the label shares of its k nearest high-D neighbours"


@dataclasses.dataclass(frozen=True)
class IssuesConfig:
    """How the evidence of a wrong label is gathered and ranked."""

    k: int = option(10, "high-D neighbours whose labels vote", lo=1, flag="--issues-k")
    # Planted flips in the real test sets (benchmarks/label_issues.py, 3 seeds, weights 0.5-1 x
    # self_confidence / normalized_margin): the trained models' own probabilities already rank the
    # flips near the ceiling, and their embedding's neighbours carry no independent evidence (a
    # heavier neighbour weight or the margin lost up to 0.1 precision at K=50 on Fashion-MNIST's
    # CNN); the pixel k-NN's coarse vote shares gain 1.7-2x precision from the neighbours breaking
    # their ties. 0.95 with self_confidence is the best of both.
    weight: float = option(0.95, "weight of the model's probabilities (the neighbours get 1 - weight)", lo=0, hi=1,
                           flag="--issues-weight")
    quality: str = option("self_confidence", "cleanlab label-quality method of the ranking",
                          choices=("self_confidence", "normalized_margin", "confidence_weighted_entropy"),
                          flag="--issues-quality")
    cv_folds: int = option(5, "folds of the cross-validation that scores training images", lo=2,
                           flag="--issues-cv-folds")
    threshold: float = option(0.5, "score above which the report counts a label as likely wrong", lo=0, hi=1,
                              flag="--issues-threshold")
    top: int = option(20, "highest-scored ids the report lists", lo=0, flag="--issues-top")
    seed: int = option(0, "seed of the cross-validation folds", derived=True)

    def __post_init__(self) -> None:
        validate(self, "label issues")


def check_inputs(labels: np.ndarray, proba: np.ndarray, knn_indices: np.ndarray | None = None,
                 k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(int64 labels, float64 row-normalised probabilities), or a :class:`ConfigError` saying what is wrong."""
    labels, proba = np.asarray(labels), np.asarray(proba)
    if labels.ndim != 1:
        raise ConfigError(f"labels must be 1-D (one class per row), got shape {labels.shape}")
    if proba.ndim != 2 or len(proba) != len(labels):
        raise ConfigError(f"proba must be (n, classes) with n = {len(labels)} labels, got shape {proba.shape}")
    n, c = proba.shape
    if n < 2 or c < 2:
        raise ConfigError(f"label issues need at least 2 rows and 2 classes, got {n} rows and {c} classes")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= c:
        raise ConfigError(f"labels must be integers in [0, {c}) for {c} probability columns, "
                          f"got {labels.dtype} in [{labels.min()}, {labels.max()}]")
    proba = proba.astype(np.float64)
    bad = ~np.isfinite(proba) | (proba < 0)
    if bad.any():
        rows = np.flatnonzero(bad.any(1))
        raise ConfigError(f"proba must be finite and >= 0; {bad.sum()} values are not (first in rows "
                          f"{rows[:5].tolist()})")
    sums = proba.sum(1, keepdims=True)
    if (sums <= 0).any():
        raise ConfigError(f"proba rows must not be all zero (rows {np.flatnonzero(sums[:, 0] <= 0)[:5].tolist()})")
    if knn_indices is not None:
        knn_indices = np.asarray(knn_indices)
        if knn_indices.ndim != 2 or len(knn_indices) != n:
            raise ConfigError(f"knn indices must be (n, k) with n = {n}, got shape {knn_indices.shape}")
        if k is not None and not 1 <= k <= knn_indices.shape[1]:
            raise ConfigError(f"k must be in [1, {knn_indices.shape[1]}] (the graph's columns), got k={k}")
        if knn_indices.min() < 0 or knn_indices.max() >= n:
            raise ConfigError(f"knn indices must be rows in [0, {n}), got [{knn_indices.min()}, {knn_indices.max()}]")
    return labels.astype(np.int64), proba / sums


def neighbour_shares(knn_indices: np.ndarray, labels: np.ndarray, n_classes: int, k: int = 10) -> np.ndarray:
    """(n, classes): the share of each row's ``k`` nearest neighbours (self excluded) carrying each label."""
    nb = labels[np.asarray(knn_indices)[:, :k]]
    shares = np.zeros((len(nb), n_classes))
    np.add.at(shares, (np.repeat(np.arange(len(nb)), k), nb.ravel()), 1.0 / k)
    return shares


def cv_proba(X: np.ndarray, labels: np.ndarray, n_classes: int, folds: int = 5, seed: int = 0,
             progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Out-of-sample (n, classes) probabilities: ``folds``-fold cross-validation of a logistic regression on ``X``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(X, np.float32)
    if len(X) != len(labels):
        raise ConfigError(f"cross-validation needs one embedding row per label, got {len(X)} rows and {len(labels)} labels")
    counts = np.bincount(labels, minlength=n_classes)
    folds = int(min(folds, counts[counts > 0].min())) if counts.any() else folds
    if folds < 2:
        raise ConfigError("cross-validation needs at least 2 rows of every class present; "
                          f"got class counts {counts.tolist()}")
    out = np.zeros((len(X), n_classes))
    split = StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, labels)
    for i, (fit_rows, held) in enumerate(split):
        if progress:
            progress(i, folds)
        with _heartbeat(progress, i, folds):  # one fit of 56,000 rows can take longer than a progress tick
            scaler = StandardScaler().fit(X[fit_rows])
            clf = LogisticRegression(max_iter=300).fit(scaler.transform(X[fit_rows]), labels[fit_rows])
        out[np.ix_(held, clf.classes_)] = clf.predict_proba(scaler.transform(X[held]))
    if progress:
        progress(folds, folds)
    return out


@contextlib.contextmanager
def _heartbeat(progress: Callable[[int, int], None] | None, done: int, total: int, every: float = 5.0):
    """Repeat ``progress(done, total)`` every ``every`` seconds while the block runs."""
    if progress is None:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            progress(done, total)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def suggested_labels(evidence: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The most likely class other than the given one (the top class, or the runner-up when the given one is top)."""
    masked = evidence.copy()
    masked[np.arange(len(labels)), labels] = -np.inf
    return masked.argmax(1)


def flag_issues(labels: np.ndarray, evidence: np.ndarray) -> np.ndarray:
    """cleanlab's confident-learning flags (``find_label_issues``); all False when it cannot apply.

    Confident learning needs every class to be given at least once; with a class missing
    (a tiny subset) it flags nothing, with a warning.
    """
    from cleanlab.filter import find_label_issues

    present = np.bincount(labels, minlength=evidence.shape[1])
    if (present == 0).any():
        log.warning("classes %s are never given: no confident-learning flags", np.flatnonzero(present == 0).tolist())
        return np.zeros(len(labels), bool)
    return np.asarray(find_label_issues(labels, evidence, filter_by="prune_by_noise_rate", n_jobs=1), bool)


def score_labels(labels: np.ndarray, proba: np.ndarray, knn_indices: np.ndarray,
                 config: IssuesConfig = IssuesConfig()) -> dict[str, np.ndarray]:
    """Score every row's given label from out-of-sample ``proba`` and its neighbours' labels.

    Parameters
    ----------
    labels : int (n,)
        The given labels.
    proba : float (n, classes)
        Out-of-sample class probabilities (rows are normalised to sum to 1).
    knn_indices : int (n, >= k)
        High-D neighbours, self excluded, nearest first (rows of the same arrays).

    Returns
    -------
    dict with ``score`` float32 (n,) in [0, 1] (1 = surely wrong), ``suggested`` uint8 (n,),
    ``suspect`` bool (n,) and ``evidence`` float64 (n, classes).
    """
    from cleanlab.rank import get_label_quality_scores

    labels, proba = check_inputs(labels, proba, knn_indices, config.k)
    shares = neighbour_shares(knn_indices, labels, proba.shape[1], config.k)
    evidence = config.weight * proba + (1 - config.weight) * shares
    quality = np.asarray(get_label_quality_scores(labels, evidence, method=config.quality))
    return {"score": np.clip(1.0 - quality, 0, 1).astype(np.float32),
            "suggested": suggested_labels(evidence, labels).astype(np.uint8),
            "suspect": flag_issues(labels, evidence), "evidence": evidence}


def ranked(result: dict, ids: np.ndarray, labels: np.ndarray, threshold: float = 0.5) -> list[dict]:
    """The suspects, most likely wrong first: rows confident learning flagged, and rows scored above
    ``threshold`` (the evidence favours another label), as ``{"row", "id", "given", "suggested",
    "score", "flagged"}``."""
    rows = np.flatnonzero(result["suspect"] | (result["score"] > threshold))
    rows = rows[np.argsort(-result["score"][rows], kind="stable")]
    return [{"row": int(r), "id": int(ids[r]), "given": int(labels[r]), "suggested": int(result["suggested"][r]),
             "score": round(float(result["score"][r]), 6), "flagged": bool(result["suspect"][r])} for r in rows]


def oos_source(kind: str, ids: np.ndarray, sample_set: str, folds: int, n_train: int) -> str:
    """How the rows' probabilities are out of sample: ``test``, ``cv-<K>`` for a kind whose predictions
    on its training images are in sample (``training/kinds/``: the networks), else ``loo`` (the pixel
    k-NN's votes leave each image out). In ``sample_set="all"`` ids below ``n_train`` are training images."""
    has_train = sample_set == "all" and bool((np.asarray(ids) < n_train).any())
    if not has_train:
        return "test"
    return f"cv-{folds}" if kinds.get(kind).in_sample else "loo"


def out_of_sample_proba(proba: np.ndarray, labels: np.ndarray, ids: np.ndarray, oos: str, X_fn: Callable,
                        config: IssuesConfig, progress=None, *, n_train: int) -> np.ndarray:
    """The model's probabilities, with training rows (ids below ``n_train``) replaced by cross-validated
    ones when ``oos`` says so."""
    proba = np.asarray(proba, np.float64)
    if not oos.startswith("cv-"):
        return proba
    train = np.flatnonzero(np.asarray(ids) < n_train)
    X = np.asarray(X_fn())
    t0 = time.perf_counter()
    proba = proba.copy()
    proba[train] = cv_proba(X[train], labels[train], proba.shape[1], config.cv_folds, config.seed, progress)
    log.info("cross-validated probabilities of %d training rows in %.1f s", len(train), time.perf_counter() - t0)
    return proba


def training_size(dataset: str, samples_dir: Path, store: ArtifactStore) -> int:
    """How many training images the samples' dataset has (in ``sample_set="all"`` the sample ids below
    it): as its samples folder recorded it, else (a folder made before it did) as the dataset's facts
    recorded when its arrays were loaded (``training/datasets/``)."""
    recorded = store.recorded(samples_dir)["config"].get("n_train")
    if recorded is not None:
        return int(recorded)
    from training import datasets

    return datasets.get(dataset).n_train


def build_issues(dataset: str, model: str, kind: str, embed_dir: Path, samples_dir: Path, store: ArtifactStore,
                 config: IssuesConfig = IssuesConfig(), progress: Callable[[int, int], None] | None = None) -> Path:
    """Compute (or reuse) one model's ``issues/<key>/`` folder (docs/ARTIFACTS.md)."""
    from embeddings.extract import space_matrix

    embed_dir, samples_dir = Path(embed_dir), Path(samples_dir)
    ids = store.load_array(samples_dir / "index.npy")
    sample_set = store.recorded(samples_dir)["config"].get("sample_set", "test")
    n_train = training_size(dataset, samples_dir, store) if sample_set == "all" else 0
    oos = oos_source(kind, ids, sample_set, config.cv_folds, n_train)
    record = {**dataclasses.asdict(config), "model": model, "kind": kind, "oos": oos, "combine": COMBINE}

    def make(out: Path) -> dict:
        t0 = time.perf_counter()
        labels = store.load_array(samples_dir / "labels.npy").astype(np.int64)
        proba = out_of_sample_proba(store.load_array(embed_dir / "proba.npy"), labels, ids, oos,
                                    lambda: space_matrix(embed_dir, samples_dir, kind, store=store), config, progress,
                                    n_train=n_train)
        knn = store.load_array(embed_dir / "knn-indices.npy")
        k = min(config.k, knn.shape[1])
        result = score_labels(labels, proba, knn, dataclasses.replace(config, k=k))
        save_npy_atomic(out / "score.npy", result["score"])
        save_npy_atomic(out / "suggested.npy", result["suggested"])
        save_npy_atomic(out / "suspect.npy", result["suspect"])
        write_json_atomic(out / "ranked.json", ranked(result, ids, labels, config.threshold))
        seconds = time.perf_counter() - t0
        log.info("%s: label issues of %s: %d suspects of %d in %.1f s", dataset, model,
                 int(result["suspect"].sum()), len(labels), seconds)
        return {"k_used": k, "seconds": seconds}

    return store.build(dataset, STAGE, record, make, upstream=(embed_dir.name, samples_dir.name))


def summary(folder: Path, ids: np.ndarray, load: Callable = None, config: IssuesConfig = IssuesConfig()) -> dict:
    """The report's ``label_issues``: ``count`` of scores above ``threshold``, ``suspects`` flagged,
    ``top``: the highest-scored sample ids (``load`` reads an array, verified when it is a store's)."""
    from core.store import load_array, read_json

    load = load or load_array
    recorded = read_json(Path(folder) / "config.json").get("config", {})
    config = dataclasses.replace(config, **{f: recorded[f] for f in ("threshold", "top") if f in recorded})
    score = np.asarray(load(Path(folder) / "score.npy"))
    suspect = np.asarray(load(Path(folder) / "suspect.npy"))
    if len(score) != len(ids):
        raise ConfigError(f"{folder / 'score.npy'} has {len(score)} rows but the samples {len(ids)}")
    top = np.argsort(-score, kind="stable")[:config.top]
    return {"count": int((score > config.threshold).sum()), "threshold": config.threshold,
            "suspects": int(suspect.sum()), "top": [int(ids[r]) for r in top]}

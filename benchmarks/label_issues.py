"""Planted label flips: does the label-issue ranking find them better than the model's own doubt? And the faith stage's cost.

On each dataset's cached test-set run, 1 % of the labels are flipped (half to a random
other class, half to the class the model finds most confusable for that image; seeded),
the scoring is rerun with the flipped labels, and precision and recall of the top K are
compared with the plain ranking by the model's probability of the given label.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from benchmarks.common import Row
from core.errors import ConfigError

log = logging.getLogger(__name__)

KS = (50, 100, 200)


def flip_labels(labels: np.ndarray, proba: np.ndarray, share: float = 0.01, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(flipped labels, sorted rows flipped): ``share`` of the rows, half to a random other class,
    half to the other class the model gives the highest probability for that row."""
    labels, proba = np.asarray(labels, np.int64), np.asarray(proba)
    if proba.shape != (len(labels), proba.shape[1] if proba.ndim == 2 else -1):
        raise ConfigError(f"proba must be (n, classes) with n = {len(labels)}, got shape {proba.shape}")
    if not 0 < share < 1:
        raise ConfigError(f"share of flipped labels must be in (0, 1), got {share}")
    rng = np.random.default_rng(seed)
    n, c = proba.shape
    count = max(2, int(round(share * n)))
    rows = rng.choice(n, count, replace=False)
    random_rows, confusable_rows = rows[: count // 2], rows[count // 2:]
    out = labels.copy()
    out[random_rows] = (labels[random_rows] + rng.integers(1, c, len(random_rows))) % c
    masked = proba[confusable_rows].astype(np.float64)
    masked[np.arange(len(confusable_rows)), labels[confusable_rows]] = -np.inf
    out[confusable_rows] = masked.argmax(1)
    return out, np.sort(rows)


def plain_scores(labels: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """The baseline: 1 - the model's probability of the given label."""
    return 1.0 - np.asarray(proba, np.float64)[np.arange(len(labels)), labels]


def precision_recall(scores: np.ndarray, flipped: np.ndarray, ks=KS) -> dict[int, tuple[float, float]]:
    """{K: (precision, recall)} of the K highest scores against the flipped rows (ties by row order)."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    truth = np.zeros(len(scores), bool)
    truth[flipped] = True
    out = {}
    for k in ks:
        hits = int(truth[order[:k]].sum())
        out[k] = (hits / min(k, len(scores)), hits / max(1, len(flipped)))
    return out


def compare(labels: np.ndarray, proba: np.ndarray, knn: np.ndarray, config=None, share: float = 0.01,
            seed: int = 0, ks=KS) -> dict:
    """Flip, rescore, and measure ours against plain: ``{"ours": {K: (p, r)}, "plain": ..., "flips": n}``."""
    from embeddings.label_issues import IssuesConfig, score_labels

    config = config or IssuesConfig()
    flipped_labels, rows = flip_labels(labels, proba, share, seed)
    ours = score_labels(flipped_labels, proba, knn, config)
    return {"ours": precision_recall(ours["score"], rows, ks),
            "plain": precision_recall(plain_scores(flipped_labels, proba), rows, ks),
            "flips": len(rows), "suspects": int(ours["suspect"].sum()),
            "suspect_recall": float(ours["suspect"][rows].mean())}


def flip_rows(section: str, what: str, result: dict) -> list[Row]:
    """One row per K: ours against plain, precision / recall."""
    out = []
    for k in result["ours"]:
        (po, ro), (pp, rp) = result["ours"][k], result["plain"][k]
        out.append(Row(section, f"{what}: precision / recall at K={k}", f"{po:.3f} / {ro:.3f}",
                       f"{pp:.3f} / {rp:.3f}", f"{po - pp:+.3f}", "ours >= plain", po >= pp,
                       note=f"{result['flips']} flips" if k == KS[0] else ""))
    out.append(Row(section, f"{what}: confident-learning suspects", f"{result['suspects']}",
                   note=f"they hold {result['suspect_recall']:.0%} of the flips"))
    return out


def bench_flips(store, current: dict, models: tuple[str, ...] | None = None, seed: int = 0) -> list[Row]:
    """Planted flips on every dataset's cached test-set run, per model (all models unless ``models``)."""
    rows = []
    for name, d in current["datasets"].items():
        if d.get("sample_set", "test") != "test":
            rows.append(Row(f"label issues, {d['title']}", "planted flips", "skipped",
                            note="the cached run is not the test set (rerun with --sample-set test)"))
            continue
        labels = store.load_array(store.resolve(d["samples"]) / "labels.npy").astype(np.int64)
        for model, m in d["models"].items():
            if models and model not in models:
                continue
            embed = store.resolve(m["embed"])
            proba = store.load_array(embed / "proba.npy")
            knn = store.load_array(embed / "knn-indices.npy", mmap=True)
            t0 = time.perf_counter()
            result = compare(labels, proba, knn, seed=seed)
            log.info("%s %s: planted flips scored in %.1f s", name, model, time.perf_counter() - t0)
            rows += flip_rows(f"label issues, {d['title']} ({len(labels):,} test images, 1 % flipped)",
                              m.get("title", model), result)
    return rows


def synthetic(n: int, d: int = 50, classes: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Clustered float32 data (n, d) and its labels, for the timing and the tests."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4, size=(classes, d))
    labels = rng.integers(0, classes, n)
    return (centres[labels] + rng.normal(size=(n, d))).astype(np.float32), labels


def faith_cost(n: int = 70_000, d: int = 50, methods: tuple[str, ...] = ("tsne", "umap"), seed: int = 0,
               tsne_iter: int | None = None) -> list[Row]:
    """Seconds of the faith stage's work (2-D neighbours + both shares) against each layout at the same n.

    The shared high-D graph is built once beforehand and charged to neither side.
    """
    from embeddings.faithfulness import faithfulness
    from embeddings.knn import build_knn
    from embeddings.projections import make_projection

    X, _ = synthetic(n, d, seed=seed)
    graph = build_knn(X, 90, seed=seed)
    section = f"faith stage cost, {n:,} synthetic points ({d}-d)"
    rows = []
    for method in methods:
        params = {"random_state": seed, **({"n_iter": tsne_iter} if method == "tsne" and tsne_iter else {})}
        t0 = time.perf_counter()
        Y = make_projection(method, **params).fit_transform(X, knn=graph)
        t_layout = time.perf_counter() - t0
        t0 = time.perf_counter()
        faith, false = faithfulness(graph.indices, Y)
        t_faith = time.perf_counter() - t0
        share = t_faith / t_layout
        rows.append(Row(section, f"{method}: faith stage (s) vs the layout (s)", f"{t_faith:.2f}", f"{t_layout:.1f}",
                        f"{share:.1%}", "<= 20 % of the layout", share <= 0.2,
                        note=f"mean faithfulness {faith.mean():.3f}, false neighbours {false.mean():.3f}"))
    return rows


def bench_label_issues(store, current: dict, faith_n: int = 70_000) -> list[Row]:
    """The ``label_issues`` section: planted flips on the cached run, then the faith stage's cost."""
    return bench_flips(store, current) + faith_cost(faith_n)

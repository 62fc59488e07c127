"""Planted label flips: does the label-issue ranking find them better than the model's own doubt? And the faith stage's cost.

On each dataset's cached test-set run, 1 % of the labels are flipped, the same rows and classes for every
model (issue 25 §3: realistic flips): half to a random other class, half to the class the models of the
ladder together find that image most confusable with (the highest mean probability among the other
classes: the 4 written like a 9 labelled 9), three seeds. Each model's scoring is rerun with the flipped
labels, and precision and recall of its top K (K = 20, 50, 100, 200) are compared with the plain ranking
by the model's own probability of the given label. Two other sources of evidence are measured on the same
flips: the models of the ladder together (their mean probabilities, the CNN's neighbours) and, for each
model's list, the strongest model's (the CNN's) ranking, which is the CNN's own row.

Precision at K counts only planted flips as hits: the test sets' own wrong labels, which a good ranking
also puts near the top, count against it, so no ranking reaches 1 at K = 100 here.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from benchmarks.common import Row
from core.errors import ConfigError

log = logging.getLogger(__name__)

KS = (20, 50, 100, 200)
SEEDS = (0, 1, 2)


def flip_labels(labels: np.ndarray, proba: np.ndarray, share: float = 0.01, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(flipped labels, sorted rows flipped): ``share`` of the rows, half to a random other class,
    half to the other class ``proba`` (a model's, or the ladder's mean) gives the highest probability for that row."""
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


def bench_flips(store, current: dict, models: tuple[str, ...] | None = None, seeds=SEEDS) -> list[Row]:
    """Planted flips on every dataset's cached test-set run, the same for every model (all models unless
    ``models``), means over ``seeds``; then the ladder together."""
    from embeddings.label_issues import IssuesConfig, score_labels

    rows = []
    for name, d in current["datasets"].items():
        if d.get("sample_set", "test") != "test":
            rows.append(Row(f"label issues, {d['title']}", "planted flips", "skipped",
                            note="the cached run is not the test set (rerun with --sample-set test)"))
            continue
        labels = store.load_array(store.resolve(d["samples"]) / "labels.npy").astype(np.int64)
        chosen = [m for m in d["models"] if not models or m in models]
        proba = {m: store.load_array(store.resolve(d["models"][m]["embed"]) / "proba.npy") for m in d["models"]}
        knn = {m: store.load_array(store.resolve(d["models"][m]["embed"]) / "knn-indices.npy", mmap=True)
               for m in d["models"]}
        ladder = np.mean([p.astype(np.float64) for p in proba.values()], axis=0)  # what every model doubts
        strongest = max(d["models"], key=lambda m: float((proba[m].argmax(1) == labels).mean()))
        section = (f"label issues, {d['title']} ({len(labels):,} test images, 1 % flipped: half at random, half to the "
                   f"class the ladder finds each image most confusable with; means of {len(seeds)} seeds)")
        results: dict[str, list] = {}
        for seed in seeds:
            flipped, planted = flip_labels(labels, ladder, seed=seed)
            for m in chosen:
                t0 = time.perf_counter()
                ours = score_labels(flipped, proba[m], knn[m], IssuesConfig())
                log.info("%s %s seed %d: planted flips scored in %.1f s", name, m, seed, time.perf_counter() - t0)
                results.setdefault(m, []).append(
                    {"ours": precision_recall(ours["score"], planted), "plain": precision_recall(
                        plain_scores(flipped, proba[m]), planted), "flips": len(planted),
                     "suspects": int(ours["suspect"].sum()), "suspect_recall": float(ours["suspect"][planted].mean())})
            together = score_labels(flipped, ladder, knn[strongest], IssuesConfig())
            results.setdefault("the ladder together", []).append(
                {"ours": precision_recall(together["score"], planted),
                 "plain": precision_recall(plain_scores(flipped, proba[strongest]), planted), "flips": len(planted),
                 "suspects": int(together["suspect"].sum()),
                 "suspect_recall": float(together["suspect"][planted].mean())})
        for m, runs in results.items():
            title = d["models"][m].get("title", m) if m in d["models"] else f"{m} (against the {strongest} alone)"
            rows += flip_rows(section, title, _mean(runs))
    return rows


def _mean(runs: list[dict]) -> dict:
    """The mean of :func:`compare`-shaped results over seeds."""
    out = {key: {k: tuple(float(np.mean([r[key][k][i] for r in runs])) for i in (0, 1)) for k in runs[0][key]}
           for key in ("ours", "plain")}
    out.update({key: float(np.mean([r[key] for r in runs])) for key in ("suspects", "suspect_recall")})
    out["flips"] = runs[0]["flips"]
    out["suspects"] = int(round(out["suspects"]))
    return out


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

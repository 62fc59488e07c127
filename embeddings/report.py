"""The separability report: every model of MNIST next to Fashion-MNIST, as JSON and as side-by-side tables."""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Callable

import numpy as np

from core.options import option, validate
from core.store import ArtifactStore, config_key, read_json, write_json_atomic
from embeddings import metrics
from embeddings.extract import load_knn, space_matrix
from embeddings.faithfulness import layout_knn
from embeddings.duplicates import summary as duplicates_summary
from embeddings.label_issues import summary as issues_summary

log = logging.getLogger(__name__)

STAGE = "report"


@dataclasses.dataclass(frozen=True)
class ReportConfig:
    """How separability is measured."""

    k: int = option(10, "neighbours of the k-NN accuracy, trustworthiness and overlap", lo=1,
                    flag="--report-k")
    seed: int = option(0, "seed of the sampled silhouette and trustworthiness", derived=True)

    def __post_init__(self) -> None:
        validate(self, "report")


K = ReportConfig.k  # the default, for callers that measure outside the pipeline


#: Shares of a model's report progress (out of 100) its steps take, measured at 70,000 points:
#: the query pass of trustworthiness and silhouette is nearly all of it.
_STEPS = {"load": 5, "neighbours": 10, "queries": 80, "rest": 5}


def model_report(labels: np.ndarray, class_names: list[str], samples_dir: Path, m: dict, k: int, seed: int,
                 store: ArtifactStore | None, progress: Callable[[int, int], None] | None = None,
                 name: str = "", timings: dict | None = None) -> dict:
    """One model's entry of :func:`dataset_part`; ``progress(done, 100)`` as its steps finish, and
    each step's seconds (:data:`_STEPS`) in ``timings`` when given.

    Up to :data:`metrics.EXACT_MAX` points trustworthiness and silhouette are exact (scikit-learn's
    silhouette, every point a trustworthiness query); above, both are means over the same
    :data:`metrics.SAMPLE_QUERIES` seeded query points, each against all points, stored with their
    standard errors (``silhouette_se``, ``trustworthiness_se``; 0 when exact) and ``metric_queries``.
    """
    from core.store import load_array as _plain

    load_array = store.load_array if store is not None else _plain
    read = store.read_json if store is not None else read_json
    step = _Steps(progress, name or m["title"])
    embed_dir, n_classes = Path(m["embed_dir"]), len(class_names)
    pred = load_array(embed_dir / "pred.npy").astype(np.int64)
    # The confusion of the projected samples (the test set, or all 70k), not only the model's test run.
    confusion = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(confusion, (labels, pred), 1)
    model_metrics = read(Path(m["model_dir"]) / "metrics.json")
    X = np.asarray(space_matrix(embed_dir, samples_dir, m["kind"], store=store))
    graph = load_knn(embed_dir, store=store)
    methods = list(m.get("projections", {}))
    coords = [np.asarray(load_array(Path(m["projections"][p]) / "coords.npy")) for p in methods]
    n = len(X)
    k_eff = min(k, graph.k, (n - 1) // 2)
    step.done("load", f"{n:,} x {X.shape[1]} and {len(methods)} layouts loaded")
    # exact 2-D neighbours: brute force up to 20k points, a KD tree above (seconds, not minutes, at 70k)
    graphs = [layout_knn(Y, k_eff) for Y in coords]
    step.done("neighbours", f"{len(graphs)} layouts' exact {k_eff}-NN")
    queries = step.sub("queries")
    if n <= metrics.EXACT_MAX:  # exact, as the default 10,000-point run has always measured them
        sil = metrics.Estimate(metrics.silhouette(X, labels, seed=seed), 0.0, n)
        trust = (metrics.trustworthiness_estimates(X, coords, k_eff, max_queries=None, y_knns=graphs,
                                                   progress=queries) if methods else [])
        how = f"exact over all {n:,} points"
    else:
        trust, sil = metrics.separability_estimates(X, labels, coords, k_eff, metrics.SAMPLE_QUERIES, seed,
                                                    y_knns=graphs, progress=queries)
        how = f"from {sil.queries:,} seeded query points of {n:,}"
    step.done("queries", f"silhouette and trustworthiness {how}")
    entry = {"title": m["title"], "kind": m["kind"], "test_accuracy": model_metrics["test_accuracy"],
             "sample_accuracy": float((labels == pred).mean()), "train_seconds": model_metrics.get("train_seconds"),
             "knn_accuracy": metrics.knn_accuracy(graph, labels, k_eff),
             "silhouette": sil.value, "silhouette_se": sil.se, "metric_queries": sil.queries, "projections": {}}
    for method, g, t in zip(methods, graphs, trust):
        entry["projections"][method] = {"knn_accuracy": metrics.knn_accuracy(g, labels, k_eff),
                                        "trustworthiness": t.value, "trustworthiness_se": t.se}
        if method in m.get("faith", {}):
            entry["projections"][method]["faithfulness"] = float(
                np.mean(load_array(Path(m["faith"][method]) / "faithfulness.npy"), dtype=np.float64))
    if m.get("issues_dir") is not None:
        entry["label_issues"] = issues_summary(Path(m["issues_dir"]), load_array(Path(samples_dir) / "index.npy"),
                                               load=load_array)
    overlap = metrics.neighbourhood_overlap(graph, labels, n_classes, k_eff)
    entry["pairs"] = metrics.confusion_pairs(confusion, overlap, class_names)
    if m.get("dynamics_dir") is not None:
        # Per-snapshot separability of the model's embedding (training dynamics); confusions live in the folder.
        entry["epochs"] = [{k_: v for k_, v in row.items() if k_ != "confusion"}
                           for row in read(Path(m["dynamics_dir"]) / "epochs.json")]
    if m.get("layers_dir") is not None:
        # separability layer by layer, pixels first (embeddings/layers.py); the frames live in the folder
        entry["layers"] = [{k_: v for k_, v in row.items() if k_ != "seconds"}
                           for row in read(Path(m["layers_dir"]) / "layers.json")["layers"]]
    step.done("rest", "k-NN accuracy, overlap, pairs, label issues")
    log.info("report of %s: %s; silhouette and trustworthiness %s", step.name,
             ", ".join(f"{key} {sec:.1f} s" for key, sec in step.seconds.items()), how)
    if timings is not None:
        timings.update(step.seconds)
    return entry


class _Steps:
    """Progress out of 100 through a model's report steps (:data:`_STEPS`), and each step's time."""

    def __init__(self, progress: Callable[[int, int], None] | None, name: str):
        self.progress, self.name, self.base, self.seconds = progress, name, 0, {}
        self.t0 = time.perf_counter()

    def sub(self, key: str) -> Callable[[int, int], None]:
        """A (done, total) callback that moves progress through ``key``'s share."""
        def update(done: int, total: int) -> None:
            if self.progress:
                self.progress(self.base + int(_STEPS[key] * done / max(total, 1)), 100)
        return update

    def done(self, key: str, what: str) -> None:
        seconds = time.perf_counter() - self.t0
        log.debug("report of %s: %s in %.1f s", self.name, what, seconds)
        self.seconds[key] = seconds
        self.base += _STEPS[key]
        if self.progress:
            self.progress(self.base, 100)
        self.t0 = time.perf_counter()


def dataset_part(dataset: str, title: str, class_names: list[str], samples_dir: Path, models: dict[str, dict],
                 store: ArtifactStore, config: ReportConfig = ReportConfig(), progress=None,
                 duplicates_dir: Path | None = None) -> dict:
    """One dataset's part of the report: each model's entry computed (or reused) on its own.

    ``models`` maps a model's name to ``title``, ``kind``, ``model_dir``, ``embed_dir``,
    ``projections`` ({method: folder}), ``dynamics_dir``, ``layers_dir`` and ``issues_dir`` (each or None)
    and ``faith`` ({method: folder}); ``duplicates_dir``, the dataset's near-duplicates folder, gives
    the part's ``duplicates`` counts. Each entry is cached
    in ``<dataset>/report/<key>/`` keyed by that model's folders, so adding a model leaves
    the others' entries alone. ``progress(done, total)`` moves through each model's steps.
    """
    labels = None
    n = int(len(store.load_array(Path(samples_dir) / "labels.npy", mmap=True)))
    out = {"title": title, "n": n, "class_names": class_names, "models": {}}
    if duplicates_dir is not None:
        out["duplicates"] = duplicates_summary(Path(duplicates_dir), store.read_json)
    total = 100 * len(models)
    for i, (name, m) in enumerate(models.items()):
        if progress:
            progress(100 * i, total)
        upstream = [Path(samples_dir).name, Path(m["model_dir"]).name, Path(m["embed_dir"]).name,
                    *sorted(Path(f).name for f in m.get("projections", {}).values())]
        if m.get("dynamics_dir"):
            upstream.append(Path(m["dynamics_dir"]).name)
        if m.get("issues_dir"):
            upstream.append(Path(m["issues_dir"]).name)
        if m.get("layers_dir"):
            upstream.append(Path(m["layers_dir"]).name)
        upstream += sorted(Path(f).name for f in m.get("faith", {}).values())

        def make(folder: Path, m=m, name=name, i=i) -> None:
            nonlocal labels
            if labels is None:
                labels = store.load_array(Path(samples_dir) / "labels.npy").astype(np.int64)
            log.info("report of %s %s: %d points, %d layouts", dataset, name, n, len(m.get("projections", {})))
            step = (lambda done, _total: progress(100 * i + done, total)) if progress else None
            write_json_atomic(folder / "report.json",
                              model_report(labels, class_names, samples_dir, m, config.k, config.seed, store,
                                           progress=step, name=f"{dataset} {name}"))

        recorded = {"k": config.k, "seed": config.seed, "model": name, "title": m["title"]}
        if n > metrics.EXACT_MAX:  # the sampling enters the key only where it changes the figures
            recorded["queries"] = metrics.SAMPLE_QUERIES
        folder = store.build(dataset, STAGE, recorded, make, upstream=tuple(upstream))
        out["models"][name] = store.read_json(folder / "report.json")
    if progress:
        progress(total, total)
    return out


def combine(parts: dict[str, dict], store: ArtifactStore, k: int = K) -> Path:
    """The report of several datasets side by side, from their parts (cheap; atomic).

    Rewritten whenever its content differs from the parts', so a damaged copy never survives a run.
    """
    report = {"k": k, "datasets": parts}
    key = config_key(report)
    path = store.root / STAGE / key / "report.json"
    try:
        same = read_json(path) == report
    except Exception:  # noqa: BLE001 - missing or unreadable: write it
        same = False
    if not same:
        write_json_atomic(path, report)
    return path


def frame_label(epoch: float) -> str:
    """``untrained``, ``5% of epoch 1``, ``epoch 2``: when a training snapshot was taken."""
    e = float(epoch)
    if e <= 0:
        return "untrained"
    whole = int(np.floor(e + 1e-9))
    if e - whole < 1e-6:
        return f"epoch {whole}"
    return f"{100 * (e - whole):.0f}% of epoch {whole + 1}"


def format_table(report: dict) -> str:
    """The report as plain-text tables: the models table, then per model its layouts, pairs and snapshots."""
    names = list(report["datasets"])
    ds = [report["datasets"][n] for n in names]
    models = list(dict.fromkeys(m for d in ds for m in d.get("models", {})))
    k = report["k"]
    table = models_table(report)
    head = ("", "model", "test acc", f"{k}-NN high-D", "t-SNE 2-D k-NN", "t-SNE trust.", "silhouette",
            "train s", "most confused pair", "label suspects", "t-SNE faith.")
    rows = [head] + [(r["dataset"] if i == 0 or table[i - 1]["dataset"] != r["dataset"] else "", r["model"],
                      *[_num(r[c], 4) for c in ("test_accuracy", "knn_accuracy", "tsne_knn_accuracy")],
                      _num(r["tsne_trustworthiness"], 4, r["tsne_trustworthiness_se"]),
                      _num(r["silhouette"], 3, r["silhouette_se"]), _num(r["train_seconds"], 0), r["most_confused"],
                      "-" if r["suspects"] is None else str(r["suspects"]), _num(r["tsne_faithfulness"], 3))
                     for i, r in enumerate(table)]
    blocks = [_table(rows)]
    if any(r["silhouette_se"] or r["tsne_trustworthiness_se"] for r in table):
        blocks[0] += (f"\n± one standard error: above {metrics.EXACT_MAX:,} points silhouette and trustworthiness "
                      f"are means over {metrics.SAMPLE_QUERIES:,} seeded query points, each against all points")
    if any("duplicates" in d for d in ds):
        blocks.append(_table(duplicate_rows(ds)))
    for m in models:
        rows: list[tuple[str, ...]] = [(f"[{m}]", *[d["title"] for d in ds])]
        methods = sorted({p for d in ds for p in d["models"].get(m, {}).get("projections", {})})
        for p in methods:
            rows.append((f"  {p}: 2-D k-NN acc / trust.", *[_proj(d, m, p) for d in ds]))
        for i in range(3):
            cells = []
            for d in ds:
                pairs = d["models"].get(m, {}).get("pairs", [])
                pr = pairs[i] if i < len(pairs) else None
                cells.append(f"{pr['names'][0]} / {pr['names'][1]}: {pr['confusions']} err, {pr['overlap']:.3f} ovl"
                             if pr else "")
            rows.append((f"  confused #{i + 1}", *cells))
        if any("epochs" in d["models"].get(m, {}) for d in ds):
            when = sorted({round(float(ep.get("epoch", i + 1)), 4) for d in ds
                           for i, ep in enumerate(d["models"].get(m, {}).get("epochs", []))})
            rows.append(("  snapshots: k-NN acc / silhouette", *["" for _ in ds]))
            for w in when:
                cells = []
                for d in ds:
                    eps = d["models"].get(m, {}).get("epochs", [])
                    ep = {round(float(r.get("epoch", i + 1)), 4): r for i, r in enumerate(eps)}.get(w)
                    cells.append(f"{ep['knn_accuracy']:.4f} / {ep['silhouette']:.4f}" if ep else "")
                rows.append((f"    {frame_label(w)}", *cells))
        rows += layer_rows(ds, m)
        blocks.append(_table(rows))
    blocks += [corrections_words(d) for d in ds if d.get("corrections")]
    return "\n\n".join(blocks)


def corrections_words(d: dict) -> str:
    """A dataset's label corrections (``pipeline/corrections.py``'s part): counts, and accuracy both ways."""
    c = d["corrections"]
    marks = ", ".join(f"{v} {k}" for k, v in c.get("marked", {}).items() if v)
    lines = [f"{d['title']}: {c['changed']} label(s) of these images corrected, {c['train_changed']} of training "
             f"images (the models learn from those){'; ' + marks if marks else ''}; log {c['log']}"]
    lines += [f"  {m}: accuracy {a['corrected']:.4f} against the corrected labels, {a['original']:.4f} against "
              "the original" for m, a in c.get("accuracy", {}).items()]
    return "\n".join(lines)


#: The near-duplicate counts of the report's table, in order: (key, words).
DUPLICATE_ROWS = (("groups", "groups"), ("images", "images in groups"), ("within_train", "pairs within train"),
                  ("within_test", "pairs within test"), ("train_test", "pairs train-test"),
                  ("mixed_labels", "groups with mixed labels"))


def duplicate_rows(ds: list[dict]) -> list[tuple[str, ...]]:
    """The near-duplicates table: each dataset's counts and threshold (``-``: not looked for)."""
    rows = [("[near-duplicates]", *[d["title"] for d in ds])]
    for key, words in DUPLICATE_ROWS:
        rows.append((f"  {words}", *[str(d["duplicates"][key]) if "duplicates" in d else "-" for d in ds]))
    rows.append(("  threshold (bound)", *[f"{d['duplicates']['threshold']:.4f} ({d['duplicates']['bound']})"
                                          if "duplicates" in d else "-" for d in ds]))
    return rows


def layer_rows(ds: list[dict], model: str) -> list[tuple[str, ...]]:
    """The per-layer table of one model across datasets: k-NN accuracy / linear probe / silhouette by depth."""
    layers = [d["models"].get(model, {}).get("layers") or [] for d in ds]
    if not any(layers):
        return []
    rows = [("  layers: k-NN acc / probe / silhouette", *["" for _ in ds])]
    for i in range(max(len(x) for x in layers)):
        title = next(x[i]["title"] for x in layers if i < len(x))
        rows.append((f"    {i}. {title}", *[f"{x[i]['knn_accuracy']:.4f} / {x[i]['probe_accuracy']:.4f} / "
                                             f"{x[i]['silhouette']:.3f}" if i < len(x) else "" for x in layers]))
    return rows


def models_table(report: dict) -> list[dict]:
    """One row per dataset and model: the numbers a student compares to see what depth buys."""
    rows = []
    for d in report["datasets"].values():
        for name, e in d.get("models", {}).items():
            tsne = e.get("projections", {}).get("tsne", {})
            pair = e["pairs"][0] if e.get("pairs") else None
            rows.append({"dataset": d["title"], "model": name, "title": e.get("title", name),
                         "test_accuracy": e["test_accuracy"], "knn_accuracy": e["knn_accuracy"],
                         "tsne_knn_accuracy": tsne.get("knn_accuracy"), "tsne_trustworthiness": tsne.get("trustworthiness"),
                         "tsne_trustworthiness_se": tsne.get("trustworthiness_se", 0.0),
                         "silhouette": e["silhouette"], "silhouette_se": e.get("silhouette_se", 0.0),
                         "train_seconds": e.get("train_seconds"),
                         "most_confused": f"{pair['names'][0]} / {pair['names'][1]} ({pair['confusions']})" if pair else "",
                         "suspects": e.get("label_issues", {}).get("suspects"),
                         "tsne_faithfulness": tsne.get("faithfulness")})
    return rows


def _num(v, digits: int, se: float | None = 0.0) -> str:
    """``0.9961``, or ``0.9961 ±0.0004`` for an estimate with its standard error."""
    if v is None:
        return "-"
    return f"{v:.{digits}f}" + (f" ±{se:.{digits}f}" if se else "")


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)


def _proj(d: dict, model: str, method: str) -> str:
    p = d["models"].get(model, {}).get("projections", {}).get(method)
    return "" if p is None else f"{p['knn_accuracy']:.4f} / {_num(p['trustworthiness'], 4, p.get('trustworthiness_se'))}"

"""The separability report: MNIST next to Fashion-MNIST, as JSON and as a side-by-side table."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

import dataclasses

from core.options import option, validate
from core.store import ArtifactStore, config_key, read_json, write_json_atomic
from core.vocab import SPACES
from embeddings import metrics
from embeddings.extract import load_knn, space_matrix
from embeddings.knn import build_knn

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


def dataset_report(title: str, class_names: list[str], model_dir: Path, embed_dir: Path,
                   projections: dict[str, dict[str, Path]], dynamics_dir: Path | None = None,
                   k: int = K, seed: int = 0, store: ArtifactStore | None = None) -> dict:
    """Separability numbers of one dataset: per space, per projection, per class pair, per frame.

    Files are verified against their folders' records when ``store`` is given.
    """
    from core.store import load_array as _plain

    load_array = store.load_array if store is not None else _plain
    read = store.read_json if store is not None else read_json
    labels = load_array(embed_dir / "labels.npy").astype(np.int64)
    pred = load_array(embed_dir / "pred.npy").astype(np.int64)
    n_classes = len(class_names)
    # The confusion of the projected samples (the test set, or all 70k), not only the model's test run.
    confusion = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(confusion, (labels, pred), 1)
    model_metrics = read(model_dir / "metrics.json")
    out = {"title": title, "n": int(len(labels)), "class_names": class_names,
           "test_accuracy": model_metrics["test_accuracy"], "sample_accuracy": float((labels == pred).mean()),
           "spaces": {}}
    for space in SPACES:
        X = np.asarray(space_matrix(embed_dir, space, store=store))
        graph = load_knn(embed_dir, space, store=store)
        k_eff = min(k, graph.k, (len(X) - 1) // 2)
        entry = {"knn_accuracy": metrics.knn_accuracy(graph, labels, k_eff),
                 "silhouette": metrics.silhouette(X, labels, seed=seed), "projections": {}}
        methods = list(projections.get(space, {}))
        coords = [np.asarray(load_array(projections[space][m] / "coords.npy")) for m in methods]
        graphs = [build_knn(Y, k_eff, method="exact" if len(Y) <= 20000 else "auto", seed=seed) for Y in coords]
        trust = metrics.trustworthiness_many(X, coords, k_eff, seed=seed, y_knns=graphs) if methods else []
        for method, graph, t in zip(methods, graphs, trust):
            entry["projections"][method] = {"knn_accuracy": metrics.knn_accuracy(graph, labels, k_eff),
                                            "trustworthiness": t}
        if space == "cnn":
            overlap = metrics.neighbourhood_overlap(graph, labels, n_classes, k_eff)
            out["pairs"] = metrics.confusion_pairs(confusion, overlap, class_names)
        out["spaces"][space] = entry
    if dynamics_dir is not None:
        # Per-snapshot separability of the CNN embedding (training dynamics); confusions live in the folder.
        out["epochs"] = [{k_: v for k_, v in row.items() if k_ != "confusion"}
                         for row in read(Path(dynamics_dir) / "epochs.json")]
    return out


def dataset_part(name: str, entry: dict, store: ArtifactStore, upstream: list[str],
                 config: ReportConfig = ReportConfig()) -> Path:
    """Compute (or reuse) one dataset's part of the report, cached in ``<dataset>/report/<key>/``.

    ``entry`` holds the keyword arguments of :func:`dataset_report`; ``upstream`` the keys
    of the artifacts it reads.
    """
    recorded = {"k": config.k, "seed": config.seed}

    def make(out: Path) -> None:
        part = dataset_report(**entry, k=config.k, seed=config.seed, store=store)
        write_json_atomic(out / "report.json", part)

    folder = store.build(name, STAGE, recorded, make, upstream=tuple(upstream))
    return folder / "report.json"


def combine(parts: dict[str, Path], store: ArtifactStore, k: int = K) -> Path:
    """The report of several datasets side by side, from their cached parts (cheap; atomic).

    Rewritten whenever its content differs from the parts', so a damaged copy never survives a run.
    """
    key = config_key({"k": k}, *[str(p.parent.name) for p in parts.values()], *parts)
    path = store.root / STAGE / key / "report.json"
    report = {"k": k, "datasets": {name: store.read_json(p) for name, p in parts.items()}}
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
    """The report as a plain-text table, datasets side by side."""
    names = list(report["datasets"])
    ds = [report["datasets"][n] for n in names]
    rows: list[tuple[str, ...]] = [("", *[d["title"] for d in ds])]
    rows.append(("CNN test accuracy", *[f"{d['test_accuracy']:.4f}" for d in ds]))
    for space in SPACES:
        label = "CNN embedding" if space == "cnn" else "raw pixels"
        rows.append((f"[{label}]", *["" for _ in ds]))
        rows.append((f"  {report['k']}-NN accuracy, high-D", *[_f(d, space, "knn_accuracy") for d in ds]))
        rows.append(("  silhouette, high-D", *[_f(d, space, "silhouette") for d in ds]))
        methods = sorted({m for d in ds for m in d["spaces"].get(space, {}).get("projections", {})})
        for m in methods:
            rows.append((f"  {m}: 2-D k-NN acc / trust.",
                         *[_proj(d, space, m) for d in ds]))
    rows.append(("[most confused pairs]", *["" for _ in ds]))
    for i in range(5):
        cells = []
        for d in ds:
            p = d.get("pairs", [])[i] if i < len(d.get("pairs", [])) else None
            cells.append(f"{p['names'][0]} / {p['names'][1]}: {p['confusions']} err, {p['overlap']:.3f} ovl" if p else "")
        rows.append((f"  #{i + 1}", *cells))
    if any("epochs" in d for d in ds):
        rows.append(("[training snapshots: k-NN acc / silhouette]", *["" for _ in ds]))
        # frames of both datasets by when they were taken (untrained, 5% of epoch 1, ..., epoch 8)
        when = sorted({round(float(ep.get("epoch", i + 1)), 4) for d in ds
                       for i, ep in enumerate(d.get("epochs", []))})
        for t in when:
            cells = []
            for d in ds:
                ep = {round(float(r.get("epoch", i + 1)), 4): r for i, r in enumerate(d.get("epochs", []))}.get(t)
                cells.append(f"{ep['knn_accuracy']:.4f} / {ep['silhouette']:.4f}" if ep else "")
            rows.append((f"  {frame_label(t)}", *cells))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)


def _f(d: dict, space: str, key: str) -> str:
    v = d["spaces"].get(space, {}).get(key)
    return "" if v is None else f"{v:.4f}"


def _proj(d: dict, space: str, method: str) -> str:
    p = d["spaces"].get(space, {}).get("projections", {}).get(method)
    return "" if p is None else f"{p['knn_accuracy']:.4f} / {p['trustworthiness']:.4f}"

"""The model ladder on both datasets: what each rung costs and what it buys.

Reads the default run's cache (``./run.sh --no-serve``): each model's test accuracy and
training time as that run measured them, and the report's separability numbers. The
targets are the figures of the projects this one grew from (``../shared/seeds/``):
k-NN on raw pixels about 0.97 (MNIST) / 0.85 (Fashion-MNIST), a dense network about
0.98 / 0.89.
"""
from __future__ import annotations

from benchmarks.common import Row

#: (dataset, model) -> (lowest accepted test accuracy, what the seeds report)
TARGETS = {("mnist", "pixels"): (0.96, "about 0.97"), ("fashion-mnist", "pixels"): (0.84, "about 0.85"),
           ("mnist", "mlp"): (0.975, "about 0.98"), ("fashion-mnist", "mlp"): (0.88, "about 0.89"),
           ("mnist", "cnn"): (0.992, ">= 0.992"), ("fashion-mnist", "cnn"): (0.920, ">= 0.920")}


def bench_models(store, current: dict) -> list[Row]:
    report = store.read_json(store.resolve(current["report"]))
    rows = []
    for name, d in current["datasets"].items():
        section = f"model ladder, {d['title']} (the default run's cache; times as that run measured them)"
        entries = report["datasets"][name]["models"]
        for model, m in d["models"].items():
            e = entries[model]
            low, seeds = TARGETS.get((name, model), (None, ""))
            acc = e["test_accuracy"]
            tsne = e["projections"].get("tsne", {})
            secs = e.get("train_seconds")
            rows.append(Row(section, f"{model}: test accuracy", f"{acc:.4f}",
                            target=f">= {low} (seeds: {seeds})" if low else "",
                            met=(acc >= low) if low else None,
                            note=f"{report['k']}-NN high-D {e['knn_accuracy']:.4f}, t-SNE 2-D k-NN "
                                 f"{tsne.get('knn_accuracy', float('nan')):.4f}, trust. "
                                 f"{tsne.get('trustworthiness', float('nan')):.4f}, silhouette {e['silhouette']:.3f}"))
            what = ("the 10,000 x 60,000 distance search and vote" if e["kind"] == "pixels" else
                    "every epoch with its test evaluation and snapshots" if e["kind"] in ("mlp", "cnn") else
                    "not trained here")
            rows.append(Row(section, f"{model}: fit time (s)", "-" if secs is None else f"{secs:.0f}", note=what))
    return rows

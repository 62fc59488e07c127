"""The network layer by layer (issue 24 §2): the layers stage's extra time per dataset, and what it finds.

Section ``depth`` of ``python -m benchmarks``; alone: ``python -m benchmarks.depth_bench CACHE``.
On a default run's cache, per dataset, its networks' layers are measured afresh as the pipeline's
``layers`` stage does (``embeddings.layers``: activations, then each layer's separability, frames and
anchors; the pixels measured once per dataset) and timed against the same dataset's CNN UMAP layout of
all its samples (the pipeline's ``project`` step, remade here from its k-NN graph) in the same run. Each
layer's k-NN accuracy, linear probe and silhouette are the per-layer figures of the README.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Row


def bench_depth(cache: Path) -> list[Row]:
    from core.store import ArtifactStore
    from embeddings import layers as L
    from embeddings.extract import load_knn
    from embeddings.projections import UMAP
    from training import kinds

    store = ArtifactStore(cache)
    current = store.read_current()
    section = "layers: the network layer by layer (embeddings/layers.py), default run's cache"
    config = L.LayersConfig()
    rows: list[Row] = []
    for name, entry in current["datasets"].items():
        samples = store.resolve(entry["samples"])
        images = store.load_array(samples / "images.npy")
        labels = store.load_array(samples / "labels.npy").astype(np.int64)
        L._PIXELS.clear()  # each dataset measures its pixels once, as a run does
        total = 0.0
        for model, m in entry["models"].items():
            kind = kinds.get(m["kind"])
            if kind.network is None:
                continue
            t0 = time.perf_counter()
            table = L.measure(kinds.ModelSpec(model, m["kind"], m["title"], None), store.resolve(m["model"]), images,
                              labels, config, store, pixels_key=(str(samples),)).table
            seconds = time.perf_counter() - t0
            total += seconds
            rows.append(Row(section, f"{entry['title']} · {m['title']}: {len(table)} layers (s)", f"{seconds:.1f}",
                            note=", ".join(f"{x['title']} {x['seconds']:.1f}" for x in table)))
            for x in table:
                rows.append(Row(section, f"{entry['title']} · {m['title']} · {x['title']}: k-NN / probe / silhouette",
                                f"{x['knn_accuracy']:.3f} / {x['probe_accuracy']:.3f} / {x['silhouette']:.3f}",
                                note=x["how"]))
        cnn = entry["models"].get("cnn")
        if cnn and total:
            embed = store.resolve(cnn["embed"])
            X = store.load_array(embed / "space.npy")
            t0 = time.perf_counter()
            UMAP(random_state=0).fit_transform(X, knn=load_knn(embed, store))
            umap_s = time.perf_counter() - t0
            rows.append(Row(section, f"{entry['title']}: the layers stage, every network (s), against its CNN's UMAP",
                            f"{total:.1f}", reference=f"{umap_s:.1f}", ratio=f"{total / umap_s:.1f}x",
                            note=f"{len(labels):,} images, frames of {config.points:,}"))
    return rows


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cache", type=Path)
    for r in bench_depth(p.parse_args().cache):
        print(f"{r.what}: {r.ours}" + (f" vs {r.reference} ({r.ratio})" if r.reference else "") + f"  {r.note}")

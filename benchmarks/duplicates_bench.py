"""The near-duplicate stage at 70,000 points (issue 25 §2), against the shared k-NN graph build in the same run.

Section ``duplicates`` of ``python -m benchmarks``; alone: ``python -m benchmarks.duplicates_bench CACHE_70K``.
For each dataset of a ``--sample-set all`` cache: the stage's work (loading the samples and every model's
k-NN graph, judging the candidate pairs, calibrating the threshold on planted copies, grouping) timed as
``embeddings.duplicates.find`` runs it, next to the reference the same machine measures in the same run:
the shared k-NN graph of the CNN's embedding (k = 90, as the embed stage builds it). The counts found
are reported too; nothing is written to the cache.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Row
from core.store import ArtifactStore
from embeddings.duplicates import DuplicatesConfig, find
from embeddings.knn import build_knn
from training import kinds

SECTION = "duplicates"


def stage_inputs(store: ArtifactStore, entry: dict) -> tuple:
    """(images, labels, splits, graphs) of one dataset entry, read as the stage reads them."""
    samples = store.resolve(entry["samples"])
    ids = store.load_array(samples / "index.npy")
    images = store.load_array(samples / "images.npy")
    labels = store.load_array(samples / "labels.npy")
    n_train = entry.get("n_train") or 60_000
    graphs = {("pixels" if kinds.get(m["kind"]).pixel_space else name):
              store.load_array(store.resolve(m["embed"]) / "knn-indices.npy") for name, m in entry["models"].items()}
    return images, labels, (ids >= n_train).astype(np.int64), graphs


def bench_duplicates(cache: Path) -> list[Row]:
    store = ArtifactStore(cache)
    rows = []
    for name, entry in store.read_current()["datasets"].items():
        if entry.get("sample_set") != "all":
            continue
        t0 = time.perf_counter()
        images, labels, splits, graphs = stage_inputs(store, entry)
        result = find(images, labels, splits, graphs, DuplicatesConfig())
        ours = time.perf_counter() - t0
        X = store.load_array(store.resolve(entry["models"]["cnn"]["embed"]) / "space.npy")
        t0 = time.perf_counter()
        graph = build_knn(X, 90)
        ref = time.perf_counter() - t0
        cal = result["calibration"]
        split = splits[result["pairs"]]
        within = {"train": int((split.sum(1) == 0).sum()), "test": int((split.sum(1) == 2).sum()),
                  "across": int((split.sum(1) == 1).sum())}
        groups = int(result["group"].max()) + 1
        rows.append(Row(SECTION, f"{entry.get('title', name)}: near-duplicate stage, {len(images):,} images",
                        f"{ours:.1f} s", f"{ref:.1f} s (CNN's k-NN graph, k=90, {graph.method})", f"{ours / ref:.2f}x",
                        note=f"{groups} groups, {int((result['group'] >= 0).sum())} images; pairs within train "
                             f"{within['train']}, within test {within['test']}, train-test {within['across']}; "
                             f"threshold {cal['threshold']:.4f} ({cal['bound']} bound), planted copies found "
                             f"{100 * cal['planted_found']:.0f}%; {len(result['pairs'])} pairs from "
                             f"{', '.join(result['sources'])}"))
    return rows


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("cache", type=Path)
    from benchmarks.common import to_markdown

    print(to_markdown(bench_duplicates(p.parse_args().cache)))

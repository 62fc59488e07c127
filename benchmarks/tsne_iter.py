"""t-SNE iterations after early exaggeration against layout quality and time (issue 23).

``python -m benchmarks.tsne_iter CACHE [--iters 250,500] [--pixels-70k DATA_DIR]``

On a default run's cache: each dataset's CNN embedding of its 10,000 test images; with
``--pixels-70k``: all 70,000 images of each dataset's ``<DATA_DIR>/<name>.npz`` as a PCA-50 of the
pixels (a stand-in for a 70,000-point embedding that needs no model).  Each t-SNE runs on one
shared k=90 graph; quality is the 2-D 10-NN accuracy and the trustworthiness (4,000 queries).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from embeddings import metrics
from embeddings.knn import build_knn
from embeddings.methods.tsne import TSNE


def compare(name: str, X: np.ndarray, labels: np.ndarray, iters: list[int]) -> None:
    knn = build_knn(X, 90)
    for n_iter in iters:
        t0 = time.perf_counter()
        Y = TSNE(n_iter=n_iter).fit_transform(X, knn=knn)
        seconds = time.perf_counter() - t0
        acc = metrics.knn_accuracy(build_knn(Y, 10), labels, 10)
        trust = metrics.trustworthiness(X, Y, 10, max_queries=4000)
        print(f"{name} ({len(X):,} points), n_iter {n_iter}: {seconds:.1f} s, 2-D 10-NN accuracy {acc:.4f}, "
              f"trustworthiness {trust:.4f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.tsne_iter", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cache", type=Path)
    p.add_argument("--iters", default="250,500")
    p.add_argument("--pixels-70k", type=Path, default=None, metavar="DATA_DIR")
    args = p.parse_args(argv)
    iters = [int(x) for x in args.iters.split(",")]
    current = json.loads((args.cache / "current.json").read_text())
    for name, entry in current["datasets"].items():
        if args.pixels_70k is not None:
            from sklearn.decomposition import PCA

            with np.load(args.pixels_70k / f"{name}.npz", allow_pickle=False) as z:
                X = np.concatenate([z["x_train"], z["x_test"]]).reshape(-1, 784).astype(np.float32) / 255
                labels = np.concatenate([z["y_train"], z["y_test"]])
            compare(f"{name} pixels PCA-50", PCA(50, random_state=0).fit_transform(X).astype(np.float32),
                    labels, iters)
            continue
        embed = args.cache / entry["models"]["cnn"]["embed"]
        X = np.load(embed / "space.npy", allow_pickle=False).astype(np.float32)
        labels = np.load(args.cache / entry["samples"] / "labels.npy", allow_pickle=False)
        compare(f"{name} CNN", X, labels, iters)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

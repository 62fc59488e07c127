"""Faithfulness on planted tears (issue 25 §4): does the per-point score find the points a layout puts in the
wrong place, without crying wolf inside intact clusters?

Section ``faith`` of ``python -m benchmarks``; alone: ``python -m benchmarks.faith_planted CACHE``.
For each dataset of a default run's cache, its CNN's UMAP and t-SNE layouts: a seeded 2 % of the points is
moved to the place of a random point of another class (plus a jitter of 0.5 % of the layout's extent), a
tear the picture then shows, and both scores are computed on the damaged layout from the same k-NN graph
of the embedding: the strict one (a point's 10 nearest in the embedding among its 10 nearest in the
layout) and the tolerant one the pipeline now keeps (among its 30 nearest). Reported: how many of the
moved points are the lowest-scoring 2 % (precision = recall at K = the number moved), the share of the
untouched points the detail panel would call misleading (3 or fewer of 10: crying wolf), and the share
of the moved points it would.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.common import Row
from embeddings.faithfulness import faithfulness, layout_knn

SHARE = 0.02
SEED = 0
MISLEADS = 0.3  # the detail panel's "the layout misleads here": 3 or fewer of 10 kept


def plant(coords: np.ndarray, labels: np.ndarray, share: float = SHARE, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """A copy of ``coords`` with ``share`` of its points moved among another class's; and the rows moved."""
    rng = np.random.default_rng(seed)
    n = len(coords)
    moved = np.sort(rng.choice(n, max(1, int(share * n)), replace=False))
    out = coords.astype(np.float64).copy()
    jitter = 0.005 * (coords.max(0) - coords.min(0))
    for r in moved:
        others = np.flatnonzero(labels != labels[r])
        out[r] = coords[rng.choice(others)] + rng.normal(0, 1, 2) * jitter
    return out, moved


def scores(high: np.ndarray, coords: np.ndarray, window: int) -> np.ndarray:
    low = layout_knn(coords, window)
    return faithfulness(high, coords, k=10, k_far=30, low=low, window=window)[0]


def bench_planted(cache: Path) -> list[Row]:
    from core.store import ArtifactStore
    from explorer.store import ExplorerStore

    store = ExplorerStore(ArtifactStore(cache))
    section = ("faithfulness on planted tears: 2 % of a real layout's points moved among another class, "
               "strict (10 among 10) against tolerant (10 among 30)")
    rows = []
    for name in store.names:
        m = store.get(name).model("cnn")
        high = m.ds.artifacts.load_array(m.embed_dir / "knn-indices.npy")
        for proj in [p for p in ("umap", "tsne") if m.has(p)]:
            damaged, moved = plant(m.coords(proj), m.ds.labels)
            untouched = np.setdiff1d(np.arange(len(damaged)), moved)
            out = {}
            for window in (10, 30):
                f = scores(high, damaged, window)
                lowest = np.argsort(f, kind="stable")[:len(moved)]
                out[window] = (np.isin(lowest, moved).mean(), (f[untouched] <= MISLEADS).mean(),
                               (f[moved] <= MISLEADS).mean(), f[untouched].mean())
            what = f"{m.ds.title} · CNN · {proj} ({len(moved)} of {len(damaged):,} moved)"
            new, old = out[30], out[10]
            rows += [
                Row(section, f"{what}: precision = recall at K = {len(moved)}", f"{new[0]:.3f}", reference=f"{old[0]:.3f}"),
                Row(section, f"{what}: untouched points called misleading (<= 3 of 10)", f"{new[1]:.1%}",
                    reference=f"{old[1]:.1%}", note=f"mean score of the untouched {new[3]:.2f} against {old[3]:.2f}"),
                Row(section, f"{what}: moved points called misleading", f"{new[2]:.1%}", reference=f"{old[2]:.1%}"),
            ]
    return rows


def main(argv: list[str] | None = None) -> int:
    from benchmarks.common import to_markdown

    p = argparse.ArgumentParser(prog="python -m benchmarks.faith_planted", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cache", type=Path, help="a default run's cache (its current.json)")
    print(to_markdown(bench_planted(p.parse_args(argv).cache)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

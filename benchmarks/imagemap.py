"""The image map's assignment (issue 24): time and neighbourhoods kept for 2,500 and 10,000 images.

Section ``imagemap`` of ``python -m benchmarks``; alone: ``python -m benchmarks.imagemap CACHE``.
For each dataset of a default run's cache, its CNN's t-SNE and UMAP layouts (the first 2,500 and all
10,000 test images): the blocked assignment :func:`explorer.grid.snap` makes (blocks of 256 cells),
against one exact assignment of the whole grid where that is affordable (2,500: a 2,500² cost matrix;
10,000 would take 800 MB and minutes), in the same run; the share of each image's 10 nearest in the
layout that the grid keeps among its nearest cells; and the whole map the tab makes (assignment, PNG).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Row
from explorer.grid import kept_neighbours, snap

SIZES = (2_500, 10_000)
EXACT_MAX = 2_500  # one exact assignment above this is minutes and gigabytes


def bench_imagemap(cache: Path) -> list[Row]:
    from core.store import ArtifactStore
    from explorer.imagemap import _maps, image_map
    from explorer.store import ExplorerStore

    store = ExplorerStore(ArtifactStore(cache))
    section = "image map: a layout snapped to a grid (explorer/grid.py), CNN embeddings of the test images"
    rows = []
    for name in store.names:
        m = store.get(name).model("cnn")
        for proj in [p for p in ("tsne", "umap") if m.has(p)]:
            xy = m.coords(proj)
            for n in [s for s in SIZES if s <= len(xy)]:
                part = xy[:n]
                t0 = time.perf_counter()
                grid = snap(part)
                blocked = time.perf_counter() - t0
                kept = kept_neighbours(part, grid)
                what = f"{m.ds.title} · {proj} · {n:,} images"
                if n <= EXACT_MAX:
                    t0 = time.perf_counter()
                    exact_grid = snap(part, block=n)
                    exact = time.perf_counter() - t0
                    rows.append(Row(section, f"{what}: assignment (s), blocks against one exact", f"{blocked:.2f}",
                                    reference=f"{exact:.2f}", ratio=f"{blocked / exact:.2f}x",
                                    note=f"10-NN kept {kept:.3f} against {kept_neighbours(part, exact_grid):.3f}"))
                else:
                    rows.append(Row(section, f"{what}: assignment (s)", f"{blocked:.2f}", target="<= 5",
                                    met=blocked <= 5, note=f"10-NN kept {kept:.3f}"))
            _maps.clear()
            t0 = time.perf_counter()
            imap = image_map(m, proj, np.arange(m.ds.n), "all")
            whole = time.perf_counter() - t0
            w, h = imap.size
            rows.append(Row(section, f"{m.ds.title} · {proj}: the tab's whole map of {len(imap.rows):,} images (s)",
                            f"{whole:.2f}", note=f"{w:,} x {h:,} px PNG, {len(imap.png) / 1e6:.1f} MB"))
    return rows


def bench_subclusters(cache: Path) -> list[Row]:
    """Each model's sub-clusters (explorer/subclusters.py): time, how many, the images in one."""
    from core.store import ArtifactStore
    from explorer.store import ExplorerStore
    from explorer.subclusters import find_subclusters

    store = ExplorerStore(ArtifactStore(cache))
    section = "sub-clusters within each class (HDBSCAN in the model's embedding, explorer/subclusters.py)"
    rows = []
    for name in store.names:
        ds = store.get(name)
        for model in ds.model_names:
            m = ds.model(model)
            t0 = time.perf_counter()
            found = find_subclusters(m)
            seconds = time.perf_counter() - t0
            covered = sum(len(s.rows) for s in found)
            rows.append(Row(section, f"{ds.title} · {m.title} ({ds.n:,} images): sub-clusters found (s)",
                            f"{seconds:.1f}", note=f"{len(found)} sub-clusters in {len({s.cls for s in found})} "
                                                    f"classes, holding {covered:,} images"))
    return rows


def bench_atypical(cache: Path) -> list[Row]:
    """Each model's atypicality (explorer/atypical.py) from its cache: time to the colouring's values."""
    from core.store import ArtifactStore
    from explorer.atypical import atypicality, most_atypical
    from explorer.store import ExplorerStore

    store = ExplorerStore(ArtifactStore(cache))
    section = "atypicality (outliers): the k-NN graph's mean distance as a percentile in each class, explorer/atypical.py"
    rows = []
    for name in store.names:
        ds = store.get(name)
        for model in ds.model_names:
            m = ds.model(model)
            t0 = time.perf_counter()
            atypicality(m)
            most = most_atypical(m)
            seconds = time.perf_counter() - t0
            rows.append(Row(section, f"{ds.title} · {m.title} ({ds.n:,} images): scores and the most atypical (s)",
                            f"{seconds:.2f}", note=f"{len(most):,} most atypical kept"))
    return rows


def main(argv: list[str] | None = None) -> int:
    from benchmarks.common import to_markdown

    p = argparse.ArgumentParser(prog="python -m benchmarks.imagemap", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cache", type=Path, help="a default run's cache (its current.json)")
    cache = p.parse_args(argv).cache
    print(to_markdown(bench_imagemap(cache) + bench_subclusters(cache) + bench_atypical(cache)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

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

from benchmarks.common import Row, timed
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


def bench_layers(cache: Path) -> list[Row]:
    """Each model's sub-clusters (explorer/subclusters.py) and atypicality (explorer/atypical.py), both made once
    per model when first shown, each against the Density layer of the same model (explorer/layers.py), the
    on-demand layer the page had before them, timed in the same loop."""
    from core.store import ArtifactStore
    from explorer.atypical import atypicality, most_atypical
    from explorer.layers import density_image
    from explorer.store import ExplorerStore
    from explorer.subclusters import find_subclusters

    import sklearn.cluster  # noqa: F401 - imported before the clock, as the page has it by the second use
    import sklearn.decomposition  # noqa: F401
    import sklearn.neighbors  # noqa: F401

    store = ExplorerStore(ArtifactStore(cache))
    section = ("what the model found: sub-clusters in each class (HDBSCAN in the model's embedding) and atypicality "
               "(the k-NN graph's mean distance as a percentile in each class), against the Density layer")
    rows = []
    for name in store.names:
        ds = store.get(name)
        for model in ds.model_names:
            m = ds.model(model)
            (found, sub), (most, atyp), (_, density) = (timed(f) for f in (
                lambda: find_subclusters(m), lambda: (atypicality(m), most_atypical(m))[1],
                lambda: density_image(m, "umap" if m.has("umap") else next(iter(m.projection_dirs)), "true")))
            what = f"{ds.title} · {m.title} ({ds.n:,} images)"
            covered = sum(len(s.rows) for s in found)
            rows += [Row(section, f"{what}: sub-clusters found (s)", f"{sub:.2f}", reference=f"density {density:.2f}",
                         ratio=f"{sub / density:.1f}x", note=f"{len(found)} sub-clusters in "
                                                              f"{len({s.cls for s in found})} classes, holding {covered:,} images"),
                     Row(section, f"{what}: atypicality and the most atypical (s)", f"{atyp:.2f}",
                         reference=f"density {density:.2f}", ratio=f"{atyp / density:.2f}x",
                         note=f"{len(most):,} most atypical kept")]
    return rows


def main(argv: list[str] | None = None) -> int:
    from benchmarks.common import to_markdown

    p = argparse.ArgumentParser(prog="python -m benchmarks.imagemap", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cache", type=Path, help="a default run's cache (its current.json)")
    cache = p.parse_args(argv).cache
    print(to_markdown(bench_imagemap(cache) + bench_layers(cache)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

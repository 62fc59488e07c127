"""What verifying artifacts costs: the explorer's load of a 70,000-point dataset with and without
checking every file against the hashes recorded when it was published.

``python -m benchmarks --sections verify`` (or ``python -m benchmarks.verify``) writes a
synthetic 70,000-point cache (``synthetic/cache.py``), then, alternating the two modes
in one run, times a fresh explorer serving what a first visit needs: the per-point labels,
every sprite sheet, one neighbour list and the coordinates of every model's layouts, per dataset.
"""
from __future__ import annotations

import logging
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import Row

log = logging.getLogger(__name__)


def _first_visit(root: Path, verified: bool) -> tuple[float, float]:
    """(seconds from a fresh store to everything a first visit of each dataset reads,
    seconds of it spent checking files)."""
    from core.store import ArtifactStore
    from explorer.app import create_app
    from explorer.thumbnails import page_count

    store = ArtifactStore(root)
    checking = [0.0]
    if verified:
        check = store.check

        def timed_check(path, _record=None):
            t = time.perf_counter()
            try:
                return check(path, _record)
            finally:
                checking[0] += time.perf_counter() - t

        store.check = timed_check
    else:
        store.check = lambda path, _record=None: Path(path)  # the same loads, no hashing
    t0 = time.perf_counter()
    app = create_app(store)
    client = app.server.test_client()
    data = app.explorer_store
    for name in data.names:
        ds = data.get(name)
        for path in [f"/api/points/{name}.json", f"/api/neighbours/{name}/cnn/5",
                     *[f"/sprites/{name}/{p}.png" for p in range(page_count(ds.n))]]:
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code, r.data[:200])
        for m in ds.models.values():
            for method in m.projection_dirs:
                m.coords(method)
    return time.perf_counter() - t0, checking[0]


def bench_verify(n: int = 70_000, repeat: int = 5) -> list[Row]:
    """Verified vs unverified first visit of a synthetic ``n``-point cache, alternated ``repeat`` times."""
    from synthetic.cache import write_synthetic_cache

    from core.store import ArtifactStore

    section = f"artifact verification, {n:,} points per dataset (synthetic cache)"
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        write_synthetic_cache(root, n=n, seed=0)
        log.info("synthetic cache written in %.0f s", time.perf_counter() - t0)
        times: dict[bool, list[float]] = {True: [], False: []}
        shares = []
        for _ in range(repeat):
            for verified in (False, True):
                total, checking = _first_visit(root, verified)
                times[verified].append(total)
                if verified:
                    shares.append(checking / total)
        store = ArtifactStore(root)
        folders = store.published()
        t0 = time.perf_counter()
        damaged = sum(bool(store.verify(f)) for f in folders)
        whole = time.perf_counter() - t0
        size = sum(p.stat().st_size for f in folders for p in f.rglob("*") if p.is_file())
    plain, checked = statistics.median(times[False]), statistics.median(times[True])
    share = statistics.median(shares)
    return [
        Row(section, "share of the explorer's first visit of both datasets spent checking files "
            f"(median of {repeat})", f"{100 * share:.1f} %", target="<= 10 %", met=share <= 0.10,
            note="first visit: points JSON, every sprite sheet, a neighbour list and every model's "
                 "layouts' coordinates; each file hashed once per process"),
        Row(section, f"the same first visit, verified vs not (median of {repeat}, alternated)",
            f"{checked:.2f} s", f"{plain:.2f} s", f"{checked / plain:.2f}x",
            note="whole-visit times vary by more than the checks cost on this shared 2-core machine"),
        Row(section, "hashing every file of every folder (the pipeline's reuse check)",
            f"{whole:.2f} s for {size / 1e6:.0f} MB ({size / 1e6 / whole:.0f} MB/s)",
            note=f"{len(folders)} folders, {damaged} damaged"),
    ]


if __name__ == "__main__":
    from benchmarks.common import to_markdown

    logging.basicConfig(level=logging.INFO)
    print(to_markdown(bench_verify()))

"""Shared helpers for the benchmarks: timing, machine description, result rows and the markdown table."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import statistics
import time
from typing import Callable


@dataclasses.dataclass
class Row:
    """One measured line: what, our value, the reference's, and whether the target is met."""

    section: str
    what: str
    ours: str
    reference: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""


def timed(fn: Callable, *args, **kwargs):
    """(result, seconds) of one call."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def median_time(fn: Callable, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{os.cpu_count()} cores ({cpu}){mem}, no GPU, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def to_markdown(rows: list[Row]) -> str:
    out = []
    section = None
    for r in rows:
        if r.section != section:
            section = r.section
            out += ["", f"### {section}", "",
                    "| measure | ours | reference | ratio | target | met |", "|---|---|---|---|---|---|"]
        met = "" if r.met is None else ("**met**" if r.met else "**missed**")
        what = r.what + (f" ({r.note})" if r.note else "")
        out.append(f"| {what} | {r.ours} | {r.reference} | {r.ratio} | {r.target} | {met} |")
    return "\n".join(out)


@contextlib.contextmanager
def cache_or_synthetic(cache, n: int, prefix: str):
    """``(cache, n, first)`` for the block: ``cache`` with its first dataset's point count and ``current.json``
    entry, or (``cache`` None) a synthetic cache of ``n`` points per dataset in a temporary folder (``first``
    None), removed after."""
    from pathlib import Path

    if cache is not None:
        from core.store import ArtifactStore

        first = next(iter(ArtifactStore(cache).read_current()["datasets"].values()))
        yield Path(cache), first["n"], first
        return
    import logging
    import tempfile

    from synthetic.cache import write_synthetic_cache

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        t0 = time.perf_counter()
        write_synthetic_cache(Path(tmp), n=n, seed=0)
        logging.getLogger("benchmarks").info("synthetic %d-point cache written in %.0f s", n, time.perf_counter() - t0)
        yield Path(tmp), n, None


@contextlib.contextmanager
def explorer_in_chromium(cache):
    """``(browser, url)``: ``python -m explorer`` serving ``cache`` (:class:`benchmarks.app.Explorer`) and Debian's
    headless Chromium, both stopped after the block."""
    from playwright.sync_api import sync_playwright

    from benchmarks.app import CHROMIUM, CHROMIUM_ARGS, Explorer

    with Explorer(cache) as app, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser, app.url
        finally:
            browser.close()

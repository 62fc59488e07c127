"""Shared helpers for the benchmarks: timing, machine description, result rows and the markdown table."""
from __future__ import annotations

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

"""The whole pipeline per stage, cold and warm: from data present to the explorer serving."""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.common import Row

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: the longest a terminal may stand still while the user waits (issue 14)
SILENCE_S = 10


def _served(port: int, min_n: int) -> list[str]:
    """Datasets served with at least ``min_n`` points (a rerun keeps the old version served until
    the new one is published, so a 70,000-point run must not count the 10,000-point ones)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as r:
            sizes = json.loads(r.read()).get("sizes", {})
    except (OSError, ValueError):
        return []
    return [name for name, s in sizes.items() if s.get("n", 0) >= min_n]


def run_and_serve(cache: Path, data: Path, extra: list[str], timeout: float = 3600, min_n: int = 1,
                  quiet: bool = True) -> dict:
    """Start ``python -m pipeline all`` and time first page, both datasets served, and stages.

    Without ``quiet`` the run prints its progress bars and log lines, and the longest time its
    output stood still is measured (``silent_max``, with what it printed last before it, and
    ``gaps``: every stillness over :data:`SILENCE_S`, longest first).
    """
    port = _free_port()
    cmd = [sys.executable, "-m", "pipeline", "all", "--cache-dir", str(cache), "--data-dir", str(data),
           "--port", str(port), *(["-q"] if quiet else []), *extra]
    t0 = time.perf_counter()
    # The child appends to its own handle; reading through another never moves its write offset.
    log_path = Path(tempfile.mkstemp(prefix="bench-pipeline-", suffix=".log")[1])
    child_out = open(log_path, "ab")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=child_out, stderr=subprocess.STDOUT)
    first = both = None
    size, grew, silent_max, silent_after, silent_line, gaps = 0, 0.0, 0.0, "", "", []
    try:
        while time.perf_counter() - t0 < timeout and proc.poll() is None:
            served = _served(port, min_n)
            now = time.perf_counter() - t0
            new_size = log_path.stat().st_size
            if new_size != size:
                if now - grew > SILENCE_S:
                    gaps.append((now - grew, silent_line))
                size, grew = new_size, now
                tail = log_path.read_bytes()[-400:].decode(errors="replace")
                silent_line = re.split(r"[\r\n]+", tail.strip())[-1][-160:]
            elif now - grew > silent_max:
                silent_max, silent_after = now - grew, silent_line
            if served and first is None:
                first = now
            if len(served) >= 2:
                both = now
                break
            time.sleep(0.1)
        # The summary with the stage times is printed right after the last dataset is published.
        t_end = time.perf_counter()
        while both is not None and time.perf_counter() - t_end < 60:
            if "stage times" in log_path.read_text(errors="replace"):
                break
            time.sleep(0.2)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    child_out.close()
    out = log_path.read_text(errors="replace")
    log_path.unlink(missing_ok=True)
    stages, per_dataset = {}, {}
    m = re.search(r"stage times: (.*)", out)
    if m:
        stages = _stage_seconds(m.group(1))
    m = re.search(r"stage times per dataset: (.*)", out)
    if m:
        for part in m.group(1).split(";"):
            name, times = part.split(":", 1)
            per_dataset[name.strip()] = _stage_seconds(times)
    return {"first_page": first, "both": both, "stages": stages, "per_dataset": per_dataset,
            "silent_max": silent_max, "silent_after": silent_after, "gaps": sorted(gaps, reverse=True),
            "log": out[-3000:]}


def _stage_seconds(text: str) -> dict[str, float]:
    """``"train 12.0 s, embed 3.1 s"`` -> ``{"train": 12.0, "embed": 3.1}``."""
    out = {}
    for part in text.split(","):
        name, value, _ = part.split()
        out[name] = float(value)
    return out


def _stage_rows(section: str, run: dict) -> list[Row]:
    """One row per stage: both datasets' seconds, and each dataset's where the run split them."""
    rows = []
    for name, sec in run["stages"].items():
        each = ", ".join(f"{d} {st[name]:.0f} s" for d, st in run["per_dataset"].items() if name in st)
        rows.append(Row(section, f"stage {name} (s)", f"{sec:.0f}", note=f"both datasets ({each})" if each
                        else "both datasets"))
    return rows


def bench_pipeline(store, keep: Path | None = None) -> list[Row]:
    """Cold and warm runs in a fresh cache (kept at ``keep`` if given, else removed)."""
    data = store.root / "data"
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    cache = keep if keep is not None else tmp / "cache"
    if keep is not None and keep.exists() and any(keep.iterdir()):
        raise SystemExit(f"--cold-cache {keep} is not empty; a cold run needs an empty folder")
    rows = []
    try:
        cold = run_and_serve(cache, data, [])
        section = ("whole pipeline, default models (pixels k-NN, dense network, CNN), 10,000 test images per "
                   "dataset (data present, packages installed)")
        rows += _stage_rows(section, cold)
        ok = cold["both"] is not None
        rows.append(Row(section, "first dataset explorable (s)", f"{cold['first_page']:.0f}" if cold["first_page"]
                        else "never", target="<= 240", met=bool(cold["first_page"]) and cold["first_page"] <= 240))
        rows.append(Row(section, "explorer serving both datasets (s)", f"{cold['both']:.0f}" if ok else "never",
                        target="<= 480", met=ok and cold["both"] <= 480))
        warm = run_and_serve(cache, data, [], timeout=120)
        rows.append(Row(section, "first page with everything cached (s)",
                        f"{warm['first_page']:.1f}" if warm["first_page"] else "never",
                        target="<= 5", met=warm["first_page"] is not None and warm["first_page"] <= 5))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def bench_full(cache: Path, data: Path) -> list[Row]:
    """``--sample-set all`` on a cache that holds the default run (its trained models are reused).

    Leaves the cache showing the 70,000-point run, as a user's ``./run.sh --sample-set all`` would.
    About half an hour on 2 cores: a t-SNE, a UMAP and a 3-D PCA of 70,000 points per model and dataset.
    """
    if not (cache / "current.json").is_file():
        raise SystemExit(f"{cache} holds no finished run (no current.json); run ./run.sh --no-serve "
                         f"--cache-dir {cache} first: the full run reuses its trained models")
    t0 = time.perf_counter()
    full = run_and_serve(cache, data, ["--sample-set", "all"], timeout=7200, min_n=70_000, quiet=False)
    wall = time.perf_counter() - t0
    section = "whole pipeline, all 70,000 images per dataset (after the default run; trained models reused)"
    rows = _stage_rows(section, full)
    both = full["both"]
    rows.append(Row(section, "explorer serving both datasets at 70,000 points (s)",
                    f"{both:.0f}" if both else f"never (gave up at {wall:.0f} s)",
                    target="<= 900", met=bool(both) and both <= 900))
    report = full["stages"].get("report")
    rows.append(Row(section, "report stage, both datasets (s)", f"{report:.0f}" if report is not None else "not run",
                    target="<= 120", met=report is not None and report <= 120))
    gaps = "; ".join(f"{sec:.0f} s after {line!r}" for sec, line in full["gaps"][:4]) or "none"
    rows.append(Row(section, "longest time the terminal stood still (s) (progress bars and log lines as a user "
                    f"sees them; last line before it: {full['silent_after']!r}; stillness over {SILENCE_S} s: "
                    f"{len(full['gaps'])}, the longest: {gaps})", f"{full['silent_max']:.1f}",
                    target=f"<= {SILENCE_S}", met=full["silent_max"] <= SILENCE_S))
    return rows

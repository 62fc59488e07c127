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


def _served_datasets(port: int) -> list[str]:
    """Datasets the running explorer says it serves (its /api/status route), or [] if not up."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as r:
            return list(json.loads(r.read()).get("datasets", []))
    except (OSError, ValueError):
        return []


def run_and_serve(cache: Path, data: Path, extra: list[str], timeout: float = 3600) -> dict:
    """Start ``python -m pipeline all`` and time first page, both datasets served, and stages."""
    port = _free_port()
    cmd = [sys.executable, "-m", "pipeline", "all", "--cache-dir", str(cache), "--data-dir", str(data),
           "--port", str(port), "-q", *extra]
    t0 = time.perf_counter()
    # The child appends to its own handle; reading through another never moves its write offset.
    log_path = Path(tempfile.mkstemp(prefix="bench-pipeline-", suffix=".log")[1])
    child_out = open(log_path, "ab")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=child_out, stderr=subprocess.STDOUT)
    first = both = None
    try:
        while time.perf_counter() - t0 < timeout and proc.poll() is None:
            served = _served_datasets(port)
            now = time.perf_counter() - t0
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
    stages = {}
    m = re.search(r"stage times: (.*)", out)
    if m:
        for part in m.group(1).split(","):
            name, value, _ = part.split()
            stages[name] = float(value)
    return {"first_page": first, "both": both, "stages": stages, "log": out[-3000:]}


def bench_pipeline(store, with_70k: bool = False, keep: Path | None = None) -> list[Row]:
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
        for name, sec in cold["stages"].items():
            rows.append(Row(section, f"stage {name} (s)", f"{sec:.0f}", note="both datasets"))
        ok = cold["both"] is not None
        rows.append(Row(section, "first dataset explorable (s)", f"{cold['first_page']:.0f}" if cold["first_page"] else "never"))
        rows.append(Row(section, "explorer serving both datasets (s)", f"{cold['both']:.0f}" if ok else "never",
                        target="<= 480", met=ok and cold["both"] <= 480))
        warm = run_and_serve(cache, data, [], timeout=120)
        rows.append(Row(section, "first page with everything cached (s)",
                        f"{warm['first_page']:.1f}" if warm["first_page"] else "never",
                        target="<= 5", met=warm["first_page"] is not None and warm["first_page"] <= 5))
        if with_70k:  # about 25 minutes on 2 cores: t-SNE and UMAP of 70,000 points, four times each
            full = run_and_serve(cache, data, ["--sample-set", "all"])
            section = "whole pipeline, all 70,000 images per dataset (trained models reused)"
            for name, sec in full["stages"].items():
                rows.append(Row(section, f"stage {name} (s)", f"{sec:.0f}", note="both datasets"))
            rows.append(Row(section, "explorer serving both datasets (s)",
                            f"{full['both']:.0f}" if full["both"] else "never"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows

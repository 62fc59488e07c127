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


def _has_model(cache: Path, dataset: str | None, model: str, min_n: int) -> bool:
    """Whether ``current.json`` lists ``model`` with a layout for ``dataset`` (at ``min_n`` points or more)."""
    try:
        entry = json.loads((cache / "current.json").read_text())["datasets"][dataset]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return entry.get("n", 0) >= min_n and bool(entry.get("models", {}).get(model, {}).get("projections"))


def run_and_serve(cache: Path, data: Path, extra: list[str], timeout: float = 3600, min_n: int = 1,
                  quiet: bool = True) -> dict:
    """Start ``python -m pipeline all`` and time: the explorer's first answer, its first dataset served
    (the first page with a real view), that dataset's CNN view, both datasets served, and the run's end
    (every artifact made: it prints its stage times), with the stages' times.

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
    first = both = answered = first_cnn = done = None
    first_name = None
    size, grew, silent_max, silent_after, silent_line, gaps = 0, 0.0, 0.0, "", "", []
    try:
        while time.perf_counter() - t0 < timeout and proc.poll() is None:
            served = _served(port, min_n)
            now = time.perf_counter() - t0
            if answered is None and _answers(port):
                answered = now
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
                first, first_name = now, served[0]
            if first_cnn is None and first_name and _has_model(cache, first_name, "cnn", min_n):
                first_cnn = now
            if len(served) >= 2 and both is None:
                both = now
            # the summary with the stage times is printed once every artifact is made and published; a
            # run with everything cached prints it before its explorer has answered: wait for the page
            if done is None and "stage times" in log_path.read_text(errors="replace"):
                done = now
            if done is not None and first is not None:
                break
            time.sleep(0.1)
    finally:
        stop(proc, 10)
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
    return {"answered": answered, "first_page": first, "first_cnn": first_cnn, "both": both, "done": done,
            "stages": stages, "per_dataset": per_dataset,
            "silent_max": silent_max, "silent_after": silent_after, "gaps": sorted(gaps, reverse=True),
            "log": out[-3000:]}


def stop(proc: subprocess.Popen, grace: float) -> None:
    """Stop a run as Ctrl+C would (SIGTERM: it stops its explorer too), killed after ``grace`` seconds."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


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

        def secs(key: str, fmt: str = ".0f") -> str:
            return format(cold[key], fmt) if cold[key] is not None else "never"

        def within(key: str, limit: float) -> bool:
            return cold[key] is not None and cold[key] <= limit

        rows.append(Row(section, "explorer answering (s)", secs("answered", ".1f"), note="before any work"))
        rows.append(Row(section, "first page with a real view: the first dataset served (s)", secs("first_page"),
                        target="<= 60", met=within("first_page", 60)))
        rows.append(Row(section, "the first dataset's CNN view (s)", secs("first_cnn"), target="<= 240",
                        met=within("first_cnn", 240)))
        rows.append(Row(section, "both datasets served (s)", secs("both"), note="each with its first view"))
        rows.append(Row(section, "every artifact of the default run, both datasets (s)", secs("done"),
                        target="<= 480", met=within("done", 480)))
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
    first, done = full["first_page"], full["done"]
    rows.append(Row(section, "the first 70,000-point view served (s)",
                    f"{first:.0f}" if first else f"never (gave up at {wall:.0f} s)",
                    target="<= 120", met=bool(first) and first <= 120))
    rows.append(Row(section, "every artifact at 70,000 points, both datasets (s)",
                    f"{done:.0f}" if done else f"never (gave up at {wall:.0f} s)",
                    target="<= 900", met=bool(done) and done <= 900))
    report = full["stages"].get("report")
    rows.append(Row(section, "report stage, both datasets (s)", f"{report:.0f}" if report is not None else "not run",
                    target="<= 120", met=report is not None and report <= 120))
    gaps = "; ".join(f"{sec:.0f} s after {line!r}" for sec, line in full["gaps"][:4]) or "none"
    rows.append(Row(section, "longest time the terminal stood still (s) (progress bars and log lines as a user "
                    f"sees them; last line before it: {full['silent_after']!r}; stillness over {SILENCE_S} s: "
                    f"{len(full['gaps'])}, the longest: {gaps})", f"{full['silent_max']:.1f}",
                    target=f"<= {SILENCE_S}", met=full["silent_max"] <= SILENCE_S))
    return rows

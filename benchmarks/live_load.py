"""The explorer under load while the pipeline computes (issue 23): 50 clients from the first view on.

A cold ``python -m pipeline all`` in a temporary cache; once its first dataset is served, the load
test's clients ask for hover images and pixel-space neighbours (the model every served dataset has
from its first view) for a minute while the run trains and publishes; then the page and the status
route are asked once more.  The run is stopped afterwards: this measures the server, not the run.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.common import Row
from benchmarks.load import load_test
from benchmarks.pipeline_bench import ROOT, _free_port, _served, stop

SECTION = "the explorer under load while the pipeline computes (cold cache, 10,000 test images per dataset)"


def _views(cache: Path) -> int:
    """The 2-D layouts ``current.json`` publishes now, all datasets and models together."""
    try:
        current = json.loads((cache / "current.json").read_text())
    except (OSError, ValueError):
        return 0
    return sum(len(m.get("projections") or {}) for d in current.get("datasets", {}).values()
               for m in (d.get("models") or {}).values())


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            r.read()
            return r.status
    except OSError as e:
        return getattr(e, "code", 0) or 0


def bench_live_load(store, clients: int = 50, seconds: float = 60.0) -> list[Row]:
    data = store.root / "data"
    tmp = Path(tempfile.mkdtemp(prefix="bench-live-load-"))
    cache, port = tmp / "cache", _free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "pipeline", "all", "--cache-dir", str(cache), "--data-dir", str(data),
           "--port", str(port), "-q"]
    log = open(tmp / "run.log", "ab")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    t0 = time.perf_counter()
    try:
        while not _served(port, 1):
            if proc.poll() is not None or time.perf_counter() - t0 > 600:
                raise SystemExit(f"the run served no dataset: {(tmp / 'run.log').read_text()[-2000:]}")
            time.sleep(0.2)
        first, before = time.perf_counter() - t0, _views(cache)
        res = load_test(url, clients, seconds, sizes={n: 10_000 for n in _served(port, 1)},
                        models=("pixels",))
        after, pages = _views(cache), [_status(url + "/"), _status(url + "/api/status")]
        still = proc.poll() is None
    finally:
        stop(proc, 20)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    where = (f"from the first view at {first:.0f} s; {after - before} layouts published during it "
             f"({before} before, {after} after); the run {'still computing' if still else 'ended'} at its end")
    return [
        Row(SECTION, f"{clients} clients for {res['seconds']:.0f} s: errors", str(res["errors"]), target="0",
            met=res["errors"] == 0, note=f"{res['requests']} requests ({res['rps']:.0f}/s), {where}; "
                                         f"e.g. {res['error_examples'][:2]}" if res["errors"] else
            f"{res['requests']} requests ({res['rps']:.0f}/s), {where}"),
        Row(SECTION, "latency p50 / p99 / max (ms)",
            f"{res['p50_ms']:.0f} / {res['p99_ms']:.0f} / {res['max_ms']:.0f}",
            note="hover images and pixel-space neighbours, two cores shared with the run's training"),
        Row(SECTION, "the page and /api/status after it (HTTP status)", " / ".join(map(str, pages)),
            target="200 / 200", met=pages == [200, 200]),
    ]

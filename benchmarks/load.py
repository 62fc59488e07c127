"""Bounded load test of the explorer on loopback: N clients asking for hover images and neighbours.

``python -m benchmarks.load [--cache-dir cache] [--clients 50] [--seconds 60] [--url http://127.0.0.1:8050]``
starts its own explorer on the cache (a free loopback port) unless ``--url`` is given,
then reports requests, errors, and p50/p99 latency. It only ever talks to 127.0.0.1.
Dataset sizes come from the server's ``/api/status`` or, where that route is missing,
from the cache's ``current.json``.

``--cold-and-warm`` (issue 26) measures a server's first minute beside a later one: the
load starts the moment ``/healthz`` of a just-started explorer answers (cold), then the
same clients run again on the same server (warm); both lines are printed, each with the
server's CPU time and context switches per request.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_cache(cache: Path | None = None) -> Path:
    """The cache root the explorer would use: ``cache``, ``$MNIST_EXPLORER_CACHE`` or ``./cache``."""
    return Path(cache or os.environ.get("MNIST_EXPLORER_CACHE") or ROOT / "cache")


def sizes_from_cache(cache: Path | None = None) -> dict[str, int]:
    """``{dataset: n}`` from the cache's ``current.json`` (the points the explorer serves)."""
    with open(default_cache(cache) / "current.json") as f:
        current = json.load(f)
    return {name: int(d["n"]) for name, d in current["datasets"].items()}


def wait_healthy(proc: subprocess.Popen, port: int, timeout: float = 90.0) -> None:
    """Poll ``/healthz`` until it answers 200; ``RuntimeError`` if the process exits or time runs out."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"explorer exited with status {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"explorer did not answer /healthz within {timeout:.0f} s")


def start_server(cache: Path | None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "pipeline", "serve", "--port", str(port)]
    if cache:
        cmd += ["--cache-dir", str(cache)]
    # a file, not a pipe: a server logging under load must never block on a full pipe
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, port)
    except RuntimeError as e:
        proc.kill()
        proc.wait(10)
        log.seek(0)
        raise RuntimeError(f"{e}: {log.read().decode(errors='replace')[-2000:]}") from None
    return proc, url


def fetch_sizes(url: str, cache: Path | None = None) -> dict[str, int]:
    """Dataset sizes from the server's ``/api/status``; from ``current.json`` when that route is missing."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", "/api/status")
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    # a missing route is a 404, or Dash's page (200, text/html: Dash answers any path with it)
    if resp.status == 404 or "json" not in (resp.getheader("Content-Type") or ""):
        return sizes_from_cache(cache)
    if resp.status != 200:
        raise RuntimeError(f"/api/status answered {resp.status}: {body[:200]!r}")
    try:
        status = json.loads(body)
    except ValueError:
        return sizes_from_cache(cache)
    sizes = status.get("sizes") if isinstance(status, dict) else None
    if not isinstance(sizes, dict) or not sizes:
        return sizes_from_cache(cache)
    return {name: int(info["n"] if isinstance(info, dict) else info) for name, info in sizes.items()}


def load_sizes(cache: Path | None = None, models: tuple[str, ...] = ("cnn", "pixels")) -> dict[str, int]:
    """:func:`sizes_from_cache` of the datasets that have every one of ``models`` (not an imported one)."""
    with open(default_cache(cache) / "current.json") as f:
        entries = json.load(f)["datasets"]
    return {k: n for k, n in sizes_from_cache(cache).items() if set(models) <= set(entries[k]["models"])}


def _server_counters(pid: int | None) -> tuple[float, int] | None:
    """CPU seconds (user plus system, with the processes it ran and waited for) and voluntary context
    switches (of all its threads) of process ``pid`` so far; ``None`` without one (or when it is gone)."""
    if pid is None:
        return None
    import psutil

    try:
        p = psutil.Process(pid)
        t = p.cpu_times()
        switches = p.num_ctx_switches().voluntary  # the main thread's only, where /proc has no tasks
    except psutil.Error:
        return None
    tasks = list(Path(f"/proc/{pid}/task").glob("*/status"))
    with contextlib.suppress(OSError, ValueError):
        if tasks:  # Linux: every thread's, each counted by its own task
            switches = sum(int(line.split()[1]) for f in tasks for line in f.read_text().splitlines()
                           if line.startswith("voluntary_ctxt_switches"))
    return t.user + t.system + t.children_user + t.children_system, switches  # with processes it ran


def load_test(url: str, clients: int = 50, seconds: float = 60.0, seed: int = 0,
              sizes: dict[str, int] | None = None, cache: Path | None = None,
              models: tuple[str, ...] = ("cnn", "pixels"), server_pid: int | None = None) -> dict:
    """Run ``clients`` threads for ``seconds``; each loops over random hover-image and neighbour requests
    (the neighbours in one of ``models``' embeddings).

    ``sizes`` (``{dataset: n}``) defaults to the server's ``/api/status``, or, where the
    server has no such route, to ``current.json`` of ``cache`` (default: the explorer's).
    With ``server_pid`` the result also holds the server's CPU time and voluntary context switches
    per request (``cpu_ms_per_request``, ``switches_per_request``): on a shared machine they move less
    than latency does, and threads queueing for the GIL (or a lock) show in the second.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"load tests only target loopback, not {parts.hostname}")
    if sizes is None:
        sizes = fetch_sizes(url, cache)
    targets = [(name, int(n)) for name, n in sizes.items()]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(i: int) -> None:
        rnd = random.Random(seed + i)
        c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        mine, bad = [], []
        while time.perf_counter() < deadline:
            name, n = rnd.choice(targets)
            row = rnd.randrange(n)
            path = (f"/thumb/{name}/{row}.png?scale=4" if rnd.random() < 0.7
                    else f"/api/neighbours/{name}/{rnd.choice(models)}/{row}")
            t0 = time.perf_counter()
            try:
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    bad.append(f"{r.status} {path}")
            except (OSError, http.client.HTTPException) as e:
                bad.append(f"{type(e).__name__} {path}")
                c.close()
                c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    before = _server_counters(server_pid)
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    after = _server_counters(server_pid)
    lat = sorted(latencies)
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [lat[0] if lat else float("nan")] * 99
    return {"clients": clients, "seconds": wall, "requests": len(lat), "errors": len(errors),
            "error_examples": errors[:5], "rps": len(lat) / wall,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "max_ms": lat[-1] * 1000 if lat else float("nan"),
            "cpu_ms_per_request": (after[0] - before[0]) * 1000 / max(1, len(lat)) if before and after else None,
            "switches_per_request": (after[1] - before[1]) / max(1, len(lat)) if before and after else None}


def cold_and_warm(cache: Path | None = None, clients: int = 50, seconds: float = 60.0,
                  sizes: dict[str, int] | None = None) -> tuple[dict, dict]:
    """The load test on a just-started explorer (from the moment ``/healthz`` answers), then again on the
    same server: ``(cold, warm)`` results of :func:`load_test`, with the server's CPU time and context
    switches per request."""
    proc, url = start_server(cache)
    try:
        cold = load_test(url, clients, seconds, sizes=sizes, cache=cache, server_pid=proc.pid)
        warm = load_test(url, clients, seconds, seed=clients, sizes=sizes, cache=cache, server_pid=proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    return cold, warm


def summary(res: dict) -> str:
    """One line of a :func:`load_test` result: requests, rate, errors, p50, p99, max, the server's CPU and
    context switches per request."""
    cpu, switches = res.get("cpu_ms_per_request"), res.get("switches_per_request")
    return (f"{res['requests']} requests ({res['rps']:.0f}/s), {res['errors']} errors, p50 {res['p50_ms']:.1f} ms, "
            f"p99 {res['p99_ms']:.1f} ms, max {res['max_ms']:.0f} ms"
            + (f"; server CPU {cpu:.2f} ms and {switches:.1f} context switches a request" if cpu is not None else ""))


def load_rows(section: str, cold: dict | None, warm: dict, sizes: dict[str, int], clients: int, seconds: float,
              target_p99_ms: float) -> list:
    """Benchmark rows (:class:`benchmarks.common.Row`) of a warm load test and, where given, the cold one
    (the same clients from the moment the explorer answers ``/healthz``)."""
    from benchmarks.common import Row

    def ms(v: float) -> str:
        return f"{v:.0f} ms" if v >= 10 else f"{v:.1f} ms"

    head = f"{clients} loopback clients for {seconds:.0f} s"
    rows = []
    for label, res in (("", warm), (", from server start (cold)", cold)):
        if res is None:
            continue
        note = f"{summary(res)}; 70 % /thumb, 30 % /api/neighbours; {', '.join(sizes)}"
        if res["error_examples"]:
            note += "; e.g. " + "; ".join(res["error_examples"][:3])
        rows.append(Row(section, f"{head}{label}: errors", str(res["errors"]), target="0", met=res["errors"] == 0,
                        note=note))
        rows.append(Row(section, f"{head}{label}: p99 latency", ms(res["p99_ms"]),
                        reference=ms(warm["p99_ms"]) if res is cold else "",
                        ratio=f"{res['p99_ms'] / warm['p99_ms']:.2f}x" if res is cold and warm["p99_ms"] else "",
                        target=f"<= {target_p99_ms:.0f} ms", met=res["p99_ms"] <= target_p99_ms,
                        note="reference: the warm run on the same server after it" if res is cold else ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=None, help="a running explorer on loopback (default: start one)")
    p.add_argument("--cache-dir", type=Path, default=None)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--cold-and-warm", action="store_true",
                   help="start an explorer, load it from the moment /healthz answers (cold), then again (warm)")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the explorer on the way out
    if args.cold_and_warm:
        if args.url:
            p.error("--cold-and-warm starts its own explorer: leave out --url")
        cold, warm = cold_and_warm(args.cache_dir, args.clients, args.seconds)
        print(f"{args.clients} clients for {args.seconds:.0f} s each on a new explorer "
              f"({default_cache(args.cache_dir)}):")
        for label, res in (("cold (from /healthz on)", cold), ("warm (the same server after it)", warm)):
            print(f"  {label:32s} {summary(res)}")
            for e in res["error_examples"]:
                print("    e.g.", e)
        return 0 if cold["errors"] == warm["errors"] == 0 else 1
    proc = None
    url = args.url
    if url is None:
        proc, url = start_server(args.cache_dir)
    try:
        res = load_test(url, args.clients, args.seconds, cache=args.cache_dir,
                        server_pid=proc.pid if proc else None)
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)
    print(f"{res['clients']} clients for {res['seconds']:.0f} s on {url}: {summary(res)}")
    for e in res["error_examples"]:
        print("  e.g.", e)
    return 0 if res["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

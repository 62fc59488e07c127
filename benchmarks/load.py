"""Bounded load test of the explorer on loopback: N clients asking for hover images and neighbours.

``python -m benchmarks.load [--cache-dir cache] [--clients 50] [--seconds 60] [--url http://127.0.0.1:8050]``
starts its own explorer on the cache (a free loopback port) unless ``--url`` is given,
then reports requests, errors, and p50/p99 latency. It only ever talks to 127.0.0.1.
Dataset sizes come from the server's ``/api/status`` or, where that route is missing,
from the cache's ``current.json``.
"""
from __future__ import annotations

import argparse
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


def load_test(url: str, clients: int = 50, seconds: float = 60.0, seed: int = 0,
              sizes: dict[str, int] | None = None, cache: Path | None = None,
              models: tuple[str, ...] = ("cnn", "pixels")) -> dict:
    """Run ``clients`` threads for ``seconds``; each loops over random hover-image and neighbour requests
    (the neighbours in one of ``models``' embeddings).

    ``sizes`` (``{dataset: n}``) defaults to the server's ``/api/status``, or, where the
    server has no such route, to ``current.json`` of ``cache`` (default: the explorer's).
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
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat = sorted(latencies)
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [lat[0] if lat else float("nan")] * 99
    return {"clients": clients, "seconds": wall, "requests": len(lat), "errors": len(errors),
            "error_examples": errors[:5], "rps": len(lat) / wall,
            "p50_ms": q[49] * 1000, "p99_ms": q[98] * 1000, "max_ms": lat[-1] * 1000 if lat else float("nan")}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=None, help="a running explorer on loopback (default: start one)")
    p.add_argument("--cache-dir", type=Path, default=None)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=60.0)
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the explorer on the way out
    proc = None
    url = args.url
    if url is None:
        proc, url = start_server(args.cache_dir)
    try:
        res = load_test(url, args.clients, args.seconds, cache=args.cache_dir)
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)
    print(f"{res['clients']} clients for {res['seconds']:.0f} s on {url}: {res['requests']} requests "
          f"({res['rps']:.0f}/s), {res['errors']} errors, p50 {res['p50_ms']:.1f} ms, "
          f"p99 {res['p99_ms']:.1f} ms, max {res['max_ms']:.0f} ms")
    for e in res["error_examples"]:
        print("  e.g.", e)
    return 0 if res["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

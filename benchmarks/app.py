"""The explorer in headless Chromium: first-page bytes, time to the scatter, hover latency, load.

``python -m benchmarks.app [--cache-dir cache] [--cache-70k DIR]`` prints a markdown table;
``python -m benchmarks --sections app`` puts the same rows in ``benchmarks/RESULTS.md``.

For each cache (the real one, 10,000 test points per dataset, and one of 70,000 points
per dataset: ``--cache-70k`` or a synthetic one written by
``synthetic.cache.write_synthetic_cache``) it starts ``python -m explorer`` on a free
loopback port, polls ``/healthz`` and measures, in Debian's Chromium driven by Playwright:

1. **Bytes of the first page**, compressed, as on the wire: the Chrome DevTools
   Protocol's ``Network.loadingFinished.encodedDataLength`` (body plus response headers)
   of every request from navigation until the main scatter is drawn and the network has
   been idle for 2 s. Split into Plotly's script, other JS/CSS, the scatter data (the Dash
   callback responses whose request names ``ex-scatter.figure`` as an output), the lazy
   hover assets (``/api/points``, fetched by ``assets/hover.js`` after the first paint;
   sprite pages, none before the first hover) and the rest (HTML, Dash layout/dependencies, other callbacks,
   favicon). The reference column holds the uncompressed size
   (``Network.dataReceived.dataLength``).
2. **Time to the scatter drawn**: ``performance.now()`` (relative to navigation start)
   in the first animation frame after a ``plotly_afterplot`` event at which the main
   graph's ``_fullData`` holds every point, after a one-pixel ``readPixels`` on the
   WebGL canvas so the draw calls have really run. One warm-up load, then the median of
   3 loads, each in a fresh browser context (no HTTP cache). Resource Timing splits it:
   when Plotly's script and the figure's response arrived.
3. **Hover to image**: real mouse moves (CDP ``Input.dispatchMouseEvent``) onto
   isolated points (pixel positions from ``_fullLayout.xaxis.l2p`` etc.). The first hover
   of each fresh page (:mod:`benchmarks.app_hover`) counts the sprite bytes fetched before
   it (target at most 3 MB at 70,000 points) and times its image, whose page it fetches
   (target at most 100 ms); the others wait until every sprite page is in. A
   ``MutationObserver`` on ``#hover-tip`` sees ``data-index`` and then ``data-image``
   (hover.js: the row's page is decoded) become the point's row; the latency is from the
   ``mousemove`` event's ``timeStamp`` to the end of the next rendering opportunity (a
   ``requestAnimationFrame`` and then a posted message, which runs after that frame's
   style, layout and paint). Every 8th
   hover the tooltip is screenshotted and compared with the row's image from
   ``images.npy``. The reference is a server round trip for the same images from the page:
   ``fetch('/thumb/<ds>/<row>.png?scale=4', {cache: 'no-store'})`` plus
   ``createImageBitmap`` (decode).
4. **Load**: :func:`benchmarks.load.load_test`, 50 threads for 60 s on loopback asking
   for hover images (``/thumb``, 70 %) and neighbour lists (``/api/neighbours``, 30 %): once
   from the moment the explorer answers ``/healthz`` (its first minute, cold) and once at the
   end (warm), side by side (:func:`benchmarks.load.load_rows`).

Every absolute time on a shared 2-core machine moves by tens of percent between runs;
the medians and the ratios measured in the same run are what to compare.

This module starts the explorer per cache and turns the measures into rows;
:mod:`benchmarks.app_page` holds the per-load and hover measurement and
:mod:`benchmarks.app_probes` the JavaScript it runs in the page.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.app_hover import hover_rows, other_datasets
from benchmarks.app_page import (CATEGORIES, PHASES, first_hover, load_page, measure_hovers, profile_load,
                                 waited_note)
from benchmarks.common import Row, to_markdown

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("benchmarks.app")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
MB = 1e6

TARGET_TOTAL_MB = 3.0
TARGET_SCATTER_MB = 1.5
TARGET_DRAWN_S = 2.5
TARGET_HOVER_MEDIAN_MS = 20.0
TARGET_HOVER_MAX_MS = 60.0
TARGET_P99_MS = 200.0
#: issue 14: with the trimmed plotly.js, at 70,000 points
TARGET_FIRST_PAINT_MB = 1.2
TARGET_FIRST_DRAWN_S = 1.5


# -- the server ------------------------------------------------------------------------------
class Explorer:
    """``python -m explorer`` on a free loopback port, logging to a temporary file."""

    def __init__(self, cache: Path, full_plotly: bool = False):
        from benchmarks.load import _free_port

        self.cache = Path(cache)
        self.full_plotly = full_plotly
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Explorer":
        from benchmarks.load import wait_healthy

        from explorer.app import FULL_PLOTLY_ENV

        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop(FULL_PLOTLY_ENV, None)
        if self.full_plotly:  # the reference: Dash's full plotly.js instead of ours
            env[FULL_PLOTLY_ENV] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "explorer", "--cache-dir", str(self.cache), "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(self.proc, self.port, timeout=180)
        except RuntimeError as e:
            self.__exit__()
            self.log.seek(0)
            raise RuntimeError(f"{e}: {self.log.read().decode(errors='replace')[-2000:]}") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


# -- one cache -------------------------------------------------------------------------------
def _mb(b: float) -> str:
    return f"{b / MB:.2f} MB"


def _ms(v: float) -> str:
    return f"{v:.0f} ms" if v >= 10 else f"{v:.1f} ms"


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def bench_cache(browser, cache: Path, label: str, note: str, targets: bool, loads: int = 3,
                hovers: int = 50, load_seconds: float = 60.0, clients: int = 50) -> list[Row]:
    from benchmarks.load import load_rows, load_sizes, load_test

    section = f"app, {label}"
    rows: list[Row] = []
    with Explorer(cache) as server:
        log.info("%s: explorer at %s", label, server.url)
        # its first minute: the load test from the moment /healthz answers, before any page (issue 26); the
        # load test asks for cnn and pixels neighbours: the datasets that have both (not an imported one)
        sizes = load_sizes(cache)
        cold = load_test(server.url, clients=clients, seconds=load_seconds, sizes=sizes, server_pid=server.proc.pid)
        warm, ctx, _ = load_page(browser, server.url)  # server warm-up: figure groups, gzip of plotly.js
        ctx.close()
        runs, firsts = [], []
        for i in range(loads):
            m, ctx, page = load_page(browser, server.url)
            runs.append(m)
            log.info("%s: load %d drawn at %.0f ms (sprites done at %s s)", label, i + 1, m["timeline"]["drawn"],
                     m["bytes"]["sprites"]["last_end"])
            if i < loads - 1:
                firsts.append(first_hover(page, cache, seed=i))  # the last page's comes after the reference
                ctx.close()
        # -- bytes (the same on every load; the last one's) --
        b = runs[-1]["bytes"]
        n_shown = runs[-1]["timeline"]["n"]
        drawn = [r["timeline"]["drawn"] for r in runs]
        med_drawn = statistics.median(drawn)
        lazy = ("sprites", "labels", "poll")
        polls = b.pop("poll")
        total = sum(v["bytes"] for v in b.values())
        total_dec = sum(v["decoded"] for v in b.values())
        eager = sum(v["bytes"] for c, v in b.items() if c not in lazy)
        eager_dec = sum(v["decoded"] for c, v in b.items() if c not in lazy)
        before = sum(v["before"] for v in b.values())
        spr = b["sprites"]
        in_window = spr["count"] > 0 and runs[-1]["idle"]
        sprite_note = (f"{spr['count']} sheets, requested {spr['first_sent'] * 1000:.0f} ms after navigation "
                       f"(scatter drawn at {drawn[-1]:.0f} ms), done at {spr['last_end'] * 1000:.0f} ms: "
                       f"{'inside' if in_window else 'outside'} the first-page window (drawn + 2 s network idle)"
                       if spr["count"] else "no sprite page fetched inside the first-page window")

        def ratio(dec, enc):
            return f"{dec / enc:.1f}x smaller" if enc else ""

        tgt = (lambda t: t) if targets else (lambda t: "")
        rows.append(Row(section, f"first page on the wire, all of it until drawn + network idle "
                                 f"({n_shown:,} points shown)",
                        _mb(total), f"{_mb(total_dec)} uncompressed", ratio(total_dec, total),
                        tgt(f"<= {TARGET_TOTAL_MB:.0f} MB"), (total <= TARGET_TOTAL_MB * MB) if targets else None,
                        note + ("; includes the lazy sprites and labels" if spr["count"] else "")
                        + (f"; leaves out {polls['count']} status polls of a running pipeline "
                           f"({polls['bytes'] / 1e3:.0f} kB)" if polls["count"] else "")))
        rows.append(Row(section, "first page without the lazy hover assets (sprites, labels)", _mb(eager),
                        f"{_mb(eager_dec)} uncompressed", ratio(eager_dec, eager),
                        tgt(f"<= {TARGET_TOTAL_MB:.0f} MB"), (eager <= TARGET_TOTAL_MB * MB) if targets else None,
                        f"requested before the scatter was drawn: {_mb(before)}"))
        for c in ("plotly", "jscss", "scatter", "other", "sprites", "labels"):
            v = b[c]
            is_scatter = c == "scatter"
            extra = ""
            if c == "scatter":
                extra = f"{v['count']} response(s)"
            elif c == "sprites":
                extra = sprite_note
            elif c == "jscss" and runs[-1]["unencoded_js"]:
                extra = "sent without gzip: " + ", ".join(runs[-1]["unencoded_js"])
            rows.append(Row(section, f"  of which {CATEGORIES[c]}", _mb(v["bytes"]),
                            f"{_mb(v['decoded'])} uncompressed", ratio(v["decoded"], v["bytes"]),
                            tgt(f"<= {TARGET_SCATTER_MB} MB") if is_scatter else "",
                            (v["bytes"] <= TARGET_SCATTER_MB * MB) if (targets and is_scatter) else None, extra))
        # -- time to drawn --
        tl = runs[[r["timeline"]["drawn"] for r in runs].index(sorted(drawn)[len(drawn) // 2])]["timeline"]
        rows.append(Row(section, f"navigation start to the scatter drawn, median of {loads} fresh loads",
                        f"{med_drawn / 1000:.2f} s", "", "", tgt(f"<= {TARGET_DRAWN_S} s"),
                        (med_drawn <= TARGET_DRAWN_S * 1000) if targets else None,
                        f"loads: {', '.join(f'{d / 1000:.2f}' for d in drawn)} s; first load after server "
                        f"start {warm['timeline']['drawn'] / 1000:.2f} s"))
        rows.append(Row(section, "  split of the median load",
                        f"DOMContentLoaded {tl['dcl'] / 1000:.2f} s, plotly.js in {tl['plotly_end'] / 1000:.2f} s, "
                        f"figure requested {tl['fig_start'] / 1000:.2f} s, received {tl['fig_end'] / 1000:.2f} s, "
                        f"plotted (afterplot) {tl['afterplot'] / 1000:.2f} s, drawn {tl['drawn'] / 1000:.2f} s",
                        note=waited_note(tl) + "; 'received' to 'plotted' is JSON parse + Plotly.react + WebGL upload"))
        rows += reference_rows(browser, cache, section, loads, eager, med_drawn, targets)
        # -- hovers --
        prof = profile_load(browser, server.url)
        bounds = prof.pop("bounds")
        for (ph, split), lo, hi in zip(prof.items(), bounds[:-1], bounds[1:]):
            top = sorted(split.items(), key=lambda kv: -kv[1])
            rows.append(Row(section, f"  main thread, {ph} ({lo / 1000:.2f}-{hi / 1000:.2f} s of a profiled load)",
                            ", ".join(f"{k} {v:.2f} s" for k, v in top if v >= 0.01) or "-",
                            note="V8 sampling profile (0.5 ms) of one more load, HTTP cache disabled"
                            if ph == PHASES[0] else ""))
        firsts.append(first_hover(page, cache, seed=loads - 1))
        hv = measure_hovers(page, cache, count=hovers)
        ctx.close()
        current = json.loads((cache / "current.json").read_text())["datasets"]
        others = other_datasets(browser, server.url, cache, [n for n in ("mnist", "fashion-mnist") if n in current],
                                hv["dataset"], seed=loads)
        by_title = {current[hv["dataset"]]["title"]: (firsts, hv["prefetch"]),
                    **{current[n]["title"]: v for n, v in others.items()}}
        lat, srv, trips = hv["lat"], hv["server"], hv["trips"]
        med = statistics.median(lat) if lat else float("nan")
        srv_med = statistics.median(srv) if srv else float("nan")
        trip_med = statistics.median(trips) if trips else float("nan")
        checks = hv["checks"]
        hnote = (f"{len(lat)} hovers on {hv['dataset']} once every sprite page was in; {hv['hit']}/"
                 f"{hv['hovers']} showed the aimed-at row; {hv['misses']} moves without a tooltip; tooltip "
                 f"screenshot matched the row's image {sum(checks)}/{len(checks)}; reference: {len(srv)} hovers "
                 f"on other points that fetch /thumb per hover, decode and paint it")
        rows.append(Row(section, "hover to tooltip image painted: median", _ms(med),
                        f"server image per hover {_ms(srv_med)}",
                        f"{srv_med / med:.1f}x faster" if med > 0 else "",
                        tgt(f"<= {TARGET_HOVER_MEDIAN_MS:.0f} ms"),
                        (med <= TARGET_HOVER_MEDIAN_MS) if targets else None, hnote))
        rows.append(Row(section, "hover to tooltip image painted: p90 / max",
                        f"{_ms(_pct(lat, 90))} / {_ms(max(lat))}",
                        f"p90 {_ms(_pct(srv, 90))} / max {_ms(max(srv))}" if srv else "",
                        f"{_pct(srv, 90) / _pct(lat, 90):.1f}x / {max(srv) / max(lat):.1f}x" if srv else "",
                        tgt(f"max <= {TARGET_HOVER_MAX_MS:.0f} ms"),
                        (max(lat) <= TARGET_HOVER_MAX_MS) if targets else None))
        rows += hover_rows(section, targets, by_title, med)
        rows.append(Row(section, "  of which mousemove to tooltip DOM updated (Plotly hover + hover.js), median",
                        _ms(statistics.median(hv["dom"])),
                        note=f"input delivery (event timeStamp to listener) median "
                             f"{_ms(statistics.median(hv['delivery']))}; the rest is waiting for and drawing "
                             f"the next frame"))
        rows.append(Row(section, "server round trip alone: fetch /thumb (scale 4) + decode, median of "
                                 f"{len(trips)}", _ms(trip_med), "", "",
                        note=f"p90 {_ms(_pct(trips, 90))}, max {_ms(max(trips))}; idle loopback server, "
                             "no frame wait: the floor of any server-side hover image"))
        # -- load, warm: the same clients on the same server after the pages and hovers above --
        res = load_test(server.url, clients=clients, seconds=load_seconds, sizes=sizes, server_pid=server.proc.pid)
        rows += load_rows(section, cold, res, sizes, clients, load_seconds, TARGET_P99_MS)
    return rows


def reference_rows(browser, cache: Path, section: str, loads: int, eager: float, drawn_ms: float,
                   targets: bool) -> list[Row]:
    """The same first page with Dash's full plotly.js (the reference of ours), measured in the same run."""
    with Explorer(cache, full_plotly=True) as server:
        ctx = load_page(browser, server.url)[1]  # warm-up: the server gzips the full bundle once
        ctx.close()
        runs = []
        for _ in range(loads):
            m, ctx, _page = load_page(browser, server.url)
            runs.append(m)
            ctx.close()
    b = runs[-1]["bytes"]
    ref_eager = sum(v["bytes"] for c, v in b.items() if c not in ("sprites", "labels", "poll"))
    ref_drawn = statistics.median(r["timeline"]["drawn"] for r in runs)
    tgt = (lambda t: t) if targets else (lambda t: "")
    return [Row(section, "first page without the lazy hover assets, our plotly.js vs Dash's full one", _mb(eager),
                _mb(ref_eager), f"{ref_eager / eager:.1f}x smaller", tgt(f"<= {TARGET_FIRST_PAINT_MB} MB"),
                (eager <= TARGET_FIRST_PAINT_MB * MB) if targets else None,
                f"of which plotly.js {_mb(b['plotly']['bytes'])} in the reference"),
            Row(section, "navigation to the scatter drawn, our plotly.js vs Dash's full one (medians)",
                f"{drawn_ms / 1000:.2f} s", f"{ref_drawn / 1000:.2f} s",
                f"{ref_drawn / drawn_ms:.2f}x faster" if drawn_ms else "", tgt(f"<= {TARGET_FIRST_DRAWN_S} s"),
                (drawn_ms <= TARGET_FIRST_DRAWN_S * 1000) if targets else None,
                "reference loads: " + ", ".join(f"{r['timeline']['drawn'] / 1000:.2f}" for r in runs) + " s")]


def bench_app(store, cache_70k: Path | None = None, loads: int = 3, hovers: int = 50,
              load_seconds: float = 60.0, clients: int = 50) -> list[Row]:
    """Measure the explorer on the real cache (``store.root``) and on 70,000 points per dataset.

    Parameters
    ----------
    store : core.store.ArtifactStore
        The real cache.
    cache_70k : Path, optional
        A cache of 70,000 points per dataset; default: a synthetic one written to a
        temporary folder (``synthetic.cache.write_synthetic_cache``), said in the notes.

    Returns
    -------
    list of Row
    """
    from playwright.sync_api import sync_playwright

    rows: list[Row] = []
    real = Path(store.root)
    tmp = None
    if cache_70k is None:
        from synthetic.cache import write_synthetic_cache

        tmp = tempfile.TemporaryDirectory(prefix="bench-70k-")
        cache_70k = Path(tmp.name)
        t0 = time.perf_counter()
        write_synthetic_cache(cache_70k, n=70_000, seed=0)
        log.info("synthetic 70k cache written in %.0f s", time.perf_counter() - t0)
        note70 = "synthetic cache (synthetic/cache.py, random clusters, synthetic images)"
    else:
        note70 = f"cache {cache_70k}"
        try:
            cur = json.loads((Path(cache_70k) / "current.json").read_text())
            first = next(iter(cur["datasets"].values()))
            if json.loads((Path(cache_70k) / first["samples"] / "config.json").read_text())["config"].get("synthetic"):
                note70 = f"synthetic cache (synthetic/cache.py) at {cache_70k}"
        except (OSError, ValueError, KeyError, StopIteration):
            pass
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                cur = json.loads((real / "current.json").read_text())
                n_real = max(int(d["n"]) for d in cur["datasets"].values())
                rows += bench_cache(browser, real, f"real cache ({n_real:,} points per dataset)",
                                    f"cache {real}", targets=False, loads=loads, hovers=hovers,
                                    load_seconds=load_seconds, clients=clients)
                rows += bench_cache(browser, Path(cache_70k), "70,000 points per dataset", note70,
                                    targets=True, loads=loads, hovers=hovers, load_seconds=load_seconds,
                                    clients=clients)
            finally:
                browser.close()
    finally:
        if tmp is not None:
            tmp.cleanup()
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.app", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache-dir", type=Path, default=ROOT / "cache", help="the real cache (default ./cache)")
    ap.add_argument("--cache-70k", type=Path, default=None,
                    help="a cache of 70,000 points per dataset (default: write a synthetic one to a temp dir)")
    ap.add_argument("--loads", type=int, default=3, help="timed page loads per cache (default 3)")
    ap.add_argument("--hovers", type=int, default=50, help="hovers after the first (default 50)")
    ap.add_argument("--load-seconds", type=float, default=60.0, help="load test length (default 60)")
    ap.add_argument("--clients", type=int, default=50, help="load test clients (default 50)")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the explorer on the way out
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    from core.store import ArtifactStore

    rows = bench_app(ArtifactStore(args.cache_dir), args.cache_70k, loads=args.loads, hovers=args.hovers,
                     load_seconds=args.load_seconds, clients=args.clients)
    print(to_markdown(rows))
    return 0 if all(r.met is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

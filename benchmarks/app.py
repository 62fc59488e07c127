"""The explorer in headless Chromium: first-page bytes, time to the scatter, hover latency, load.

``python -m benchmarks.app [--cache-dir cache] [--cache-70k DIR]`` prints a markdown table;
``python -m benchmarks --sections app`` puts the same rows in ``benchmarks/RESULTS.md``.

For each cache (the real one, 10,000 test points per dataset, and one of 70,000 points
per dataset: ``--cache-70k`` or a synthetic one written by
``tests/explorer_data.write_synthetic_cache``) it starts ``python -m explorer`` on a free
loopback port, polls ``/healthz`` and measures, in Debian's Chromium driven by Playwright:

1. **Bytes of the first page**, compressed, as on the wire: the Chrome DevTools
   Protocol's ``Network.loadingFinished.encodedDataLength`` (body plus response headers)
   of every request from navigation until the main scatter is drawn and the network has
   been idle for 2 s. Split into Plotly's script, other JS/CSS, the scatter data (the Dash
   callback responses whose request names ``ex-scatter.figure`` as an output), the lazy
   hover assets (sprite sheets and ``/api/points``, fetched by ``assets/hover.js`` after
   the first paint) and the rest (HTML, Dash layout/dependencies, other callbacks,
   favicon). The reference column holds the uncompressed size
   (``Network.dataReceived.dataLength``).
2. **Time to the scatter drawn**: ``performance.now()`` (relative to navigation start)
   in the first animation frame after a ``plotly_afterplot`` event at which the main
   graph's ``_fullData`` holds every point, after a one-pixel ``readPixels`` on the
   WebGL canvas so the draw calls have really run. One warm-up load, then the median of
   3 loads, each in a fresh browser context (no HTTP cache). Resource Timing splits it:
   when Plotly's script and the figure's response arrived.
3. **Hover to image**: real mouse moves (CDP ``Input.dispatchMouseEvent``) onto
   isolated points (pixel positions from ``_fullLayout.xaxis.l2p`` etc.), once the
   sprites are loaded. A ``MutationObserver`` on ``#hover-tip`` sees ``data-index``
   change to the point's row; the latency is from the ``mousemove`` event's ``timeStamp``
   to the end of the next rendering opportunity (a ``requestAnimationFrame`` and then a
   posted message, which runs after that frame's style, layout and paint). Every 8th
   hover the tooltip is screenshotted and compared with the row's image from
   ``images.npy``. The reference is a server round trip for the same images from the page:
   ``fetch('/thumb/<ds>/<row>.png?scale=4', {cache: 'no-store'})`` plus
   ``createImageBitmap`` (decode).
4. **Load**: :func:`benchmarks.load.load_test`, 50 threads for 60 s on loopback asking
   for hover images (``/thumb``, 70 %) and neighbour lists (``/api/neighbours``, 30 %).

Every absolute time on a shared 2-core machine moves by tens of percent between runs;
the medians and the ratios measured in the same run are what to compare.
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Row, to_markdown

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("benchmarks.app")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
VIEWPORT = {"width": 1366, "height": 768}
MB = 1e6

TARGET_TOTAL_MB = 3.0
TARGET_SCATTER_MB = 1.5
TARGET_DRAWN_S = 2.5
TARGET_HOVER_MEDIAN_MS = 20.0
TARGET_HOVER_MAX_MS = 60.0
TARGET_P99_MS = 200.0

# Runs before any page script: marks the moment the main scatter is drawn with all points.
DRAWN_JS = r"""
(() => {
  const S = window.__bench = {drawn: null, afterplot: null, n: null, afterplots: 0};
  const SEL = '#ex-scatter .js-plotly-plot';
  function total(gd) {
    let s = 0;
    for (const t of (gd._fullData || [])) if (t.name !== 'highlight' && t.visible === true) s += t._length || 0;
    return s;
  }
  function finishGL(gd) {
    // software WebGL runs the draw calls in the GPU process: reading a pixel waits for them
    const c = gd.querySelector('canvas.gl-canvas-context');
    if (!c) return;
    let gl = null;
    try { gl = c.getContext('webgl') || c.getContext('webgl2'); } catch (e) { gl = null; }
    if (gl) gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
  }
  function onAfter(gd) {
    S.afterplots++;
    if (S.afterplot !== null) return;
    const meta = gd.layout && gd.layout.meta;
    if (!meta || !meta.n || total(gd) < meta.n) return;
    S.afterplot = performance.now();
    S.n = total(gd);
    requestAnimationFrame(() => { finishGL(gd); S.drawn = performance.now(); });
  }
  function poll() {
    const gd = document.querySelector(SEL);
    if (gd && typeof gd.on === 'function' && !gd.__benchBound) {
      gd.__benchBound = true;
      gd.on('plotly_afterplot', () => onAfter(gd));
    }
    // a figure drawn between two polls (afterplot already past) still counts once complete
    if (gd && gd.__benchBound && S.afterplot === null && gd._fullLayout && gd._fullLayout._size) onAfter(gd);
    if (S.drawn === null) requestAnimationFrame(poll);
  }
  requestAnimationFrame(poll);
})();
"""

TIMELINE_JS = r"""() => {
  const res = performance.getEntriesByType('resource');
  const nav = performance.getEntriesByType('navigation')[0];
  const plotly = res.find(e => /plotly[^/]*\.js/.test(e.name) && !/async-/.test(e.name));
  const cbs = res.filter(e => e.name.includes('_dash-update-component'));
  const fig = cbs.reduce((a, b) => (!a || b.encodedBodySize > a.encodedBodySize) ? b : a, null);
  return {drawn: window.__bench.drawn, afterplot: window.__bench.afterplot, n: window.__bench.n,
          dcl: nav ? nav.domContentLoadedEventEnd : null,
          plotly_end: plotly ? plotly.responseEnd : null,
          fig_start: fig ? fig.startTime : null, fig_end: fig ? fig.responseEnd : null,
          meta: document.querySelector('#ex-scatter .js-plotly-plot').layout.meta};
}"""

POINTS_JS = r"""() => {
  const gd = document.querySelector('#ex-scatter .js-plotly-plot');
  const fl = gd._fullLayout, box = gd.getBoundingClientRect();
  const rows = [], xs = [], ys = [];
  gd._fullData.forEach((t, c) => {
    if (t.name === 'highlight' || t.visible !== true) return;
    for (let i = 0; i < t._length; i++) {
      rows.push(window.explorerHover.rowOf(gd, {curveNumber: c, pointNumber: i}));
      xs.push(box.left + fl._size.l + fl.xaxis.l2p(t.x[i]));
      ys.push(box.top + fl._size.t + fl.yaxis.l2p(t.y[i]));
    }
  });
  return {rows: rows, x: xs, y: ys,
          plot: [box.left + fl._size.l, box.top + fl._size.t, fl._size.w, fl._size.h]};
}"""

HOVER_HOOK_JS = r"""() => {
  if (window.__hov) return;
  const H = window.__hov = {move: null, moveNow: null, seen: null, results: []};
  window.addEventListener('mousemove', e => { H.move = e.timeStamp; H.moveNow = performance.now(); }, true);
  const el = document.getElementById('hover-tip');
  new MutationObserver(() => {
    const idx = el.dataset.index;
    if (idx === undefined || idx === H.seen || !el.classList.contains('visible')) return;
    H.seen = idx;
    const rec = {row: Number(idx), move: H.move, moveNow: H.moveNow, mut: performance.now()};
    requestAnimationFrame(() => {
      rec.raf = performance.now();
      const ch = new MessageChannel();  // runs after this frame's style, layout and paint
      ch.port1.onmessage = () => { rec.paint = performance.now(); H.results.push(rec); };
      ch.port2.postMessage(0);
    });
  }).observe(el, {attributes: true, attributeFilter: ['data-index', 'class']});
}"""

# The alternative design, measured on the same kind of mouse moves: on each Plotly hover,
# fetch the row's image from the server, decode it and paint it (in an <img> of our own).
SERVER_HOVER_JS = r"""() => {
  if (window.__srv) return;
  const gd = document.querySelector('#ex-scatter .js-plotly-plot');
  const H = window.__srv = {move: null, results: []};
  window.addEventListener('mousemove', e => { H.move = e.timeStamp; }, true);
  const img = document.createElement('img');
  img.style.cssText = 'position:fixed;right:0;bottom:0;width:112px;height:112px;z-index:2000;' +
                      'image-rendering:pixelated;pointer-events:none';
  document.body.appendChild(img);
  gd.on('plotly_hover', ev => {
    const move = H.move, row = window.explorerHover.rowOf(gd, ev.points[0]);
    if (row === null) return;
    fetch('/thumb/' + gd.layout.meta.dataset + '/' + row + '.png?scale=4', {cache: 'no-store'})
      .then(r => r.blob())
      .then(b => { const u = URL.createObjectURL(b); img.src = u; return img.decode().then(() => u); })
      .then(u => requestAnimationFrame(() => {
        const ch = new MessageChannel();
        ch.port1.onmessage = () => { H.results.push({row: row, move: move, paint: performance.now()});
                                     URL.revokeObjectURL(u); };
        ch.port2.postMessage(0);
      }));
  });
}"""

ROUND_TRIP_JS = r"""async (args) => {
  const out = [];
  for (const row of args.rows) {
    const t0 = performance.now();
    const r = await fetch('/thumb/' + args.ds + '/' + row + '.png?scale=4', {cache: 'no-store'});
    const bmp = await createImageBitmap(await r.blob());
    out.push(performance.now() - t0);
    bmp.close();
  }
  return out;
}"""


# -- the server ------------------------------------------------------------------------------
class Explorer:
    """``python -m explorer`` on a free loopback port, logging to a temporary file."""

    def __init__(self, cache: Path):
        from benchmarks.load import _free_port

        self.cache = Path(cache)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Explorer":
        from benchmarks.load import wait_healthy

        env = dict(os.environ, PYTHONUNBUFFERED="1")
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


# -- one page load ---------------------------------------------------------------------------
def _category(rec: dict) -> str:
    url, rtype = rec.get("url", ""), rec.get("type", "")
    path = url.split("?", 1)[0]
    if "_dash-update-component" in path:
        post = rec.get("post") or ""
        if "status-poll" in post:
            return "poll"
        return "scatter" if "ex-scatter.figure" in post else "other"
    if "/sprites/" in path or "/thumb/" in path or rtype == "Image" and not path.endswith(".ico"):
        return "sprites"
    if "/api/points/" in path:
        return "labels"
    if path.endswith(".js") and "plotly" in path.rsplit("/", 1)[-1] and "async-" not in path:
        return "plotly"
    if rtype in ("Script", "Stylesheet") or path.endswith((".js", ".css")):
        return "jscss"
    return "other"


CATEGORIES = {
    "plotly": "Plotly's script (plotly.min.js)",
    "jscss": "other JS/CSS (React, Dash renderer and components, hover.js, style.css)",
    "scatter": "scatter data (Dash callback response with the figure)",
    "other": "other (HTML, Dash layout and dependencies, other callbacks, favicon)",
    "sprites": "sprite sheets (lazy, after first paint)",
    "labels": "hover labels /api/points (lazy, after first paint)",
    "poll": "status polls (every 2 s while a pipeline runs; not counted)",
}


def load_page(browser, url: str, idle_s: float = 2.0, timeout_s: float = 90.0) -> tuple[dict, object, object]:
    """Open ``url`` in a fresh context; return (measures, context, page), the page left open."""
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.add_init_script(DRAWN_JS)
    page = ctx.new_page()
    page.set_default_timeout(int(timeout_s * 1000))
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    reqs: dict[str, dict] = {}
    state = {"inflight": set(), "last": time.perf_counter(), "t0": None}

    def sent(e):
        if e["request"]["url"].startswith("data:"):
            return
        r = reqs.setdefault(e["requestId"], {})
        r.update(url=e["request"]["url"], post=e["request"].get("postData"), sent=e["timestamp"],
                 type=e.get("type", r.get("type", "")), decoded=r.get("decoded", 0))
        if state["t0"] is None and e.get("type") == "Document":
            state["t0"] = e["timestamp"]
        if _category(r) == "poll":
            return  # the page polls every 2 s while a pipeline runs: background, not page load
        state["inflight"].add(e["requestId"])
        state["last"] = time.perf_counter()

    def received(e):
        if e["requestId"] in reqs:
            reqs[e["requestId"]].update(type=e["type"], status=e["response"]["status"],
                                        encoding=(e["response"].get("headers") or {}).get("Content-Encoding")
                                        or (e["response"].get("headers") or {}).get("content-encoding"))

    def data(e):
        if e["requestId"] in reqs:
            reqs[e["requestId"]]["decoded"] = reqs[e["requestId"]].get("decoded", 0) + e["dataLength"]

    def done(e, failed=False):
        if e["requestId"] in reqs:
            reqs[e["requestId"]].update(bytes=0 if failed else e["encodedDataLength"], end=e["timestamp"],
                                        failed=failed)
        if e["requestId"] in state["inflight"]:
            state["inflight"].discard(e["requestId"])
            state["last"] = time.perf_counter()

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.responseReceived", received)
    cdp.on("Network.dataReceived", data)
    cdp.on("Network.loadingFinished", done)
    cdp.on("Network.loadingFailed", lambda e: done(e, failed=True))

    page.goto(url + "/", wait_until="commit")
    page.wait_for_function("() => window.__bench && window.__bench.drawn !== null", polling=100)
    timeline = page.evaluate(TIMELINE_JS)
    # network idle: nothing in flight for idle_s (hover.js asks for sprites within 1.5 s of the plot)
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        page.wait_for_timeout(100)
        if not state["inflight"] and time.perf_counter() - state["last"] >= idle_s:
            break
    t0 = state["t0"] or min(r.get("sent", 0) for r in reqs.values())
    drawn_s = timeline["drawn"] / 1000
    totals = {c: {"bytes": 0, "decoded": 0, "count": 0, "first_sent": None, "last_end": None, "before": 0}
              for c in CATEGORIES}
    for r in reqs.values():
        c = _category(r)
        t = totals[c]
        t["bytes"] += r.get("bytes", 0)
        t["decoded"] += r.get("decoded", 0)
        t["count"] += 1
        sent_rel = r.get("sent", t0) - t0
        t["first_sent"] = sent_rel if t["first_sent"] is None else min(t["first_sent"], sent_rel)
        if "end" in r:
            end_rel = r["end"] - t0
            t["last_end"] = end_rel if t["last_end"] is None else max(t["last_end"], end_rel)
        if sent_rel < drawn_s:
            t["before"] += r.get("bytes", 0)
    measures = {"timeline": timeline, "bytes": totals, "idle": not state["inflight"],
                "requests": len(reqs), "unencoded_js": sorted(
                    r["url"].split("?")[0].rsplit("/", 1)[-1] for r in reqs.values()
                    if _category(r) in ("jscss", "plotly") and not r.get("encoding")
                    and r.get("decoded", 0) > 2048)}
    cdp.detach()
    return measures, ctx, page


_WEBGL = re.compile(r"^(getContext|readPixels|buffer(Sub)?Data|draw(Arrays|Elements)\w*|tex(Sub)?Image2D|"
                    r"texParameter\w*|compileShader|linkProgram|get(Program|Shader)\w*|getExtension|getParameter|"
                    r"clear\w*|viewport|uniform\w+|vertexAttrib\w*|useProgram|bind(Buffer|Texture|Framebuffer|"
                    r"Renderbuffer)|create(Buffer|Texture|Program|Shader|Framebuffer)|shaderSource|attachShader|"
                    r"get(Uniform|Attrib)Location|enableVertexAttribArray|scissor|blend\w*|depth\w*|pixelStorei|"
                    r"activeTexture|colorMask|flush|finish)$")
PHASES = ("to plotly.js loaded", "plotly.js loaded to figure received", "figure received to afterplot",
          "afterplot to drawn")


def _bucket(cf: dict) -> str:
    name, src = cf["functionName"], cf["url"].split("?")[0].rsplit("/", 1)[-1]
    if "plotly" in src and "async-" not in src:
        return "plotly.js"
    if src.endswith(".js") and "hover" in src:
        return "hover.js"
    if src:
        return "Dash/React"
    if name in ("(idle)", "(root)"):
        return "idle"
    if name == "(program)":
        return "native (parse, compile, style, layout, paint)"
    if name == "(garbage collector)":
        return "GC"
    if _WEBGL.match(name):
        return "WebGL calls (software GL)"
    return "other built-ins"


def profile_load(browser, url: str) -> dict[str, dict[str, float]]:
    """Main-thread seconds by script in each phase of one load, from V8's sampling profiler.

    The profiler needs the page's renderer before navigation, so the page is opened
    once and then reloaded with the HTTP cache disabled. Samples are placed on the
    page's clock by the Document request's CDP timestamp (the same monotonic clock).
    """
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.add_init_script(DRAWN_JS)
    page = ctx.new_page()
    try:
        page.goto(url + "/")
        page.wait_for_function("() => window.__bench && window.__bench.drawn !== null", timeout=90_000)
        cdp = ctx.new_cdp_session(page)
        doc = {}
        cdp.on("Network.requestWillBeSent",
               lambda e: doc.setdefault("t", e["timestamp"]) if e.get("type") == "Document" else None)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 500})
        cdp.send("Profiler.start")
        page.reload(wait_until="commit")
        page.wait_for_function("() => window.__bench && window.__bench.drawn !== null", timeout=90_000)
        prof = cdp.send("Profiler.stop")["profile"]
        tl = page.evaluate(TIMELINE_JS)
    finally:
        ctx.close()
    bounds = [0.0, tl["plotly_end"] or 0, tl["fig_end"] or 0, tl["afterplot"], tl["drawn"]]
    nodes = {n["id"]: n["callFrame"] for n in prof["nodes"]}
    out = {ph: {} for ph in PHASES}
    t = prof["startTime"]
    origin = doc.get("t", prof["startTime"] / 1e6) * 1000  # ms, monotonic
    for sid, dt in zip(prof["samples"], prof["timeDeltas"]):
        t += dt
        at = t / 1000 - origin
        for ph, lo, hi in zip(PHASES, bounds[:-1], bounds[1:]):
            if lo <= at < hi:
                key = _bucket(nodes[sid])
                out[ph][key] = out[ph].get(key, 0.0) + dt / 1e6
                break
    out["bounds"] = bounds
    return out


# -- hovers ----------------------------------------------------------------------------------
def pick_targets(points: dict, count: int, seed: int = 0, min_gap_px: float = 4.0) -> list[tuple[int, float, float]]:
    """``count`` isolated points inside the plot area, in an order that jumps across it."""
    from scipy.spatial import cKDTree

    xy = np.column_stack([points["x"], points["y"]])
    rows = np.asarray(points["rows"])
    left, top, w, h = points["plot"]
    tree = cKDTree(xy)
    d, _ = tree.query(xy, k=2)
    inside = ((xy[:, 0] > left + 8) & (xy[:, 0] < left + w - 8) & (xy[:, 1] > top + 8)
              & (xy[:, 1] < top + h - 8))
    ok = np.flatnonzero(inside & (d[:, 1] >= min_gap_px))
    if len(ok) < count:  # crowded: take the most isolated ones
        cand = np.flatnonzero(inside)
        ok = cand[np.argsort(-d[cand, 1])[:count * 3]]
    rng = np.random.default_rng(seed)
    rng.shuffle(ok)
    out: list[int] = []
    for i in ok:  # consecutive targets far apart, each a new row
        if out and np.hypot(*(xy[i] - xy[out[-1]])) < 40:
            continue
        out.append(int(i))
        if len(out) == count:
            break
    return [(int(rows[i]), float(xy[i, 0]), float(xy[i, 1])) for i in out]


def tooltip_matches(page, image: np.ndarray) -> bool:
    """Screenshot the tooltip's image and compare it with ``image`` (28x28 uint8)."""
    from PIL import Image

    shot = Image.open(io.BytesIO(page.locator("#hover-tip .hover-img").screenshot())).convert("L")
    a = np.asarray(shot, dtype=np.float64)
    h, w = a.shape
    tile = a[2:h:4, 2:w:4][:28, :28]  # the centre pixel of each 4x4 block
    if tile.shape != (28, 28):
        return False
    ref = np.asarray(image, dtype=np.float64)
    if ref.std() == 0 or tile.std() == 0:
        return bool(np.abs(tile - ref).mean() < 8)
    return bool(np.corrcoef(tile.ravel(), ref.ravel())[0, 1] > 0.95)


def hover_pass(page, targets, var: str, on_result=None) -> tuple[list[dict], int]:
    """Move the mouse onto each target; collect ``window[var].results`` (one per hover)."""
    results, misses = [], 0
    page.mouse.move(2, 2)
    page.wait_for_timeout(200)
    for k, (row, x, y) in enumerate(targets):
        before = page.evaluate(f"() => window.{var}.results.length")
        page.mouse.move(x, y)
        try:
            page.wait_for_function(f"n => window.{var}.results.length > n", arg=before, timeout=3000, polling=20)
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: the hover went nowhere
            misses += 1
            continue
        rec = page.evaluate(f"() => window.{var}.results[window.{var}.results.length - 1]")
        rec["target"] = row
        results.append(rec)
        if on_result:
            on_result(k, rec)
        page.wait_for_timeout(120)  # past Plotly's 50 ms hover throttle
    return results, misses


def measure_hovers(page, cache: Path, count: int = 50, check_every: int = 8) -> dict:
    """``count + 1`` hovers over isolated points; latencies in ms and screenshot checks.

    Then the same number of hovers over other points with a server fetch per hover
    (:data:`SERVER_HOVER_JS`), and fetch + decode alone of the first 40 rows.
    """
    meta = page.evaluate("() => document.querySelector('#ex-scatter .js-plotly-plot').layout.meta")
    pages = max(1, -(-int(meta["n"]) // 10000))
    # the sprites must be in the browser before hovering (they are fetched after first paint)
    page.wait_for_function(
        "n => performance.getEntriesByType('resource').filter(e => e.name.includes('/sprites/')).length >= n",
        arg=pages, timeout=120_000)
    current = json.loads((cache / "current.json").read_text())
    images = np.load(cache / current["datasets"][meta["dataset"]]["embed"] / "images.npy", mmap_mode="r")
    page.evaluate(HOVER_HOOK_JS)
    points = page.evaluate(POINTS_JS)
    targets = pick_targets(points, 2 * (count + 1))
    checks: list[bool] = []

    def check(k, rec):
        if k % check_every == 0:
            checks.append(tooltip_matches(page, images[rec["row"]]))

    results, misses = hover_pass(page, targets[:count + 1], "__hov", check)
    lat = [r["paint"] - r["move"] for r in results]
    dom = [r["mut"] - r["move"] for r in results]
    rows = [r["row"] for r in results]
    # the reference: other rows (nothing cached anywhere), a server fetch per hover
    page.evaluate(SERVER_HOVER_JS)
    srv, _ = hover_pass(page, targets[count + 1:], "__srv")
    srv_lat = [r["paint"] - r["move"] for r in srv]
    trips = page.evaluate(ROUND_TRIP_JS, {"ds": meta["dataset"], "rows": rows[1:41]})
    return {"dataset": meta["dataset"], "n": meta["n"], "first": lat[0] if lat else float("nan"),
            "lat": lat[1:], "dom": dom[1:], "delivery": [r["moveNow"] - r["move"] for r in results[1:]],
            "hit": sum(r["row"] == r["target"] for r in results), "hovers": len(results),
            "misses": misses, "checks": checks, "rows": rows, "server_first": srv_lat[0] if srv_lat else None,
            "server": srv_lat[1:], "trips": trips}


# -- one cache -------------------------------------------------------------------------------
def _mb(b: float) -> str:
    return f"{b / MB:.2f} MB"


def _ms(v: float) -> str:
    return f"{v:.0f} ms" if v >= 10 else f"{v:.1f} ms"


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def bench_cache(browser, cache: Path, label: str, note: str, targets: bool, loads: int = 3,
                hovers: int = 50, load_seconds: float = 60.0, clients: int = 50) -> list[Row]:
    from benchmarks.load import load_test, sizes_from_cache

    section = f"app, {label}"
    rows: list[Row] = []
    with Explorer(cache) as server:
        log.info("%s: explorer at %s", label, server.url)
        warm, ctx, _ = load_page(browser, server.url)  # server warm-up: figure groups, gzip of plotly.js
        ctx.close()
        runs = []
        for i in range(loads):
            m, ctx, page = load_page(browser, server.url)
            runs.append(m)
            log.info("%s: load %d drawn at %.0f ms (sprites done at %s s)", label, i + 1, m["timeline"]["drawn"],
                     m["bytes"]["sprites"]["last_end"])
            if i < loads - 1:
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
                       if spr["count"] else "no sprite sheet loaded inside the first-page window")

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
                        note="the figure request waits for the URL callback; 'received' to 'plotted' is "
                             "JSON parse + Plotly.react + WebGL upload"))
        # -- hovers --
        prof = profile_load(browser, server.url)
        bounds = prof.pop("bounds")
        for (ph, split), lo, hi in zip(prof.items(), bounds[:-1], bounds[1:]):
            top = sorted(split.items(), key=lambda kv: -kv[1])
            rows.append(Row(section, f"  main thread, {ph} ({lo / 1000:.2f}-{hi / 1000:.2f} s of a profiled load)",
                            ", ".join(f"{k} {v:.2f} s" for k, v in top if v >= 0.01) or "-",
                            note="V8 sampling profile (0.5 ms) of one more load, HTTP cache disabled"
                            if ph == PHASES[0] else ""))
        hv = measure_hovers(page, cache, count=hovers)
        ctx.close()
        lat, srv, trips = hv["lat"], hv["server"], hv["trips"]
        med = statistics.median(lat) if lat else float("nan")
        srv_med = statistics.median(srv) if srv else float("nan")
        trip_med = statistics.median(trips) if trips else float("nan")
        checks = hv["checks"]
        hnote = (f"{len(lat)} hovers after the first on {hv['dataset']}; {hv['hit']}/{hv['hovers']} showed "
                 f"the aimed-at row; {hv['misses']} moves without a tooltip; tooltip screenshot matched the "
                 f"row's image {sum(checks)}/{len(checks)}; reference: {len(srv)} hovers on other points that "
                 f"fetch /thumb per hover, decode and paint it")
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
        rows.append(Row(section, "first hover (sprite sheet decoded on first use)", _ms(hv["first"]),
                        f"server image per hover, first: {_ms(hv['server_first'])}" if hv["server_first"] else "",
                        note="not in the median/max above"))
        rows.append(Row(section, "  of which mousemove to tooltip DOM updated (Plotly hover + hover.js), median",
                        _ms(statistics.median(hv["dom"])),
                        note=f"input delivery (event timeStamp to listener) median "
                             f"{_ms(statistics.median(hv['delivery']))}; the rest is waiting for and drawing "
                             f"the next frame"))
        rows.append(Row(section, "server round trip alone: fetch /thumb (scale 4) + decode, median of "
                                 f"{len(trips)}", _ms(trip_med), "", "",
                        note=f"p90 {_ms(_pct(trips, 90))}, max {_ms(max(trips))}; idle loopback server, "
                             "no frame wait: the floor of any server-side hover image"))
        # -- load --
        res = load_test(server.url, clients=clients, seconds=load_seconds, sizes=sizes_from_cache(cache))
        lnote = (f"{res['requests']:,} requests in {res['seconds']:.0f} s ({res['rps']:.0f}/s), p50 "
                 f"{res['p50_ms']:.1f} ms, max {res['max_ms']:.0f} ms; 70 % /thumb, 30 % /api/neighbours")
        if res["error_examples"]:
            lnote += "; e.g. " + "; ".join(res["error_examples"][:3])
        rows.append(Row(section, f"{clients} loopback clients for {load_seconds:.0f} s: errors", str(res["errors"]),
                        target="0", met=res["errors"] == 0, note=lnote))
        rows.append(Row(section, f"{clients} loopback clients for {load_seconds:.0f} s: p99 latency",
                        _ms(res["p99_ms"]), target=f"<= {TARGET_P99_MS:.0f} ms", met=res["p99_ms"] <= TARGET_P99_MS))
    return rows


def bench_app(store, cache_70k: Path | None = None, loads: int = 3, hovers: int = 50,
              load_seconds: float = 60.0, clients: int = 50) -> list[Row]:
    """Measure the explorer on the real cache (``store.root``) and on 70,000 points per dataset.

    Parameters
    ----------
    store : core.store.ArtifactStore
        The real cache.
    cache_70k : Path, optional
        A cache of 70,000 points per dataset; default: a synthetic one written to a
        temporary folder (``tests/explorer_data.write_synthetic_cache``), said in the notes.

    Returns
    -------
    list of Row
    """
    from playwright.sync_api import sync_playwright

    rows: list[Row] = []
    real = Path(store.root)
    tmp = None
    if cache_70k is None:
        sys.path.insert(0, str(ROOT))
        from tests.explorer_data import write_synthetic_cache

        tmp = tempfile.TemporaryDirectory(prefix="bench-70k-")
        cache_70k = Path(tmp.name)
        t0 = time.perf_counter()
        write_synthetic_cache(cache_70k, n=70_000, seed=0)
        log.info("synthetic 70k cache written in %.0f s", time.perf_counter() - t0)
        note70 = "synthetic cache (tests/explorer_data.py, random clusters, synthetic images)"
    else:
        note70 = f"cache {cache_70k}"
        try:
            cur = json.loads((Path(cache_70k) / "current.json").read_text())
            first = next(iter(cur["datasets"].values()))
            if json.loads((Path(cache_70k) / first["embed"] / "config.json").read_text())["config"].get("synthetic"):
                note70 = f"synthetic cache (tests/explorer_data.py) at {cache_70k}"
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

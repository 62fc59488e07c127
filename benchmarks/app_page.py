"""One page load and its hovers in headless Chromium, for :mod:`benchmarks.app`.

:func:`load_page` counts the bytes of the first page and times the scatter drawn,
:func:`profile_load` splits one load's main-thread time by script, :func:`first_hover` counts
the hover images a fresh page fetched before its first hover and times that hover, and
:func:`measure_hovers` times later hovers to tooltip image against a server fetch per hover.
"""
from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import numpy as np

from benchmarks.app_probes import (DRAWN_JS, HOVER_HOOK_JS, POINTS_JS, ROUND_TRIP_JS, SERVER_HOVER_JS,
                                   SPRITES_JS, TIMELINE_JS)

VIEWPORT = {"width": 1366, "height": 768}


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
    "sprites": "sprite pages (none before the first hover)",
    "labels": "hover labels /api/points (lazy, after first paint)",
    "poll": "status polls (every 2 s while a pipeline runs; not counted)",
}


def load_page(browser, url: str, idle_s: float = 2.0, timeout_s: float = 90.0,
              query: str = "") -> tuple[dict, object, object]:
    """Open ``url`` (with ``query``, e.g. ``?ds=fashion-mnist``) in a fresh context; return
    (measures, context, page), the page left open."""
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

    page.goto(url + "/" + query, wait_until="commit")
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


def waited_note(tl: dict) -> str:
    """What the figure request waited for, from the load's callback timeline."""
    if not tl.get("url_cb"):
        return ""
    (u0, u1), n = tl["url_cb"], tl["waited"]
    text = f"the figure request waited for the URL callback (sent {u0 / 1000:.2f} s, answered {u1 / 1000:.2f} s)"
    if n > 1 and tl["waited_start"] is not None:
        text += (f", then for {n - 1} callbacks it set off (sent from {tl['waited_start'] / 1000:.2f} s, the last "
                 f"answered {tl['waited_end'] / 1000:.2f} s: the filter and selection stores are its inputs)")
    return text


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


def _meta(page) -> dict:
    return page.evaluate("() => document.querySelector('#ex-scatter .js-plotly-plot').layout.meta")


def _images(cache: Path, dataset: str) -> np.ndarray:
    current = json.loads((cache / "current.json").read_text())
    return np.load(cache / current["datasets"][dataset]["samples"] / "images.npy", mmap_mode="r")


def first_hover(page, cache: Path, seed: int = 0) -> dict:
    """The first hover of a page nobody hovered yet, on an isolated point picked with ``seed``.

    Returns the sprite bytes and pages fetched before it (Resource Timing ``transferSize``),
    its latency from ``mousemove`` to the frame after its image was ready (ms), the page
    it fetched for it, and whether the tooltip's screenshot matched the row's image.
    """
    meta = _meta(page)
    page.evaluate(HOVER_HOOK_JS)
    target = pick_targets(page.evaluate(POINTS_JS), 1, seed=seed)
    results, misses = hover_pass(page, target, "__hov")
    if not results:
        raise RuntimeError(f"the first hover at {target} showed no tooltip image within 3 s")
    rec = results[0]
    sheets = page.evaluate(SPRITES_JS)
    before = [e for e in sheets if e["start"] < rec["move"]]
    after = sorted((e for e in sheets if e["start"] >= rec["move"]), key=lambda e: e["start"])
    per_page = (meta.get("sprite") or {}).get("per_page", 500)
    return {"bytes_before": sum(e["bytes"] for e in before), "pages_before": len(before),
            "latency": rec["paint"] - rec["move"], "text": rec["mut"] - rec["move"], "row": rec["row"],
            "page": rec["row"] // per_page, "fetched": after[0]["url"].split("?")[0] if after else None,
            "match": tooltip_matches(page, _images(cache, meta["dataset"])[rec["row"]])}


def wait_sprites(page, timeout_s: float = 180.0) -> dict:
    """Wait until the page has every sprite page of its scatter's dataset; their count, bytes, seconds."""
    meta = _meta(page)
    pages = -(-int(meta["n"]) // (meta.get("sprite") or {}).get("per_page", 500))
    t0 = time.perf_counter()
    page.wait_for_function(
        "n => new Set(performance.getEntriesByType('resource').filter(e => e.name.includes('/sprites/'))"
        ".map(e => e.name)).size >= n", arg=pages, timeout=int(timeout_s * 1000), polling=200)
    sheets = page.evaluate(SPRITES_JS)
    return {"pages": pages, "bytes": sum(e["bytes"] for e in sheets), "waited": time.perf_counter() - t0,
            "span": max(e["end"] for e in sheets) - min(e["start"] for e in sheets)}


def measure_hovers(page, cache: Path, count: int = 50, check_every: int = 8) -> dict:
    """``count + 1`` hovers over isolated points once every sprite page is in; latencies in ms, checks.

    The page had its first hover (:func:`first_hover`), which starts fetching the other pages
    when idle; these hovers wait for all of them. Then the same number of hovers over other
    points with a server fetch per hover (:data:`SERVER_HOVER_JS`), and fetch + decode alone
    of the first 40 rows.
    """
    meta = _meta(page)
    prefetch = wait_sprites(page)
    images = _images(cache, meta["dataset"])
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
    return {"dataset": meta["dataset"], "n": meta["n"], "prefetch": prefetch,
            "lat": lat[1:], "dom": dom[1:], "delivery": [r["moveNow"] - r["move"] for r in results[1:]],
            "hit": sum(r["row"] == r["target"] for r in results), "hovers": len(results),
            "misses": misses, "checks": checks, "rows": rows, "server_first": srv_lat[0] if srv_lat else None,
            "server": srv_lat[1:], "trips": trips}

"""Explore's 3-D view in headless Chromium: what opening it costs, against the 2-D page in the same run.

``python -m benchmarks.view3d_bench [--cache DIR] [--n 70000]`` prints a markdown table;
``python -m benchmarks --sections view3d`` puts the same rows in ``benchmarks/RESULTS.md``.

On a cache (default: a synthetic one of 70,000 points per dataset written by
``synthetic.cache.write_synthetic_cache``, whose CNN has 3-D UMAP and PCA layouts) it starts
``python -m explorer`` (:class:`benchmarks.app.Explorer`) and, per fresh browser context:

1. navigates to Explore in 2-D and times the 2-D scatter drawn (``performance.now()`` once
   the graph holds every point): the reference;
2. clicks "3-D" and times it drawn (``#ex-scatter3d`` ``data-state`` turning ``drawn``, seen by a
   ``MutationObserver``), with the bytes that came over the wire meanwhile (Chrome DevTools
   Protocol ``encodedDataLength``: the 3-D bundle, the figure) and the 3-D bundle's bytes
   fetched before the click (the target is none);
3. switches to 2-D and back, timing the 3-D view shown again (nothing changed: the figure drawn
   before, not resent);
4. hovers isolated points of the 3-D view and of the 2-D one in the same page and takes the
   time from the ``mousemove`` event to the tooltip naming the point's row.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
from pathlib import Path

import numpy as np

from benchmarks.common import Row, cache_or_synthetic, explorer_in_chromium, to_markdown

ROOT = Path(__file__).resolve().parent.parent
SECTION = "view3d: Explore's 3-D view"
TARGET_SWITCH_S = 3.0
TARGET_HOVER_MS = 20.0

DRAWN_2D_JS = """(n) => { const gd = document.querySelector('#ex-scatter .js-plotly-plot');
  if (!gd || !gd._fullData) return false;
  const k = gd._fullData.filter(t => t.name !== 'highlight').reduce((a, t) => a + (t._length || 0), 0);
  return k === n ? performance.now() : false; }"""
WATCH_3D_JS = """() => { window.__t3d = []; const gd = document.getElementById('ex-scatter3d');
  new MutationObserver(() => { if (gd.dataset.state === 'drawn') window.__t3d.push(performance.now()); })
    .observe(gd, {attributes: true, attributeFilter: ['data-state']}); }"""
CLICK_JS = """(label) => { const t = performance.now();
  [...document.querySelectorAll('#ctl-dims label')].find(l => l.innerText.trim() === label).click(); return t; }"""
#: rows and screen positions of the shown scatter's points (2-D: the axes' l2p; 3-D: the scene's camera)
POINTS_JS = """(three) => { const out = [];
  if (three) { const gd = document.getElementById('ex-scatter3d'), sc = gd._fullLayout.scene._scene;
    const cam = sc.glplot.cameraParams, s = sc.dataScale, r = sc.container.getBoundingClientRect();
    const X = (m, v) => { const o = [0, 0, 0, 0];
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) o[j] += m[4 * i + j] * v[i]; return o; };
    gd._fullData.forEach(t => { if (!t.customdata || t.name === 'focus') return;
      for (let i = 0; i < t._length; i += 7) {
        const p = X(cam.projection, X(cam.view, X(cam.model, [t.x[i] * s[0], t.y[i] * s[1], t.z[i] * s[2], 1])));
        out.push([Number(t.customdata[i]), r.left + (0.5 + 0.5 * p[0] / p[3]) * r.width,
                  r.top + (0.5 - 0.5 * p[1] / p[3]) * r.height]); } });
    return out; }
  const gd = document.querySelector('#ex-scatter .js-plotly-plot'), fl = gd._fullLayout, b = gd.getBoundingClientRect();
  gd._fullData.forEach((t, c) => { if (t.name === 'highlight') return;
    for (let i = 0; i < t._length; i += 7)
      out.push([window.explorerHover.rowOf(gd, {curveNumber: c, pointNumber: i}),
                b.left + fl._size.l + fl.xaxis.l2p(t.x[i]), b.top + fl._size.t + fl.yaxis.l2p(t.y[i])]); });
  return out; }"""
HOVER_WATCH_JS = """() => { window.__hov = {move: 0, seen: {}}; const tip = document.getElementById('hover-tip');
  document.addEventListener('mousemove', e => { window.__hov.move = e.timeStamp; }, true);
  new MutationObserver(() => { if (tip.dataset.index !== undefined)
      window.__hov.seen[tip.dataset.index] = performance.now() - window.__hov.move; })
    .observe(tip, {attributes: true, attributeFilter: ['data-index']}); }"""


def _isolated(points: list, box: dict, count: int) -> list:
    """``count`` points inside ``box`` (a margin off its edges) whose nearest other point on screen is farthest."""
    p = np.array([q for q in points if box["x"] + 40 < q[1] < box["x"] + box["width"] - 220
                  and box["y"] + 60 < q[2] < box["y"] + box["height"] - 40])
    xy = p[:, 1:]
    d = np.full(len(p), np.inf)
    for i in range(0, len(p), 2000):  # nearest neighbour on screen in chunks: 10,000 x 10,000 at most
        block = np.sqrt(((xy[i:i + 2000, None] - xy[None]) ** 2).sum(-1))
        block[np.arange(len(block)), np.arange(i, i + len(block))] = np.inf
        d[i:i + 2000] = block.min(1)
    return [(int(r), float(x), float(y)) for r, x, y in p[np.argsort(-d)[:count]]]


def _hovers(page, three: bool, count: int) -> list[float]:
    """Milliseconds from ``mousemove`` to the tooltip naming the row, over ``count`` isolated points."""
    sel = "#ex-scatter3d" if three else "#ex-scatter"
    box = page.locator(sel).bounding_box()
    out = []
    for row, x, y in _isolated(page.evaluate(POINTS_JS, three), box, count):
        page.mouse.move(x - 30, y - 30)
        page.wait_for_timeout(120)
        page.mouse.move(x, y)
        try:
            page.wait_for_function("(r) => window.__hov.seen[r] !== undefined", arg=str(row), timeout=3000)
        except Exception:  # noqa: BLE001 - a point another one hides: not hovered, not counted
            continue
        out.append(page.evaluate("(r) => window.__hov.seen[r]", str(row)))
        page.evaluate("() => { window.__hov.seen = {}; }")
    return out


def measure(browser, url: str, n: int, loads: int = 3, hovers: int = 20) -> dict:
    """The timings and bytes of :data:`__doc__`'s steps, as medians over ``loads`` fresh contexts."""
    drawn2, first, again, mb_first, before, h3, h2 = [], [], [], [], [], [], []
    for i in range(loads + 1):  # the first load warms the server's caches and is not counted
        ctx = browser.new_context(viewport={"width": 1366, "height": 768})
        page = ctx.new_page()
        page.set_default_timeout(120_000)
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        urls, sizes = {}, {}
        cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
        page.goto(url + "/?tab=explore&model=cnn&proj=umap")
        t2 = page.wait_for_function(DRAWN_2D_JS, arg=n).json_value()
        page.wait_for_timeout(2500)  # hover assets after first paint, then idle
        bundle_before = sum(s for r, s in sizes.items() if "plotly-3d" in urls.get(r, ""))
        seen = set(sizes)
        page.evaluate(WATCH_3D_JS)
        t0 = page.evaluate(CLICK_JS, "3-D")
        page.wait_for_function("() => window.__t3d.length >= 1")
        t1 = page.evaluate("() => window.__t3d[0]")
        page.wait_for_timeout(1000)
        switch_bytes = sum(s for r, s in sizes.items() if r not in seen)
        page.evaluate(CLICK_JS, "2-D")
        page.wait_for_selector("#ex-scatter", state="visible")
        t2b = page.evaluate(CLICK_JS, "3-D")
        # nothing changed: the figure drawn before is shown again, not resent (tabs/explore3d.py)
        t3 = page.wait_for_function("() => { const b = document.getElementById('ex-plot3d-box'); "
                                    "return b.offsetParent !== null && b.clientHeight > 0 "
                                    "&& document.getElementById('ex-scatter3d').dataset.state === 'drawn' "
                                    "? performance.now() : false; }").json_value()
        if i:
            drawn2.append(t2 / 1000)
            first.append((t1 - t0) / 1000)
            again.append((t3 - t2b) / 1000)
            mb_first.append(switch_bytes / 1e6)
            before.append(bundle_before)
        if i == loads:  # hovers once, on the last load: 3-D, then 2-D in the same page
            page.evaluate(HOVER_WATCH_JS)
            page.wait_for_timeout(500)
            h3 = _hovers(page, True, hovers)
            page.evaluate(CLICK_JS, "2-D")
            page.wait_for_selector("#ex-scatter", state="visible")
            page.wait_for_timeout(800)
            h2 = _hovers(page, False, hovers)
        ctx.close()
    med = statistics.median
    return {"drawn2": med(drawn2), "first": med(first), "again": med(again), "mb_first": med(mb_first),
            "before": max(before), "h3": h3, "h2": h2}


def rows_of(m: dict, n: int, note: str) -> list[Row]:
    med = (lambda v: statistics.median(v) if v else float("nan"))
    h3, h2 = med(m["h3"]), med(m["h2"])
    return [
        Row(SECTION, f"{n:,} points: 3-D code fetched before the 3-D view is opened", f"{m['before']:,} bytes",
            target="0", met=m["before"] == 0, note=note),
        Row(SECTION, f"{n:,} points: first switch to 3-D, click to drawn (3-D plotly.js + figure)",
            f"{m['first']:.2f} s", reference=f"2-D page: navigation to drawn {m['drawn2']:.2f} s",
            ratio=f"{m['first'] / m['drawn2']:.2f}x", target=f"<= {TARGET_SWITCH_S} s", met=m["first"] <= TARGET_SWITCH_S,
            note=f"{m['mb_first']:.2f} MB over the wire (gzip)"),
        Row(SECTION, f"{n:,} points: switch to 3-D again, nothing changed (the figure kept)", f"{m['again']:.2f} s",
            reference=f"{m['first']:.2f} s the first time", ratio=f"{m['again'] / m['first']:.2f}x"),
        Row(SECTION, f"{n:,} points: hover to tooltip in 3-D, median (max) of {len(m['h3'])}",
            f"{h3:.0f} ms ({max(m['h3'], default=float('nan')):.0f})",
            reference=f"2-D, same page: {h2:.0f} ms ({max(m['h2'], default=float('nan')):.0f}) of {len(m['h2'])}",
            ratio=f"{h3 / h2:.2f}x", target=f"<= {TARGET_HOVER_MS:.0f} ms", met=h3 <= TARGET_HOVER_MS),
    ]


def bench_view3d(cache: Path | None = None, n: int = 70_000, loads: int = 3, hovers: int = 20) -> list[Row]:
    """:func:`measure` on ``cache`` (default: a synthetic one of ``n`` points per dataset, in a temporary folder)."""
    with cache_or_synthetic(cache, n, "bench-3d-") as (cache, n, first):
        note = (f"the cache at {cache}: {first['title']}, CNN" if first
                else "synthetic cache (synthetic/cache.py): CNN with 3-D UMAP")
        with explorer_in_chromium(cache) as (browser, url):
            return rows_of(measure(browser, url, n, loads, hovers), n, note)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.view3d_bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cache", type=Path, default=None, help="a pipeline cache (default: a synthetic one)")
    p.add_argument("--n", type=int, default=70_000, help="points per dataset of the synthetic cache")
    p.add_argument("--loads", type=int, default=3)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    print(to_markdown(bench_view3d(args.cache, args.n, args.loads)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

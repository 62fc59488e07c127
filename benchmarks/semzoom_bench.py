"""Semantic zoom (issue 24, ``explorer/assets/semzoom.js``): frames per second while panning Explore's scatter
in headless Chromium, the "Images" layer on against off, in the same page.

``python -m benchmarks.semzoom_bench [--cache DIR] [--n 70000]``; ``python -m benchmarks --sections semzoom``
(on ``--cache-70k`` where given, else a synthetic cache of 70,000 points per dataset).

Two views of the CNN's UMAP: the whole layout (each class's representative images drawn) and one zoomed in
until about 1,000 points are in view (each drawn as its image). In each, a drag pans the view back and forth
(Playwright mouse moves, as fast as the page takes them) while the page counts its animation frames; the
rate is frames over the drag's time. Software WebGL (no GPU here): the absolute rates are this machine's,
the ratio of on to off is the measure.
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

from benchmarks.common import Row, cache_or_synthetic, explorer_in_chromium, to_markdown

SECTION = "semzoom: Explore's images drawn on the scatter (the Images layer), frames per second while panning"
CANVAS = "#ex-scatter canvas.semzoom"
#: zoom to a box around the centre of the densest class holding about ``want`` points, in pan mode
ZOOM_JS = """(want) => { const gd = document.querySelector('#ex-scatter .js-plotly-plot');
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, xs = [], ys = [];
  gd._fullData.forEach(t => { if (t.name !== 'highlight' && t.x) for (let i = 0; i < t.x.length; i++) { xs.push(t.x[i]); ys.push(t.y[i]); } });
  const mid = a => a.slice().sort((p, q) => p - q)[a.length >> 1], cx = mid(xs), cy = mid(ys);
  let lo = 0, hi = Math.max(xa.range[1] - xa.range[0], ya.range[1] - ya.range[0]);
  for (let k = 0; k < 30; k++) { const r = (lo + hi) / 2; let n = 0;
    for (let i = 0; i < xs.length; i++) if (Math.abs(xs[i] - cx) < r && Math.abs(ys[i] - cy) < r) n++;
    if (n < want) lo = r; else hi = r; }
  return Plotly.relayout(gd, {dragmode: 'pan', 'xaxis.range': [cx - hi, cx + hi], 'yaxis.range': [cy - hi, cy + hi]}); }"""
FRAMES_JS = """() => { window.__frames = 0; window.__counting = true;
  const tick = () => { if (!window.__counting) return; window.__frames++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""


def _images(page, on: bool) -> None:
    box = page.locator("#ex-layers input[value=images]")
    if box.is_checked() != on:
        box.click()
    page.wait_for_function("(on) => { const c = document.querySelector('%s');"
                           " return c && (c.dataset.mode !== 'off') === on && (!on || c.dataset.pending === '0'); }" % CANVAS,
                           arg=on)
    page.wait_for_timeout(800)


def _pan_fps(page, sweeps: int = 4, steps: int = 60) -> float:
    """Frames per second while a drag pans the scatter ``sweeps`` times 300 px across and back."""
    box = page.locator("#ex-scatter .nsewdrag").first.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2 - 150, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.evaluate(FRAMES_JS)
    t0 = time.perf_counter()
    for k in range(sweeps):
        page.mouse.move(x0 + (300 if k % 2 == 0 else 0), y0 + (20 if k % 2 == 0 else 0), steps=steps)
    seconds = time.perf_counter() - t0
    frames = page.evaluate("() => { window.__counting = false; return window.__frames; }")
    page.mouse.up()
    page.wait_for_timeout(600)
    return frames / seconds


def measure(browser, url: str, repeat: int = 3) -> dict:
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    out = {}
    try:
        page.goto(url + "/?ds=mnist&model=cnn&proj=umap")
        page.wait_for_function("() => window.explorerHover && document.querySelector('#ex-scatter .js-plotly-plot')"
                               " && document.querySelector('#ex-scatter .js-plotly-plot')._fullData")
        page.evaluate("() => Plotly.relayout(document.querySelector('#ex-scatter .js-plotly-plot'), {dragmode: 'pan'})")
        page.wait_for_timeout(2000)
        for view in ("whole", "zoomed"):
            if view == "zoomed":
                page.evaluate(ZOOM_JS, 1000)
                page.wait_for_timeout(1500)
            for on in (False, True) * repeat:  # alternated: the machine's drift falls on both
                _images(page, on)
                mode = page.get_attribute(CANVAS, "data-mode") if on else "off"
                out.setdefault((view, on), []).append(_pan_fps(page))
                out[(view, "mode")] = mode if on else out.get((view, "mode"))
                if on:
                    out[(view, "drawn")] = page.evaluate(f"() => JSON.parse(document.querySelector('{CANVAS}')"
                                                         ".dataset.drawn || '[]').length")
    finally:
        ctx.close()
    return out


def rows_of(m: dict, n: int, note: str) -> list[Row]:
    rows = []
    for view, words in (("whole", "the whole layout"), ("zoomed", "zoomed in to about 1,000 points in view")):
        on, off = statistics.median(m[(view, True)]), statistics.median(m[(view, False)])
        rows.append(Row(SECTION, f"{n:,} points, {words}: images on ({m[(view, 'drawn')]} drawn as "
                                 f"{m[(view, 'mode')]}), frames/s panning", f"{on:.0f}", reference=f"{off:.0f} off",
                        ratio=f"{on / off:.2f}x", note=f"{note}; medians of {len(m[(view, True)])} drags each"))
    return rows


def bench_semzoom(cache: Path | None = None, n: int = 70_000) -> list[Row]:
    with cache_or_synthetic(cache, n, "bench-semzoom-") as (cache, n, first):
        note = f"{first['title']} of the cache at {cache}" if first else "synthetic cache"
        with explorer_in_chromium(cache) as (browser, url):
            return rows_of(measure(browser, url), n, note)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.semzoom_bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cache", type=Path, default=None, help="a pipeline cache (default: a synthetic one)")
    p.add_argument("--n", type=int, default=70_000, help="points per dataset of the synthetic cache")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    print(to_markdown(bench_semzoom(args.cache, args.n)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

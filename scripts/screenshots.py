"""Screenshots of the real explorer for the README, taken with headless Chromium.

Usage::

    python scripts/screenshots.py                      # the cache in ./cache (or $MNIST_EXPLORER_CACHE)
    python scripts/screenshots.py --synthetic          # a throwaway synthetic cache (no pipeline run)
    python scripts/screenshots.py --out docs/screenshots --cache-dir /path/to/cache
    python scripts/screenshots.py --synthetic --only issues,faith   # some views only
    python scripts/screenshots.py --synthetic --imported --only imported   # your own data beside MNIST

Serves the app with waitress on a free loopback port, drives Debian's Chromium
(``/usr/bin/chromium``; never ``playwright install``) and writes PNGs to ``--out``.
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

log = logging.getLogger("screenshots")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]

POINTS_JS = """(sel) => {
  const gd = document.querySelector(sel + ' .js-plotly-plot');
  const fl = gd._fullLayout, box = gd.getBoundingClientRect(), out = [];
  gd._fullData.forEach((t, c) => {
    if (t.name === 'highlight' || t.visible !== true) return;
    for (let i = 0; i < t._length; i++)
      out.push({row: window.explorerHover.rowOf(gd, {curveNumber: c, pointNumber: i}),
                x: box.left + fl._size.l + fl.xaxis.l2p(t.x[i]), y: box.top + fl._size.t + fl.yaxis.l2p(t.y[i])});
  });
  return out;
}"""


def wait_scatter(page, sel: str, meta_dataset: str | None = None) -> None:
    cond = f" && gd.layout.meta.dataset === '{meta_dataset}'" if meta_dataset else ""
    page.wait_for_function(
        "(sel) => { const gd = document.querySelector(sel + ' .js-plotly-plot'); "
        f"return gd && gd._fullData && gd._fullData.length > 1 && window.explorerHover{cond}; }}",
        arg=sel, timeout=60_000)
    page.wait_for_timeout(600)  # let WebGL draw and sprites arrive


def hover_point(page, sel: str, quantile: float = 0.5) -> dict:
    """Hover a point of ``sel`` (a wrong prediction if one is visible) and wait for the tooltip."""
    pts = page.evaluate(POINTS_JS, sel)
    tip = page.locator("#hover-tip.visible")
    for p in sorted(pts, key=lambda q: q["x"])[int(quantile * len(pts)):][:40]:
        page.mouse.move(p["x"] - 15, p["y"] - 15)
        page.mouse.move(p["x"], p["y"], steps=4)
        try:
            tip.wait_for(timeout=1500)
            page.wait_for_timeout(300)
            return p
        except Exception:  # a neighbour took the hover: try the next one
            continue
    raise RuntimeError("no point could be hovered")


def box_select(page, sel: str, fx0: float, fx1: float, fy0: float, fy1: float) -> None:
    box = page.locator(f"{sel} .nsewdrag").first.bounding_box()
    x0, x1 = box["x"] + fx0 * box["width"], box["x"] + fx1 * box["width"]
    y0, y1 = box["y"] + fy0 * box["height"], box["y"] + fy1 * box["height"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=10)
    page.mouse.up()


VIEWS = ("explore", "selection", "datasets", "projections", "dynamics", "issues", "faith", "imported", "imagemap", "subclusters",
         "semzoom", "atypical", "layers", "duplicates", "corrections")
#: ``--imported`` adds these to a synthetic cache: RGB 32x32 of 20 classes and grey 20x40 of 100
IMPORTED = [{"name": "own", "title": "Own photos", "shape": (32, 32, 3), "classes": 20},
            {"name": "wide.grey", "shape": (20, 40, 1), "classes": 100, "models": ("pixels", "given"),
             "colour": "#e15759"}]
#: the widths the Label issues tab and the faithfulness colouring are checked at: laptop and phone
SCORE_SIZES = ((1366, 768), (390, 844))


def take_scores(url: str, page_at, shot, ds: str, views: set[str]) -> None:
    """The Label issues tab (a pair filtered, then a suspect opened in Explore) and a scatter
    coloured by faithfulness with a point clicked, at each of :data:`SCORE_SIZES`."""
    for w, h in SCORE_SIZES:
        tag = f"{w}x{h}"
        if "issues" in views:
            page = page_at(w, h)
            page.goto(f"{url}/?tab=issues&ds={ds}&model=cnn")
            page.wait_for_selector("#li-grid .issue-card", timeout=60_000)
            page.wait_for_selector("#li-matrix .heatmaplayer")
            page.wait_for_timeout(800)  # sprites
            shot(page, f"issues-{tag}.png")
            shot(page, f"issues-{tag}-full-page.png", full=True)
            page.locator("#li-grid .issue-card").first.click()
            wait_scatter(page, "#ex-scatter", ds)
            page.wait_for_selector("#detail-img")
            page.wait_for_timeout(600)
            shot(page, f"issues-opened-in-explore-{tag}.png", full=w < 800)
            page.context.close()
        if "faith" in views:
            page = page_at(w, h)
            page.goto(f"{url}/?ds={ds}&model=cnn&proj=tsne&colour=faith")
            wait_scatter(page, "#ex-scatter", ds)
            try:
                pt = hover_point(page, "#ex-scatter", 0.3)
                page.mouse.click(pt["x"], pt["y"])
            except RuntimeError:  # points a few pixels apart on a phone: open one as a tap on it would
                page.evaluate(f"() => window.dash_clientside.set_props('ex-clicked', {{data: {{ds: '{ds}', row: 7}}}})")
            page.wait_for_selector("#detail-faith")
            page.mouse.move(5, 5)
            page.wait_for_timeout(500)
            shot(page, f"faithfulness-{tag}.png", full=w < 800)
            if w >= 800:  # the label-issue score colouring of the same layout: the suspects in red
                page.locator("#ctl-colour label", has_text="Label-issue score").click()
                page.wait_for_function("() => document.querySelector('#ex-scatter .js-plotly-plot')"
                                       ".layout.meta.colour === 'issues'")
                page.wait_for_timeout(600)
                shot(page, f"label-issue-score-{tag}.png")
            page.context.close()


def take_imported(url: str, page_at, shot, served: list[str]) -> None:
    """The imported datasets (those after the built-in ones) in every tab, at 1366x768 and 390 px wide."""
    import json
    import urllib.request

    sizes = json.load(urllib.request.urlopen(f"{url}/api/status"))["sizes"]
    imported = [n for n in served if sizes[n].get("source") == "imported"]
    builtin = next((n for n in served if n not in imported), served[0])
    if not imported:
        log.warning("no imported dataset in this cache: no imported screenshots")
    for ds in imported:
        for w, h in SCORE_SIZES:
            tag = f"{ds}-{w}x{h}"
            page = page_at(w, h)
            page.goto(f"{url}/?ds={ds}&proj=umap&colour=true")
            wait_scatter(page, "#ex-scatter", ds)
            try:
                pt = hover_point(page, "#ex-scatter", 0.4)
                page.mouse.click(pt["x"], pt["y"])
                page.wait_for_selector("#nb-strip .nb-item")
                page.mouse.move(pt["x"] + 1, pt["y"])
                hover_point(page, "#ex-scatter", 0.4)
            except RuntimeError:
                page.evaluate(f"() => window.dash_clientside.set_props('ex-clicked', {{data: {{ds: '{ds}', row: 7}}}})")
            page.wait_for_timeout(400)
            shot(page, f"imported-explore-{tag}.png", full=w < 800)
            page.mouse.move(5, 5)
            page.locator("#ex-confusion .heatmaplayer").first.wait_for()
            cell = page.evaluate("""() => { const gd = document.querySelector('#ex-confusion .js-plotly-plot');
                const z = gd.data[1].z; for (let t = 0; t < z.length; t++) for (let p = 0; p < z.length; p++)
                  if (z[t][p]) return [t, p]; return null; }""")
            if cell:
                page.goto(f"{url}/?ds={ds}&cell={cell[0]}-{cell[1]}")
                wait_scatter(page, "#ex-scatter", ds)
                page.wait_for_selector("#ex-gallery .gallery-item")
                page.wait_for_timeout(600)
                shot(page, f"imported-cell-{tag}-full-page.png", full=True)
            for tab, ready in (("issues", "#li-grid > *"), ("projections", "#cp-right .js-plotly-plot"),
                               ("dynamics", ".dy-half"), ("datasets", ".report-table .card")):
                page.goto(f"{url}/?tab={tab}&ds={ds}&compare={builtin},{ds}")
                page.wait_for_selector(ready, timeout=60_000)
                page.wait_for_timeout(1200)
                shot(page, f"imported-{tab}-{tag}.png", full=True)
            page.context.close()
    log.info("imported datasets shot: %s", ", ".join(f"{n} ({sizes[n]['n']} images)" for n in imported))


def take(url: str, out: Path, views: set[str] | None = None) -> list[Path]:
    from playwright.sync_api import sync_playwright

    import json
    import urllib.request

    out.mkdir(parents=True, exist_ok=True)
    written = []
    # a cache the pipeline is still filling may serve one dataset only
    served = json.load(urllib.request.urlopen(f"{url}/api/status"))["datasets"]
    fm = "fashion-mnist" if "fashion-mnist" in served else served[0]
    mn = "mnist" if "mnist" in served else served[0]
    views = set(VIEWS) if views is None else views
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)

        def page_at(w: int, h: int):
            return browser.new_context(viewport={"width": w, "height": h}, device_scale_factor=1).new_page()

        def shot(page, name: str, full: bool = False) -> None:
            path = out / name
            page.screenshot(path=str(path), full_page=full)
            written.append(path)
            log.info("wrote %s", path)

        # 1. Explore, Fashion-MNIST, the Shirt -> T-shirt/top cell chosen, a point hovered and clicked
        for w, h in ((1366, 768), (1920, 1080)) if "explore" in views else ():
            page = page_at(w, h)
            page.goto(f"{url}/?ds={fm}&model=cnn&proj=umap&colour=true&cell=" + ("6-0" if fm == "fashion-mnist" else "4-9"))
            wait_scatter(page, "#ex-scatter", fm)
            page.wait_for_selector("#ex-gallery .gallery-item")
            pt = hover_point(page, "#ex-scatter", 0.45)
            page.mouse.click(pt["x"], pt["y"])
            page.wait_for_selector("#nb-strip .nb-item")
            page.mouse.move(pt["x"] + 1, pt["y"])
            hover_point(page, "#ex-scatter", 0.45)
            shot(page, f"explore-{w}x{h}.png")
            if w == 1366:
                page.mouse.move(5, 5)
                shot(page, "explore-full-page.png", full=True)
            page.context.close()

        # 6, 7. Label issues, and a layout coloured by its faithfulness
        take_scores(url, page_at, shot, fm, views)
        # 9-12. The image map, the sub-clusters layer, the images on the scatter, atypicality
        from scripts.image_screenshots import take_atypical, take_duplicates, take_layers, take_maps, take_semzoom

        take_maps(url, page_at, shot, fm, views)
        take_semzoom(url, page_at, shot, mn, views)
        take_atypical(url, page_at, shot, fm, views)
        take_layers(url, page_at, shot, fm, views)
        take_duplicates(url, page_at, shot, fm, views)
        from scripts.correction_screenshots import take_corrections

        take_corrections(url, page_at, shot, fm, views)  # writes the cache's corrections log: give it a copy
        # 8. your own data: the imported datasets in every tab
        if "imported" in views:
            take_imported(url, page_at, shot, served)
        if views <= {"issues", "faith", "imported", "imagemap", "subclusters", "semzoom", "atypical", "layers",
                      "duplicates", "corrections"}:
            browser.close()
            return written

        # 2. A box selection: gallery, histogram, the selection's own confusion counts
        page = page_at(1366, 768)
        page.goto(f"{url}/?ds={mn}&model=cnn&proj=tsne&colour=correct")
        wait_scatter(page, "#ex-scatter", mn)
        box_select(page, "#ex-scatter", 0.05, 0.45, 0.05, 0.6)
        page.wait_for_selector("#ex-gallery .gallery-item")
        page.wait_for_timeout(800)
        shot(page, "explore-selection.png", full=True)
        page.context.close()

        # 3. Compare datasets
        page = page_at(1366, 768)
        page.goto(f"{url}/?tab=datasets&model=cnn&proj=umap&colour=true")
        wait_scatter(page, f"#cd-half-{fm}")
        page.wait_for_selector(".report-table .card")
        page.wait_for_timeout(500)
        shot(page, "compare-datasets.png", full=True)
        page.context.close()

        # 4. Compare models (the CNN and raw pixels) with a linked selection, and the models table below
        page = page_at(1366, 768)
        page.goto(f"{url}/?tab=projections&ds={fm}&model=cnn&proj=umap&model2=pixels&proj2=umap")
        wait_scatter(page, "#cp-left")
        wait_scatter(page, "#cp-right")
        box_select(page, "#cp-left", 0.5, 0.95, 0.05, 0.5)
        page.wait_for_function("() => document.querySelector('#cp-right .js-plotly-plot')._fullData.at(-1)._length > 0")
        page.wait_for_timeout(600)
        shot(page, "compare-models.png")
        page.wait_for_selector("#models-table")
        shot(page, "compare-models-full-page.png", full=True)
        page.context.close()

        # 5. Training dynamics: mid-animation (points between two frames) and the final frame
        page = page_at(1366, 768)
        page.goto(f"{url}/?tab=dynamics&colour=true&frame=0")
        dyn = ".dynamics-scatter .js-plotly-plot"
        page.wait_for_selector(".dy-half")
        if page.locator(".dy-plot").count():
            page.wait_for_function(f"() => {{ const g = document.querySelector('{dyn}'); "
                                   "return g && g._fullData && window.explorerDynamics; }",
                                   timeout=60_000)
            page.wait_for_timeout(800)
            last = int(page.locator(".dy-slider [role=slider]").get_attribute("aria-valuemax") or 0)
            # one step inside the first epoch, caught half-way
            page.evaluate("() => window.dash_clientside.set_props('dy-frame', {value: 2})")
            page.wait_for_selector(f"{dyn}[data-moving='1']")
            page.wait_for_timeout(150)
            shot(page, "dynamics-mid-animation.png")
            page.goto(f"{url}/?tab=dynamics&colour=correct&frame={last}")
            page.wait_for_function(f"() => {{ const g = document.querySelector('{dyn}'); "
                                   "return g && g._fullData && window.explorerDynamics; }",
                                   timeout=60_000)
            page.wait_for_selector(".dy-stats:not(:empty)")
            page.wait_for_timeout(1200)
            shot(page, "dynamics-final.png")
            shot(page, "dynamics-final-full-page.png", full=True)
        else:
            log.warning("no dataset in this cache has training dynamics: no dynamics screenshots")
            shot(page, "dynamics-none.png")
        page.context.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache-dir", type=Path, default=None, help="cache root (default ./cache)")
    ap.add_argument("--synthetic", action="store_true", help="use a throwaway synthetic cache")
    ap.add_argument("--n", type=int, default=2000, help="points per dataset with --synthetic")
    ap.add_argument("--imported", action="store_true",
                    help="with --synthetic: add two imported datasets (RGB 32x32 of 20 classes, grey 20x40 of 100)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--only", default=None,
                    help=f"comma-separated views to take: {', '.join(VIEWS)}; the label-issue and faithfulness "
                         "views alone skip the rest (default: all)")
    args = ap.parse_args(argv)
    views = None if args.only is None else {v.strip() for v in args.only.split(",") if v.strip()}
    if views is not None and not views <= set(VIEWS):
        ap.error(f"--only takes {', '.join(VIEWS)} (got {', '.join(sorted(views - set(VIEWS)))})")
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")

    from waitress import create_server

    from explorer.app import create_app
    from core.store import ArtifactStore

    tmp = None
    cache = args.cache_dir
    if args.synthetic:
        from synthetic.cache import write_synthetic_cache

        tmp = tempfile.TemporaryDirectory(prefix="explorer-shots-")
        cache = Path(tmp.name)
        write_synthetic_cache(cache, n=args.n, seed=0, imported=IMPORTED if args.imported else None)
    app = create_app(ArtifactStore(cache))
    server = create_server(app.server, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    t0 = time.perf_counter()
    try:
        written = take(f"http://127.0.0.1:{server.effective_port}", args.out, views)
    finally:
        server.close()
        if tmp is not None:
            tmp.cleanup()
    log.info("%d screenshots in %.1f s", len(written), time.perf_counter() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

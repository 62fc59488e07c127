"""Screenshots of Explore's exports for the README, taken with headless Chromium.

Usage::

    python -m pipeline import mnist-2k --images mnist2k.npz --cache-dir /tmp/c --methods pca,umap
    python scripts/export_screenshots.py --cache-dir /tmp/c --dataset mnist-2k --out docs/screenshots

Opens Explore on the dataset's most confused cell, saves its buttons (``export-buttons-1366x768.png``)
and the contact sheet the Contact sheet button downloads (``export-contact-sheet.png``), then opens
the file Export view as HTML downloads from ``file://`` with every other request refused, hovers a
highlighted point and saves ``export-html-offline-<w>x<h>.png`` at 1366x768 and 390x844.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
DRAWN = ("() => { const gd = document.querySelector('#ex-scatter .js-plotly-plot'); "
         "return gd && gd._fullData && gd._fullData.length > 1 && gd._fullLayout._size; }")
# page coordinates of the first highlighted point (the overlay is the last trace)
FIRST_HIGHLIGHT = """() => { const gd = document.querySelector('#ex-scatter .js-plotly-plot');
  const fl = gd._fullLayout, box = gd.getBoundingClientRect(), t = gd._fullData[gd._fullData.length - 1];
  return [box.left + fl._size.l + fl.xaxis.l2p(t.x[0]), box.top + fl._size.t + fl.yaxis.l2p(t.y[0])]; }"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cache-dir", type=Path, required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright
    from waitress import create_server

    from core.store import ArtifactStore
    from explorer.app import create_app

    app = create_app(ArtifactStore(args.cache_dir))
    ds = app.explorer_store.get(args.dataset)
    off = ds.model(ds.default_model).confusion.copy()
    np.fill_diagonal(off, 0)
    t, q = np.unravel_index(off.argmax(), off.shape)
    server = create_server(app.server, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}/?ds={args.dataset}&proj=umap&cell={t}-{q}"
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ctx = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        page.wait_for_selector("#ex-gallery .gallery-item")
        page.wait_for_timeout(1000)
        page.locator(".focus").scroll_into_view_if_needed()
        page.screenshot(path=str(args.out / "export-buttons-1366x768.png"))
        with page.expect_download() as dl:
            page.click("#ex-sheet-btn")
        dl.value.save_as(str(args.out / "export-contact-sheet.png"))
        html = Path(tmp) / "view.html"
        with page.expect_download() as dl:
            page.click("#ex-html-btn")
        dl.value.save_as(str(html))
        ctx.close()
        for w, h in ((1366, 768), (390, 844)):
            ctx = browser.new_context(viewport={"width": w, "height": h})
            ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page = ctx.new_page()
            page.goto(html.as_uri())
            page.wait_for_function(DRAWN)
            x, y = page.evaluate(FIRST_HIGHLIGHT)
            page.mouse.move(x - 20, y - 20)
            page.mouse.move(x, y, steps=3)
            page.wait_for_selector("#hover-tip.visible")
            page.wait_for_timeout(300)
            page.screenshot(path=str(args.out / f"export-html-offline-{w}x{h}.png"))
            ctx.close()
        browser.close()
    server.close()
    print(f"wrote export screenshots to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

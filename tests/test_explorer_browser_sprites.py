"""Hover images on demand in a real headless Chromium: no sprite page before the first hover, then
the hovered row's page first (its image still the row's own), and the others when the browser is idle.

The cache holds 1,500 points per dataset: three sprite pages of 500 28x28 tiles
(``thumbnails.SpriteGrid``), so a hover can land on a page nothing has fetched yet.
"""
from __future__ import annotations

import numpy as np
import pytest

from synthetic.cache import decode_row
from explorer.thumbnails import page_count
from test_explorer_browser import settled_points, open_app, tooltip_image, wait_callbacks, wait_hover_labels

N = 1500
# every sprite page the page fetched: URL without its query, start (ms after navigation), bytes on the wire
SPRITES_JS = """() => performance.getEntriesByType('resource').filter(e => e.name.includes('/sprites/'))
  .map(e => ({url: e.name.split('?')[0], start: e.startTime, bytes: e.transferSize}))"""
IMAGE_READY_JS = """(row) => { const el = document.getElementById('hover-tip');
  return el.classList.contains('visible') && el.dataset.index === String(row) && el.dataset.image === String(row); }"""


@pytest.fixture(scope="module")
def sprite_app(tmp_path_factory):
    from synthetic.cache import write_synthetic_cache

    from core.store import ArtifactStore
    from explorer.app import create_app

    root = tmp_path_factory.mktemp("sprite-cache")
    write_synthetic_cache(root, n=N, seed=1, dynamics=())
    return create_app(ArtifactStore(root))


@pytest.fixture(scope="module")
def sprite_url(sprite_app):
    """The 1,500-point cache's explorer, served by waitress on a free loopback port."""
    import threading

    from waitress import create_server

    server = create_server(sprite_app.server, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def isolated_in(page, lo: int, hi: int) -> dict:
    """The point of a row in ``lo..hi-1`` farthest from its nearest neighbour on screen."""
    pts = settled_points(page, "#ex-scatter")
    xy = np.array([[p["x"], p["y"]] for p in pts])
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    nearest = d.min(1)
    nearest[[not lo <= p["row"] < hi for p in pts]] = -1
    return pts[int(nearest.argmax())]


def hover(page, pt: dict) -> None:
    page.mouse.move(pt["x"] - 30, pt["y"] - 30)
    page.mouse.move(pt["x"], pt["y"], steps=3)
    page.wait_for_function(IMAGE_READY_JS, arg=pt["row"])


def test_first_hover_fetches_its_own_page_and_paints_that_rows_image(page, sprite_url, sprite_app):
    ds = sprite_app.explorer_store.get("mnist")
    per_page = ds.grid.per_page
    assert page_count(ds.n, ds.grid) == 3
    requested = []
    page.on("request", lambda r: requested.append(r.url) if "/sprites/" in r.url else None)
    open_app(page, sprite_url)
    # hover.js used to fetch every sheet when idle after first paint, as it still fetches the labels:
    # they are in, the page's callbacks are done, and the browser has been idle since
    wait_hover_labels(page)
    wait_callbacks(page)
    page.evaluate("() => new Promise(done => requestIdleCallback(() => requestIdleCallback(done)))")
    assert requested == []
    # the budget is 3 MB of hover images before the first hover at 70,000 points: this design spends none
    assert page.evaluate(SPRITES_JS) == []

    pt = isolated_in(page, 2 * per_page, N)  # a point on the last page: nothing fetched it
    hover(page, pt)
    fetched = page.evaluate(SPRITES_JS)
    assert fetched[0]["url"].endswith(f"/sprites/mnist/{pt['row'] // per_page}.png")
    shot = tooltip_image(page)
    assert shot.shape == (112, 112)
    tile = shot[2::4, 2::4]  # the centre of each 4x4 block: the 28x28 source pixels
    assert decode_row(tile) == pt["row"]
    assert np.abs(tile - ds.images[pt["row"]].astype(np.int16)).max() <= 8

    # the other pages follow when idle; a hover on one of them then shows its image at once
    page.wait_for_function(f"() => new Set(({SPRITES_JS})().map(e => e.url)).size === 3")
    assert sorted(e["url"].rsplit("/", 1)[1] for e in page.evaluate(SPRITES_JS)) == ["0.png", "1.png", "2.png"]
    page.mouse.move(5, 5)
    page.wait_for_selector("#hover-tip.visible", state="hidden")
    other = isolated_in(page, 0, per_page)
    hover(page, other)
    tile = tooltip_image(page)[2::4, 2::4]
    assert decode_row(tile) == other["row"]
    assert len(page.evaluate(SPRITES_JS)) == 3  # no page fetched twice

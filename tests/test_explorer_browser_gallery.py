"""The gallery past one page in a real headless Chromium: a selection of more images than a page
holds is browsed page by page (misclassified first), by Prev/Next and by the arrow keys."""
from __future__ import annotations

import numpy as np
import pytest

from explorer.tabs.explore import GALLERY_MAX
from test_explorer_browser import settled_points, open_app

N = 2 * GALLERY_MAX + 100  # three pages, the last one short
TILE_ROWS_JS = "els => els.map(e => Number(e.dataset.row))"


@pytest.fixture(scope="module")
def big_app(tmp_path_factory):
    from synthetic.cache import write_synthetic_cache
    from explorer.app import create_app
    from core.store import ArtifactStore

    root = tmp_path_factory.mktemp("gallery-cache")
    write_synthetic_cache(root, n=N, seed=1)
    return create_app(ArtifactStore(root))


@pytest.fixture(scope="module")
def big_url(big_app):
    import threading

    from waitress import create_server

    server = create_server(big_app.server, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def drag_all(page) -> list[int]:
    """Drag a box around every point of the scatter, as a user does; their rows."""
    pts = settled_points(page, "#ex-scatter")
    xs, ys = [q["x"] for q in pts], [q["y"] for q in pts]
    x0, x1, y0, y1 = min(xs) - 5, max(xs) + 5, min(ys) - 5, max(ys) + 5
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    return sorted(q["row"] for q in pts)


def tiles(page) -> list[int]:
    """The gallery's rows in the order shown."""
    return page.locator("#ex-gallery .gallery-item").evaluate_all(TILE_ROWS_JS)


def wait_tiles(page, first_row: int, n: int) -> None:
    page.wait_for_function(f"""() => {{ const t = document.querySelectorAll('#ex-gallery .gallery-item');
        return t.length === {n} && t[0].dataset.row === '{first_row}'; }}""")


def test_a_selection_larger_than_a_page_is_browsed_page_by_page(page, big_url, big_app):
    m = big_app.explorer_store.get("mnist").model("cnn")
    open_app(page, big_url)
    rows = np.asarray(drag_all(page))
    assert len(rows) > 2 * GALLERY_MAX
    # misclassified first, each part in row order: the order of every page
    order = rows[np.argsort(m.ds.labels[rows] == m.pred[rows], kind="stable")].tolist()
    assert m.ds.labels[order[0]] != m.pred[order[0]]
    wait_tiles(page, order[0], GALLERY_MAX)
    assert tiles(page) == order[:GALLERY_MAX]
    assert page.locator("#focus-count").inner_text() == f"{len(rows):,}"
    assert page.locator("#ex-page-text").inner_text() == f"images 1–{GALLERY_MAX} of {len(rows):,}"
    assert page.locator("#ex-page-prev").is_disabled()

    page.click("#ex-page-next")
    wait_tiles(page, order[GALLERY_MAX], GALLERY_MAX)
    assert tiles(page) == order[GALLERY_MAX:2 * GALLERY_MAX]
    assert page.locator("#ex-page-text").inner_text() == f"images {GALLERY_MAX + 1}–{2 * GALLERY_MAX} of {len(rows):,}"
    page.click("#ex-page-next")
    wait_tiles(page, order[2 * GALLERY_MAX], len(rows) - 2 * GALLERY_MAX)
    assert tiles(page) == order[2 * GALLERY_MAX:]
    assert page.locator("#ex-page-next").is_disabled()

    # the arrow keys step on past a page's first tile to the previous page's last
    page.locator("#ex-gallery .gallery-item").first.click()
    page.wait_for_function(f"() => document.querySelector('#detail-img')"
                           f" && document.querySelector('#detail-img').dataset.row === '{order[2 * GALLERY_MAX]}'")
    page.locator("body").press("ArrowLeft")
    wait_tiles(page, order[GALLERY_MAX], GALLERY_MAX)
    last = order[2 * GALLERY_MAX - 1]
    page.wait_for_function(f"() => document.querySelector('#detail-img').dataset.row === '{last}'")
    assert page.locator("#ex-gallery .gallery-item.current").get_attribute("data-row") == str(last)
    page.locator("body").press("ArrowRight")  # and back to the next page's first
    wait_tiles(page, order[2 * GALLERY_MAX], len(rows) - 2 * GALLERY_MAX)
    page.wait_for_function(f"() => document.querySelector('#detail-img').dataset.row === '{order[2 * GALLERY_MAX]}'")

    # another selection starts at the first page again
    page.locator("body").press("Escape")
    page.wait_for_function("() => document.querySelectorAll('#ex-gallery .gallery-item').length === 0")
    rows = np.asarray(drag_all(page))
    order = rows[np.argsort(m.ds.labels[rows] == m.pred[rows], kind="stable")].tolist()
    wait_tiles(page, order[0], GALLERY_MAX)
    assert page.locator("#ex-page-text").inner_text().startswith("images 1–")


def test_one_page_needs_no_pager(page, big_url, big_app):
    open_app(page, big_url)
    page.locator("#ex-flt-correct").get_by_text("Misclassified only").click()  # a few dozen images
    page.wait_for_function("() => document.querySelectorAll('#ex-gallery .gallery-item').length > 0")
    assert len(tiles(page)) <= GALLERY_MAX
    assert not page.locator("#ex-gallery-pager").is_visible()

"""An imported dataset in a real headless Chromium: the hover draws that row's 32x32 RGB image, and a
legend of more than 10 classes gives way on a phone.

The cache is ``explorer_helpers.imported_cache``; each imported image carries its row number in the
bits of its bottom row (``synthetic.imported.decode_imported_row``) and differs per channel.
"""
from __future__ import annotations


import numpy as np
import pytest

from synthetic.imported import decode_imported_row
from explorer_helpers import imported_app, imported_cache  # noqa: F401 - fixtures
from test_explorer_browser import GD, hover_isolated, open_app, tooltip_image, wait_scatter


@pytest.fixture(scope="module")
def imported_url(imported_app):
    """The imported cache's explorer, served by waitress on a free loopback port."""
    import threading

    from waitress import create_server

    server = create_server(imported_app.server, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def test_hover_draws_that_rows_rgb_image(page, imported_url, imported_app):
    ds = imported_app.explorer_store.get("own")
    open_app(page, imported_url, "?ds=own&model=given")
    page.wait_for_function(f"() => {GD.format(sel='#ex-scatter')}.layout.meta.dataset === 'own'")
    assert len(page.locator("#ex-scatter .legendtext").all_text_contents()) == 20
    pt, tip = hover_isolated(page)
    row = pt["row"]
    assert f"True: {ds.class_names[ds.labels[row]]}" in tip.inner_text() and f"Sample #{row}" in tip.inner_text()
    shot = tooltip_image(page, "RGB")
    assert shot.shape == (128, 128, 3)  # 32 x 32 at the grid's scale 4
    tile = shot[2::4, 2::4]  # the centre of each 4x4 block: the source pixels
    assert decode_imported_row(tile) == row
    assert np.abs(tile - ds.images[row].astype(np.int16)).max() <= 8  # every channel: the colours too
    assert not np.array_equal(tile[..., 0], tile[..., 2])


def test_a_hundred_class_legend_leaves_the_phone_screen_to_the_points(browser, imported_url):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        open_app(page, imported_url, "?ds=wide.grey&model=given")
        page.wait_for_function(f"() => {GD.format(sel='#ex-scatter')}.layout.showlegend === false")
        size = page.evaluate(f"() => {GD.format(sel='#ex-scatter')}._fullLayout._size")
        assert size["h"] > 300 and size["w"] > 300  # the plot keeps the screen
        open_app(page, imported_url, "?ds=mnist")  # 10 classes: the legend turns under the plot, as before
        page.wait_for_function(f"() => {{ const l = {GD.format(sel='#ex-scatter')}.layout; "
                               "return l.meta.dataset === 'mnist' && l.legend.orientation === 'h' && l.showlegend; }")
        wait_scatter(page)
    finally:
        context.close()

"""The Image map tab in Chromium (issue 24): each drawn cell is its row's image at the point's place in the
grid, the class and Explore's selection choose the images, a click opens the image in Explore, and the PNG
downloaded is the one drawn."""
from __future__ import annotations

import io
import urllib.request

import numpy as np
from PIL import Image

MAP = "document.querySelector('#im-graph .js-plotly-plot')"
#: the drawn map: the PNG's URL, and each hover point's row and data position (cell centre, in image pixels)
CELLS_JS = f"""() => {{ const gd = {MAP}, t = gd.data[0];
  return {{source: gd.layout.images[0].source, meta: gd.layout.meta,
           cells: t.customdata.map((row, i) => ({{row: row, x: t.x[i], y: t.y[i]}}))}}; }}"""


def open_map(page, url: str, query: str) -> dict:
    page.goto(url + "/?tab=imagemap&ds=mnist" + query)
    page.wait_for_function(f"() => {{ const gd = {MAP}; return gd && gd.layout && gd.layout.images "
                           "&& gd.layout.images.length && document.querySelector('#im-graph image'); }")
    return page.evaluate(CELLS_JS)


def drawn_png(url: str, drawn: dict) -> np.ndarray:
    with urllib.request.urlopen(url + drawn["source"]) as resp:
        return np.asarray(Image.open(io.BytesIO(resp.read())))


def test_each_cell_is_its_rows_image_and_a_class_keeps_that_class(page, explorer_url, explorer_app):
    ds = explorer_app.explorer_store.get("mnist")
    drawn = open_map(page, explorer_url, "")
    rows = sorted(c["row"] for c in drawn["cells"])
    assert rows == list(range(ds.n))  # all images, each once
    png = drawn_png(explorer_url, drawn)
    h, w = drawn["meta"]["tile"]
    assert png.shape == (drawn["meta"]["rows"] * h, drawn["meta"]["cols"] * w)
    for c in drawn["cells"]:
        x0, y0 = int(c["x"] - w / 2), int(c["y"] - h / 2)
        assert np.array_equal(png[y0:y0 + h, x0:x0 + w], ds.images[c["row"]]), c
    assert "the grid keeps" in page.locator("#im-info").inner_text()

    drawn = open_map(page, explorer_url, "&mapclass=3")
    assert sorted(c["row"] for c in drawn["cells"]) == np.flatnonzero(ds.labels == 3).tolist()
    assert "class 3" in page.locator("#im-info").inner_text()
    assert "mapclass=3" in page.url


def test_explores_confusion_cell_is_mapped_and_a_click_opens_an_image_in_explore(page, explorer_url, explorer_app):
    m = explorer_app.explorer_store.get("mnist").model("cnn")
    t, p = map(int, np.argwhere((m.confusion * (1 - np.eye(len(m.confusion)))) > 0)[0])  # a cell of mistakes
    drawn = open_map(page, explorer_url, f"&model=cnn&cell={t}-{p}&map=focus")
    assert sorted(c["row"] for c in drawn["cells"]) == sorted(m.rows_in_cell(t, p).tolist())
    cell = drawn["cells"][0]
    # a click on the cell's image: Explore with its detail open
    at = page.evaluate(f"""(c) => {{ const gd = {MAP}, xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis,
        r = gd.getBoundingClientRect(); return [r.left + xa._offset + xa.l2p(c.x), r.top + ya._offset + ya.l2p(c.y)]; }}""",
                       cell)
    page.mouse.move(at[0] + 1, at[1] + 1)
    page.mouse.click(at[0], at[1])
    page.wait_for_function("() => new URLSearchParams(location.search).get('tab') === 'explore'")
    page.wait_for_selector(f"#detail-img[data-row='{cell['row']}']")
    assert f"point={cell['row']}" in page.url


def test_a_sub_clusters_label_on_the_scatter_selects_exactly_its_images(page, explorer_url, explorer_app):
    """The Sub-clusters layer (issue 24 §3): a label per sub-cluster; a click selects its rows (here two
    sub-clusters made for the synthetic model: HDBSCAN itself is tested in test_subclusters.py)."""
    from urllib.parse import parse_qs, urlparse

    from explorer.state import decode_rows
    from explorer.subclusters import SubCluster

    from test_explorer_browser import wait_scatter

    m = explorer_app.explorer_store.get("fashion-mnist").model("mlp")
    six = np.flatnonzero(m.ds.labels == 6)
    made = [SubCluster(cls=6, k=1, rows=six[: len(six) // 2], accuracy=0.5, taken_for=(0, 3), exemplars=six[:2]),
            SubCluster(cls=6, k=2, rows=six[len(six) // 2:], accuracy=1.0, taken_for=None, exemplars=six[-2:])]
    made = m.cached("subclusters", lambda: made)  # as if found (test_subclusters.py uses the same two)
    page.goto(explorer_url + "/?ds=fashion-mnist&model=mlp&layers=subclusters")
    wait_scatter(page)
    label = page.locator("#ex-scatter .annotation", has_text="Shirt·2")
    label.wait_for()
    label.click()
    page.wait_for_function("() => new URLSearchParams(location.search).has('sel')")
    sel = parse_qs(urlparse(page.url).query)["sel"][0]
    assert np.array_equal(decode_rows(sel, m.ds.n), np.sort(made[1].rows))
    assert page.locator("#focus-count").inner_text() == str(len(made[1].rows))
    title = page.locator("#ex-focus-title").inner_text()  # the gallery says which
    assert f"{len(made[1].rows)} images · Shirt, sub-cluster 2 (100% right)" in title, title

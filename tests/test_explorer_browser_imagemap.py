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


# -- semantic zoom (assets/semzoom.js) ------------------------------------------------------------
CANVAS = "#ex-scatter canvas.semzoom"
#: where a row's point is on the plot area, in CSS pixels (the canvas's frame)
POINT_AT_JS = """(row) => { const gd = document.querySelector('#ex-scatter .js-plotly-plot'), h = window.explorerHover;
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  for (let c = 0; c < gd._fullData.length; c++) { const t = gd._fullData[c];
    for (let i = 0; t.x && i < t.x.length; i++) if (t.name !== 'highlight' && h.rowOf(gd, {curveNumber: c, pointNumber: i}) === row)
      return [xa.l2p(t.x[i]), ya.l2p(t.y[i])]; }
  return null; }"""


def drawn_images(page, mode: str) -> list[dict]:
    import json

    page.wait_for_function(f"() => {{ const c = document.querySelector('{CANVAS}');"
                           f" return c && c.dataset.mode === '{mode}' && c.dataset.pending === '0' && c.dataset.drawn; }}")
    return json.loads(page.get_attribute(CANVAS, "data-drawn"))


def test_zoomed_in_each_point_is_drawn_as_its_image_at_its_place(page, explorer_url, explorer_app):
    """The Images layer (issue 24 §1): an image drawn on the canvas is its row's pixels, whole-pixel enlarged,
    centred on its point; zoomed out past the limit, a few representatives; unticked, nothing."""
    from test_explorer_browser import wait_scatter

    ds = explorer_app.explorer_store.get("mnist")
    page.goto(explorer_url + "/?ds=mnist&layers=images")
    wait_scatter(page)
    drawn = drawn_images(page, "images")  # 300 points: every one is drawn
    assert sorted(d["row"] for d in drawn) == list(range(ds.n))
    # zoom in on a few: larger images, each its row's pixels at a whole scale, centred on its point
    first = drawn[0]
    at = page.evaluate(POINT_AT_JS, first["row"])
    page.evaluate("""([x, y]) => { const gd = document.querySelector('#ex-scatter .js-plotly-plot'),
        xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, cx = xa.p2l(x), cy = ya.p2l(y),
        dx = (xa.range[1] - xa.range[0]) / 8, dy = (ya.range[1] - ya.range[0]) / 8;
        return Plotly.relayout(gd, {'xaxis.range': [cx - dx, cx + dx], 'yaxis.range': [cy - dy, cy + dy]}); }""", at)
    page.wait_for_timeout(300)
    drawn = drawn_images(page, "images")
    assert 0 < len(drawn) < ds.n
    h, w = ds.images.shape[1:3]
    alone = [d for d in drawn if not any(e is not d and e["x"] < d["x"] + d["w"] + 2 and d["x"] < e["x"] + e["w"] + 2
                                         and e["y"] < d["y"] + d["h"] + 2 and d["y"] < e["y"] + e["h"] + 2 for e in drawn)]
    cw, ch = page.evaluate(f"() => {{ const c = document.querySelector('{CANVAS}'); return [c.clientWidth, c.clientHeight]; }}")
    alone = [d for d in alone if d["x"] >= 0 and d["y"] >= 0 and d["x"] + d["w"] <= cw and d["y"] + d["h"] <= ch]
    assert alone, "no image stands clear of the others and of the edges"
    for d in alone[:3]:
        scale = d["w"] // w
        assert scale >= 1 and d["w"] == scale * w and d["h"] == scale * h
        px = np.array(page.evaluate("""(d) => Array.from(document.querySelector('#ex-scatter canvas.semzoom')
            .getContext('2d').getImageData(d.x, d.y, d.w, d.h).data)""", d), dtype=np.uint8).reshape(d["h"], d["w"], 4)
        want = np.kron(ds.images[d["row"]], np.ones((scale, scale), np.uint8))
        bad = np.argwhere(px[:, :, 0] != want)
        assert not len(bad), (d, len(bad), bad[:5].tolist(), px[bad[0][0], bad[0][1]].tolist(), want[bad[0][0], bad[0][1]])
        cx, cy = page.evaluate(POINT_AT_JS, d["row"])
        assert abs(d["x"] + d["w"] / 2 - cx) <= 1 and abs(d["y"] + d["h"] / 2 - cy) <= 1
    # unticked: nothing drawn
    page.locator("#ex-layers input[value=images]").uncheck()
    page.wait_for_function(f"() => document.querySelector('{CANVAS}').dataset.mode === 'off'")

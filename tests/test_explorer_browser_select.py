"""Selections in a real headless Chromium: a box selection (rows) survives the controls that keep the
dataset, a confusion cell filters within it, Escape clears it."""
from __future__ import annotations

import numpy as np

from explorer.encoding import view_xy
from test_explorer_browser import (GD, settled_points, callbacks_completed, edge_in_gap, hover_isolated, click_isolated,
                                   open_app, wait_callbacks, wait_scatter)

GALLERY_ROWS_JS = "els => els.map(e => Number(e.dataset.row))"


def drag_box(page, sel: str = "#ex-scatter", lo: float = 0.2, hi: float = 0.45) -> list[int]:
    """Drag a box over the left part of a scatter, as a user does; the rows inside it."""
    pts = settled_points(page, sel)
    xy = np.array([[q["x"], q["y"]] for q in pts])
    x0, x1 = xy[:, 0].min() - 5, _edge(xy[:, 0], lo, hi)
    y0, y1 = xy[:, 1].min() - 5, xy[:, 1].max() + 5
    expected = sorted(q["row"] for q in pts if x0 <= q["x"] <= x1 and y0 <= q["y"] <= y1)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    return expected


def _edge(xs: np.ndarray, lo: float, hi: float) -> float:
    """A box edge in a clear gap between the points' x within quantiles lo..hi, else in a wider range (a
    smaller plot packs the points closer)."""
    for a, b in ((lo, hi), (max(lo - 0.1, 0.05), min(hi + 0.2, 0.8)), (0.05, 0.9)):
        try:
            return edge_in_gap(xs, a, b)
        except AssertionError:
            continue
    return edge_in_gap(xs, 0.02, 0.98)


def gallery_rows(page) -> list[int]:
    return sorted(page.locator("#ex-gallery .gallery-item").evaluate_all(GALLERY_ROWS_JS))


def wait_gallery(page, n: int) -> None:
    page.wait_for_function(f"() => document.querySelectorAll('#ex-gallery .gallery-item').length === {n}"
                           f" && document.querySelector('#focus-count')"
                           f" && document.querySelector('#focus-count').innerText === '{n:,}'")


HIGHLIGHT_ROWS_JS = """(sel) => {
  const cd = document.querySelector(sel + ' .js-plotly-plot').data.at(-1).customdata || [];
  if (!cd.bdata) return Array.from(cd);
  const bin = atob(cd.bdata), u8 = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
  return Array.from(new Int32Array(u8.buffer));
}"""


def highlighted_rows(page, sel: str = "#ex-scatter") -> list[int]:
    """Rows of the overlay drawn on top of a scatter (the selection, a cell)."""
    return sorted(int(r) for r in page.evaluate(HIGHLIGHT_ROWS_JS, sel))


def wait_highlight(page, n: int, sel: str = "#ex-scatter") -> None:
    page.wait_for_function(f"() => {GD.format(sel=sel)}._fullData.at(-1)._length === {n}")


def click_cell(page, t: int, p: int) -> None:
    pos = page.evaluate("""([t, p]) => { const gd = document.querySelector('#ex-confusion .js-plotly-plot');
        const fl = gd._fullLayout, b = gd.getBoundingClientRect();
        return [b.left + fl._size.l + fl.xaxis.l2p(p), b.top + fl._size.t + fl.yaxis.l2p(t)]; }""", [t, p])
    page.mouse.click(*pos)


def test_a_selection_survives_colouring_model_projection_and_tabs(page, explorer_url, explorer_app):
    open_app(page, explorer_url)
    rows = drag_box(page)
    assert 10 < len(rows) < 300
    wait_gallery(page, len(rows))
    for ctl, value, title in (("ctl-colour", "pred", None), ("ctl-model", "pixels", "Raw pixels"),
                              ("ctl-proj", "tsne", "t-SNE"), ("ctl-colour", "confidence", None)):
        done = callbacks_completed(page)
        page.locator(f"#{ctl} input[value='{value}']").check()
        if title:
            page.wait_for_function(f"() => {GD.format(sel='#ex-scatter')}.layout.title.text.includes('{title}')")
        wait_callbacks(page, since=done)  # a callback that drops the selection would have answered
        wait_gallery(page, len(rows))
        assert gallery_rows(page) == rows, ctl
        # the scatter still shows the selection: exactly those points drawn on top, the rest dimmed
        wait_highlight(page, len(rows))
        assert highlighted_rows(page) == rows
    page.locator("#tabs").get_by_text("Compare datasets").click()
    wait_scatter(page, "#cd-half-mnist")
    done = callbacks_completed(page)
    page.locator("#tabs").get_by_text("Explore").click()
    wait_callbacks(page, since=done)
    wait_gallery(page, len(rows))
    assert gallery_rows(page) == rows
    assert f"within the selection ({len(rows)} points)" in page.locator("#ex-confusion").inner_text()

    # a dataset switch is the one control that ends it
    page.locator("#ctl-dataset input[value='fashion-mnist']").check()
    page.wait_for_function("() => document.querySelectorAll('#ex-gallery .gallery-item').length === 0")


def test_a_confusion_cell_filters_within_the_selection(page, explorer_url, explorer_app):
    m = explorer_app.explorer_store.get("mnist").model("cnn")
    open_app(page, explorer_url)
    rows = drag_box(page, lo=0.3, hi=0.6)
    wait_gallery(page, len(rows))
    sel = np.asarray(rows)
    # the selection's most populated off-diagonal cell, else its biggest diagonal one
    cells = {}
    for r in sel:
        cells.setdefault((int(m.ds.labels[r]), int(m.pred[r])), []).append(int(r))
    (t, p), inside = max(cells.items(), key=lambda kv: (kv[0][0] != kv[0][1], len(kv[1])))
    assert len(inside) < len(m.rows_in_cell(t, p)) or len(inside) < len(rows)
    page.wait_for_function("() => document.querySelector('#ex-confusion').innerText.includes('within the selection')")
    click_cell(page, t, p)
    wait_gallery(page, len(inside))
    assert gallery_rows(page) == sorted(inside)
    wait_highlight(page, len(inside))
    assert highlighted_rows(page) == sorted(inside)
    title = page.locator("#ex-focus-title").inner_text()
    assert "selected on the scatter" in title and f"true {m.ds.class_names[t]}" in title
    # the matrix stays the selection's, with the cell boxed
    assert "within the selection" in page.locator("#ex-confusion").inner_text()
    assert page.evaluate("() => document.querySelector('#ex-confusion .js-plotly-plot').layout.shapes.length") == 1
    # the same cell again: back to the whole selection
    click_cell(page, t, p)
    wait_gallery(page, len(rows))
    assert gallery_rows(page) == rows


def test_a_click_marks_the_point_and_its_neighbours_on_the_scatter(page, explorer_url, explorer_app):
    m = explorer_app.explorer_store.get("mnist").model("cnn")
    open_app(page, explorer_url)
    pt, _ = hover_isolated(page)  # after first paint's hover labels, as a user's hover comes
    page.mouse.click(pt["x"], pt["y"])
    page.wait_for_selector("#nb-strip .nb-item")
    listed = page.locator("#nb-strip .nb-item").evaluate_all(GALLERY_ROWS_JS)
    shapes_js = f"() => {GD.format(sel='#ex-scatter')}.layout.shapes || []"
    page.wait_for_function(f"() => ({shapes_js})().filter(s => s.name === 'neighbour').length === {len(listed)}")
    shapes = page.evaluate(shapes_js)
    coords = view_xy(m, "umap").astype(float)  # layout items sit in the scatter's plot units
    rings = [s for s in shapes if s["name"] == "neighbour"]
    # one ring on each neighbour the detail panel lists, red where the panel outlines it red
    assert np.allclose([[s["xanchor"], s["yanchor"]] for s in rings], coords[listed], atol=1e-4)
    other = page.locator("#nb-strip .nb-item").evaluate_all("els => els.map(e => e.classList.contains('other'))")
    from explorer.figures import WRONG_COLOUR
    assert [s["line"]["color"] == WRONG_COLOUR for s in rings] == other
    # a line from the clicked point to each, and the clicked point's ring drawn last, on top
    lines = [s for s in shapes if s["name"] == "neighbour-line"]
    assert np.allclose([[s["x1"], s["y1"]] for s in lines], coords[listed], atol=1e-4)
    assert np.allclose([[s["x0"], s["y0"]] for s in lines], coords[[pt["row"]] * len(listed)], atol=1e-4)
    assert shapes[-1]["name"] == "clicked"
    assert np.allclose([shapes[-1]["xanchor"], shapes[-1]["yanchor"]], coords[pt["row"]], atol=1e-4)
    # and they are drawn: one path per shape in the plot's shape layer
    assert page.locator("#ex-scatter .shapelayer path").count() >= len(listed) * 2 + 2


def test_the_url_keeps_the_selection_the_clicked_point_and_the_zoom(page, explorer_url, browser):
    open_app(page, explorer_url, "?ds=fashion-mnist")
    rows = drag_box(page)
    wait_gallery(page, len(rows))
    pt = click_isolated(page)
    box = page.locator("#ex-scatter .js-plotly-plot").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)  # scroll to zoom in
    page.wait_for_function("() => location.search.includes('zoom=') && location.search.includes('sel=z')"
                           f" && location.search.includes('point={pt['row']}')")
    wait_callbacks(page)  # the zoom's URL update and anything after it are in
    xr = page.evaluate(f"() => {GD.format(sel='#ex-scatter')}.layout.xaxis.range.slice()")
    url = page.url
    assert len(url) < 2000

    other = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    other.goto(url)
    wait_scatter(other)
    wait_gallery(other, len(rows))
    assert gallery_rows(other) == rows
    wait_highlight(other, len(rows))
    assert other.locator("#ctl-dataset input[value='fashion-mnist']").is_checked()
    other.wait_for_selector(f"#detail-img[data-row='{pt['row']}']")
    shapes = other.evaluate(f"() => {GD.format(sel='#ex-scatter')}.layout.shapes.map(s => s.name)")
    assert shapes[-1] == "clicked"
    got = other.evaluate(f"() => {GD.format(sel='#ex-scatter')}._fullLayout.xaxis.range.slice()")
    assert np.allclose(got, xr, atol=0.05 * (xr[1] - xr[0])), (got, xr)
    other.context.close()


def test_arrow_keys_step_through_the_gallery_and_escape_clears(page, explorer_url):
    open_app(page, explorer_url)
    rows = drag_box(page)
    wait_gallery(page, len(rows))
    order = page.locator("#ex-gallery .gallery-item").evaluate_all(GALLERY_ROWS_JS)  # misclassified first
    page.mouse.click(5, 5)  # the box drawn, the pointer leaves the plot; the keys are the page's
    for key, i in (("ArrowRight", 0), ("ArrowRight", 1), ("ArrowDown", 2), ("ArrowLeft", 1)):
        page.keyboard.press(key)
        page.wait_for_selector(f"#detail-img[data-row='{order[i]}']")
    assert page.locator("#ex-gallery .gallery-item.current").get_attribute("data-row") == str(order[1])
    page.wait_for_function(f"() => ({GD.format(sel='#ex-scatter')}.layout.shapes || [])"
                           ".some(s => s.name === 'clicked')")
    page.keyboard.press("Escape")
    page.wait_for_function("() => document.querySelectorAll('#ex-gallery .gallery-item').length === 0")
    page.wait_for_selector("#ex-detail .placeholder")
    wait_highlight(page, 0)
    page.wait_for_function(f"() => ({GD.format(sel='#ex-scatter')}.layout.shapes || []).length === 0")
    assert "sel=" not in page.evaluate("location.search") and "point=" not in page.evaluate("location.search")


def test_a_drag_on_compare_datasets_pans_and_draws_no_box(page, explorer_url):
    open_app(page, explorer_url, "?tab=datasets", "#cd-half-mnist")
    sel = "#cd-half-mnist"
    page.hover(f"{sel} .js-plotly-plot")
    titles = page.eval_on_selector_all(f"{sel} .modebar-btn", "els => els.map(e => e.getAttribute('data-title'))")
    assert titles and not [t for t in titles if "select" in t.lower()], titles  # no box, no lasso
    before = page.evaluate(f"() => {GD.format(sel=sel)}._fullLayout.xaxis.range.slice()")
    box = page.locator(f"{sel} .js-plotly-plot").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 120, cy + 60, steps=8)
    page.mouse.up()
    page.wait_for_function(f"(x0) => {GD.format(sel=sel)}._fullLayout.xaxis.range[0] !== x0", arg=before[0])
    wait_callbacks(page)  # the drag's relayout has gone through the page's callbacks
    after = page.evaluate(f"() => {GD.format(sel=sel)}._fullLayout.xaxis.range.slice()")
    assert after[0] < before[0] and after[1] < before[1]  # dragged right: the view moved left
    assert page.evaluate(f"() => ({GD.format(sel=sel)}.layout.selections || []).length") == 0


def test_a_tap_on_a_touch_screen_opens_the_point(browser, explorer_url):
    """A phone (390 x 844, touch): tapping an isolated point opens it as a click does (the detail panel with
    its image, ``point=`` in the URL), with no hover before it."""
    from test_explorer_browser import isolated_point
    from test_explorer_browser_layout import explore_at

    with explore_at(browser, explorer_url, 390, 844, device_scale_factor=2) as page:
        page.locator("#ex-scatter").scroll_into_view_if_needed()
        seen, points = [], []
        for _ in range(2):  # a second tap, elsewhere, moves to that point
            pt = isolated_point(page) if not seen else _another_isolated(page, seen[-1])
            page.touchscreen.tap(pt["x"], pt["y"])
            page.wait_for_selector(f"#detail-img[data-row='{pt['row']}']")  # its image, in the sheet
            page.wait_for_function("(before) => { const p = new URLSearchParams(location.search).get('point');"
                                   " return p !== null && p !== before; }", arg=points[-1] if points else None)
            points.append(page.evaluate("() => new URLSearchParams(location.search).get('point')"))
            seen.append(pt)
        assert seen[0]["row"] != seen[1]["row"] and len(set(points)) == 2


def _another_isolated(page, not_this: dict) -> dict:
    """The most isolated point on screen other than ``not_this`` (and 40 px away from it)."""
    pts = [p for p in settled_points(page, "#ex-scatter")
           if p["row"] != not_this["row"] and abs(p["x"] - not_this["x"]) + abs(p["y"] - not_this["y"]) > 40]
    xy = np.array([[p["x"], p["y"]] for p in pts])
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    return pts[int(d.min(1).argmax())]

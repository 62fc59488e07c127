"""Explore's 3-D view in headless Chromium, as a user meets it: switch to 3-D, turn it, hover a point
and see its image, click it for its neighbours; the 3-D code is fetched only then; the URL keeps it."""
from __future__ import annotations

import numpy as np

from synthetic.cache import decode_row
from test_explorer_browser import tooltip_image, wait_callbacks, wait_hover_labels, wait_scatter

GD = "document.getElementById('ex-scatter3d')"
#: every base point's row and where it is drawn on screen, by the scene's own camera (as plotly.js's
#: gl3d/project.js places its hover label); the focus overlay duplicates base points and is left out
POINTS_3D_JS = """() => { const gd = %s, sc = gd._fullLayout.scene._scene;
  const cam = sc.glplot.cameraParams, s = sc.dataScale, r = sc.container.getBoundingClientRect(), out = [];
  const X = (m, v) => { const o = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) o[j] += m[4 * i + j] * v[i]; return o; };
  gd._fullData.forEach((t) => { if (!t.customdata || t.name === 'focus') return;
    for (let i = 0; i < t._length; i++) {
      const p = X(cam.projection, X(cam.view, X(cam.model, [t.x[i] * s[0], t.y[i] * s[1], t.z[i] * s[2], 1])));
      out.push({row: Number(t.customdata[i]), xyz: [t.x[i], t.y[i], t.z[i]],
                x: r.left + (0.5 + 0.5 * p[0] / p[3]) * r.width, y: r.top + (0.5 - 0.5 * p[1] / p[3]) * r.height});
    } });
  return out; }""" % GD


def open_3d(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(f"() => {GD} && {GD}.dataset.state === 'drawn'", timeout=60_000)


def isolated_3d(page) -> dict:
    """The drawn point farthest on screen from its nearest neighbour, within the plot."""
    pts = page.evaluate(POINTS_3D_JS)
    box = page.locator("#ex-scatter3d").bounding_box()
    inside = [p for p in pts if box["x"] + 40 < p["x"] < box["x"] + box["width"] - 220
              and box["y"] + 60 < p["y"] < box["y"] + box["height"] - 40]
    xy = np.array([[p["x"], p["y"]] for p in inside])
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    return inside[int(d.min(1).argmax())]


def hover_3d(page) -> dict:
    """Hover the most isolated point once its labels are there; the tooltip must name its row."""
    wait_hover_labels(page, GD)
    pt = isolated_3d(page)
    page.mouse.move(pt["x"] - 25, pt["y"] - 25)
    page.mouse.move(pt["x"], pt["y"], steps=4)
    tip = page.locator("#hover-tip.visible")
    tip.wait_for()
    assert int(tip.get_attribute("data-index")) == pt["row"]
    page.wait_for_function("() => document.querySelector('#hover-tip .hover-text').innerText.includes('True')")
    return pt


def test_3d_code_is_fetched_only_when_the_3d_view_is_opened_and_draws_the_3d_layout(page, explorer_url,
                                                                                       explorer_app):
    fetched = []
    page.on("response", lambda r: fetched.append((r.url, r.headers.get("content-encoding"))))
    page.goto(explorer_url + "/?tab=explore&ds=mnist&model=cnn&proj=umap")
    wait_scatter(page)
    wait_hover_labels(page)  # the work the page leaves for after its first paint is done,
    wait_callbacks(page)  # and so is every callback its load set off
    assert not [u for u, _ in fetched if "plotly-3d" in u]  # a 2-D page never loads the 3-D code
    assert page.is_visible("#ctl-dims") and not page.is_visible("#ex-plot3d-box")
    page.click("#ctl-dims label:has-text('3-D')")
    page.wait_for_function(f"() => {GD}.dataset.state === 'drawn'", timeout=60_000)
    # fetched once, compressed (brotli once the server has made it, explorer/precompress.py)
    assert [enc for u, enc in fetched if "/assets/plotly-3d.min.js" in u] in (["gzip"], ["br"])
    assert page.evaluate("() => window.Plotly3D.version") == page.evaluate("() => window.Plotly.version")
    assert not page.is_visible("#ex-scatter") and page.is_visible("#ex-plot3d-box")
    page.wait_for_function("() => location.search.includes('dims=3')")
    # every point once, where the 3-D layout puts it
    m = explorer_app.explorer_store.get("mnist").model("cnn")
    pts = page.evaluate(POINTS_3D_JS)
    rows = np.array([p["row"] for p in pts])
    assert sorted(rows.tolist()) == list(range(m.ds.n))
    assert np.allclose(np.array([p["xyz"] for p in pts]), m.coords("umap", dims=3)[rows], atol=1e-5)
    # back to 2-D: the 2-D scatter again, the URL without dims
    page.click("#ctl-dims label:has-text('2-D')")
    page.wait_for_selector("#ex-scatter", state="visible")
    page.wait_for_function("() => !location.search.includes('dims=')")
    assert not page.is_visible("#ex-plot3d-box")
    # and to 3-D again, nothing else changed: the figure drawn in the hidden box is shown, not resent
    figure_answers = []
    page.on("response", lambda r: figure_answers.append(r.status) if "_dash-update-component" in r.url
            and "ex-scatter3d-fig" in (r.request.post_data or "") else None)
    page.click("#ctl-dims label:has-text('3-D')")
    page.wait_for_selector("#ex-plot3d-box", state="visible")
    page.wait_for_function("() => location.search.includes('dims=3')")
    wait_callbacks(page)  # the figure's callback has answered, and nothing after it is on its way
    assert figure_answers == [204]  # Dash's "prevented": no figure came
    assert page.evaluate(f"() => {GD}.dataset.state") == "drawn" and len(page.evaluate(POINTS_3D_JS)) == m.ds.n


def test_turn_the_3d_view_then_hover_a_point_for_its_image_and_click_it_for_its_neighbours(page, explorer_url,
                                                                                            explorer_app):
    ds = explorer_app.explorer_store.get("mnist")
    open_3d(page, explorer_url + "/?tab=explore&ds=mnist&model=cnn&proj=umap&dims=3")
    eye = page.evaluate(f"() => Object.assign({{}}, {GD}._fullLayout.scene.camera.eye)")
    box = page.locator("#ex-scatter3d").bounding_box()
    cx, cy = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.6
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 160, cy - 40, steps=12)
    page.mouse.up()
    page.wait_for_function(f"(e) => {{ const n = {GD}._fullLayout.scene.camera.eye; "
                           "return Math.abs(n.x - e.x) + Math.abs(n.y - e.y) + Math.abs(n.z - e.z) > 0.1; }", arg=eye)
    pt = hover_3d(page)  # positions come from the turned camera
    text = page.inner_text("#hover-tip")
    assert f"Sample #{int(ds.sample_ids[pt['row']])}" in text
    assert f"True: {ds.class_names[ds.labels[pt['row']]]}" in text
    tile = tooltip_image(page)[2::4, 2::4]  # the 28x28 source pixels of the 4x enlarged image
    assert decode_row(tile) == pt["row"]
    assert np.abs(tile - ds.images[pt["row"]].astype(np.int16)).max() <= 8
    page.mouse.down()
    page.mouse.up()
    page.wait_for_function("(id) => document.querySelector('#ex-detail').innerText.includes('Sample #' + id)",
                           arg=int(ds.sample_ids[pt["row"]]))
    assert "nearest in this 3-D UMAP" in page.inner_text("#ex-detail")  # the layout drawn
    # the clicked point is ringed in 3-D and joined to its 10 nearest neighbours in the embedding
    page.wait_for_function(f"() => {GD}._fullData.some(t => t.name === 'clicked')")
    lines = page.evaluate(f"() => {GD}._fullData.filter(t => t.name.startsWith('neighbour-lines'))"
                          ".map(t => Array.from(t.x).filter(v => v !== null && !Number.isNaN(v)).length)")
    assert sum(lines) == 2 * 10  # each neighbour a segment from the point
    page.wait_for_function("() => location.search.includes('point=')")


def test_3d_shows_the_confusion_cell_and_a_missing_3d_layout_falls_back_to_pca_with_a_note(page, explorer_url,
                                                                                            explorer_app):
    m = explorer_app.explorer_store.get("mnist").model("cnn")
    open_3d(page, explorer_url + "/?tab=explore&ds=mnist&model=cnn&proj=umap&dims=3&cell=4-9")
    n_cell = len(m.rows_in_cell(4, 9))
    assert n_cell > 0
    page.wait_for_function(f"(n) => {{ const t = {GD}._fullData.find(t => t.name === 'focus'); "
                           "return t && t._length === n; }", arg=n_cell)
    # the synthetic cache has no 3-D t-SNE (as a run without --dims 3): PCA's, and the note says why
    page.click("#ctl-proj label:has-text('t-SNE')")
    page.wait_for_function(f"() => {GD}.layout.title.text.includes('PCA in 3-D')")
    assert "--dims 3" in page.inner_text("#ex-scatter3d-note")
    pts = page.evaluate(POINTS_3D_JS)
    rows = np.array([p["row"] for p in pts])
    assert np.allclose(np.array([p["xyz"] for p in pts]), m.coords("pca", dims=3)[rows], atol=1e-5)


def test_3d_view_on_a_phone_keeps_the_plot_wide(browser, explorer_url):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        open_3d(page, explorer_url + "/?tab=explore&ds=mnist&model=cnn&proj=umap&dims=3")
        box = page.locator("#ex-plot3d-box").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # within the screen: no sideways scrolling
        # the legend goes under the plot: the scene keeps the plot's width
        assert page.evaluate(f"() => {GD}._fullLayout.legend.orientation") == "h"
        assert page.locator("#ex-scatter3d").bounding_box()["width"] > 300
    finally:
        context.close()


def test_show_from_python_opens_the_3d_view(page, explorer_cache):
    import explorer

    shown = explorer.show("fashion-mnist", cache_dir=explorer_cache, mode="url", dims=3, model="cnn")
    try:
        assert "dims=3" in shown.url
        open_3d(page, shown.url)
        assert page.evaluate(f"() => {GD}.layout.meta.dataset") == "fashion-mnist"
        assert page.is_checked("#ctl-dims input[value='3']")
    finally:
        shown.stop()

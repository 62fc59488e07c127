"""The explorer in a real headless Chromium: load, hover, click, select, share a URL.

The synthetic cache (``synthetic/cache.py``) draws each image's row number into
its pixels, so a test can tell from the rendered tooltip which image is shown.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from synthetic.cache import KNOWN_CELLS, MODEL_CELLS, decode_row
from explorer.panels import pct

GD = "document.querySelector('{sel} .js-plotly-plot')"

# Points of one scatter as page coordinates: [{row, x, y, curve}] of every visible base trace.
POINTS_JS = """(sel) => {
  const gd = document.querySelector(sel + ' .js-plotly-plot');
  const fl = gd._fullLayout, box = gd.getBoundingClientRect(), out = [];
  gd._fullData.forEach((t, c) => {
    if (t.name === 'highlight' || t.visible !== true) return;
    for (let i = 0; i < t._length; i++) {
      const row = window.explorerHover.rowOf(gd, {curveNumber: c, pointNumber: i});
      out.push({row: row, curve: c, x: box.left + fl._size.l + fl.xaxis.l2p(t.x[i]),
                y: box.top + fl._size.t + fl.yaxis.l2p(t.y[i])});
    }
  });
  return out;
}"""

TRACE_LENGTHS_JS = """(sel) => {
  const gd = document.querySelector(sel + ' .js-plotly-plot');
  return gd._fullData.map(t => ({name: t.name, n: t._length || 0, opacity: t.marker ? t.marker.opacity : null}));
}"""


# -- waiting for what could happen, never for a time ------------------------------------------
#: Dash's callbacks (its store's own lists): how many have finished, and how many are on their way
CALLBACKS_JS = """() => { const c = window.store.getState().callbacks; let pending = 0;
  for (const [k, v] of Object.entries(c)) if (k !== 'stored' && k !== 'completed') pending += v.length;
  return {completed: c.completed, pending: pending}; }"""


def callbacks_completed(page) -> int:
    """How many Dash callbacks the page has finished so far."""
    return page.evaluate(CALLBACKS_JS)["completed"]


def wait_callbacks(page, since: int = -1) -> None:
    """Wait until more than ``since`` Dash callbacks have finished and none is on its way, through three
    frames in a row: whatever a callback set off by what came before could change, it has changed."""
    page.wait_for_function(f"""(since) => {{ const c = ({CALLBACKS_JS})(), key = c.pending + '/' + c.completed;
      if (c.pending || c.completed <= since) {{ window.__calm = null; return false; }}
      if (!window.__calm || window.__calm.key !== key) {{ window.__calm = {{key: key, frames: 0}}; return false; }}
      return ++window.__calm.frames >= 3; }}""", arg=since)


def wait_hover_labels(page, gd: str = "document.querySelector('#ex-scatter .js-plotly-plot')") -> None:
    """Wait until hover.js holds the labels its tooltips show for the figure ``gd`` (a JS expression): it
    fetches them once the figure is drawn, when the browser is idle; a hover before then names only the row."""
    page.wait_for_function(f"""() => {{ const gd = {gd}, m = gd && gd.layout && gd.layout.meta;
      if (!m) return false;
      const want = '/api/points/' + m.dataset + '.json' + (m.model ? '?model=' + encodeURIComponent(m.model) : '');
      return window.__jsonFetched.some(u => u.endsWith(want)); }}""")


def wait_scatter(page, sel: str = "#ex-scatter") -> None:
    page.wait_for_function(
        f"() => {{ const gd = {GD.format(sel=sel)}; return gd && gd._fullData && gd._fullData.length > 1 "
        "&& gd._fullLayout && gd._fullLayout._size && window.explorerHover; }")


def base_points(page, sel: str = "#ex-scatter") -> int:
    return sum(t["n"] for t in page.evaluate(TRACE_LENGTHS_JS, sel) if t["name"] != "highlight")


def settled_points(page, sel: str = "#ex-scatter") -> list[dict]:
    """POINTS_JS once the scatter has stopped moving: two reads 150 ms apart agree.

    A page can still resize a plot after its first drawing (a neighbour's figure arriving), and a
    drag aimed at where the points were a moment ago selects the wrong ones.
    """
    last = None
    for _ in range(60):
        now = page.evaluate(POINTS_JS, sel)
        if now == last:
            return now
        last = now
        page.wait_for_timeout(150)
    raise AssertionError(f"the points of {sel} kept moving for 9 s")


def highlight_count(page, sel: str = "#ex-scatter") -> int:
    return next(t["n"] for t in page.evaluate(TRACE_LENGTHS_JS, sel) if t["name"] == "highlight")


def isolated_point(page, sel: str = "#ex-scatter") -> dict:
    """The point farthest from its nearest neighbour on screen, so a hover cannot miss it."""
    pts = settled_points(page, sel)
    xy = np.array([[p["x"], p["y"]] for p in pts])
    d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    return pts[int(d.min(1).argmax())]


def hover_isolated(page, sel: str = "#ex-scatter"):
    """Hover the most isolated point once its labels are there; ``(point, tooltip)`` once it names the row."""
    if not page.url.startswith("file:"):  # an exported page (explorer/export_html.py) carries its labels
        wait_hover_labels(page, GD.format(sel=sel))
    pt = isolated_point(page, sel)
    page.mouse.move(pt["x"] - 30, pt["y"] - 30)
    page.mouse.move(pt["x"], pt["y"], steps=3)
    # the pointer's path may pass near another point first: wait for the tooltip to name this one
    tip = page.locator(f"#hover-tip.visible[data-index='{pt['row']}']")
    tip.wait_for()
    page.wait_for_function("() => document.querySelector('#hover-tip .hover-text').innerText.includes('True')")
    return pt, tip


def click_isolated(page, sel: str = "#ex-scatter") -> dict:
    """Hover the most isolated point (as a user sees it first), click it, and wait for its detail panel."""
    pt = isolated_point(page, sel)
    page.mouse.move(pt["x"] - 20, pt["y"] - 20)
    page.mouse.move(pt["x"], pt["y"], steps=3)
    page.wait_for_selector(f"#hover-tip.visible[data-index='{pt['row']}']")
    page.mouse.click(pt["x"], pt["y"])
    page.wait_for_selector(f"#detail-img[data-row='{pt['row']}']")
    return pt


def tooltip_image(page, mode: str = "L") -> np.ndarray:
    """The tooltip's image as drawn on screen (int16, grey ``L`` or ``RGB``), once its sprite has loaded."""
    page.wait_for_function("""() => { const u = getComputedStyle(document.querySelector('#hover-tip .hover-img'))
        .backgroundImage.match(/url\\("?(.*?)"?\\)/)[1]; const i = new Image(); i.src = u; return i.complete; }""")
    png = page.locator("#hover-tip .hover-img").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert(mode), dtype=np.int16)


def edge_in_gap(values: np.ndarray, lo: float, hi: float) -> float:
    """A box edge in the widest gap between sorted ``values`` within quantiles lo..hi.

    An edge right on a point would make the expected count depend on rounding.
    """
    v = np.sort(values)
    i0, i1 = int(lo * len(v)), int(hi * len(v))
    gaps = np.diff(v[i0:i1 + 1])
    j = i0 + int(gaps.argmax())
    assert v[j + 1] - v[j] > 4, "no clear gap for a box edge"
    return float(round((v[j] + v[j + 1]) / 2))


def open_app(page, url: str, query: str = "", scatter: str = "#ex-scatter") -> None:
    page.goto(url + "/" + query)
    wait_scatter(page, scatter)


def test_page_loads_both_datasets_with_all_points(page, explorer_url, explorer_app):
    store = explorer_app.explorer_store
    open_app(page, explorer_url)
    labels = page.locator(f"#ctl-dataset label").all_inner_texts()
    assert [s.strip() for s in labels] == ["MNIST", "Fashion-MNIST"]
    assert base_points(page) == store.get("mnist").n == 300
    assert highlight_count(page) == 0
    # legend carries the class names; the confusion matrix is drawn
    assert page.locator("#ex-scatter .legendtext").all_text_contents()[:3] == ["0", "1", "2"]
    page.wait_for_selector("#ex-confusion .heatmaplayer")

    page.get_by_text("Fashion-MNIST", exact=True).first.click()
    page.wait_for_function(f"() => {GD.format(sel='#ex-scatter')}.layout.meta.dataset === 'fashion-mnist'")
    assert base_points(page) == store.get("fashion-mnist").n
    texts = page.locator("#ex-scatter .legendtext").all_text_contents()
    assert "Shirt" in texts and "T-shirt/top" in texts

    page.locator("#tabs").get_by_text("Compare datasets").click()
    for ds in ("mnist", "fashion-mnist"):
        sel = f"#cd-half-{ds}"
        wait_scatter(page, sel)
        assert base_points(page, sel) == 300
    cards = page.locator(".report-table .card")
    assert cards.count() == 2
    assert "Most confused pairs" in cards.nth(1).text_content()
    assert "T-shirt/top ↔ Shirt: 10 errors" in cards.nth(1).inner_text()  # 3 + 7: the top pair


def test_hover_shows_that_samples_image(page, explorer_url, explorer_app):
    ds = explorer_app.explorer_store.get("mnist")
    open_app(page, explorer_url)
    pt, tip = hover_isolated(page)
    text = tip.inner_text()
    names = ds.class_names
    assert f"True: {names[ds.labels[pt['row']]]}" in text
    assert f"Predicted: {names[ds.model('cnn').pred[pt['row']]]}" in text  # the default model's
    assert f"Sample #{int(ds.sample_ids[pt['row']])}" in text
    conf = float(ds.model("cnn").confidence[pt["row"]])
    assert f"Confidence: {pct(int(conf * 1e5) / 1e5)}" in text  # the detail panel's words
    for v in (0.996, 0.995, 0.9996, 0.99999, 0.934, 1.0, 0.003):  # the browser's rule is pct's
        assert page.evaluate("(v) => window.explorerHover.pct(v)", 100 * v) == pct(v), v
    # the pixels on screen are that sample's image: read the row number drawn into it
    shot = tooltip_image(page)
    assert shot.shape == (112, 112)
    tile = shot[2::4, 2::4]  # centre of each 4x4 block: the 28x28 source pixels
    assert decode_row(tile) == pt["row"]
    assert np.abs(tile - ds.images[pt["row"]].astype(np.int16)).max() <= 8

    page.mouse.move(5, 5)
    page.wait_for_selector("#hover-tip.visible", state="hidden")


@pytest.mark.parametrize("dataset", ["fashion-mnist", "mnist"])
def test_confusion_cell_highlights_exactly_its_points(page, explorer_url, explorer_app, dataset):
    (t, p), count = next(iter(KNOWN_CELLS[dataset].items()))
    open_app(page, explorer_url, f"?ds={dataset}")
    page.wait_for_selector("#ex-confusion .heatmaplayer")
    pos = page.evaluate("""([t, p]) => { const gd = document.querySelector('#ex-confusion .js-plotly-plot');
        const fl = gd._fullLayout, b = gd.getBoundingClientRect();
        return [b.left + fl._size.l + fl.xaxis.l2p(p), b.top + fl._size.t + fl.yaxis.l2p(t)]; }""", [t, p])
    page.mouse.click(*pos)
    page.wait_for_function(f"() => {GD.format(sel='#ex-scatter')}._fullData.at(-1)._length === {count}")
    lengths = page.evaluate(TRACE_LENGTHS_JS, "#ex-scatter")
    assert all(tr["opacity"] < 0.5 for tr in lengths if tr["name"] != "highlight")  # the rest dimmed
    rows = explorer_app.explorer_store.get(dataset).model("cnn").rows_in_cell(t, p)
    page.wait_for_function(f"() => document.querySelectorAll('#ex-gallery .gallery-item').length === {count}")
    shown = sorted(int(r) for r in page.locator("#ex-gallery .gallery-item").evaluate_all(
        "els => els.map(e => e.dataset.row)"))
    assert shown == rows.tolist()
    assert page.locator("#focus-count").inner_text() == str(count)
    page.wait_for_function(f"() => location.search.includes('cell={t}-{p}')")


def test_box_selection_fills_gallery(page, explorer_url, explorer_app):
    open_app(page, explorer_url)
    pts = settled_points(page, "#ex-scatter")
    xy = np.array([[q["x"], q["y"]] for q in pts])
    # a box around the left third of the plot: several clusters, a known set of points
    x0, x1 = xy[:, 0].min() - 5, edge_in_gap(xy[:, 0], 0.2, 0.45)
    y0, y1 = xy[:, 1].min() - 5, xy[:, 1].max() + 5
    expected = sorted(q["row"] for q in pts if x0 <= q["x"] <= x1 and y0 <= q["y"] <= y1)
    assert 10 < len(expected) < 300
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    page.wait_for_function(
        f"() => document.querySelectorAll('#ex-gallery .gallery-item').length === {len(expected)}")
    shown = sorted(int(r) for r in page.locator("#ex-gallery .gallery-item").evaluate_all(
        "els => els.map(e => e.dataset.row)"))
    assert shown == expected
    assert page.locator("#focus-count").inner_text() == str(len(expected))
    assert f"within the selection ({len(expected)} points)" in page.locator("#ex-confusion").inner_text()
    # the CSV holds the same rows
    with page.expect_download() as dl:
        page.click("#ex-download-btn")
    lines = open(dl.value.path()).read().strip().splitlines()
    assert lines[0].startswith("row,index,true,true_name,predicted")
    assert sorted(int(line.split(",")[0]) for line in lines[1:]) == expected


def test_click_point_shows_detail_with_neighbours(page, explorer_url, explorer_app):
    ds = explorer_app.explorer_store.get("mnist")
    open_app(page, explorer_url)
    pt = isolated_point(page)
    page.mouse.move(pt["x"] - 20, pt["y"] - 20)
    page.mouse.move(pt["x"], pt["y"], steps=3)
    page.wait_for_selector(f"#hover-tip.visible[data-index='{pt['row']}']")  # as a user sees it first
    page.mouse.click(pt["x"], pt["y"])
    page.wait_for_selector("#detail-img")
    assert int(page.get_attribute("#detail-img", "data-row")) == pt["row"]
    nb = page.locator("#nb-strip .nb-item")
    expected = [int(r) for r in ds.model("cnn").knn[pt["row"]][:10]]
    assert [int(r) for r in nb.evaluate_all("els => els.map(e => e.dataset.row)")] == expected
    other = [int(ds.labels[r]) != int(ds.labels[pt["row"]]) for r in expected]
    marked = nb.evaluate_all("els => els.map(e => e.classList.contains('other'))")
    assert marked == other
    assert page.locator(".detail .bar-row").count() == 3


def test_url_restores_view_and_follows_controls(page, explorer_url):
    open_app(page, explorer_url, "?tab=explore&ds=fashion-mnist&model=pixels&proj=pca&colour=pred&cell=6-2")
    page.wait_for_function(f"() => {GD.format(sel='#ex-scatter')}.layout.title.text"
                           ".includes('Raw pixels (k-NN) · PCA')")
    assert "Fashion-MNIST" in page.evaluate(f"() => {GD.format(sel='#ex-scatter')}.layout.title.text")
    for ctl, value in (("ctl-dataset", "fashion-mnist"), ("ctl-model", "pixels"), ("ctl-proj", "pca"),
                       ("ctl-colour", "pred")):
        assert page.locator(f"#{ctl} input[value='{value}']").is_checked()
    # the cell is the pixels model's: Shirt predicted Pullover (the CNN has none there)
    page.wait_for_function(f"() => {GD.format(sel='#ex-scatter')}._fullData.at(-1)._length === "
                           f"{MODEL_CELLS['pixels']['fashion-mnist'][(6, 2)]}")
    # colouring by predicted class: the legend lists predicted classes
    assert "Shirt" in page.locator("#ex-scatter .legendtext").all_text_contents()
    page.locator("#ctl-proj input[value='tsne']").check()
    page.wait_for_function("() => location.search.includes('proj=tsne')")
    assert "cell=6-2" in page.evaluate("location.search") and "model=pixels" in page.evaluate("location.search")


def test_compare_projections_links_selection(page, explorer_url):
    open_app(page, explorer_url, "?tab=projections&ds=mnist&model=cnn&proj=umap&model2=cnn&proj2=tsne",
             "#cp-left")
    wait_scatter(page, "#cp-right")
    assert base_points(page, "#cp-left") == base_points(page, "#cp-right") == 300
    pts = settled_points(page, "#cp-left")
    xy = np.array([[q["x"], q["y"]] for q in pts])
    x0, x1 = edge_in_gap(xy[:, 0], 0.55, 0.8), xy[:, 0].max() + 5
    y0, y1 = xy[:, 1].min() - 5, xy[:, 1].max() + 5
    expected = sorted(q["row"] for q in pts if x0 <= q["x"] <= x1 and y0 <= q["y"] <= y1)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=8)
    page.mouse.up()
    page.wait_for_function(f"() => {GD.format(sel='#cp-right')}._fullData.at(-1)._length === {len(expected)}")
    right = page.evaluate(f"""() => {{ const gd = {GD.format(sel='#cp-right')};
        return Array.from(window.explorerHover.rowOf ? gd._fullData.at(-1).customdata : []); }}""")
    assert sorted(int(r) for r in right) == expected
    assert f"{len(expected)} selected" in page.locator("#cp-count").inner_text()


# -- training dynamics -------------------------------------------------------------------
DY = "#dy-half-mnist"
DY_GD = f"document.querySelector('{DY} .dynamics-scatter .js-plotly-plot')"
# x, y of snapshot image k as the figure holds them now (typed arrays decoded by Plotly)
DY_XY_JS = f"""(k) => {{ const t = {DY_GD}._fullData[0]; return [Number(t.x[k]), Number(t.y[k])]; }}"""


def open_dynamics(page, url: str, query: str = "") -> None:
    page.goto(url + "/?tab=dynamics" + query)
    page.wait_for_function(f"() => {{ const gd = {DY_GD}; return gd && gd._fullData && gd._fullData.length > 1 "
                           "&& window.explorerDynamics; }")


def click_mark(page, label: str) -> None:
    """Click the slider's track above the mark ``label``, as a user does."""
    mark = page.locator(".dy-slider").get_by_text(label, exact=True).bounding_box()
    track = page.locator(".dy-slider [role=slider]").bounding_box()
    page.mouse.click(mark["x"] + mark["width"] / 2, track["y"] + track["height"] / 2)


def test_dynamics_slider_moves_points_and_shows_that_frames_accuracy(page, explorer_url, explorer_app):
    ds = explorer_app.explorer_store.get("mnist")
    dyn = ds.model("cnn").dynamics
    open_dynamics(page, explorer_url)
    k = int(np.flatnonzero(dyn.rows >= 0)[0])
    before = page.evaluate(DY_XY_JS, k)
    assert before == pytest.approx(dyn.frames[0, k].tolist(), abs=1e-4)
    stats = page.locator("#dy-half-mnist .dy-stats")
    # before training: the tracked images' own accuracy, which says so (issue 26)
    assert stats.inner_text().startswith(f"untrained · test accuracy 10.13% of {dyn.m} tracked test images")

    click_mark(page, "epoch 1")  # step 3: the frame taken after the first epoch
    page.wait_for_function(f"() => {DY_GD}.getAttribute('data-frame') === '3'")
    after = page.evaluate(DY_XY_JS, k)
    assert after == pytest.approx(dyn.frames[3, k].tolist(), abs=1e-4) and after != pytest.approx(before)
    val_acc = json.loads((ds.model("cnn").model_dir / "history.json").read_text())["val_accuracy"][0]
    assert dyn.rows_json[3]["test_accuracy"] == val_acc
    page.wait_for_function("() => document.querySelector('#dy-half-mnist .dy-stats').innerText.startsWith('epoch 1')")
    assert f"test accuracy {100 * val_acc:.2f}% of {ds.n} test images" in stats.inner_text()
    assert "4↔9 confusions" in stats.inner_text()
    page.wait_for_function("() => location.search.includes('frame=3')")
    # the chart marks the frame: its ring sits at epoch 1 and that frame's accuracy
    ring = page.evaluate("() => { const gd = document.querySelector('#dy-half-mnist .dy-chart .js-plotly-plot');"
                         " return [gd.data[2].x[0], gd.data[2].y[0]]; }")
    assert ring == pytest.approx([1.0, 100 * val_acc])
    # hover: the tooltip shows that snapshot image, with its classes at this frame
    pos = page.evaluate(f"""(k) => {{ const gd = {DY_GD}, fl = gd._fullLayout, b = gd.getBoundingClientRect(),
        t = gd._fullData[0]; return [b.left + fl._size.l + fl.xaxis.l2p(t.x[k]), b.top + fl._size.t + fl.yaxis.l2p(t.y[k])]; }}""", k)
    page.mouse.move(pos[0] - 20, pos[1] - 20)
    page.mouse.move(pos[0], pos[1], steps=3)
    tip = page.locator("#hover-tip.visible")
    tip.wait_for()
    row = int(tip.get_attribute("data-index"))
    assert row in dyn.rows.tolist()
    kk = dyn.rows.tolist().index(row)
    assert f"True: {ds.class_names[dyn.labels[kk]]}" in tip.inner_text()
    assert f"Predicted: {ds.class_names[dyn.pred[3, kk]]}" in tip.inner_text()


def test_dynamics_play_animates_to_the_last_frame(page, explorer_url, explorer_app):
    dyn = explorer_app.explorer_store.get("mnist").model("cnn").dynamics
    open_dynamics(page, explorer_url, "&frame=1&colour=pred")
    page.wait_for_function("() => location.search.includes('frame=1')")
    # record what the scatter goes through: frames shown, and moments between two frames
    page.evaluate(f"""() => {{ const gd = {DY_GD}; window.__seen = {{frames: [], moving: 0}};
        new MutationObserver(() => {{ if (gd.getAttribute('data-moving') === '1') window.__seen.moving++;
            const f = gd.getAttribute('data-frame'); if (f !== null && window.__seen.frames.at(-1) !== f)
            window.__seen.frames.push(f); }}).observe(gd, {{attributes: true}}); }}""")
    page.evaluate("""() => { window.__pushed = []; const push = history.pushState.bind(history);
        history.pushState = (s, t, u) => { window.__pushed.push(String(u)); return push(s, t, u); }; }""")
    before = page.evaluate("() => history.length")
    page.click("#dy-play")
    # the label flips after a server round trip, which can take a moment on a loaded machine
    page.wait_for_function("() => document.querySelector('#dy-play').innerText.includes('Pause')")
    page.wait_for_function(f"() => {DY_GD}.getAttribute('data-frame') === '{dyn.n_frames - 1}'", timeout=20_000)
    page.wait_for_function("() => document.querySelector('#dy-play').innerText.includes('Play')")
    seen = page.evaluate("() => window.__seen")
    assert seen["moving"] > 0  # interpolated between frames, not jumped
    assert seen["frames"] == [str(f) for f in range(2, dyn.n_frames)]  # every frame in turn
    xy = page.evaluate(DY_XY_JS, 0)
    assert xy == pytest.approx(dyn.frames[-1, 0].tolist(), abs=1e-4)
    # coloured by the prediction at the last frame
    colour = page.evaluate(f"() => {DY_GD}.data[0].marker.color[0]")
    from explorer.figures import PALETTE
    assert colour == PALETTE[int(dyn.pred[-1, 0])]
    page.wait_for_function(f"() => location.search.includes('frame={dyn.n_frames - 1}')")
    wait_callbacks(page)  # every callback the play set off has answered: a late URL update would be in
    # one play is one step in the history (back returns to where play started), not one per frame
    assert page.evaluate("() => history.length") <= before + 1, page.evaluate("() => window.__pushed")


def test_dynamics_message_for_a_model_without_snapshots(page, explorer_url):
    open_dynamics(page, explorer_url)
    half = page.locator("#dy-half-fashion-mnist")
    assert "No per-epoch snapshots for this model: retrain with `python -m pipeline all`" in half.inner_text()
    assert half.locator(".js-plotly-plot").count() == 0
    # the rest of the app still works
    page.locator("#tabs").get_by_text("Explore").click()
    wait_scatter(page)
    assert base_points(page) == 300


def test_hostile_url_shows_defaults_and_bad_state_shows_a_message(page, explorer_url):
    open_app(page, explorer_url, "?ds=%F0%9F%92%A3&cell=99-3&frame=-4&colour=" + "x" * 3000)
    assert page.locator("#ctl-dataset input[value='mnist']").is_checked()
    alert = page.locator("#alert")  # first what the URL gave was ignored (issue 26; test_explorer_browser_models)
    alert.wait_for(state="visible")
    assert "ignored ds=💣 (no such dataset in this cache; showing ds=mnist)" in alert.inner_text()
    close_alert(page)
    # a selection store the page would never write: the alert says so, the page lives on
    page.evaluate("() => window.dash_clientside.set_props('ex-selection', {data: {ds: 'mnist', rows: [-1, 5]}})")
    alert.wait_for(state="visible")
    assert "selection rows must be from 0 to 299" in alert.inner_text()
    close_alert(page)


def close_alert(page) -> None:
    """Close the alert until it stays closed: each callback that reads a bad value says so, and a slow one (the
    host loaded) may show it again once closed."""
    alert = page.locator("#alert")
    for _ in range(6):
        if alert.is_visible():
            page.click("#alert-close")
        page.wait_for_timeout(1500)
        if not alert.is_visible():
            break
    assert not alert.is_visible()


def test_no_toolbar_button_leads_off_the_machine(page, explorer_url):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(explorer_url + "/")
    wait_scatter(page)
    page.hover("#ex-scatter .js-plotly-plot")  # the toolbar shows on hover
    titles = page.eval_on_selector_all("#ex-scatter .modebar-btn", "els => els.map(e => e.getAttribute('data-title'))")
    assert titles, "the scatter has a toolbar"
    assert not [t for t in titles if any(w in t.lower() for w in ("share", "cloud", "studio", "edit"))], titles
    png = [t for t in titles if "png" in t.lower()]
    assert png, titles
    with page.expect_download() as download:
        page.click(f"#ex-scatter .modebar-btn[data-title='{png[0]}']")
    assert download.value.suggested_filename == "embedding-explorer.png"
    with open(download.value.path(), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"  # drawn in the browser, from nothing but the page
    assert requests and all(u.startswith(explorer_url) or u.startswith(("data:", "blob:")) for u in requests), \
        [u for u in requests if not u.startswith(explorer_url)]

"""The Layers tab in Chromium (issue 24 §2): the slider shows each layer's frame of the framed images, a
clicked image is followed (ringed red at its place in every layer), Explore's selection is followed too,
and the separability-by-depth chart draws every dataset's curve."""
from __future__ import annotations

import numpy as np

GD = "document.querySelector('.depth-scatter .js-plotly-plot')"
#: trace ``i``'s points as drawn now: [[row, x, y], ...]
TRACE_JS = f"""(i) => {{ const t = {GD}._fullData[i];
  return Array.from({{length: t._length}}, (_, k) => [Number(t.customdata[k]), Number(t.x[k]), Number(t.y[k])]); }}"""


def open_layers(page, url: str, query: str = "") -> None:
    page.goto(url + "/?tab=layers&ds=mnist&model=cnn" + query)
    page.wait_for_function(f"() => {{ const gd = {GD}; return gd && gd._fullData && gd._fullData.length > 3; }}")


def at_layer(page, step: int) -> None:
    """Move the slider with the keyboard to ``step`` and wait until the points have arrived there."""
    handle = page.locator("#ly-frame [role='slider']")
    handle.focus()
    now = int(handle.get_attribute("aria-valuenow"))
    for _ in range(abs(step - now)):
        handle.press("ArrowRight" if step > now else "ArrowLeft")
    page.wait_for_function(f"() => {{ const gd = {GD}; return gd.getAttribute('data-layer') === '{step}' "
                           "&& !gd.hasAttribute('data-moving'); }")


def test_the_slider_shows_each_layers_frame_and_a_clicked_image_follows(page, explorer_url, explorer_app):
    m = explorer_app.explorer_store.get("mnist").model("cnn")
    depth = m.depth
    frames = depth.frames["umap"]
    open_layers(page, explorer_url)
    marks = page.locator("#ly-frame").inner_text()
    assert all(x["title"] in marks for x in depth.layers)
    order = None
    for step in (1, 2, 3, 4, 0):
        at_layer(page, step)
        drawn = np.array(page.evaluate(TRACE_JS, 0))
        if order is None:
            order = np.searchsorted(depth.rows, drawn[:, 0].astype(np.int64))
            assert np.array_equal(depth.rows[order], drawn[:, 0])  # the framed images, each once
        np.testing.assert_allclose(drawn[:, 1:], frames[step][order], atol=1e-3)
        assert depth.layers[step]["title"] in page.locator("#ly-info").inner_text()
        if step:  # the URL keeps the layer shown
            page.wait_for_function(f"() => location.search.includes('depth={step}')")

    # a click on an image: it is followed, ringed red at its own place in every layer
    at_layer(page, 2)
    k = int(np.argmax(np.linalg.norm(frames[2] - frames[2].mean(0), axis=1)))  # an outlying image, easy to hit
    row = int(depth.rows[k])
    xy = page.evaluate(f"""(p) => {{ const gd = {GD}, xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis,
        r = gd.getBoundingClientRect(); return [r.left + xa._offset + xa.l2p(p[0]), r.top + ya._offset + ya.l2p(p[1])]; }}""",
                       [float(frames[2][k, 0]), float(frames[2][k, 1])])
    page.mouse.move(xy[0] - 20, xy[1] - 20)
    page.mouse.move(xy[0], xy[1], steps=4)
    page.mouse.click(xy[0], xy[1])
    last = len(page.evaluate(f"() => {GD}._fullData.map(t => t.name)")) - 1
    page.wait_for_function(f"() => {GD}._fullData[{last}]._length === 1")
    assert page.evaluate(TRACE_JS, last)[0][0] == row
    page.wait_for_function(f"() => document.querySelector('#ly-info').innerText.includes("
                           f"'sample #{int(m.ds.sample_ids[row])}')")
    for step in (0, 4, 1):
        at_layer(page, step)
        ring = page.evaluate(TRACE_JS, last)[0]
        np.testing.assert_allclose(ring[1:], frames[step][k], atol=1e-3)


def test_explores_selection_is_followed_through_the_layers_and_the_chart_compares_datasets(page, explorer_url,
                                                                                         explorer_app):
    m = explorer_app.explorer_store.get("mnist").model("cnn")
    depth = m.depth
    t, p = map(int, np.argwhere((m.confusion * (1 - np.eye(len(m.confusion)))) > 0)[0])
    cell = m.rows_in_cell(t, p)
    open_layers(page, explorer_url, f"&cell={t}-{p}")
    followed = page.evaluate(f"() => {GD}._fullData.length") - 2
    page.wait_for_function(f"() => {GD}._fullData[{followed}]._length === {len(cell)}")
    at_layer(page, 3)
    drawn = np.array(page.evaluate(TRACE_JS, followed))
    assert sorted(drawn[:, 0].astype(int).tolist()) == sorted(cell.tolist())
    order = drawn[:, 0].astype(np.int64)
    np.testing.assert_allclose(drawn[:, 1:], depth.placed("umap", order)[3], atol=1e-3)
    assert f"Following {len(cell)} images of Explore's selection" in page.locator("#ly-info").inner_text()
    names = page.evaluate("() => document.querySelector('#ly-chart .js-plotly-plot').data.map(t => t.name)")
    assert names == ["MNIST", "Fashion-MNIST"]


def test_play_walks_the_layers_to_the_logits_and_stops(page, explorer_url, explorer_app):
    depth = explorer_app.explorer_store.get("mnist").model("cnn").depth
    last = len(depth.layers) - 1
    open_layers(page, explorer_url)
    page.locator("#ly-play").click()
    page.wait_for_function("() => document.querySelector('#ly-play').innerText.includes('Pause')")
    page.wait_for_function(f"() => {GD}.getAttribute('data-layer') === '{last}' && !{GD}.hasAttribute('data-moving')"
                           " && document.querySelector('#ly-play').innerText.includes('Play')", timeout=30_000)
    assert depth.layers[last]["title"] in page.locator("#ly-info").inner_text()
    page.wait_for_function(f"() => location.search.includes('depth={last}')")  # where play stopped


def test_a_damaged_layers_folder_is_said_on_the_tab_and_the_other_dataset_still_charted(browser, tmp_path):
    """The page names the damaged folder and the fix; the chart keeps the datasets it can read."""
    import shutil
    import threading

    from waitress import create_server

    from core.store import ArtifactStore
    from explorer.app import create_app
    from synthetic.cache import write_synthetic_cache

    write_synthetic_cache(tmp_path, n=300, seed=0)
    store = ArtifactStore(tmp_path)
    folder = store.resolve(store.read_current()["datasets"]["mnist"]["models"]["cnn"]["layers"])
    np.save(folder / "umap.npy", np.zeros((2, 3, 2), np.float32))  # not what its record says
    server = create_server(create_app(store).server, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    page = browser.new_page()
    try:
        page.goto(f"http://127.0.0.1:{server.effective_port}/?tab=layers&ds=mnist&model=cnn")
        page.wait_for_function("() => { const info = document.querySelector('#ly-info');"
                               " return info && info.innerText.includes('verify --repair'); }")
        assert str(folder.name) in page.locator("#ly-info").inner_text()
        names = page.evaluate("() => document.querySelector('#ly-chart .js-plotly-plot').data.map(t => t.name)")
        assert names == ["Fashion-MNIST"]
    finally:
        page.close()
        server.close()
        shutil.rmtree(tmp_path, ignore_errors=True)

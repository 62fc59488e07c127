"""The model axis in a real headless Chromium: switch the model, see another layout and colours;
compare two models with a selection linked between them."""
from __future__ import annotations

import numpy as np

from synthetic.cache import MODEL_CELLS
from test_explorer_browser import GD, settled_points, edge_in_gap, isolated_point, open_app, wait_scatter

# Row -> [x, y] in data coordinates (from the plot units Plotly holds, by layout.meta.grid) of every
# base point of a scatter, as Plotly holds them now.
DATA_JS = """(sel) => {
  const gd = document.querySelector(sel + ' .js-plotly-plot'), out = {}, g = gd.layout.meta.grid;
  gd._fullData.forEach((t, c) => {
    if (t.name === 'highlight') return;
    for (let i = 0; i < t._length; i++)
      out[window.explorerHover.rowOf(gd, {curveNumber: c, pointNumber: i})] =
        [g.x0 + g.step * Number(t.x[i]), g.y0 + g.step * Number(t.y[i])];
  });
  return out;
}"""
ATOL = 2e-3  # half a step of the plot units (explorer.encoding) is at most about 2e-4 in the synthetic layouts
# Rows of each base trace (one per colour group).
TRACE_ROWS_JS = """(sel) => {
  const gd = document.querySelector(sel + ' .js-plotly-plot');
  return gd._fullData.filter(t => t.name !== 'highlight').map((t, c) =>
    Array.from({length: t._length}, (_, i) => window.explorerHover.rowOf(gd, {curveNumber: c, pointNumber: i})));
}"""


def drawn_coords(page, sel: str, n: int) -> np.ndarray:
    d = page.evaluate(DATA_JS, sel)
    return np.array([d[str(r)] for r in range(n)], dtype=np.float32)


def wait_model(page, sel: str, model: str) -> None:
    page.wait_for_function(f"() => {{ const gd = {GD.format(sel=sel)}; return gd && gd.layout.meta "
                           f"&& gd.layout.meta.model === '{model}' && gd._fullData; }}")


def test_a_url_the_page_cannot_show_says_what_it_ignored_and_shows_the_view(page, explorer_url):
    """Issue 26: the defaults opened without a word, and the address bar kept the query not shown."""
    open_app(page, explorer_url, "?ds=mnist&model=resnet&colour=purple&tab=nope&cell=99-3&frame=-4&proj=" + "x" * 300)
    wait_model(page, "#ex-scatter", "cnn")
    alert = page.locator("#alert")
    alert.wait_for(state="visible")
    said = alert.inner_text()
    assert "ignored model=resnet (MNIST has no such model; showing model=cnn)" in said
    assert "ignored colour=purple (no such colouring; showing colour=true)" in said and "ignored tab=nope" in said
    assert "ignored cell=99-3" in said and "ignored frame=-4" in said and "ignored proj=" + "x" * 40 + "…" in said
    page.wait_for_function("() => location.search.includes('model=cnn') && location.search.includes('proj=umap')")
    search = page.evaluate("() => location.search")
    assert not any(w in search for w in ("resnet", "purple", "nope", "cell=", "xxx"))
    assert "tab=explore" in search and "colour=true" in search
    assert page.locator("#ctl-model input[value='cnn']").is_checked()


def test_switching_the_model_redraws_scatter_colours_and_confusion(page, explorer_url, explorer_app):
    ds = explorer_app.explorer_store.get("mnist")
    open_app(page, explorer_url, "?ds=mnist&colour=pred")
    wait_model(page, "#ex-scatter", "cnn")
    assert page.locator("#ctl-model input[value='cnn']").is_checked()
    labels = [s.strip() for s in page.locator("#ctl-model label").all_inner_texts()]
    assert labels == ["Raw pixels (k-NN)", "Dense network", "CNN"]
    assert np.allclose(drawn_coords(page, "#ex-scatter", ds.n), ds.model("cnn").coords("umap"), atol=ATOL)

    page.locator("#ctl-model label", has_text="Raw pixels (k-NN)").click()
    wait_model(page, "#ex-scatter", "pixels")
    pixels = ds.model("pixels")
    assert np.allclose(drawn_coords(page, "#ex-scatter", ds.n), pixels.coords("umap"), atol=ATOL)
    assert "Raw pixels (k-NN)" in page.evaluate(f"() => {GD.format(sel='#ex-scatter')}.layout.title.text")
    # coloured by the pixels model's predictions
    groups = page.evaluate(TRACE_ROWS_JS, "#ex-scatter")
    assert [sorted(g) for g in groups] == [np.flatnonzero(pixels.pred == c).tolist() for c in range(10)]
    page.wait_for_function("() => location.search.includes('model=pixels')")
    # its confusion matrix: exactly the pixels model's known mistakes
    page.wait_for_function("() => document.querySelector('#ex-confusion .js-plotly-plot').layout.title.text"
                           ".includes('Raw pixels')")
    off = page.evaluate("() => document.querySelector('#ex-confusion .js-plotly-plot').data[1].z")
    cells = {(t, p): v for t, row in enumerate(off) for p, v in enumerate(row) if v}
    assert cells == MODEL_CELLS["pixels"]["mnist"]
    # the hover label says what this model predicted
    pt = isolated_point(page)
    page.mouse.move(pt["x"] - 30, pt["y"] - 30)
    page.mouse.move(pt["x"], pt["y"], steps=3)
    page.wait_for_selector(f"#hover-tip.visible[data-index='{pt['row']}']")
    page.wait_for_function("() => document.querySelector('#hover-tip .hover-text').innerText.includes('Predicted')")
    assert f"Predicted: {ds.class_names[pixels.pred[pt['row']]]}" in page.locator("#hover-tip").inner_text()
    # clicked: neighbours from the pixels model's graph
    page.mouse.click(pt["x"], pt["y"])
    page.wait_for_selector("#nb-strip .nb-item")
    shown = [int(r) for r in page.locator("#nb-strip .nb-item").evaluate_all("els => els.map(e => e.dataset.row)")]
    assert shown == pixels.knn[pt["row"]][:10].tolist()


def test_compare_view_links_a_selection_between_two_models(page, explorer_url, explorer_app):
    ds = explorer_app.explorer_store.get("mnist")
    open_app(page, explorer_url, "?tab=projections&ds=mnist&model=cnn&proj=umap&proj2=umap", "#cp-left")
    wait_model(page, "#cp-right", "pixels")  # the right view opens on another model
    assert page.locator("#ctl-model2 input[value='pixels']").is_checked()
    page.locator("#ctl-model2 label", has_text="Dense network").click()
    wait_model(page, "#cp-right", "mlp")
    wait_scatter(page, "#cp-right")
    mlp = ds.model("mlp")
    assert np.allclose(drawn_coords(page, "#cp-right", ds.n), mlp.coords("umap"), atol=ATOL)
    page.wait_for_function("() => location.search.includes('model2=mlp')")

    pts = settled_points(page, "#cp-left")
    xy = np.array([[q["x"], q["y"]] for q in pts])
    x0, x1 = edge_in_gap(xy[:, 0], 0.55, 0.8), xy[:, 0].max() + 5
    y0, y1 = xy[:, 1].min() - 5, xy[:, 1].max() + 5
    expected = sorted(q["row"] for q in pts if x0 <= q["x"] <= x1 and y0 <= q["y"] <= y1)
    assert 10 < len(expected) < ds.n
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=8)
    page.mouse.up()
    page.wait_for_function(f"() => {GD.format(sel='#cp-right')}._fullData.at(-1)._length === {len(expected)}")
    overlay = page.evaluate(f"""() => {{ const t = {GD.format(sel='#cp-right')}._fullData.at(-1);
        const g = {GD.format(sel='#cp-right')}.layout.meta.grid;
        return {{rows: Array.from(t.customdata), x: Array.from(t.x).map(v => g.x0 + g.step * Number(v))}}; }}""")
    assert sorted(int(r) for r in overlay["rows"]) == expected
    # highlighted where the dense network put those images, not where the CNN did
    rows = np.array(overlay["rows"], dtype=int)
    assert np.allclose(overlay["x"], mlp.coords("umap")[rows, 0], atol=ATOL)
    assert f"{len(expected)} selected" in page.locator("#cp-count").inner_text()

    table = page.locator("#models-table")
    table.wait_for()
    assert table.locator("tbody tr").count() == 3
    assert "left" in table.locator("tr[data-model='cnn']").get_attribute("class")
    assert "right" in table.locator("tr[data-model='mlp']").get_attribute("class")

"""The scatter's layers in a real headless Chromium: ticking Class labels writes each class's name at
the median of its points; Density lays a map under them; neither moves a trace."""
from __future__ import annotations

import numpy as np

from explorer.encoding import to_plot, view_grid
from test_explorer_browser import GD, open_app

SCATTER = GD.format(sel="#ex-scatter")


def test_class_labels_appear_at_the_medians_and_density_under_the_points(page, explorer_url, explorer_app):
    m = explorer_app.explorer_store.get("mnist").model("cnn")
    open_app(page, explorer_url)
    n_traces = page.evaluate(f"() => {SCATTER}.data.length")
    assert page.evaluate(f"() => ({SCATTER}.layout.annotations || []).length") == 0
    page.locator("#ex-layers input[value='labels']").check()
    page.wait_for_function(f"() => ({SCATTER}.layout.annotations || []).length === {len(m.ds.class_names)}")
    # drawn: one text per class on the plot, its class's name
    texts = page.locator("#ex-scatter .annotation-text").evaluate_all("els => els.map(e => e.textContent)")
    assert sorted(texts) == sorted(m.ds.class_names)
    xy = to_plot(m.coords("umap"), view_grid(m, "umap"))  # the scatter's plot units
    for a in page.evaluate(f"() => {SCATTER}.layout.annotations"):
        c = m.ds.class_names.index(a["text"])
        assert np.allclose([a["x"], a["y"]], np.median(xy[m.ds.labels == c], axis=0), atol=1e-4)
    page.locator("#ex-layers input[value='density']").check()
    page.wait_for_function(f"() => ({SCATTER}.layout.images || []).length === 1")
    page.wait_for_selector("#ex-scatter .layer-subplot .imagelayer image")  # under the points, in the plot area
    assert page.evaluate(f"() => {SCATTER}.data.length") == n_traces
    # another projection: the labels follow its layout
    page.locator("#ctl-proj input[value='tsne']").check()
    c0 = to_plot(np.median(m.coords("tsne")[m.ds.labels == 0], axis=0), view_grid(m, "tsne"))  # plot units
    page.wait_for_function(f"""() => {{ const a = ({SCATTER}.layout.annotations || []).find(a => a.text === '0');
        return a && Math.abs(a.x - {c0[0]}) < 1e-4 && Math.abs(a.y - {c0[1]}) < 1e-4; }}""")
    # a shared link keeps them
    page.wait_for_function("() => location.search.includes('layers=labels%2Cdensity')")
    page.goto(page.url)
    page.wait_for_function(f"() => {SCATTER} && ({SCATTER}.layout.annotations || []).length === {len(m.ds.class_names)}"
                           f" && ({SCATTER}.layout.images || []).length === 1")
    assert page.locator("#ex-layers input[value='labels']").is_checked()
    page.locator("#ex-layers input[value='labels']").uncheck()
    page.wait_for_function(f"() => ({SCATTER}.layout.annotations || []).length === 0")

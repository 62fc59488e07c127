"""Label issues and faithfulness in a real headless Chromium: open the tab, see the planted suspects
in order, click one and land in Explore with it ringed and its detail open; colour by faithfulness."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from explorer.encoding import view_xy
from synthetic.cache import MODEL_CELLS, decode_row, faithfulness_of
from test_explorer_browser import GD, open_app, wait_scatter


def _ranked(m) -> list[int]:
    return [int(r) for r in m.issues.rows]


def test_click_a_suspect_to_see_it_in_explore(page, explorer_url, explorer_app):
    m = explorer_app.explorer_store.get("mnist").model("cnn")
    page.goto(f"{explorer_url}/?tab=issues&ds=mnist&model=cnn&proj=tsne")
    page.wait_for_selector("#li-grid .issue-card")
    cards = page.locator("#li-grid .issue-card")
    assert [int(r) for r in cards.evaluate_all("els => els.map(e => e.dataset.row)")] == _ranked(m)
    # the projection and colouring do not apply here
    assert page.locator("#ctl-proj-box").is_hidden() and page.locator("#ctl-colour-box").is_hidden()
    # the card shows that row's image (the synthetic images carry their row number in pixels)
    first = cards.first
    shot = np.asarray(Image.open(io.BytesIO(first.locator(".issue-img").screenshot())).convert("L"))
    tile = shot[1::3, 1::3][:28, :28]  # drawn 3x: the middle of each 3x3 block, whatever the subpixel offset
    assert decode_row(tile) == _ranked(m)[0]

    row = _ranked(m)[2]
    cards.nth(2).click()
    page.wait_for_function("() => location.search.includes('tab=explore')")
    wait_scatter(page)
    page.wait_for_selector(f"#detail-img[data-row='{row}']")
    # ringed on the scatter, where the t-SNE put it
    page.wait_for_function(f"() => ({GD.format(sel='#ex-scatter')}.layout.shapes || []).length > 0")
    ring = page.evaluate(f"() => {GD.format(sel='#ex-scatter')}.layout.shapes.find(s => s.name === 'clicked')")
    assert np.allclose([ring["xanchor"], ring["yanchor"]], view_xy(m, "tsne")[row], atol=1e-4)  # plot units
    assert page.locator("#ex-scatter .shapelayer path").count() >= 1  # drawn, not only in the layout
    nb = [int(r) for r in page.locator("#nb-strip .nb-item").evaluate_all("els => els.map(e => e.dataset.row)")]
    assert nb == m.knn[row][:10].tolist()
    text = page.locator("#ex-detail").inner_text()
    assert f"Label-issue score {float(m.issues.score[row]):.2f}" in text
    assert f"suggested label {m.ds.class_names[m.pred[row]]}" in text
    kept = round(10 * float(faithfulness_of(row, "cnn", "tsne")))
    assert f"{kept} of its 10 nearest neighbours in the space of CNN are among its 10 nearest in this t-SNE" in text


def test_class_pair_filter_from_the_matrix_and_the_url(page, explorer_url, explorer_app):
    m = explorer_app.explorer_store.get("fashion-mnist").model("cnn")
    page.goto(f"{explorer_url}/?tab=issues&ds=fashion-mnist&model=cnn&issue=6-0")
    page.wait_for_selector("#li-grid .issue-card")
    expected = [r for r in _ranked(m) if (m.ds.labels[r], m.pred[r]) == (6, 0)]
    page.wait_for_function(f"() => document.querySelectorAll('#li-grid .issue-card').length === {len(expected)}")
    rows = page.locator("#li-grid .issue-card").evaluate_all("els => els.map(e => +e.dataset.row)")
    assert rows == expected and len(rows) == MODEL_CELLS["cnn"]["fashion-mnist"][(6, 0)]
    assert "given Shirt → T-shirt/top" in page.locator("#li-title").inner_text()
    page.locator("#li-all").click()
    page.wait_for_function(f"() => document.querySelectorAll('#li-grid .issue-card').length === {len(_ranked(m))}")
    page.wait_for_function("() => !location.search.includes('issue=')")
    # a click on the matrix cell Coat -> Pullover keeps that pair, and the URL says so
    gd = "document.querySelector('#li-matrix .js-plotly-plot')"
    box = page.evaluate(f"""() => {{ const gd = {gd}, fl = gd._fullLayout, r = gd.getBoundingClientRect();
        return {{x: r.left + fl._size.l + fl.xaxis.l2p(2), y: r.top + fl._size.t + fl.yaxis.l2p(4)}}; }}""")
    page.mouse.click(box["x"], box["y"])
    page.wait_for_function("() => location.search.includes('issue=4-2')")
    page.wait_for_function(f"() => document.querySelectorAll('#li-grid .issue-card').length === "
                           f"{MODEL_CELLS['cnn']['fashion-mnist'][(4, 2)]}")


def test_colour_by_faithfulness_shows_its_scale_and_note(page, explorer_url, explorer_app):
    m = explorer_app.explorer_store.get("mnist").model("cnn")
    open_app(page, explorer_url, "?ds=mnist&model=cnn&proj=umap")
    labels = [s.strip() for s in page.locator("#ctl-colour label").all_inner_texts()]
    assert labels[-3:] == ["Label-issue score", "Faithfulness", "Atypicality"]
    page.locator("#ctl-colour label", has_text="Faithfulness").click()
    page.wait_for_function(f"() => {GD.format(sel='#ex-scatter')}.layout.meta.colour === 'faith'")
    note = page.locator("#ctl-colour-note")
    note.wait_for()
    assert "low (red) = the projection misleads here" in note.inner_text()
    drawn = page.evaluate(f"""() => {{ const t = {GD.format(sel='#ex-scatter')}._fullData[0];
        return {{rows: Array.from(t.customdata).map(Number), c: Array.from(t.marker.color).map(Number)}}; }}""")
    assert np.allclose(drawn["c"], faithfulness_of(np.array(drawn["rows"]), "cnn", "umap"))
    assert page.locator("#ex-scatter .colorbar").count() == 1
    # PCA has no faithfulness for the CNN: the option goes, the colouring falls back to the true class
    page.locator("#ctl-proj input[value='pca']").check()
    page.wait_for_function("() => location.search.includes('colour=true')")
    assert "Faithfulness" not in page.locator("#ctl-colour").inner_text()
    note.wait_for(state="hidden")
    assert m.faithfulness("pca") is None

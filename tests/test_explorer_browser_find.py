"""Find and filter in a real headless Chromium: search a sample id and see it ringed; filter by
correct/wrong and confidence and count the points on the scatter, in the gallery and in the CSV."""
from __future__ import annotations

import numpy as np

from explorer.encoding import view_xy
from explorer.figures import nines
from test_explorer_browser import GD, open_app
from test_explorer_browser_select import highlighted_rows, wait_gallery, wait_highlight

SHAPES_JS = f"() => {GD.format(sel='#ex-scatter')}.layout.shapes || []"


def test_search_a_sample_id_and_see_it_ringed(page, explorer_url, explorer_app):
    ds = explorer_app.explorer_store.get("mnist")
    row = 123
    sid = int(ds.sample_ids[row])
    open_app(page, explorer_url)
    page.fill("#ex-find", str(sid))
    page.press("#ex-find", "Enter")
    page.wait_for_function(f"() => ({SHAPES_JS})().filter(s => s.name === 'found').length === 1")
    ring = next(s for s in page.evaluate(SHAPES_JS) if s["name"] == "found")
    assert np.allclose([ring["xanchor"], ring["yanchor"]], view_xy(ds.model("cnn"), "umap")[row], atol=1e-4)
    # the count is another callback's than the rings': wait for it rather than race it
    page.wait_for_function("() => (document.querySelector('#find-n') || {}).innerText === '1'")
    assert page.locator("#find-n").inner_text() == "1"
    assert "sample id" in page.locator("#ex-find-count").inner_text()
    # a class name finds its points, a predicted class the model's
    page.fill("#ex-find", "pred 7")
    page.press("#ex-find", "Enter")
    n_pred = int((ds.model("cnn").pred == 7).sum())
    page.wait_for_function(f"() => ({SHAPES_JS})().filter(s => s.name === 'found').length === {n_pred}")
    page.wait_for_function(f"() => (document.querySelector('#find-n') || {{}}).innerText === '{n_pred}'")
    assert page.locator("#find-n").inner_text() == str(n_pred)
    assert "predicted 7" in page.locator("#ex-find-count").inner_text()
    # a true class by its number, which a bare 7 (a sample id) cannot name (issue 26)
    page.fill("#ex-find", "class 7")
    page.press("#ex-find", "Enter")
    n_true = int((ds.labels == 7).sum())
    page.wait_for_function(f"() => (document.querySelector('#find-n') || {{}}).innerText === '{n_true}'")
    assert "true class 7" in page.locator("#ex-find-count").inner_text()
    page.fill("#ex-find", "")
    page.press("#ex-find", "Enter")
    page.wait_for_function(f"() => ({SHAPES_JS})().filter(s => s.name === 'found').length === 0")


def test_the_find_hint_shows_whole_and_a_title_says_the_rest(page, explorer_url):
    """The placeholder's text, in the box's own font, fits inside its padding (it was cut, issue 26)."""
    open_app(page, explorer_url)
    # the hint typed into the box as a value: it fits when the box need not scroll (canvas measures of
    # system-ui read narrower than the box draws it)
    fit = page.evaluate("""() => {
        const box = document.querySelector('#ex-find'), before = box.value;
        box.value = box.placeholder;
        const out = {text: box.scrollWidth, room: box.clientWidth, title: box.closest('[title]').title};
        box.value = before;
        return out;
    }""")
    assert 0 < fit["text"] <= fit["room"], fit
    assert "class 7" in fit["title"] and "pred Shirt" in fit["title"]


def test_filter_misclassified_then_by_confidence_and_count_the_points(page, explorer_url, explorer_app):
    m = explorer_app.explorer_store.get("mnist").model("cnn")
    wrong = m.ds.labels != m.pred
    open_app(page, explorer_url)
    assert "all 300 points" in page.locator("#ex-filter-count").inner_text()
    page.locator("#ex-flt-correct").get_by_text("Misclassified only").click()  # one click
    expected = np.flatnonzero(wrong)
    page.wait_for_function(f"() => document.querySelector('#filter-pass')"
                           f" && document.querySelector('#filter-pass').innerText === '{len(expected)}'")
    assert f"of 300 points pass" in page.locator("#ex-filter-count").inner_text()
    wait_highlight(page, len(expected))
    assert highlighted_rows(page) == expected.tolist()
    wait_gallery(page, len(expected))

    # the confidence range's lower end up (steps of a tenth of a nine), by the keyboard on its handle
    v = nines(m.confidence)
    steps = next(k for k in range(1, 40) if 0 < (wrong & (v >= k / 10 - 1e-6)).sum() < wrong.sum() * 0.7)
    page.locator("#ex-flt-conf [role=slider]").first.focus()
    for _ in range(steps):
        page.keyboard.press("ArrowRight")
    expected = np.flatnonzero(wrong & (v >= steps / 10 - 1e-6))
    page.wait_for_function(f"() => document.querySelector('#filter-pass').innerText === '{len(expected)}'")
    wait_highlight(page, len(expected))
    assert highlighted_rows(page) == expected.tolist()
    wait_gallery(page, len(expected))
    with page.expect_download() as dl:
        page.click("#ex-download-btn")
    lines = open(dl.value.path()).read().strip().splitlines()
    assert sorted(int(line.split(",")[0]) for line in lines[1:]) == expected.tolist()
    # back to all: nothing filtered, nothing dimmed
    page.locator("#ex-flt-correct").get_by_text("All").click()
    page.locator("#ex-flt-conf [role=slider]").first.focus()
    page.keyboard.press("Home")
    page.wait_for_function("() => document.querySelector('#ex-filter-count').innerText.includes('all 300')")
    wait_highlight(page, 0)

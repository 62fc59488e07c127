"""The filter bar in a real headless Chromium: its values and the search survive a reload of the
page's URL; a brush on its histograms sets the same filter as the sliders."""
from __future__ import annotations

import numpy as np

from explorer.figures import nines
from test_explorer_browser import open_app, wait_scatter

PASS_JS = "() => document.querySelector('#filter-pass') && document.querySelector('#filter-pass').innerText"


def wait_pass(page, n: int) -> None:
    page.wait_for_function(f"() => ({PASS_JS})() === '{n}'")


def test_filters_and_the_search_survive_a_reload(page, explorer_url, explorer_app):
    m = explorer_app.explorer_store.get("mnist").model("cnn")
    wrong = m.ds.labels != m.pred
    open_app(page, explorer_url)
    page.locator("#ex-flt-correct").get_by_text("Misclassified only").click()
    wait_pass(page, int(wrong.sum()))
    v = nines(m.confidence)
    steps = next(k for k in range(1, 40) if 0 < (wrong & (v >= k / 10 - 1e-6)).sum() < wrong.sum() * 0.7)
    page.locator("#ex-flt-conf [role=slider]").first.focus()
    for _ in range(steps):
        page.keyboard.press("ArrowRight")
    n = int((wrong & (v >= steps / 10 - 1e-6)).sum())
    wait_pass(page, n)
    page.fill("#ex-find", "pred 7")
    page.press("#ex-find", "Enter")
    page.wait_for_function("() => location.search.includes('find=pred+7') && location.search.includes('show=wrong')"
                           " && location.search.includes('conf=')")
    url = page.url
    page.goto("about:blank")
    page.goto(url)  # the shared link in a fresh load
    wait_scatter(page)
    wait_pass(page, n)
    assert page.locator("#ex-find").input_value() == "pred 7"
    assert page.locator("#find-n").inner_text() == str(int((m.pred == 7).sum()))
    assert page.locator("#ex-flt-correct input[value='wrong']").is_checked()
    assert page.url == url  # reading the URL wrote it back unchanged

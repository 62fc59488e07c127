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


def brush(page, sel: str, a: float, b: float) -> None:
    """Drag a box along a histogram from value ``a`` to ``b``, as a user brushes it."""
    x0, x1, y = page.evaluate("""([sel, a, b]) => { const gd = document.querySelector(sel + ' .js-plotly-plot');
        const fl = gd._fullLayout, r = gd.getBoundingClientRect();
        return [r.left + fl._size.l + fl.xaxis.l2p(a), r.left + fl._size.l + fl.xaxis.l2p(b),
                r.top + fl._size.t + fl._size.h / 2]; }""", [sel, a, b])
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, y, steps=4)
    page.mouse.move(x1, y, steps=4)
    page.mouse.up()


def slider_values(page, sel: str) -> list[float]:
    return [float(v) for v in page.locator(f"{sel} [role=slider]").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-valuenow'))")]


def test_brushing_a_histogram_filters_the_rows_in_its_range(page, explorer_url, explorer_app):
    m = explorer_app.explorer_store.get("mnist").model("cnn")
    v, score = nines(m.confidence), np.asarray(m.issues.score)
    open_app(page, explorer_url)
    page.wait_for_function("() => document.querySelector('#ex-flt-hist-conf .js-plotly-plot')"
                           " && document.querySelector('#ex-flt-hist-conf .js-plotly-plot').data.length === 2")
    brush(page, "#ex-flt-hist-conf", 0.5, 1.5)
    page.wait_for_function("() => location.search.includes('conf=0.5%2C1.5')")
    assert slider_values(page, "#ex-flt-conf") == [0.5, 1.5]  # the slider follows the brush
    n = int(((v >= 0.5 - 1e-6) & (v <= 1.5 + 1e-6)).sum())
    assert 0 < n < m.ds.n
    wait_pass(page, n)
    # the histogram shows what passes: the bars outside the range are empty (its own callback: waited for)
    passing = ("() => document.querySelector('#ex-flt-hist-conf .js-plotly-plot').data[1].customdata"
               ".reduce((s, t) => s + parseInt(t.split(': ')[1].split(' pass')[0].replace(/,/g, '')), 0)")
    page.wait_for_function(f"() => ({passing})() === {n}", timeout=15000)
    shown = page.evaluate("() => document.querySelector('#ex-flt-hist-conf .js-plotly-plot').data[1].customdata")
    assert sum(int(t.split(": ")[1].split(" pass")[0].replace(",", "")) for t in shown) == n
    # a brush on the issue scores sets its least score; the filters combine
    brush(page, "#ex-flt-hist-issue", 0.6, 0.95)
    page.wait_for_function("() => location.search.includes('score=0.6')")
    assert slider_values(page, "#ex-flt-issue") == [0.6]
    wait_pass(page, int(((v >= 0.5 - 1e-6) & (v <= 1.5 + 1e-6) & (score >= 0.6 - 1e-9)).sum()))
    # a double-click lets the confidence filter go
    page.locator("#ex-flt-hist-conf .nsewdrag").first.dblclick()
    page.wait_for_function("() => !location.search.includes('conf=')")
    wait_pass(page, int((score >= 0.6 - 1e-9).sum()))


def test_the_sliders_handles_have_names_and_their_values_in_words(page, explorer_url):
    """A screen reader heard the confidence slider in nines ("0.8" for 84 %, "4" for 99.99 %): each handle
    has a name and its value as a confidence (issue 26)."""
    open_app(page, explorer_url, "?ds=mnist&conf=0.8,2")
    handles = "#ex-flt-conf [role=slider]"
    page.wait_for_function(f"() => [...document.querySelectorAll('{handles}')].every(h => h.getAttribute('aria-valuetext'))")
    spoken = page.locator(handles).evaluate_all(
        "hs => hs.map(h => [h.getAttribute('aria-label'), h.getAttribute('aria-valuenow'), h.getAttribute('aria-valuetext')])")
    assert spoken == [["Lowest confidence shown", "0.8", "84 %"], ["Highest confidence shown", "2", "99.00 %"]]
    issue = page.locator("#ex-flt-issue [role=slider]")
    assert issue.get_attribute("aria-label") == "Lowest label-issue score shown"
    assert issue.get_attribute("aria-valuetext") == "0.00"
    # the words follow the handle as it moves (keyboard: the right arrow steps 0.1 nines)
    page.locator(handles).nth(1).focus()
    page.keyboard.press("End")
    page.wait_for_function(f"() => document.querySelectorAll('{handles}')[1].getAttribute('aria-valuetext')"
                           " === '99.99 % and above'")

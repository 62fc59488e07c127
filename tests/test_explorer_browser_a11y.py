"""Accessibility (issue 26): axe-core, the engine browsers' accessibility tools use, finds no WCAG 2.1 A or
AA violation in any view at a laptop's and a phone's width (every control named, contrast, the page's
language, ...), and a keyboard reaches the tabs, the radio controls and the dropdowns (``assets/a11y.js``).

axe-core comes from the pinned ``axe-playwright-python`` wheel (its ``axe.min.js``); it runs in the page.
"""
from __future__ import annotations

import importlib.resources

import pytest

from test_explorer_browser import open_app, wait_scatter
from test_explorer_browser_layout import explore_at

#: the rules checked: WCAG 2.0 and 2.1, levels A and AA
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r => r.violations.map(v =>
  v.id + ': ' + v.help + ' -- ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))"""
#: each view, reached from the one before it in one page as a user would (a click, a tab), and what to wait
#: for before checking it: the page is loaded once, not once a view
VIEWS = [("Explore", None, "#ex-scatter .js-plotly-plot"),
         ("a point open", "() => window.dash_clientside.set_props('ex-clicked', {data: {ds: 'mnist', row: 3}})",
          "#detail-img"),
         ("3-D", "#ctl-dims label:has-text('3-D')", "#ex-scatter3d[data-state=drawn]"),
         ("Label issues", "#tabs >> text=Label issues", ".issue-card"),
         ("Compare datasets", "#tabs >> text=Compare datasets", "#cd-half-mnist .js-plotly-plot"),
         ("Image map", "#tabs >> text=Image map", "#im-graph image"),
         ("Compare models", "#tabs >> text=Compare models", "#cp-left .js-plotly-plot"),
         ("Training dynamics", "#tabs >> text=Training dynamics", "#dy-frame [role=slider]"),
         ("Layers", "#tabs >> text=Layers", "#ly-chart .js-plotly-plot")]


def violations(page) -> list[str]:
    """axe-core's WCAG A/AA violations in the page as it is now, once ``a11y.js`` has had a frame."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    if not page.evaluate("() => !!window.axe"):
        page.evaluate((importlib.resources.files("axe_playwright_python") / "axe.min.js").read_text())
    return page.evaluate(AXE_RUN, WCAG)


@pytest.mark.parametrize("width,height", [(1366, 768), (390, 844)])
def test_axe_finds_no_wcag_violation_in_any_view(browser, explorer_url, width, height):
    with explore_at(browser, explorer_url, width, height) as page:
        found = {}
        for name, go, ready in VIEWS:
            if go and go.startswith("()"):
                page.evaluate(go)
            elif go:
                page.locator(go).first.click()
            page.wait_for_selector(ready, state="attached")
            page.wait_for_timeout(300)  # the view's callbacks settle (a11y.js repairs what they draw)
            found[name] = violations(page)
        assert found == {name: [] for name, _, _ in VIEWS}


def focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement;
        return {tag: e.tagName, role: e.getAttribute('role'), text: e.textContent.trim().slice(0, 40),
                name: e.getAttribute('name'), value: e.value}; }""")


def tab_until(page, test, most: int = 60) -> dict:
    """Press Tab until the focused element passes ``test``; that element."""
    for _ in range(most):
        page.keyboard.press("Tab")
        f = focused(page)
        if test(f):
            return f
    raise AssertionError(f"Tab never reached it in {most} presses (last: {f})")


def test_a_keyboard_switches_tabs_and_datasets(page, explorer_url):
    open_app(page, explorer_url, "?ds=mnist")
    # the tab list is one stop in the tab order, at the tab shown
    f = tab_until(page, lambda f: f["role"] == "tab")
    assert f["text"] == "Explore"
    assert page.locator("[role=tablist] [role=tab][aria-selected=true]").count() == 1
    page.keyboard.press("ArrowRight")  # moves to the next tab and shows it
    page.wait_for_function("() => new URLSearchParams(location.search).get('tab') === 'issues'")
    assert focused(page)["text"] == "Label issues"
    page.keyboard.press("End")
    page.wait_for_function("() => new URLSearchParams(location.search).get('tab') === 'layers'")
    page.keyboard.press("Home")
    page.wait_for_function("() => new URLSearchParams(location.search).get('tab') === 'explore'")
    wait_scatter(page)
    # the datasets are a named radio group of native radios: the arrow keys change the dataset
    group = page.locator("#ctl-dataset")
    assert group.get_attribute("role") == "radiogroup"
    assert page.locator("#" + group.get_attribute("aria-labelledby")).inner_text().strip() == "Dataset"
    f = tab_until(page, lambda f: f["name"] == "ctl-dataset")
    assert f["value"] == "mnist"
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => new URLSearchParams(location.search).get('ds') === 'fashion-mnist'")
    wait_scatter(page)


def test_a_dropdown_is_a_named_tab_stop_a_keyboard_opens(page, explorer_url):
    page.goto(explorer_url + "/?tab=dynamics")
    button = "#dy-half-mnist button.dash-dropdown"
    page.wait_for_function(f"() => {{ const b = document.querySelector('{button}'); return b && b.tabIndex === 0; }}")
    name = page.evaluate(f"""() => document.querySelector('{button}').getAttribute('aria-labelledby').split(' ')
        .map(i => document.getElementById(i)).filter(Boolean).map(e => e.textContent.trim())""")
    assert name[0] == "Class pair" and " vs " in name[-1], name
    # Tab reaches the button itself (its hidden stand-in is out of the tab order), Enter opens its list
    f = tab_until(page, lambda f: f["tag"] == "BUTTON" and " vs " in f["text"])
    assert page.evaluate("() => document.activeElement.getAttribute('aria-haspopup')") == "listbox"
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelector('{button}').getAttribute('aria-expanded') === 'true'")
    # into the list (its first pair), the next pair, chosen: each key once the page has taken the last
    page.wait_for_selector(".dash-dropdown-content", state="visible")
    page.keyboard.press("ArrowDown")
    page.wait_for_function("() => document.activeElement.closest('.dash-dropdown-content') !== null")
    first = page.evaluate("() => document.activeElement.value")
    page.keyboard.press("ArrowDown")
    page.wait_for_function("(v) => document.activeElement.value !== v", arg=first)
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => !document.querySelector('{button}').textContent.includes({f['text']!r})")

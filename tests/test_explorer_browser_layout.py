"""Explore's layout at a phone's, a tablet's, a laptop's and a desktop's width (issue 26), from bounding boxes:
nothing the user reads or presses overlaps anything else, the scatter's title is clear of Plotly's toolbar,
the laptop's first screen holds the whole scatter and the matrix, the phone's scatter comes before the help
and the filters, and a tapped point's detail opens over the bottom of the phone's screen."""
from __future__ import annotations

import contextlib

import pytest

from test_explorer_browser import GD, settled_points, isolated_point, open_app, wait_hover_labels

#: the blocks of Explore a user reads or presses, each a CSS selector (every match counts)
BLOCKS = ["header h1", ".tagline", ".tabs .tab", "#ex-scatter .gtitle", "#ex-scatter .modebar-group",
          ".layers-box label", ".main-plot", ".side", ".controls .ctl", ".filter-bar > *", ".focus"]

BOXES_JS = """(sels) => { const out = [];
  for (const s of sels) document.querySelectorAll(s).forEach((e, i) => {
    const b = e.getBoundingClientRect(), cs = getComputedStyle(e);
    if (b.width > 0 && b.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none')
      out.push({sel: s, i: i, x0: b.left + scrollX, y0: b.top + scrollY, x1: b.right + scrollX, y1: b.bottom + scrollY});
  });
  return out; }"""


@contextlib.contextmanager
def explore_at(browser, explorer_url: str, width: int, height: int, **options):
    """Explore of MNIST in a fresh ``width`` x ``height`` context (touch below 1000 px, a phone below 500),
    once its hover labels are there; the page."""
    from conftest import RECORD_FETCHED_JSON

    context = browser.new_context(viewport={"width": width, "height": height}, has_touch=width < 1000,
                                  is_mobile=width < 500, **options)
    context.add_init_script(RECORD_FETCHED_JSON)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        open_app(page, explorer_url, "?ds=mnist")
        wait_hover_labels(page, GD.format(sel="#ex-scatter"))
        yield page
    finally:
        context.close()


def overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of boxes, neither inside the other, that share more than a pixel each way."""
    def inside(a, b):
        return a["x0"] >= b["x0"] - 1 and a["y0"] >= b["y0"] - 1 and a["x1"] <= b["x1"] + 1 and a["y1"] <= b["y1"] + 1

    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if inside(a, b) or inside(b, a):
                continue  # a title inside its plot's card, a control inside its bar
            if min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > 1 and min(a["y1"], b["y1"]) - max(a["y0"], b["y0"]) > 1:
                out.append((f"{a['sel']}[{a['i']}]", f"{b['sel']}[{b['i']}]"))
    return out


@pytest.mark.parametrize("width,height", [(390, 844), (800, 1280), (1366, 768), (1920, 1080)])
def test_nothing_overlaps_and_the_scatter_is_on_the_first_screen(browser, explorer_url, width, height):
    with explore_at(browser, explorer_url, width, height) as page:
        # the title settles under the toolbar where they do not fit side by side (hover.js relays it out)
        page.wait_for_function("""() => { const t = document.querySelector('#ex-scatter .gtitle'),
            m = document.querySelector('#ex-scatter .modebar'); if (!t || !m) return false;
            const a = t.getBoundingClientRect(), b = m.getBoundingClientRect();
            return a.right <= b.left || a.top >= b.bottom; }""")
        boxes = page.evaluate(BOXES_JS, BLOCKS)
        assert {b["sel"] for b in boxes} >= {"#ex-scatter .gtitle", ".main-plot", ".side"}, boxes
        assert overlaps(boxes) == []
        plot = next(b for b in boxes if b["sel"] == ".main-plot")
        matrix = page.evaluate("() => { const b = document.querySelector('#ex-confusion').getBoundingClientRect();"
                               " return [b.top + scrollY, b.bottom + scrollY]; }")
        helps = page.evaluate("() => document.querySelector('#ex-help').getBoundingClientRect().top + scrollY")
        if width >= 1000:  # a laptop and up: the whole scatter and the matrix on the first screen
            assert plot["y1"] <= height and matrix[1] <= height, (plot, matrix)
        if width < 760:  # a phone: the scatter before the help and the filters, all of it on the first screen
            assert plot["y1"] < helps and plot["y1"] <= height, (plot, helps)


def test_on_a_phone_a_tapped_points_detail_is_a_sheet_that_closes(browser, explorer_url):
    with explore_at(browser, explorer_url, 390, 844) as page:
        pt = isolated_point(page)
        page.touchscreen.tap(pt["x"], pt["y"])
        page.wait_for_selector(f"#detail-img[data-row='{pt['row']}']")
        box = page.locator("#ex-detail").bounding_box()  # relative to the screen
        assert box["y"] >= 844 * 0.5 and abs(box["y"] + box["height"] - 844) <= 1, box
        page.locator("#ex-detail .detail-close").tap()
        page.wait_for_function("() => getComputedStyle(document.querySelector('#ex-detail')).position !== 'fixed'")
        # the next point opened brings the sheet up again (the scatter scrolled to the top when the first opened)
        again = next(p for p in settled_points(page, "#ex-scatter") if p["row"] == pt["row"])
        page.touchscreen.tap(again["x"], again["y"])
        page.wait_for_function("() => getComputedStyle(document.querySelector('#ex-detail')).position === 'fixed'")

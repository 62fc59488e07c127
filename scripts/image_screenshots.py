"""The screenshots of the explorer's image views for the README, taken by ``scripts/screenshots.py``
(``--only imagemap,subclusters,semzoom,atypical,layers``): the image map, the sub-clusters layer, the images
drawn on the scatter, atypicality, and the network layer by layer.  Each function takes the running explorer's URL, a page maker,
the screenshot writer, the dataset to show and the views asked for.
"""
from __future__ import annotations


def take_maps(url: str, page_at, shot, ds: str, views: set[str]) -> None:
    """The image map (whole, zoomed in with an image hovered, on a phone) and the sub-clusters layer
    (on a laptop and a phone, then the second T-shirt/top sub-cluster clicked)."""
    for w, h in ((1366, 768), (390, 844)) if "imagemap" in views else ():
        page = page_at(w, h)
        page.goto(f"{url}/?tab=imagemap&ds={ds}&model=cnn&proj=tsne")
        page.wait_for_selector("#im-graph image", state="attached", timeout=60_000)
        page.wait_for_timeout(2500)
        shot(page, f"imagemap-{w}x{h}.png")
        if w == 1366:
            page.evaluate("""() => Plotly.relayout(document.querySelector('#im-graph .js-plotly-plot'),
                {'xaxis.range': [1100, 1660], 'yaxis.range': [1500, 1100]})""")
            page.wait_for_timeout(1500)
            box = page.locator("#im-graph .nsewdrag").bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_timeout(800)
            shot(page, "imagemap-zoomed-1366x768.png")
        page.context.close()
    for w, h in ((1366, 768), (390, 844)) if "subclusters" in views else ():
        page = page_at(w, h)
        page.goto(f"{url}/?ds={ds}&model=cnn&proj=umap&layers=subclusters")
        label = page.locator("#ex-scatter .annotation", has_text="·2").first
        label.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        shot(page, f"subclusters-{w}x{h}.png")
        if w == 1366:
            page.locator("#ex-scatter .annotation", has_text="T-shirt/top·2").or_(label).first.click()
            page.wait_for_function("() => new URLSearchParams(location.search).has('sel')")
            page.wait_for_timeout(2500)
            page.evaluate("() => window.scrollTo(0, 250)")
            page.set_viewport_size({"width": 1366, "height": 950})
            page.wait_for_timeout(800)
            shot(page, "subcluster-selected-1366.png")
        page.context.close()


def take_semzoom(url: str, page_at, shot, ds: str, views: set[str]) -> None:
    """The Images layer: the whole layout (representatives), then zoomed in until each point is its image."""
    from benchmarks.semzoom_bench import ZOOM_JS

    drawn = ("() => { const c = document.querySelector('#ex-scatter canvas.semzoom');"
             " return c && c.dataset.mode === '%s' && c.dataset.pending === '0'; }")
    for w, h in ((1366, 768), (390, 844)) if "semzoom" in views else ():
        page = page_at(w, h)
        page.goto(f"{url}/?ds={ds}&model=cnn&proj=umap&layers=images")
        page.wait_for_function(drawn % "representatives", timeout=60_000)
        page.wait_for_timeout(1200)
        shot(page, f"semzoom-whole-{w}x{h}.png")
        page.evaluate(ZOOM_JS, 300 if w < 500 else 600)
        page.wait_for_function(drawn % "images", timeout=60_000)
        page.wait_for_timeout(1200)
        shot(page, f"semzoom-zoomed-{w}x{h}.png")
        page.context.close()


def take_atypical(url: str, page_at, shot, ds: str, views: set[str]) -> None:
    """The scatter coloured by atypicality, and the Image map of one class's most atypical images."""
    if "atypical" not in views:
        return
    page = page_at(1366, 768)
    page.goto(f"{url}/?ds={ds}&model=cnn&proj=umap&colour=atypical")
    page.wait_for_function("() => { const gd = document.querySelector('#ex-scatter .js-plotly-plot');"
                           " return gd && gd.layout && gd.layout.meta && gd.layout.meta.colour === 'atypical'; }", timeout=60_000)
    page.wait_for_timeout(1500)
    shot(page, "atypicality-1366x768.png")
    page.goto(f"{url}/?tab=imagemap&ds={ds}&model=cnn&proj=umap&map=atypical&mapclass=6")
    page.wait_for_selector("#im-graph image", state="attached", timeout=60_000)
    page.wait_for_timeout(2000)
    shot(page, "imagemap-atypical-1366x768.png")
    page.context.close()


def take_layers(url: str, page_at, shot, ds: str, views: set[str]) -> None:
    """The Layers tab: the CNN's pixels and its logits (a selection followed), and separability by depth on
    Compare datasets; at 1366 and on a phone."""
    graph = "document.querySelector('.depth-scatter .js-plotly-plot')"
    for w, h in ((1366, 768), (390, 844)) if "layers" in views else ():
        page = page_at(w, h)
        page.goto(f"{url}/?tab=layers&ds={ds}&model=cnn&cell=6-0")  # Shirt taken for T-shirt/top, followed
        page.wait_for_function(f"() => {{ const gd = {graph}; return gd && gd._fullData && gd._fullData.length > 3; }}",
                               timeout=60_000)
        page.wait_for_timeout(1500)
        shot(page, f"layers-pixels-{w}x{h}.png", full=w < 500)
        handle = page.locator("#ly-frame [role='slider']")
        handle.focus()
        for _ in range(int(handle.get_attribute("aria-valuemax"))):
            handle.press("ArrowRight")
        page.wait_for_function(f"() => {graph}.getAttribute('data-layer') === '{handle.get_attribute('aria-valuemax')}'"
                               f" && !{graph}.hasAttribute('data-moving')", timeout=60_000)
        page.wait_for_timeout(1200)
        shot(page, f"layers-logits-{w}x{h}.png", full=w < 500)
        page.context.close()
    if "layers" in views:
        page = page_at(1366, 768)
        page.goto(f"{url}/?tab=datasets&model=cnn")
        page.locator("#cd-depth .js-plotly-plot").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.evaluate("() => document.querySelector('#cd-depth').scrollIntoView({block: 'center'})")
        page.wait_for_timeout(500)
        shot(page, "compare-datasets-depth-1366x768.png")
        page.context.close()


def take_duplicates(url: str, page_at, shot, ds: str, views: set[str]) -> None:
    """The Duplicates tab (groups side by side, differing labels first), then a member opened in Explore;
    at 1366x768 and 390 px wide."""
    for w, h in ((1366, 768), (390, 844)) if "duplicates" in views else ():
        page = page_at(w, h)
        page.goto(f"{url}/?tab=duplicates&ds={ds}&model=cnn")
        page.wait_for_selector("#du-list .du-group", timeout=60_000)
        page.wait_for_timeout(600)
        shot(page, f"duplicates-{w}x{h}.png")
        page.locator("#du-list .du-member.issue-card").first.click()
        page.wait_for_selector("#detail-img", timeout=60_000)
        page.wait_for_timeout(800)
        shot(page, f"duplicates-opened-in-explore-{w}x{h}.png", full=w < 800)
        page.context.close()

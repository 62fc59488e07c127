"""The explorer's own plotly.js (scripts/plotly/build.sh): the file shipped is the one built, of the
plotly.js version the pinned plotly package carries, and the page draws with it alone."""
from __future__ import annotations

import hashlib
import re

from tests.conftest import ROOT

BUNDLE = ROOT / "explorer" / "assets" / "plotly-explorer.min.js"


def test_the_shipped_bundle_is_the_recorded_build_of_the_pinned_plotly_js():
    from plotly.offline import get_plotlyjs_version

    recorded = (ROOT / "scripts" / "plotly" / "plotly-explorer.min.js.sha256").read_text().strip()
    assert hashlib.sha256(BUNDLE.read_bytes()).hexdigest() == recorded  # rebuild: scripts/plotly/build.sh
    banner = BUNDLE.read_text()[:200]
    assert re.match(rf"/\* plotly\.js v{re.escape(get_plotlyjs_version())} ", banner)  # same as Dash's
    assert '"plotly.js": "' + get_plotlyjs_version() + '"' in (ROOT / "scripts" / "plotly" / "package.json").read_text()


def test_the_3d_bundle_is_the_recorded_build_and_defines_only_plotly3d():
    from plotly.offline import get_plotlyjs_version

    bundle = ROOT / "explorer" / "assets" / "plotly-3d.min.js"
    recorded = (ROOT / "scripts" / "plotly" / "plotly-3d.min.js.sha256").read_text().strip()
    assert hashlib.sha256(bundle.read_bytes()).hexdigest() == recorded  # rebuild: scripts/plotly/build.sh
    head = bundle.read_text()[:400]
    assert re.match(rf"/\* plotly\.js v{re.escape(get_plotlyjs_version())} \(MIT, Plotly, Inc\.\): core \+ scatter3d;",
                    head)
    # its own global: loading it leaves the page's window.Plotly (the 2-D bundle) as it is
    assert "var Plotly3D=" in head and "window.Plotly=" not in bundle.read_text()


def test_the_page_draws_with_the_trimmed_bundle_and_never_fetches_the_full_one(page, explorer_url):
    from plotly.offline import get_plotlyjs_version

    from test_explorer_browser import wait_scatter

    fetched = []
    page.on("response", lambda r: fetched.append((r.url, r.headers.get("content-encoding") if r.status == 200
                                                  else "not modified" if r.status == 304 else r.status)))
    page.goto(explorer_url + "/?tab=explore")
    wait_scatter(page)
    page.goto(explorer_url + "/?tab=projections")  # scattergl, heatmap and bar in the other tabs
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2")
    assert page.evaluate("() => window.Plotly.version") == get_plotlyjs_version()
    assert not [u for u, _ in fetched if "plotly.min.js" in u or "plotly-" in u and "cdn" in u]
    ours = [(u, enc) for u, enc in fetched if "/assets/plotly-explorer.min.js" in u]
    # compressed: gzip, or brotli once the server has made it (explorer/precompress.py)
    assert ours and ours[0][1] in ("gzip", "br") and all(enc in ("gzip", "br", "not modified") for _, enc in ours)
    # every trace type the explorer draws is registered in it
    assert page.evaluate("() => ['scatter', 'scattergl', 'heatmap', 'bar'].every("
                         "t => window.Plotly.PlotSchema.get().traces[t])")


def test_the_full_bundle_stays_one_switch_away(explorer_cache, monkeypatch):
    from core.store import ArtifactStore
    from explorer.app import FULL_PLOTLY_ENV, create_app

    page = create_app(ArtifactStore(explorer_cache)).server.test_client().get("/").get_data(as_text=True)
    assert "/assets/plotly-explorer.min.js" in page
    assert "plotly-3d.min.js" not in page  # fetched by view3d.js when a 3-D view is first opened
    monkeypatch.setenv(FULL_PLOTLY_ENV, "1")  # the benchmark's reference: Dash loads its own plotly.js
    page = create_app(ArtifactStore(explorer_cache)).server.test_client().get("/").get_data(as_text=True)
    assert "/assets/plotly-explorer.min.js" not in page and "/assets/hover.js" in page

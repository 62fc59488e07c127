"""Brotli for scripts and style sheets (explorer.precompress): gzip on the first request, brotli made in
the background and sent from then on; JSON stays gzip; a client without ``br`` never gets it."""
from __future__ import annotations

import gzip
import json

import brotli
import pytest

from explorer.precompress import BrotliCache, accepts_br
from explorer_helpers import GOOD, ROOT, client, dash_post  # noqa: F401 - client is a fixture

CHROMIUM = {"Accept-Encoding": "gzip, deflate, br, zstd"}  # what Debian's Chromium 156 sends to 127.0.0.1


@pytest.mark.parametrize("header, ok", [("gzip, deflate, br, zstd", True), ("br", True), ("BR;q=0.5", True),
                                        ("gzip, br;q=0", False), ("gzip", False), ("", False), (None, False),
                                        ("brotli", False)])
def test_accepts_br(header, ok):
    assert accepts_br(header) is ok


def test_the_cache_makes_each_body_once_and_stays_bounded():
    cache = BrotliCache(quality=5, max_bytes=10_000)
    data = b"hover " * 2000
    cache.get(data)  # started, in the background
    made = cache.get(data, wait=True)
    assert brotli.decompress(made) == data and cache.get(data) is made  # kept, not made again
    big = bytes(range(256)) * 200  # 51 kB, hardly compressible: more than the bound
    assert cache.get(big, wait=True) is None and cache.get(big) is None


@pytest.mark.parametrize("asset", ["hover.js", "style.css"])
def test_assets_get_brotli_once_it_is_made(client, explorer_app, asset):
    raw = (ROOT / "explorer" / "assets" / asset).read_bytes()
    first = client.get(f"/assets/{asset}", headers=CHROMIUM)
    assert first.status_code == 200 and first.headers["Content-Encoding"] in ("gzip", "br")
    explorer_app.server.extensions["explorer_brotli"].get(raw, wait=True)
    r = client.get(f"/assets/{asset}", headers=CHROMIUM)
    assert r.headers["Content-Encoding"] == "br" and brotli.decompress(r.data) == raw
    assert int(r.headers["Content-Length"]) == len(r.data) < len(gzip.compress(raw, 6))
    assert r.headers["ETag"].startswith('W/"') and "Accept-Encoding" in r.headers["Vary"]
    again = client.get(f"/assets/{asset}", headers={**CHROMIUM, "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    gz = client.get(f"/assets/{asset}", headers={"Accept-Encoding": "gzip, deflate"})  # no br: gzip as before
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == raw
    for resp in (first, r, again, gz):
        resp.close()


def test_figures_stay_gzip_for_a_client_that_takes_brotli(client, explorer_app):
    r = dash_post(client, explorer_app, "render_scatter", GOOD, changed=["tabs.value"], headers=CHROMIUM)
    assert r.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(r.data))["response"]["ex-scatter"]["figure"]["layout"]["meta"]["n"] == 300

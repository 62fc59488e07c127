"""The explorer's in-process caches stay under their byte ceilings and keep answering right after eviction."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from explorer_helpers import png_array
from explorer import thumbnails
from explorer.routes import BundleCache
from explorer.thumbnails import SpriteCache, SpriteGrid, ThumbCache, encode_png, sprite_page


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    """Images whose PNGs hardly compress, so a few fill a small ceiling."""
    return np.random.default_rng(3).integers(0, 256, (1500, 28, 28), dtype=np.uint8)  # three full pages


def test_sprite_pages_stay_under_the_ceiling_and_right_after_eviction(noise):
    page = len(encode_png(sprite_page(noise, 0)))
    cache = SpriteCache(max_bytes=3 * page)  # three pages fit, the fourth pushes one out
    for version in ("v1", "v2", "v3"):
        for p in range(3):
            assert cache.get("d", version, noise, p) == encode_png(sprite_page(noise, p))
            assert cache.bytes_held <= 3 * page
    assert len(cache._pages) <= 3
    for p in range(3):  # v1's pages were pushed out: encoded again, the same bytes
        assert cache.get("d", "v1", noise, p) == encode_png(sprite_page(noise, p))
    assert cache.bytes_held <= 3 * page


def test_sprite_warm_up_stops_at_half_the_ceiling(noise):
    page = len(encode_png(sprite_page(noise, 0)))
    cache = SpriteCache(max_bytes=3 * page)
    cache.warm("d", "v1", noise, len(noise)).join(30)
    assert len(cache._pages) == 2  # the second page passes half the bound; the third waits for a request


def test_one_encode_per_page_however_many_threads_ask(noise, monkeypatch):
    calls, gate = [], threading.Event()
    real = thumbnails.encode_png

    def slow(array, scale=1):
        calls.append(1)
        gate.wait(5)
        return real(array, scale)

    monkeypatch.setattr(thumbnails, "encode_png", slow)
    cache = SpriteCache()
    got: list[bytes] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("d", "v", noise, 1))) for _ in range(8)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(30)
    assert len(calls) == 1 and len(got) == 8 and len(set(got)) == 1


def test_thumbnails_stay_under_the_ceiling_and_right_after_eviction(noise):
    one = len(encode_png(noise[0], 4))
    cache = ThumbCache(max_bytes=20 * one)
    for _ in range(2):  # the second pass finds the first rows pushed out and encodes them again
        for row in range(100):
            data = cache.get("d", "v", noise, row, 4)
            assert np.array_equal(png_array(data)[::4, ::4], noise[row])
            assert cache.bytes_held <= 20 * one
    assert 0 < len(cache._thumbs) <= 25


def test_thumb_route_stays_under_its_ceiling(monkeypatch, explorer_cache):
    from core.store import ArtifactStore
    from explorer.app import create_app

    monkeypatch.setattr(thumbnails, "THUMB_CACHE_BYTES", 20_000)
    app = create_app(ArtifactStore(explorer_cache))
    client, thumbs = app.server.test_client(), app.server.extensions["explorer_images"]["thumbs"]
    ds = app.explorer_store.get("mnist")
    for _ in range(2):
        for row in range(0, ds.n, 3):
            r = client.get(f"/thumb/mnist/{row}.png?scale=2&v={ds.version}")
            assert r.status_code == 200 and np.array_equal(png_array(r.data)[::2, ::2], ds.images[row])
            assert thumbs.bytes_held <= 20_000


def test_bundle_cache_stays_under_its_ceiling(monkeypatch):
    monkeypatch.setattr(BundleCache, "MAX_BYTES", 10_000)
    cache = BundleCache()
    bodies = {f"gzip;/_dash-component-suites/b{i}.v1m1.js": bytes([i]) * 3000 for i in range(10)}
    for key, body in bodies.items():
        cache.set(key, body)
        assert cache._data.currsize <= 10_000 and cache.get(key) == body  # the newest is always kept
    kept = [k for k in bodies if cache.get(k) is not None]
    assert len(kept) == 3 and all(cache.get(k) == bodies[k] for k in kept)
    cache.set("gzip;-", b"x" * 100)  # a response compressed afresh each time is never stored
    cache.set("gzip;/_dash-component-suites/huge.v1m1.js", b"x" * 20_000)  # larger than the bound: not stored
    assert cache.get("gzip;-") is None and cache.get("gzip;/_dash-component-suites/huge.v1m1.js") is None


def test_the_default_ceilings_hold_the_built_in_sets():
    """128 MB holds both 70,000-image built-in sets (12.0 + 28.8 MB of pages, README) with room for a new version."""
    assert thumbnails.SPRITE_CACHE_BYTES // 2 > (12.0 + 28.8) * 2**20
    assert SpriteGrid.of((28, 28)).per_page == 500


def test_view_cache_holds_one_entry_per_array_layout_and_colouring(explorer_cache):
    """``DatasetView.cached`` is bounded by what the cache holds, not by requests: drawing every view
    again, or asking for what does not exist, adds no entry."""
    from core.store import ArtifactStore
    from explorer.figures import scatter_figure
    from explorer.store import ExplorerStore

    store = ExplorerStore(ArtifactStore(explorer_cache))

    ds = store.get("mnist")  # one dataset: the other's entries are made the same way

    def draw_everything() -> set[str]:
        for m in ds.models.values():
            for projection in m.projection_dirs:
                for colour in ("true", "pred", "correct", "confidence", "issues", "faith"):
                    scatter_figure(m, projection, colour, layers=["labels", "density"])
            m.dynamics, m.confusion, m.knn
        return set(ds._cache)

    first = draw_everything()
    assert draw_everything() == first
    m = ds.pick(None)
    for projection, colour in [("bogus", "true"), ("umap", "bogus"), ("umap/../x", "faith")]:
        with pytest.raises((KeyError, ValueError)):
            scatter_figure(m, projection, colour, layers=["labels", "density"])
    assert set(ds._cache) == first

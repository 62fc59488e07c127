"""Explorer HTTP routes through the Flask test client: sprites, thumbnails, APIs, assets, compression."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from synthetic.cache import decode_row
from explorer_helpers import GOOD, ROOT, client, dash_post, decode_typed, png_array, store  # noqa: F401
from explorer.thumbnails import TILE, SpriteCache, encode_png, page_size, sprite_page, tile_position


# -- sprites and thumbnails ----------------------------------------------------------
def test_sprite_page_layout_matches_tile_position(rng):
    images = rng.integers(0, 256, (750, 28, 28), dtype=np.uint8)
    page0, page1 = sprite_page(images, 0), sprite_page(images, 1)
    assert page0.shape == (5 * TILE, 100 * TILE) and page1.shape == (3 * TILE, 100 * TILE)  # 500 tiles a page
    assert page_size(750, 1) == (2800, 84) and page_size(750, 0) == (2800, 140)
    for row in (0, 99, 100, 499, 500, 749):
        page, x, y = tile_position(row)
        sheet = page0 if page == 0 else page1
        assert np.array_equal(sheet[y:y + TILE, x:x + TILE], images[row])
    with pytest.raises(IndexError):
        sprite_page(images, 2)


def test_sprite_pages_are_prepared_in_the_background_once_per_version(rng):
    images = rng.integers(0, 256, (1200, 28, 28), dtype=np.uint8)
    cache = SpriteCache()
    thread = cache.warm("d", "v1", lambda: images, len(images), first=2)
    assert cache.warm("d", "v1", images, len(images)) is None  # one warm-up per dataset version
    thread.join(30)
    assert sorted(k[2] for k in cache._pages) == [0, 1, 2]
    for p in range(3):
        assert cache.get("d", "v1", images, p) == encode_png(sprite_page(images, p))
    cache.warm("d", "v2", images, len(images)).join(30)  # a new version is new images
    assert len(cache._pages) == 6


def test_sprite_route_serves_every_image(client, store):
    ds = store.get("mnist")
    r = client.get(f"/sprites/mnist/0.png?v={ds.version}")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert "immutable" in r.headers["Cache-Control"]
    sheet = png_array(r.data)
    assert sheet.shape == (3 * TILE, 100 * TILE)
    for row in (0, 7, 123, 299):
        _, x, y = tile_position(row)
        tile = sheet[y:y + TILE, x:x + TILE]
        assert np.array_equal(tile, ds.images[row]) and decode_row(tile) == row


def test_thumb_route_scales_crisply(client, store):
    ds = store.get("fashion-mnist")
    r = client.get("/thumb/fashion-mnist/42.png?scale=4")
    assert r.status_code == 200
    img = png_array(r.data)
    assert img.shape == (112, 112)
    assert np.array_equal(img[::4, ::4], ds.images[42]) and np.array_equal(img[3::4, 3::4], ds.images[42])
    assert png_array(client.get("/thumb/fashion-mnist/42.png").data).shape == (112, 112)  # default 4


@pytest.mark.parametrize("url, status, message", [
    ("/thumb/mnist/-1.png", 400, "non-negative integer"),
    ("/thumb/mnist/300.png", 400, "must be < 300 (got 300)"),
    ("/thumb/mnist/99999999999.png", 400, "must be < 300 (got 99999999999): too large, the largest valid index is 299"),
    ("/api/neighbours/mnist/cnn/1234567890123", 400, "too large"),
    ("/api/neighbours/mnist/cnn/1234567890123", 400, "the largest valid index is 299"),
    ("/thumb/mnist/abc.png", 400, "non-negative integer (got 'abc')"),
    ("/thumb/mnist/1.5.png", 400, "non-negative integer"),
    ("/thumb/mnist/3.png?scale=0", 400, "scale must be an integer from 1 to 16"),
    ("/thumb/mnist/3.png?scale=x", 400, "scale must be an integer from 1 to 16"),
    ("/thumb/svhn/3.png", 404, "unknown dataset 'svhn'"),
    ("/sprites/mnist/1.png", 400, "page must be < 1"),
    ("/sprites/mnist/-1.png", 400, "non-negative integer"),
    ("/api/neighbours/mnist/cnn/300", 400, "must be < 300"),
    ("/api/neighbours/mnist/tsne/3", 404, "MNIST has no model 'tsne'; its models: pixels, mlp, cnn"),
    ("/api/points/mnist.json?model=resnet", 404, "MNIST has no model 'resnet'"),
    ("/api/dynamics/mnist.json?model=pixels", 404, "MNIST · Raw pixels (k-NN) has no training dynamics"),
])
def test_routes_reject_bad_input_with_a_message(client, url, status, message):
    r = client.get(url)
    assert r.status_code == status
    body = r.get_data(as_text=True)
    assert message in body and "Traceback" not in body


@pytest.mark.parametrize("url", [
    "/_dash-component-suites/dash/../../../../etc/passwd",
    "/_dash-component-suites/dash/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/_dash-component-suites/dash/no-such-file.js",
    "/api/neighbours/mnist%2f..%2f../cnn/1",
    "/api/neighbours/mnist/cnn/1/2",
    "/api/points/mnist%2f..%2fx.json",
    "/api/nope",
    "/api",
    "/sprites/mnist/0/1.png",
    "/thumb/mnist%2f..%2f/3.png",
])
def test_hostile_paths_answer_404_not_the_page_nor_500(client, url):
    r = client.get(url)
    body = r.get_data(as_text=True)
    assert r.status_code == 404, (r.status_code, body[:200])
    assert "<!DOCTYPE html>" not in body and "Traceback" not in body and "root:" not in body


@pytest.mark.parametrize("method, url, allow", [
    ("DELETE", "/api/status", "GET"), ("POST", "/api/status", "GET"), ("PUT", "/api/points/mnist.json", "GET"),
    ("DELETE", "/api/neighbours/mnist/cnn/5", "GET"), ("POST", "/api/dynamics/mnist.json", "GET"),
    ("DELETE", "/sprites/mnist/0.png", "GET"), ("PATCH", "/thumb/mnist/3.png", "GET"), ("DELETE", "/healthz", "GET"),
    ("GET", "/_dash-update-component", "POST"),  # not the page, as Dash's catch-all would answer
])
def test_a_method_a_route_does_not_take_is_405_with_allow(client, method, url, allow):
    """Issue 26: ``DELETE /api/status`` was "no such route" (404) though the route is there."""
    r = client.open(url, method=method)
    body = r.get_data(as_text=True)
    assert r.status_code == 405, (r.status_code, body[:200])
    assert allow in r.headers["Allow"].split(", ") and method not in r.headers["Allow"]
    assert f"method {method} not allowed on {url}" in body and "<!DOCTYPE html>" not in body


def test_a_route_that_does_not_exist_stays_404_whatever_the_method(client):
    for method in ("GET", "DELETE", "POST"):
        r = client.open("/api/nope", method=method)
        assert r.status_code == 404 and "no such route: /api/nope" in r.get_data(as_text=True), method
    assert client.get("/api/status").status_code == 200 and client.options("/api/status").status_code == 200


def test_neighbours_and_points_routes(client, store):
    ds = store.get("mnist")
    for model in ("cnn", "pixels"):  # each model's own graph and predictions
        r = client.get(f"/api/neighbours/mnist/{model}/5")
        assert r.status_code == 200 and r.json["model"] == model
        assert [n["row"] for n in r.json["neighbours"]] == ds.model(model).knn[5].tolist()
        assert [n["pred"] for n in r.json["neighbours"]] == ds.model(model).pred[ds.model(model).knn[5]].tolist()
    assert ds.model("cnn").knn[5].tolist() != ds.model("pixels").knn[5].tolist()
    r = client.get("/api/points/mnist.json", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(r.data))
    cnn = ds.model("cnn")  # no ?model=: the default model
    assert body["model"] == "cnn" and body["labels"] == ds.labels.tolist() and body["pred"] == cnn.pred.tolist()
    assert body["conf"][3] == pytest.approx(float(cnn.proba[3].max()) * 100, abs=1e-3)  # in %, 3 decimals
    pixels = client.get("/api/points/mnist.json?model=pixels").json
    assert pixels["pred"] == ds.model("pixels").pred.tolist() != body["pred"]


def test_page_and_layout_served_without_debug(client, explorer_app):
    r = client.get("/")
    assert r.status_code == 200 and b"Embedding explorer" in r.data
    assert r.headers.get("Content-Encoding") is None  # asked for no gzip, gets none
    assert not explorer_app.server.debug
    assert client.get("/healthz").data == b"ok\n"


@pytest.mark.parametrize("asset", ["hover.js", "dynamics.js", "style.css"])
def test_assets_sent_gzipped_and_revalidated(client, asset):
    raw = (ROOT / "explorer" / "assets" / asset).read_bytes()
    r = client.get(f"/assets/{asset}", headers={"Accept-Encoding": "gzip, deflate"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(r.data) == raw and int(r.headers["Content-Length"]) == len(r.data)
    assert r.headers["ETag"].startswith('W/"') and "Accept-Encoding" in r.headers["Vary"]
    again = client.get(f"/assets/{asset}", headers={"Accept-Encoding": "gzip", "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    plain = client.get(f"/assets/{asset}")  # no Accept-Encoding: the file as is
    assert plain.headers.get("Content-Encoding") is None and plain.data == raw
    for resp in (r, again, plain):
        resp.close()


def test_dynamics_route(client, store):
    for query, model in (("", "cnn"), ("?model=cnn", "cnn"), ("?model=mlp", "mlp")):
        dyn = store.get("mnist").model(model).dynamics
        r = client.get("/api/dynamics/mnist.json" + query)
        assert r.status_code == 200 and r.json["model"] == model
        xy = decode_typed(r.json["xy"]).reshape(dyn.n_frames, dyn.m, 2)
        assert np.array_equal(xy, dyn.frames)
    r = client.get("/api/dynamics/fashion-mnist.json")
    assert r.status_code == 404 and b"no training dynamics" in r.data


def test_bound_to_localhost_and_debug_off_by_default(explorer_app):
    import inspect

    from explorer.__main__ import main
    from explorer.server import serve

    params = inspect.signature(serve).parameters
    assert params["host"].default == "127.0.0.1" and params["debug"].default is False
    assert not explorer_app.server.debug and not explorer_app.config.get("debug")
    seen = {}
    import explorer.server as server_mod
    real = server_mod.serve
    server_mod.serve = lambda cache, **kw: seen.update(kw)
    try:
        main(["--cache-dir", "/nonexistent"])
    finally:
        server_mod.serve = real
    assert seen["host"] == "127.0.0.1" and seen["debug"] is False


# -- compression ------------------------------------------------------------------------------------------
def test_bundles_and_callbacks_gzipped_each_with_its_own_body(client, explorer_app):
    import plotly

    mtime = int((Path(plotly.__file__).parent / "package_data" / "plotly.min.js").stat().st_mtime)
    url = f"/_dash-component-suites/plotly/package_data/plotly.v{plotly.__version__.replace('.', '_')}m{mtime}.min.js"
    raw = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    first, again = (client.get(url, headers={"Accept-Encoding": "gzip"}) for _ in range(2))
    assert first.headers["Content-Encoding"] == "gzip" and gzip.decompress(first.data) == raw
    assert again.data == first.data and int(again.headers["Content-Length"]) == len(again.data)
    # dynamic responses share one path: each must be compressed afresh, never served from the cache
    gz = {"Accept-Encoding": "gzip"}
    figs = [dash_post(client, explorer_app, "render_scatter", {**GOOD, "ctl-dataset.value": n},
                      changed=["ctl-dataset.value"], headers=gz) for n in ("mnist", "fashion-mnist")]
    metas = [json.loads(gzip.decompress(r.data))["response"]["ex-scatter"]["figure"]["layout"]["meta"]
             for r in figs]
    assert [m["dataset"] for m in metas] == ["mnist", "fashion-mnist"]
    assert all(r.headers["Content-Encoding"] == "gzip" for r in figs)

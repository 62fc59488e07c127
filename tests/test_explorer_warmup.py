"""Issue 26: a server prepares at start what first requests need, so they load, verify and encode nothing."""
from __future__ import annotations

import numpy as np
import pytest

import core.store
from core.store import ArtifactStore
from explorer_helpers import png_array
from explorer import thumbnails, warmup
from synthetic.cache import write_synthetic_cache

N = 150


@pytest.fixture
def cache(tmp_path):
    write_synthetic_cache(tmp_path, n=N, seed=0)
    return tmp_path


class Counts:
    """Array loads, sha256 checks and PNG encodes done in this process from :meth:`watch` on."""

    def __init__(self, monkeypatch) -> None:
        self.monkeypatch = monkeypatch
        self.loads = self.hashes = self.encodes = 0

    def watch(self) -> "Counts":
        load_array, digest, encode = ArtifactStore.load_array, core.store.file_digest, thumbnails.encode_png

        def counted_load(store, *a, **k):
            self.loads += 1
            return load_array(store, *a, **k)

        def counted_digest(*a, **k):
            self.hashes += 1
            return digest(*a, **k)

        def counted_encode(*a, **k):
            self.encodes += 1
            return encode(*a, **k)

        self.monkeypatch.setattr(ArtifactStore, "load_array", counted_load)
        self.monkeypatch.setattr(core.store, "file_digest", counted_digest)
        self.monkeypatch.setattr(thumbnails, "encode_png", counted_encode)
        return self

    def __repr__(self) -> str:
        return f"loads {self.loads}, sha256 {self.hashes}, encodes {self.encodes}"


def first_requests(client, store) -> None:
    """One request of each kind a page (or the load test) makes first, for every dataset and model;
    each answer is checked against the cache."""
    r = client.get("/")  # the page: its layout is built for every load
    assert r.status_code == 200 and b"_dash-config" in r.data
    for name in store.names:
        ds = store.get(name)
        row = ds.n - 1
        r = client.get(f"/thumb/{name}/{row}.png?v={ds.version}")  # the route's default scale: the hover's
        assert r.status_code == 200 and np.array_equal(png_array(r.data)[::4, ::4], ds.images[row])
        for m in ds.models.values():
            r = client.get(f"/api/neighbours/{name}/{m.name}/{row}")
            assert r.status_code == 200 and [nb["row"] for nb in r.json["neighbours"]] == m.knn[row].tolist()
            r = client.get(f"/api/points/{name}.json?model={m.name}")
            assert r.status_code == 200 and r.json["pred"] == m.pred.tolist()
        r = client.get(f"/sprites/{name}/0.png?v={ds.version}")
        assert r.status_code == 200 and np.array_equal(png_array(r.data)[:ds.grid.h, :ds.grid.w], ds.images[0])


def test_serve_prepares_at_start_and_first_requests_then_load_verify_and_encode_nothing(cache, monkeypatch):
    import waitress

    from explorer.server import serve

    served = []
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: served.append(app))  # return instead of serving
    serve(cache, port=0)
    server = served[0]
    prep = server.extensions["explorer_warmup"]
    assert prep.wait(120), "the preparation did not finish"
    assert prep.passes == 1 and prep.last["datasets"] == ["mnist", "fashion-mnist"]
    assert prep.last["thumbnails"] == 2 * N  # every row of both datasets, at the hover scale
    thumbs = server.extensions["explorer_images"]["thumbs"]
    store = prep.store
    ds = store.get("mnist")
    # what the separate encoding process made is what a request would have encoded
    assert thumbs.get("mnist", ds.version, ds.images, 7, 4) == thumbnails.encode_png(ds.images[7], 4)

    counts = Counts(monkeypatch).watch()
    first_requests(server.test_client(), store)
    assert (counts.loads, counts.hashes, counts.encodes) == (0, 0, 0), counts


def test_without_the_preparation_the_same_requests_load_verify_and_encode(cache, monkeypatch):
    """The control: the counters of the test above do see a cold server's work."""
    from explorer.app import create_app

    counts = Counts(monkeypatch).watch()
    app = create_app(ArtifactStore(cache))
    first_requests(app.server.test_client(), app.explorer_store)
    assert counts.loads >= 2 * (3 + 3 * 3) and counts.hashes >= counts.loads and counts.encodes >= 2 * 2, counts


def test_the_preparation_follows_a_republished_dataset_and_leaves_the_old_one(cache, monkeypatch):
    from explorer.app import create_app

    app = create_app(ArtifactStore(cache))
    prep = warmup.start(app)
    assert prep.wait(120)
    store, thumbs = app.explorer_store, app.server.extensions["explorer_images"]["thumbs"]
    old = store.get("mnist")
    write_synthetic_cache(cache, n=N - 30, seed=1)  # new samples: new folders, current.json rewritten
    assert store.maybe_reload(force=True)
    new = store.get("mnist")
    assert new is not old and new.version != old.version
    assert prep.wait(120) and prep.passes == 2 and prep.last["thumbnails"] == 2 * (N - 30)
    assert all(("mnist", new.version, row, 4) in thumbs._thumbs for row in range(new.n))
    assert prep._thumbnails([old]) == (0, 0)  # a replaced view gets no more thumbnails
    counts = Counts(monkeypatch).watch()
    first_requests(app.server.test_client(), store)
    assert (counts.loads, counts.hashes, counts.encodes) == (0, 0, 0), counts


def test_thumbnails_are_prepared_in_the_server_process_where_no_other_can_start(cache, monkeypatch):
    from explorer.app import create_app

    def no_process(*a, **k):
        raise OSError("no processes here")

    monkeypatch.setattr(warmup.subprocess, "Popen", no_process)
    app = create_app(ArtifactStore(cache))
    prep = warmup.start(app)
    assert prep.wait(120) and prep.last["thumbnails"] == 2 * N
    counts = Counts(monkeypatch).watch()
    first_requests(app.server.test_client(), app.explorer_store)
    assert (counts.loads, counts.hashes, counts.encodes) == (0, 0, 0), counts


def test_the_preparation_stops_at_its_share_of_the_thumbnail_bound(cache, monkeypatch):
    from explorer.app import create_app

    app = create_app(ArtifactStore(cache))
    store = app.explorer_store
    one = max(len(thumbnails.encode_png(store.get(n).images[r], 4)) for n in store.names for r in range(N))
    monkeypatch.setattr(thumbnails, "THUMB_CACHE_BYTES", 40 * one)
    app = create_app(ArtifactStore(cache))  # its thumbnail cache holds 40 of the largest, its preparation 20
    prep = warmup.start(app)
    thumbs = app.server.extensions["explorer_images"]["thumbs"]
    assert prep.wait(120)
    budget = thumbs.max_bytes * warmup.THUMB_SHARE
    assert budget < prep.last["thumbnail_bytes"] <= budget + one  # it stops at the first one past its share
    assert prep.last["thumbnails"] < 2 * N and thumbs.bytes_held <= thumbs.max_bytes


@pytest.mark.parametrize("shape", [(28, 28), (20, 36), (28, 28, 1), (16, 24, 3)])
@pytest.mark.parametrize("scale", [2, 5])
def test_enlarged_png_holds_the_repeated_pixels(shape, scale):
    from PIL import Image
    import io

    a = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    im = Image.open(io.BytesIO(thumbnails.encode_png(a, scale)))
    want = np.repeat(np.repeat(a, scale, axis=0), scale, axis=1)
    assert im.mode == ("RGB" if len(shape) == 3 and shape[2] == 3 else "L")
    assert np.array_equal(np.asarray(im), want[:, :, 0] if want.ndim == 3 and want.shape[2] == 1 else want)


def test_a_damaged_file_is_left_to_the_request_that_needs_it(cache, caplog):
    from explorer.app import create_app

    images = next((cache / "mnist" / "samples").glob("*/images.npy"))
    blob = bytearray(images.read_bytes())
    blob[-1] ^= 0xFF  # same size, another sha256
    images.write_bytes(bytes(blob))
    app = create_app(ArtifactStore(cache))
    prep = warmup.start(app)
    assert prep.wait(120) and prep.passes == 1
    assert prep.last["thumbnails"] == N  # fashion-mnist's only: no image of a damaged file is prepared
    assert "mnist: images not prepared" in caplog.text and "is damaged" in caplog.text
    client = app.server.test_client()
    r = client.get("/thumb/mnist/3.png")
    assert r.status_code == 503 and "images.npy is damaged" in r.get_data(as_text=True)
    assert client.get("/api/neighbours/mnist/cnn/3").status_code == 200  # the rest of mnist was prepared
    assert client.get("/thumb/fashion-mnist/3.png").status_code == 200

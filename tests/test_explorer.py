"""Fast explorer tests without a browser: store, sprites, HTTP routes, URL state, figures."""
from __future__ import annotations

import base64
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer_data import KNOWN_CELLS, decode_row
from explorer import figures as F
from explorer.state import ViewState, parse_query, to_query
from explorer.store import ExplorerStore
from explorer.thumbnails import TILE, page_size, sprite_page, tile_position
from pipeline.cache import ArtifactStore, CacheError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def store(explorer_cache) -> ExplorerStore:
    return ExplorerStore(ArtifactStore(explorer_cache))


@pytest.fixture(scope="module")
def client(explorer_app):
    return explorer_app.server.test_client()


def png_array(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def decode_typed(spec: dict) -> np.ndarray:
    dtype = {"f4": np.float32, "i4": np.int32, "u1": np.uint8}[spec["dtype"]]
    return np.frombuffer(base64.b64decode(spec["bdata"]), dtype=dtype)


# -- store -------------------------------------------------------------------------
def test_store_reads_both_datasets(store):
    assert store.names == ["mnist", "fashion-mnist"]
    ds = store.get("fashion-mnist")
    assert ds.class_names[6] == "Shirt" and ds.n == 300
    assert ds.images.shape == (300, 28, 28) and isinstance(ds.images, np.memmap)
    assert ds.coords("pixels", "tsne").shape == (300, 2)
    assert ds.confusion.sum() == 300
    for (t, p), count in KNOWN_CELLS["fashion-mnist"].items():
        assert ds.confusion[t, p] == count == len(ds.rows_in_cell(t, p))
    # the confusion the explorer computes agrees with the model's metrics.json here (test set)
    assert ds.confusion.tolist() == ds.metrics["confusion"]
    assert store.report["datasets"]["mnist"]["spaces"]["cnn"]["knn_accuracy"] > 0.5


def test_store_errors_name_the_problem(tmp_path, store):
    with pytest.raises(CacheError, match="current.json is missing"):
        ExplorerStore(ArtifactStore(tmp_path))
    with pytest.raises(KeyError, match="unknown dataset 'cifar'"):
        store.get("cifar")
    with pytest.raises(KeyError, match="no cnn/isomap projection"):
        store.get("mnist").coords("cnn", "isomap")


def test_serve_without_current_json_raises(tmp_path):
    from explorer.server import serve

    with pytest.raises(CacheError, match="current.json is missing"):
        serve(tmp_path, port=0)


def test_import_stays_light():
    """Starting the app must not pull in TensorFlow, sklearn or umap."""
    code = ("import sys; from explorer.app import create_app; import explorer.server; "
            "bad = [m for m in ('tensorflow', 'keras', 'sklearn', 'umap', 'openTSNE') if m in sys.modules]; "
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# -- sprites and thumbnails ----------------------------------------------------------
def test_sprite_page_layout_matches_tile_position(rng):
    images = rng.integers(0, 256, (10_250, 28, 28), dtype=np.uint8)
    page0, page1 = sprite_page(images, 0), sprite_page(images, 1)
    assert page0.shape == (2800, 2800) and page1.shape == (3 * TILE, 100 * TILE)
    assert page_size(10_250, 1) == (2800, 84)
    for row in (0, 99, 100, 9_999, 10_000, 10_249):
        page, x, y = tile_position(row)
        sheet = page0 if page == 0 else page1
        assert np.array_equal(sheet[y:y + TILE, x:x + TILE], images[row])
    with pytest.raises(IndexError):
        sprite_page(images, 2)


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
    ("/thumb/mnist/99999999999.png", 400, "non-negative integer"),
    ("/thumb/mnist/abc.png", 400, "non-negative integer (got 'abc')"),
    ("/thumb/mnist/1.5.png", 400, "non-negative integer"),
    ("/thumb/mnist/3.png?scale=0", 400, "scale must be an integer from 1 to 16"),
    ("/thumb/mnist/3.png?scale=x", 400, "scale must be an integer from 1 to 16"),
    ("/thumb/svhn/3.png", 404, "unknown dataset 'svhn'"),
    ("/sprites/mnist/1.png", 400, "page must be < 1"),
    ("/sprites/mnist/-1.png", 400, "non-negative integer"),
    ("/api/neighbours/mnist/cnn/300", 400, "must be < 300"),
    ("/api/neighbours/mnist/tsne/3", 400, "space must be one of cnn, pixels"),
])
def test_routes_reject_bad_input_with_a_message(client, url, status, message):
    r = client.get(url)
    assert r.status_code == status
    body = r.get_data(as_text=True)
    assert message in body and "Traceback" not in body


def test_neighbours_and_points_routes(client, store):
    ds = store.get("mnist")
    r = client.get("/api/neighbours/mnist/cnn/5")
    assert r.status_code == 200
    assert [n["row"] for n in r.json["neighbours"]] == ds.knn("cnn")[5].tolist()
    r = client.get("/api/points/mnist.json", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(r.data))
    assert body["labels"] == ds.labels.tolist() and body["pred"] == ds.pred.tolist()
    assert body["conf"][3] == round(float(ds.proba[3].max()) * 100)


def test_page_and_layout_served_without_debug(client, explorer_app):
    r = client.get("/")
    assert r.status_code == 200 and b"Embedding explorer" in r.data
    assert r.headers.get("Content-Encoding") is None  # asked for no gzip, gets none
    assert not explorer_app.server.debug
    assert client.get("/healthz").data == b"ok\n"


# -- URL state ---------------------------------------------------------------------------
DATASETS = ["mnist", "fashion-mnist"]


def test_query_round_trip():
    s = ViewState(tab="projections", ds="fashion-mnist", space="pixels", proj="pca", colour="correct",
                  cell=(6, 0), space2="cnn", proj2="umap")
    q = to_query(s)
    assert "cell=6-0" in q and q.startswith("?")
    assert parse_query(q, DATASETS) == s
    assert "cell" not in to_query(ViewState())


@pytest.mark.parametrize("query, field, expected", [
    ("", "ds", "mnist"),
    ("?ds=cifar", "ds", "mnist"),
    ("?proj=isomap", "proj", "umap"),
    ("?colour=rainbow", "colour", "true"),
    ("?cell=6-0", "cell", (6, 0)),
    ("?cell=10-0", "cell", None),
    ("?cell=-1-2", "cell", None),
    ("?cell=abc", "cell", None),
    ("?tab=datasets&tab=projections", "tab", "projections"),
])
def test_query_parsing_falls_back_to_defaults(query, field, expected):
    assert getattr(parse_query(query, DATASETS), field) == expected


# -- figures ------------------------------------------------------------------------------
@pytest.mark.parametrize("colour", ["true", "pred", "correct", "confidence"])
def test_scatter_carries_rows_and_no_images(store, colour):
    ds = store.get("fashion-mnist")
    fig = F.scatter_figure(ds, "cnn", "umap", colour)
    base, overlay = fig["data"][:-1], fig["data"][-1]
    assert overlay["name"] == F.HIGHLIGHT and len(decode_typed(overlay["x"])) == 0
    rows = np.concatenate([decode_typed(t["customdata"]) for t in base])
    assert sorted(rows.tolist()) == list(range(ds.n))  # every point exactly once
    coords = ds.coords("cnn", "umap")
    t = base[-1]
    r = decode_typed(t["customdata"])
    assert np.array_equal(decode_typed(t["x"]), coords[r, 0])
    assert "base64" not in json.dumps(fig)[:100_000].replace("bdata", "")  # no inlined images
    # event points map back to the same rows
    pts = [{"curveNumber": len(base) - 1, "pointNumber": i} for i in range(len(r))]
    pts.append({"curveNumber": len(base), "pointNumber": 0})  # overlay points are ignored
    assert F.rows_from_points(ds, colour, pts).tolist() == sorted(r.tolist())


def test_scatter_payload_stays_small_at_70k(tmp_path):
    """70,000 points: coordinates and rows as binary, about 1.1 MB of JSON before gzip."""
    from explorer.store import DatasetView

    n = 70_000
    rng = np.random.default_rng(0)
    root = tmp_path
    (root / "e").mkdir()
    (root / "p").mkdir()
    np.save(root / "e" / "labels.npy", rng.integers(0, 10, n).astype(np.uint8))
    np.save(root / "e" / "pred.npy", rng.integers(0, 10, n).astype(np.uint8))
    np.save(root / "e" / "proba.npy", rng.dirichlet(np.ones(10), n).astype(np.float32))
    np.save(root / "p" / "coords.npy", rng.normal(size=(n, 2)).astype(np.float32))
    ds = DatasetView(name="big", title="Big", class_names=[str(i) for i in range(10)], sample_set="all",
                     n=n, embed_dir=root / "e", model_dir=root, projection_dirs={"cnn": {"umap": root / "p"}})
    for colour in ("true", "confidence"):
        body = json.dumps(F.scatter_figure(ds, "cnn", "umap", colour)).encode()
        assert len(body) < 1_500_000, (colour, len(body))


def test_confusion_figure_and_selection_counts(store):
    ds = store.get("mnist")
    fig = F.confusion_figure(ds, ds.confusion, cell=(4, 9))
    off = fig["data"][1]["z"]
    assert off[4][9] == KNOWN_CELLS["mnist"][(4, 9)] and off[4][4] is None
    assert fig["layout"]["shapes"][0]["x0"] == 8.5
    rows = ds.rows_in_cell(4, 9)
    m = F.selection_confusion(ds, np.concatenate([rows, ds.rows_in_cell(1, 1)]))
    assert m[4, 9] == len(rows) and m[1, 1] == ds.confusion[1, 1] and m.sum() == len(rows) + m[1, 1]


def test_selection_csv(store):
    from explorer.callbacks import selection_csv

    ds = store.get("fashion-mnist")
    rows = ds.rows_in_cell(6, 0)
    lines = selection_csv(ds, rows, "cnn", "umap").strip().splitlines()
    assert lines[0] == "row,index,true,true_name,predicted,predicted_name,confidence,umap_x,umap_y"
    assert len(lines) == len(rows) + 1
    first = lines[1].split(",")
    assert first[3] == "Shirt" and first[5] == "T-shirt/top"
    assert float(first[7]) == pytest.approx(float(ds.coords("cnn", "umap")[rows[0], 0]), abs=1e-3)

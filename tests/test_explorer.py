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
from core.store import ArtifactStore, CacheError

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
    from explorer.panels import selection_csv

    ds = store.get("fashion-mnist")
    rows = ds.rows_in_cell(6, 0)
    lines = selection_csv(ds, rows, "cnn", "umap").strip().splitlines()
    assert lines[0] == "row,index,true,true_name,predicted,predicted_name,confidence,umap_x,umap_y"
    assert len(lines) == len(rows) + 1
    first = lines[1].split(",")
    assert first[3] == "Shirt" and first[5] == "T-shirt/top"
    assert float(first[7]) == pytest.approx(float(ds.coords("cnn", "umap")[rows[0], 0]), abs=1e-3)


# -- training dynamics ---------------------------------------------------------------------
def test_dynamics_loaded_and_mapped_to_embed_rows(store):
    from explorer_data import DYNAMICS_EPOCHS, DYNAMICS_MISSING

    assert store.get("fashion-mnist").dynamics is None  # "dynamics": null in current.json
    ds = store.get("mnist")
    dyn = ds.dynamics
    assert dyn.frames.shape == (len(DYNAMICS_EPOCHS), dyn.m, 2) and dyn.epochs.tolist() == list(DYNAMICS_EPOCHS)
    assert not np.allclose(dyn.frames[0], dyn.frames[-1])
    present = dyn.rows >= 0
    assert (~present).sum() == DYNAMICS_MISSING  # test ids the embed set lacks map to -1
    assert np.array_equal(ds.sample_ids[dyn.rows[present]], dyn.index[present])
    assert np.array_equal(ds.labels[dyn.rows[present]], dyn.labels[present])
    assert len(set(dyn.metric("test_accuracy"))) == dyn.n_frames


def test_rows_of_test_ids_with_full_set_and_subsets():
    from explorer.store import rows_of_test_ids

    ids = np.array([60_000 + 5, 3, 60_000 + 0, 59_999])  # shuffled "all" set, missing test id 7
    assert rows_of_test_ids(np.array([0, 5, 7]), ids, "all").tolist() == [2, 0, -1]
    assert rows_of_test_ids(np.array([3, 4]), np.array([9, 3]), "test").tolist() == [1, -1]
    assert rows_of_test_ids(np.array([3]), np.array([], np.int64), "test").tolist() == [-1]


def test_dynamics_figures_and_words(store):
    from explorer import dynamics as D

    ds = store.get("mnist")
    dyn = ds.dynamics
    epochs = D.steps(store)
    assert epochs == [0.0, 0.05, 0.5, 1.0, 2.0]
    assert [D.mark_label(e) for e in epochs] == ["untrained", "5%", "50%", "epoch 1", "epoch 2"]
    assert D.epoch_label(0.05) == "5% of epoch 1" and D.epoch_label(2.4) == "40% of epoch 3"
    for colour in ("true", "pred", "correct", "confidence"):
        fig = D.scatter_figure(ds, 3, colour, list(range(5)), epochs)
        pts = fig["data"][0]
        assert np.array_equal(decode_typed(pts["x"]), dyn.frames[3, :, 0])
        assert decode_typed(pts["customdata"]).tolist() == dyn.rows.tolist()
        assert fig["layout"]["meta"]["explorer"] == "dynamics"
    legend = [t["name"] for t in D.scatter_figure(ds, 3, "true", [0], epochs)["data"][1:]]
    assert legend == ds.class_names
    chart = D.chart_figure(ds, 3, (4, 9))
    assert chart["data"][0]["y"][3] == pytest.approx(100 * dyn.rows_json[3]["test_accuracy"])
    c = dyn.confusion(3)
    assert chart["data"][1]["y"][3] == c[4, 9] + c[9, 4]
    line = D.stats_line(ds, 3, (4, 9))
    assert line.startswith(f"epoch 1 · test accuracy {100 * dyn.rows_json[3]['test_accuracy']:.1f}% · 4↔9")
    # whole epochs: the frame's test accuracy is the model's val_accuracy
    hist = json.loads((ds.model_dir / "history.json").read_text())
    assert [dyn.rows_json[i]["test_accuracy"] for i in (3, 4)] == hist["val_accuracy"]


def test_dynamics_route(client, store):
    dyn = store.get("mnist").dynamics
    r = client.get("/api/dynamics/mnist.json")
    assert r.status_code == 200
    xy = decode_typed(r.json["xy"]).reshape(dyn.n_frames, dyn.m, 2)
    assert np.array_equal(xy, dyn.frames)
    r = client.get("/api/dynamics/fashion-mnist.json")
    assert r.status_code == 404 and b"no training dynamics" in r.data


# -- live reload, progress, status ------------------------------------------------------------
def test_store_follows_current_json_and_progress(tmp_path):
    import os
    import time

    from explorer_data import write_synthetic_cache
    from explorer.app import create_app
    from core.store import write_json_atomic

    write_synthetic_cache(tmp_path, n=120, seed=1)
    full = json.loads((tmp_path / "current.json").read_text())
    only_mnist = {**full, "datasets": {"mnist": full["datasets"]["mnist"]}}
    write_json_atomic(tmp_path / "current.json", only_mnist)
    app = create_app(ArtifactStore(tmp_path))
    store, client = app.explorer_store, app.server.test_client()
    assert callable(app.layout)  # built per page load
    assert client.get("/api/status").json == {"datasets": ["mnist"], "progress": None,
                                              "sizes": {"mnist": {"n": 120, "title": "MNIST"}}}
    progress = {"pid": os.getpid(), "updated": time.time(),
                "datasets": {"mnist": {"stage": "ready", "detail": ""},
                             "fashion-mnist": {"stage": "train", "detail": "8 epochs",
                                               "title": "Fashion-MNIST"}}}
    write_json_atomic(tmp_path / "progress.json", progress)
    assert client.get("/api/status").json["progress"] == progress
    assert b"Fashion-MNIST is still being prepared: training (8 epochs)" in client.get("/_dash-layout").data
    mnist_view = store.get("mnist")
    mnist_view.labels  # loaded arrays must survive the reload

    write_json_atomic(tmp_path / "current.json", full)
    os.utime(tmp_path / "current.json", ns=(time.time_ns() + 10**9,) * 2)  # coarse-mtime filesystems
    store._checked = 0.0  # the once-a-second check is due
    body = client.get("/api/status").json
    assert body["datasets"] == ["mnist", "fashion-mnist"] and body["sizes"]["fashion-mnist"]["n"] == 120
    assert store.get("mnist") is mnist_view and "labels.npy" in mnist_view._cache
    assert b'"fashion-mnist"' in client.get("/_dash-layout").data  # a new page load shows it

    # a page loaded before: the poll announces the new dataset and offers a reload
    r = dash_post(client, app, "poll_status", {"status-poll.n_intervals": 3, "page-datasets.data": ["mnist"]})
    assert r.status_code == 200 and "Fashion-MNIST is ready" in r.get_data(as_text=True)
    # a dead pid: no progress (a killed pipeline leaves its file behind)
    write_json_atomic(tmp_path / "progress.json", {**progress, "pid": 2**22 + 12345})
    assert client.get("/api/status").json["progress"] is None
    (tmp_path / "progress.json").unlink()
    assert client.get("/api/status").json["progress"] is None


# -- hostile requests ----------------------------------------------------------------------------
def _specs(key: str) -> list[tuple[str, str]]:
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [tuple(p.rsplit(".", 1)) for p in parts]


def dash_post(client, app, name: str, values: dict, datasets: tuple = ("mnist",), changed: list | None = None,
              raw: bool = False, headers: dict | None = None):
    """POST the callback called ``name`` as the browser would, with ``values`` by ``"id.prop"``.

    Pattern-matching (ALL) ids expand to one entry per dataset in ``datasets``; their
    value in ``values`` is a ``{dataset: value}`` dict.
    """
    key, cb = next((k, v) for k, v in app.callback_map.items()
                   if getattr(v.get("callback"), "__name__", None) == name)

    def expand(id_: str, prop: str, with_value: bool):
        if id_.startswith("{"):
            pat = json.loads(id_)
            vals = values.get(f"{pat['type']}.{prop}", {})
            return [{"id": {**pat, "dataset": d}, "property": prop,
                     **({"value": vals.get(d)} if with_value else {})} for d in datasets]
        return {"id": id_, "property": prop, **({"value": values.get(f"{id_}.{prop}")} if with_value else {})}

    body = {"output": key, "outputs": [expand(i, p, False) for i, p in _specs(key)],
            "inputs": [expand(s["id"], s["property"], True) for s in cb["inputs"]],
            "state": [expand(s["id"], s["property"], True) for s in cb["state"]],
            "changedPropIds": changed if changed is not None else [next(iter(values))]}
    if len(body["outputs"]) == 1 and not key.startswith(".."):
        body["outputs"] = body["outputs"][0]
    return client.post("/_dash-update-component", json=body, headers=headers or {})


GOOD = {"tabs.value": "explore", "ctl-dataset.value": "mnist", "ctl-space.value": "cnn", "ctl-proj.value": "umap",
        "ctl-colour.value": "true", "ctl-space2.value": "cnn", "ctl-proj2.value": "tsne"}
HOSTILE = [
    ("render_scatter", {"ctl-dataset.value": {"x": 1}}, "unknown dataset dict"),
    ("render_scatter", {"ctl-dataset.value": "ñ" * 5000}, "unknown dataset"),
    ("render_scatter", {"ctl-colour.value": "rainbow"}, "colour must be one of"),
    ("render_scatter", {"ctl-proj.value": "isomap"}, "projection must be one of"),
    ("on_select", {"ex-scatter.selectedData": {"points": [0] * 1_000_001}}, "1,000,001 points is too large"),
    ("on_select", {"ex-scatter.selectedData": "garbage"}, "event data must be an object"),
    ("on_select", {"ex-scatter.selectedData": {"points": [{"curveNumber": 99, "pointNumber": -5},
                                                          {"curveNumber": "a", "pointNumber": []}, 5, None,
                                                          {"curveNumber": 0, "pointNumber": 10**12}]}}, None),
    ("on_cell_click", {"ex-confusion.clickData": {"points": [{"x": "a", "y": "b"}]}}, "must be an integer"),
    ("on_cell_click", {"ex-confusion.clickData": {"points": [{"x": 3, "y": 99}]}}, "must be from 0 to 9 (got 99)"),
    ("on_cell_click", {"ex-confusion.clickData": {"points": [{"x": -1, "y": 2}]}}, "must be from 0 to 9 (got -1)"),
    ("on_cell_click", {"ex-confusion.clickData": {"points": "x"}}, "points must be a list"),
    ("render_focus", {"ex-cell.data": {"ds": "mnist", "cell": [99, 3]}}, "must be from 0 to 9 (got 99)"),
    ("render_focus", {"ex-cell.data": {"ds": "mnist", "cell": "a-b"}}, "cell must be [true, predicted]"),
    ("render_focus", {"ex-selection.data": {"ds": "mnist", "rows": [-1, 5]}}, "selection rows must be from 0"),
    ("render_focus", {"ex-selection.data": {"ds": "mnist", "rows": [10**30]}}, "selection rows must be"),
    ("render_focus", {"ex-selection.data": {"ds": "mnist", "rows": "abc"}}, "selection must be a list"),
    ("render_focus", {"ex-selection.data": {"ds": "mnist", "rows": list(range(10**6))}}, "at most 300 rows"),
    ("render_confusion", {"ex-selection.data": {"ds": "mnist", "rows": [{"a": 1}]}}, "selection rows must be"),
    ("render_detail", {"ex-clicked.data": {"ds": "mnist", "row": 10**9}}, "clicked row must be from 0 to 299"),
    ("render_detail", {"ex-clicked.data": {"ds": "mnist", "row": "x"}}, "clicked row must be an integer"),
    ("render_detail", {"ex-clicked.data": [1, 2]}, "clicked point must be an object"),
    ("download", {"ex-download-btn.n_clicks": 1, "ex-selection.data": {"ds": "mnist", "rows": [300]}},
     "selection rows must be from 0 to 299"),
    ("on_linked_select", {"cp-left.selectedData": {"points": [{"curveNumber": 42, "pointNumber": 1}]}}, None),
    ("render_projections", {"tabs.value": "projections", "ctl-proj2.value": None}, "projection must be one of"),
    ("sync_url", {"url.search": "?" + "x" * 100_000}, None),
    ("sync_url", {"url.search": "?ds=ñ&frame=٣&cell=①-②&pair=mnist:٤-٩&tab=%00"}, None),
    ("sync_url", {"url.search": 12345}, None),
    ("sync_url", {"tabs.value": "evil"}, "tab must be one of"),
    ("render_dynamics_charts", {"tabs.value": "dynamics", "dy-frame.value": 999, "dy-pair.value": {"mnist": "4-9"}},
     "frame must be from 0 to 4 (got 999)"),
    ("render_dynamics_charts", {"tabs.value": "dynamics", "dy-frame.value": -1, "dy-pair.value": {"mnist": "4-9"}},
     "frame must be from 0 to 4 (got -1)"),
    ("render_dynamics_charts", {"tabs.value": "dynamics", "dy-frame.value": "3", "dy-pair.value": {"mnist": "4-9"}},
     "frame must be an integer"),
    ("render_dynamics_charts", {"tabs.value": "dynamics", "dy-frame.value": 1, "dy-pair.value": {"mnist": "9-9"}},
     "class pair of MNIST must be two different classes"),
    ("render_dynamics_charts", {"tabs.value": "dynamics", "dy-frame.value": 1, "dy-pair.value": {"mnist": "a-b"}},
     "class pair of MNIST"),
    ("render_dynamics", {"tabs.value": "dynamics", "dy-frame.value": 2.5}, "frame must be an integer"),
    ("render_dynamics", {"tabs.value": "dynamics", "dy-frame.value": 1}, None),
    ("poll_status", {"status-poll.n_intervals": 1, "page-datasets.data": "garbage"}, None),
]


@pytest.mark.parametrize("name, values, message", HOSTILE,
                         ids=[f"{h[0]}-{i}" for i, h in enumerate(HOSTILE)])
def test_hostile_callback_inputs_answer_with_a_message(client, explorer_app, name, values, message):
    r = dash_post(client, explorer_app, name, {**values, **{k: v for k, v in GOOD.items() if k not in values}},
                  changed=[next(iter(values))])
    body = r.get_data(as_text=True)
    assert r.status_code in (200, 204), (r.status_code, body[:300])
    assert "Traceback" not in body and 'File "' not in body
    if message is not None:
        assert r.status_code == 200 and message in body, body[:500]
        assert json.loads(body)["sideUpdate"]["alert"]["style"]["display"] == "flex"
    assert client.get("/healthz").data == b"ok\n"


def test_pattern_output_for_unknown_dataset_answers_with_a_message(client, explorer_app):
    r = dash_post(client, explorer_app, "render_datasets", {**GOOD, "tabs.value": "datasets"},
                  datasets=("mnist", "nope"), changed=["tabs.value"])
    assert r.status_code == 200 and "unknown dataset 'nope'" in r.get_data(as_text=True)


@pytest.mark.parametrize("body", [{"x": 1}, {"output": "nope.children", "inputs": [], "changedPropIds": []},
                                  "not json", [1, 2]])
def test_malformed_callback_requests_get_400_without_traceback(client, body):
    kw = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
    r = client.post("/_dash-update-component", **kw)
    assert r.status_code == 400 and "Traceback" not in r.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200


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


def test_query_frame_and_pairs():
    s = parse_query("?tab=dynamics&frame=3&pair=mnist:4-9&pair=fashion-mnist:0-6&pair=mnist:9-9", DATASETS)
    assert s.tab == "dynamics" and s.frame == 3
    assert s.pairs == (("fashion-mnist", 0, 6), ("mnist", 4, 9))  # 9-9 is no pair: the earlier one stays
    assert parse_query(to_query(s), DATASETS) == s
    for bad in ("?frame=-1", "?frame=abc", "?frame=99999999", "?frame=٣"):
        assert parse_query(bad, DATASETS).frame == 0
    assert parse_query("?pair=cifar:1-2&pair=mnist:1-10", DATASETS).pairs == ()


# -- the explorer's shape ------------------------------------------------------------------------
def _explorer_imports() -> dict[str, set[str]]:
    """Each explorer module -> the project modules it imports anywhere in it (relative imports resolved)."""
    import ast

    project = ("core", "training", "embeddings", "explorer", "pipeline")
    files = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
             for p in (ROOT / "explorer").rglob("*.py")}
    graph = {}
    for name, path in files.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
                # "from pkg import module" imports the module; "from module import name", the module
                found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names)
        graph[name] = {m for m in found if m.split(".")[0] in project and m != name}
    return graph


def test_explorer_imports_no_cycle_and_nothing_above_core():
    graph = _explorer_imports()
    assert {"explorer.ids", "explorer.checks", "explorer.panels", "explorer.page", "explorer.tabs.explore",
            "explorer.tabs.datasets", "explorer.tabs.projections", "explorer.tabs.dynamics"} <= set(graph)
    upward = sorted((a, b) for a, deps in graph.items() for b in deps
                    if b.split(".")[0] in ("pipeline", "training", "embeddings"))
    assert upward == []  # the explorer reads the cache through core alone
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for dep in sorted(d for d in graph.get(node, ()) if d.startswith("explorer")):
            if state.get(dep) == "open":
                cycles.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_explorer_source_names_no_dataset():
    """What the explorer knows of a dataset comes from current.json: no name of one in its code."""
    import re

    hits = [f"{p.relative_to(ROOT)}:{i}" for p in (ROOT / "explorer").rglob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\b(fashion-)?mnist\b", line, re.I)]
    assert hits == []


# -- current.json's dataset facts, and caches from before them ----------------------------------------
def test_dataset_facts_come_from_current_json(store, explorer_app):
    from explorer import dynamics as D
    from explorer_data import COLOURS, DEFAULT_PAIRS

    assert {n: list(D.default_pair(store.get(n))) for n in store.names} == DEFAULT_PAIRS
    assert F.dataset_colours(store) == COLOURS
    bars = F.separability_figure(store.report, store.names, "cnn", "umap", colours=F.dataset_colours(store))
    assert [t["marker"]["color"] for t in bars["data"]] == [COLOURS[n] for n in store.names]
    layout = explorer_app.server.test_client().get("/_dash-layout").get_data(as_text=True)
    assert '"value":"4-9"' in layout.replace(" ", "")  # mnist's pair dropdown starts on its default pair


def test_older_cache_without_facts_falls_back(tmp_path):
    from explorer import dynamics as D
    from explorer.app import create_app
    from explorer.page import progress_message
    from explorer_data import write_synthetic_cache
    from core.store import write_json_atomic

    write_synthetic_cache(tmp_path, n=120, seed=1)
    cur = json.loads((tmp_path / "current.json").read_text())
    for e in cur["datasets"].values():
        for key in ("default_pair", "colour", "title"):
            e.pop(key)
    cur["datasets"] = dict(reversed(cur["datasets"].items()))  # the page follows current.json's order
    write_json_atomic(tmp_path / "current.json", cur)
    store = ExplorerStore(ArtifactStore(tmp_path))
    assert store.names == ["fashion-mnist", "mnist"] and store.get("mnist").title == "mnist"
    dyn = store.get("mnist").dynamics
    both = dyn.confusion(dyn.n_frames - 1) + dyn.confusion(dyn.n_frames - 1).T
    np.fill_diagonal(both, -1)
    a, b = np.unravel_index(int(both.argmax()), both.shape)
    assert D.default_pair(store.get("mnist")) == (min(a, b), max(a, b))  # the most confused pair
    assert D.default_pair(store.get("fashion-mnist")) == (0, 1)  # no snapshots to ask
    assert F.dataset_colours(store) == {"fashion-mnist": F.PALETTE[0], "mnist": F.PALETTE[1]}
    progress = {"datasets": {"svhn": {"stage": "train", "detail": ""}}}  # an older pipeline: no title
    assert progress_message(store, progress, store.names) == "svhn is still being prepared: training…"
    client = create_app(store).server.test_client()
    assert client.get("/").status_code == 200 and client.get("/_dash-layout").status_code == 200


def test_derived_arrays_live_on_the_view_not_the_module(explorer_cache):
    one, two = (ExplorerStore(ArtifactStore(explorer_cache)).get("mnist") for _ in range(2))
    assert F.groups(one, "true") is F.groups(one, "true")  # computed once per view
    assert F.groups(one, "true") is not F.groups(two, "true")  # two apps share nothing
    assert "groups-true" in one._cache


def test_url_follows_a_control_by_name(client, explorer_app):
    r = dash_post(client, explorer_app, "sync_url", {**GOOD, "ctl-proj.value": "tsne", "url.search": "?tab=explore"},
                  changed=["ctl-proj.value"])
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    response = r.json["response"]
    assert set(response) == {"url"} and "proj=tsne" in response["url"]["search"]


# -- damaged artifacts: refused with the file named, never a 500 --------------------------------------
@pytest.fixture
def cache_copy(tmp_path) -> Path:
    """A fresh synthetic cache to damage (each test gets its own, with files hashed when published)."""
    from explorer_data import write_synthetic_cache

    write_synthetic_cache(tmp_path, n=120, seed=2)
    return tmp_path


def _entry(root: Path, name: str = "mnist") -> dict:
    return json.loads((root / "current.json").read_text())["datasets"][name]


def _alert(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    side = response.json["sideUpdate"]
    assert side["alert"]["style"]["display"] == "flex"
    return side["alert-text"]["children"]


def test_damaged_coords_are_named_in_the_alert(cache_copy):
    from explorer.app import create_app

    path = (cache_copy / _entry(cache_copy)["projections"]["cnn"]["umap"] / "coords.npy").resolve()
    size = path.stat().st_size
    coords = np.load(path)
    coords[:20] = coords[20:40].copy()  # other rows over the first twenty: same size, other bytes
    np.save(path, coords)
    assert path.stat().st_size == size
    app = create_app(ArtifactStore(cache_copy))
    text = _alert(dash_post(app.server.test_client(), app, "render_scatter", GOOD, changed=["tabs.value"]))
    assert "is damaged" in text and str(path) in text and "verify --repair" in text
    assert "Traceback" not in text


def test_damaged_labels_are_refused_in_callbacks_and_routes(cache_copy):
    from explorer.app import create_app

    path = (cache_copy / _entry(cache_copy)["embed"] / "labels.npy").resolve()
    labels = np.load(path)
    labels[:10] = (labels[:10] + 1) % 10  # ten labels changed
    np.save(path, labels)
    app = create_app(ArtifactStore(cache_copy))
    client = app.server.test_client()
    text = _alert(dash_post(client, app, "render_confusion", GOOD, changed=["ctl-dataset.value"]))
    assert "is damaged" in text and str(path) in text
    r = client.get("/api/points/mnist.json")
    assert r.status_code == 503 and r.mimetype == "text/plain"
    assert str(path) in r.get_data(as_text=True) and "internal error" not in r.get_data(as_text=True)
    # the other dataset is intact and still served
    assert client.get("/api/points/fashion-mnist.json").status_code == 200


def test_truncated_knn_answers_503_naming_the_file(cache_copy):
    from explorer.app import create_app

    path = (cache_copy / _entry(cache_copy)["embed"] / "knn-cnn-indices.npy").resolve()
    with open(path, "r+b") as f:
        f.truncate(1000)
    app = create_app(ArtifactStore(cache_copy))
    client = app.server.test_client()
    r = client.get("/api/neighbours/mnist/cnn/5")
    body = r.get_data(as_text=True)
    assert r.status_code == 503 and r.mimetype == "text/plain"
    assert str(path) in body and "1,000 bytes" in body and "Traceback" not in body
    assert client.get("/api/neighbours/mnist/pixels/5").status_code == 200  # the other space is intact
    text = _alert(dash_post(client, app, "render_detail", {**GOOD, "ex-clicked.data": {"ds": "mnist", "row": 5}},
                            changed=["ex-clicked.data"]))
    assert str(path) in text


@pytest.mark.parametrize("rel, url", [
    ("embed/images.npy", "/thumb/mnist/3.png"),
    ("embed/images.npy", "/sprites/mnist/0.png"),
    ("dynamics/frames.npy", "/api/dynamics/mnist.json"),
])
def test_damaged_files_behind_other_routes_answer_503(cache_copy, rel, url):
    from explorer.app import create_app

    folder, name = rel.split("/")
    path = (cache_copy / _entry(cache_copy)[folder] / name).resolve()
    with open(path, "r+b") as f:  # one byte flipped past the header
        f.seek(200)
        byte = f.read(1)
        f.seek(200)
        f.write(bytes([byte[0] ^ 0xFF]))
    client = create_app(ArtifactStore(cache_copy)).server.test_client()
    r = client.get(url)
    assert r.status_code == 503 and str(path) in r.get_data(as_text=True)


def test_damaged_dynamics_leave_the_page_working(cache_copy):
    from explorer.app import create_app

    path = (cache_copy / _entry(cache_copy)["dynamics"] / "proba.npy").resolve()
    with open(path, "r+b") as f:
        f.truncate(2000)
    client = create_app(ArtifactStore(cache_copy)).server.test_client()
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200 and str(path) in json.dumps(layout.json)  # said in its panel


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


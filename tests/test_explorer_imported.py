"""A user's own dataset in the explorer (issue 12): any image size, grey or RGB, 2 to 100 classes,
models of kind ``given`` or ``pixels``, no training dynamics; beside MNIST and Fashion-MNIST.

The cache is ``explorer_helpers.imported_cache``: an RGB 32x32 dataset of 20 classes ("own") and a
grey 20x40 one of 100 classes ("wide.grey"), whose images carry their row number in their pixels.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.store import ArtifactStore, CacheError, write_json_atomic
from explorer import figures as F
from explorer.classes import PALETTE, _lab, _rgb, class_colours
from explorer.state import ViewState, parse_query, to_query
from explorer.store import ExplorerStore
from explorer.thumbnails import MAX_PAGE_PX, PAGE_PIXELS, SpriteGrid, page_count, page_size, sprite_page, tile_position
from synthetic.imported import decode_imported_row, known_cells
from explorer_helpers import GOOD, dash_post, imported_app, imported_cache, png_array, response_of  # noqa: F401

ALL = ("mnist", "fashion-mnist", "own", "wide.grey")


@pytest.fixture(scope="module")
def store(imported_app) -> ExplorerStore:
    return imported_app.explorer_store


@pytest.fixture(scope="module")
def client(imported_app):
    return imported_app.server.test_client()


def post(client, app, name: str, values: dict, **kw):
    return dash_post(client, app, name, {**GOOD, **values}, datasets=kw.pop("datasets", ALL), **kw)


# -- the cache: image shape and source ----------------------------------------------------------------
def test_store_reads_image_shape_and_source(store):
    assert store.names == list(ALL)
    own, wide, mnist = store.get("own"), store.get("wide.grey"), store.get("mnist")
    assert (own.image_shape, own.source, own.imported) == ((32, 32, 3), "imported", True)
    assert (wide.image_shape, len(wide.class_names), wide.model_names) == ((20, 40, 1), 100, ["pixels", "given"])
    assert (mnist.image_shape, mnist.imported) == ((28, 28, 1), False)
    assert own.images.shape == (300, 32, 32, 3) and wide.images.shape == (300, 20, 40)
    assert np.array_equal(own.sample_ids, np.arange(300))
    assert all(m.dynamics is None for ds in (own, wide) for m in ds.models.values())
    for row in (0, 5, 299):
        assert decode_imported_row(own.images[row]) == row == decode_imported_row(wide.images[row])


def test_shape_and_source_missing_or_wrong(imported_cache, tmp_path):
    import shutil

    root = tmp_path / "c"
    shutil.copytree(imported_cache, root)
    cur = json.loads((root / "current.json").read_text())
    for e in cur["datasets"].values():
        if e["source"] == "builtin":
            del e["image_shape"], e["source"]  # an older cache: 28x28 grey, built in
    write_json_atomic(root / "current.json", cur)
    old = ExplorerStore(ArtifactStore(root)).get("mnist")
    assert (old.image_shape, old.source, old.grid) == ((28, 28, 1), "builtin", SpriteGrid())
    cur["datasets"]["own"]["image_shape"] = [32, 32, 4]
    write_json_atomic(root / "current.json", cur)
    with pytest.raises(CacheError, match=r"'own' has image_shape \[32, 32, 4\].*c 1 \(grey\) or 3 \(RGB\)"):
        ExplorerStore(ArtifactStore(root))
    cur["datasets"]["own"]["image_shape"] = [32, 16, 3]  # valid, but not what images.npy holds
    write_json_atomic(root / "current.json", cur)
    with pytest.raises(CacheError, match=r"images.npy holds uint8 \(300, 32, 32, 3\).*\(300, 32, 16, 3\)"):
        ExplorerStore(ArtifactStore(root)).get("own").images


# -- sprites and thumbnails ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape, per_row, per_page", [((28, 28), 100, 500), ((32, 32, 3), 100, 400),
                                                      ((64, 64, 3), 64, 128), ((20, 40), 100, 500),
                                                      ((8, 8), 100, 6200), ((64, 10, 1), 100, 700)])
def test_sprite_grid_keeps_pages_within_4096_px_and_small(shape, per_row, per_page):
    g = SpriteGrid.of(shape)
    assert (g.per_row, g.per_page, g.mode) == (per_row, per_page, "RGB" if shape[-1] == 3 else "L")
    assert g.per_row * g.w <= MAX_PAGE_PX and g.per_page // g.per_row * g.h <= MAX_PAGE_PX
    # whole tile rows of about PAGE_PIXELS image pixels: a page under the pointer comes in milliseconds
    assert PAGE_PIXELS <= g.per_page * g.h * g.w < PAGE_PIXELS + g.per_row * g.h * g.w


@pytest.mark.parametrize("shape, hover, gallery, detail", [((28, 28), 4, 2, 5), ((32, 32, 3), 4, 2, 4),
                                                          ((20, 40), 4, 2, 5), ((64, 64, 3), 2, 1, 2), ((8, 8), 14, 7, 16)])
def test_images_are_enlarged_by_whole_pixels_to_about_each_views_size(shape, hover, gallery, detail):
    g = SpriteGrid.of(shape)
    assert (g.scale_for(112), g.scale_for(56), g.scale_for(140)) == (hover, gallery, detail)


def test_rgb_sprite_pages_decode_back_to_each_image(rng):
    images = rng.integers(0, 256, (300, 64, 64, 3), dtype=np.uint8)
    g = SpriteGrid.of(images.shape[1:])  # 64 tiles a row, two rows a page
    assert page_count(300, g) == 3
    pages = [sprite_page(images, p, g) for p in range(3)]
    assert pages[0].shape == (128, 4096, 3) and pages[2].shape == (64, 44 * 64, 3)
    assert page_size(300, 2, g) == (44 * 64, 64)
    for row in (0, 63, 64, 127, 128, 299):
        p, x, y = tile_position(row, g)
        assert np.array_equal(pages[p][y:y + 64, x:x + 64], images[row])


def test_sprite_route_serves_rgb_32x32_tiles(client, store):
    ds = store.get("own")
    r = client.get(f"/sprites/own/0.png?v={ds.version}")
    assert r.status_code == 200 and "immutable" in r.headers["Cache-Control"]
    sheet = png_array(r.data)
    assert sheet.shape == (3 * 32, 100 * 32, 3)  # 300 tiles: three rows of 100
    for row in (0, 7, 123, 299):
        _, x, y = tile_position(row, ds.grid)
        tile = sheet[y:y + 32, x:x + 32]
        assert np.array_equal(tile, ds.images[row]) and decode_imported_row(tile) == row
        assert len({int(tile[..., ch].sum()) for ch in range(3)}) == 3  # three different channels
    grey = png_array(client.get("/sprites/wide.grey/0.png").data)
    _, x, y = tile_position(205, store.get("wide.grey").grid)
    assert grey.shape == (3 * 20, 100 * 40) and decode_imported_row(grey[y:y + 20, x:x + 40]) == 205
    assert client.get("/sprites/own/1.png").status_code == 400


def test_thumbnails_keep_colour_and_aspect(client, store):
    img = png_array(client.get("/thumb/own/42.png?scale=3").data)
    assert img.shape == (96, 96, 3) and np.array_equal(img[1::3, 1::3], store.get("own").images[42])
    wide = png_array(client.get("/thumb/wide.grey/42.png?scale=2").data)
    assert wide.shape == (40, 80) and np.array_equal(wide[::2, ::2], store.get("wide.grey").images[42])
    points = client.get("/api/points/wide.grey.json?model=given").json  # a dot in the name: still one segment
    assert (points["dataset"], points["model"], points["ids"][:3]) == ("wide.grey", "given", [0, 1, 2])


# -- classes: colours, legend, matrices ---------------------------------------------------------------
@pytest.mark.parametrize("k", [20, 100])
def test_palette_of_many_classes_is_distinct_and_fixed(k):
    colours = class_colours(k)
    assert len(colours) == len(set(colours)) == k and colours[:10] == PALETTE
    assert colours == class_colours(k) and class_colours(20) == class_colours(100)[:20]
    lab = np.array([_lab(_rgb(c)) for c in colours])
    d = np.linalg.norm(lab[:, None] - lab[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    assert d.min() > 15  # CIELAB distance: apart at a glance (Tableau 10's closest pair is 26)
    assert min(np.linalg.norm(lab - _lab(_rgb(F.BACKGROUND)), axis=1)) > 10
    assert class_colours(7) == PALETTE[:7]
    with pytest.raises(ValueError, match="2 to 100 classes"):
        class_colours(101)


def test_scatter_of_100_classes_has_a_compact_legend_and_the_sprite_grid(store):
    m = store.get("wide.grey").model("given")
    fig = F.scatter_figure(m, "umap", "true")
    base = fig["data"][:-1]
    assert len(base) == 100 and len({t["marker"]["color"] for t in base}) == 100
    assert fig["layout"]["legend"]["font"]["size"] == 10 and fig["layout"]["meta"]["many_classes"] is True
    assert fig["layout"]["meta"]["sprite"] == {"h": 20, "w": 40, "per_row": 100, "per_page": 500, "scale": 4}
    own = F.scatter_figure(store.get("own").model("given"), "tsne", "pred")["layout"]
    assert own["meta"]["sprite"]["scale"] == 4 and own["meta"]["many_classes"] is True  # 20: no legend on a phone
    assert own["legend"]["tracegroupgap"] == 2 and "font" not in own["legend"]
    mnist = F.scatter_figure(store.get("mnist").model("cnn"), "umap", "true")["layout"]
    assert "tracegroupgap" not in mnist["legend"] and mnist["meta"]["many_classes"] is False


def test_confusion_matrix_of_100_classes_reads_by_hover(store):
    m = store.get("wide.grey").model("given")
    fig = F.confusion_figure(m, m.confusion, cell=(99, 0))
    diag, off = fig["data"]
    assert "text" not in diag and "texttemplate" not in off and off["xgap"] == 0
    assert off["z"][99][0] == known_cells(100)[(99, 0)] and off["z"][5][5] is None
    assert off["customdata"][99][0] == f"true {m.ds.class_names[99]}, predicted {m.ds.class_names[0]}: 1"
    assert len(fig["layout"]["xaxis"]["ticktext"]) == 20 and fig["layout"]["xaxis"]["tickvals"][1] == 5
    assert fig["layout"]["shapes"][0]["x0"] == -0.5 and fig["layout"]["shapes"][0]["y0"] == 98.5
    assert len(json.dumps(fig)) < 1_000_000
    small = F.confusion_figure(store.get("own").model("given"), store.get("own").model("given").confusion)
    assert small["data"][1]["text"][1][2] == "2" and len(small["layout"]["xaxis"]["ticktext"]) == 20
    hist = F.histogram_figure(m, m.rows_in_cell(99, 0))
    assert hist["data"][0]["x"] == [m.ds.class_names[99]]  # only the classes the selection holds


# -- every tab --------------------------------------------------------------------------------------
def test_explore_tab_for_an_imported_dataset(client, imported_app, store):
    own = {"ctl-dataset.value": "own", "ctl-model.value": "given"}
    fig = response_of(post(client, imported_app, "render_scatter", own, changed=["ctl-dataset.value"]),
                      "ex-scatter.figure")
    assert fig["layout"]["meta"]["dataset"] == "own" and len(fig["data"]) == 21
    cell = {**own, "ex-cell.data": {"ds": "own", "cell": [1, 2]}}
    r = post(client, imported_app, "render_focus", cell, changed=["ex-cell.data"])
    gallery = json.dumps(response_of(r, "ex-gallery.children"))
    assert gallery.count("gallery-item") == 2 and '"width": "64px"' in gallery  # 32 px at scale 2
    r = post(client, imported_app, "render_detail", {**own, "ex-clicked.data": {"ds": "own", "row": 7}},
             changed=["ex-clicked.data"])
    detail = json.dumps(response_of(r, "ex-detail.children"))
    assert "/thumb/own/7.png?scale=4" in detail and '"width": "128px"' in detail and "Sample #7" in detail
    wide = {"ctl-dataset.value": "wide.grey", "ctl-model.value": "given", "ex-clicked.data": {"ds": "wide.grey", "row": 7}}
    detail = json.dumps(response_of(post(client, imported_app, "render_detail", wide, changed=["ex-clicked.data"]),
                                    "ex-detail.children"))
    assert '"src": "/thumb/wide.grey/7.png?scale=3' in detail and '"width": "120px", "height": "60px"' in detail
    help_ = response_of(post(client, imported_app, "render_help", own), "ex-help.children")
    assert "one of your images (300 images, 32×32 RGB, 20 classes" in help_
    mnist = response_of(post(client, imported_app, "render_help", {"ctl-dataset.value": "mnist"}), "ex-help.children")
    assert "one test image" in mnist


def test_label_issues_and_compare_models_tabs(client, imported_app, store):
    wide = {"ctl-dataset.value": "wide.grey", "ctl-model.value": "given", "tabs.value": "issues"}
    r = post(client, imported_app, "render_issues", wide, changed=["tabs.value"])
    matrix = response_of(r, "li-matrix.figure")
    assert len(matrix["data"][0]["z"]) == 100 and "text" not in matrix["data"][0]
    grid = json.dumps(response_of(r, "li-grid.children"))
    assert grid.count("issue-card") == sum(known_cells(100).values()) and '"width": "80px"' in grid  # 40 x 2
    summary = json.dumps(response_of(r, "li-summary.children"))
    assert "every image was scored by 5-fold" in summary and "training images" not in summary
    r = post(client, imported_app, "render_projections",
             {**wide, "tabs.value": "projections", "ctl-model2.value": "pixels"}, changed=["tabs.value"])
    left, right = response_of(r, "cp-left.figure"), response_of(r, "cp-right.figure")
    assert (left["layout"]["meta"]["model"], right["layout"]["meta"]["model"]) == ("given", "pixels")


def test_compare_datasets_puts_any_two_side_by_side(client, imported_app, store):
    values = {"tabs.value": "datasets", "ctl-model.value": "cnn", "cd-shown.value": ["mnist", "own"]}
    body = post(client, imported_app, "render_datasets", values, changed=["cd-shown.value"]).json["response"]
    figs = {k: v["figure"] for k, v in body.items() if "cd-scatter" in k}
    assert [f["layout"]["meta"]["dataset"] for f in figs.values()] == list(ALL)
    assert [f["layout"]["meta"]["model"] for f in figs.values()] == ["cnn", "cnn", "given", "pixels"]
    bars = body["cd-bars"]["figure"]["data"]
    assert [t["name"] for t in bars] == ["MNIST · CNN", "Own photos · your embeddings"]
    report = json.dumps(body["cd-report"]["children"], ensure_ascii=False)
    assert "Own photos separates more cleanly" in report or "MNIST separates more cleanly" in report
    assert "Imported (your own data): 300 images, 32×32 RGB, 20 classes" in report
    assert "Built-in dataset: 300 test images, 28×28 grey, 10 classes" in report
    styles = post(client, imported_app, "show_compared", values).json["response"]
    hidden = [json.loads(k)["dataset"] for k, v in styles.items() if v["style"] == {"display": "none"}]
    assert hidden == ["fashion-mnist", "wide.grey"]


def test_training_dynamics_says_why_an_imported_dataset_has_none(client, store):
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert "No training dynamics: Own photos is imported data, seen through your embeddings." in layout
    assert "wide.grey is imported data, seen through the Raw pixels (k-NN) and your embeddings" in layout
    assert "Datasets compared" in layout  # four datasets: the choice is shown


def test_url_state_carries_an_imported_dataset(client, imported_app, store):
    s = ViewState(tab="datasets", ds="wide.grey", model="pixels", cell=(99, 0), issue=(3, 0),
                  compare=("mnist", "wide.grey"))
    q = to_query(s)
    assert "compare=mnist%2Cwide.grey" in q and "ds=wide.grey" in q
    assert parse_query(q, list(ALL), 100) == s
    assert parse_query("?compare=mnist,fashion-mnist,own,wide.grey", list(ALL)).compare == ()
    r = post(client, imported_app, "sync_url", {"url.search": "?ds=wide.grey&model=pixels&cell=99-0&compare=own,mnist"},
             changed=["url.search"])
    assert response_of(r, "ctl-dataset.value") == "wide.grey" and response_of(r, "ctl-model.value") == "pixels"
    assert response_of(r, "ex-cell.data") == {"ds": "wide.grey", "cell": [99, 0]}
    assert response_of(r, "cd-shown.value") == ["mnist", "own"]
    assert [o["value"] for o in response_of(r, "ctl-model.options")] == ["pixels", "given"]
    r = post(client, imported_app, "sync_url", {"url.search": "?ds=own&cell=99-0&issue=1-25"}, changed=["url.search"])
    assert response_of(r, "ex-cell.data") is None and response_of(r, "li-pair.data") is None  # own has 20 classes
    r = post(client, imported_app, "sync_url", {"url.search": "?tab=explore", "ctl-dataset.value": "own",
                                                "ctl-model.value": "given", "cd-shown.value": ["own", "mnist"]},
             changed=["cd-shown.value"])
    assert "ds=own" in response_of(r, "url.search") and "compare=mnist%2Cown" in response_of(r, "url.search")


def test_a_cache_of_imported_data_alone(imported_cache, tmp_path):
    import shutil

    from explorer.app import create_app

    root = tmp_path / "c"
    shutil.copytree(imported_cache, root)
    cur = json.loads((root / "current.json").read_text())
    cur["datasets"] = {"own": cur["datasets"]["own"]}
    cur["datasets"]["own"]["models"]["given"]["title"] = "embeddings"  # as `pipeline import` titles them
    write_json_atomic(root / "current.json", cur)
    app = create_app(ArtifactStore(root))
    layout = app.server.test_client().get("/_dash-layout").get_data(as_text=True)
    assert "no dataset here has snapshots of its training" in layout and "seen through the embeddings." in layout
    m = app.explorer_store.get("own").model("given")
    assert (m.the_title, m.possessive) == ("the embeddings", "the embeddings'")

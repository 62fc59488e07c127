"""The selection's exports (contact sheet PNG, zip of PNGs with a CSV) and the view as one HTML file,
without a browser: on the synthetic caches, grey 28x28, RGB 32x32 and grey 20x40 images."""
from __future__ import annotations

import base64
import csv
import io
import json
import re
import zipfile

import numpy as np
import pytest
from PIL import Image

from explorer import export, export_html
from explorer.encoding import ranges_to_data
from explorer.charts import WRONG_COLOUR
from explorer.export import BORDER, CORRECT_FRAME, contact_sheet, gallery_order, selection_zip, sheet_layout
from explorer.export_html import kept_rows, view_html
from explorer.panels import selection_csv
from synthetic.imported import decode_imported_row
from explorer_helpers import imported_app, imported_cache  # noqa: F401


@pytest.fixture(scope="module")
def store(imported_app):
    return imported_app.explorer_store


def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def _enlarged(image: np.ndarray, s: int) -> np.ndarray:
    a = image if image.ndim == 3 else np.repeat(image[:, :, None], 3, axis=2)
    return np.repeat(np.repeat(a, s, axis=0), s, axis=1)


@pytest.mark.parametrize("name", ["fashion-mnist", "own", "wide.grey"])
def test_contact_sheet_tiles_are_the_images_misclassified_first(store, name):
    ds = store.get(name)
    m = ds.model(ds.default_model)
    wrong = np.flatnonzero(ds.labels != m.pred)
    rows = np.unique(np.concatenate([np.arange(40), wrong[:5]]))
    assert len(wrong) and not (ds.labels[rows[:5]] != m.pred[rows[:5]]).all()
    img = Image.open(io.BytesIO(contact_sheet(m, rows, "a test selection")))
    order = gallery_order(m, rows)
    lay = sheet_layout(ds.grid, len(rows))
    assert img.mode == "RGB" and img.size == lay.size
    assert [int(r) for r in img.text["Rows"].split(",")] == order.tolist()
    assert img.text["Sample ids"].split(",") == [str(int(ds.sample_ids[r])) for r in order]
    assert f"{ds.title} · {m.title} · a test selection" in img.text["Title"]
    assert f"{len(rows)} images, misclassified first" in img.text["Title"]
    assert (ds.labels[order[:len(wrong[:5])]] != m.pred[order[:len(wrong[:5])]]).all()  # wrong ones lead
    a = np.asarray(img)
    tw, th = lay.tile
    assert lay.scale >= 2 and tw == ds.grid.w * lay.scale
    for i, r in enumerate(order):
        x, y = lay.box(i)
        assert np.array_equal(a[y:y + th, x:x + tw], _enlarged(ds.images[r], lay.scale)), (i, r)
        frame = tuple(a[y - BORDER, x + tw // 2])  # the frame above the tile: red where the model is wrong
        assert frame == _hex(WRONG_COLOUR if ds.labels[r] != m.pred[r] else CORRECT_FRAME)
    if name == "own":  # the pixels are that sample's: its row drawn into them
        x, y = lay.box(3)
        assert decode_imported_row(a[y:y + th:lay.scale, x:x + tw:lay.scale]) == order[3]


def test_contact_sheet_caps_its_tiles_and_says_so(store, monkeypatch):
    m = store.get("mnist").model("cnn")
    monkeypatch.setattr(export, "CONTACT_MAX", 50)
    img = Image.open(io.BytesIO(contact_sheet(m, np.arange(300), "all of them")))
    assert len(img.text["Rows"].split(",")) == 50
    assert "the first 50 of 300 images (a sheet holds at most 50)" in img.text["Title"]
    assert img.size == sheet_layout(m.ds.grid, 50).size


def test_exports_refuse_an_empty_selection(store):
    m = store.get("mnist").model("cnn")
    with pytest.raises(ValueError, match="rows must name at least one image for a contact sheet"):
        contact_sheet(m, [])
    with pytest.raises(ValueError, match="rows must name at least one image for a zip"):
        selection_zip(m, np.array([], dtype=np.int64), "umap")


def test_selection_csv_has_every_class_probability(store):
    m = store.get("own").model(store.get("own").default_model)
    rows = np.array([3, 0, 17])
    table = list(csv.reader(io.StringIO(selection_csv(m, rows, "pca"))))
    names = m.ds.class_names
    assert table[0][:9] == ["row", "index", "true", "true_name", "predicted", "predicted_name", "confidence",
                            "pca_x", "pca_y"]
    assert table[0][9:] == [f"p_{c}" for c in names] and len(names) == 20
    for line, r in zip(table[1:], rows):
        p = np.array([float(v) for v in line[9:]])
        assert np.allclose(p, m.proba[r], rtol=1e-5, atol=1e-7)
        assert int(line[4]) == int(m.pred[r])
    with pytest.raises(ValueError, match="files must name one file per row"):
        selection_csv(m, rows, "pca", files=["a.png"])


@pytest.mark.parametrize("name", ["fashion-mnist", "own"])
def test_zip_holds_each_image_and_the_csv_of_the_selection(store, name):
    ds = store.get(name)
    m = ds.model(ds.default_model)
    rows = np.unique(np.concatenate([np.arange(0, 300, 7), np.flatnonzero(ds.labels != m.pred)[:4]]))
    z = zipfile.ZipFile(io.BytesIO(selection_zip(m, rows, "umap", "a test selection")))
    pngs = sorted(n for n in z.namelist() if n.endswith(".png"))
    assert len(pngs) == len(rows) and set(z.namelist()) == {*pngs, "selection.csv", "README.txt"}
    table = list(csv.DictReader(io.StringIO(z.read("selection.csv").decode())))
    assert [int(t["row"]) for t in table] == rows.tolist()
    for t in table:
        r = int(t["row"])
        t_name, p_name = ds.class_names[ds.labels[r]], ds.class_names[m.pred[r]]
        assert t["file"] == f"images/{int(ds.sample_ids[r])}_true-{export.safe_name(t_name)}" \
                            f"_pred-{export.safe_name(p_name)}.png"
        assert "/" not in t["file"][len("images/"):]  # "T-shirt/top" made safe
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(z.read(t["file"])))), ds.images[r])
        assert float(t[f"p_{p_name}"]) == pytest.approx(float(m.proba[r, m.pred[r]]), rel=1e-5)
    assert f"{len(rows)} images" in z.read("README.txt").decode()


def test_zip_caps_its_images_and_lists_every_row(store, monkeypatch):
    m = store.get("mnist").model("cnn")
    monkeypatch.setattr(export, "ZIP_MAX", 20)
    rows = np.arange(100)
    z = zipfile.ZipFile(io.BytesIO(selection_zip(m, rows, "tsne")))
    table = list(csv.DictReader(io.StringIO(z.read("selection.csv").decode())))
    assert len(table) == 100 and sum(bool(t["file"]) for t in table) == 20
    assert len([n for n in z.namelist() if n.endswith(".png")]) == 20
    packed = {int(t["row"]) for t in table if t["file"]}
    assert packed == set(gallery_order(m, rows)[:20].tolist())  # the misclassified ones first
    assert "80 left out (a zip holds at most 20" in z.read("README.txt").decode()


def test_safe_names():
    assert export.safe_name("T-shirt/top") == "T-shirt-top"
    assert export.safe_name("../../etc") == "etc" and export.safe_name("  ") == "x"


def test_kept_rows_samples_keeping_the_highlight():
    assert kept_rows(300, None, None).tolist() == list(range(300))
    assert kept_rows(300, None, 500).tolist() == list(range(300))
    hi = np.array([5, 9, 250])
    k = kept_rows(300, hi, 40)
    assert len(k) == 40 and set(hi) <= set(k.tolist()) and np.all(np.diff(k) > 0)
    assert np.array_equal(k, kept_rows(300, hi, 40))  # seeded: the same view, the same sample
    assert len(kept_rows(300, np.arange(100), 30)) == 30
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="cap must be a positive number of points"):
            kept_rows(300, None, bad)


def _scripts(doc: str) -> tuple[dict, dict]:
    fig = re.search(r'<script type="application/json" id="explorer-figure">(.*?)</script>', doc, re.S).group(1)
    data = re.search(r'<script type="application/json" id="explorer-data">(.*?)</script>', doc, re.S).group(1)
    return json.loads(fig), json.loads(data)


def test_view_html_is_self_contained(store):
    m = store.get("fashion-mnist").model("cnn")
    hi = m.rows_in_cell(6, 0)
    doc = view_html(m, "umap", "pred", highlight=hi, label="true Shirt, predicted T-shirt/top")
    assert export_html.plotly_source()[:200] in doc  # plotly.js inline
    assert not re.search(r"<(script|link|img|iframe)[^>]*(src|href)=", doc, re.I)  # nothing to fetch
    assert not re.search(r"https?://(?!www\.w3\.org)", doc.replace(export_html.plotly_source(), ""))
    fig, data = _scripts(doc)
    assert data["rows"] == list(range(300)) and data["names"] == m.ds.class_names
    assert data["pred"] == m.pred.tolist() and len(data["pages"]) == 1
    assert data["pages"][0].startswith("data:image/png;base64,")
    assert fig["layout"]["dragmode"] == "zoom" and "all 300 points" in doc
    assert "highlighted: 7 points, true Shirt, predicted T-shirt/top" in doc
    # a subset's traces each carry their rows: meta.groups tells only whole groups'
    assert "groups" not in fig["layout"]["meta"]
    rows = [np.frombuffer(base64.b64decode(t["customdata"]["bdata"]), np.int32) for t in fig["data"]]
    assert sorted(rows[-1].tolist()) == sorted(hi.tolist())  # the overlay: the highlighted points
    assert sorted(np.concatenate(rows[:-1]).tolist()) == list(range(300))


def test_view_html_above_its_cap_samples_and_says_so(store):
    ds = store.get("own")
    m = ds.model(ds.default_model)
    hi = np.arange(10)
    doc = view_html(m, "pca", "correct", highlight=hi, label="selected on the scatter", cap=60)
    fig, data = _scripts(doc)
    assert len(data["rows"]) == 60 and set(range(10)) <= set(data["rows"])
    assert "60 of 300 points: a random sample (seed 0), the highlighted ones kept" in doc
    page = np.asarray(Image.open(io.BytesIO(base64.b64decode(data["pages"][0].split(",", 1)[1]))))
    g, k = data["grid"], 37  # the k-th kept point is the k-th tile
    assert data["rows"][k] > 10
    y, x = (k // g["per_row"]) * g["h"], (k % g["per_row"]) * g["w"]
    assert decode_imported_row(page[y:y + g["h"], x:x + g["w"]]) == data["rows"][k]


def test_script_json_cannot_close_its_script():
    out = export_html._script_json({"name": "</script><script>alert(1)</script>", "x": "<!--"})
    assert "<" not in out and json.loads(out)["name"].startswith("</script>")


def test_export_callback_sends_each_file_of_the_selection(explorer_app):
    from synthetic.cache import KNOWN_CELLS
    from explorer_helpers import GOOD, dash_post, response_of

    client = explorer_app.server.test_client()
    cell = {**GOOD, "ex-cell.data": {"ds": "mnist", "cell": [4, 9]}}

    def post(button: str, values: dict):
        return dash_post(client, explorer_app, "export", {f"{button}.n_clicks": 1, **values},
                         changed=[f"{button}.n_clicks"])
    sheet = response_of(post("ex-sheet-btn", cell), "ex-export.data")
    assert sheet["filename"] == "mnist-cnn-umap-sheet.png" and sheet["base64"] and sheet["type"] == "image/png"
    rows = Image.open(io.BytesIO(base64.b64decode(sheet["content"]))).text["Rows"].split(",")
    assert sorted(int(r) for r in rows) == explorer_app.explorer_store.get("mnist").model("cnn").rows_in_cell(
        4, 9).tolist() and len(rows) == KNOWN_CELLS["mnist"][(4, 9)]
    z = response_of(post("ex-zip-btn", cell), "ex-export.data")
    assert z["filename"] == "mnist-cnn-umap-selection.zip"
    assert len(zipfile.ZipFile(io.BytesIO(base64.b64decode(z["content"]))).namelist()) == len(rows) + 2
    page = response_of(post("ex-html-btn", {**cell, "ex-html-all.value": ["all"]}), "ex-export.data")
    assert page["filename"] == "mnist-cnn-umap-view.html" and page["type"] == "text/html"
    assert "all 300 points · highlighted: 6 points, true 4, predicted 9 by the CNN" in page["content"]
    # nothing chosen: no sheet or zip (their buttons are disabled), the view still exports
    assert post("ex-sheet-btn", GOOD).status_code == 204
    assert "all 300 points" in response_of(post("ex-html-btn", GOOD), "ex-export.data")["content"]
    bad = post("ex-zip-btn", {**cell, "ctl-proj.value": "nope"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "projection must be one of umap, tsne, pca (got 'nope')" in text
    assert "Traceback" not in text


def test_view_html_keeps_the_zoom_of_its_view_only(store):
    m = store.get("mnist").model("cnn")
    zoom = {"view": "mnist/cnn/umap", "x": [-1.5, 2.0], "y": [0.5, 3.0]}
    fig, _ = _scripts(view_html(m, "umap", "true", zoom=zoom))
    # the axes are in plot units (explorer.encoding): the same ranges in data coordinates
    back = ranges_to_data([*fig["layout"]["xaxis"]["range"], *fig["layout"]["yaxis"]["range"]],
                          fig["layout"]["meta"]["grid"])
    assert back == pytest.approx([-1.5, 2.0, 0.5, 3.0])
    assert fig["layout"]["xaxis"]["autorange"] is False
    fig, _ = _scripts(view_html(m, "tsne", "true", zoom=zoom))  # a zoom of another layout means nothing here
    assert "range" not in fig["layout"]["xaxis"]

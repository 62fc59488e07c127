"""Exports in a real headless Chromium, as a user makes them: select points, click Contact sheet or
Zip of PNGs and open what was saved; export the view as HTML and open that file from file:// with
every request that is not a file refused, then hover a point and see its image."""
from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
from PIL import Image

from explorer.export import BORDER, CORRECT_FRAME, gallery_order, sheet_layout
from synthetic.cache import decode_row
from test_explorer_browser import base_points, highlight_count, hover_isolated, open_app, tooltip_image, wait_scatter
from test_explorer_browser_select import drag_box, wait_gallery


def _download(page, button: str) -> bytes:
    with page.expect_download() as dl:
        page.click(button)
    with open(dl.value.path(), "rb") as f:
        return f.read()


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def test_contact_sheet_and_zip_of_a_box_selection(page, explorer_url, explorer_app):
    ds = explorer_app.explorer_store.get("mnist")
    m = ds.model("cnn")
    open_app(page, explorer_url)
    assert page.locator("#ex-sheet-btn").is_disabled() and page.locator("#ex-zip-btn").is_disabled()
    expected = drag_box(page)
    assert 10 < len(expected) < 300
    wait_gallery(page, len(expected))
    page.wait_for_selector("#ex-sheet-btn:not([disabled])")

    # the contact sheet: one tile per selected image, in the gallery's order, each the image itself
    sheet = Image.open(io.BytesIO(_download(page, "#ex-sheet-btn")))
    order = gallery_order(m, expected)
    gallery = [int(r) for r in page.locator("#ex-gallery .gallery-item").evaluate_all(
        "els => els.map(e => e.dataset.row)")]
    assert order.tolist() == gallery  # misclassified first, as the gallery shows them
    lay = sheet_layout(ds.grid, len(expected))
    assert sheet.size == lay.size and [int(r) for r in sheet.text["Rows"].split(",")] == gallery
    assert f"{len(expected)} images" in sheet.text["Title"] and "selected on the scatter" in sheet.text["Title"]
    a = np.asarray(sheet.convert("RGB"))
    tw, th = lay.tile
    for i, r in enumerate(gallery):
        x, y = lay.box(i)
        tile = a[y:y + th, x:x + tw, 0]
        assert np.array_equal(tile, np.repeat(np.repeat(ds.images[r], lay.scale, 0), lay.scale, 1)), (i, r)
        assert decode_row(tile[::lay.scale, ::lay.scale]) == r
        wrong = ds.labels[r] != m.pred[r]
        assert tuple(a[y - BORDER, x + tw // 2]) == (_rgb("#d62728") if wrong else _rgb(CORRECT_FRAME))
    x, y = lay.box(len(gallery))  # where one more tile would go: white paper
    if y + th <= a.shape[0] and x + tw <= a.shape[1]:
        assert (a[y:y + th, x:x + tw] == 255).all()

    # the zip: its CSV's rows are the selection, with every class probability; each PNG its image
    z = zipfile.ZipFile(io.BytesIO(_download(page, "#ex-zip-btn")))
    table = list(csv.DictReader(io.StringIO(z.read("selection.csv").decode())))
    assert [int(t["row"]) for t in table] == expected
    assert [f"p_{c}" for c in ds.class_names] == [k for k in table[0] if k.startswith("p_")]
    for t in table:
        r = int(t["row"])
        p = np.array([float(t[f"p_{c}"]) for c in ds.class_names])
        assert np.allclose(p, m.proba[r], rtol=1e-5, atol=1e-7)
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(z.read(t["file"])))), ds.images[r])
    assert len([n for n in z.namelist() if n.endswith(".png")]) == len(expected)


def test_exported_html_opens_offline_and_shows_the_hovered_image(page, explorer_url, explorer_app, browser,
                                                                  tmp_path):
    ds = explorer_app.explorer_store.get("fashion-mnist")
    m = ds.model("cnn")
    open_app(page, explorer_url, "?ds=fashion-mnist&colour=pred&cell=6-0")
    page.wait_for_selector("#ex-gallery .gallery-item")
    path = tmp_path / "view.html"
    path.write_bytes(_download(page, "#ex-html-btn"))
    doc = path.read_text()
    assert "<script src" not in doc and "<link" not in doc

    context = browser.new_context(viewport={"width": 1366, "height": 768})
    refused = []

    def only_files(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()
    context.route("**/*", only_files)
    offline = context.new_page()
    offline.set_default_timeout(30_000)
    try:
        offline.goto(path.as_uri())
        wait_scatter(offline)
        assert base_points(offline) == ds.n
        assert highlight_count(offline) == len(m.rows_in_cell(6, 0))  # the cell's points, on top as on the page
        title = offline.evaluate("() => document.querySelector('#ex-scatter .js-plotly-plot').layout.title.text")
        assert title == "Fashion-MNIST · CNN · UMAP"
        assert "coloured by" in offline.locator("h1").inner_text()
        # the points' colours are the page's: the same trace per predicted class, in the same colour
        colours = "() => document.querySelector('#ex-scatter .js-plotly-plot').data.map(t => t.marker.color)"
        assert offline.evaluate(colours)[:-1] == page.evaluate(colours)[:-1]
        pt, tip = hover_isolated(offline)
        shot = tooltip_image(offline)
        assert shot.shape == (112, 112)
        tile = shot[2::4, 2::4]
        assert decode_row(tile) == pt["row"]
        assert np.abs(tile - ds.images[pt["row"]].astype(np.int16)).max() <= 8
        text = tip.inner_text()
        r = pt["row"]
        assert f"True: {ds.class_names[ds.labels[r]]}" in text and f"Predicted: {ds.class_names[m.pred[r]]}" in text
        assert refused == []  # nothing was even asked of a server
    finally:
        context.close()

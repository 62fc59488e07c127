"""How the explorer words probabilities and accuracies near 100 %, and colours confident models (issue 11)."""
from __future__ import annotations

import base64

import numpy as np
import pytest

from explorer_helpers import GOOD, client, dash_post, decode_typed, response_of, store  # noqa: F401
from explorer import figures as F
from explorer.panels import detail_panel, pct, tile
from explorer.store import DatasetView


@pytest.mark.parametrize("x, text", [
    (0.934, "93%"), (1.0, "100%"), (0.0, "0%"), (0.5, "50%"), (0.99, "99%"),
    (0.996, "99.6%"), (0.995, "99.5%"), (0.9951, "99.5%"), (0.991, "99.1%"),
    (0.9996, "99.96%"), (0.99999, "99.99%"), (0.003, "0.3%"), (0.00004, "0.01%"),
])
def test_pct_never_rounds_to_a_false_100(x, text):
    assert pct(x) == text


def confident_view(tmp_path) -> DatasetView:
    """Five samples whose model is 99.6 %, 99.5 %, 99.96 %, 90 % and 99.999 % sure (row 0: sample id 7)."""
    n = 5
    for d in ("s", "e", "p"):
        (tmp_path / d).mkdir()
    np.save(tmp_path / "s" / "labels.npy", np.zeros(n, np.uint8))
    np.save(tmp_path / "s" / "index.npy", np.arange(7, 7 + n, dtype=np.int64))
    np.save(tmp_path / "s" / "images.npy", np.zeros((n, 28, 28), np.uint8))
    top = np.array([0.996, 0.995, 0.9996, 0.9, 0.99999])
    proba = np.zeros((n, 10))
    proba[:, 0], proba[:, 1] = top, 1 - top
    np.save(tmp_path / "e" / "proba.npy", proba.astype(np.float32))
    np.save(tmp_path / "e" / "pred.npy", np.zeros(n, np.uint8))
    np.save(tmp_path / "e" / "knn-indices.npy", np.tile(np.arange(n), (n, 1)).astype(np.int32))
    np.save(tmp_path / "p" / "coords.npy", np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32))
    ds = DatasetView(name="tiny", title="Tiny", class_names=[str(i) for i in range(10)], sample_set="test",
                     n=n, samples_dir=tmp_path / "s")
    ds.add_model("cnn", "CNN", "cnn", embed_dir=tmp_path / "e", model_dir=tmp_path,
                 projection_dirs={"umap": tmp_path / "p"})
    return ds


def texts(node) -> str:
    """Every string of a Dash component tree, joined."""
    if isinstance(node, (str, int, float)):
        return str(node)
    if isinstance(node, (list, tuple)):
        return " ".join(texts(c) for c in node)
    out = [texts(getattr(node, "children", None) or [])]
    out += [str(getattr(node, "title", "") or "")]
    return " ".join(out)


def test_detail_panel_and_tile_show_996_not_100(tmp_path):
    m = confident_view(tmp_path).model("cnn")
    body = texts(detail_panel(m, 0))
    assert "99.6%" in body and "100%" not in body and "Sample #7" in body
    assert "99.96%" in texts(detail_panel(m, 2))
    assert "(99.5%)" in texts(tile(m, 1, 2, "gallery-item"))


def test_confusion_header_words_accuracy_as_pct(store, explorer_app, client):
    # a probability of 0.995 reads as 99.5 %, not 99 % nor 100 %
    assert pct(0.995) == "99.5%" and pct(199 / 200) == "99.5%"
    fig = response_of(dash_post(client, explorer_app, "render_confusion", GOOD), "ex-confusion.figure")
    # the model's accuracy: two decimals, over the images the matrix counts (issue 26)
    n, right = store.get("mnist").n, int(np.trace(store.get("mnist").model("cnn").confusion))
    assert right < n and fig["layout"]["title"]["text"] == f"CNN · accuracy {100 * right / n:.2f}% of {n} test images"


def test_confidence_colours_by_nines(tmp_path):
    assert F.nines([0.9, 0.99, 0.999, 0.9999, 1.0, 0.1]) == pytest.approx([1, 2, 3, 4, 4, 0.0458], abs=1e-3)
    m = confident_view(tmp_path).model("cnn")
    fig = F.scatter_figure(m, "umap", "confidence")
    marker = fig["data"][0]["marker"]
    assert marker["cmin"] == 0 and marker["cmax"] == 4
    assert marker["colorbar"]["ticktext"][:3] == ["0.9", "0.99", "0.999"] and marker["colorbar"]["tickvals"][:3] == [1, 2, 3]
    rows = decode_typed(fig["data"][0]["customdata"])
    values = dict(zip(rows.tolist(), decode_typed(marker["color"]).tolist()))
    # 0.9, 0.995 and 0.99999 sit at separate ends of the bar, not all at its dark top
    assert values[3] == pytest.approx(1, abs=1e-3) and values[1] == pytest.approx(2.3, abs=0.01)
    assert values[4] == pytest.approx(4, abs=0.05)
    assert values[4] - values[3] > 2.5


def test_points_route_carries_sample_ids_and_uncut_percent(client, store):
    ds = store.get("mnist")
    cnn = ds.model("cnn")
    body = client.get("/api/points/mnist.json").json
    assert body["ids"] == ds.sample_ids.tolist()
    conf = np.asarray(body["conf"])
    assert np.all(conf <= 100 * cnn.confidence.astype(np.float64) + 1e-9)
    assert np.all(100 * cnn.confidence.astype(np.float64) - conf < 1e-3)


def test_dynamics_payload_keeps_decimals_and_ids(client, store):
    ds = store.get("mnist")
    dyn = ds.model("cnn").dynamics
    body = client.get("/api/dynamics/mnist.json?model=cnn").json
    assert body["conf"]["dtype"] == "u2"  # hundredths of a per cent: 99.96 % stays 99.96 %
    conf = np.frombuffer(base64.b64decode(body["conf"]["bdata"]), np.uint16)
    assert np.array_equal(conf, np.floor(dyn.confidence.astype(np.float64) * 1e4).reshape(-1))
    ids = decode_typed(body["ids"])
    inside = dyn.rows >= 0
    assert np.array_equal(ids[inside], ds.sample_ids[dyn.rows[inside]]) and np.all(ids[~inside] == -1)

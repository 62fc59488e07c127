"""Damaged artifacts in the explorer: refused in callbacks and routes with the file named, never a 500."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from explorer_helpers import GOOD, dash_post
from core.store import ArtifactStore


# -- damaged artifacts: refused with the file named, never a 500 --------------------------------------
@pytest.fixture
def cache_copy(tmp_path) -> Path:
    """A fresh synthetic cache to damage (each test gets its own, with files hashed when published)."""
    from synthetic.cache import write_synthetic_cache

    write_synthetic_cache(tmp_path, n=120, seed=2)
    return tmp_path


def _entry(root: Path, name: str = "mnist") -> dict:
    return json.loads((root / "current.json").read_text())["datasets"][name]


def _model(root: Path, model: str = "cnn", name: str = "mnist") -> dict:
    return _entry(root, name)["models"][model]


def _alert(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    side = response.json["sideUpdate"]
    assert side["alert"]["style"]["display"] == "flex"
    return side["alert-text"]["children"]


def test_damaged_coords_are_named_in_the_alert(cache_copy):
    from explorer.app import create_app

    path = (cache_copy / _model(cache_copy)["projections"]["umap"] / "coords.npy").resolve()
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

    path = (cache_copy / _entry(cache_copy)["samples"] / "labels.npy").resolve()
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

    path = (cache_copy / _model(cache_copy)["embed"] / "knn-indices.npy").resolve()
    with open(path, "r+b") as f:
        f.truncate(1000)
    app = create_app(ArtifactStore(cache_copy))
    client = app.server.test_client()
    r = client.get("/api/neighbours/mnist/cnn/5")
    body = r.get_data(as_text=True)
    assert r.status_code == 503 and r.mimetype == "text/plain"
    assert str(path) in body and "1,000 bytes" in body and "Traceback" not in body
    assert client.get("/api/neighbours/mnist/pixels/5").status_code == 200  # the other models are intact
    assert client.get("/api/points/mnist.json?model=mlp").status_code == 200
    text = _alert(dash_post(client, app, "render_detail", {**GOOD, "ex-clicked.data": {"ds": "mnist", "row": 5}},
                            changed=["ex-clicked.data"]))
    assert str(path) in text


@pytest.mark.parametrize("rel, url", [
    ("samples/images.npy", "/thumb/mnist/3.png"),
    ("samples/images.npy", "/sprites/mnist/0.png"),
    ("cnn.dynamics/frames.npy", "/api/dynamics/mnist.json"),
    ("mlp.dynamics/frames.npy", "/api/dynamics/mnist.json?model=mlp"),
    ("pixels.embed/pred.npy", "/api/points/mnist.json?model=pixels"),
])
def test_damaged_files_behind_other_routes_answer_503(cache_copy, rel, url):
    from explorer.app import create_app

    folder, name = rel.split("/")
    if "." in folder:
        model, key = folder.split(".")
        path = (cache_copy / _model(cache_copy, model)[key] / name).resolve()
    else:
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

    path = (cache_copy / _model(cache_copy)["dynamics"] / "proba.npy").resolve()
    with open(path, "r+b") as f:
        f.truncate(2000)
    client = create_app(ArtifactStore(cache_copy)).server.test_client()
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200 and str(path) in json.dumps(layout.json)  # said in its panel

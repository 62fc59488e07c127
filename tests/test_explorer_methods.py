"""The explorer learns the projection methods from ``current.json``: a method it has never heard of
(densMAP here) is listed, titled and drawn in every view; a cache without the facts keeps the three
methods it always had."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from synthetic.cache import write_synthetic_cache
from explorer_helpers import GOOD, dash_post
from core.store import ArtifactStore, save_npy_atomic, write_json_atomic
from explorer import figures as F
from explorer.export_html import view_html
from explorer.figures3d import projection_3d
from explorer.models_table import models_table
from explorer.state import parse_query
from explorer.store import ExplorerStore, method_facts, method_title, projections

#: what a pipeline with densMAP in its registry writes into each dataset's entry
DENSMAP = {"title": "densMAP", "about": "UMAP that keeps local density", "order": 40}


def _add_layout(root, method: str, facts: dict | None) -> None:
    """Give every model of every dataset a ``method`` layout (UMAP's, stretched), named in ``current.json``
    with ``facts`` (``None``: the entry keeps the facts it has)."""
    store = ArtifactStore(root)
    current = json.loads((root / "current.json").read_text())
    for name, entry in current["datasets"].items():
        for model, m in entry["models"].items():
            umap = np.load(store.resolve(m["projections"]["umap"]) / "coords.npy")
            key = f"{method}-{model}"
            with store.writing(name, "proj", key, {"method": method, "model": model}) as d:
                save_npy_atomic(d / "coords.npy", (umap * [1.7, 0.6]).astype(np.float32))
            m["projections"][method] = f"{name}/proj/{key}"
        if facts is not None:
            entry["methods"][method] = facts
    write_json_atomic(root / "current.json", current)


@pytest.fixture(scope="module")
def densmap_cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("densmap-cache")
    write_synthetic_cache(root, n=120, seed=0)
    _add_layout(root, "densmap", DENSMAP)
    return root


@pytest.fixture(scope="module")
def dstore(densmap_cache) -> ExplorerStore:
    return ExplorerStore(ArtifactStore(densmap_cache))


def _find(component, id_):
    """The component with ``id_`` in a Dash layout tree."""
    if getattr(component, "id", None) == id_:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        found = _find(child, id_)
        if found is not None:
            return found
    return None


def test_the_store_lists_and_titles_the_methods_current_json_names(dstore):
    ds = dstore.get("mnist")
    assert projections(ds) == projections(dstore) == ["umap", "tsne", "pca", "densmap"]
    assert [method_title(ds, p) for p in projections(ds)] == ["UMAP", "t-SNE", "PCA", "densMAP"]
    assert method_facts(dstore)["densmap"]["about"] == DENSMAP["about"]
    assert method_title(None, "tsne") == "t-SNE" and method_title(ds, "isomap") == "isomap"


def test_both_projection_radios_offer_it_with_what_it_shows(dstore):
    from explorer.page import build_layout

    layout = build_layout(dstore)
    for id_ in ("ctl-proj", "ctl-proj2"):
        options = _find(layout, id_).options
        assert [o["value"] for o in options] == ["umap", "tsne", "pca", "densmap"]
        label = options[-1]["label"]
        assert label.children == "densMAP" and label.title == DENSMAP["about"]


def test_every_view_titles_its_layout(dstore):
    ds = dstore.get("mnist")
    m = ds.model("cnn")
    fig = F.scatter_figure(m, "densmap", "true")
    assert fig["layout"]["title"]["text"] == "MNIST · CNN · densMAP"
    assert projection_3d(m, "densmap")[0] == "pca" and "No 3-D densMAP" in projection_3d(m, "densmap")[1]
    assert "MNIST · CNN · densMAP · coloured by" in view_html(m, "densmap", "true", cap=50)
    assert "(densMAP)" in str(models_table(ds, dstore.report, "densmap", ("cnn", "pixels")))
    bars = F.separability_figure(dstore.report, {"mnist": "cnn"}, "densmap", projection_title="densMAP")
    assert "k-NN acc. (2-D densMAP)" in bars["data"][0]["x"]


def test_a_url_may_name_it(dstore):
    names = dstore.names
    assert parse_query("?proj=densmap&proj2=densmap", names, projections=projections(dstore)).proj2 == "densmap"
    assert parse_query("?proj=densmap", names).proj == "umap"  # a cache that lacks it: the default


def test_compare_models_draws_it(densmap_cache, dstore):
    from explorer.app import create_app

    app = create_app(dstore)
    r = dash_post(app.server.test_client(), app, "render_projections",
                  {**GOOD, "tabs.value": "projections", "ctl-proj2.value": "densmap"}, changed=["ctl-proj2.value"])
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    right = r.json["response"]["cp-right"]["figure"]
    assert right["layout"]["title"]["text"] == "MNIST · Raw pixels (k-NN) · densMAP"


def test_a_cache_without_method_facts_keeps_the_three_and_names_other_layouts(densmap_cache, tmp_path):
    root = tmp_path / "older"
    shutil.copytree(densmap_cache, root)
    current = json.loads((root / "current.json").read_text())
    for entry in current["datasets"].values():
        del entry["methods"]
    write_json_atomic(root / "current.json", current)
    store = ExplorerStore(ArtifactStore(root))
    ds = store.get("mnist")
    # the three of before, titled as before; the layout no fact names comes last, under its name
    assert projections(ds) == ["umap", "tsne", "pca", "densmap"]
    assert [method_title(ds, p) for p in projections(ds)] == ["UMAP", "t-SNE", "PCA", "densmap"]

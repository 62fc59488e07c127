"""Fast explorer tests without a browser: store, URL state, figures, dynamics, dataset facts, module layout.

The HTTP routes, the callbacks and damaged artifacts have their own files
(``test_explorer_routes.py``, ``test_explorer_callbacks.py``, ``test_explorer_damage.py``).
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from synthetic.cache import KNOWN_CELLS
from explorer_helpers import ROOT, decode_typed, store, trace_rows, trace_xy  # noqa: F401 - store is a fixture
from explorer import figures as F
from explorer.state import ViewState, parse_query, to_query
from explorer.store import ExplorerStore
from core.store import ArtifactStore, CacheError


# -- store -------------------------------------------------------------------------
def test_store_reads_both_datasets(store):
    assert store.names == ["mnist", "fashion-mnist"]
    ds = store.get("fashion-mnist")
    assert ds.class_names[6] == "Shirt" and ds.n == 300
    assert ds.images.shape == (300, 28, 28) and isinstance(ds.images, np.memmap)
    assert ds.model("pixels").coords("tsne").shape == (300, 2)
    cnn = ds.model("cnn")
    assert cnn.confusion.sum() == 300
    for (t, p), count in KNOWN_CELLS["fashion-mnist"].items():
        assert cnn.confusion[t, p] == count == len(cnn.rows_in_cell(t, p))
    # the confusion the explorer computes agrees with the model's metrics.json here (test set)
    assert cnn.confusion.tolist() == cnn.metrics["confusion"]
    assert store.report["datasets"]["mnist"]["models"]["cnn"]["knn_accuracy"] > 0.5


def test_store_errors_name_the_problem(tmp_path, store):
    with pytest.raises(CacheError, match="current.json is missing"):
        ExplorerStore(ArtifactStore(tmp_path))
    with pytest.raises(KeyError, match="unknown dataset 'cifar'"):
        store.get("cifar")
    with pytest.raises(KeyError, match="MNIST · CNN has no isomap projection"):
        store.get("mnist").model("cnn").coords("isomap")
    with pytest.raises(KeyError, match="MNIST has no model 'resnet'; its models: pixels, mlp, cnn"):
        store.get("mnist").model("resnet")


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


# -- URL state ---------------------------------------------------------------------------
DATASETS = ["mnist", "fashion-mnist"]
MODELS = {"mnist": (["pixels", "mlp", "cnn"], "cnn"), "fashion-mnist": (["pixels", "cnn"], "cnn")}


def test_query_round_trip():
    s = ViewState(tab="projections", ds="fashion-mnist", model="pixels", proj="pca", colour="correct",
                  cell=(6, 0), model2="cnn", proj2="umap")
    q = to_query(s)
    assert "cell=6-0" in q and "model=pixels" in q and "model2=cnn" in q and q.startswith("?")
    assert parse_query(q, DATASETS, models=MODELS) == s
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
    ("", "model", "cnn"),
    ("", "model2", "pixels"),  # the right view opens on another model than the left
    ("?model=mlp", "model", "mlp"),
    ("?model=resnet", "model", "cnn"),  # unknown: the dataset's default
    ("?ds=fashion-mnist&model=mlp&model2=mlp", "model", "cnn"),  # not a model of that dataset
    ("?ds=fashion-mnist&model=mlp&model2=mlp", "model2", "pixels"),
    ("?model=" + "x" * 3000, "model", "cnn"),
])
def test_query_parsing_falls_back_to_defaults(query, field, expected):
    assert getattr(parse_query(query, DATASETS, models=MODELS), field) == expected


def test_query_frame_and_pairs():
    s = parse_query("?tab=dynamics&frame=3&pair=mnist:4-9&pair=fashion-mnist:0-6&pair=mnist:9-9", DATASETS)
    assert s.tab == "dynamics" and s.frame == 3
    assert s.pairs == (("fashion-mnist", 0, 6), ("mnist", 4, 9))  # 9-9 is no pair: the earlier one stays
    assert parse_query(to_query(s), DATASETS) == s
    for bad in ("?frame=-1", "?frame=abc", "?frame=99999999", "?frame=٣"):
        assert parse_query(bad, DATASETS).frame == 0
    assert parse_query("?pair=cifar:1-2&pair=mnist:1-10", DATASETS).pairs == ()


# -- figures ------------------------------------------------------------------------------
@pytest.mark.parametrize("colour", ["true", "pred", "correct", "confidence"])
def test_scatter_carries_rows_and_no_images(store, colour):
    ds = store.get("fashion-mnist")
    m = ds.model("cnn")
    fig = F.scatter_figure(m, "umap", colour)
    assert fig["layout"]["meta"]["model"] == "cnn" and "CNN" in fig["layout"]["title"]["text"]
    base, overlay = fig["data"][:-1], fig["data"][-1]
    assert overlay["name"] == F.HIGHLIGHT and len(decode_typed(overlay["x"])) == 0
    rows = np.concatenate([trace_rows(fig, k) for k in range(len(base))])
    assert sorted(rows.tolist()) == list(range(ds.n))  # every point exactly once
    coords = m.coords("umap")
    r = trace_rows(fig, len(base) - 1)
    # within half a step of the plot-unit grid (explorer.encoding)
    assert np.abs(trace_xy(fig, len(base) - 1) - coords[r]).max() <= fig["layout"]["meta"]["grid"]["step"] / 2 + 1e-9
    assert "base64" not in json.dumps(fig)[:100_000].replace("bdata", "")  # no inlined images
    # event points map back to the same rows
    pts = [{"curveNumber": len(base) - 1, "pointNumber": i} for i in range(len(r))]
    pts.append({"curveNumber": len(base), "pointNumber": 0})  # overlay points are ignored
    assert F.rows_from_points(m, colour, pts).tolist() == sorted(r.tolist())


def test_scatter_payload_stays_small_at_70k(tmp_path):
    """70,000 points: uint16 coordinates and, coloured by classes, no row ids: about 0.5 MB of JSON
    and 0.33 MB of gzip (0.74 MB with float32 x/y and int32 row ids per trace)."""
    import gzip

    from explorer.store import DatasetView

    n = 70_000
    rng = np.random.default_rng(0)
    root = tmp_path
    for d in ("s", "e", "p"):
        (root / d).mkdir()
    np.save(root / "s" / "labels.npy", rng.integers(0, 10, n).astype(np.uint8))
    np.save(root / "e" / "pred.npy", rng.integers(0, 10, n).astype(np.uint8))
    np.save(root / "e" / "proba.npy", rng.dirichlet(np.ones(10), n).astype(np.float32))
    np.save(root / "p" / "coords.npy", rng.normal(size=(n, 2)).astype(np.float32))
    ds = DatasetView(name="big", title="Big", class_names=[str(i) for i in range(10)], sample_set="all",
                     n=n, samples_dir=root / "s")
    m = ds.add_model("cnn", "CNN", "cnn", embed_dir=root / "e", model_dir=root, projection_dirs={"umap": root / "p"})
    for colour in ("true", "confidence"):
        body = json.dumps(F.scatter_figure(m, "umap", colour)).encode()
        assert len(body) < (600_000 if colour == "true" else 1_400_000), (colour, len(body))
        if colour == "true":
            assert len(gzip.compress(body)) < 400_000, len(gzip.compress(body))


def test_confusion_figure_and_selection_counts(store):
    cnn = store.get("mnist").model("cnn")
    fig = F.confusion_figure(cnn, cnn.confusion, cell=(4, 9))
    off = fig["data"][1]["z"]
    assert off[4][9] == KNOWN_CELLS["mnist"][(4, 9)] and off[4][4] is None
    assert fig["layout"]["shapes"][0]["x0"] == 8.5
    rows = cnn.rows_in_cell(4, 9)
    m = F.selection_confusion(cnn, np.concatenate([rows, cnn.rows_in_cell(1, 1)]))
    assert m[4, 9] == len(rows) and m[1, 1] == cnn.confusion[1, 1] and m.sum() == len(rows) + m[1, 1]


def test_selection_csv(store):
    from explorer.panels import selection_csv

    m = store.get("fashion-mnist").model("cnn")
    rows = m.rows_in_cell(6, 0)
    lines = selection_csv(m, rows, "umap").strip().splitlines()
    # the columns it always had, then one probability per class (issue 11)
    assert lines[0] == ("row,index,true,true_name,predicted,predicted_name,confidence,umap_x,umap_y,"
                        + ",".join(f"p_{c}" for c in m.ds.class_names))
    assert len(lines) == len(rows) + 1
    first = lines[1].split(",")
    assert first[3] == "Shirt" and first[5] == "T-shirt/top"
    assert float(first[7]) == pytest.approx(float(m.coords("umap")[rows[0], 0]), abs=1e-3)


# -- training dynamics ---------------------------------------------------------------------
def test_dynamics_loaded_and_mapped_to_embed_rows(store):
    from synthetic.cache import DYNAMICS_EPOCHS, DYNAMICS_MISSING

    assert all(m.dynamics is None for m in store.get("fashion-mnist").models.values())  # "dynamics": null
    assert store.get("mnist").model("pixels").dynamics is None
    ds = store.get("mnist")
    dyn = ds.model("cnn").dynamics
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

    from synthetic.cache import MLP_DYNAMICS_EPOCHS

    cnn = store.get("mnist").model("cnn")
    dyn = cnn.dynamics
    epochs = D.steps(store)
    assert epochs == [0.0, 0.05, 0.5, 1.0, 2.0] == D.steps(store, "cnn") == D.steps(store, "pixels")
    assert D.steps(store, "mlp") == list(MLP_DYNAMICS_EPOCHS)  # the dense network's own schedule
    assert [D.mark_label(e) for e in epochs] == ["untrained", "5%", "50%", "epoch 1", "epoch 2"]
    assert D.epoch_label(0.05) == "5% of epoch 1" and D.epoch_label(2.4) == "40% of epoch 3"
    for colour in ("true", "pred", "correct", "confidence"):
        fig = D.scatter_figure(cnn, 3, colour, list(range(5)), epochs)
        pts = fig["data"][0]
        assert np.array_equal(decode_typed(pts["x"]), dyn.frames[3, :, 0])
        assert decode_typed(pts["customdata"]).tolist() == dyn.rows.tolist()
        assert fig["layout"]["meta"]["explorer"] == "dynamics"
    legend = [t["name"] for t in D.scatter_figure(cnn, 3, "true", [0], epochs)["data"][1:]]
    assert legend == cnn.ds.class_names
    chart = D.chart_figure(cnn, 3, (4, 9))
    assert chart["data"][0]["y"][3] == pytest.approx(100 * dyn.rows_json[3]["test_accuracy"])
    c = dyn.confusion(3)
    assert chart["data"][1]["y"][3] == c[4, 9] + c[9, 4]
    line = D.stats_line(cnn, 3, (4, 9))
    assert line.startswith(f"epoch 1 · test accuracy {100 * dyn.rows_json[3]['test_accuracy']:.2f}% of 300 test "
                           "images · 4↔9")
    # whole epochs: the frame's test accuracy is the model's val_accuracy
    hist = json.loads((cnn.model_dir / "history.json").read_text())
    assert [dyn.rows_json[i]["test_accuracy"] for i in (3, 4)] == hist["val_accuracy"]


# -- the explorer's shape ------------------------------------------------------------------------
def test_explorer_source_names_no_dataset():
    """What the explorer knows of a dataset comes from current.json: no name of one in its code."""
    import re

    hits = [f"{p.relative_to(ROOT)}:{i}" for p in (ROOT / "explorer").rglob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\b(fashion-)?mnist\b", line, re.I)]
    assert hits == []


# -- current.json's dataset facts, and caches from before them ----------------------------------------
def test_dataset_facts_come_from_current_json(store, explorer_app):
    from explorer import dynamics as D
    from synthetic.cache import COLOURS, DEFAULT_PAIRS

    assert {n: list(D.default_pair(store.get(n))) for n in store.names} == DEFAULT_PAIRS
    assert F.dataset_colours(store) == COLOURS
    bars = F.separability_figure(store.report, dict.fromkeys(store.names, "cnn"), "umap",
                                 colours=F.dataset_colours(store))
    assert [t["marker"]["color"] for t in bars["data"]] == [COLOURS[n] for n in store.names]
    layout = explorer_app.server.test_client().get("/_dash-layout").get_data(as_text=True)
    assert '"value":"4-9"' in layout.replace(" ", "")  # mnist's pair dropdown starts on its default pair


def test_older_cache_without_facts_falls_back(tmp_path):
    from explorer import dynamics as D
    from explorer.app import create_app
    from explorer.page import progress_message
    from synthetic.cache import write_synthetic_cache
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
    dyn = store.get("mnist").model("cnn").dynamics  # the default model's
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
    one, two = (ExplorerStore(ArtifactStore(explorer_cache)).get("mnist").model("cnn") for _ in range(2))
    assert F.groups(one, "true") is F.groups(one, "true")  # computed once per view
    assert F.groups(one, "true") is not F.groups(two, "true")  # two apps share nothing
    assert "cnn/groups-true" in one.ds._cache

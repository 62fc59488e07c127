"""The model axis of the explorer, without a browser: each model's own predictions, layouts and
k-NN graph reach the views that show them; the URL keeps the models; older caches are refused."""
from __future__ import annotations

import json

import numpy as np
import pytest

from synthetic.cache import (DYNAMICS_EPOCHS, MLP_DYNAMICS_EPOCHS, MODEL_CELLS, MODEL_TITLES, MODELS,
                           write_synthetic_cache)
from explorer_helpers import (GOOD, client, dash_post, decode_typed, response_of, store,  # noqa: F401
                              trace_rows, trace_xy)
from explorer.store import ExplorerStore
from explorer.panels import fmt, pct
from core.store import ArtifactStore, CacheError, write_json_atomic


def off_diagonal(m: np.ndarray) -> dict:
    return {(t, p): int(m[t, p]) for t in range(len(m)) for p in range(len(m)) if t != p and m[t, p]}


def components(tree, cls: str) -> list[dict]:
    """Every component (as Dash serialises it) under ``tree`` whose className has ``cls``."""
    found = []
    if isinstance(tree, list):
        for t in tree:
            found += components(t, cls)
    elif isinstance(tree, dict) and "props" in tree:
        if cls in str(tree["props"].get("className", "")).split():
            found.append(tree)
        found += components(tree["props"].get("children"), cls)
    return found


def figure_coords(fig: dict) -> dict[int, tuple[float, float]]:
    """Row -> (x, y) in data coordinates (within half a grid step) of every base point of a scatter figure."""
    out = {}
    for k in range(len(fig["data"]) - 1):
        for r, (x, y) in zip(trace_rows(fig, k), trace_xy(fig, k)):
            out[int(r)] = (float(x), float(y))
    return out


# -- the store ------------------------------------------------------------------------------
def test_models_in_current_json_order_with_their_titles(store):
    for name in store.names:
        ds = store.get(name)
        assert ds.model_names == list(MODELS) and ds.default_model == "cnn"
        assert [m.title for m in ds.models.values()] == [MODEL_TITLES[m] for m in MODELS]
        assert ds.pick("resnet").name == "cnn" and ds.pick(None).name == "cnn" and ds.pick("mlp").name == "mlp"
        assert ds.other_model("cnn").name == "pixels" and ds.other_model("pixels").name == "mlp"


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_each_model_has_its_own_cells_layouts_and_graph(store, dataset):
    ds = store.get(dataset)
    for model in MODELS:
        m = ds.model(model)
        assert off_diagonal(m.confusion) == MODEL_CELLS[model][dataset]
        for (t, p), count in MODEL_CELLS[model][dataset].items():
            assert len(m.rows_in_cell(t, p)) == count
        assert m.confusion.tolist() == m.metrics["confusion"]
        assert np.allclose(m.confidence, m.proba.max(1))
    for a, b in (("pixels", "mlp"), ("mlp", "cnn"), ("pixels", "cnn")):
        ma, mb = ds.model(a), ds.model(b)
        assert not np.allclose(ma.coords("umap"), mb.coords("umap"))
        assert (ma.knn[:, 0] != mb.knn[:, 0]).mean() > 0.5
        assert not np.array_equal(ma.pred, mb.pred)


def test_old_current_json_is_refused_with_a_rerun_hint(tmp_path):
    from explorer.server import serve

    write_synthetic_cache(tmp_path, n=120, seed=3)
    current = json.loads((tmp_path / "current.json").read_text())
    store = ExplorerStore(ArtifactStore(tmp_path))
    m = current["datasets"]["mnist"]["models"]["cnn"]
    old = {"version": 1, "report": current["report"], "datasets": {"mnist": {  # one model per dataset
        "title": "MNIST", "class_names": current["datasets"]["mnist"]["class_names"], "n": 120,
        "model": m["model"], "embed": m["embed"], "projections": {"cnn": m["projections"]}, "dynamics": None}}}
    for version in (1, None):
        write_json_atomic(tmp_path / "current.json", {**old, "version": version} if version else
                          {k: v for k, v in old.items() if k != "version"})
        with pytest.raises(CacheError, match=r"current.json was written by an older pipeline .*rerun `\./run\.sh` "
                                             r"\(trained models are reused\)"):
            ExplorerStore(ArtifactStore(tmp_path))
        with pytest.raises(CacheError, match="written by an older pipeline"):
            serve(tmp_path, port=0)
    write_json_atomic(tmp_path / "current.json", {**current, "version": 4})
    with pytest.raises(CacheError, match="version 4, written by a newer pipeline"):
        ExplorerStore(ArtifactStore(tmp_path))
    # a server already running keeps what it shows when an old pipeline rewrites current.json
    write_json_atomic(tmp_path / "current.json", old)
    store._checked, store._stamp = 0.0, None
    assert store.maybe_reload() is False and store.names == ["mnist", "fashion-mnist"]


def test_incomplete_model_entry_is_named(tmp_path):
    write_synthetic_cache(tmp_path, n=120, seed=3)
    current = json.loads((tmp_path / "current.json").read_text())
    del current["datasets"]["fashion-mnist"]["models"]["mlp"]["embed"]
    write_json_atomic(tmp_path / "current.json", current)
    with pytest.raises(CacheError, match="entry 'fashion-mnist', model 'mlp' is incomplete"):
        ExplorerStore(ArtifactStore(tmp_path))


# -- the views follow the chosen model ----------------------------------------------------
@pytest.mark.parametrize("model", MODELS)
def test_scatter_and_confusion_are_the_chosen_models(client, explorer_app, store, model):
    m = store.get("fashion-mnist").model(model)
    values = {**GOOD, "ctl-dataset.value": "fashion-mnist", "ctl-model.value": model, "ctl-colour.value": "pred"}
    fig = response_of(dash_post(client, explorer_app, "render_scatter", values, changed=["ctl-model.value"]),
                      "ex-scatter.figure")
    assert fig["layout"]["meta"]["model"] == model and MODEL_TITLES[model] in fig["layout"]["title"]["text"]
    coords = figure_coords(fig)
    assert np.allclose([coords[r] for r in range(m.ds.n)], m.coords("umap"),
                       rtol=0, atol=fig["layout"]["meta"]["grid"]["step"] / 2 + 1e-6)
    # coloured by this model's predictions: trace c holds exactly the rows it predicts as c
    for c, trace in enumerate(fig["data"][:-1]):
        assert "customdata" not in trace and trace_rows(fig, c).tolist() == np.flatnonzero(m.pred == c).tolist()
    conf = response_of(dash_post(client, explorer_app, "render_confusion", values, changed=["ctl-model.value"]),
                       "ex-confusion.figure")
    off = conf["data"][1]["z"]
    cells = {(t, p): v for t, row in enumerate(off) for p, v in enumerate(row) if v}
    assert cells == MODEL_CELLS[model]["fashion-mnist"]
    assert MODEL_TITLES[model] in conf["layout"]["title"]["text"]
    # a cell of the confusion matrix lights up this model's rows
    (t, p), count = next(iter(MODEL_CELLS[model]["fashion-mnist"].items()))
    fig = response_of(dash_post(client, explorer_app, "render_scatter",
                                {**values, "ex-cell.data": {"ds": "fashion-mnist", "cell": [t, p]}},
                                changed=["ex-cell.data"]), "ex-scatter.figure")
    assert sorted(decode_typed(fig["data"][-1]["customdata"]).tolist()) == m.rows_in_cell(t, p).tolist()
    assert len(decode_typed(fig["data"][-1]["customdata"])) == count


def test_detail_panel_uses_the_chosen_models_graph_and_probabilities(client, explorer_app, store):
    ds = store.get("mnist")
    row = 17
    for model in MODELS:
        m = ds.model(model)
        r = dash_post(client, explorer_app, "render_detail",
                      {**GOOD, "ex-clicked.data": {"ds": "mnist", "row": row}, "ctl-model.value": model},
                      changed=["ctl-model.value"])
        tree = response_of(r, "ex-detail.children")
        body = json.dumps(tree, ensure_ascii=False)
        assert [int(c["props"]["data-row"]) for c in components(tree, "nb-item")] == m.knn[row][:10].tolist()
        top = int(np.argmax(m.proba[row]))
        assert pct(m.proba[row, top]) in body and f"Top-3 probabilities · {m.title}" in body


def test_compare_view_draws_two_models_and_links_their_selection(client, explorer_app, store):
    ds = store.get("mnist")
    values = {**GOOD, "tabs.value": "projections", "ctl-model.value": "cnn", "ctl-model2.value": "pixels",
              "ctl-proj2.value": "umap", "ctl-colour.value": "correct"}
    r = dash_post(client, explorer_app, "render_projections", values, changed=["ctl-model2.value"])
    left, right = response_of(r, "cp-left.figure"), response_of(r, "cp-right.figure")
    assert (left["layout"]["meta"]["model"], right["layout"]["meta"]["model"]) == ("cnn", "pixels")
    assert np.allclose([figure_coords(right)[i] for i in range(ds.n)], ds.model("pixels").coords("umap"),
                       rtol=0, atol=right["layout"]["meta"]["grid"]["step"] / 2 + 1e-6)
    # points picked in the right view are the pixels model's groups (correct/wrong by its predictions)
    wrong = np.flatnonzero(ds.labels != ds.model("pixels").pred)
    points = [{"curveNumber": 1, "pointNumber": i} for i in range(len(wrong))]
    r = dash_post(client, explorer_app, "on_linked_select", {**values, "cp-right.selectedData": {"points": points}},
                  changed=["cp-right.selectedData"])
    linked = response_of(r, "cp-linked.data")
    assert linked["rows"] == wrong.tolist() and linked["source"] == "cp-right"
    r = dash_post(client, explorer_app, "render_projections", {**values, "cp-linked.data": linked},
                  changed=["cp-linked.data"])
    assert r.status_code == 200 and f"{len(wrong)} selected" in r.get_data(as_text=True)


def test_models_table_shows_the_reports_values(client, explorer_app, store):
    from explorer.models_table import model_rows
    from explorer.panels import duration, fmt

    ds = store.get("fashion-mnist")
    report = store.report["datasets"]["fashion-mnist"]["models"]
    rows = model_rows(ds, store.report, "tsne")
    assert [r["model"] for r in rows] == list(MODELS)
    for r in rows:
        e = report[r["model"]]
        assert (r["knn_accuracy"], r["silhouette"], r["train_seconds"]) == (
            e["knn_accuracy"], e["silhouette"], e["train_seconds"])
        # the accuracy is Explore's (issue 26), which on the synthetic cache is the report's too
        assert r["test_accuracy"].fraction == pytest.approx(e["test_accuracy"]) and r["test_accuracy"].n == ds.n
        assert (r["knn_2d"], r["trustworthiness"]) == (e["projections"]["tsne"]["knn_accuracy"],
                                                      e["projections"]["tsne"]["trustworthiness"])
        top = e["pairs"][0]
        assert r["pair"] == f"{top['names'][0]} ↔ {top['names'][1]} ({top['confusions']})"
    r = dash_post(client, explorer_app, "render_models_table",
                  {**GOOD, "tabs.value": "projections", "ctl-dataset.value": "fashion-mnist", "ctl-proj.value": "tsne",
                   "ctl-model.value": "mlp", "ctl-model2.value": "pixels"}, changed=["ctl-proj.value"])
    body = json.dumps(response_of(r, "cp-models.children"), ensure_ascii=False)
    assert "k-NN acc. 2-D (t-SNE)" in body
    for model in MODELS:
        e = report[model]
        for v in (f"{100 * e['test_accuracy']:.2f}%", fmt(e["knn_accuracy"]),
                  fmt(e["projections"]["tsne"]["trustworthiness"]),
                  fmt(e["silhouette"]), duration(e["train_seconds"])):
            assert f'"{v}"' in body, (model, v)
    assert '"shown left", "data-model": "mlp"' in body and '"shown right", "data-model": "pixels"' in body
    assert body.count('"left view"') == 1 and body.count('"right view"') == 1
    assert duration(95.0) == "1 min 35 s" and duration(0.8) == "0.8 s" and fmt(None) == "n/a"


def test_datasets_tab_uses_the_chosen_model(client, explorer_app, store):
    r = dash_post(client, explorer_app, "render_datasets", {**GOOD, "tabs.value": "datasets", "ctl-model.value": "mlp"},
                  datasets=("mnist", "fashion-mnist"), changed=["ctl-model.value"])
    body = r.json["response"]
    figs = [v["figure"] for k, v in body.items() if "cd-scatter" in k]
    assert [f["layout"]["meta"]["model"] for f in figs] == ["mlp", "mlp"]
    bars = body["cd-bars"]["figure"]
    report = store.report["datasets"]
    assert [t["y"][0] for t in bars["data"]] == [round(report[n]["models"]["mlp"]["knn_accuracy"], 3)
                                                 for n in ("mnist", "fashion-mnist")]
    assert "Dense network" in bars["layout"]["title"]["text"]


# -- the URL and the Model control ------------------------------------------------------------
def test_url_sets_the_models_and_follows_them(client, explorer_app):
    r = dash_post(client, explorer_app, "sync_url",
                  {**GOOD, "url.search": "?ds=fashion-mnist&model=pixels&model2=mlp&tab=projections"},
                  changed=["url.search"])
    assert response_of(r, "ctl-model.value") == "pixels" and response_of(r, "ctl-model2.value") == "mlp"
    assert [o["label"] for o in response_of(r, "ctl-model.options")] == [MODEL_TITLES[m] for m in MODELS]
    r = dash_post(client, explorer_app, "sync_url", {**GOOD, "url.search": "?model=resnet&model2=%00",
                                                     "ctl-model.value": "mlp", "ctl-model2.value": "mlp"},
                  changed=["url.search"])
    assert response_of(r, "ctl-model.value") == "cnn" and response_of(r, "ctl-model2.value") == "pixels"
    r = dash_post(client, explorer_app, "sync_url", {**GOOD, "url.search": "?tab=explore", "ctl-model.value": "mlp"},
                  changed=["ctl-model.value"])
    search = response_of(r, "url.search")
    assert "model=mlp" in search and "model2=pixels" in search
    assert set(r.json["response"]) == {"url"}


def test_models_table_has_the_2d_columns_of_both_views_layouts(store):
    """The right view shows t-SNE while the left shows UMAP: the table scores both (issue 26: its 2-D
    columns were the left view's alone)."""
    from explorer.models_table import model_rows, models_table

    ds = store.get("mnist")
    body = str(models_table(ds, store.report, "umap", ("cnn", "pixels"), "tsne"))
    for head in ("k-NN acc. 2-D (UMAP)", "Trustworthiness (UMAP)", "k-NN acc. 2-D (t-SNE)", "Trustworthiness (t-SNE)"):
        assert head in body, head
    assert "2-D columns: UMAP, left view and t-SNE, right view" in body
    for proj in ("umap", "tsne"):
        for r in model_rows(ds, store.report, proj):
            assert fmt(r["trustworthiness"]) in body
    one = str(models_table(ds, store.report, "tsne", ("cnn", "pixels"), "tsne"))
    assert "(UMAP)" not in one and one.count("k-NN acc. 2-D (t-SNE)") == 1


def test_page_load_leaves_controls_that_already_hold_the_urls_values(client, explorer_app):
    """Setting them would set off their callbacks (the selection, the filter), and the scatter's
    figure request would wait for those: issue 14's late figure."""
    r = dash_post(client, explorer_app, "sync_url", {**GOOD, "url.search": ""}, changed=["url.search"])
    for prop in ("tabs.value", "ctl-dataset.value", "ctl-model.value", "ctl-proj.value", "ctl-colour.value",
                 "ctl-model2.value", "ctl-proj2.value"):
        assert response_of(r, prop) is None, prop
    r = dash_post(client, explorer_app, "sync_url", {**GOOD, "url.search": "?proj=tsne&tab=explore"},
                  changed=["url.search"])
    assert response_of(r, "ctl-proj.value") == "tsne" and response_of(r, "tabs.value") is None


def test_a_url_the_page_cannot_show_says_what_it_ignored_and_shows_the_view(client, explorer_app):
    """Issue 26: ``model=resnet&colour=purple&tab=nope`` opened the defaults without a word, the bad
    query left in the address bar.  The alert names each value ignored; the URL becomes the view shown."""
    r = dash_post(client, explorer_app, "sync_url",
                  {**GOOD, "url.search": "?ds=mnist&model=resnet&colour=purple&tab=nope&foo=1"}, changed=["url.search"])
    side = r.json["sideUpdate"]
    text = side["alert-text"]["children"]
    assert "ignored model=resnet (MNIST has no such model; showing model=cnn)" in text
    assert "ignored colour=purple (no such colouring; showing colour=true)" in text
    assert "ignored tab=nope (no such tab; showing tab=explore)" in text
    assert "ds=" not in text and "foo" not in text  # a value taken; an unknown key, quietly
    assert side["alert"]["style"] == {"display": "flex"}
    search = response_of(r, "url.search")
    assert "model=cnn" in search and "colour=true" in search and "tab=explore" in search and "ds=mnist" in search
    assert not any(w in search for w in ("resnet", "purple", "nope", "foo"))
    # the URL it wrote reads back without a word, and is left as it is
    r = dash_post(client, explorer_app, "sync_url", {**GOOD, "url.search": search}, changed=["url.search"])
    assert "sideUpdate" not in r.json and response_of(r, "url.search") is None
    for fine in ("?ds=mnist", "?ds=fashion-mnist&model=pixels&point=007", ""):  # taken, if not as written
        r = dash_post(client, explorer_app, "sync_url", {**GOOD, "url.search": fine}, changed=["url.search"])
        assert "sideUpdate" not in r.json and response_of(r, "url.search") is None, fine


def test_dataset_without_the_chosen_model_falls_back_to_its_default(tmp_path):
    from explorer.app import create_app

    write_synthetic_cache(tmp_path, n=120, seed=4)
    current = json.loads((tmp_path / "current.json").read_text())
    del current["datasets"]["fashion-mnist"]["models"]["mlp"]
    write_json_atomic(tmp_path / "current.json", current)
    app = create_app(ArtifactStore(tmp_path))
    c = app.server.test_client()
    values = {**GOOD, "ctl-dataset.value": "fashion-mnist", "ctl-model.value": "mlp", "ctl-model2.value": "mlp"}
    r = dash_post(c, app, "sync_url", values, changed=["ctl-dataset.value"])
    assert response_of(r, "ctl-model.value") == "cnn" and response_of(r, "ctl-model2.value") == "pixels"
    assert [o["value"] for o in response_of(r, "ctl-model.options")] == ["pixels", "cnn"]
    assert "model=cnn" in response_of(r, "url.search")
    fig = response_of(dash_post(c, app, "render_scatter", values, changed=["ctl-dataset.value"]), "ex-scatter.figure")
    assert fig["layout"]["meta"]["model"] == "cnn"  # drawn with the default while the control catches up


# -- training dynamics of the chosen model ----------------------------------------------------
@pytest.mark.parametrize("model, shown, schedule, note", [
    ("mlp", "mlp", MLP_DYNAMICS_EPOCHS, "Training of the Dense network."),
    ("cnn", "cnn", DYNAMICS_EPOCHS, "Training of the CNN."),
    ("pixels", "cnn", DYNAMICS_EPOCHS, "The Raw pixels (k-NN) has no training snapshots: showing the CNN's training."),
])
def test_dynamics_follow_the_chosen_model(client, explorer_app, store, model, shown, schedule, note):
    from explorer import dynamics as D

    r = dash_post(client, explorer_app, "render_dynamics",
                  {**GOOD, "tabs.value": "dynamics", "dy-frame.value": 1, "ctl-model.value": model},
                  changed=["ctl-model.value"])
    body = r.json["response"]
    fig = next(v["figure"] for k, v in body.items() if "dy-scatter" in k)
    assert fig["layout"]["meta"]["model"] == shown
    dyn = store.get("mnist").model(shown).dynamics
    assert np.allclose(decode_typed(fig["data"][0]["x"]), dyn.frames[1, :, 0])
    assert next(v["children"] for k, v in body.items() if "dy-model" in k) == note
    marks = body["dy-frame"]["marks"]
    assert [m["label"] for m in marks.values()] == [D.mark_label(e) for e in schedule]
    r = dash_post(client, explorer_app, "render_dynamics_charts",
                  {**GOOD, "tabs.value": "dynamics", "dy-frame.value": 3, "ctl-model.value": model,
                   "dy-pair.value": {"mnist": "4-9"}}, changed=["ctl-model.value"])
    stats = next(v["children"] for k, v in r.json["response"].items() if "dy-stats" in k)
    assert stats.startswith(D.epoch_label(schedule[3]))
    assert f"test accuracy {100 * dyn.rows_json[3]['test_accuracy']:.2f}% of 300 test images" in stats

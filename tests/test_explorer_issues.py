"""Label issues and faithfulness in the explorer, without a browser: the store loads and checks the
optional folders, the "Label issues" tab lists the planted suspects in ranked order with their images,
filters by class pair, pages and exports them; the colourings and the detail panel show the known values;
a model (or an older cache) without them says so."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from synthetic.cache import (FAITH_K, FAITH_PROJECTIONS, ISSUE_MODELS, MODEL_CELLS, MODELS, decode_row,
                           faithfulness_of, write_synthetic_cache)
from explorer_helpers import GOOD, client, dash_post, png_array, response_of, store  # noqa: F401
from test_explorer_models import components
from explorer.page import colour_options
from explorer.store import ExplorerStore
from explorer.thumbnails import TILE
from core.store import ArtifactStore, CacheError, DamagedArtifact, save_npy_atomic, write_json_atomic

ISSUES = {**GOOD, "tabs.value": "issues"}


def ranked_of(m) -> list[int]:
    """The planted order: the model's mistakes, highest score first (from the arrays, not ranked.json)."""
    wrong = np.flatnonzero(m.ds.labels != m.pred)
    return sorted(wrong.tolist(), key=lambda r: -float(m.issues.score[r]))


def cards(r) -> list[dict]:
    return components(response_of(r, "li-grid.children"), "issue-card")


# -- the store ------------------------------------------------------------------------------
@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_store_loads_issues_and_faithfulness_where_the_cache_has_them(store, dataset):
    ds = store.get(dataset)
    for name in MODELS:
        m = ds.model(name)
        assert m.has_issues == (name in ISSUE_MODELS)
        for proj in ("umap", "tsne", "pca"):
            f = m.faithfulness(proj)
            if proj in FAITH_PROJECTIONS.get(name, ()):
                assert f.dtype == np.float32 and np.array_equal(f, faithfulness_of(np.arange(ds.n), name, proj))
                assert m.true_neighbours(proj, 17) == round(FAITH_K * float(f[17]))
            else:
                assert f is None and m.true_neighbours(proj, 17) is None
        if name not in ISSUE_MODELS:
            assert m.issues is None
            continue
        li = m.issues
        assert li.score.shape == li.suggested.shape == li.suspect.shape == (ds.n,)
        assert np.array_equal(li.suspect, ds.labels != m.pred)  # the planted suspects: the model's mistakes
        assert li.rows.tolist() == ranked_of(m) == [e["row"] for e in li.ranked]
        assert np.all(np.diff(li.score[li.rows]) < 0) and li.score[li.rows].min() > li.score[~li.suspect].max()
        assert np.array_equal(li.suggested[li.rows], m.pred[li.rows])
        counts = li.pair_counts(len(ds.class_names))
        assert {(g, s): int(counts[g, s]) for g, s in zip(*np.nonzero(counts))} == MODEL_CELLS[name][dataset]
        assert li.oos_words().startswith("every image is a test image")


def test_out_of_sample_words_follow_the_folders_config(store):
    from dataclasses import replace

    li = store.get("mnist").model("cnn").issues
    assert replace(li, config={"oos": "cv-5"}).oos_words().startswith("training images were scored by 5-fold")
    assert "leave-one-out" in replace(li, config={"oos": "loo"}).oos_words()
    assert replace(li, config={}).oos_words() == replace(li, config={"oos": "cv-x"}).oos_words() == ""


def _model_entry(root: Path, model: str = "cnn", name: str = "mnist") -> dict:
    return json.loads((root / "current.json").read_text())["datasets"][name]["models"][model]


@pytest.fixture
def cache_copy(tmp_path) -> Path:
    write_synthetic_cache(tmp_path, n=120, seed=2)
    return tmp_path


def _alert(r) -> str:
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.json["sideUpdate"]["alert"]["style"]["display"] == "flex"
    return r.json["sideUpdate"]["alert-text"]["children"]


@pytest.mark.parametrize("name, values", [
    ("score.npy", {**ISSUES}),
    ("ranked.json", {**ISSUES}),
    ("suggested.npy", {**GOOD, "ctl-colour.value": "issues"}),
])
def test_a_damaged_issues_file_is_refused_naming_it(cache_copy, name, values):
    from explorer.app import create_app

    path = (cache_copy / _model_entry(cache_copy)["issues"] / name).resolve()
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01  # one bit near the end: same size, other bytes
    path.write_bytes(bytes(data))
    store = ExplorerStore(ArtifactStore(cache_copy))
    with pytest.raises(DamagedArtifact, match=re.escape(str(path))):
        store.get("mnist").model("cnn").issues
    app = create_app(store)
    callback = "render_issues" if values["tabs.value"] == "issues" else "render_scatter"
    text = _alert(dash_post(app.server.test_client(), app, callback, values, changed=["tabs.value"]))
    assert str(path) in text and "is damaged" in text
    # the other model's issues are intact
    assert store.get("mnist").model("mlp").issues is not None


def test_a_damaged_faithfulness_file_is_refused_in_the_scatter_and_detail(cache_copy):
    from explorer.app import create_app

    path = (cache_copy / _model_entry(cache_copy)["faithfulness"]["tsne"] / "faithfulness.npy").resolve()
    with open(path, "r+b") as f:
        f.truncate(200)
    app = create_app(ArtifactStore(cache_copy))
    client = app.server.test_client()
    values = {**GOOD, "ctl-proj.value": "tsne", "ctl-colour.value": "faith",
              "ex-clicked.data": {"ds": "mnist", "row": 3}}
    for callback in ("render_scatter", "render_detail"):
        assert str(path) in _alert(dash_post(client, app, callback, values, changed=["ctl-colour.value"]))
    assert app.explorer_store.get("mnist").model("cnn").faithfulness("umap") is not None


def _rewrite_issues(root: Path, change) -> None:
    """A new, properly sealed issues folder for mnist's CNN whose content ``change`` altered."""
    store = ArtifactStore(root)
    src = root / _model_entry(root)["issues"]
    arrays = {n: np.load(src / n) for n in ("score.npy", "suggested.npy", "suspect.npy")}
    ranked = json.loads((src / "ranked.json").read_text())
    change(arrays, ranked)
    with store.writing("mnist", "issues", "0badc0ffee00", {"oos": "test"}) as d:
        for n, a in arrays.items():
            save_npy_atomic(d / n, a)
        write_json_atomic(d / "ranked.json", ranked)
    current = json.loads((root / "current.json").read_text())
    current["datasets"]["mnist"]["models"]["cnn"]["issues"] = "mnist/issues/0badc0ffee00"
    write_json_atomic(root / "current.json", current)


@pytest.mark.parametrize("change, message", [
    (lambda a, r: a.update({"score.npy": a["score.npy"][:50]}), "has shape (50,), current.json says 120 rows"),
    (lambda a, r: a.update({"score.npy": a["score.npy"] * 3}), "scores outside [0, 1]"),
    (lambda a, r: a.update({"suggested.npy": a["suggested.npy"] + 10}), "names a class outside 0-9"),
    (lambda a, r: a.update({"suspect.npy": a["suspect.npy"].astype(np.float32)}), "not the documented type"),
    (lambda a, r: r[0].update(given=(r[0]["given"] + 1) % 10), "disagrees with the samples"),
    (lambda a, r: r[0].update(row=10_000), "not one of 0-119"),
    (lambda a, r: r[0].pop("score"), "lacks one of row, id, given, suggested, score"),
])
def test_issues_that_disagree_with_the_samples_are_refused(cache_copy, change, message):
    _rewrite_issues(cache_copy, change)
    with pytest.raises(CacheError, match=re.escape(message)):
        ExplorerStore(ArtifactStore(cache_copy)).get("mnist").model("cnn").issues


def test_an_older_cache_without_them_keeps_working(cache_copy):
    from explorer.app import create_app

    current = json.loads((cache_copy / "current.json").read_text())
    for name, e in current["datasets"].items():
        for model, m in e["models"].items():
            m.pop("issues", None), m.pop("faithfulness", None)
        e["models"]["mlp"].update(issues=None, faithfulness=None)  # null: not computed either
    write_json_atomic(cache_copy / "current.json", current)
    app = create_app(ArtifactStore(cache_copy))
    client = app.server.test_client()
    m = app.explorer_store.get("mnist").model("cnn")
    assert m.issues is None and m.faithfulness("umap") is None
    assert [o["value"] for o in colour_options(m, "umap")] == ["true", "pred", "correct", "confidence", "atypical"]
    r = dash_post(client, app, "render_issues", ISSUES, changed=["tabs.value"])
    assert response_of(r, "li-missing.children") == ("Label issues are not computed for this model (CNN). "
                                                     "Rerun the pipeline to compute them.")
    assert response_of(r, "li-body.style") == {"display": "none"}
    # a URL asking for a score colouring opens with the true class (from a page that held another)
    r = dash_post(client, app, "sync_url", {**GOOD, "url.search": "?colour=issues", "ctl-colour.value": "pred"},
                  changed=["url.search"])
    assert response_of(r, "ctl-colour.value") == "true"
    body = dash_post(client, app, "render_detail", {**GOOD, "ex-clicked.data": {"ds": "mnist", "row": 4}},
                     changed=["ex-clicked.data"]).get_data(as_text=True)
    assert "detail-issue" not in body and "detail-faith" not in body and client.get("/").status_code == 200


# -- the Label issues tab -------------------------------------------------------------------
@pytest.mark.parametrize("dataset, model", [("mnist", "cnn"), ("fashion-mnist", "mlp")])
def test_tab_lists_the_suspects_in_ranked_order_with_their_images(client, explorer_app, store, dataset, model):
    m = store.get(dataset).model(model)
    r = dash_post(client, explorer_app, "render_issues", {**ISSUES, "ctl-dataset.value": dataset,
                                                          "ctl-model.value": model}, changed=["tabs.value"])
    shown = cards(r)
    assert [int(c["props"]["data-row"]) for c in shown] == ranked_of(m)
    assert [c["props"]["data-rank"] for c in shown] == [str(i) for i in range(1, len(shown) + 1)]
    sheet = png_array(client.get(f"/sprites/{dataset}/0.png").data)
    names = m.ds.class_names
    for c in shown:
        row = int(c["props"]["data-row"])
        x, y = (int(v[1:-2]) // 3 for v in c["props"]["children"][0]["props"]["style"]["backgroundPosition"].split())
        assert decode_row(sheet[y:y + TILE, x:x + TILE]) == row  # that row's image
        text = json.dumps(c, ensure_ascii=False)
        assert names[m.ds.labels[row]] in text and names[m.pred[row]] in text
        assert f"{float(m.issues.score[row]):.2f}" in text
    title = response_of(r, "li-title.children")
    assert title[0]["props"]["children"] == f"{len(shown)}" and title[1].startswith(f" of {len(shown)} suspects")
    assert response_of(r, "li-more.style") == {"display": "none"}
    z = response_of(r, "li-matrix.figure")["data"][0]["z"]
    assert {(g, s): v for g, row in enumerate(z) for s, v in enumerate(row) if v} == MODEL_CELLS[model][dataset]


@pytest.mark.parametrize("pair", list(MODEL_CELLS["cnn"]["fashion-mnist"]))
def test_the_class_pair_filter_keeps_exactly_that_pair(client, explorer_app, store, pair):
    m = store.get("fashion-mnist").model("cnn")
    values = {**ISSUES, "ctl-dataset.value": "fashion-mnist"}
    r = dash_post(client, explorer_app, "on_pair_click", {**values, "li-matrix.clickData": {
        "points": [{"x": pair[1], "y": pair[0]}]}}, changed=["li-matrix.clickData"])
    chosen = response_of(r, "li-pair.data")
    assert chosen == {"ds": "fashion-mnist", "pair": list(pair)}
    r = dash_post(client, explorer_app, "render_issues", {**values, "li-pair.data": chosen}, changed=["li-pair.data"])
    rows = [int(c["props"]["data-row"]) for c in cards(r)]
    assert rows == [x for x in ranked_of(m) if (m.ds.labels[x], m.pred[x]) == pair]
    assert len(rows) == MODEL_CELLS["cnn"]["fashion-mnist"][pair]
    assert response_of(r, "li-all.disabled") is False
    assert response_of(r, "li-matrix.figure")["layout"]["shapes"][0]["x0"] == pair[1] - 0.5
    # a second click on the same cell: every pair again; the diagonal is no pair
    r = dash_post(client, explorer_app, "on_pair_click", {**values, "li-pair.data": chosen, "li-matrix.clickData": {
        "points": [{"x": pair[1], "y": pair[0]}]}}, changed=["li-matrix.clickData"])
    assert response_of(r, "li-pair.data") is None
    r = dash_post(client, explorer_app, "on_pair_click", {**values, "li-matrix.clickData": {
        "points": [{"x": 3, "y": 3}]}}, changed=["li-matrix.clickData"])
    assert r.status_code == 204


def test_show_more_pages_through_every_suspect(client, explorer_app, store, monkeypatch):
    import explorer.tabs.issues as tab

    monkeypatch.setattr(tab, "PAGE", 4)
    m = store.get("mnist").model("cnn")
    order = ranked_of(m)
    assert len(order) == 11
    shown_data, seen = None, []
    for expected in (4, 8, 11):
        r = dash_post(client, explorer_app, "render_issues", {**ISSUES, "li-shown.data": shown_data},
                      changed=["li-shown.data"])
        seen = [int(c["props"]["data-row"]) for c in cards(r)]
        assert seen == order[:expected]
        left = 11 - expected
        assert response_of(r, "li-more.style") == ({} if left else {"display": "none"})
        if left:
            assert response_of(r, "li-more.children") == f"Show more ({min(4, left)} of {left} left)"
        r = dash_post(client, explorer_app, "on_more", {**ISSUES, "li-more.n_clicks": 1, "li-shown.data": shown_data},
                      changed=["li-more.n_clicks"])
        shown_data = response_of(r, "li-shown.data")
    # another filter starts on its first page
    r = dash_post(client, explorer_app, "render_issues", {**ISSUES, "li-shown.data": shown_data,
                                                          "li-pair.data": {"ds": "mnist", "pair": [4, 9]}},
                  changed=["li-pair.data"])
    assert len(cards(r)) == 4


@pytest.mark.parametrize("pair", [None, (4, 9)])
def test_csv_is_the_ranked_list(client, explorer_app, store, pair):
    m = store.get("mnist").model("cnn")
    values = {**ISSUES, "li-download-btn.n_clicks": 1, "li-pair.data": {"ds": "mnist", "pair": list(pair)} if pair
              else None}
    out = response_of(dash_post(client, explorer_app, "download_issues", values, changed=["li-download-btn.n_clicks"]),
                      "li-download.data")
    assert out["filename"] == "mnist-cnn-label-issues" + ("-4-9" if pair else "") + ".csv"
    lines = list(csv.DictReader(io.StringIO(out["content"])))
    ranked = [(i, e) for i, e in enumerate(m.issues.ranked, 1) if pair is None or (e["given"], e["suggested"]) == pair]
    assert len(lines) == len(ranked) and len(ranked) == (6 if pair else 11)
    names = m.ds.class_names
    for line, (rank, e) in zip(lines, ranked):
        assert (int(line["rank"]), int(line["row"]), int(line["index"]), int(line["given"]), int(line["suggested"])) \
            == (rank, e["row"], e["id"], e["given"], e["suggested"])
        assert (line["given_name"], line["suggested_name"]) == (names[e["given"]], names[e["suggested"]])
        assert float(line["score"]) == pytest.approx(e["score"], abs=1e-6)


def test_a_model_without_issues_says_not_computed(client, explorer_app):
    r = dash_post(client, explorer_app, "render_issues", {**ISSUES, "ctl-model.value": "pixels"},
                  changed=["tabs.value"])
    assert response_of(r, "li-missing.children") == ("Label issues are not computed for this model (Raw pixels "
                                                     "(k-NN)). Models of MNIST that have them: Dense network, CNN.")
    assert response_of(r, "li-missing.style") == {} and response_of(r, "li-body.style") == {"display": "none"}
    assert response_of(r, "li-download-btn.disabled") is True


@pytest.mark.parametrize("values, message", [
    ({"li-pair.data": {"ds": "mnist", "pair": [3, 3]}}, "two different classes (got 3, 3)"),
    ({"li-pair.data": {"ds": "mnist", "pair": "4-9"}}, "must be [given, suggested]"),
    ({"li-pair.data": {"ds": "mnist", "pair": [4, 99]}}, "suggested class must be from 0 to 9"),
    ({"li-pair.data": [4, 9]}, "class-pair filter must be an object"),
    ({"li-shown.data": {"key": "mnist/cnn/None", "count": "all"}}, None),  # ignored: one page
    ({"ctl-model.value": {"x": 1}}, "model must be a model's name"),
])
def test_hostile_tab_inputs_answer_with_a_message(client, explorer_app, values, message):
    r = dash_post(client, explorer_app, "render_issues", {**ISSUES, **values}, changed=[next(iter(values))])
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "Traceback" not in body
    if message:
        assert message in body and r.json["sideUpdate"]["alert"]["style"]["display"] == "flex"

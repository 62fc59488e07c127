"""Colouring by label-issue score and faithfulness, the detail panel's words on them, the clicked
point's ring and the URL of the Label issues tab, without a browser (known values of ``synthetic.cache``)."""
from __future__ import annotations

import numpy as np
import pytest

from synthetic.cache import FAITH_K, FAITH_PROJECTIONS, ISSUE_MODELS, MODELS, faithfulness_of
from explorer_helpers import GOOD, client, dash_post, decode_typed, response_of, store  # noqa: F401
from test_explorer_models import components
from explorer import figures as F
from explorer.encoding import view_xy
from explorer.page import colour_options
from explorer.state import ViewState, parse_query, to_query

DATASETS = ["mnist", "fashion-mnist"]


# -- Colour by ----------------------------------------------------------------------------------
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("proj", ["umap", "tsne", "pca"])
def test_colour_options_appear_only_where_the_data_exists(store, model, proj):
    m = store.get("mnist").model(model)
    values = [o["value"] for o in colour_options(m, proj)]
    expected = ["true", "pred", "correct", "confidence"]
    expected += ["issues"] * (model in ISSUE_MODELS) + ["faith"] * (proj in FAITH_PROJECTIONS.get(model, ()))
    assert values == expected + ["atypical"]  # from the k-NN graph every model has


@pytest.mark.parametrize("model, proj", [("cnn", "umap"), ("cnn", "tsne"), ("mlp", "pca")])
def test_scatter_colours_are_the_scores(store, model, proj):
    m = store.get("fashion-mnist").model(model)
    for colour, values, title in (("issues", m.issues.score, "Label-issue score"),
                                  ("faith", faithfulness_of(np.arange(m.ds.n), model, proj), "Faithfulness")):
        fig = F.scatter_figure(m, proj, colour)
        (trace,), overlay = fig["data"][:-1], fig["data"][-1]
        rows = decode_typed(trace["customdata"])
        assert sorted(rows.tolist()) == list(range(m.ds.n))
        assert np.array_equal(decode_typed(trace["marker"]["color"]), values[rows])
        marker = trace["marker"]
        assert marker["showscale"] and marker["colorbar"]["title"]["text"] == title
        assert (marker["cmin"], marker["cmax"]) == (0.0, 1.0) and fig["layout"]["showlegend"] is False
        # the points to look at are drawn last, on top: the most suspect, the least faithful
        ends = values[rows[-20:]]
        assert (ends.min() >= np.sort(values)[-20]) if colour == "issues" else (ends.max() <= np.sort(values)[19])
        # event points map back to rows through the same groups
        pts = [{"curveNumber": 0, "pointNumber": i} for i in (0, 5, 9)]
        assert F.rows_from_points(m, colour, pts, proj).tolist() == sorted(rows[[0, 5, 9]].tolist())
        assert overlay["name"] == F.HIGHLIGHT


def test_a_view_without_the_data_falls_back_to_the_true_class(store):
    pixels, cnn = store.get("mnist").model("pixels"), store.get("mnist").model("cnn")
    for m, colour, proj in ((pixels, "issues", "umap"), (pixels, "faith", "tsne"), (cnn, "faith", "pca")):
        fig = F.scatter_figure(m, proj, colour)
        assert [t["name"] for t in fig["data"][:-1]] == m.ds.class_names
        assert F.groups(m, colour, proj) is F.groups(m, "true")


def test_colour_note_explains_the_chosen_score(client, explorer_app):
    def note(**values):
        r = dash_post(client, explorer_app, "colour_note", {**GOOD, **values}, changed=["ctl-colour.value"])
        return response_of(r, "ctl-colour-note.children"), response_of(r, "ctl-colour-note.style")

    text, style = note(**{"ctl-colour.value": "faith", "ctl-proj.value": "tsne"})
    assert style == {} and text.startswith("Faithfulness: share of a point's 10 nearest neighbours in the CNN's")
    assert "in this t-SNE; low (red) = the projection misleads here" in text
    text, style = note(**{"ctl-colour.value": "issues"})
    assert style == {} and "out-of-sample probability" in text and "nearest neighbours" in text
    assert note(**{"ctl-colour.value": "pred"}) == ("", {"display": "none"})
    assert note(**{"ctl-colour.value": "faith", "ctl-proj.value": "pca"}) == ("", {"display": "none"})  # no data


def test_switching_to_a_model_without_the_data_resets_the_colouring(client, explorer_app):
    values = {**GOOD, "ctl-colour.value": "faith", "url.search": "?colour=faith"}
    r = dash_post(client, explorer_app, "sync_url", {**values, "ctl-model.value": "pixels"},
                  changed=["ctl-model.value"])
    assert response_of(r, "ctl-colour.value") == "true"
    assert [o["value"] for o in response_of(r, "ctl-colour.options")] == ["true", "pred", "correct", "confidence",
                                                                         "atypical"]
    assert "colour=true" in response_of(r, "url.search")
    r = dash_post(client, explorer_app, "sync_url", {**values, "ctl-proj.value": "tsne"}, changed=["ctl-proj.value"])
    assert response_of(r, "ctl-colour.value") is None  # the CNN's t-SNE has faithfulness too: kept
    r = dash_post(client, explorer_app, "sync_url", {**GOOD, "url.search": "?model=mlp&proj=pca&colour=faith"},
                  changed=["url.search"])
    assert response_of(r, "ctl-colour.value") == "faith"


# -- the detail panel -------------------------------------------------------------------------------
@pytest.mark.parametrize("model, proj", [("cnn", "tsne"), ("cnn", "umap"), ("mlp", "pca")])
def test_detail_panel_counts_the_true_neighbours(client, explorer_app, store, model, proj):
    m = store.get("mnist").model(model)
    for row in (0, 1, 2, 3, 57, 299):
        r = dash_post(client, explorer_app, "render_detail", {**GOOD, "ex-clicked.data": {"ds": "mnist", "row": row},
                                                              "ctl-model.value": model, "ctl-proj.value": proj},
                      changed=["ex-clicked.data"])
        tree = response_of(r, "ex-detail.children")
        (faith,) = [c for c in components(tree, "detail-line") if c["props"].get("id") == "detail-faith"]
        kept = round(FAITH_K * float(faithfulness_of(row, model, proj)))
        assert faith["props"]["data-kept"] == str(kept)
        label = {"tsne": "t-SNE", "umap": "UMAP", "pca": "PCA"}[proj]
        assert faith["props"]["children"][0]["props"]["children"] == f"{kept} of its 10"
        assert faith["props"]["children"][1].startswith(f" nearest neighbours in the space of {m.title} are among "
                                                        f"its 10 nearest in this {label}")
        (issue,) = [c for c in components(tree, "detail-line") if c["props"].get("id") == "detail-issue"]
        parts = issue["props"]["children"]
        assert parts[1]["props"]["children"] == f"{float(m.issues.score[row]):.2f}"
        # a suggested label only where the given one is in doubt (issue 26: the synthetic suspects are flagged)
        if m.issues.suspect[row]:
            assert parts[3]["props"]["children"] == m.ds.class_names[m.issues.suggested[row]]
        else:
            assert "suggested" not in str(parts) and "not in doubt" in parts[2]
        assert ("flagged" in str(parts[-1])) == bool(m.issues.suspect[row])


def test_detail_panel_leaves_out_what_was_not_computed(client, explorer_app):
    for model, proj, present in (("pixels", "tsne", set()), ("cnn", "pca", {"detail-issue"})):
        r = dash_post(client, explorer_app, "render_detail", {**GOOD, "ex-clicked.data": {"ds": "mnist", "row": 8},
                                                              "ctl-model.value": model, "ctl-proj.value": proj},
                      changed=["ex-clicked.data"])
        tree = response_of(r, "ex-detail.children")
        assert {c["props"].get("id") for c in components(tree, "detail-line")} == present
        assert components(tree, "nb-item")  # the rest of the panel as before


# -- the clicked point's ring --------------------------------------------------------------------------
def test_clicked_point_is_ringed_on_the_scatter(client, explorer_app, store):
    m = store.get("mnist").model("cnn")
    values = {**GOOD, "ex-clicked.data": {"ds": "mnist", "row": 42}}
    fig = response_of(dash_post(client, explorer_app, "render_scatter", values, changed=["tabs.value"]),
                      "ex-scatter.figure")
    # the point's own rings drawn last, over its neighbours' rings and lines
    rings = [s for s in fig["layout"]["shapes"] if s["name"] == "clicked"]
    assert rings == fig["layout"]["shapes"][-2:]
    assert rings and all(s["type"] == "circle" and s["xsizemode"] == "pixel" for s in rings)
    # at the point's marker: the scatter's plot units (explorer.encoding)
    assert (rings[0]["xanchor"], rings[0]["yanchor"]) == tuple(view_xy(m, "umap")[42].astype(float).tolist())
    # drawn already: a click on another point only moves the ring
    key = "mnist/cnn/umap/true"
    r = dash_post(client, explorer_app, "render_scatter", {**values, "ex-clicked.data": {"ds": "mnist", "row": 7},
                                                           "ex-rendered.data": key}, changed=["ex-clicked.data"])
    assert r.status_code == 200 and "ex-rendered" not in r.json["response"]
    ops = r.json["response"]["ex-scatter"]["figure"]["operations"]
    (op,) = [o for o in ops if o["location"] == ["layout", "shapes"]]
    assert op["params"]["value"][-1]["xanchor"] == float(view_xy(m, "umap")[7, 0])
    # a point of the other dataset (or none) rings nothing
    fig = response_of(dash_post(client, explorer_app, "render_scatter",
                                {**GOOD, "ex-clicked.data": {"ds": "fashion-mnist", "row": 42}},
                                changed=["tabs.value"]), "ex-scatter.figure")
    assert fig["layout"]["shapes"] == []
    r = dash_post(client, explorer_app, "render_scatter", {**GOOD, "ex-rendered.data": key, "ctl-colour.value": "true"},
                  changed=["ctl-colour.value"])
    assert r.status_code == 204  # nothing changed


# -- the URL ----------------------------------------------------------------------------------
def test_query_keeps_the_tab_and_its_class_pair():
    s = ViewState(tab="issues", ds="fashion-mnist", model="cnn", issue=(6, 0))
    q = to_query(s)
    assert "tab=issues" in q and "issue=6-0" in q
    assert parse_query(q, DATASETS) == s
    for bad in ("?issue=3-3", "?issue=a-b", "?issue=10-1"):
        assert parse_query(bad, DATASETS).issue is None
    assert "issue" not in to_query(ViewState())
    assert parse_query("?colour=faith", DATASETS).colour == "faith"


def test_url_sets_the_filter_and_follows_it(client, explorer_app):
    r = dash_post(client, explorer_app, "sync_url", {**GOOD, "url.search": "?tab=issues&ds=mnist&issue=4-9"},
                  changed=["url.search"])
    assert response_of(r, "tabs.value") == "issues"
    assert response_of(r, "li-pair.data") == {"ds": "mnist", "pair": [4, 9]}
    values = {**GOOD, "tabs.value": "issues", "url.search": "?tab=issues",
              "li-pair.data": {"ds": "mnist", "pair": [7, 1]}}
    r = dash_post(client, explorer_app, "sync_url", values, changed=["li-pair.data"])
    search = response_of(r, "url.search")
    assert "tab=issues" in search and "issue=7-1" in search
    # another dataset: the filter of this one means nothing there
    r = dash_post(client, explorer_app, "sync_url", {**values, "ctl-dataset.value": "fashion-mnist"},
                  changed=["ctl-dataset.value"])
    assert r.json["response"]["li-pair"]["data"] is None and "issue=" not in response_of(r, "url.search")

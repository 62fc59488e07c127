"""The 2-D scatter's compact arrays (explorer.encoding): uint16 plot units within half a step of the
data, each trace's rows from ``layout.meta.groups``, zoom ranges kept in data coordinates."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from explorer import figures as F
from explorer.encoding import (STEPS, decode, group_of_rows, plot_grid, quantise, ranges_to_data, ranges_to_plot,
                               to_data, trace_rows, typed)
from explorer_helpers import GOOD, client, dash_post, response_of, store, trace_rows as fig_rows, trace_xy  # noqa: F401


def test_plot_units_round_trip_within_half_a_step(rng):
    xy = np.column_stack([rng.normal(3.0, 5.0, 5000), rng.normal(-20.0, 1.0, 5000)]).astype(np.float32)
    grid = plot_grid(xy)
    q = quantise(xy, grid)
    assert q.dtype == np.uint16 and q[:, 0].min() == 0 and q[:, 0].max() == STEPS  # x is the longer side
    assert q[:, 1].max() < STEPS  # one step for both axes: the aspect stays
    assert np.abs(to_data(q, grid) - xy).max() <= grid["step"] / 2 * (1 + 1e-6)
    assert np.array_equal(decode(typed(q[:, 1])), q[:, 1])
    assert ranges_to_data(ranges_to_plot([-1.5, 2.0, 0.5, 3.0], grid), grid) == pytest.approx([-1.5, 2.0, 0.5, 3.0])
    assert plot_grid(np.zeros((4, 2)))["step"] == 1.0  # every point in one place: no division by zero


def test_groups_give_each_trace_its_rows_in_order():
    groups = [np.array([1, 4]), np.array([0, 2, 5]), np.array([], dtype=np.int64), np.array([3])]
    g = group_of_rows(groups, 6)
    assert g.dtype == np.uint8 and g.tolist() == [1, 0, 1, 3, 0, 1]
    assert [trace_rows(g, k).tolist() for k in range(4)] == [r.tolist() for r in groups]
    with pytest.raises(ValueError, match="each of the 6 rows exactly once"):
        group_of_rows([np.array([0, 1])], 6)
    assert group_of_rows([np.array([k]) for k in range(300)], 300).dtype == np.uint16


@pytest.mark.parametrize("colour", ["true", "pred", "correct", "confidence"])
def test_the_figure_decodes_to_the_rows_and_coordinates(store, colour):
    m = store.get("fashion-mnist").model("cnn")
    fig = F.scatter_figure(m, "tsne", colour)
    gs = F.groups(m, colour, "tsne")
    step = fig["layout"]["meta"]["grid"]["step"]
    assert ("groups" in fig["layout"]["meta"]) == (colour not in F.SCALES)
    for k, g in enumerate(gs):
        assert ("customdata" in fig["data"][k]) == (colour in F.SCALES)  # a scale's rows are in drawing order
        assert fig["data"][k]["x"]["dtype"] == "u2"
        assert np.array_equal(fig_rows(fig, k), g["rows"])  # exactly the group's rows, in its order
        assert np.abs(trace_xy(fig, k) - m.coords("tsne")[g["rows"]]).max() <= step / 2 * (1 + 1e-6)


def test_figure_json_at_70k_is_less_than_half_the_old_encoding(rng, tmp_path):
    from explorer.store import DatasetView

    n = 70_000
    root = tmp_path
    for d in ("s", "e", "p"):
        (root / d).mkdir()
    labels = rng.integers(0, 10, n).astype(np.uint8)
    np.save(root / "s" / "labels.npy", labels)
    np.save(root / "e" / "pred.npy", labels)
    np.save(root / "e" / "proba.npy", rng.dirichlet(np.ones(10), n).astype(np.float32))
    centres = rng.normal(0, 10, (10, 2))
    np.save(root / "p" / "coords.npy", (centres[labels] + rng.normal(size=(n, 2))).astype(np.float32))
    ds = DatasetView(name="big", title="Big", class_names=[str(i) for i in range(10)], sample_set="all",
                     n=n, samples_dir=root / "s")
    m = ds.add_model("cnn", "CNN", "cnn", embed_dir=root / "e", model_dir=root,
                     projection_dirs={"umap": root / "p"})
    fig = F.scatter_figure(m, "umap", "true")
    new = len(gzip.compress(json.dumps(fig).encode()))
    # the old encoding: float32 x/y and int32 row ids per trace
    coords = m.coords("umap")
    for k, g in enumerate(F.groups(m, "true", "umap")):
        fig["data"][k].update(x=typed(coords[g["rows"], 0]), y=typed(coords[g["rows"], 1]),
                              customdata=typed(g["rows"]))
    del fig["layout"]["meta"]["groups"]
    old = len(gzip.compress(json.dumps(fig).encode()))
    assert new < 400_000 < 700_000 < old, (new, old)


def test_zoom_is_kept_in_data_coordinates(client, explorer_app):
    fig = response_of(dash_post(client, explorer_app, "render_scatter", GOOD, changed=["tabs.value"]),
                      "ex-scatter.figure")
    grid = fig["layout"]["meta"]["grid"]
    plot = ranges_to_plot([-1.0, 2.0, 0.5, 3.0], grid)
    keys = ("xaxis.range[0]", "xaxis.range[1]", "yaxis.range[0]", "yaxis.range[1]")
    values = {"ex-scatter.relayoutData": dict(zip(keys, plot)), "ctl-dataset.value": "mnist",
              "ctl-model.value": "cnn", "ctl-proj.value": "umap"}
    zoom = response_of(dash_post(client, explorer_app, "on_zoom", values), "ex-zoom.data")
    assert zoom["view"] == "mnist/cnn/umap" and zoom["x"] + zoom["y"] == pytest.approx([-1.0, 2.0, 0.5, 3.0])
    # and a redraw (a URL's zoom, another colouring) puts them back on the plot units
    fig = response_of(dash_post(client, explorer_app, "render_scatter", {**GOOD, "ex-zoom.data": zoom},
                                changed=["tabs.value"]), "ex-scatter.figure")
    assert fig["layout"]["xaxis"]["range"] + fig["layout"]["yaxis"]["range"] == pytest.approx(plot)

"""Explorer callbacks through the Flask test client: live reload and status, hostile inputs, URL sync."""
from __future__ import annotations

import json

import pytest

from explorer_helpers import GOOD, client, dash_post  # noqa: F401 - client is a fixture
from core.store import ArtifactStore


# -- live reload, progress, status ------------------------------------------------------------
def test_store_follows_current_json_and_progress(tmp_path):
    import os
    import time

    from synthetic.cache import write_synthetic_cache
    from explorer.app import create_app
    from core.store import write_json_atomic

    write_synthetic_cache(tmp_path, n=120, seed=1)
    full = json.loads((tmp_path / "current.json").read_text())
    only_mnist = {**full, "datasets": {"mnist": full["datasets"]["mnist"]}}
    write_json_atomic(tmp_path / "current.json", only_mnist)
    app = create_app(ArtifactStore(tmp_path))
    store, client = app.explorer_store, app.server.test_client()
    assert callable(app.layout)  # built per page load
    assert client.get("/api/status").json == {"datasets": ["mnist"], "progress": None,
                                              "sizes": {"mnist": {"n": 120, "title": "MNIST", "source": "builtin",
                                                                  "image_shape": [28, 28, 1]}}}
    progress = {"pid": os.getpid(), "updated": time.time(),
                "datasets": {"mnist": {"stage": "ready", "detail": ""},
                             "fashion-mnist": {"stage": "train", "detail": "8 epochs",
                                               "title": "Fashion-MNIST"}}}
    write_json_atomic(tmp_path / "progress.json", progress)
    assert client.get("/api/status").json["progress"] == progress
    assert b"Fashion-MNIST is still being prepared: training (8 epochs)" in client.get("/_dash-layout").data
    mnist_view = store.get("mnist")
    mnist_view.labels  # loaded arrays must survive the reload

    write_json_atomic(tmp_path / "current.json", full)
    os.utime(tmp_path / "current.json", ns=(time.time_ns() + 10**9,) * 2)  # coarse-mtime filesystems
    store._checked = 0.0  # the once-a-second check is due
    body = client.get("/api/status").json
    assert body["datasets"] == ["mnist", "fashion-mnist"] and body["sizes"]["fashion-mnist"]["n"] == 120
    assert store.get("mnist") is mnist_view and "labels.npy" in mnist_view._cache
    assert b'"fashion-mnist"' in client.get("/_dash-layout").data  # a new page load shows it

    # a page loaded before: the poll announces the new dataset and offers a reload
    r = dash_post(client, app, "poll_status", {"status-poll.n_intervals": 3, "page-datasets.data": ["mnist"]})
    assert r.status_code == 200 and "Fashion-MNIST is ready" in r.get_data(as_text=True)
    # a dead pid: no progress (a killed pipeline leaves its file behind)
    write_json_atomic(tmp_path / "progress.json", {**progress, "pid": 2**22 + 12345})
    assert client.get("/api/status").json["progress"] is None
    (tmp_path / "progress.json").unlink()
    assert client.get("/api/status").json["progress"] is None


# -- hostile requests ----------------------------------------------------------------------------
HOSTILE = [
    ("render_scatter", {"ctl-dataset.value": {"x": 1}}, "unknown dataset dict"),
    ("render_scatter", {"ctl-dataset.value": "ñ" * 5000}, "unknown dataset"),
    ("render_scatter", {"ctl-colour.value": "rainbow"}, "colour must be one of"),
    ("render_scatter", {"ctl-proj.value": "isomap"}, "projection must be one of"),
    ("render_scatter", {"ctl-model.value": {"x": 1}}, "model must be a model's name (got dict)"),
    ("render_scatter", {"ctl-model.value": "resnet"}, None),  # a model the dataset lacks: its default
    ("render_confusion", {"ctl-model.value": ["cnn"]}, "model must be a model's name"),
    ("render_projections", {"tabs.value": "projections", "ctl-model2.value": 7}, "model must be a model's name"),
    ("render_models_table", {"tabs.value": "projections", "ctl-proj.value": "isomap"}, "projection must be one of"),
    ("on_linked_select", {"cp-right.selectedData": {"points": [{"curveNumber": 0, "pointNumber": 1}]},
                          "ctl-model2.value": None}, None),
    ("on_select", {"ex-scatter.selectedData": {"points": [0] * 1_000_001}}, "1,000,001 points is too large"),
    ("on_select", {"ex-scatter.selectedData": "garbage"}, "event data must be an object"),
    ("on_select", {"ex-scatter.selectedData": {"points": [{"curveNumber": 99, "pointNumber": -5},
                                                          {"curveNumber": "a", "pointNumber": []}, 5, None,
                                                          {"curveNumber": 0, "pointNumber": 10**12}]}}, None),
    ("on_cell_click", {"ex-confusion.clickData": {"points": [{"x": "a", "y": "b"}]}}, "must be an integer"),
    ("on_cell_click", {"ex-confusion.clickData": {"points": [{"x": 3, "y": 99}]}}, "must be from 0 to 9 (got 99)"),
    ("on_cell_click", {"ex-confusion.clickData": {"points": [{"x": -1, "y": 2}]}}, "must be from 0 to 9 (got -1)"),
    ("on_cell_click", {"ex-confusion.clickData": {"points": "x"}}, "points must be a list"),
    ("render_focus", {"ex-cell.data": {"ds": "mnist", "cell": [99, 3]}}, "must be from 0 to 9 (got 99)"),
    ("render_focus", {"ex-cell.data": {"ds": "mnist", "cell": "a-b"}}, "cell must be [true, predicted]"),
    ("render_focus", {"ex-selection.data": {"ds": "mnist", "rows": [-1, 5]}}, "selection rows must be from 0"),
    ("render_focus", {"ex-selection.data": {"ds": "mnist", "rows": [10**30]}}, "selection rows must be"),
    ("render_focus", {"ex-selection.data": {"ds": "mnist", "rows": "abc"}}, "selection must be a list"),
    ("render_focus", {"ex-selection.data": {"ds": "mnist", "rows": list(range(10**6))}}, "at most 300 rows"),
    ("render_confusion", {"ex-selection.data": {"ds": "mnist", "rows": [{"a": 1}]}}, "selection rows must be"),
    ("render_detail", {"ex-clicked.data": {"ds": "mnist", "row": 10**9}}, "clicked row must be from 0 to 299"),
    ("render_detail", {"ex-clicked.data": {"ds": "mnist", "row": "x"}}, "clicked row must be an integer"),
    ("render_detail", {"ex-clicked.data": [1, 2]}, "clicked point must be an object"),
    ("download", {"ex-download-btn.n_clicks": 1, "ex-selection.data": {"ds": "mnist", "rows": [300]}},
     "selection rows must be from 0 to 299"),
    ("on_linked_select", {"cp-left.selectedData": {"points": [{"curveNumber": 42, "pointNumber": 1}]}}, None),
    ("render_projections", {"tabs.value": "projections", "ctl-proj2.value": None}, "projection must be one of"),
    ("sync_url", {"url.search": "?" + "x" * 100_000}, None),
    ("sync_url", {"url.search": "?ds=ñ&frame=٣&cell=①-②&pair=mnist:٤-٩&tab=%00"}, None),
    ("sync_url", {"url.search": 12345}, None),
    ("sync_url", {"tabs.value": "evil"}, "tab must be one of"),
    ("render_dynamics_charts", {"tabs.value": "dynamics", "dy-frame.value": 999, "dy-pair.value": {"mnist": "4-9"}},
     "frame must be from 0 to 4 (got 999)"),
    ("render_dynamics_charts", {"tabs.value": "dynamics", "dy-frame.value": -1, "dy-pair.value": {"mnist": "4-9"}},
     "frame must be from 0 to 4 (got -1)"),
    ("render_dynamics_charts", {"tabs.value": "dynamics", "dy-frame.value": "3", "dy-pair.value": {"mnist": "4-9"}},
     "frame must be an integer"),
    ("render_dynamics_charts", {"tabs.value": "dynamics", "dy-frame.value": 1, "dy-pair.value": {"mnist": "9-9"}},
     "class pair of MNIST must be two different classes"),
    ("render_dynamics_charts", {"tabs.value": "dynamics", "dy-frame.value": 1, "dy-pair.value": {"mnist": "a-b"}},
     "class pair of MNIST"),
    ("render_dynamics", {"tabs.value": "dynamics", "dy-frame.value": 2.5}, "frame must be an integer"),
    ("render_dynamics", {"tabs.value": "dynamics", "dy-frame.value": 1}, None),
    ("render_dynamics", {"tabs.value": "dynamics", "dy-frame.value": 1, "ctl-model.value": 3}, "model must be"),
    ("render_dynamics_charts", {"tabs.value": "dynamics", "dy-frame.value": 1, "dy-pair.value": {"mnist": "4-9"},
                                "ctl-model.value": "resnet"}, None),
    ("poll_status", {"status-poll.n_intervals": 1, "page-datasets.data": "garbage"}, None),
]


@pytest.mark.parametrize("name, values, message", HOSTILE,
                         ids=[f"{h[0]}-{i}" for i, h in enumerate(HOSTILE)])
def test_hostile_callback_inputs_answer_with_a_message(client, explorer_app, name, values, message):
    r = dash_post(client, explorer_app, name, {**values, **{k: v for k, v in GOOD.items() if k not in values}},
                  changed=[next(iter(values))])
    body = r.get_data(as_text=True)
    assert r.status_code in (200, 204), (r.status_code, body[:300])
    assert "Traceback" not in body and 'File "' not in body
    if message is not None:
        assert r.status_code == 200 and message in body, body[:500]
        assert json.loads(body)["sideUpdate"]["alert"]["style"]["display"] == "flex"
    assert client.get("/healthz").data == b"ok\n"


def test_pattern_output_for_unknown_dataset_answers_with_a_message(client, explorer_app):
    r = dash_post(client, explorer_app, "render_datasets", {**GOOD, "tabs.value": "datasets"},
                  datasets=("mnist", "nope"), changed=["tabs.value"])
    assert r.status_code == 200 and "unknown dataset 'nope'" in r.get_data(as_text=True)


@pytest.mark.parametrize("body", [{"x": 1}, {"output": "nope.children", "inputs": [], "changedPropIds": []},
                                  "not json", [1, 2]])
def test_malformed_callback_requests_get_400_without_traceback(client, body):
    kw = {"data": body, "content_type": "application/json"} if isinstance(body, str) else {"json": body}
    r = client.post("/_dash-update-component", **kw)
    assert r.status_code == 400 and "Traceback" not in r.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200


def test_url_follows_a_control_by_name(client, explorer_app):
    r = dash_post(client, explorer_app, "sync_url", {**GOOD, "ctl-proj.value": "tsne", "url.search": "?tab=explore"},
                  changed=["ctl-proj.value"])
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    response = r.json["response"]
    assert set(response) == {"url"} and "proj=tsne" in response["url"]["search"]


def test_url_keeps_its_frame_while_playing(client, explorer_app):
    """Play moves the slider a step a second: the URL takes the frame where play stops, one history entry."""
    values = {**GOOD, "tabs.value": "dynamics", "dy-frame.value": 2, "url.search": "?tab=dynamics&frame=1"}
    r = dash_post(client, explorer_app, "sync_url", {**values, "dy-timer.disabled": False}, changed=["dy-frame.value"])
    assert r.status_code == 200 and "url" not in r.json.get("response", {})
    r = dash_post(client, explorer_app, "sync_url", {**values, "dy-timer.disabled": False}, changed=["dy-timer.disabled"])
    assert r.status_code == 200 and "url" not in r.json.get("response", {})  # nor as play starts
    r = dash_post(client, explorer_app, "sync_url", {**values, "dy-timer.disabled": True},
                  changed=["dy-frame.value", "dy-timer.disabled"])
    assert "frame=2" in r.json["response"]["url"]["search"]

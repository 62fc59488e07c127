"""Corrections through the explorer's server, no browser: the labels a request asks for (X-Labels), the
correction callback's refusals, the exports, and a damaged log named in the bar while the page works on."""
from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.labels import log_of
from explorer_helpers import GOOD, dash_post, response_of


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(app, client) over a synthetic cache of its own: these tests write its corrections log."""
    from core.store import ArtifactStore
    from explorer.app import create_app
    from synthetic.cache import write_synthetic_cache

    root = tmp_path_factory.mktemp("corrections-cache")
    write_synthetic_cache(root, n=300, seed=0)
    app = create_app(ArtifactStore(root))
    return app, app.server.test_client()


def correct(client, app, action: dict):
    return dash_post(client, app, "correct", {"corr-action.data": action, "ctl-dataset.value": "mnist",
                                              "ctl-model.value": "cnn", "corr-undo.data": [],
                                              "corr-version.data": 0}, changed=["corr-action.data"])


def test_a_correction_reaches_the_labels_a_request_asks_for(served):
    app, client = served
    ds = app.explorer_store.datasets["mnist"]
    row = int(np.flatnonzero(ds.labels == 3)[0])
    r = correct(client, app, {"dataset": "mnist", "model": "cnn", "rows": [row], "action": "relabel", "new": 8})
    assert response_of(r, "corr-version.data") == 1 and len(response_of(r, "corr-undo.data")) == 1
    points = {h: client.get("/api/points/mnist.json", headers={"X-Labels": h} if h else {}).json
              for h in ("", "corrected", "original")}
    assert points[""]["labels"][row] == points["corrected"]["labels"][row] == 8
    assert points["original"]["labels"][row] == 3
    # the matrix a page shows counts its labels
    fig = response_of(dash_post(client, app, "render_confusion", {**GOOD, "ex-selection.data": None},
                                changed=["ctl-dataset.value"], headers={"X-Labels": "original"}), "ex-confusion.figure")
    assert "accuracy" in fig["layout"]["title"]["text"]
    csv = client.get("/api/corrections/mnist.csv")
    assert csv.status_code == 200 and "attachment" in csv.headers["Content-Disposition"]
    assert csv.get_data(as_text=True).splitlines()[1].split(",")[3:8] == ["test", str(int(ds.sample_ids[row])),
                                                                            "3", "8", "relabel"]
    assert json.loads(client.get("/api/corrections/mnist.json").data)["corrections"][0]["new"] == "8"
    assert client.get("/api/corrections/nope.csv").status_code == 404
    assert client.get("/api/corrections/mnist.xml").status_code == 404


@pytest.mark.parametrize("action", [
    {"dataset": "mnist", "model": "cnn", "rows": [10 ** 9], "action": "relabel", "new": 1},
    {"dataset": "mnist", "model": "cnn", "rows": [1], "action": "relabel", "new": 99},
    {"dataset": "mnist", "model": "cnn", "rows": [1], "action": "undo"},
    {"dataset": "mnist", "model": "cnn", "rows": "1", "action": "confirmed"},
    "relabel everything",
])
def test_a_correction_the_page_would_never_send_is_refused_and_writes_nothing(served, action):
    app, client = served
    before = len(log_of(app.explorer_store.datasets["mnist"]).entries())
    r = correct(client, app, action)
    assert r.status_code != 200 or "corr-version" not in r.get_data(as_text=True)
    assert len(log_of(app.explorer_store.datasets["mnist"]).entries()) == before


def test_a_damaged_log_is_named_and_the_page_works_on(served):
    app, client = served
    ds = app.explorer_store.datasets["fashion-mnist"]
    log_of(ds).path.parent.mkdir(parents=True, exist_ok=True)
    log_of(ds).path.write_text('{"seq": 1, "split": "test"\n')
    r = dash_post(client, app, "bar", {"ctl-dataset.value": "fashion-mnist", "ctl-model.value": "cnn",
                                        "corr-version.data": 0, "corr-undo.data": []}, datasets=("fashion-mnist",))
    words = response_of(r, "corr-text.children")
    assert "Corrections not shown" in words and "corrections.jsonl, line 1 is not JSON" in words
    points = client.get("/api/points/fashion-mnist.json")
    assert points.status_code == 200 and points.json["labels"] == ds.labels.tolist()

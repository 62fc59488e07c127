"""The explorer while a pipeline publishes (issue 23), without a browser: the waiting page, every tab on
a partial current.json, progress.json's untrusted fields, the wish for a view not made yet (wanted.json),
and the page following what lands."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from explorer_helpers import GOOD, dash_post, response_of
from explorer.widgets import option_labels
from core.store import ArtifactStore, CacheError, write_json_atomic


@pytest.fixture(scope="module")
def full_cache(tmp_path_factory) -> Path:
    from synthetic.cache import write_synthetic_cache

    root = tmp_path_factory.mktemp("live-full")
    write_synthetic_cache(root, n=120, seed=3)
    return root


def copy_cache(src: Path, dst: Path) -> Path:
    import shutil

    return Path(shutil.copytree(src, dst, symlinks=True))


def partial(full: dict, models: dict[str, tuple[str, ...]] | None = None, datasets=("mnist",),
            report: bool = False, extras: bool = True) -> dict:
    """``full`` cut down: only ``datasets``, each model of ``models`` with only those layouts (others
    dropped), without the report unless ``report``; ``extras=False`` drops issues, faithfulness,
    dynamics and 3-D layouts (they arrive later)."""
    cur = json.loads(json.dumps(full))
    cur["datasets"] = {n: e for n, e in cur["datasets"].items() if n in datasets}
    for e in cur["datasets"].values():
        if models is not None:
            e["models"] = {m: e["models"][m] for m in models}
        for m, entry in e["models"].items():
            keep = models[m] if models is not None else tuple(entry["projections"])
            entry["projections"] = {p: r for p, r in entry["projections"].items() if p in keep}
            if not extras:
                entry.update(projections3d={}, dynamics=None, faithfulness={})
                entry.pop("issues", None)
    if not report:
        cur.pop("report", None)
    return cur


def progress_file(root: Path, coming=(), epochs=None, stage="project", pid=None, **more) -> dict:
    body = {"pid": pid or os.getpid(), "updated": time.time(), "datasets": {"mnist": {
        "stage": stage, "words": "projecting the embeddings", "detail": "t-SNE of the pixels", "title": "MNIST",
        "coming": list(coming), **({"epochs": epochs} if epochs else {}), **more}}}
    write_json_atomic(root / "progress.json", body)
    return body


COMING = [{"model": "cnn", "title": "CNN", "proj": "pca", "eta_s": 80.0},
          {"model": "cnn", "title": "CNN", "proj": "umap", "eta_s": 140.0},
          {"model": "pixels", "title": "Raw pixels (k-NN)", "proj": "tsne", "eta_s": 30.0}]
EPOCHS = {"model": "cnn", "epoch": 3, "of": 8, "history": [
    {"epoch": 1, "loss": 0.31, "accuracy": 0.91, "val_accuracy": 0.95},
    {"epoch": 2, "loss": 0.12, "accuracy": 0.96, "val_accuracy": 0.975}]}


def touch(path: Path) -> None:
    os.utime(path, ns=(time.time_ns() + 10**9,) * 2)  # coarse-mtime filesystems see the change


def words(children) -> str:
    """The text of components as the page gets them (JSON, non-ASCII kept)."""
    return json.dumps(children, ensure_ascii=False)


def alert_of(r) -> str | None:
    assert r.status_code in (200, 204), r.get_data(as_text=True)[:500]
    side = r.json.get("sideUpdate", {}) if r.status_code == 200 else {}
    return side.get("alert-text", {}).get("children")


# -- the waiting page --------------------------------------------------------------------------
def test_waiting_page_until_the_first_dataset_lands(tmp_path, full_cache):
    from explorer.app import create_app
    from explorer.server import serve
    from explorer.store import ExplorerStore

    root = copy_cache(full_cache, tmp_path / "cache")
    full = json.loads((root / "current.json").read_text())
    (root / "current.json").unlink()
    with pytest.raises(CacheError, match="current.json is missing"):
        ExplorerStore(ArtifactStore(root))  # no pipeline runs: today's error
    progress_file(root, stage="train", words="training the pixel k-NN", detail="")
    app = create_app(ArtifactStore(root))
    store, client = app.explorer_store, app.server.test_client()
    assert store.names == [] and store.waiting
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert "MNIST: training the pixel k-NN" in layout and "wait-poll" in layout and "ex-scatter" not in layout
    assert client.get("/").status_code == 200
    assert client.get("/api/status").json["datasets"] == []
    assert client.get("/api/points/mnist.json").status_code == 404
    assert client.get("/thumb/mnist/0.png").status_code == 404
    r = dash_post(client, app, "poll_waiting", {"wait-poll.n_intervals": 1})
    assert response_of(r, "wait-ready.data") is False
    assert "training the pixel k-NN" in words(response_of(r, "wait-text.children"))
    # callbacks of the explorer's page answer without a 500 while there is nothing to show
    for name in ("sync_url", "poll_status", "render_scatter"):
        assert dash_post(client, app, name, {"url.search": "", **GOOD}).status_code in (200, 204)

    write_json_atomic(root / "current.json", partial(full, {"pixels": ("pca",)}))
    r = dash_post(client, app, "poll_waiting", {"wait-poll.n_intervals": 2})
    assert response_of(r, "wait-ready.data") is True and store.names == ["mnist"]
    assert "ex-scatter" in client.get("/_dash-layout").get_data(as_text=True)

    (root / "progress.json").unlink()
    (root / "current.json").unlink()
    with pytest.raises(CacheError, match="current.json is missing"):
        serve(root, port=0)


def test_waiting_page_says_when_no_pipeline_runs_any_more(tmp_path, full_cache):
    from explorer.app import create_app

    root = copy_cache(full_cache, tmp_path / "cache")
    (root / "current.json").unlink()
    progress_file(root, coming=COMING, epochs=EPOCHS, stage="train")
    app = create_app(ArtifactStore(root))
    client = app.server.test_client()
    text = client.get("/_dash-layout").get_data(as_text=True)
    assert "CNN training, epoch 3 of 8 (accuracy 0.975)" in text and "about 80 s" in text
    (root / "progress.json").unlink()
    r = dash_post(client, app, "poll_waiting", {"wait-poll.n_intervals": 1})
    assert "No pipeline is running" in words(response_of(r, "wait-text.children"))


# -- every tab on a partial current.json ----------------------------------------------------------
TABS = ("explore", "datasets", "projections", "dynamics", "issues")
RENDER = {  # each tab's callbacks, with the inputs a page would give them beyond the bar's
    "explore": ["render_scatter", "render_confusion", "render_focus", "render_detail", "render_help", "counts",
                "render_histograms", "colour_note", "render_3d"],
    "datasets": ["render_datasets"], "projections": ["render_projections", "render_models_table"],
    "dynamics": ["render_dynamics", "render_dynamics_charts"], "issues": ["render_issues"]}
STATES = {
    "pixels PCA only, no report": dict(models={"pixels": ("pca",)}, extras=False),
    "pixels whole, CNN PCA only": dict(models={"pixels": ("pca", "tsne", "umap"), "cnn": ("pca",)}, extras=False),
    "every model, no report, no extras": dict(models=None, extras=False),
    "both datasets, old report": dict(models=None, datasets=("mnist", "fashion-mnist"), report=True),
}


def page_values(client, app, search: str, ignored: str | None = None) -> dict:
    """The controls' values after the page reads ``search`` (the URL callback), as ``"id.prop"``; the
    alert says ``ignored`` (a value the page cannot show, issue 26), or nothing where it is ``None``."""
    r = dash_post(client, app, "sync_url", {"url.search": search})
    assert alert_of(r) is None if ignored is None else ignored in alert_of(r)
    values = {}
    for cid, props in r.json["response"].items():
        for prop, v in props.items():
            values[f"{cid}.{prop}"] = v
    return values


@pytest.mark.parametrize("state", list(STATES))
def test_every_tab_survives_a_partial_cache(tmp_path, full_cache, state):
    from explorer.app import create_app

    root = copy_cache(full_cache, tmp_path / "cache")
    full = json.loads((root / "current.json").read_text())
    cur = partial(full, **STATES[state])
    if state == "both datasets, old report":  # the report has only Fashion-MNIST's part
        report = json.loads((root / full["report"]).read_text())
        del report["datasets"]["mnist"]
        write_json_atomic(root / "report-partial.json", report)
        cur["report"] = "report-partial.json"
    write_json_atomic(root / "current.json", cur)
    progress_file(root, coming=COMING, epochs=EPOCHS)
    app = create_app(ArtifactStore(root))
    client = app.server.test_client()
    assert client.get("/_dash-layout").status_code == 200
    assert client.get("/api/points/mnist.json").status_code == 200
    assert client.get("/thumb/mnist/0.png").status_code == 200
    for tab in TABS:
        values = page_values(client, app, f"?tab={tab}")
        assert values["ctl-model.value"] in cur["datasets"]["mnist"]["models"]
        page = {**GOOD, "tabs.value": tab, "ctl-colour.options": values.get("ctl-colour.options"), **values,
                "cd-shown.value": list(cur["datasets"]), "ex-clicked.data": {"ds": "mnist", "row": 3},
                "dy-frame.value": 0, "dy-pair.value": {"mnist": "4-9"}, "ctl-dims.value": 3}
        for name in RENDER[tab]:
            r = dash_post(client, app, name, page, datasets=tuple(cur["datasets"]))
            assert alert_of(r) is None, (tab, name, alert_of(r))
        r = dash_post(client, app, "poll_status", {"status-poll.n_intervals": 1, "page-datasets.data": ["mnist"],
                                                   **page})
        assert alert_of(r) is None


# -- progress.json is untrusted ---------------------------------------------------------------------
def test_progress_fields_are_checked_and_capped():
    from explorer.progress import MAX_COMING, dataset_progress, eta_words, sparkline

    hostile = {"datasets": {"mnist": {
        "stage": ["x"], "words": "w" * 10_000, "title": 5, "detail": None,
        "coming": [{"model": "cnn", "proj": "umap", "eta_s": float("nan")}, {"model": "../x", "proj": "pca"},
                   {"model": "mlp", "proj": "tsne", "eta_s": -3}, "junk", {"model": "cnn"}] + [
            {"model": f"m{i}", "proj": "pca", "eta_s": i} for i in range(1000)],
        "epochs": {"model": "cnn", "epoch": 2, "of": 8, "history": [{"epoch": 1, "loss": "x", "accuracy": True},
                                                                  "junk", {"epoch": -1}]}}}}
    p = dataset_progress(hostile, "mnist")
    assert p.title == "mnist" and p.stage == "" and len(p.words) <= 80 and p.detail == ""
    assert p.coming[0].model == "cnn" and p.coming[0].eta_s is None and p.coming[1].eta_s is None
    assert all(c.model != "../x" for c in p.coming) and len(p.coming) <= MAX_COMING
    assert p.epochs.history == ({"epoch": 1, "loss": None, "accuracy": None, "val_accuracy": None},)
    assert dataset_progress({"datasets": {"mnist": {"epochs": {"model": "cnn", "epoch": "3", "of": 8}}}},
                            "mnist").epochs is None
    assert dataset_progress({"datasets": []}, "mnist") is None and dataset_progress(None, "mnist") is None
    assert [eta_words(s) for s in (None, 2, 41, 140, 7300)] == [
        "time unknown", "a few seconds", "about 40 s", "about 2 min", "about 2 h 02 min"]
    assert sparkline([0.1, 0.5, 0.9]) == "▁▅█" and sparkline([]) == ""


def test_wanted_json_takes_only_known_names(tmp_path):
    from explorer.progress import WANTED_FILE, check_wish, write_wanted

    known = {"mnist": ({"pixels", "cnn"}, {"pca", "tsne", "umap"})}
    assert write_wanted(tmp_path, {"dataset": "mnist", "model": "cnn", "proj": "umap", "x": 1}, known)
    body = json.loads((tmp_path / WANTED_FILE).read_text())
    assert set(body) == {"dataset", "model", "proj", "time"} and body["model"] == "cnn"
    assert abs(body["time"] - time.time()) < 60
    for bad in ({"dataset": "cifar", "model": "cnn", "proj": "umap"}, {"dataset": "mnist", "model": "rm -rf",
                                                                        "proj": "umap"},
                {"dataset": "mnist", "model": "cnn", "proj": {"a": 1}}, "mnist", None):
        assert check_wish(bad, known) is None
        assert write_wanted(tmp_path / "nowhere", bad, known) is None
    assert not (tmp_path / "nowhere").exists()


# -- the page follows what lands -------------------------------------------------------------------
@pytest.fixture
def live_app(tmp_path, full_cache):
    """An app on MNIST with only the pixels' PCA published; the CNN coming."""
    from explorer.app import create_app

    root = copy_cache(full_cache, tmp_path / "cache")
    full = json.loads((root / "current.json").read_text())
    write_json_atomic(root / "current.json", partial(full, {"pixels": ("pca",)}, extras=False))
    progress_file(root, coming=COMING, epochs=EPOCHS, stage="train")
    app = create_app(ArtifactStore(root))
    app.full_current = full
    return app


def component(tree, id_: str) -> dict | None:
    """The props of the component called ``id_`` in a Dash layout as the page gets it, or ``None``."""
    if isinstance(tree, list):
        return next((c for c in (component(t, id_) for t in tree) if c is not None), None)
    if not isinstance(tree, dict):
        return None
    props = tree.get("props") or {}
    return props if props.get("id") == id_ else component(props.get("children"), id_)


def land(app, current: dict) -> None:
    root = app.explorer_store.artifacts.root
    write_json_atomic(root / "current.json", current)
    touch(root / "current.json")
    app.explorer_store._checked = 0.0


def test_coming_models_are_offered_and_a_wish_is_recorded_and_followed(live_app):
    app, client = live_app, live_app.server.test_client()
    root = app.explorer_store.artifacts.root
    values = page_values(client, app, "")
    labels = [o["label"] for o in values["ctl-model.options"]]
    assert labels == ["Raw pixels (k-NN)", "CNN (computing, about 80 s)"]
    assert values["ctl-proj.value"] == "pca" and values["live-auto.data"] == ["mnist", "pixels", "pca"]
    page = {**GOOD, **values, "url.search": "?ds=mnist&model=pixels&proj=pca"}
    # the CNN's UMAP asked for: the page stays on what exists and records the wish
    r = dash_post(client, app, "sync_url", {**page, "ctl-model.value": "cnn", "ctl-proj.value": "umap"},
                  changed=["ctl-model.value"])
    assert response_of(r, "ctl-model.value") == "pixels" and response_of(r, "ctl-proj.value") == "pca"
    wish = response_of(r, "live-wish.data")
    assert wish == {"dataset": "mnist", "model": "cnn", "proj": "umap", "shown": ["pixels", "pca"]}
    assert response_of(r, "live-auto.data") is None  # touched
    r = dash_post(client, app, "poll_status", {"live-wish.data": wish, "status-poll.n_intervals": None,
                                               "page-datasets.data": ["mnist"], **{k: v for k, v in page.items()
                                                                                  if k != "live-wish.data"}})
    text = words(response_of(r, "banner-text.children"))
    assert "The CNN's UMAP is being computed: about 2 min; showing the Raw pixels (k-NN)'s PCA until then" in text
    assert "CNN training, epoch 3 of 8" in text and "loss" in text
    assert json.loads((root / "wanted.json").read_text())["model"] == "cnn"
    # the CNN lands with its PCA only: the page shows it, still waiting for the UMAP
    cur = partial(app.full_current, {"pixels": ("pca",), "cnn": ("pca",)}, extras=False)
    land(app, cur)
    poll = {"status-poll.n_intervals": 5, "page-datasets.data": ["mnist"], **page, "live-wish.data": wish}
    r = dash_post(client, app, "poll_status", poll)
    assert response_of(r, "ctl-model.value") == "cnn" and response_of(r, "ctl-proj.value") == "pca"
    wish = response_of(r, "live-wish.data")
    assert wish["shown"] == ["cnn", "pca"]
    labels = [o["label"] for o in response_of(r, "ctl-model.options")]
    assert labels == ["Raw pixels (k-NN)", "CNN"]
    # then its UMAP: the page switches to it and says so
    land(app, partial(app.full_current, {"pixels": ("pca",), "cnn": ("pca", "umap")}, extras=False))
    r = dash_post(client, app, "poll_status", {**poll, "ctl-model.value": "cnn", "live-wish.data": wish})
    assert response_of(r, "ctl-proj.value") == "umap" and response_of(r, "live-wish.data") is None
    assert "Now showing the CNN's UMAP, as asked" in words(response_of(r, "banner-text.children"))
    # the CNN's layouts as the page now lists them: its t-SNE is not coming in this progress file
    assert option_labels(response_of(r, "ctl-proj.options")) == ["UMAP", "t-SNE", "PCA"]


def test_a_link_naming_a_model_not_made_yet_waits_for_it(live_app):
    """A shared URL ``model=cnn`` opened while the CNN trains: the page shows what exists, records the wish
    (the pipeline is told) and keeps the link; a model nobody makes falls back as before, with no wish."""
    app, client = live_app, live_app.server.test_client()
    root = app.explorer_store.artifacts.root
    values = page_values(client, app, "?ds=mnist&model=cnn&proj=umap")
    assert values["ctl-proj.value"] == "pca" and values.get("ctl-model.value", "pixels") == "pixels"
    assert "url.search" not in values  # waited for, not ignored: the link stays as it was
    # the layouts of the model shown, the one still computing with its time
    assert option_labels(values["ctl-proj.options"]) == ["UMAP", "t-SNE (computing, about 30 s)", "PCA"]
    wish = values["live-wish.data"]
    assert wish == {"dataset": "mnist", "model": "cnn", "proj": "umap", "shown": ["pixels", "pca"]}
    assert values.get("live-auto.data") is None  # asked for something: the page does not move by itself
    page = {**GOOD, **values, "status-poll.n_intervals": None, "page-datasets.data": ["mnist"]}
    r = dash_post(client, app, "poll_status", {**page, "live-wish.data": wish}, changed=["live-wish.data"])
    assert "The CNN's UMAP is being computed" in words(response_of(r, "banner-text.children"))
    assert json.loads((root / "wanted.json").read_text())["model"] == "cnn"
    for search, ignored in (("?ds=mnist&model=resnet&proj=umap", "ignored model=resnet (MNIST has no such model"),
                            ("?ds=mnist&model=pixels&proj=umap", None)):
        values = page_values(client, app, search, ignored)
        assert values.get("live-wish.data") is None, search


def test_an_untouched_page_moves_to_the_better_view_and_a_touched_one_does_not(live_app):
    app, client = live_app, live_app.server.test_client()
    values = page_values(client, app, "")
    page = {**GOOD, **values, "status-poll.n_intervals": 3, "page-datasets.data": ["mnist"]}
    land(app, partial(app.full_current, {"pixels": ("pca",), "cnn": ("pca", "umap")}, extras=False))
    touched = dash_post(client, app, "poll_status", {**page, "live-auto.data": None})
    assert response_of(touched, "ctl-model.value") is None and response_of(touched, "ctl-proj.value") is None
    assert [o["value"] for o in response_of(touched, "ctl-model.options")] == ["pixels", "cnn"]
    r = dash_post(client, app, "poll_status", page)
    assert response_of(r, "ctl-model.value") == "cnn" and response_of(r, "ctl-proj.value") == "umap"
    assert response_of(r, "live-auto.data") == ["mnist", "cnn", "umap"]
    assert "Now showing the CNN's UMAP: it just finished" in words(response_of(r, "banner-text.children"))
    note = response_of(r, "live-note.data")
    # the URL callback the move sets off keeps the page untouched; the note stays a while
    r = dash_post(client, app, "sync_url", {**page, "ctl-model.value": "cnn", "ctl-proj.value": "umap",
                                            "live-auto.data": ["mnist", "cnn", "umap"]}, changed=["ctl-model.value"])
    assert response_of(r, "live-auto.data") is None and "model=cnn" in response_of(r, "url.search")
    r = dash_post(client, app, "poll_status", {**page, "ctl-model.value": "cnn", "ctl-proj.value": "umap",
                                               "live-auto.data": ["mnist", "cnn", "umap"], "live-note.data": note})
    assert response_of(r, "ctl-model.value") is None
    assert "Now showing the CNN's UMAP" in words(response_of(r, "banner-text.children"))


def test_a_dataset_published_later_joins_the_dataset_control(live_app):
    app, client = live_app, live_app.server.test_client()
    root = app.explorer_store.artifacts.root
    body = progress_file(root, coming=COMING, epochs=EPOCHS, stage="train")
    body["datasets"]["fashion-mnist"] = {"stage": "train", "title": "Fashion-MNIST", "coming": [
        {"model": "pixels", "title": "Raw pixels (k-NN)", "proj": "pca", "eta_s": 22.0}]}
    write_json_atomic(root / "progress.json", body)
    values = page_values(client, app, "")
    # before it is served, it is listed greyed with the time to its first view, in the page and each poll
    coming = {"label": "Fashion-MNIST (computing, about 20 s)", "value": "fashion-mnist", "disabled": True}
    assert coming in component(client.get("/_dash-layout").json, "ctl-dataset")["options"]
    r = dash_post(client, app, "poll_status", {**GOOD, **values, "status-poll.n_intervals": 2,
                                               "page-datasets.data": ["mnist"]})
    assert response_of(r, "ctl-dataset.options") == [{"label": "MNIST", "value": "mnist"}, coming]
    # a URL cannot open it before it exists
    assert page_values(client, app, "?ds=fashion-mnist", "ignored ds=fashion-mnist").get(
        "ctl-dataset.value") in (None, "mnist")
    land(app, partial(app.full_current, None, datasets=("mnist", "fashion-mnist")))
    r = dash_post(client, app, "poll_status", {**GOOD, **values, "status-poll.n_intervals": 3,
                                               "page-datasets.data": ["mnist"]})
    assert [o["value"] for o in response_of(r, "ctl-dataset.options")] == ["mnist", "fashion-mnist"]
    assert "Fashion-MNIST is ready — pick it under Dataset" in words(response_of(r, "banner-text.children"))
    # choosing it on this page (built before it) works without a reload
    r = dash_post(client, app, "sync_url", {**GOOD, **values, "ctl-dataset.value": "fashion-mnist",
                                            "url.search": "?ds=mnist"}, changed=["ctl-dataset.value"])
    assert alert_of(r) is None and "ds=fashion-mnist" in response_of(r, "url.search")
    r = dash_post(client, app, "render_scatter", {**GOOD, "ctl-dataset.value": "fashion-mnist"})
    assert alert_of(r) is None

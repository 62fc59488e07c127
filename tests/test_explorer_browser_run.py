"""The explorer in a real headless Chromium during a pipeline run (issue 23), with a real process as the
"pipeline" whose pid ``progress.json`` names: the user asking for the CNN before it exists (the page
writes ``wanted.json``, keeps drawing the pixels, and moves to the CNN when it lands), and the pipeline
killed mid-run (the stale ``progress.json`` stays; the page stops speaking of what is being computed)."""
from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from test_explorer_browser import GD, base_points, click_isolated, wait_callbacks, wait_hover_labels, wait_scatter
from test_explorer_browser_live import live_server, model_labels, publish  # noqa: F401 (a fixture)
from test_explorer_live import EPOCHS, partial, progress_file

SCATTER = GD.format(sel="#ex-scatter")
#: the CNN and the dense network are coming; the CNN's UMAP first
COMING = [{"model": "cnn", "title": "CNN", "proj": "umap", "eta_s": 60.0},
          {"model": "cnn", "title": "CNN", "proj": "pca", "eta_s": 75.0},
          {"model": "mlp", "title": "Dense network", "proj": "umap", "eta_s": 150.0}]
PIXELS_ONLY = {"pixels": ("umap", "tsne", "pca")}


@pytest.fixture
def pipeline():
    """A process standing in for the running pipeline (``sleep 600``): its pid goes into progress.json."""
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


@pytest.fixture
def failures(page):
    """Every response of the page's server that answered 5xx, as ``"status url"``."""
    bad: list[str] = []
    page.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    return bad


def banner(page) -> str:
    """The banner's words as shown ("" while it is hidden)."""
    return page.locator("#banner").inner_text() if page.locator("#banner").is_visible() else ""


def assert_draws(page, model: str, n: int) -> None:
    """The scatter shows ``model``'s ``n`` points and no error alert is up."""
    wait_scatter(page)
    assert page.evaluate(f"() => {SCATTER}.layout.meta.model") == model
    assert base_points(page) == n
    assert not page.locator("#alert").is_visible(), page.locator("#alert").inner_text()


def test_asking_for_the_coming_cnn_writes_the_wish_and_follows_it_when_it_lands(page, live_server, pipeline,
                                                                                  failures):
    url, root, full = live_server(lambda f: partial(f, PIXELS_ONLY, extras=False), coming=COMING,
                                  epochs=EPOCHS, stage="train", pid=pipeline.pid)
    page.goto(url + "/")
    wait_scatter(page)
    n = base_points(page)
    assert n == 300
    assert model_labels(page) == ["Raw pixels (k-NN)", "CNN (computing, about 60 s)",
                                  "Dense network (computing, about 2 min)"]
    assert page.locator("#ctl-proj input[value='umap']").is_checked()
    assert "CNN training, epoch 3 of 8" in banner(page)
    assert not (root / "wanted.json").exists()

    # the user asks for the CNN, which is not made yet
    asked = time.time()
    page.locator("#ctl-model label").filter(has_text="CNN (computing").click()
    page.wait_for_function("() => document.querySelector('#banner').innerText.includes('is being computed')")
    wait_callbacks(page)
    wanted = json.loads((root / "wanted.json").read_text())
    assert set(wanted) == {"dataset", "model", "proj", "time"}
    assert (wanted["dataset"], wanted["model"], wanted["proj"]) == ("mnist", "cnn", "umap")
    assert page.locator(f"#ctl-proj input[value='{wanted['proj']}']").is_checked()  # the layout the page shows
    assert asked - 1 <= wanted["time"] <= time.time() + 1
    # the page goes on drawing the pixels' UMAP, and says what it waits for and how long
    assert "The CNN's UMAP is being computed: about 60 s; showing the Raw pixels (k-NN)'s UMAP until then" \
        in banner(page)
    assert_draws(page, "pixels", n)
    assert page.evaluate(f"() => {SCATTER}.layout.title.text") == "MNIST · Raw pixels (k-NN) · UMAP"
    assert page.locator("#ctl-model input[value='pixels']").is_checked()  # what is drawn, until the CNN lands

    # the pipeline publishes the CNN: the page moves to it by itself
    publish(root, partial(full, None))
    progress_file(root, coming=[], stage="report", words="measuring separability", detail="", pid=pipeline.pid)
    page.wait_for_function(f"() => {SCATTER}.layout.meta.model === 'cnn'")
    page.wait_for_function("() => location.search.includes('model=cnn') && location.search.includes('proj=umap')")
    assert page.locator("#ctl-model input[value='cnn']").is_checked()
    assert "Now showing the CNN's UMAP, as asked" in banner(page)
    assert "is being computed" not in banner(page)
    assert_draws(page, "cnn", n)
    assert page.evaluate(f"() => {SCATTER}.layout.title.text") == "MNIST · CNN · UMAP"
    assert failures == []


def test_a_killed_pipeline_stops_the_progress_and_leaves_a_working_page(page, live_server, pipeline, failures):
    early = {"pixels": ("pca", "tsne")}  # a partial cache: the pixels' PCA and t-SNE, the rest coming
    url, root, full = live_server(lambda f: partial(f, early, extras=False), coming=COMING, epochs=EPOCHS,
                                  stage="train", pid=pipeline.pid)
    page.goto(url + "/")
    wait_scatter(page)
    assert model_labels(page) == ["Raw pixels (k-NN)", "CNN (computing, about 60 s)",
                                  "Dense network (computing, about 2 min)"]
    words = banner(page)
    assert "CNN training, epoch 3 of 8" in words and "next: the CNN's UMAP, about 60 s" in words
    # the user has asked for the CNN (shown in the pixels' t-SNE until it lands)
    page.locator("#ctl-model label").filter(has_text="CNN (computing").click()
    page.wait_for_function("() => document.querySelector('#banner').innerText.includes('is being computed')")
    wait_callbacks(page)
    assert json.loads((root / "wanted.json").read_text())["model"] == "cnn"

    # a SIGKILL: the pipeline writes nothing more, its progress.json stays as it was
    stale = (root / "progress.json").read_bytes()
    pipeline.send_signal(signal.SIGKILL)
    pipeline.wait(timeout=10)
    page.wait_for_function("() => ![...document.querySelectorAll('#ctl-model label')]"
                           ".some(l => l.innerText.includes('computing'))")
    page.wait_for_function("() => { const b = document.querySelector('#banner'); return b.offsetParent === null "
                           "|| !/computing|computed|training|prepar|next:/.test(b.innerText); }")
    wait_callbacks(page)
    assert (root / "progress.json").read_bytes() == stale
    assert model_labels(page) == ["Raw pixels (k-NN)"]
    for gone in ("computing", "computed", "training", "prepar", "next:"):
        assert gone not in banner(page)
    # the view asked for will not come: the page says so (a while) instead of waiting for it forever
    assert "The view asked for was not made: the pipeline stopped. Showing the Raw pixels (k-NN)'s t-SNE." \
        in banner(page)

    # the scatter is still there, and hover and click still work
    assert_draws(page, "pixels", 300)
    wait_hover_labels(page)
    click_isolated(page)
    assert page.locator("#nb-strip .nb-item").count() > 0
    wait_callbacks(page)
    assert not page.locator("#alert").is_visible()
    assert failures == []

"""The run as a queue of steps (pipeline/schedule.py): the quickest view first, a view the page asks for
next, each view published as it lands, and the page told what is coming and when."""
from __future__ import annotations

import json
import time

import pytest

from pipeline import schedule
from pipeline.config import RunConfig
from pipeline.run import Pipeline
from pipeline.schedule import Estimates, Step
from training import kinds
from training.ladder import ModelSpec


def _specs(name):
    """The ladder and a user's model (whose kind checks a file before any work)."""
    return [ModelSpec("pixels", "pixels", "Raw pixels (k-NN)", None), ModelSpec("mlp", "mlp", "Dense network", None),
            ModelSpec("cnn", "cnn", "CNN", None), ModelSpec("mine", "keras", "mine", None)]


def test_the_users_model_comes_first_then_the_quickest_picture_then_the_view_the_page_opens_on():
    steps = schedule.plan(["mnist", "fashion-mnist"], _specs, ["pca", "tsne", "umap"])
    views = [s.view() for s in steps if s.dataset == "mnist" and s.view()]
    assert views[:3] == [("mine", "pca"), ("mine", "umap"), ("mine", "tsne")]  # UMAP: the page's first choice
    # the pixel k-NN's PCA (seconds), its UMAP, then the CNN's (the model the page opens with), then the rest
    assert views[3:7] == [("pixels", "pca"), ("pixels", "umap"), ("cnn", "pca"), ("cnn", "umap")]
    assert views[7:] == [("pixels", "tsne"), ("mlp", "pca"), ("mlp", "umap"), ("mlp", "tsne"), ("cnn", "tsne")]
    assert [s.target for s in steps].count("report") == 2


def test_every_datasets_first_picture_comes_before_any_slower_view_and_the_reports_last():
    steps = schedule.plan(["mnist", "fashion-mnist"], _specs, ["pca", "tsne", "umap"])
    order = [(s.dataset, *(s.view() or (s.target,))) for s in steps]
    # round 1: each dataset's first picture (the user's model, the pixel k-NN's PCA and UMAP)
    assert order[:10] == [(d, m, p) for d in ("mnist", "fashion-mnist")
                          for m, p in [("mine", "pca"), ("mine", "umap"), ("mine", "tsne"),
                                       ("pixels", "pca"), ("pixels", "umap")]]
    # round 2: each dataset's opening view (the CNN) and its training-dynamics frames; then the other
    # layouts; the reports last
    assert order[10:16] == [(d, *v) for d in ("mnist", "fashion-mnist")
                            for v in [("cnn", "pca"), ("cnn", "umap"), ("dynamics",)]]
    assert steps[12] == Step("mnist", "dynamics", ("cnn",))
    assert order[-2:] == [("mnist", "report"), ("fashion-mnist", "report")]
    assert len(order) == len(set(order)) == 2 * 14


def test_at_70000_points_the_opening_model_makes_the_first_picture():
    """With the training images (``--sample-set all``) the pixel k-NN's first view is the slow one."""
    steps = schedule.plan(["mnist", "fashion-mnist"], _specs, ["pca", "tsne", "umap"], opening_first=True)
    order = [(s.dataset, *(s.view() or (s.target,))) for s in steps]
    assert order[:10] == [(d, m, p) for d in ("mnist", "fashion-mnist")
                          for m, p in [("mine", "pca"), ("mine", "umap"), ("mine", "tsne"),
                                       ("cnn", "pca"), ("cnn", "umap")]]
    assert order[10:16] == [(d, *v) for d in ("mnist", "fashion-mnist")
                            for v in [("pixels", "pca"), ("pixels", "umap"), ("dynamics",)]]
    assert sorted(order) == sorted((s.dataset, *(s.view() or (s.target,)))
                                   for s in schedule.plan(["mnist", "fashion-mnist"], _specs, ["pca", "tsne", "umap"]))


def test_a_step_covers_only_its_models_methods_and_dimensions():
    step = Step("mnist", "project", ("cnn",), ("pca",), (2,))
    assert step.covers("cnn") and step.covers("cnn", "pca", 2)
    assert not step.covers("pixels") and not step.covers("cnn", "umap") and not step.covers("cnn", "pca", 3)
    assert Step("mnist", "report").covers("pixels", "umap", 3) and Step("mnist", "report").view() is None


def test_the_pages_wish_is_read_once_and_only_when_it_names_a_view_of_this_run(tmp_path):
    chosen = ["pca", "umap"]
    assert schedule.wanted(tmp_path, 0.0, ["mnist"], _specs, chosen) == (None, 0.0)  # no file
    (tmp_path / schedule.WANTED_FILE).write_text("{not json")
    assert schedule.wanted(tmp_path, 0.0, ["mnist"], _specs, chosen) == (None, 0.0)
    now = time.time()
    (tmp_path / schedule.WANTED_FILE).write_text(json.dumps({"dataset": "mnist", "model": "cnn", "proj": "umap",
                                                             "time": now}))
    step, seen = schedule.wanted(tmp_path, now - 10, ["mnist"], _specs, chosen)
    assert step == Step("mnist", "project", ("cnn",), ("umap",), (2,)) and seen == now
    assert schedule.wanted(tmp_path, seen, ["mnist"], _specs, chosen) == (None, seen)  # not twice
    for bad in ({"dataset": "cifar", "model": "cnn", "proj": "umap"}, {"dataset": "mnist", "model": "rm -rf",
                                                                        "proj": "umap"},
                {"dataset": "mnist", "model": "cnn", "proj": "densmap"}, {"dataset": "mnist", "model": ["cnn"],
                                                                          "proj": "umap"}):
        (tmp_path / schedule.WANTED_FILE).write_text(json.dumps({**bad, "time": now + 1}))
        assert schedule.wanted(tmp_path, now, ["mnist"], _specs, chosen)[0] is None, bad


def test_estimates_start_from_the_registries_and_learn_what_this_run_measured():
    est = Estimates()
    guess = est.seconds("cnn", "tsne", 10_000, fitted=False, embedded=False)
    assert guess == kinds.get("cnn").fit_seconds + schedule.EMBED_SECONDS + 35
    assert est.seconds("cnn", "pca", 10_000, fitted=True, embedded=True) == 1
    est.learn("cnn", "tsne", {"train": 80.0, "embed": 6.0, "project": 10.0}, 5_000)
    assert est.seconds("cnn", "tsne", 10_000, fitted=False, embedded=False) == 80 + 6 + 20  # t-SNE per 10,000 points
    assert est.seconds("cnn", "tsne", 10_000, fitted=True, embedded=True) == 20


@pytest.fixture
def pixels_run(tmp_path, real_data_dir):
    """A run of the pixel k-NN on a few hundred MNIST images, PCA and t-SNE (no TensorFlow, no numba)."""
    return RunConfig.from_sections({
        "where": {"cache_dir": tmp_path}, "data": {"dataset": ("mnist",), "data_dir": real_data_dir, "quiet": True},
        "models": {"models": ("pixels",)}, "train": {"train_subset": 1000}, "embed": {"embed_subset": 300},
        "project": {"methods": ("pca", "tsne"), "tsne_iter": 100}})


def test_each_view_is_published_as_it_lands_with_what_is_coming(pixels_run, tmp_path, monkeypatch):
    pipe = Pipeline(pixels_run)
    published, progress = [], []
    write = pipe.store.write_current

    def record(current):
        write(current)
        entry = current["datasets"].get("mnist", {})
        published.append({m: sorted(e["projections"]) for m, e in entry.get("models", {}).items()})
        progress.append(json.loads((tmp_path / "progress.json").read_text())["datasets"]["mnist"])

    monkeypatch.setattr(pipe.store, "write_current", record)
    started = []
    pipe.run_all(on_start=lambda: started.append((json.loads((tmp_path / "progress.json").read_text()),
                                                  (tmp_path / "current.json").exists())))
    # the explorer is started before any work, when progress.json already says what is coming
    assert len(started) == 1 and started[0][1] is False
    assert started[0][0]["datasets"]["mnist"]["stage"] == "waiting"
    assert published[0] == {"pixels": ["pca"]}  # the first picture: the quickest layout alone
    assert published[1] == {"pixels": ["pca", "tsne"]}
    assert published[-1] == {"pixels": ["pca", "tsne"]}
    # while the first view was made the page was told t-SNE comes next, with a time
    coming = progress[0]["coming"]
    assert [(c["model"], c["proj"]) for c in coming] == [("pixels", "tsne")] and coming[0]["eta_s"] > 0
    assert progress[1]["coming"] == []
    assert not (tmp_path / "progress.json").exists()  # the run is over
    current = json.loads((tmp_path / "current.json").read_text())
    assert list(current["datasets"]["mnist"]["methods"]) == ["tsne", "pca"]  # every method, in the page's order


def test_a_view_the_page_asks_for_is_made_next(pixels_run, tmp_path, monkeypatch):
    config = RunConfig.from_sections({**pixels_run.settable(), "where": {"cache_dir": tmp_path},
                                      "data": {"dataset": ("mnist", "fashion-mnist"),
                                               "data_dir": pixels_run.data.data_dir, "quiet": True}})
    pipe = Pipeline(config)
    views: list[tuple[str, str]] = []
    write = pipe.store.write_current

    def record(current):
        write(current)
        shown = {(d, p) for d, e in current["datasets"].items() for p in e["models"]["pixels"]["projections"]}
        views.extend(sorted(shown - set(views)))
        if len(views) == 1:  # the page, showing the first picture, asks for Fashion-MNIST's t-SNE
            (tmp_path / schedule.WANTED_FILE).write_text(json.dumps(
                {"dataset": "fashion-mnist", "model": "pixels", "proj": "tsne", "time": time.time()}))

    monkeypatch.setattr(pipe.store, "write_current", record)
    pipe.run_all()
    assert views[0] == ("mnist", "pca")
    assert views[1] == ("fashion-mnist", "tsne")  # before MNIST's own t-SNE and Fashion-MNIST's PCA
    assert sorted(views) == sorted({(d, p) for d in ("mnist", "fashion-mnist") for p in ("pca", "tsne")})


def test_the_coming_views_count_down_and_an_overrun_pushes_them_back(tmp_path, monkeypatch):
    pipe = Pipeline(RunConfig.from_sections({"where": {"cache_dir": tmp_path}, "data": {"dataset": ("mnist",)}}))
    clock = [1000.0]
    monkeypatch.setattr("pipeline.run.time.monotonic", lambda: clock[0])
    pipe._coming, pipe._coming_at = {"mnist": [{"model": "cnn", "proj": "pca", "eta_s": 60.0},
                                               {"model": "cnn", "proj": "umap", "eta_s": 80.0}]}, 1000.0
    clock[0] += 30
    assert [v["eta_s"] for v in pipe._coming_now("mnist")] == [30.0, 50.0]
    clock[0] += 60  # the CNN took longer than guessed: "about 5 s", and the UMAP 20 s after it
    assert [v["eta_s"] for v in pipe._coming_now("mnist")] == [5.0, 25.0]


def test_a_networks_epochs_set_the_time_its_views_are_coming_in(tmp_path):
    pipe = Pipeline(RunConfig.from_sections({"where": {"cache_dir": tmp_path}, "data": {"dataset": ("mnist",)}}))
    cnn = next(s for s in pipe.models("mnist") if s.name == "cnn")
    pipe._queue = [Step("mnist", "project", ("cnn",), ("pca",), (2,))]
    watch = pipe._epoch_watcher("mnist", cnn)
    watch({"epoch": 1, "of": 6, "seconds": 30.0, "val_accuracy": 0.98})
    watch({"epoch": 2, "of": 6, "seconds": 20.0, "val_accuracy": 0.985})
    progress = json.loads((tmp_path / "progress.json").read_text())["datasets"]["mnist"]
    assert progress["epochs"]["epoch"] == 2 and len(progress["epochs"]["history"]) == 2
    assert progress["detail"] == "cnn: epoch 2 of 6, test accuracy 0.9850"
    [view] = progress["coming"]
    embed_and_pca = pipe.estimates.seconds("cnn", "pca", 10_000, fitted=True, embedded=False)
    assert view["proj"] == "pca" and abs(view["eta_s"] - (4 * 25.0 + embed_and_pca)) < 1  # 4 epochs of 25 s to go


def test_the_opening_networks_training_dynamics_are_published_before_the_other_layouts(tiny_cache, real_data_dir,
                                                                                      monkeypatch):
    """The tiny run (pixels, CNN) again with the CNN's frames gone: they are made and published right after
    the CNN's first two views, before the other layouts and the report (the Training dynamics tab fills
    minutes earlier in a real run)."""
    import shutil

    from conftest import TINY
    from pipeline.cli import config_of, parse

    current = json.loads((tiny_cache / "current.json").read_text())
    shutil.rmtree(tiny_cache / current["datasets"]["mnist"]["models"]["cnn"]["dynamics"])
    config = config_of(parse(["all", "--no-serve", "--cache-dir", str(tiny_cache), "--data-dir", str(real_data_dir),
                              *TINY]))
    pipe = Pipeline(config)
    published = []
    write = pipe.store.write_current

    def record(cur):
        write(cur)
        models = cur["datasets"].get("mnist", {}).get("models", {})
        published.append(({(m, p) for m, e in models.items() for p in e["projections"]},
                           bool(models.get("cnn", {}).get("dynamics")), pipe.results["mnist"].report is not None))

    monkeypatch.setattr(pipe.store, "write_current", record)
    pipe.run_all()
    first = next(i for i, (_, dynamics, _) in enumerate(published) if dynamics)
    views, _, report = published[first]
    assert views == {("pixels", "pca"), ("pixels", "umap"), ("cnn", "pca"), ("cnn", "umap")} and not report
    assert published[-1][0] > views and published[-1][2]  # the other layouts and the report came after

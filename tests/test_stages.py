"""One stage graph (pipeline/stages.py): the order, the commands' options, the explorer's words and the
keys all come from its declarations, and a bumped stage version rebuilds that stage and what it feeds only."""
from __future__ import annotations

import json

import pytest

from core import schema
from pipeline import stages
from pipeline.config import COMMANDS, RunConfig
from pipeline.run import Pipeline


def test_each_stage_runs_after_what_it_needs():
    names = [s.name for s in stages.order("report")]
    assert names == ["fetch", "train", "embed", "project", "faith", "issues", "duplicates", "dynamics",
                     "layers", "report"]
    for i, name in enumerate(names):
        assert set(stages.STAGES[name].needs) <= set(names[:i])
    assert [s.name for s in stages.order("project")] == ["fetch", "train", "embed", "project"]
    with pytest.raises(KeyError, match="no stage 'layouts'; the stages are fetch, train"):
        stages.order("layouts")


def test_what_a_stage_feeds():
    assert stages.downstream("embed") == {"embed", "project", "faith", "issues", "duplicates", "layers",
                                            "report"}
    assert stages.downstream("layers") == {"layers", "report"}
    assert stages.downstream("dynamics") == {"dynamics", "report"}


def test_every_stage_has_its_method_folder_and_words():
    for stage in stages.STAGES.values():
        assert callable(getattr(Pipeline, f"stage_{stage.name}")), stage.name
        assert stage.folder is None or stage.folder in schema.FOLDERS
        assert stage.words and stages.words(stage.name) == stage.words
    assert {s.folder for s in stages.STAGES.values() if s.folder} | {"import", "samples"} == set(schema.FOLDERS)


def test_commands_take_the_sections_of_every_stage_they_run():
    # what the hand-kept table said before the graph, plus the two sections that now reach the command line
    # and the corrections files a run adds to the logs before it trains (pipeline/corrections.py)
    assert COMMANDS["train"] == ("where", "data", "seed", "models", "train", "corrections")
    assert COMMANDS["embed"] == COMMANDS["project"] == ("where", "data", "seed", "models", "train", "embed",
                                                        "project", "report")
    assert COMMANDS["report"] == ("where", "data", "seed", "models", "train", "embed", "project", "faith",
                                  "issues", "duplicates", "dynamics", "layers", "report")
    assert COMMANDS["all"] == COMMANDS["report"] + ("corrections", "serve")


def test_faith_and_issues_settings_reach_the_command_line_and_the_run_record():
    from pipeline.cli import config_of, parse

    config = config_of(parse(["report", "--faith-k", "7", "--issues-weight", "0.8", "--seed", "3"]))
    assert config.faith.k == 7 and config.issues.weight == 0.8 and config.issues.seed == 3
    record = config.settable()
    assert record["faith"]["k"] == 7 and record["issues"]["weight"] == 0.8 and "seed" not in record["issues"]


def test_the_pixel_knn_settings_reach_the_command_line_its_key_and_the_run_record():
    from core.store import config_key
    from pipeline.cli import config_of, parse
    from training import kinds

    default = config_of(parse(["train"]))
    config = config_of(parse(["train", "--pixels-k", "3", "--pixels-weights", "uniform"]))
    spec = kinds.spec("pixels", "mnist", config.train, 0)
    assert (spec.config.k, spec.config.weights) == (3, "uniform")
    assert config.settable()["train"]["pixels_k"] == 3
    before = kinds.spec("pixels", "mnist", default.train, 0).config
    assert (before.k, before.weights) == (5, "distance")  # the defaults, so the key of an older cache holds
    assert config_key(spec.config) != config_key(before)


def test_progress_says_the_graphs_words(tmp_path):
    pipe = Pipeline(RunConfig.from_sections({"where": {"cache_dir": tmp_path}, "data": {"dataset": ("mnist",)}}))
    pipe._status("mnist", "faith", "t-SNE of cnn")
    progress = json.loads((tmp_path / "progress.json").read_text())
    assert progress["datasets"]["mnist"] == {"stage": "faith", "words": "measuring how faithful each layout is",
                                             "detail": "t-SNE of cnn", "title": "MNIST", "coming": []}


def test_priority_puts_a_dataset_first(tmp_path):
    config = RunConfig.from_sections({"where": {"cache_dir": tmp_path}})
    assert Pipeline(config).names == ("mnist", "fashion-mnist")
    assert Pipeline(config, priority=("fashion-mnist",)).names == ("fashion-mnist", "mnist")


# -- a bumped version, end to end on real data (the pixel k-NN: no TensorFlow) ------------------------
def _folders(root) -> set[str]:
    return {str(p.parent.relative_to(root)) for p in root.glob("*/*/*/config.json")} | \
        {str(p.parent.relative_to(root)) for p in root.glob("report/*/report.json")}  # the combined report


@pytest.mark.slow
def test_a_bumped_stage_version_rebuilds_that_stage_and_what_it_feeds_only(tmp_path, real_data_dir, monkeypatch):
    sections = {"where": {"cache_dir": tmp_path}, "data": {"dataset": ("mnist",), "data_dir": real_data_dir,
                                                           "quiet": True},
                "models": {"models": ("pixels",)}, "train": {"train_subset": 1000},
                "embed": {"embed_subset": 300}, "project": {"methods": ("pca", "umap")}}

    def run() -> None:
        pipe = Pipeline(RunConfig.from_sections(sections))
        pipe.report()
        pipe.publish()

    run()
    before = _folders(tmp_path)
    run()
    assert _folders(tmp_path) == before  # nothing changed: everything reused
    monkeypatch.setattr(schema, "FOLDERS", {**schema.FOLDERS, "proj": schema.dataclasses.replace(schema.PROJ,
                                                                                                  version=2)})
    run()
    added = _folders(tmp_path) - before
    stage_of = {a: a.split("/")[-2] if not a.startswith("report/") else "report" for a in added}
    # 2-D PCA, 3-D PCA and UMAP; their two faithfulness folders; the dataset's report part (the combined
    # report is keyed by its content, which the same layouts computed again leave as it was)
    assert sorted(stage_of.values()) == ["faith", "faith", "proj", "proj", "proj", "report"]
    current = json.loads((tmp_path / "current.json").read_text())
    assert current["stages"]["proj"] == 2 and current["stages"]["embed"] == 1
    assert all(current["datasets"]["mnist"]["models"]["pixels"]["projections"][p] in added for p in ("pca", "umap"))

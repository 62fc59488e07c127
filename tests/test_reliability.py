"""Interrupted and concurrent runs: nothing partial is trusted, only what is missing is redone,
and the results equal those of one uninterrupted run with the same seed.

A run that is killed, crashes or races another is a process of its own; every other run is
``pipeline.cli.main`` in this process (:func:`tests.conftest.pipeline_main`).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pipeline.cli import CRASH_ENV
from tests.conftest import ROOT, TINY, pipeline_main

pytestmark = pytest.mark.slow  # real training, and processes that import TensorFlow


def start(cache: Path, data: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "pipeline", *args, "--cache-dir", str(cache),
                          "--data-dir", str(data), *TINY], cwd=ROOT, env={**os.environ, **(env or {})},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.cache = cache
    return p


def finish(p: subprocess.Popen, timeout: float = 600) -> subprocess.CompletedProcess:
    out, err = p.communicate(timeout=timeout)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def run_all(cache: Path, data: Path, *args: str) -> subprocess.CompletedProcess:
    """``all --no-serve`` on ``cache``, in this process; ``args`` after :data:`TINY` override it."""
    r = pipeline_main("all", "--no-serve", "--cache-dir", cache, "--data-dir", data, *TINY, *args)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def wait_for(predicate, timeout: float = 300, proc: subprocess.Popen | None = None) -> None:
    t0 = time.time()
    while not predicate():
        assert proc is None or proc.poll() is None, "the pipeline ended before the point to interrupt it"
        assert time.time() - t0 < timeout, "timed out waiting"
        time.sleep(0.05)


def progress(cache: Path) -> dict:
    """What the running pipeline says it is doing for MNIST (its ``progress.json``); ``{}`` before it says."""
    try:
        return json.loads((cache / "progress.json").read_text())["datasets"]["mnist"]
    except (OSError, ValueError, KeyError):
        return {}


def kill_when(p: subprocess.Popen, premise) -> None:
    """SIGKILL ``p`` where ``premise()`` holds: the run is stopped (SIGSTOP) first, so what the
    premise reads is the state the kill meets."""
    p.send_signal(signal.SIGSTOP)
    try:
        assert premise(), f"the run was not where the test means to kill it: {progress(p.cache)}"
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()


def trusted(cache: Path) -> dict[str, float]:
    """Artifact folders a run would trust, with their completion times."""
    return {str(p.parent.relative_to(cache)): p.stat().st_mtime for p in cache.glob("*/*/*/config.json")
            if not p.parent.name.startswith(".tmp-")}


def results(cache: Path) -> dict[str, np.ndarray | str]:
    """Every array and the report that the explorer would show, by role (not by path)."""
    cur = json.loads((cache / "current.json").read_text())
    report = json.loads((cache / cur["report"]).read_text())
    for d in report["datasets"].values():  # how long a fit took differs between any two runs
        for m in d["models"].values():
            m.pop("train_seconds")
    out = {"report": json.dumps(report, sort_keys=True), "keys": json.dumps(cur["datasets"], sort_keys=True)}
    for name, d in cur["datasets"].items():
        for model, m in d["models"].items():
            for f in ("space", "proba", "knn-indices"):
                if f != "space" or model != "pixels":
                    out[f"{name}/{model}/{f}"] = np.load(cache / m["embed"] / f"{f}.npy")
            for method, rel in m["projections"].items():
                out[f"{name}/{model}/{method}"] = np.load(cache / rel / "coords.npy")
            if m["dynamics"]:
                out[f"{name}/{model}/frames"] = np.load(cache / m["dynamics"] / "frames.npy")
    return out


def assert_same_results(a: Path, b: Path) -> None:
    ra, rb = results(a), results(b)
    assert ra.keys() == rb.keys()
    for k in ra:
        if isinstance(ra[k], str):
            assert ra[k] == rb[k], k
        else:
            np.testing.assert_array_equal(ra[k], rb[k], err_msg=k)


@pytest.fixture
def reference(request):
    """The session's uninterrupted run with :data:`TINY` (read only: tests change copies of it), asked
    for when a test compares with it: a test that makes its own run starts while another worker
    may still be making this one (``tiny_run``), instead of waiting for it idle."""
    return lambda: request.getfixturevalue("tiny_run").cache


def test_sigkill_during_training(tmp_path, real_data_dir, reference):
    cache = tmp_path / "cache"
    p = start(cache, real_data_dir, "all", "--no-serve")
    model_dir = cache / "mnist" / "model"
    # the pixel k-NN (the first rung) is published with its views, then the CNN's temporary folder gets
    # the rows its snapshots follow, the last file written before the fit starts
    fitting = lambda: list(model_dir.glob(".tmp-*/dynamics/index.npy"))  # noqa: E731
    models = lambda: [k for k in trusted(cache) if "/model/" in k]  # noqa: E731
    wait_for(lambda: len(models()) == 1 and fitting(), proc=p)
    kill_when(p, lambda: progress(cache).get("stage") == "train" and progress(cache)["detail"].startswith("cnn")
              and fitting() and not list(model_dir.glob(".tmp-*/model.keras")))  # the fit not saved yet
    kept = [json.loads((cache / k / "config.json").read_text())["config"]["kind"] for k in models()]
    assert kept == ["pixels"]  # the half-trained CNN is not trusted
    run_all(cache, real_data_dir)
    assert not list(model_dir.glob(".tmp-*"))  # the dead run's temp folder was swept
    assert_same_results(cache, reference())


def test_two_concurrent_runs_on_one_cache(tmp_path, real_data_dir, reference):
    cache = tmp_path / "cache"
    b = start(cache, real_data_dir, "all", "--no-serve")
    wait_for(lambda: (cache / "progress.json").exists(), proc=b)  # the other run is at work on the cache
    run_all(cache, real_data_dir)  # and this process races it
    rb = finish(b)
    assert rb.returncode == 0, rb.stderr[-3000:]
    folders = trusted(cache)
    # One folder per artifact: the lock made the second run reuse the first's work.
    assert sum("/model/" in k for k in folders) == 2 and sum("/proj/" in k for k in folders) == 8  # 3 layouts + the 3-D PCA per model
    assert not list(cache.glob("*/*/.tmp-*"))
    assert_same_results(cache, reference())


def up_to_the_layouts(cache: Path) -> Path:
    """A copy of the tiny run cut back to what a run has made when it starts its layouts: the samples,
    models and embeddings; every later stage's folders and ``current.json`` are gone."""
    import shutil

    shutil.rmtree(cache / "report")  # the report of both datasets
    for stage in (cache / "mnist").iterdir():
        if stage.name not in ("samples", "model", "embed"):
            shutil.rmtree(stage)
    (cache / "current.json").unlink()
    assert {k.split("/")[1] for k in trusted(cache)} == {"samples", "model", "embed"}
    return cache


def test_sigkill_during_projection_redoes_only_the_projections(tiny_cache, real_data_dir, reference):
    cache = up_to_the_layouts(tiny_cache)
    p = start(cache, real_data_dir, "all", "--no-serve")
    layouts = lambda: sum("/proj/" in k for k in trusted(cache))  # noqa: E731
    # a layout is published and the run is computing the next one: killed in the middle of the stage
    wait_for(lambda: progress(cache).get("stage") == "project" and layouts() >= 1, proc=p)
    kill_when(p, lambda: progress(cache).get("stage") == "project" and 1 <= layouts() < 8)
    before = trusted(cache)
    assert sum("/model/" in k for k in before) == 2 and sum("/embed/" in k for k in before) == 2
    run_all(cache, real_data_dir)
    after = trusted(cache)
    for k, mtime in before.items():
        assert after[k] == mtime, f"{k} was recomputed"  # finished work is reused, not redone
    assert_same_results(cache, reference())


def test_sigkill_while_an_artifact_is_being_written(tiny_cache, real_data_dir, reference):
    cache = up_to_the_layouts(tiny_cache)
    r = finish(start(cache, real_data_dir, "all", "--no-serve", env={CRASH_ENV: "proj"}))
    assert r.returncode == -signal.SIGKILL
    leftovers = list((cache / "mnist" / "proj").glob(".tmp-*"))
    assert leftovers and (leftovers[0] / "coords.npy").is_file()  # complete files, never renamed
    assert not any("/proj/" in k for k in trusted(cache))
    assert not (cache / "current.json").exists()
    run_all(cache, real_data_dir)
    assert not list((cache / "mnist" / "proj").glob(".tmp-*"))
    assert_same_results(cache, reference())


@pytest.mark.parametrize("change,expected", [
    # A model's report entry reads every artifact of that model, so it follows any change of them.
    # Epochs train the CNN only (the pixel k-NN has none); the seed also moves the pixels' graph
    # search and layouts; a subset is a new sample set for both models. Every new layout gets its
    # faithfulness folder, every new embedding its label issues, every network made or fed anew its layers.
    # The near-duplicates take their candidates from every model's graph: a new graph, new duplicates.
    (["--epochs", "2"], {"model": 1, "embed": 1, "proj": 4, "faith": 3, "issues": 1, "dynamics": 1, "layers": 1,
                         "duplicates": 1, "report": 1}),
    (["--seed", "1"], {"model": 1, "embed": 2, "proj": 8, "faith": 6, "issues": 2, "dynamics": 1, "layers": 1,
                       "duplicates": 1, "report": 2}),
    (["--embed-subset", "250"], {"samples": 1, "embed": 2, "proj": 8, "faith": 6, "issues": 2, "layers": 1,
                                 "duplicates": 1, "report": 2}),
    (["--umap-min-dist", "0.3"], {"proj": 2, "faith": 2, "report": 2}),
])
def test_a_config_change_recomputes_exactly_what_it_affects(change, expected, tiny_cache, real_data_dir):
    cache = tiny_cache
    before = set(trusted(cache))
    run_all(cache, real_data_dir, *change)  # the last value given wins in argparse: appended, it overrides TINY
    added = set(trusted(cache)) - before
    stages = {}
    for k in added:
        stage = k.split("/")[1]
        stages[stage] = stages.get(stage, 0) + 1
    assert stages == expected


# -- damaged artifacts: what a user might do to a finished cache --------------------------
def _overwrite_rows(path: Path) -> None:
    a = np.load(path)
    a[:20] = a[20:40]  # same size, same dtype: only a hash can tell
    np.save(path, a)


def _change_labels(path: Path) -> None:
    a = np.load(path)
    a[:10] = (a[:10] + 1) % 10
    np.save(path, a)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:1000])


DAMAGE = {"coords": ("projections", _overwrite_rows), "labels": ("samples", _change_labels),
          "knn": ("embed", _truncate)}


def _damaged_file(cache: Path, case: str) -> Path:
    d = json.loads((cache / "current.json").read_text())["datasets"]["mnist"]
    if case == "coords":
        return cache / d["models"]["cnn"]["projections"]["tsne"] / "coords.npy"
    if case == "labels":
        return cache / d["samples"] / "labels.npy"
    return cache / d["models"]["cnn"]["embed"] / "knn-indices.npy"


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_damaged_artifact_is_rebuilt_not_trusted(case, tiny_cache, real_data_dir, reference):
    cache = tiny_cache
    target = _damaged_file(cache, case)
    DAMAGE[case][1](target)
    before = trusted(cache)
    r = run_all(cache, real_data_dir)
    assert f"{target.parent} is damaged" in r.stderr  # said, with the folder, before it is rebuilt
    after = trusted(cache)
    rebuilt = {k for k in before if after.get(k) != before[k]}
    assert rebuilt == {str(target.parent.relative_to(cache))}  # only the damaged folder
    assert_same_results(cache, reference())


def test_verify_reports_damage_and_repair_rebuilds_it(tiny_cache, reference):
    cache = tiny_cache

    def verify(*extra: str) -> subprocess.CompletedProcess:
        return pipeline_main("verify", "--cache-dir", cache, "-q", *extra)

    r = verify()
    assert r.returncode == 0 and "0 damaged, all intact" in r.stdout, r.stdout + r.stderr
    for case in DAMAGE:
        DAMAGE[case][1](_damaged_file(cache, case))
    r = verify()
    assert r.returncode == 1, r.stdout + r.stderr
    assert "3 damaged" in r.stdout  # the samples folder (labels), the CNN's embed folder (graph), its t-SNE
    for case in DAMAGE:
        assert str(_damaged_file(cache, case)) in r.stdout
    assert "used by the explorer's current view" in r.stdout and "verify --repair" in r.stdout
    r = verify("--repair")
    assert r.returncode == 0 and "repaired: 3 of 3" in r.stdout, r.stdout + r.stderr[-3000:]
    assert verify().returncode == 0
    assert_same_results(cache, reference())

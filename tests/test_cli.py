"""The command line end to end on a tiny subset of the real data: results, reuse, invalidation, errors.

Each command is ``pipeline.cli.main`` run in this process (:func:`tests.conftest.pipeline_main`): what
is under test is what it computes and prints, not a fresh interpreter.
"""
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import pipeline_main

TINY = ["--train-subset", "1000", "--epochs", "1", "--embed-subset", "400", "--snapshot-samples", "100",
        "--tsne-iter", "100", "-q"]


def run(*args, check=True):
    r = pipeline_main(*args)
    if check:
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def artifact_dirs(cache: Path) -> set[str]:
    return {str(p.parent.relative_to(cache)) for p in cache.glob("*/*/*/config.json")
            if not p.parent.name.startswith(".tmp-")}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, real_data_dir):
    cache = tmp_path_factory.mktemp("cache")
    args = ["all", "--no-serve", "--cache-dir", str(cache), "--data-dir", str(real_data_dir), *TINY]
    t0 = time.perf_counter()
    r = run(*args)
    return cache, args, r, time.perf_counter() - t0


@pytest.mark.slow  # the module's tiny run trains three models per dataset
def test_all_produces_every_artifact(first_run):
    cache, _, r, _ = first_run
    current = json.loads((cache / "current.json").read_text())
    assert set(current["datasets"]) == {"mnist", "fashion-mnist"}
    for name, d in current["datasets"].items():
        assert list(d["models"]) == ["pixels", "mlp", "cnn"] and d["default_model"] == "cnn"
        samples = cache / d["samples"]
        assert np.load(samples / "images.npy").shape == (400, 28, 28)
        for model, m in d["models"].items():
            embed = cache / m["embed"]
            assert np.load(embed / "proba.npy").shape == (400, 10)
            assert np.load(embed / "knn-indices.npy").shape == (400, 90)
            assert (embed / "space.npy").exists() == (model != "pixels")  # pixels: the images themselves
            for method in ("pca", "tsne", "umap"):
                coords = np.load(cache / m["projections"][method] / "coords.npy")
                assert coords.shape == (400, 2) and np.isfinite(coords).all()
            # the explorer's 3-D view: PCA in 3-D always (its first two axes are the 2-D PCA's)
            assert set(m["projections3d"]) == {"pca"}
            coords3 = np.load(cache / m["projections3d"]["pca"] / "coords.npy")
            assert coords3.shape == (400, 3) and np.isfinite(coords3).all()
            pca2 = np.load(cache / m["projections"]["pca"] / "coords.npy")
            assert np.allclose(coords3[:, :2], pca2, rtol=1e-3, atol=1e-3 * np.abs(pca2).max())
        space = np.load(cache / d["models"]["cnn"]["embed"] / "space.npy")
        assert space.shape == (400, 128) and space.dtype == np.float32
        assert d["models"]["pixels"]["dynamics"] is None
        for model in ("mlp", "cnn"):
            frames = np.load(cache / d["models"][model]["dynamics"] / "frames.npy")
            epochs = np.load(cache / d["models"][model]["dynamics"] / "epochs.npy")
            # untrained, points inside the first epoch, then after it
            assert frames.shape == (len(epochs), 100, 2) and epochs[0] == 0 and epochs[-1] == 1
        # the Layers view: each network from the pixels to the logits, every image anchored on each frame
        for model, n_layers in (("mlp", 4), ("cnn", 5)):
            folder = cache / d["models"][model]["layers"]
            assert np.load(folder / "umap.npy").shape == np.load(folder / "pca.npy").shape == (n_layers, 400, 2)
            assert np.load(folder / "anchors.npy").shape == (n_layers, 400, 5)
        assert "layers" not in d["models"]["pixels"]
    report = json.loads((cache / current["report"]).read_text())
    fm = report["datasets"]["fashion-mnist"]["models"]
    assert set(fm) == {"pixels", "mlp", "cnn"}
    assert len(fm["cnn"]["pairs"]) == 45
    assert set(fm["cnn"]["projections"]) == {"pca", "tsne", "umap"}
    assert 0 <= fm["pixels"]["projections"]["umap"]["trustworthiness"] <= 1
    assert "epochs" in fm["mlp"] and "epochs" not in fm["pixels"]
    assert [x["title"] for x in fm["cnn"]["layers"]] == ["pixels", "conv stage 1", "conv stage 2", "embedding", "logits"]
    assert "layers" not in fm["pixels"] and "layers: k-NN acc / probe / silhouette" in r.stdout
    # The side-by-side table and where results went are printed.
    assert "MNIST" in r.stdout and "Fashion-MNIST" in r.stdout and "most confused pair" in r.stdout
    assert all(f"  {m}  " in r.stdout for m in ("pixels", "mlp", "cnn"))  # the models table
    assert f"explorer data: {cache / 'current.json'}" in r.stdout
    # Stage times are split per dataset too (the datasets run one after the other), and add up.
    totals = dict(_stage_times(re.search(r"stage times: (.*)", r.stdout).group(1)))
    each = {name.strip(): dict(_stage_times(times)) for name, times in
            (part.split(":", 1) for part in re.search(r"stage times per dataset: (.*)", r.stdout).group(1).split(";"))}
    assert set(each) == {"mnist", "fashion-mnist"}
    for stage in ("train", "embed", "project", "report"):
        assert all(each[d][stage] > 0 for d in each)
        assert sum(each[d][stage] for d in each) <= totals[stage] + 0.2  # printed to 0.1 s


def _stage_times(text):
    for part in text.split(","):
        name, value, _ = part.split()
        yield name, float(value)


@pytest.mark.slow  # the module's tiny run trains three models per dataset
def test_second_run_reuses_everything(first_run):
    cache, args, _, first_seconds = first_run
    before = artifact_dirs(cache)
    stamp = {p: (cache / p / "config.json").stat().st_mtime_ns for p in before}
    r = run(*args)
    assert artifact_dirs(cache) == before
    assert all((cache / p / "config.json").stat().st_mtime_ns == t for p, t in stamp.items())
    assert "stage times" in r.stdout


@pytest.mark.slow  # the module's tiny run trains three models per dataset
def test_changing_perplexity_recomputes_only_tsne(first_run):
    cache, args, _, _ = first_run
    before = artifact_dirs(cache)
    run(*args, "--perplexity", "20")
    added = artifact_dirs(cache) - before
    projections = {p for p in added if "/proj/" in p}
    faith = {p for p in added if "/faith/" in p}
    # one t-SNE per model and dataset, its faithfulness, and each of those models' report entries
    assert len(projections) == 6 and len(faith) == 6 and len(added - projections - faith) == 6
    assert all("/report/" in p for p in added - projections - faith)
    methods = {json.loads((cache / p / "config.json").read_text())["config"]["method"] for p in projections}
    assert methods == {"tsne"}


@pytest.mark.slow  # the module's tiny run trains three models per dataset
def test_dims_3_adds_3d_tsne_and_umap_and_recomputes_nothing_else(first_run):
    cache, args, _, _ = first_run
    before = artifact_dirs(cache)
    run(*args, "--dims", "3")
    added = artifact_dirs(cache) - before
    configs = [json.loads((cache / p / "config.json").read_text())["config"] for p in added if "/proj/" in p]
    # a 3-D t-SNE and UMAP per model and dataset; no 2-D layout, faithfulness or report is redone
    assert len(configs) == 12 and len(added) == 12
    assert {(c["method"], c["n_components"]) for c in configs} == {("tsne", 3), ("umap", 3)}
    current = json.loads((cache / "current.json").read_text())
    for d in current["datasets"].values():
        for m in d["models"].values():
            assert set(m["projections3d"]) == {"pca", "tsne", "umap"}
            assert np.load(cache / m["projections3d"]["umap"] / "coords.npy").shape == (400, 3)
    run(*args)  # without it the view shows the 3-D PCA again, and nothing is computed
    assert artifact_dirs(cache) == before | added
    current = json.loads((cache / "current.json").read_text())
    assert all(set(m["projections3d"]) == {"pca"} for d in current["datasets"].values() for m in d["models"].values())


@pytest.mark.slow  # the module's tiny run trains three models per dataset
def test_expected_errors_are_one_line_without_traceback(first_run, real_data_dir):
    cache, _, _, _ = first_run
    r = run("project", "--cache-dir", str(cache), "--data-dir", str(real_data_dir), *TINY,
            "--perplexity", "500", "--methods", "tsne", check=False)
    assert r.returncode == 2
    assert "perplexity must be > 0 and < n_samples (got 500.0 for 400 samples)" in r.stderr
    assert "Traceback" not in r.stderr
    r = run("fetch", "--dataset", "cifar", check=False)
    assert r.returncode == 2 and "choose from mnist, fashion-mnist" in r.stderr


def test_serve_without_a_cache_says_what_to_run(tmp_path):
    r = run("serve", "--cache-dir", str(tmp_path), check=False)
    assert r.returncode == 2
    assert "current.json is missing" in r.stderr and "python -m pipeline all" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_corrections_file_retrains_what_learns_from_the_training_labels(first_run, tmp_path):
    """``train --corrections FILE``: the rows join the cache's log, and every model of that dataset that learns
    from labels is trained again on the corrected ones (a new folder, keyed by them); the other dataset's stay."""
    cache, args, _, _ = first_run
    before = artifact_dirs(cache)
    path = tmp_path / "fixes.csv"
    path.write_text("dataset,split,index,new,action\nmnist,train,3,7,relabel\nmnist,train,7,1,relabel\n"
                    "mnist,test,5,2,relabel\n")
    keep = ("--cache-dir", "--data-dir", "--train-subset", "--epochs", "--snapshot-samples")  # the train stage's
    train_args = ["train", "-q", *[x for i, x in enumerate(args) if x in keep or (i and args[i - 1] in keep)]]
    r = run(*train_args, "--corrections", path)
    assert "3 corrections added to" in r.stdout
    made = artifact_dirs(cache) - before
    assert {d.rsplit("/", 1)[0] for d in made} == {"mnist/model"} and len(made) == 3  # pixels, mlp, cnn
    for d in made:
        record = json.loads((cache / d / "config.json").read_text())["config"]
        assert len(record["label_fixes"]) == 16
    again = run(*train_args, "--corrections", path)  # nothing new in the file: nothing retrained
    assert "0 corrections added" in again.stdout and artifact_dirs(cache) - before == made
    bad = tmp_path / "bad.csv"
    bad.write_text("dataset,split,index,new\nmnist,train,3,7\nmnist,train,60000,1\n")
    r = run(*train_args, "--corrections", bad, check=False)
    assert r.returncode == 2 and "bad.csv, line 3: no train image '60000'" in r.stderr
    log = (cache / "mnist" / "corrections.jsonl").read_text().splitlines()
    assert len(log) == 3  # the bad file's good first row was not added either

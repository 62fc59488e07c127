"""The run config and the command line generated from it: one default and one rule per setting."""
from __future__ import annotations

import re

import numpy as np
import pytest

from core.errors import ConfigError
from embeddings.knn import build_knn
from embeddings.projections import TSNE, UMAP
from pipeline.cli import build_parser, config_of, parse as parse_args
from pipeline.config import COMMANDS, KNN_K_FLOOR, RunConfig
from tests.conftest import pipeline_main


def parse(*argv: str) -> RunConfig:
    return config_of(build_parser().parse_args(list(argv)))


def test_every_option_of_before_is_accepted_with_the_same_defaults():
    c = parse("all")
    # the defaults the command line had before it was generated from the config
    assert c.datasets == ("mnist", "fashion-mnist") and c.where.cache_dir is None and c.data.data_dir is None
    assert c.seed.seed == 0 and c.data.quiet is False
    assert (c.train.profile, c.train.epochs, c.train.train_subset, c.train.snapshot_samples) == \
        ("default", None, None, None)
    assert (c.embed.sample_set, c.embed.embed_subset) == ("test", None)
    p = c.project
    assert (p.methods, p.dims) == (("pca", "tsne", "umap"), 2)
    assert c.models.models == ("pixels", "mlp", "cnn") and c.models.model == ()
    assert (p.perplexity, p.tsne_iter, p.umap_neighbors, p.umap_min_dist) == (30.0, 250, 15, 0.1)
    assert (c.serve.host, c.serve.port, c.serve.debug) == ("127.0.0.1", 8050, False)
    c = parse("all", "--dataset", "fashion-mnist", "--cache-dir", "/tmp/x", "--data-dir", "/tmp/d", "--seed", "3",
              "-q", "--profile", "strong", "--epochs", "2", "--train-subset", "100", "--snapshot-samples", "0",
              "--sample-set", "all", "--embed-subset", "50", "--methods", "tsne,pca", "--spaces", "pixels",
              "--dims", "3", "--perplexity", "12.5", "--tsne-iter", "99", "--umap-neighbors", "7",
              "--umap-min-dist", "0.3", "--host", "0.0.0.0", "--port", "9000", "--debug")
    assert c.datasets == ("fashion-mnist",) and str(c.where.cache_dir) == "/tmp/x" and c.seed.seed == 3
    assert c.train_config("fashion-mnist").epochs == 2 and c.train_config("fashion-mnist").augment is True
    assert c.train_config("fashion-mnist").snapshot_samples == 0 and c.data.quiet
    assert (c.embed.sample_set, c.embed.embed_subset, c.embed.seed) == ("all", 50, 3)
    # --spaces (before the model ladder) names models now: its spaces were the CNN's and the pixels'
    assert c.project.methods == ("tsne", "pca") and c.models.models == ("pixels",) and c.project.dims == 3
    # --dims 3: every method also in 3-D (for the explorer's 3-D view), beside the 2-D layouts every view needs
    assert c.project.params("tsne") == {"n_components": 2, "random_state": 3, "perplexity": 12.5, "n_iter": 99}
    assert c.project.params("tsne", 3)["n_components"] == 3 and c.project.dims_of("tsne") == (2, 3)
    # by default only PCA (milliseconds) is laid out in 3-D too
    assert [p.dims_of(m) for m in ("pca", "tsne", "umap")] == [(2, 3), (2,), (2,)]
    assert c.project.params("umap")["n_neighbors"] == 7 and c.project.umap_min_dist == 0.3
    assert (c.serve.host, c.serve.port, c.serve.debug) == ("0.0.0.0", 9000, True)
    assert build_parser().parse_args(["all", "--no-serve"]).no_serve


def test_each_command_takes_only_the_options_it_uses(capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["fetch", "--help"])
    assert e.value.code == 0
    fetch_help = capsys.readouterr().out
    assert "--dataset" in fetch_help and "--perplexity" not in fetch_help and "--port" not in fetch_help
    for command, flag in [("serve", "--perplexity"), ("fetch", "--umap-min-dist"), ("train", "--port"),
                          ("project", "--host")]:
        with pytest.raises(SystemExit) as e:
            parse_args([command, flag, "1"])
        assert e.value.code == 2
        assert f"`{command}` takes no {flag} (an option of " in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["serve", "--perplexity", "40"])
    assert "`serve` shows what the last `report` or `all` published: rerun `all` with it" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["all", "--frobnicate"])
    assert "unrecognized arguments: --frobnicate" in capsys.readouterr().err
    assert set(COMMANDS) == {"fetch", "train", "embed", "project", "report", "serve", "all", "verify", "import"}


def test_bounds_and_choices_come_from_the_fields():
    for argv, message in [(["--perplexity", "0"], r"projection perplexity must be > 0 \(got 0.0\)"),
                          (["--umap-min-dist", "2"], r"projection umap_min_dist must be in \[0, 1\] \(got 2.0\)"),
                          (["--epochs", "0"], r"training epochs must be >= 1 \(got 0\)"),
                          (["--port", "0"], r"explorer port must be in \[1, 65535\] \(got 0\)")]:
        with pytest.raises(ConfigError, match=message):
            parse("all", *argv)
    r = pipeline_main("project", "--methods", "lle")
    assert r.returncode == 2 and "'lle': choose from pca, tsne, umap, densmap (comma-separated)" in r.stderr


@pytest.mark.parametrize("argv,k", [([], 90), (["--perplexity", "20"], 90), (["--perplexity", "50"], 150),
                                    (["--umap-neighbors", "200"], 199), (["--report-k", "120"], 120),
                                    (["--perplexity", "50", "--methods", "pca,umap"], 90)])
def test_the_graph_keeps_as_many_neighbours_as_its_largest_consumer(argv, k):
    c = parse("all", *argv)
    assert c.embed.knn_k == k and KNN_K_FLOOR == 90
    assert parse("embed", *argv).embed.knn_k == k  # the command that builds the graph derives the same k


def test_a_changed_perplexity_changes_the_graph_key_only_when_it_needs_more():
    from core.store import config_key

    base = config_key(parse("all").embed, "model")
    assert config_key(parse("all", "--perplexity", "20").embed, "model") == base
    assert config_key(parse("all", "--perplexity", "50").embed, "model") != base


def test_projections_refuse_a_graph_too_short_for_them(blobs):
    X, _ = blobs
    short = build_knn(X, 30)
    with pytest.raises(ConfigError, match="t-SNE with perplexity 50 needs 150 neighbours per point but the "
                                          "k-NN graph has 30; rebuild the graph with k >= 150"):
        TSNE(perplexity=50, n_iter=10).fit(X, knn=short)
    with pytest.raises(ConfigError, match="UMAP with n_neighbors 40 needs 39 neighbours per point but the "
                                          "k-NN graph has 30"):
        UMAP(n_neighbors=40).fit(X, knn=short)
    # a graph with more neighbours than needed is fine: its nearest columns are used
    Y = TSNE(perplexity=5, n_iter=50).fit_transform(X, knn=short)
    assert Y.shape == (len(X), 2) and np.isfinite(Y).all()


def test_the_model_ladder_options():
    c = parse("all", "--models", "pixels,cnn-strong")
    assert c.models.models == ("pixels", "cnn-strong")
    assert c.train_config("mnist", "cnn-strong").epochs == 30 and c.train_config("mnist", "mlp").architecture == "mlp"
    for argv, message in [(["--model", "a.keras"], "--model needs one --dataset"),
                          (["--dataset", "mnist", "--model", "a.keras", "--model", "b.keras", "--model-name", "x"],
                           "--model-name given 1 times for 2 --model files"),
                          (["--dataset", "mnist", "--model", "a.keras", "--model-name", "CNN!"],
                           "--model-name 'CNN!': use 1-40 lowercase letters"),
                          (["--dataset", "mnist", "--model", "a.keras", "--model-name", "cnn"], "and none of pixels"),
                          (["--dataset", "mnist", "--model", "x/a.keras", "--model", "y/a.keras"],
                           "two --model files have the same name"),
                          (["--models", "cnn,cnn"], "--models lists a model twice")]:
        with pytest.raises(ConfigError, match=re.escape(message)):
            parse("all", *argv)
    c = parse("all", "--dataset", "mnist", "--model", "dir/My Net.keras", "--model", "b.keras",
              "--embedding-layer", "feats")
    assert c.models.user_names() == ("my-net", "b") and c.models.embedding_layer == ("feats",)


def test_a_cnn_keeps_its_cache_key_and_a_dense_network_records_only_its_own_fields():
    """Adding dense networks left every trained CNN in a cache valid: the CNN's record is the old one."""
    import dataclasses

    from training.config import make_config

    cnn = make_config("mnist")
    fields = {f.name for f in dataclasses.fields(cnn)}
    assert set(cnn.record()) == fields - {"architecture", "hidden", "label_fixes"}
    # trained on corrected labels (pipeline/corrections.py): another key; without corrections, the old one
    fixed = dataclasses.replace(cnn, label_fixes="0123456789abcdef")
    assert fixed.record() == {**cnn.record(), "label_fixes": "0123456789abcdef"}
    mlp = make_config("mnist", "mlp")
    assert mlp.record()["hidden"] == [256, 128] or mlp.record()["hidden"] == (256, 128)
    assert not {"widths", "convs_per_stage", "batch_norm", "augment", "embedding_dim"} & set(mlp.record())

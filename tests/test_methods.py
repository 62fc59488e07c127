"""The registry of projection methods: order and facts, one check per parameter rule, the cache keys
of the three methods it took over, densMAP, and a method registered from outside the package."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError
from core.store import ArtifactStore, save_npy_atomic
from core.vocab import PROJECTION_LABELS
from embeddings import methods, metrics
from embeddings.knn import build_knn
from embeddings.methods.densmap import DensMAP
from embeddings.methods.pca import PCA
from embeddings.methods.tsne import TSNE
from embeddings.methods.umap import UMAP
from embeddings.project import ProjectConfig, project
from tests.conftest import ROOT


def test_registry_order_defaults_and_facts():
    assert methods.names() == ("pca", "tsne", "umap", "densmap")  # the order the pipeline computes them
    assert methods.defaults() == ("pca", "tsne", "umap") == ProjectConfig().methods  # densMAP only when asked
    facts = methods.facts(methods.names())
    assert list(facts) == ["umap", "tsne", "pca", "densmap"]  # the page's order: UMAP, t-SNE, PCA as before
    assert {n: f["title"] for n, f in facts.items() if n in PROJECTION_LABELS} == PROJECTION_LABELS
    assert facts["densmap"]["title"] == "densMAP" and "local density" in facts["densmap"]["about"]
    assert all(f["about"] and isinstance(f["order"], int) for f in facts.values())
    assert list(methods.facts(["pca", "umap"])) == ["umap", "pca"]
    assert [m.name for m in methods.table() if m.always_3d] == ["pca"]
    with pytest.raises(ConfigError, match="unknown projection 'lle'; choose one of pca, tsne, umap, densmap"):
        methods.facts(["lle"])
    with pytest.raises(ValueError, match="a projection method called 'pca' is registered already"):
        methods.register(methods.get("pca"))
    with pytest.raises(ValueError, match="config field 'umap_neighbors' is taken"):
        methods.register(dataclasses.replace(methods.get("umap"), name="umap2"))


def test_the_config_is_composed_from_the_registry():
    c = ProjectConfig(methods=("umap", "densmap"), densmap_lambda=0.5, densmap_neighbors=40)
    assert c.params("densmap") == {"n_components": 2, "random_state": 0, "n_neighbors": 40, "min_dist": 0.1,
                                   "dens_lambda": 0.5}
    assert c.neighbours_needed() == 39 and c.dims_of("densmap") == (2,)
    assert ProjectConfig(methods=("pca",)).neighbours_needed() == 0
    assert ProjectConfig(methods=("tsne", "umap")).neighbours_needed() == 90


# -- one check per rule: the parameter, the bound and the value ---------------------------------
@pytest.mark.parametrize("estimator,params,message", [
    (PCA, {"n_components": 4}, r"n_components must be 2 or 3 \(got 4\)"),
    (TSNE, {"perplexity": 50}, r"perplexity must be > 0 and < n_samples \(got 50 for 40 samples\)"),
    (TSNE, {"perplexity": 0}, r"perplexity must be > 0 and < n_samples \(got 0 for 40 samples\)"),
    (TSNE, {"perplexity": "a"}, r"perplexity must be > 0 and < n_samples \(got a for 40 samples\)"),
    (TSNE, {"n_iter": 0}, r"n_iter must be >= 1 \(got 0\)"),
    (TSNE, {"early_exaggeration_iter": -1}, r"early_exaggeration_iter must be >= 0 \(got -1\)"),
    (UMAP, {"n_neighbors": 40}, r"n_neighbors must be >= 2 and < n_samples \(got 40 for 40 samples\)"),
    (UMAP, {"n_neighbors": 1}, r"n_neighbors must be >= 2 and < n_samples \(got 1 for 40 samples\)"),
    (UMAP, {"min_dist": 2}, r"min_dist must be in \[0, 1\] \(got 2\)"),
    (UMAP, {"n_epochs": 0}, r"n_epochs must be >= 1 \(got 0\)"),
    (DensMAP, {"dens_lambda": -1.0}, r"dens_lambda must be >= 0 \(got -1.0\)"),
    (DensMAP, {"dens_frac": 1.5}, r"dens_frac must be in \[0, 1\] \(got 1.5\)"),
    (DensMAP, {"dens_var_shift": -0.1}, r"dens_var_shift must be >= 0 \(got -0.1\)"),
    (DensMAP, {"n_neighbors": 41}, r"n_neighbors must be >= 2 and < n_samples \(got 41 for 40 samples\)"),
])
def test_each_parameter_rule(estimator, params, message, blobs):
    with pytest.raises(ConfigError, match=message):
        estimator(**params).fit(blobs[0][:40])


@pytest.mark.parametrize("fields,message", [
    ({"densmap_lambda": -1.0}, r"projection densmap_lambda must be >= 0 \(got -1.0\)"),
    ({"densmap_min_dist": 1.5}, r"projection densmap_min_dist must be in \[0, 1\] \(got 1.5\)"),
    ({"densmap_neighbors": 1}, r"projection densmap_neighbors must be >= 2 \(got 1\)"),
])
def test_the_config_checks_the_estimators_bounds(fields, message):
    with pytest.raises(ConfigError, match=message):
        ProjectConfig(**fields)


# -- the cache keys of the methods the registry took over ----------------------------------------
#: The keys of the default layouts of model "cnn" on embedding folder "0123456789ab", as the code
#: before the registry computed them (``project()``'s ``{"method", "model", **params}``); a cache made
#: then must be reused as it is.  t-SNE's changed on purpose when its default became 250 iterations
#: after early exaggeration (was 500; issue 23): the layout differs, so it must not be reused.
KEYS = {("pca", 2): "83f13547acb7", ("pca", 3): "47f2ae14dad1", ("tsne", 2): "bd3ff92e0def",
        ("tsne", 3): "bbea89fe74d2", ("umap", 2): "fc6ebece20cd", ("umap", 3): "55bbbcb13b7b"}


@pytest.mark.parametrize("method,dims", sorted(KEYS))
def test_default_layouts_keep_their_cache_keys(method, dims, tmp_path):
    from pipeline.config import RunConfig

    store = ArtifactStore(tmp_path)
    with store.writing("mnist", "proj", KEYS[method, dims], {"method": method}) as d:  # a layout made before
        save_npy_atomic(d / "coords.npy", np.zeros((3, dims), np.float32))
    # the embedding folder does not exist: only reusing the layout above can succeed
    folder = project("mnist", "cnn", "cnn", tmp_path / "embed" / "0123456789ab", tmp_path / "samples", method,
                     RunConfig().project, store, dims=dims)
    assert folder.name == KEYS[method, dims]


# -- densMAP --------------------------------------------------------------------------------------
def _spread_blobs() -> tuple[np.ndarray, np.ndarray]:
    """Three separated 10-D clusters, each three times as spread out as the one before."""
    r = np.random.default_rng(1)
    labels = np.repeat([0, 1, 2], 100)
    X = r.normal(scale=10, size=(3, 10))[labels] + np.array([0.3, 1.0, 3.0])[labels, None] * r.normal(size=(300, 10))
    return X.astype(np.float32), labels


def _spreads(Y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.array([np.linalg.norm(Y[labels == c] - Y[labels == c].mean(0), axis=1).mean() for c in range(3)])


def test_densmap_separates_blobs_reproducibly(blobs):
    X, y = blobs
    knn = build_knn(X, 30)
    a = DensMAP(n_neighbors=10, n_epochs=150, random_state=3).fit(X, knn=knn)
    b = DensMAP(n_neighbors=10, n_epochs=150, random_state=3).fit_transform(X, knn=knn)
    assert a.embedding_.shape == (len(X), 2) and a.embedding_.dtype == np.float32
    np.testing.assert_allclose(a.embedding_, b, rtol=1e-5, atol=1e-5)  # seeded, reproducible
    assert metrics.knn_accuracy(build_knn(a.embedding_, 5), y, 5) > 0.95


def test_densmap_keeps_density_where_umap_does_not():
    """A cluster spread out in the data looks spread out in densMAP's layout (Narayan et al. 2021);
    UMAP draws the three alike."""
    X, labels = _spread_blobs()
    knn = build_knn(X, 30)
    dens = _spreads(DensMAP(n_neighbors=10, random_state=3).fit_transform(X, knn=knn), labels)
    plain = _spreads(UMAP(n_neighbors=10, random_state=3).fit_transform(X, knn=knn), labels)
    assert dens[0] < dens[1] < dens[2] and dens[2] / dens[0] > 2
    assert plain.max() / plain.min() < 1.5


# -- one module and one registration ---------------------------------------------------------------
SPIRAL = '''
"""A test's projection method: points along a spiral, in order."""
import numpy as np

from embeddings.methods import Bound, Method, Param, Projection, register


class Spiral(Projection):
    method = "spiral"
    _parameter_constraints = {**Projection._parameter_constraints, "turns": Bound(lo=0, lo_open=True)}

    def __init__(self, *, n_components=2, turns=1.5, random_state=0):
        super().__init__(n_components=n_components, random_state=random_state)
        self.turns = turns

    def fit(self, X, knn=None, progress=None):
        X = self._validate(X)
        t = np.linspace(0, 2 * np.pi * self.turns, len(X))
        self.embedding_ = np.column_stack([t * np.cos(t), t * np.sin(t), t])[:, :self.n_components].astype(np.float32)
        return self


register(Method(name="spiral", title="Spiral", about="points in order along a spiral", estimator=Spiral,
                order=5, default=False, params=(Param("spiral_turns", "turns", "turns of the spiral"),)))
'''

RUN = '''
import json, sys
sys.path.insert(0, sys.argv[1])
import spiral_method  # the one registration
from embeddings.methods import facts, make_projection
from pipeline.cli import build_parser, config_of, main
c = config_of(build_parser().parse_args(["project", "--methods", "pca,spiral", "--spiral-turns", "3"]))
Y = make_projection("spiral", **c.project.params("spiral")).fit_transform(__import__("numpy").ones((50, 4)))
print(json.dumps({"params": c.project.params("spiral"), "methods": c.project.methods,
                  "facts": facts(["umap", "spiral"]), "shape": list(Y.shape)}))
try:
    make_projection("spiral", turns=0).fit(__import__("numpy").ones((50, 4)))
except Exception as e:
    print(json.dumps({"error": str(e)}))
main(["project", "--help"])
'''


def test_a_method_is_one_module_and_one_registration(tmp_path):
    (tmp_path / "spiral_method.py").write_text(SPIRAL)
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(RUN), str(tmp_path)], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.splitlines()
    got, error = json.loads(lines[0]), json.loads(lines[1])
    assert got["params"] == {"n_components": 2, "random_state": 0, "turns": 3.0}
    assert got["methods"] == ["pca", "spiral"] and got["shape"] == [50, 2]
    assert got["facts"] == {"spiral": {"title": "Spiral", "about": "points in order along a spiral", "order": 5},
                            "umap": methods.get("umap").facts()}
    assert error == {"error": "turns must be > 0 (got 0)"}
    help_text = "\n".join(lines[2:])
    assert "--spiral-turns SPIRAL_TURNS" in help_text and "turns of the spiral; default 1.5; > 0" in help_text
    assert "{pca,tsne,umap,densmap,spiral}" in help_text and "default pca,tsne,umap" in help_text

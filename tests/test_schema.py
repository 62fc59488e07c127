"""One declared schema (core/schema.py, core/current.py): every artifact fits it, the docs are made from
it, no code names a file it does not declare, and current.json is checked and migrated when read."""
from __future__ import annotations

import ast
import json
import re

import numpy as np
import pytest

from core import current as current_json
from core import schema
from core.errors import CacheError
from core.store import ArtifactStore, config_key, save_npy_atomic
from tests.conftest import ROOT

PACKAGES = ("core", "training", "embeddings", "explorer", "pipeline", "synthetic")
#: Files of the cache that are no stage's: the folder record, the explorer's pointer, the run's progress.
NOT_STAGE_FILES = {schema.CONFIG_FILE, schema.CURRENT_FILE, schema.PROGRESS_FILE, schema.WANTED_FILE}


def conformance_of_cache(root) -> dict[str, list[str]]:
    store = ArtifactStore(root)
    out = {}
    for folder in store.published():
        record = store.recorded(folder)
        out[store.relative(folder)] = schema.conformance(folder, record["stage"] or folder.parent.name,
                                                         list(record["files"]))
    return out


def test_the_docs_tables_are_the_declarations():
    text = schema.DOC.read_text()
    assert schema.render(text) == text, "docs/ARTIFACTS.md drifted from core/schema.py: run python -m core.schema"
    blocks = set(re.findall(r"<!-- schema:(\w+) -->", text))
    assert blocks == set(schema.FOLDERS), "every declared folder has its table in docs/ARTIFACTS.md"


def test_a_drifted_table_is_caught():
    text = schema.DOC.read_text()
    drifted = text.replace("| `coords.npy` | float32", "| `coords.npy` | float64", 1)
    assert drifted != text and schema.render(drifted) != drifted


def test_the_synthetic_cache_fits_the_schema(explorer_cache):
    problems = conformance_of_cache(explorer_cache)
    assert len(problems) > 20 and {p for ps in problems.values() for p in ps} == set()


def test_a_file_no_stage_declares_is_a_problem(tmp_path):
    store = ArtifactStore(tmp_path)
    with store.writing("mnist", "proj", "0123456789ab", {}) as out:
        save_npy_atomic(out / "coords.npy", np.zeros((5, 2), np.float32))
        save_npy_atomic(out / "extra.npy", np.zeros(5, np.float32))
    folder = store.path("mnist", "proj", "0123456789ab")
    problems = schema.conformance(folder, "proj", list(store.recorded(folder)["files"]))
    assert problems == [f"{folder / 'extra.npy'} is a file a proj folder does not declare (core/schema.py)"]


def test_arrays_of_another_dtype_or_shape_are_refused_when_read(tmp_path):
    store = ArtifactStore(tmp_path)
    key = "0123456789ab"
    with store.writing("mnist", "embed", key, {}) as out:
        save_npy_atomic(out / "pred.npy", np.zeros(5, np.int64))
        save_npy_atomic(out / "proba.npy", np.zeros(5, np.float32))
        save_npy_atomic(out / "knn-indices.npy", np.zeros((5, 3), np.int32))
    folder = store.path("mnist", "embed", key)
    with pytest.raises(CacheError, match=r"pred.npy holds int64, not the documented type of a embed folder's pred.npy \(uint8"):
        store.load_array(folder / "pred.npy")
    with pytest.raises(CacheError, match=r"proba.npy has shape \(5,\) where a embed folder's proba.npy is "
                                         r"\(n, classes\).*verify --repair"):
        store.load_array(folder / "proba.npy")
    assert store.load_array(folder / "knn-indices.npy").shape == (5, 3)
    problems = schema.conformance(folder, "embed", list(store.recorded(folder)["files"]))
    assert len(problems) == 3 and "knn-distances.npy is missing" in problems[0]


def _file_names_in_code(root=ROOT, packages=PACKAGES) -> dict[str, list[str]]:
    """Every string literal in the packages that names an artifact file (``*.npy``, ``*.json``, ``*.keras``)."""
    found: dict[str, list[str]] = {}
    for pkg in packages:
        for path in (root / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and re.fullmatch(r"[\w./-]+\.(npy|json|keras)", node.value):
                    found.setdefault(node.value, []).append(str(path.relative_to(root)))
    return found


def test_no_code_reads_or_writes_a_file_the_schema_does_not_declare():
    declared = {f.name for folder in schema.FOLDERS.values() for f in folder.files}
    declared |= {name.split("/", 1)[1] for name in declared if "/" in name}  # dynamics/x.npy written as x.npy
    found = _file_names_in_code()
    undeclared = {name: where for name, where in found.items() if name not in declared | NOT_STAGE_FILES}
    assert found and undeclared == {}


def test_the_undeclared_file_check_can_fail(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "x.py").write_text('NAME = "secret.npy"\n')
    assert _file_names_in_code(tmp_path, ("core",)) == {"secret.npy": ["core/x.py"]}


# -- stage versions ---------------------------------------------------------------------------------
def test_every_stage_starts_at_the_key_of_before_versions():
    # the keys every cache was made with before stages had versions: kept, so no cache is rebuilt
    assert config_key({"method": "pca"}, "abc") == config_key({"method": "pca"}, "abc", version=1)
    assert config_key({"method": "pca"}, "abc", version=2) != config_key({"method": "pca"}, "abc")
    # every stage started there; the model stage is at 2 since its first-epoch snapshots take their
    # accuracy on the snapshot images instead of the whole test set (issue 23)
    assert {s: f.version for s, f in schema.FOLDERS.items()} == {**{s: 1 for s in schema.FOLDERS}, "model": 2}


def test_a_bumped_version_rebuilds_that_stage_only(tmp_path, monkeypatch):
    store = ArtifactStore(tmp_path)
    made = []

    def make(tag):
        def write(out):
            made.append(tag)
            save_npy_atomic(out / "coords.npy", np.zeros((4, 2), np.float32))
        return write

    proj = store.build("mnist", "proj", {"method": "pca"}, make("proj"), upstream=("e",))
    faith = store.build("mnist", "faith", {"k": 10}, make("faith"), upstream=(proj.name,))
    assert made == ["proj", "faith"]
    assert store.build("mnist", "proj", {"method": "pca"}, make("proj"), upstream=("e",)) == proj
    bumped = {**schema.FOLDERS, "proj": schema.dataclasses.replace(schema.PROJ, version=2)}
    monkeypatch.setattr(schema, "FOLDERS", bumped)
    proj2 = store.build("mnist", "proj", {"method": "pca"}, make("proj"), upstream=("e",))
    faith2 = store.build("mnist", "faith", {"k": 10}, make("faith"), upstream=(proj2.name,))
    assert proj2 != proj and faith2 != faith and made == ["proj", "faith", "proj", "faith"]


# -- current.json --------------------------------------------------------------------------------
def test_a_version_2_current_json_is_migrated(explorer_cache):
    cur = json.loads((explorer_cache / "current.json").read_text())
    v2 = {**cur, "version": 2, "datasets": {n: {k: v for k, v in e.items() if k != "methods"}
                                            for n, e in cur["datasets"].items()}}
    v2.pop("stages", None)
    out = current_json.parse(v2, "current.json")
    assert out["version"] == current_json.CURRENT_VERSION == 3
    assert set(out["datasets"]["mnist"]["methods"]) == {"umap", "tsne", "pca"}
    assert out["datasets"]["mnist"]["methods"]["tsne"]["title"] == "t-SNE"
    assert out["stages"] == {}


@pytest.mark.parametrize("edit, message", [
    (lambda e: e.pop("samples"), r"entry 'mnist' is incomplete \(no 'samples'\)"),
    (lambda e: e.update(n="many"), r"entry 'mnist' is incomplete \('n' is 'many', not int\)"),
    (lambda e: e["models"]["cnn"]["projections"].update(umap=3),
     r"entry 'mnist', model 'cnn' is incomplete \('projections' is .*not dict"),
    (lambda e: e["models"].update(cnn=[]), r"entry 'mnist', model 'cnn' is incomplete \(not an object: list\)"),
])
def test_a_malformed_entry_names_itself(explorer_cache, edit, message):
    cur = json.loads((explorer_cache / "current.json").read_text())
    edit(cur["datasets"]["mnist"])
    with pytest.raises(CacheError, match=message + r".*rerun the pipeline"):
        current_json.parse(cur, "current.json")


def test_the_writers_structure_is_what_the_reader_accepts():
    entry = current_json.DatasetEntry(class_names=["a", "b"], n=3, samples="d/samples/k", models={
        "m": current_json.ModelEntry(model="d/model/k", embed="d/embed/k", projections={"pca": "d/proj/k"})})
    out = current_json.to_json({"d": entry}, "report/k/report.json", {"seed": {"seed": 0}}, {"proj": 1})
    assert current_json.parse(json.loads(json.dumps(out)), "current.json") == out
    assert "issues" not in out["datasets"]["d"]["models"]["m"]  # absent optional folders stay absent


def test_verify_names_an_array_its_declaration_does_not_allow(tmp_path, capsys):
    """A folder whose hashes match but whose array has another dtype (written by other code) is damaged."""
    from core.files import manifest, write_json_atomic
    from synthetic.cache import write_synthetic_cache
    from pipeline.commands import verify

    write_synthetic_cache(tmp_path, n=120, seed=1)
    store = ArtifactStore(tmp_path)
    assert verify(store) == 0
    folder = next(f for f in store.published() if f.parent.name == "proj")
    save_npy_atomic(folder / "coords.npy", np.zeros((120, 2), np.float64))
    write_json_atomic(folder / "config.json", {**store.recorded(folder), "files": manifest(folder)})
    assert store.verify(folder) == []  # its hashes match what it records now
    assert verify(store) == 1
    out = capsys.readouterr().out
    assert "1 damaged" in out and "coords.npy holds float64, not the documented type of a proj folder's" in out


def test_the_explorer_takes_faithfulnesss_k_from_its_folder(tmp_path):
    """No k is written twice: the detail panel counts out of what the faith folder recorded (--faith-k)."""
    from explorer.panels import quality_lines
    from explorer.store import ExplorerStore
    from synthetic.cache import write_synthetic_cache

    write_synthetic_cache(tmp_path, n=120, seed=2)
    m = ExplorerStore(ArtifactStore(tmp_path)).get("mnist").model("cnn")
    proj = next(iter(m.faith_dirs))
    assert m.faith_sizes(proj) == (10, 10)  # a folder from before the window: 10 among 10
    folder = m.faith_dirs[proj]
    record = json.loads((folder / "config.json").read_text())
    record["config"].update(k_used=5, window_used=15)
    (folder / "config.json").write_text(json.dumps(record))
    m2 = ExplorerStore(ArtifactStore(tmp_path)).get("mnist").model("cnn")
    f = m2.faithfulness(proj)
    assert m2.faith_sizes(proj) == (5, 15) and m2.true_neighbours(proj, 3) == round(float(f[3]) * 5)
    text = str(quality_lines(m2, 3, proj))
    assert "B('2 of its 5')" in text and "nearest neighbours in the space of CNN are among its 15 nearest in this" in text


def test_sample_ids_follow_the_datasets_own_training_size():
    """Test image t is sample id n_train + t in an "all" sample set: the explorer takes n_train from current.json."""
    from explorer.snapshots import rows_of_test_ids

    ids = np.arange(1000 + 50)  # a dataset of 1,000 training images, then 50 test images
    assert rows_of_test_ids(np.array([0, 7]), ids, "all", n_train=1000).tolist() == [1000, 1007]
    assert rows_of_test_ids(np.array([0, 7]), ids, "test").tolist() == [0, 7]
    entry = current_json.DatasetEntry(class_names=["a"], n=1, samples="s", models={}, n_train=1000)
    assert current_json.to_json({"d": entry}, "r", {}, {})["datasets"]["d"]["n_train"] == 1000

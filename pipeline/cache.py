"""On-disk artifact cache: config-keyed directories written atomically.

Every artifact lives in ``<root>/<dataset>/<stage>/<key>/`` where ``key`` is derived
from the config that made it (:func:`config_key`).  A directory is built under a
temporary name and renamed into place only once complete, so an interrupted or
concurrent run never leaves a half-written directory that a later run trusts.
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
import signal
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from pipeline.errors import CacheError

log = logging.getLogger(__name__)

#: Environment variable that moves the cache (default: ``./cache`` in the repo).
CACHE_ENV = "MNIST_EXPLORER_CACHE"
DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "cache"
CURRENT_FILE = "current.json"
#: Tests set this to a stage name to SIGKILL the process with that stage's files written but not renamed.
CRASH_ENV = "MNIST_EXPLORER_CRASH_BEFORE_RENAME"
SCHEMA_VERSION = 1
_TMP_PREFIX = ".tmp-"


def default_root() -> Path:
    return Path(os.environ.get(CACHE_ENV, DEFAULT_ROOT))


def config_key(config: Any, *upstream: str) -> str:
    """Stable 12-hex-digit key of a config (dataclass or dict) and its upstream keys.

    Parameters
    ----------
    config : dataclass instance or dict
        Only values that change the result belong in it.
    *upstream : str
        Keys of the artifacts this one is computed from, so that a change
        upstream invalidates everything downstream.
    """
    if dataclasses.is_dataclass(config):
        config = dataclasses.asdict(config)
    blob = json.dumps({"config": config, "upstream": list(upstream), "v": SCHEMA_VERSION},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@contextlib.contextmanager
def atomic_file(path: Path, suffix: str = "") -> Iterator:
    """Open a temporary binary file beside ``path``; on success it replaces ``path`` atomically.

    A crash at any point leaves either the old file or the new one, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON to ``path`` through a temporary file and an atomic rename."""
    with atomic_file(path, ".json") as f:
        f.write(json.dumps(obj, indent=1, default=_json_default).encode())


def save_npy_atomic(path: Path, array: np.ndarray) -> None:
    """Save one array as ``.npy`` through a temporary file and an atomic rename."""
    with atomic_file(path, ".npy") as f:
        np.save(f, np.ascontiguousarray(array), allow_pickle=False)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    if dataclasses.is_dataclass(o):
        return dataclasses.asdict(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def read_json(path: Path) -> Any:
    path = Path(path)
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise CacheError(f"{path} is missing; run `python -m pipeline all` to rebuild it") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CacheError(f"{path} is not valid JSON ({e}); delete it and rerun the pipeline") from None


def load_array(path: Path, mmap: bool = False) -> np.ndarray:
    """Load a cached ``.npy`` with pickles refused (cached files are data, never code)."""
    path = Path(path)
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    except FileNotFoundError:
        raise CacheError(f"{path} is missing; delete its folder {path.parent} and rerun the pipeline") from None
    except ValueError as e:
        raise CacheError(f"{path} is not a valid array file ({e}); delete {path.parent} and rerun") from None


class ArtifactStore:
    """Config-keyed artifact directories under one root.

    Layout: ``<root>/<dataset>/<stage>/<key>/`` with a ``config.json`` in each,
    plus ``<root>/current.json`` naming what the explorer shows.
    """

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else default_root()

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
        return (self.path(dataset, stage, key) / "config.json").is_file()

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

        ``config.json`` is written last, inside the temporary directory, and the
        whole directory is renamed into place.  If another process finished the
        same artifact first, ours is discarded (same key means same content).
        """
        final = self.path(dataset, stage, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        self._sweep(final.parent)
        tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{key}-{os.getpid()}-", dir=final.parent))
        try:
            yield tmp
            write_json_atomic(tmp / "config.json", {"key": key, "stage": stage, "dataset": dataset,
                                                   "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                                   "config": config})
            _fsync_dir(tmp)
            if os.environ.get(CRASH_ENV) == stage:  # fault injection for the interruption tests
                os.kill(os.getpid(), signal.SIGKILL)
            try:
                os.rename(tmp, final)
            except OSError:
                if not (final / "config.json").is_file():
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
                pid = int(p.name.split("-")[2])  # .tmp-<key>-<pid>-<random>
            except (IndexError, ValueError):
                continue
            if not _pid_alive(pid):
                shutil.rmtree(p, ignore_errors=True)

    # -- the explorer's entry point -------------------------------------------------
    def read_current(self) -> dict:
        cur = read_json(self.root / CURRENT_FILE)
        if not isinstance(cur, dict) or cur.get("version") != SCHEMA_VERSION:
            raise CacheError(f"{self.root / CURRENT_FILE} has an unknown schema; rerun the pipeline")
        return cur

    def write_current(self, current: dict) -> None:
        current = {**current, "version": SCHEMA_VERSION}
        write_json_atomic(self.root / CURRENT_FILE, current)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

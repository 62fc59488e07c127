"""Reading and writing one artifact file: atomic writes, pickle-free loads, content hashes.

Imports only numpy and the standard library.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from core.errors import CacheError

TMP_PREFIX = ".tmp-"
CONFIG_FILE = "config.json"
_HASH_CHUNK = 1 << 22


@contextlib.contextmanager
def atomic_file(path: Path, suffix: str = "") -> Iterator:
    """Open a temporary binary file beside ``path``; on success it replaces ``path`` atomically.

    A crash at any point leaves either the old file or the new one, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=suffix, dir=path.parent)
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


def file_digest(path: Path) -> str:
    """sha256 of a file, read in 4 MiB chunks (memory-mapped reads cost the same here)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def manifest(folder: Path) -> dict[str, list]:
    """``{relative path: [size, sha256]}`` of every file under ``folder`` but its ``config.json``."""
    out = {}
    for p in sorted(Path(folder).rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and rel != CONFIG_FILE:
            out[rel] = [p.stat().st_size, file_digest(p)]
    return out



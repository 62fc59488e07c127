"""Reader for the IDX format of MNIST and Fashion-MNIST (optionally gzip-compressed).

Format (LeCun et al., http://yann.lecun.com/exdb/mnist/): two zero bytes, a type code
(0x08 = unsigned byte), the number of dimensions, then one big-endian uint32 per
dimension, then the data in C order.
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from core.errors import DataError

#: The four files MNIST ships as (and Fashion-MNIST after it), by the array each holds.
IDX_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
_UBYTE = 0x08
#: Guard against a corrupt header asking for an absurd allocation.
_MAX_ITEMS = 1 << 31


def parse_idx(raw: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode IDX bytes into a uint8 array, checking magic number, dimensions and length.

    Parameters
    ----------
    raw : bytes
        The uncompressed file content.
    source : str
        Name used in error messages (the file path).

    Returns
    -------
    ndarray of uint8, shape given by the header.

    Raises
    ------
    DataError
        Wrong magic number, unsupported type, zero or absurd dimensions, or a
        length that does not match the header (a truncated or padded file).
    """
    fix = f"delete {source} and fetch it again (`python -m pipeline fetch`)"
    if len(raw) < 4:
        raise DataError(f"{source}: only {len(raw)} bytes, too short for an IDX header; {fix}")
    if raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{source}: bad IDX magic number 0x{raw[:4].hex()} "
                        f"(must start with 0x0000); not an IDX file? {fix}")
    if raw[2] != _UBYTE:
        raise DataError(f"{source}: IDX type code 0x{raw[2]:02x} is not 0x08 (unsigned byte); {fix}")
    ndim = raw[3]
    if not 1 <= ndim <= 3:
        raise DataError(f"{source}: IDX header says {ndim} dimensions; expected 1 (labels) "
                        f"or 3 (images); {fix}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{source}: truncated IDX header ({len(raw)} of {header} bytes); {fix}")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    if any(d == 0 for d in dims):
        raise DataError(f"{source}: IDX dimensions {dims} contain a zero; {fix}")
    expected = 1
    for d in dims:
        expected *= d
        if expected > _MAX_ITEMS:
            raise DataError(f"{source}: IDX dimensions {dims} are implausibly large; {fix}")
    got = len(raw) - header
    if got != expected:
        what = "truncated" if got < expected else "has trailing bytes"
        raise DataError(f"{source}: IDX data {what}: header {dims} needs {expected} bytes, "
                        f"file has {got}; {fix}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def read_idx(path: Path | str) -> np.ndarray:
    """Read an IDX file, gunzipping it when its name ends in ``.gz``.

    Raises
    ------
    DataError
        The file is missing, the gzip stream is corrupt or truncated, or the IDX
        content is invalid (see :func:`parse_idx`).
    """
    path = Path(path)
    fix = f"delete {path} and fetch it again (`python -m pipeline fetch`)"
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; run `python -m pipeline fetch`") from None
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as e:
        raise DataError(f"{path}: corrupt or truncated gzip ({e}); {fix}") from None
    return parse_idx(raw, str(path))

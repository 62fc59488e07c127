"""IDX reader: valid files, and every way a file can be broken."""
import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import DataError
from training.idx import parse_idx, read_idx


def idx_bytes(a: np.ndarray) -> bytes:
    return struct.pack(">BBBB", 0, 0, 8, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


@pytest.fixture
def images(rng):
    return rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)


def test_round_trip_plain_and_gzip(tmp_path, images):
    plain, gz = tmp_path / "x-idx3-ubyte", tmp_path / "x-idx3-ubyte.gz"
    plain.write_bytes(idx_bytes(images))
    gz.write_bytes(gzip.compress(idx_bytes(images)))
    np.testing.assert_array_equal(read_idx(plain), images)
    np.testing.assert_array_equal(read_idx(gz), images)
    labels = np.arange(7, dtype=np.uint8)
    np.testing.assert_array_equal(parse_idx(idx_bytes(labels)), labels)


def test_truncated_data_names_file_and_fix(tmp_path, images):
    p = tmp_path / "t10k-images-idx3-ubyte"
    p.write_bytes(idx_bytes(images)[:-10])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: IDX data truncated.*delete .* fetch"):
        read_idx(p)


def test_trailing_bytes(images):
    with pytest.raises(DataError, match="trailing bytes"):
        parse_idx(idx_bytes(images) + b"\0")


def test_wrong_magic(images):
    raw = b"\x01\x02" + idx_bytes(images)[2:]
    with pytest.raises(DataError, match="bad IDX magic number 0x0102"):
        parse_idx(raw, "f.idx")


def test_wrong_type_code(images):
    raw = bytearray(idx_bytes(images))
    raw[2] = 0x0D  # float
    with pytest.raises(DataError, match="type code 0x0d"):
        parse_idx(bytes(raw))


@pytest.mark.parametrize("ndim", [0, 4])
def test_wrong_number_of_dimensions(ndim):
    with pytest.raises(DataError, match=f"{ndim} dimensions"):
        parse_idx(bytes([0, 0, 8, ndim]) + b"\0" * 64)


def test_zero_dimension():
    with pytest.raises(DataError, match="contain a zero"):
        parse_idx(struct.pack(">BBBBI", 0, 0, 8, 1, 0))


def test_truncated_header():
    with pytest.raises(DataError, match="truncated IDX header"):
        parse_idx(bytes([0, 0, 8, 3, 0, 0]))


def test_corrupt_gzip(tmp_path, images):
    p = tmp_path / "train-labels-idx1-ubyte.gz"
    blob = bytearray(gzip.compress(idx_bytes(images)))
    blob[30:60] = b"\xff" * 30
    p.write_bytes(bytes(blob))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.gz: corrupt or truncated gzip"):
        read_idx(p)


def test_truncated_gzip(tmp_path, images):
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(idx_bytes(images))[:-20])
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        read_idx(p)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_idx(tmp_path / "nope.gz")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_parser_raises_only_data_error(raw):
    try:
        out = parse_idx(raw)
    except DataError:
        return
    assert out.dtype == np.uint8 and out.size == len(raw) - 4 - 4 * raw[3]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=3), st.integers(0, 40), st.data())
def test_fuzz_mutated_valid_files(shape, cut, data):
    a = np.arange(int(np.prod(shape)), dtype=np.uint8).reshape(shape)
    raw = bytearray(idx_bytes(a))
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] = data.draw(st.integers(0, 255))
    raw = bytes(raw[: max(0, len(raw) - cut)])
    try:
        out = parse_idx(raw)
    except DataError:
        return
    assert out.dtype == np.uint8


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_gzip_reader(tmp_path_factory, raw):
    p = tmp_path_factory.mktemp("fz") / "f.gz"
    p.write_bytes(b"\x1f\x8b" + raw)
    try:
        read_idx(p)
    except DataError:
        pass

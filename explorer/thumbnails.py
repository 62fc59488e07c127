"""PNG sprite sheets and single thumbnails of the dataset images.

Hover images are drawn in the browser from a sprite sheet (a grid of 28x28 tiles,
``TILES_PER_ROW`` wide, ``TILES_PER_PAGE`` tiles a page), so a hover needs no request.
Pages are encoded once, on first request, and kept in memory.
"""
from __future__ import annotations

import io
import threading

import numpy as np
from PIL import Image

TILE = 28
TILES_PER_ROW = 100
TILES_PER_PAGE = 10_000  # a 2800x2800 page; seven pages hold the full 70,000 set
MAX_SCALE = 16


def page_count(n: int) -> int:
    """Number of sprite pages for ``n`` images."""
    return max(1, -(-n // TILES_PER_PAGE))


def tile_position(row: int) -> tuple[int, int, int]:
    """``(page, x, y)`` of a row's tile: its page and top-left pixel on that page."""
    page, k = divmod(int(row), TILES_PER_PAGE)
    r, c = divmod(k, TILES_PER_ROW)
    return page, c * TILE, r * TILE


def sprite_page(images: np.ndarray, page: int) -> np.ndarray:
    """Tile one page of ``images`` (n, 28, 28) into a uint8 grayscale array.

    The last page has only as many tile rows as it needs; unused tiles are black.
    """
    start = page * TILES_PER_PAGE
    block = np.asarray(images[start:start + TILES_PER_PAGE], dtype=np.uint8)
    if block.size == 0:
        raise IndexError(f"sprite page {page} is past the last image")
    rows = -(-len(block) // TILES_PER_ROW)
    cols = TILES_PER_ROW if rows > 1 else len(block)
    grid = np.zeros((rows * cols, TILE, TILE), np.uint8)
    grid[:len(block)] = block
    # (rows, cols, 28, 28) -> (rows, 28, cols, 28): tile rows become pixel rows
    return grid.reshape(rows, cols, TILE, TILE).transpose(0, 2, 1, 3).reshape(rows * TILE, cols * TILE)


def encode_png(array: np.ndarray, scale: int = 1) -> bytes:
    """PNG bytes of a grayscale uint8 array, enlarged ``scale`` times by pixel repetition."""
    if scale > 1:
        array = np.repeat(np.repeat(array, scale, axis=0), scale, axis=1)
    buf = io.BytesIO()
    # compress_level 6 is Pillow's default balance; sprite pages are built once
    Image.fromarray(np.ascontiguousarray(array), mode="L").save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


class SpriteCache:
    """Encoded sprite pages, built once per (dataset, version, page), thread-safe.

    A lock per page means 50 clients asking for the same new page wait for one
    encode instead of starting 50.
    """

    def __init__(self) -> None:
        self._pages: dict[tuple[str, str, int], bytes] = {}
        self._locks: dict[tuple[str, str, int], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, dataset: str, version: str, images: np.ndarray, page: int) -> bytes:
        key = (dataset, version, page)
        if key in self._pages:
            return self._pages[key]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._pages:
                self._pages[key] = encode_png(sprite_page(images, page))
            return self._pages[key]


def page_size(n: int, page: int) -> tuple[int, int]:
    """``(width, height)`` in pixels of sprite page ``page`` of ``n`` images."""
    count = min(TILES_PER_PAGE, n - page * TILES_PER_PAGE)
    cols = TILES_PER_ROW if count > TILES_PER_ROW else count
    rows = -(-count // TILES_PER_ROW)
    return cols * TILE, rows * TILE


def sprite_url(dataset: str, version: str, page: int) -> str:
    return f"/sprites/{dataset}/{page}.png?v={version}"


def sprite_style(dataset: str, version: str, n: int, row: int, scale: int) -> dict:
    """CSS that shows one tile of a sprite page, enlarged ``scale`` times with crisp pixels."""
    page, x, y = tile_position(row)
    w, h = page_size(n, page)
    return {"backgroundImage": f"url({sprite_url(dataset, version, page)})",
            "backgroundPosition": f"-{x * scale}px -{y * scale}px",
            "backgroundSize": f"{w * scale}px {h * scale}px",
            "width": f"{TILE * scale}px", "height": f"{TILE * scale}px",
            "imageRendering": "pixelated"}

"""PNG sprite sheets and single thumbnails of the dataset images, grey or RGB, of any tile size.

Hover images are drawn in the browser from a sprite sheet: a grid of one dataset's tiles
(``h`` x ``w`` pixels, greyscale PNG mode ``L`` or ``RGB``), :attr:`SpriteGrid.per_row`
wide and :attr:`SpriteGrid.per_page` tiles a page, so a hover needs no request once its
page is in the browser.  A page is at most :data:`MAX_PAGE_PX` wide (at most 100 tiles a
row) and holds about :data:`PAGE_PIXELS` image pixels (whole tile rows): 28x28 images get
2800x140 pages of 500 tiles (85-205 kB of PNG for the built-in digits and clothes), so
``assets/hover.js`` fetches the page under the pointer on the first hover within a few
milliseconds, and the rest when idle after it, instead of 12-29 MB of 10,000-tile sheets
right after first paint.  (Lossless WebP was measured 4-11 % smaller than these PNGs and
6-25x slower to encode; the PNGs stay.)  Pages are encoded on first request and kept in
memory up to :data:`SPRITE_CACHE_BYTES`, single thumbnails up to :data:`THUMB_CACHE_BYTES`
(least recently used dropped first).  ``assets/hover.js`` reads the grid from each figure's
``layout.meta.sprite`` (:meth:`SpriteGrid.meta`).  :mod:`explorer.warmup` fills both caches in
the background when the server starts.
"""
from __future__ import annotations

import contextlib
import io
import logging
import struct
import threading
import time
import zlib
from dataclasses import dataclass

import cachetools
import numpy as np
from PIL import Image

log = logging.getLogger(__name__)

TILE = 28  # the built-in datasets' tile (and the default for caches that name no image shape)
MAX_TILES = 100  # tiles per row and tile rows per page at most
MAX_PAGE_PX = 4096  # a page's side at most: larger canvases strain browsers and the PNG encoder
PAGE_PIXELS = 500 * 28 * 28  # image pixels a page holds at most (whole tile rows, at least one)
TILES_PER_ROW = 100  # of the 28x28 grid, as before image shapes were recorded
TILES_PER_PAGE = 500  # a 2800x140 page of 28x28 tiles; 140 pages hold the full 70,000 set
MAX_SCALE = 16
#: CSS size (px, the longer side) each view aims its images at: the integer scale nearest to it is used
HOVER_PX, GALLERY_PX, CARD_PX = 112, 56, 84
CARD_MOST = 110  # a label-issue card's image fits its narrowest card (118 px less padding)
#: 128 MB of encoded sprite pages: 3x both built-in 70,000-image sets (12.0 + 28.8 MB), so a dataset's old and
#: new version fit while the pipeline republishes; a page dropped is encoded again in 20-80 ms
SPRITE_CACHE_BYTES = 128 << 20
#: 32 MB of single thumbnails: the hover-sized ones (scale 4) of both built-in 10,000-image sets are 14 MB
#: (0.49 kB a digit, 0.96 kB a garment), which :mod:`explorer.warmup` encodes at start into half the bound, leaving
#: the other half to the page's other scales; 1,200 of the largest (64x64 RGB noise at scale 16, 26 kB)
THUMB_CACHE_BYTES = 32 << 20


@dataclass(frozen=True)
class SpriteGrid:
    """How one dataset's images are tiled: tile height ``h``, width ``w``, ``channels`` (1 or 3),
    ``per_row`` tiles a row and ``per_page`` tiles a page."""

    h: int = TILE
    w: int = TILE
    channels: int = 1
    per_row: int = TILES_PER_ROW
    per_page: int = TILES_PER_PAGE

    @classmethod
    def of(cls, shape) -> "SpriteGrid":
        """The grid of images of ``shape`` ``(h, w)`` or ``(h, w, c)``: as many tiles a row as fit
        :data:`MAX_PAGE_PX` (at most :data:`MAX_TILES`), and as many tile rows a page as hold about
        :data:`PAGE_PIXELS` image pixels (rounded up to a whole row, within the same bounds)."""
        h, w = int(shape[0]), int(shape[1])
        c = int(shape[2]) if len(shape) > 2 else 1
        if h < 1 or w < 1 or c not in (1, 3):
            raise ValueError(f"image shape must be (h, w) or (h, w, 1 or 3) (got {tuple(shape)})")
        per_row = max(1, min(MAX_TILES, MAX_PAGE_PX // w))
        rows = max(1, min(MAX_TILES, MAX_PAGE_PX // h, -(-PAGE_PIXELS // (per_row * h * w))))
        return cls(h=h, w=w, channels=c, per_row=per_row, per_page=per_row * rows)

    @property
    def mode(self) -> str:
        """PIL mode of its PNGs: ``L`` (grey) or ``RGB``."""
        return "RGB" if self.channels == 3 else "L"

    def scale_for(self, px: int, most: int | None = None) -> int:
        """The integer enlargement that makes the tile about ``px`` on a side: its area nearest ``px``
        squared (a 20x40 tile is not shrunk to its longer side), its longer side at most ``most``
        (default 1.5 ``px``) where a scale of 1 allows; 28x28 tiles keep the scales they always had."""
        s = round(px / (self.h * self.w) ** 0.5)
        cap = (most or 1.5 * px) // max(self.h, self.w)
        return int(min(MAX_SCALE, max(1, min(s, cap))))

    def meta(self) -> dict:
        """What ``assets/hover.js`` needs to find a row's tile and size the hover image."""
        return {"h": self.h, "w": self.w, "per_row": self.per_row, "per_page": self.per_page,
                "scale": self.scale_for(HOVER_PX)}


GRID_28 = SpriteGrid()


def _grid(grid: SpriteGrid | None) -> SpriteGrid:
    return GRID_28 if grid is None else grid


def page_count(n: int, grid: SpriteGrid | None = None) -> int:
    """Number of sprite pages for ``n`` images."""
    return max(1, -(-n // _grid(grid).per_page))


def tile_position(row: int, grid: SpriteGrid | None = None) -> tuple[int, int, int]:
    """``(page, x, y)`` of a row's tile: its page and top-left pixel on that page."""
    g = _grid(grid)
    page, k = divmod(int(row), g.per_page)
    r, c = divmod(k, g.per_row)
    return page, c * g.w, r * g.h


def sprite_page(images: np.ndarray, page: int, grid: SpriteGrid | None = None) -> np.ndarray:
    """Tile one page of ``images`` (n, h, w) or (n, h, w, 3) into a uint8 array (H, W) or (H, W, 3).

    ``grid`` defaults to the one of ``images``' shape.  The last page has only as many tile
    rows as it needs; unused tiles are black.
    """
    g = grid or SpriteGrid.of(np.shape(images)[1:])
    start = page * g.per_page
    block = np.asarray(images[start:start + g.per_page], dtype=np.uint8)
    if block.size == 0:
        raise IndexError(f"sprite page {page} is past the last image")
    block = block.reshape(len(block), g.h, g.w, g.channels)
    rows = -(-len(block) // g.per_row)
    cols = g.per_row if rows > 1 else len(block)
    tiles = np.zeros((rows * cols, g.h, g.w, g.channels), np.uint8)
    tiles[:len(block)] = block
    # (rows, cols, h, w, c) -> (rows, h, cols, w, c): tile rows become pixel rows
    sheet = tiles.reshape(rows, cols, g.h, g.w, g.channels).transpose(0, 2, 1, 3, 4)
    sheet = sheet.reshape(rows * g.h, cols * g.w, g.channels)
    return sheet[:, :, 0] if g.channels == 1 else sheet


def encode_png(array: np.ndarray, scale: int = 1) -> bytes:
    """PNG bytes of a uint8 array, grey (H, W) or RGB (H, W, 3), enlarged ``scale`` times by pixel repetition."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if scale > 1:
        return _encode_enlarged(np.asarray(array, dtype=np.uint8), scale)
    buf = io.BytesIO()
    # compress_level 6 is Pillow's default balance; sprite pages are built once
    Image.fromarray(np.ascontiguousarray(array), mode="RGB" if array.ndim == 3 else "L").save(
        buf, format="PNG", compress_level=6)
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _encode_enlarged(array: np.ndarray, scale: int) -> bytes:
    """:func:`encode_png` of an image enlarged ``scale`` times, written directly: each image row once
    (filter None) and its ``scale - 1`` repeats as PNG "Up" rows, all zeros.

    A thumbnail is encoded 3x faster this way than through Pillow's adaptive filters (150 against
    450 us for a 112x112 garment); garments come out 4 % larger, digits 7 % smaller.  zlib
    compresses without holding the GIL, so request threads run meanwhile.
    """
    h, w = array.shape[:2]
    rgb = array.ndim == 3
    row = np.repeat(array, scale, axis=1).reshape(h, -1)  # one enlarged pixel row per image row
    raw = np.zeros((h, scale, 1 + row.shape[1]), np.uint8)
    raw[:, 0, 1:] = row
    raw[:, 1:, 0] = 2  # "Up": the row above again
    header = struct.pack(">IIBBBBB", w * scale, h * scale, 8, 2 if rgb else 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
            + _chunk(b"IEND", b""))


def _page_key(dataset: str, version: str, images, page: int, grid: SpriteGrid | None = None) -> tuple:
    return dataset, version, page


def _encode_page(dataset: str, version: str, images, page: int, grid: SpriteGrid | None = None) -> bytes:
    return encode_png(sprite_page(images, page, grid))


def _thumb_key(dataset: str, version: str, images, row: int, scale: int) -> tuple:
    return dataset, version, row, scale  # a dataset imported again under its name has a new version


def _encode_thumb(dataset: str, version: str, images, row: int, scale: int) -> bytes:
    return encode_png(np.asarray(images[row]), scale)


class SpriteCache:
    """Encoded sprite pages by (dataset, version, page), thread-safe, at most ``max_bytes`` in all.

    50 clients asking for the same new page wait for one encode instead of starting 50
    (cachetools' ``condition``).  :meth:`warm` encodes a dataset's pages in a background
    thread, so the page a first hover asks for is usually ready (the server does the same
    work the browser's eager fetch of every sheet used to cause).
    """

    def __init__(self, max_bytes: int | None = None) -> None:  # default SPRITE_CACHE_BYTES
        self._pages = cachetools.LRUCache(max_bytes or SPRITE_CACHE_BYTES, getsizeof=len)
        self._encode = cachetools.cached(self._pages, key=_page_key, condition=threading.Condition())(_encode_page)
        self._guard = threading.Lock()
        self._warming: set[tuple[str, str]] = set()

    def warm(self, dataset: str, version: str, images, n: int, grid: SpriteGrid | None = None,
             first: int = 0) -> threading.Thread | None:
        """Encode every page of ``n`` images not yet cached, from page ``first`` on, in a daemon thread;
        it stops at half the cache's bound (a set larger than that is encoded page by page on request).

        ``images`` is the array or a callable returning it (read in the thread: a damaged file is
        logged there and met again by the request that needs it).  Returns the thread, or ``None``
        when this dataset version is already being warmed.
        """
        with self._guard:
            if (dataset, version) in self._warming:
                return None
            self._warming.add((dataset, version))
        pages = page_count(n, grid)

        def run() -> None:
            try:
                arr = images() if callable(images) else images
                made = 0
                for k in range(pages):
                    made += len(self.get(dataset, version, arr, (first + k) % pages, grid))
                    if made > self._pages.maxsize // 2:  # more would push out other datasets' pages: on request
                        break
                    time.sleep(0.001)  # let a request's thread in between pages
            except Exception:  # noqa: BLE001 - a background warm-up: the request path reports it
                log.warning("sprite pages of %s not prepared in the background", dataset, exc_info=True)

        thread = threading.Thread(target=run, name=f"sprites-{dataset}", daemon=True)
        thread.start()
        return thread

    def get(self, dataset: str, version: str, images: np.ndarray, page: int,
            grid: SpriteGrid | None = None) -> bytes:
        """PNG bytes of sprite page ``page`` of ``images``, encoded on first request."""
        return self._encode(dataset, version, images, page, grid)

    @property
    def bytes_held(self) -> int:
        """Bytes of encoded pages held now (at most the ``max_bytes`` it was made with)."""
        return self._pages.currsize


class ThumbCache:
    """Encoded single thumbnails by (dataset, version, row, scale), thread-safe, at most ``max_bytes`` in all."""

    def __init__(self, max_bytes: int | None = None) -> None:  # default THUMB_CACHE_BYTES
        self._thumbs = cachetools.LRUCache(max_bytes or THUMB_CACHE_BYTES, getsizeof=len)
        self._lock = threading.Lock()
        self.get = cachetools.cached(self._thumbs, key=_thumb_key, lock=self._lock)(_encode_thumb)

    def prepare(self, dataset: str, version: str, images, row: int, scale: int) -> int:
        """Encode one thumbnail unless it is held; the bytes it added (0 if it was there: its place
        in the least-recently-used order is left as requests made it)."""
        with self._lock:
            if _thumb_key(dataset, version, images, row, scale) in self._thumbs:
                return 0
        return len(self.get(dataset, version, images, row, scale))

    def put(self, dataset: str, version: str, row: int, scale: int, data: bytes) -> int:
        """File a thumbnail encoded elsewhere (:mod:`explorer.thumbworker`) unless one is held, as
        :meth:`prepare` does; the bytes it added."""
        key = _thumb_key(dataset, version, None, row, scale)
        with self._lock:
            if key in self._thumbs:
                return 0
            with contextlib.suppress(ValueError):  # larger than the whole bound: not kept
                self._thumbs[key] = data
                return len(data)
        return 0

    @property
    def max_bytes(self) -> int:
        """The bound it was made with."""
        return int(self._thumbs.maxsize)

    @property
    def bytes_held(self) -> int:
        """Bytes of encoded thumbnails held now (at most the ``max_bytes`` it was made with)."""
        return self._thumbs.currsize


def page_size(n: int, page: int, grid: SpriteGrid | None = None) -> tuple[int, int]:
    """``(width, height)`` in pixels of sprite page ``page`` of ``n`` images."""
    g = _grid(grid)
    count = min(g.per_page, n - page * g.per_page)
    cols = g.per_row if count > g.per_row else count
    rows = -(-count // g.per_row)
    return cols * g.w, rows * g.h


def sprite_url(dataset: str, version: str, page: int) -> str:
    return f"/sprites/{dataset}/{page}.png?v={version}"


def sprite_style(dataset: str, version: str, n: int, row: int, scale: int, grid: SpriteGrid | None = None) -> dict:
    """CSS that shows one tile of a sprite page, enlarged ``scale`` times with crisp pixels."""
    g = _grid(grid)
    page, x, y = tile_position(row, g)
    w, h = page_size(n, page, g)
    return {"backgroundImage": f"url({sprite_url(dataset, version, page)})",
            "backgroundPosition": f"-{x * scale}px -{y * scale}px",
            "backgroundSize": f"{w * scale}px {h * scale}px",
            "width": f"{g.w * scale}px", "height": f"{g.h * scale}px",
            "imageRendering": "pixelated"}

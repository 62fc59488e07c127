"""The selection as files to keep or send: a contact sheet PNG of its images, and a zip of one PNG
per image with a CSV of their ids, classes and probabilities.

Pure functions of a :class:`~explorer.store.ModelView` and the selection's rows (as
:func:`explorer.selection.focus_rows` gives them); the Explore tab's buttons send their bytes
through ``dcc.Download``.  Images are taken from the dataset's arrays as they are (any h x w,
grey or RGB), enlarged by whole pixels only, so a sheet's tile is the image itself.  The
current scatter as one HTML file is :mod:`explorer.export_html`'s.
"""
from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from .charts import WRONG_COLOUR
from .panels import pct, selection_csv
from .store import ModelView
from .thumbnails import CARD_PX, SpriteGrid, encode_png

log = logging.getLogger(__name__)

CONTACT_MAX = 300  # tiles on one sheet at most (the gallery's cap): more make a poster nobody reads
ZIP_MAX = 10_000  # images in one zip at most (about 3 s and 3 MB of 28x28 PNGs); the CSV lists every row
SHEET_COLS = 12  # tiles a row
SHEET_PX = CARD_PX  # a tile's longer side, about (the whole-pixel scale nearest to it)
BORDER = 3  # the frame around each tile: red where the model is wrong
GAP, MARGIN = 6, 12  # between cells; around the sheet
CAPTION_PX, TITLE_PX = 11, 15  # font sizes
CAPTION_LINES, LINE_H, TITLE_LINES, TITLE_LINE_H = 2, 13, 2, 20
MIN_CELL_W, MIN_SHEET_W = 92, 720  # room for a caption; for the title
CORRECT_FRAME = "#d4d4d0"


def gallery_order(m: ModelView, rows) -> np.ndarray:
    """``rows`` with the ones ``m`` gets wrong first, each part in its order: as the gallery shows them."""
    rows = np.asarray(rows, dtype=np.int64)
    return rows[np.argsort(m.ds.labels[rows] == m.pred[rows], kind="stable")]


def _font(size: int):
    """Pillow's own font at ``size`` (FreeType); its small bitmap font where Pillow lacks FreeType."""
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError, ValueError):
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """``text``, cut with an ellipsis where it is wider than ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _shortened(line, name: str, fits) -> str | None:
    """``line(name)`` with ``name`` cut shorter (``"T-shirt/top"`` -> ``"T-sh…"``) until ``fits`` it; ``None``
    where even one letter of it does not fit."""
    for keep in range(len(name), 0, -1):
        text = line(name if keep == len(name) else name[:keep].rstrip() + "…")
        if fits(text):
            return text
    return None


def tile_caption(m: ModelView, row: int, fits) -> tuple[str, str]:
    """A tile's two caption lines: ``#<sample id> <true class>`` and ``pred <class> <confidence>``.

    ``fits(text)`` says whether a line fits the tile.  Where one does not, its class name is shortened
    (``pred T-sh… 87%``), never the sample id or the confidence the sheet's title promises; the
    ``pred`` goes before the name is cut to its first letter.
    """
    ds = m.ds
    sid, conf = f"#{int(ds.sample_ids[row])}", pct(m.confidence[row])
    true, pred = ds.class_names[int(ds.labels[row])], ds.class_names[int(m.pred[row])]
    first = _shortened(lambda name: f"{sid} {name}", true, fits) or sid
    second = (_shortened(lambda name: f"pred {name} {conf}", pred, fits)
              or _shortened(lambda name: f"{name} {conf}", pred, fits) or conf)
    return first, second


@dataclass(frozen=True)
class SheetLayout:
    """Where a contact sheet puts its tiles: ``count`` images of ``grid``'s size enlarged ``scale``
    times, :data:`SHEET_COLS` a row under a title; :meth:`box` is an image's top-left pixel."""

    grid: SpriteGrid
    count: int
    scale: int

    @property
    def tile(self) -> tuple[int, int]:
        """``(width, height)`` of one enlarged image."""
        return self.grid.w * self.scale, self.grid.h * self.scale

    @property
    def cols(self) -> int:
        return max(1, min(SHEET_COLS, self.count))

    @property
    def cell(self) -> tuple[int, int]:
        """``(width, height)`` of one tile with its frame and caption."""
        w, h = self.tile
        return max(MIN_CELL_W, w + 2 * BORDER), h + 2 * BORDER + CAPTION_LINES * LINE_H + 2

    @property
    def top(self) -> int:
        return MARGIN + TITLE_LINES * TITLE_LINE_H + 4

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of the whole sheet."""
        cw, ch = self.cell
        rows = -(-self.count // self.cols)
        width = max(MIN_SHEET_W, 2 * MARGIN + self.cols * cw + (self.cols - 1) * GAP)
        return width, self.top + rows * ch + max(0, rows - 1) * GAP + MARGIN

    def box(self, i: int) -> tuple[int, int]:
        """Top-left pixel of the ``i``-th image (inside its frame)."""
        r, c = divmod(int(i), self.cols)
        cw, ch = self.cell
        x = MARGIN + c * (cw + GAP) + (cw - self.tile[0]) // 2
        return x, self.top + r * (ch + GAP) + BORDER


def sheet_layout(grid: SpriteGrid, count: int) -> SheetLayout:
    """The layout of a sheet of ``count`` images of ``grid``'s size (:class:`SheetLayout`)."""
    return SheetLayout(grid=grid, count=int(count), scale=grid.scale_for(SHEET_PX))


def _rgb(image: np.ndarray, scale: int) -> np.ndarray:
    """One image (h, w) or (h, w, 3) as uint8 RGB, enlarged ``scale`` times by pixel repetition."""
    a = np.asarray(image, dtype=np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    return np.repeat(np.repeat(a, scale, axis=0), scale, axis=1)


def sheet_title(m: ModelView, label: str, total: int, shown: int) -> tuple[str, str]:
    """The sheet's two title lines: what it is of, and how many images, how they are ordered and marked."""
    ds = m.ds
    what = f"{ds.title} · {m.title} · {label or 'selection'}"
    count = (f"{total:,} images" if shown == total else
             f"the first {shown:,} of {total:,} images (a sheet holds at most {CONTACT_MAX:,})")
    return what, (f"{count}, misclassified first · red frame: misclassified by {m.the_title} "
                  "(caption: sample id, true class; predicted class, confidence)")


def contact_sheet(m: ModelView, rows, label: str = "") -> bytes:
    """A contact sheet of the selection's images as PNG bytes.

    Parameters
    ----------
    m : ModelView
        The model whose predictions caption and frame the tiles.
    rows : array of int
        The selection's rows of ``m.ds``; shown misclassified first (:func:`gallery_order`),
        at most :data:`CONTACT_MAX` of them, which the title then says.
    label : str
        What the selection is, in words (:func:`explorer.selection.focus_rows`' second value).

    Returns
    -------
    bytes
        An RGB PNG: a title of two lines, then :data:`SHEET_COLS` tiles a row, each the image
        enlarged by a whole-pixel scale (:func:`sheet_layout` says where), framed red where the
        model is wrong, captioned with its sample id, true and predicted class and confidence
        (:func:`tile_caption`).  Its text chunks ``Title``, ``Rows`` and ``Sample ids`` name the
        tiles in order.

    Raises
    ------
    ValueError
        If ``rows`` is empty.
    """
    ds = m.ds
    order = gallery_order(m, np.unique(np.asarray(rows, dtype=np.int64)))
    if not len(order):
        raise ValueError("rows must name at least one image for a contact sheet (got none); select some points")
    shown = order[:CONTACT_MAX]
    lay = sheet_layout(ds.grid, len(shown))
    sheet = Image.new("RGB", lay.size, "white")
    draw = ImageDraw.Draw(sheet)
    title_font, font = _font(TITLE_PX), _font(CAPTION_PX)
    lines = sheet_title(m, label, len(order), len(shown))
    for k, line in enumerate(lines):
        draw.text((MARGIN, MARGIN + k * TITLE_LINE_H), _fit(draw, line, title_font, lay.size[0] - 2 * MARGIN),
                  fill="#111" if k == 0 else "#555", font=title_font)
    images, tw, th = ds.images, *lay.tile
    cw = lay.cell[0]

    def fits(text: str) -> bool:
        return draw.textlength(text, font=font) <= cw
    for i, r in enumerate(int(r) for r in shown):
        x, y = lay.box(i)
        t, p = int(ds.labels[r]), int(m.pred[r])
        draw.rectangle([x - BORDER, y - BORDER, x + tw + BORDER - 1, y + th + BORDER - 1],
                       fill=WRONG_COLOUR if t != p else CORRECT_FRAME)
        sheet.paste(Image.fromarray(_rgb(images[r], lay.scale), "RGB"), (x, y))
        left = x + tw // 2 - cw // 2
        under = y + th + BORDER + 1
        first, second = tile_caption(m, r, fits)
        draw.text((left, under), first, fill="#222", font=font)
        draw.text((left, under + LINE_H), second, fill=WRONG_COLOUR if t != p else "#666", font=font)
    info = PngInfo()
    info.add_text("Title", " — ".join(lines))
    info.add_text("Rows", ",".join(str(int(r)) for r in shown))
    info.add_text("Sample ids", ",".join(str(int(ds.sample_ids[r])) for r in shown))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG", pnginfo=info, compress_level=6)
    return buf.getvalue()


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """``text`` as a piece of a file name: runs of anything but letters, digits, ``.``, ``_``, ``-`` become ``-``."""
    return _UNSAFE.sub("-", str(text)).strip("-.") or "x"


def image_name(m: ModelView, row: int) -> str:
    """A selected image's file name in the zip: ``images/<sample id>_true-<class>_pred-<class>.png``."""
    ds = m.ds
    t, p = int(ds.labels[row]), int(m.pred[row])
    return (f"images/{int(ds.sample_ids[row])}_true-{safe_name(ds.class_names[t])}"
            f"_pred-{safe_name(ds.class_names[p])}.png")


def selection_zip(m: ModelView, rows, proj: str, label: str = "") -> bytes:
    """A zip of the selection: one PNG per image and ``selection.csv``.

    Parameters
    ----------
    m : ModelView
        The model whose predictions and probabilities the names and the CSV give.
    rows : array of int
        The selection's rows of ``m.ds``.  At most :data:`ZIP_MAX` images go in, misclassified
        first (:func:`gallery_order`); ``README.txt`` says so where there are more.
    proj : str
        The projection whose coordinates the CSV gives.
    label : str
        What the selection is, in words, for ``README.txt``.

    Returns
    -------
    bytes
        The zip: ``images/<sample id>_true-<class>_pred-<class>.png`` at the images' own size (grey
        or RGB, as in the dataset), ``selection.csv`` (:func:`explorer.panels.selection_csv` of every
        row, sorted, with a ``file`` column naming its image, empty for an image left out), and
        ``README.txt``.

    Raises
    ------
    ValueError
        If ``rows`` is empty.
    """
    ds = m.ds
    rows = np.unique(np.asarray(rows, dtype=np.int64))
    if not len(rows):
        raise ValueError("rows must name at least one image for a zip (got none); select some points")
    packed = gallery_order(m, rows)[:ZIP_MAX]
    files: dict[int, str] = {}
    used: set[str] = set()
    for r in (int(r) for r in packed):
        name = image_name(m, r)
        if name in used:  # two rows with one sample id (a set with duplicates): the row keeps them apart
            name = name.replace("images/", f"images/row{r}_", 1)
        used.add(name)
        files[r] = name
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        images = ds.images
        for r, name in files.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), encode_png(np.asarray(images[r])),
                       compress_type=zipfile.ZIP_STORED)  # PNG is compressed already
        z.writestr("selection.csv", selection_csv(m, rows, proj, files=[files.get(int(r), "") for r in rows]))
        left = len(rows) - len(files)
        z.writestr("README.txt", "\n".join([
            f"{ds.title} · {m.title} · {label or 'selection'}: {len(rows):,} images.",
            f"images/: {len(files):,} PNGs at their own size, named <sample id>_true-<class>_pred-<class>.png"
            + (f"; the first {len(files):,} misclassified first, {left:,} left out (a zip holds at most "
               f"{ZIP_MAX:,}; their rows are in the CSV with an empty file column)." if left else "."),
            "selection.csv: one row per selected image: row, sample index, true and predicted class, "
            f"{m.title}'s confidence, {proj} coordinates, its probability of each class, and its image's file.",
            ""]))
    log.info("zip of %d images (%d rows) for %s/%s: %.1f MB", len(files), len(rows), ds.name, m.name,
             buf.tell() / 1e6)
    return buf.getvalue()


def export_name(m: ModelView, proj: str, what: str, ext: str) -> str:
    """``<dataset>-<model>-<projection>-<what>.<ext>``: a download's file name."""
    return f"{safe_name(m.ds.name)}-{safe_name(m.name)}-{safe_name(proj)}-{what}.{ext}"

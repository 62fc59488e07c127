"""The image map (issue 24): a model's 2-D layout snapped to a grid, each cell the image of the point
put there (:func:`explorer.grid.snap`), as one PNG at the images' own pixel size, a zoomable
figure over it, and a self-contained HTML file.

A map is made for a dataset, model, projection and set of rows (the Image map tab's subset), at most
:data:`MAP_MAX` images (a seeded sample of a larger set, said beside the map), and kept in a small
LRU by a key of what made it; ``/imagemap/<key>.png`` serves its PNG to the figure.
"""
from __future__ import annotations

import base64
import hashlib
import html
import threading
import time
from dataclasses import dataclass

import cachetools
import numpy as np

from .grid import Grid, kept_neighbours, snap

from .charts import WRONG_COLOUR
from .export_html import CONFIG as HTML_CONFIG
from .export_html import _script_json, plotly_source
from .export_html import kept_rows as export_kept
from .panels import pct
from .store import ModelView, method_title
from .thumbnails import encode_png

MAP_MAX = 10_000  # images in one map at most: 10,000 28x28 images make a 2,800 px square
SEED = 0
EMPTY = 48  # the grey of the empty cells at the end of the bottom row (a black cell reads as an image)
MAPS_KEPT = 6  # maps kept for the route and the downloads (10,000 28x28 grey images: about 2 MB each)

_maps: cachetools.LRUCache = cachetools.LRUCache(MAPS_KEPT)
_lock = threading.Lock()


@dataclass(frozen=True)
class ImageMap:
    """One map: ``rows[i]`` (a dataset row) sits in ``grid.cell[i]``; ``png`` is the whole map."""

    key: str
    dataset: str
    model: str
    projection: str
    label: str  # the subset, in words ("all 10,000 images", "class 7")
    rows: np.ndarray
    grid: Grid
    tile: tuple[int, int]  # an image's height and width in pixels
    kept: float  # :func:`explorer.grid.kept_neighbours` of the layout
    seconds: float  # the assignment's time
    of: int  # the rows asked for (more than ``len(rows)`` where a sample was drawn)
    png: bytes

    @property
    def size(self) -> tuple[int, int]:
        """The PNG's width and height in pixels."""
        return self.grid.cols * self.tile[1], self.grid.rows * self.tile[0]

    def words(self) -> str:
        """What the map shows and how well it keeps the layout's neighbourhoods, in a sentence."""
        w, h = self.size
        sample = f" (a random {len(self.rows):,} of {self.of:,})" if self.of > len(self.rows) else ""
        return (f"{len(self.rows):,} images{sample} in a {self.grid.rows} × {self.grid.cols} grid "
                f"({w:,} × {h:,} px) · the grid keeps {self.kept:.0%} of each image's 10 nearest in the "
                f"layout among its nearest cells · assigned in {self.seconds:.1f} s")


def compose(images: np.ndarray, rows: np.ndarray, grid: Grid) -> np.ndarray:
    """The map as one uint8 array: ``images[rows[i]]`` in cell ``grid.cell[i]``, empty cells grey."""
    h, w = images.shape[1:3]
    channels = images.shape[3:]
    canvas = np.full((grid.rows * h, grid.cols * w, *channels), EMPTY, np.uint8)
    cells = canvas.reshape(grid.rows, h, grid.cols, w, *channels).swapaxes(1, 2)  # a view: (rows, cols, h, w)
    r, c = grid.row_col
    order = np.argsort(rows, kind="stable")  # memory-mapped images read in order
    cells[r[order], c[order]] = images[rows[order]]
    return canvas


def map_key(m: ModelView, projection: str, rows: np.ndarray) -> str:
    """The key of the map of ``rows`` in ``m``'s ``projection``: it changes with the data and the rows."""
    h = hashlib.sha1(f"{m.ds.name}/{m.ds.version}/{m.name}/{m.version}/{projection}/".encode())
    h.update(np.ascontiguousarray(rows, dtype=np.int64).tobytes())
    return h.hexdigest()[:24]


def kept_rows(rows: np.ndarray, most: int = MAP_MAX, seed: int = SEED) -> np.ndarray:
    """``rows`` sorted, or a seeded random ``most`` of them (as the HTML export keeps its points)."""
    rows = np.unique(np.asarray(rows, dtype=np.int64))
    return rows[export_kept(len(rows), None, most, seed)]


def image_map(m: ModelView, projection: str, rows, label: str) -> ImageMap:
    """The map of ``rows`` of ``m``'s ``projection`` layout (made, or the one kept).

    Raises
    ------
    ValueError
        If ``rows`` is empty.
    KeyError
        If the model has no such projection.
    """
    asked = np.unique(np.asarray(rows, dtype=np.int64))
    if not len(asked):
        raise ValueError("an image map needs at least one image")
    keep = kept_rows(asked)
    key = map_key(m, projection, keep)
    with _lock:
        found = _maps.get(key)
    if found is not None:
        return found
    xy = m.coords(projection)[keep]
    t0 = time.perf_counter()
    grid = snap(xy)
    seconds = time.perf_counter() - t0
    images = m.ds.images
    png = encode_png(compose(images, keep, grid))
    made = ImageMap(key=key, dataset=m.ds.name, model=m.name, projection=projection, label=label, rows=keep,
                    grid=grid, tile=(int(images.shape[1]), int(images.shape[2])), kept=kept_neighbours(xy, grid),
                    seconds=seconds, of=len(asked), png=png)
    with _lock:
        _maps[key] = made
    return made


def kept_map(key: str) -> ImageMap | None:
    """The map made under ``key``, if it is still kept."""
    with _lock:
        return _maps.get(key)


def _frames(imap: ImageMap, which: np.ndarray) -> tuple[list, list]:
    """x and y of a rectangle around each of the cells of points ``which`` (one line, gaps between)."""
    h, w = imap.tile
    r, c = imap.grid.row_col
    x0, y0 = c[which] * w + 0.5, r[which] * h + 0.5
    x1, y1 = x0 + w - 1, y0 + h - 1
    nan = np.full(len(which), None)
    xs = np.stack([x0, x1, x1, x0, x0, nan], 1).ravel().tolist()
    ys = np.stack([y0, y0, y1, y1, y0, nan], 1).ravel().tolist()
    return xs, ys


def map_figure(m: ModelView, imap: ImageMap, source: str) -> dict:
    """The zoomable figure of ``imap``: its PNG (from ``source``, a URL or a ``data:`` URI) in data
    pixels, a hover label on each cell (its row in ``customdata``), the model's mistakes framed red."""
    ds = m.ds
    h, w = imap.tile
    width, height = imap.size
    r, c = imap.grid.row_col
    rows = imap.rows
    names = ds.class_names
    true, pred, conf, ids_ = ds.labels[rows], m.pred[rows], m.confidence[rows], ds.sample_ids[rows]
    text = [f"#{int(i)} · {names[int(t)]}" + ("" if t == p else f" · pred {names[int(p)]}") + f" · {pct(q)}"
            for i, t, p, q in zip(ids_, true, pred, conf)]
    wrong = np.flatnonzero(true != pred)
    fx, fy = _frames(imap, wrong)
    return {
        "data": [
            {"type": "scattergl", "mode": "markers", "x": (c * w + w / 2).tolist(), "y": (r * h + h / 2).tolist(),
             "customdata": rows.tolist(), "text": text, "hovertemplate": "%{text}<extra></extra>",
             "marker": {"size": 6, "color": "rgba(0,0,0,0)"}, "name": "images", "showlegend": False},
            {"type": "scatter", "mode": "lines", "x": fx, "y": fy, "hoverinfo": "skip", "name": "mistakes",
             "line": {"color": WRONG_COLOUR, "width": 1.5}, "showlegend": False},
        ],
        "layout": {
            "images": [{"source": source, "xref": "x", "yref": "y", "x": 0, "y": 0, "sizex": width, "sizey": height,
                        "xanchor": "left", "yanchor": "top", "sizing": "stretch", "layer": "below"}],
            "xaxis": {"range": [0, width], "visible": False, "constrain": "domain"},
            "yaxis": {"range": [height, 0], "visible": False, "scaleanchor": "x", "constrain": "domain"},
            # the top margin is the toolbar's; what the map shows is said above it (map_title)
            "margin": {"l": 4, "r": 4, "t": 30, "b": 4}, "dragmode": "pan", "hovermode": "closest",
            "plot_bgcolor": "white", "paper_bgcolor": "white", "uirevision": imap.key,
            "meta": {"dataset": ds.name, "model": m.name, "key": imap.key, "rows": imap.grid.rows,
                     "cols": imap.grid.cols, "tile": [h, w]},
        },
    }


def map_title(m: ModelView, imap: ImageMap) -> str:
    """What the map shows: ``<dataset> · CNN · t-SNE · class 7``."""
    return f"{m.ds.title} · {m.title} · {method_title(m.ds, imap.projection)} · {imap.label}"


def map_html(m: ModelView, imap: ImageMap) -> str:
    """The map as one HTML file that opens with no server: plotly.js, the figure and the PNG inline."""
    uri = "data:image/png;base64," + base64.b64encode(imap.png).decode("ascii")
    fig = map_figure(m, imap, uri)
    title = html.escape(map_title(m, imap))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{ margin: 0; font: 14px system-ui, sans-serif; }} #map {{ height: 92vh; }}
p {{ margin: 6px 10px; color: #444; }} #map image {{ image-rendering: pixelated; }}</style>
<script>{plotly_source()}</script></head>
<body><p><b>{title}</b>: {html.escape(imap.words())}. Scroll to zoom, drag to pan; red frames: the model's mistakes.</p>
<div id="map"></div>
<script>const spec = {_script_json({**fig, "config": {**HTML_CONFIG, "scrollZoom": True}})};
Plotly.newPlot("map", spec.data, spec.layout, spec.config);</script>
</body></html>
"""

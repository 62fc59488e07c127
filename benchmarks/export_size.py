"""``python -m benchmarks.export_size``: how large and slow the Explore exports are at 70,000 MNIST images.

The self-contained HTML view (``explorer/export_html.py``) is assembled from the same pieces
``view_html`` puts in it (our plotly.js, the figure's typed arrays of one trace per class, the
per-point JSON, the sprite pages of the points kept), with all 70,000 real images and with
the default cap of ``HTML_MAX`` points; the zip (``explorer/export.py``) encodes ``ZIP_MAX``
real images as its PNGs.  Needs ``cache/data/mnist.npz`` (``python -m pipeline fetch``).
Prints a markdown table; nothing is written.
"""
from __future__ import annotations

import argparse
import io
import time
import zipfile
from pathlib import Path

import numpy as np

from explorer import figures as F
from explorer.export import ZIP_MAX
from explorer.export_html import CONFIG, HTML_MAX, PAGE, SCRIPT, _script_json, _sprites, kept_rows, plotly_source
from explorer.thumbnails import SpriteGrid, encode_png

ROOT = Path(__file__).resolve().parent.parent


def html_size(images: np.ndarray, labels: np.ndarray, cap: int | None) -> tuple[int, int, float, int]:
    """``(points kept, bytes of the document, seconds to build it, bytes of its sprites)``."""
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    n = len(images)
    keep = kept_rows(n, None, cap)
    xy = rng.normal(size=(n, 2)).astype(np.float32)
    traces = []
    for c in range(10):
        rows = keep[labels[keep] == c].astype(np.int32)
        traces.append({"type": "scattergl", "mode": "markers", "x": F.typed(xy[rows, 0]), "y": F.typed(xy[rows, 1]),
                       "customdata": F.typed(rows), "marker": {"size": 2.5, "color": F.PALETTE[c]}})
    pages = _sprites(images, keep, SpriteGrid.of(images.shape[1:]))
    data = {"rows": keep.tolist(), "labels": labels[keep].tolist(), "pred": labels[keep].tolist(),
            "conf": np.round(rng.uniform(0.5, 1, len(keep)), 5).tolist(), "ids": keep.tolist(),
            "names": [str(i) for i in range(10)], "grid": SpriteGrid.of(images.shape[1:]).meta(), "pages": pages}
    doc = PAGE.format(title="t", head="h", note="n", plotly=plotly_source(),
                      figure=_script_json({"data": traces, "layout": {}, "config": CONFIG}),
                      data=_script_json(data), script=SCRIPT)
    return len(keep), len(doc.encode()), time.perf_counter() - t0, sum(len(p) for p in pages)


def zip_size(images: np.ndarray, count: int) -> tuple[int, float]:
    """``(bytes, seconds)`` of a zip of ``count`` images as PNGs, stored as the selection zip stores them."""
    t0 = time.perf_counter()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for r in range(count):
            z.writestr(f"images/{r}.png", encode_png(np.asarray(images[r])))
    return buf.tell(), time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.export_size", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=ROOT / "cache" / "data" / "mnist.npz")
    args = p.parse_args(argv)
    if not args.data.is_file():
        p.error(f"--data {args.data} is missing; run `python -m pipeline fetch` first")
    with np.load(args.data, allow_pickle=False) as a:
        images = np.concatenate([a["x_test"], a["x_train"]])
        labels = np.concatenate([a["y_test"], a["y_train"]])
    print("| export | points | size | built in | note |\n|---|---|---|---|---|")
    for cap in (None, HTML_MAX):
        k, size, secs, sprites = html_size(images, labels, cap)
        what = "all points" if cap is None else f"default cap {HTML_MAX:,}"
        print(f"| HTML view, {what} | {k:,} | {size / 1e6:.1f} MB | {secs:.1f} s | "
              f"sprites {sprites / 1e6:.1f} MB of it |")
    size, secs = zip_size(images, ZIP_MAX)
    print(f"| zip of PNGs (cap) | {ZIP_MAX:,} | {size / 1e6:.1f} MB | {secs:.1f} s | 28x28 grey |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

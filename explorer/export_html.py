"""The Explore scatter as one self-contained HTML file: the points as the page draws them (dataset,
model, projection, colouring, the selection's highlight, the zoom), plotly.js and the images inline,
so that it opens from ``file://`` with no server and fetches nothing from anywhere.

The figure is :func:`explorer.figures.scatter_figure`'s, so its colours are the page's; hover
images come from sprite pages (:func:`explorer.thumbnails.sprite_page`) of the points kept, as
``data:`` URIs, drawn by a small inline script like ``assets/hover.js``.  Above
:data:`HTML_MAX` points a seeded random sample is kept (the highlighted points first) unless
all are asked for, and the file says so.
"""
from __future__ import annotations

import base64
import html
import json
import logging
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import figures as F
from .encoding import decode, ranges_to_plot, trace_rows, typed, view_grid
from .selection import zoom_of
from .store import ModelView, method_title
from .thumbnails import SpriteGrid, encode_png, page_count, sprite_page
from .urlvalues import COLOUR_LABELS

log = logging.getLogger(__name__)

HTML_MAX = 20_000  # points kept by default: 70,000 28x28 grey images make a 20 MB file, 20,000 about 7 MB
SEED = 0  # the sample is the same for the same view
PLOTLY_JS = Path(__file__).resolve().parent / "assets" / "plotly-explorer.min.js"
CONFIG = {"scrollZoom": True, "displaylogo": False, "responsive": True, "doubleClick": "reset",
          "showSendToCloud": False, "showEditInChartStudio": False, "showLink": False, "plotlyServerURL": "",
          "modeBarButtonsToRemove": ["autoScale2d", "sendDataToCloud", "select2d", "lasso2d"],
          "toImageButtonOptions": {"format": "png", "filename": "embedding-explorer", "scale": 2}}


def plotly_source() -> str:
    """The explorer's plotly.js (core + scatter, scattergl, heatmap, bar); the plotly package's
    full bundle where this checkout lacks it (``scripts/plotly/build.sh`` makes it)."""
    if PLOTLY_JS.is_file():
        return PLOTLY_JS.read_text(encoding="utf-8")
    from plotly.offline import get_plotlyjs  # 4.8 MB, the same plotly.js with every trace type

    log.warning("%s is missing: the exported file inlines the full plotly.js", PLOTLY_JS)
    return get_plotlyjs()


def kept_rows(n: int, highlight: np.ndarray | None, cap: int | None, seed: int = SEED) -> np.ndarray:
    """The rows an export keeps, sorted: all ``n`` where ``cap`` is ``None`` or not below ``n``; else
    ``cap`` of them, the highlighted ones first (a seeded sample of those if they are more), the rest
    a seeded random sample of the others.

    Raises
    ------
    ValueError
        If ``cap`` is not a positive integer.
    """
    if cap is not None and (not isinstance(cap, (int, np.integer)) or isinstance(cap, bool) or cap < 1):
        raise ValueError(f"cap must be a positive number of points or None for all (got {cap!r})")
    if cap is None or cap >= n:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    hi = np.unique(np.asarray(highlight if highlight is not None else [], dtype=np.int64))
    if len(hi) >= cap:
        return np.sort(rng.choice(hi, size=cap, replace=False))
    others = np.setdiff1d(np.arange(n, dtype=np.int64), hi)
    return np.sort(np.concatenate([hi, rng.choice(others, size=cap - len(hi), replace=False)]))


def subset_figure(fig: dict, keep: np.ndarray) -> dict:
    """``fig`` (:func:`explorer.figures.scatter_figure`) with only the points whose row is in ``keep``.

    Every trace then carries its rows in ``customdata`` and ``layout.meta.groups`` goes (it tells
    the rows of whole groups, not of a subset).
    """
    meta = dict(fig["layout"].get("meta") or {})
    group_of = decode(meta.pop("groups")) if "groups" in meta else None
    out = {"data": [], "layout": {**fig["layout"], "meta": meta}}
    for k, tr in enumerate(fig["data"]):
        rows = (decode(tr["customdata"]) if "customdata" in tr else trace_rows(group_of, k)).astype(np.int64)
        mask = np.isin(rows, keep)
        t = {**tr, "customdata": typed(rows[mask].astype(np.int32))}
        for axis in ("x", "y"):
            t[axis] = typed(np.ascontiguousarray(decode(tr[axis])[mask]))
        colour = tr.get("marker", {}).get("color")
        if isinstance(colour, (dict, list)):  # a value per point: a colour scale, the overlay's colours
            values = decode(colour)[mask]
            t["marker"] = {**tr["marker"], "color": (typed(values.astype(np.float32)) if isinstance(colour, dict)
                                                     else values.tolist())}
        out["data"].append(t)
    return out


def _script_json(value) -> str:
    """JSON safe inside a ``<script>`` element: no ``</script>`` or ``<!--`` can end or bend it."""
    return json.dumps(value, separators=(",", ":"), default=lambda o: o.item()).replace("<", "\\u003c")


def _sprites(images: np.ndarray, keep: np.ndarray, grid: SpriteGrid) -> list[str]:
    """The kept rows' images tiled in ``keep``'s order on pages of ``grid``, as PNG ``data:`` URIs."""
    block = np.asarray(images[keep])
    return ["data:image/png;base64," + base64.b64encode(encode_png(sprite_page(block, p, grid))).decode("ascii")
            for p in range(page_count(len(keep), grid))]


def view_html(m: ModelView, proj: str, colour: str, highlight: np.ndarray | None = None, label: str = "",
              zoom: dict | None = None, cap: int | None = HTML_MAX) -> str:
    """The scatter of ``m`` in ``proj`` coloured by ``colour`` as one HTML file that needs no server.

    Parameters
    ----------
    m : ModelView
        The model on screen (``m.ds`` its dataset).
    proj, colour : str
        The projection and colouring (as :func:`explorer.figures.scatter_figure` takes them).
    highlight : array of int, optional
        Rows drawn on top while the rest are dimmed (the selection panel's rows).
    label : str
        What ``highlight`` is, in words, for the file's header.
    zoom : dict, optional
        The page's zoom store (``{"view", "x", "y"}``); its ranges are kept where it is of this view.
    cap : int or None
        Points kept at most (:func:`kept_rows`); ``None`` keeps them all.

    Returns
    -------
    str
        The HTML document: plotly.js, the figure, the sprite pages and each kept point's id,
        classes and confidence inline; no URL in it is fetched.
    """
    ds = m.ds
    keep = kept_rows(ds.n, highlight, cap)
    fig = subset_figure(F.scatter_figure(m, proj, colour, highlight=highlight), keep)
    lay = fig["layout"]
    # nothing to select in a file; a drag zooms
    lay.update(dragmode="zoom", autosize=True)
    for key in ("uirevision", "height", "selections"):
        lay.pop(key, None)
    ranges = zoom_of(zoom, f"{ds.name}/{m.name}/{proj}")
    if ranges:  # the store's data coordinates on the figure's plot units
        ranges = ranges_to_plot(ranges, view_grid(m, proj))
        lay["xaxis"] = {**lay["xaxis"], "range": list(ranges[:2]), "autorange": False}
        lay["yaxis"] = {**lay["yaxis"], "range": list(ranges[2:]), "autorange": False}
    grid = ds.grid
    data = {"rows": keep.tolist(), "labels": ds.labels[keep].tolist(), "pred": m.pred[keep].tolist(),
            "conf": np.round(np.asarray(m.confidence[keep], dtype=np.float64), 5).tolist(),
            "ids": ds.sample_ids[keep].tolist(), "names": list(ds.class_names),
            "grid": grid.meta(), "pages": _sprites(ds.images, keep, grid)}
    shown = F.shown_colour(m, colour, proj)
    points = (f"all {ds.n:,} points" if len(keep) == ds.n else
              f"{len(keep):,} of {ds.n:,} points: a random sample (seed {SEED})"
              + (", the highlighted ones kept" if highlight is not None and len(highlight) else "")
              + "; export again with all points for the rest")
    sel = (f" · highlighted: {len(highlight):,} points, {label}" if highlight is not None else "")
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = (f"{ds.title} · {m.title} · {method_title(ds, proj)} · coloured by "
            f"{COLOUR_LABELS.get(shown, shown)}")
    note = (f"{points}{sel}. Hover a point for its image. Exported {when} from the embedding explorer; "
            "this file needs no server or network.")
    doc = PAGE.format(title=html.escape(head), head=html.escape(head), note=html.escape(note),
                      plotly=plotly_source(), figure=_script_json({**fig, "config": CONFIG}),
                      data=_script_json(data), script=SCRIPT)
    log.info("HTML of %s/%s/%s: %d of %d points, %.1f MB", ds.name, m.name, proj, len(keep), ds.n, len(doc) / 1e6)
    return doc


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ margin: 0; font: 13px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
  display: flex; flex-direction: column; height: 100vh; }}
header {{ padding: 8px 12px 4px; }} h1 {{ font-size: 16px; margin: 0 0 2px; }} .note {{ color: #555; }}
#ex-scatter {{ flex: 1 1 auto; min-height: 320px; }} #plot {{ width: 100%; height: 100%; }}
.hover-tip {{ position: fixed; z-index: 1000; pointer-events: none; display: none; background: white;
  border: 1px solid #9aa4ae; border-radius: 6px; box-shadow: 0 4px 14px rgba(0,0,0,.18); padding: 6px;
  width: 126px; font-size: 12px; }}
.hover-tip.visible {{ display: block; }} .hover-tip.wrong {{ border-color: #d62728; }}
.hover-img {{ image-rendering: pixelated; background-color: black; background-repeat: no-repeat; }}
.hover-text {{ margin-top: 4px; line-height: 1.3; }} .ok {{ color: #2a7d2a; }} .bad {{ color: #d62728; }}
</style></head>
<body>
<header><h1>{head}</h1><div class="note" id="export-note">{note}</div></header>
<div id="ex-scatter"><div id="plot"></div></div>
<div id="hover-tip" class="hover-tip"><div class="hover-img"></div><div class="hover-text"></div></div>
<script>{plotly}</script>
<script type="application/json" id="explorer-figure">{figure}</script>
<script type="application/json" id="explorer-data">{data}</script>
<script>{script}</script>
</body></html>
"""

SCRIPT = """
(function () {
  "use strict";
  const fig = JSON.parse(document.getElementById("explorer-figure").textContent);
  const D = JSON.parse(document.getElementById("explorer-data").textContent);
  const g = D.grid, s = g.scale, slot = new Map();
  D.rows.forEach(function (r, k) { slot.set(r, k); });
  const el = document.getElementById("hover-tip"), img = el.querySelector(".hover-img");
  const text = el.querySelector(".hover-text"), gd = document.getElementById("plot");

  function decode(spec) {
    if (spec.__decoded) return spec.__decoded;
    const bin = atob(spec.bdata), u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    const T = {i4: Int32Array, u1: Uint8Array, i2: Int16Array, u2: Uint16Array, f4: Float32Array,
               f8: Float64Array}[spec.dtype] || Int32Array;
    spec.__decoded = new T(u8.buffer);
    return spec.__decoded;
  }
  function rowOf(gd, pt) {
    const full = gd._fullData && gd._fullData[pt.curveNumber];
    if (!full || full.name === "highlight") return null;
    let cd = full.customdata;
    if (!cd || cd.length === undefined) {
      const raw = gd.data[pt.curveNumber] && gd.data[pt.curveNumber].customdata;
      if (!raw) return null;
      cd = raw.bdata ? decode(raw) : raw;
    }
    const row = cd[pt.pointNumber];
    return row === undefined ? null : Number(row);
  }
  // a probability in percent, as the explorer words it: decimals only where 0 or 100 % would mislead
  function pct(v) {
    if (!((v > 99 && v < 100) || (v > 0 && v < 1))) return Math.round(v) + "%";
    for (let d = 1; d <= 2; d++) { const r = Number(v.toFixed(d)); if (r > 0 && r < 100) return v.toFixed(d) + "%"; }
    return v > 50 ? "99.99%" : "0.01%";
  }
  function line(label, value, cls) {
    const div = document.createElement("div"), b = document.createElement("b");
    div.textContent = label; b.textContent = value;
    if (cls) b.className = cls;
    div.appendChild(b); text.appendChild(div);
  }
  function show(ev) {
    if (!ev.points || !ev.points.length) return;
    const row = rowOf(gd, ev.points[0]), k = slot.get(row);
    if (row === null || k === undefined) return;
    const page = Math.floor(k / g.per_page), i = k % g.per_page;
    const count = Math.min(g.per_page, D.rows.length - page * g.per_page);
    const cols = count > g.per_row ? g.per_row : count, rows = Math.ceil(count / g.per_row);
    img.style.width = (g.w * s) + "px"; img.style.height = (g.h * s) + "px";
    img.style.backgroundImage = "url(" + D.pages[page] + ")";
    img.style.backgroundSize = (cols * g.w * s) + "px " + (rows * g.h * s) + "px";
    img.style.backgroundPosition = "-" + ((i % g.per_row) * g.w * s) + "px -" +
      (Math.floor(i / g.per_row) * g.h * s) + "px";
    const t = D.labels[k], p = D.pred[k], w = Math.max(126, g.w * s + 14);
    el.style.width = w + "px";
    text.innerHTML = "";
    line("Sample #", String(D.ids[k]));
    line("True: ", D.names[t]);
    line("Predicted: ", D.names[p], t === p ? "ok" : "bad");
    line("Confidence: ", pct(100 * D.conf[k]));
    el.classList.toggle("wrong", t !== p);
    el.dataset.index = row;
    const e = ev.event || {}, h = g.h * s + 78;
    let x = (e.clientX || 0) + 16, y = (e.clientY || 0) + 16;
    if (x + w + 16 > window.innerWidth) x = (e.clientX || 0) - w - 24;
    if (y + h > window.innerHeight) y = Math.max(4, (e.clientY || 0) - h - 8);
    el.style.left = x + "px"; el.style.top = y + "px";
    el.classList.add("visible");
  }
  function hide() { el.classList.remove("visible"); delete el.dataset.index; }
  window.explorerHover = {rowOf: rowOf, pct: pct};
  if (gd.clientWidth < 560) {  // a phone: the legend or colour bar under the points, not beside them
    fig.layout.legend = Object.assign({}, fig.layout.legend, {orientation: "h", x: 0, xanchor: "left", y: -0.01,
                                                              yanchor: "top", title: {text: ""}});
    if (fig.layout.meta && fig.layout.meta.many_classes) fig.layout.showlegend = false;  // the hover names it
    fig.layout.title = Object.assign({}, fig.layout.title, {text: ""});  // the header says it
    fig.data.forEach(function (t) {
      if (t.marker && t.marker.colorbar) Object.assign(t.marker.colorbar, {orientation: "h", y: -0.05, len: 0.9});
    });
  }
  Plotly.newPlot(gd, fig.data, fig.layout, fig.config).then(function () {
    gd.on("plotly_hover", show);
    gd.on("plotly_unhover", hide);
    gd.on("plotly_relayouting", hide);
  });
})();
"""

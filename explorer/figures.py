"""The scatters as plain Plotly dicts: colour groups, the highlight overlay, the clicked ring.

Scatter coordinates go out as base64 uint16 "plot units" (:mod:`explorer.encoding`; the grid in
``layout.meta.grid``, so every layout item is in plot units too), and no image is ever inlined.
Base traces are one per colour group: trace ``k`` holds group ``k``'s rows in ascending order, which
``layout.meta.groups`` (each row's group) tells the browser; a colour scale's one trace, whose rows
are in drawing order, carries them in ``customdata``.  :func:`rows_from_points` maps
``(curveNumber, pointNumber)`` back to rows on the server, since Plotly 7 does not echo typed
``customdata`` in event data.  The groups
depend on the model (colouring by its predictions) and are kept on its view
(:meth:`ModelView.cached`), not in this module: two apps in one process share no state.
The other figures (confusion matrix, histogram, separability bars) are :mod:`explorer.charts`'s,
also importable from here.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
from dash import Patch

from .atypical import atypicality
from .charts import (CORRECT_COLOUR, FONT, WRONG_COLOUR, confusion_figure, dataset_colours,  # noqa: F401
                     histogram_figure, selection_confusion, separability_figure)
from .classes import BACKGROUND, FEW_CLASSES, PALETTE, class_colours  # noqa: F401 - PALETTE for callers
from .classes import legend as class_legend
from .encoding import group_of_rows, typed, view_grid, view_xy
from .layers import layers as draw_layers
from .panels import NEIGHBOURS_SHOWN
from .store import ModelView, method_title

HIGHLIGHT = "highlight"
DIM_OPACITY = 0.2  # dimmed, still readable as clusters
FOUND_COLOUR = "#ff7f0e"  # a search's rings: apart from the clicked point's black and the neighbours' red


def marker_size(n: int) -> float:
    """Smaller markers for bigger sets so 70,000 points do not become one blob."""
    return 5.0 if n <= 3000 else 3.5 if n <= 15000 else 2.5


#: continuous colourings: colour bar title, Plotly scale, reversed, and which end is drawn on top.
#: Scales other than Viridis are written out: plotly.js names no RdYlBu, and its YlOrRd runs dark to light.
SCALES = {"confidence": ("Confidence", "Viridis", True, "low"),
          # most labels are fine: quiet grey; the suspects stand out in red
          "issues": ("Label-issue score", [[0, "#dcdcd8"], [0.35, "#fdd49e"], [0.65, "#fc8d59"], [1, "#b30000"]],
                     False, "high"),
          # ColorBrewer RdYlBu: red where the layout misleads, blue where it keeps the neighbours
          "faith": ("Faithfulness", [[0, "#d73027"], [0.25, "#fc8d59"], [0.5, "#fee090"], [0.75, "#91bfdb"],
                                     [1, "#4575b4"]], False, "low"),
          # the typical bulk quiet; the outliers of each class dark (explorer.atypical)
          "atypical": ("Atypicality (percentile in its class)",
                       [[0, "#e8e6f0"], [0.8, "#bcbddc"], [0.95, "#807dba"], [1, "#3f007d"]], False, "high")}
#: confidence is coloured by its nines, -log10(1 - confidence) in [0, CONF_NINES]: a good model's are mostly > 0.99
CONF_NINES = 4
CONF_BAR = {"tickvals": [1, 2, 3, 4], "ticktext": ["0.9", "0.99", "0.999", "≥ 0.9999"]}


def nines(confidence) -> np.ndarray:
    """float32 ``-log10(1 - confidence)`` clipped to ``[0, CONF_NINES]``: 0.9 -> 1, 0.99 -> 2, 0.999 -> 3."""
    c = np.asarray(confidence, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.clip(-np.log10(np.clip(1.0 - c, 0.0, 1.0)), 0.0, CONF_NINES).astype(np.float32)


def scale_range(colour: str) -> dict:
    """Marker ``cmin``/``cmax`` and colour bar ticks of a continuous colouring (:data:`SCALES`)."""
    if colour == "confidence":
        return {"cmin": 0.0, "cmax": float(CONF_NINES), "ticks": CONF_BAR}
    return {"cmin": 0.0, "cmax": 1.0, "ticks": {}}


#: one line each, shown beside the Colour by control while a colouring is chosen ({model}: ModelView.possessive)
COLOUR_NOTES = {
    "issues": ("Label-issue score: how likely the given label is wrong, from {model} out-of-sample "
               "probability of it combined with the labels of its nearest neighbours in its embedding "
               "(red = suspect)."),
    "faith": ("Faithfulness: share of a point's 10 nearest neighbours in {model} embedding that are among "
              "its {window} nearest in this {proj}; low (red) = the projection misleads here."),
    "atypical": ("Atypicality: how far an image is from its 10 nearest neighbours in {model} embedding, as a "
                 "percentile within its class (dark = its class's outliers; the Image map shows the most atypical)."),
}


def available(m: ModelView, colour: str, projection: str | None = None) -> bool:
    """Whether ``m`` has what ``colour`` needs: label issues, or faithfulness of ``projection``'s layout."""
    if colour == "issues":
        return m.has_issues
    if colour == "faith":
        return m.has_faithfulness(projection)
    return True


def shown_colour(m: ModelView, colour: str, projection: str | None = None) -> str:
    """The colouring drawn for ``colour``: itself, or the true class where ``m`` lacks its data
    (the Colour by control offers it only where there is some; another view may show another model)."""
    if colour not in SCALES and colour not in ("true", "pred", "correct"):
        raise ValueError(f"colour must be one of true, pred, correct, {', '.join(SCALES)} (got {colour!r})")
    return colour if available(m, colour, projection) else "true"


def colour_values(m: ModelView, colour: str, projection: str | None = None) -> np.ndarray:
    """float32 (n,) values of a continuous colouring (:data:`SCALES`) of ``m``."""
    if colour == "confidence":
        return m.cached("confidence-nines", lambda: nines(m.confidence))
    if colour == "issues":
        return m.issues.score
    if colour == "atypical":
        return atypicality(m)
    return m.faithfulness(projection)


def groups(m: ModelView, colour: str, projection: str | None = None) -> list[dict]:
    """Colour groups of one model's view of a dataset: one dict per base trace with ``name``, ``rows``, ``color``.

    Deterministic for ``(dataset, model, colour, projection)``, which is what lets event
    points map back to rows.  ``color`` is a hex string, or ``None`` for a colour scale
    (:data:`SCALES`); only faithfulness depends on ``projection``.  Computed once per model
    view and colouring.
    """
    colour = shown_colour(m, colour, projection)
    key = f"groups-{colour}" + (f"-{projection}" if colour == "faith" else "")
    return m.cached(key, lambda: _make_groups(m, colour, projection))


def _make_groups(m: ModelView, colour: str, projection: str | None) -> list[dict]:
    names = m.ds.class_names
    if colour in ("true", "pred"):
        by = m.ds.labels if colour == "true" else m.pred
        colours = class_colours(len(names))
        out = [{"name": f"{names[c]}", "rows": np.flatnonzero(by == c).astype(np.int32),
                "color": colours[c], "legendgroup": str(c)} for c in range(len(names))]
    elif colour == "correct":
        wrong = m.ds.labels != m.pred
        out = [{"name": f"Correct ({(~wrong).sum():,})", "rows": np.flatnonzero(~wrong).astype(np.int32),
                "color": CORRECT_COLOUR},
               {"name": f"Wrong ({wrong.sum():,})", "rows": np.flatnonzero(wrong).astype(np.int32),
                "color": WRONG_COLOUR}]
    else:
        # the end the eye should go to (least confident, most suspect, least faithful) drawn last, on top
        values = colour_values(m, colour, projection)
        on_top_high = SCALES[colour][3] == "high"
        order = np.argsort(values if on_top_high else -values, kind="stable").astype(np.int32)
        out = [{"name": SCALES[colour][0], "rows": order, "color": None, "scale": colour}]
    return out


def rows_from_points(m: ModelView, colour: str, points: Iterable[dict], projection: str | None = None) -> np.ndarray:
    """Rows of Plotly event points (``clickData``/``selectedData['points']``) of a scatter of ``m``, unique, sorted.

    Points of the highlight overlay are skipped: each duplicates a base point.
    """
    gs = groups(m, colour, projection)
    rows = []
    for p in points or []:
        if not isinstance(p, dict):
            continue  # not a Plotly point: nothing to map
        c, i = p.get("curveNumber"), p.get("pointNumber", p.get("pointIndex"))
        if isinstance(c, int) and isinstance(i, int) and 0 <= c < len(gs) and 0 <= i < len(gs[c]["rows"]):
            rows.append(int(gs[c]["rows"][i]))
    return np.unique(np.asarray(rows, dtype=np.int64))


def clicked_ring(m: ModelView, projection: str, row: int | None) -> list[dict]:
    """Layout shapes that mark the clicked point and the nearest neighbours its detail panel lists.

    The point gets a black-and-white ring (a fixed size in pixels, at its position); each of its
    :data:`~explorer.panels.NEIGHBOURS_SHOWN` nearest neighbours in ``m``'s embedding a small ring
    (red where it is of another class, as the panel outlines it) and a thin line from the point,
    so the scatter shows where the embedding's neighbours landed in this layout.  ``[]`` for none.
    """
    if row is None:
        return []
    coords = view_xy(m, projection)  # plot units: where the markers are drawn
    x, y = (float(v) for v in coords[row])
    ring = {"type": "circle", "xref": "x", "yref": "y", "xsizemode": "pixel", "ysizemode": "pixel",
            "layer": "above", "fillcolor": "rgba(0,0,0,0)"}
    t = int(m.ds.labels[row])
    lines, rings = [], []
    for r in (int(r) for r in m.knn[row][:NEIGHBOURS_SHOWN]):
        nx, ny = (float(v) for v in coords[r])
        colour = WRONG_COLOUR if int(m.ds.labels[r]) != t else "#111"
        lines.append({"type": "line", "xref": "x", "yref": "y", "x0": x, "y0": y, "x1": nx, "y1": ny,
                      "name": "neighbour-line", "layer": "above", "opacity": 0.55,
                      "line": {"color": colour, "width": 1}})
        rings.append({**ring, "xanchor": nx, "yanchor": ny, "name": "neighbour", "x0": -5, "x1": 5, "y0": -5,
                      "y1": 5, "line": {"color": colour, "width": 1.5}})
    point = {**ring, "xanchor": x, "yanchor": y, "name": "clicked"}
    return [*lines, *rings,
            {**point, "x0": -10, "x1": 10, "y0": -10, "y1": 10, "line": {"color": "#111", "width": 3}},
            {**point, "x0": -7, "x1": 7, "y0": -7, "y1": 7, "line": {"color": "white", "width": 1.5}}]


def found_rings(m: ModelView, projection: str, rows) -> list[dict]:
    """Layout shapes that ring points a search found (orange, a fixed size in pixels); ``[]`` for none."""
    coords = view_xy(m, projection)
    ring = {"type": "circle", "xref": "x", "yref": "y", "xsizemode": "pixel", "ysizemode": "pixel",
            "layer": "above", "fillcolor": "rgba(0,0,0,0)", "name": "found", "x0": -8, "x1": 8, "y0": -8, "y1": 8,
            "line": {"color": FOUND_COLOUR, "width": 2.5}}
    return [{**ring, "xanchor": float(coords[r, 0]), "yanchor": float(coords[r, 1])} for r in rows]


def highlight_marker(k: int, n: int) -> tuple[float, float]:
    """Marker size and outline width of ``k`` highlighted points of a scatter of ``n``.

    A few points stand out by a bigger marker and a dark outline; thousands of them would merge into
    one dark blob (7,000 of 70,000), so both shrink as ``k`` grows, to no outline at all: by then the
    dimmed rest is what sets them apart.
    """
    extra, width = (3.0, 1.0) if k <= 300 else (2.0, 0.7) if k <= 2000 else (1.0, 0.3) if k <= 10_000 else (0.5, 0.0)
    return marker_size(n) + extra, width


def _overlay(m: ModelView, coords: np.ndarray, colour: str, rows: np.ndarray | None, n: int,
             projection: str | None = None) -> dict:
    rows = np.asarray(rows if rows is not None else [], dtype=np.int32)
    labels = m.ds.labels
    if colour in ("true", "pred"):
        by = labels if colour == "true" else m.pred
        colours = class_colours(len(m.ds.class_names))
        color = [colours[int(c)] for c in by[rows]]
    elif colour == "correct":
        color = [WRONG_COLOUR if w else "#7b8794" for w in (labels[rows] != m.pred[rows])]
    else:  # a colour scale: its colours, undimmed (black dots by the thousand would be a blob)
        color = None
    size, width = highlight_marker(len(rows), n)
    marker = {"size": size, "color": color, "opacity": 1.0,
              "line": {"width": width, "color": "#111" if len(rows) <= 2000 else "rgba(0,0,0,0.55)"}}
    if color is None:
        _, scale, reverse, _ = SCALES[colour]
        rng = scale_range(colour)
        marker.update(color=typed(colour_values(m, colour, projection)[rows]), colorscale=scale, cmin=rng["cmin"],
                      cmax=rng["cmax"], reversescale=reverse, showscale=False)
    return {"type": "scattergl", "mode": "markers", "name": HIGHLIGHT, "showlegend": False,
            "hoverinfo": "skip", "x": typed(coords[rows, 0]), "y": typed(coords[rows, 1]),
            "customdata": typed(rows),  # hover skips it; a test or an export reads its rows
            "marker": marker}


def group_colour(m: ModelView, g: dict, projection: str | None) -> dict:
    """Marker colour keys of one colour group (:func:`groups`): its hex colour, or its rows' values on
    the colouring's scale with a colour bar; shared by the 2-D and the 3-D scatter."""
    if g["color"] is not None:
        return {"color": g["color"]}
    label, scale, reverse, _ = SCALES[g["scale"]]
    rng = scale_range(g["scale"])
    return {"color": typed(colour_values(m, g["scale"], projection)[g["rows"]]), "colorscale": scale,
            "cmin": rng["cmin"], "cmax": rng["cmax"], "reversescale": reverse, "showscale": True,
            "colorbar": {"title": {"text": label}, "thickness": 12, "len": 0.6, **rng["ticks"]}}


def scatter_figure(m: ModelView, projection: str, colour: str,
                   highlight: np.ndarray | None = None, title: str | None = None,
                   height: int | None = None, legend: bool = True, clicked: int | None = None,
                   layers: list | None = None) -> dict:
    """The scatter of one model's embedding of a dataset, in one projection.

    Parameters
    ----------
    m : ModelView
        The model (``m.ds`` is its dataset); colours by prediction use its predictions.
    projection : str
        ``umap``, ``tsne`` or ``pca``.
    colour : str
        ``true``, ``pred``, ``correct``, ``confidence``, ``issues`` (label-issue score) or
        ``faith`` (faithfulness of this layout); the last two fall back to ``true`` where
        ``m`` lacks them (:func:`shown_colour`).
    highlight : array of int, optional
        Rows drawn on top with an outline while every other point is dimmed.
    title : str, optional
        Shown above the plot; defaults to "<dataset> · <model> · <projection>".
    clicked : int, optional
        A row ringed on the plot (:func:`clicked_ring`).
    layers : list of str, optional
        ``"labels"`` (class names at their clusters' centres) and ``"density"`` (:mod:`explorer.layers`).

    Returns
    -------
    dict
        A Plotly figure whose last trace is the (possibly empty) highlight overlay
        and whose ``layout.meta`` tells the hover script which sprite and model to use.
    """
    ds = m.ds
    coords = view_xy(m, projection)
    n = ds.n
    dim = highlight is not None
    traces = []
    colour = shown_colour(m, colour, projection)
    gs = groups(m, colour, projection)
    for g in gs:
        rows = g["rows"]
        marker: dict = {"size": marker_size(n), "opacity": DIM_OPACITY if dim else 0.8}
        marker.update(group_colour(m, g, projection))
        traces.append({"type": "scattergl", "mode": "markers", "name": g["name"],
                       "legendgroup": g.get("legendgroup"), "hoverinfo": "none",
                       "x": typed(coords[rows, 0]), "y": typed(coords[rows, 1]), "marker": marker,
                       "unselected": {"marker": {"opacity": 0.15}}})
        if colour in SCALES:  # rows in drawing order: meta.groups cannot tell them
            traces[-1]["customdata"] = typed(rows)
    traces.append(_overlay(m, coords, colour, highlight, n, projection))
    if title is None:
        title = f"{ds.title} · {m.title} · {method_title(ds, projection)}"
    axis = {"showticklabels": False, "showgrid": False, "zeroline": False, "title": None}
    layout = {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "font": FONT, "plot_bgcolor": BACKGROUND, "paper_bgcolor": "white",
        "xaxis": axis, "yaxis": {**axis, "scaleanchor": "x", "scaleratio": 1},
        "dragmode": "select", "hovermode": "closest", "showlegend": legend and colour not in SCALES,
        "legend": class_legend(len(ds.class_names), "Click: hide · double-click: isolate"),
        # keeps zoom and the user's selection when only the highlight changes
        "uirevision": f"{ds.name}/{m.name}/{projection}",
        "meta": {"explorer": "scatter", "dataset": ds.name, "model": m.name, "version": ds.version, "n": n,
                 "class_names": ds.class_names, "class_colours": class_colours(len(ds.class_names)),
                 "colour": colour, "sprite": ds.grid.meta(),
                 "many_classes": len(ds.class_names) > FEW_CLASSES, "grid": view_grid(m, projection)},
        "shapes": clicked_ring(m, projection, clicked),
        **draw_layers(m, projection, colour, layers),
    }
    if colour not in SCALES:
        # each row's trace: the browser's hover finds a point's row from it (no customdata to send)
        layout["meta"]["groups"] = m.cached(f"group-of-{colour}",
                                            lambda: typed(group_of_rows([g["rows"] for g in gs], n)))
    if height:
        layout["height"] = height
    return {"data": traces, "layout": layout}


def highlight_patch(m: ModelView, projection: str, colour: str, highlight: np.ndarray | None,
                    patch: Patch | None = None) -> Patch:
    """Change only the overlay and the dimming of a figure made by :func:`scatter_figure`."""
    coords = view_xy(m, projection)
    colour = shown_colour(m, colour, projection)
    n_base = len(groups(m, colour, projection))
    patch = Patch() if patch is None else patch
    for i in range(n_base):
        patch["data"][i]["marker"]["opacity"] = DIM_OPACITY if highlight is not None else 0.8
    patch["data"][n_base] = _overlay(m, coords, colour, highlight, m.ds.n, projection)
    return patch

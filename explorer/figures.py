"""Plotly figures as plain dicts: the scatter, the confusion matrix, histograms, the report.

Scatter coordinates and row numbers go out as base64 typed arrays (float32/int32):
70,000 points cost about 1.1 MB before gzip, and no image is ever inlined.
Base traces are one per colour group; each carries its rows in ``customdata``, and
:func:`rows_from_points` maps ``(curveNumber, pointNumber)`` back to rows on the
server, since Plotly 7 does not echo typed ``customdata`` in event data.  The groups
depend on the model (colouring by its predictions) and are kept on its view
(:meth:`ModelView.cached`), not in this module: two apps in one process share no state.
"""
from __future__ import annotations

import base64
from typing import Iterable

import numpy as np
from dash import Patch

from .store import PROJECTION_LABELS, ExplorerStore, ModelView, model_entry

#: Tableau 10: distinct hues that stay apart for most colour-vision deficiencies.
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
CORRECT_COLOUR, WRONG_COLOUR = "#b9c2cc", "#d62728"
HIGHLIGHT = "highlight"
DIM_OPACITY = 0.2  # dimmed, still readable as clusters
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13, "color": "#222"}


def typed(array: np.ndarray) -> dict:
    """Plotly's typed-array spec: ``{"dtype": "f4", "bdata": <base64>}``."""
    a = np.ascontiguousarray(array)
    code = {np.dtype(np.float32): "f4", np.dtype(np.float64): "f8", np.dtype(np.int32): "i4",
            np.dtype(np.uint8): "u1", np.dtype(np.int16): "i2", np.dtype(np.uint16): "u2"}[a.dtype]
    return {"dtype": code, "bdata": base64.b64encode(a.tobytes()).decode("ascii")}


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
                                     [1, "#4575b4"]], False, "low")}
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


#: one line each, shown beside the Colour by control while a colouring is chosen
COLOUR_NOTES = {
    "issues": ("Label-issue score: how likely the given label is wrong, from the {model}'s out-of-sample "
               "probability of it combined with the labels of its nearest neighbours in its embedding "
               "(red = suspect)."),
    "faith": ("Faithfulness: share of a point's 10 nearest neighbours in the {model}'s embedding that stay "
              "among its 10 nearest in this {proj}; low (red) = the projection misleads here."),
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
        out = [{"name": f"{names[c]}", "rows": np.flatnonzero(by == c).astype(np.int32),
                "color": PALETTE[c % len(PALETTE)], "legendgroup": str(c)} for c in range(len(names))]
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
    """Layout shapes that ring the clicked point (a fixed size in pixels, at its position); ``[]`` for none."""
    if row is None:
        return []
    x, y = (float(v) for v in m.coords(projection)[row])
    ring = {"type": "circle", "xref": "x", "yref": "y", "xsizemode": "pixel", "ysizemode": "pixel",
            "xanchor": x, "yanchor": y, "name": "clicked", "layer": "above", "fillcolor": "rgba(0,0,0,0)"}
    return [{**ring, "x0": -10, "x1": 10, "y0": -10, "y1": 10, "line": {"color": "#111", "width": 3}},
            {**ring, "x0": -7, "x1": 7, "y0": -7, "y1": 7, "line": {"color": "white", "width": 1.5}}]


def _overlay(m: ModelView, coords: np.ndarray, colour: str, rows: np.ndarray | None, n: int) -> dict:
    rows = np.asarray(rows if rows is not None else [], dtype=np.int32)
    labels = m.ds.labels
    if colour in ("true", "pred"):
        by = labels if colour == "true" else m.pred
        color = [PALETTE[int(c) % len(PALETTE)] for c in by[rows]]
    elif colour == "correct":
        color = [WRONG_COLOUR if w else "#7b8794" for w in (labels[rows] != m.pred[rows])]
    else:  # a colour scale: the outline says it all
        color = "#111111"
    return {"type": "scattergl", "mode": "markers", "name": HIGHLIGHT, "showlegend": False,
            "hoverinfo": "skip", "x": typed(coords[rows, 0]), "y": typed(coords[rows, 1]),
            "customdata": typed(rows),
            "marker": {"size": marker_size(n) + 3, "color": color, "opacity": 1.0,
                       "line": {"width": 1 if len(rows) <= 2000 else 0.5, "color": "#111"}}}


def scatter_figure(m: ModelView, projection: str, colour: str,
                   highlight: np.ndarray | None = None, title: str | None = None,
                   height: int | None = None, legend: bool = True, clicked: int | None = None) -> dict:
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

    Returns
    -------
    dict
        A Plotly figure whose last trace is the (possibly empty) highlight overlay
        and whose ``layout.meta`` tells the hover script which sprite and model to use.
    """
    ds = m.ds
    coords = m.coords(projection)
    n = ds.n
    dim = highlight is not None
    traces = []
    colour = shown_colour(m, colour, projection)
    for g in groups(m, colour, projection):
        rows = g["rows"]
        marker: dict = {"size": marker_size(n), "opacity": DIM_OPACITY if dim else 0.8}
        if g["color"] is None:
            label, scale, reverse, _ = SCALES[g["scale"]]
            rng = scale_range(g["scale"])
            marker.update(color=typed(colour_values(m, g["scale"], projection)[rows]), colorscale=scale,
                          cmin=rng["cmin"], cmax=rng["cmax"], reversescale=reverse, showscale=True,
                          colorbar={"title": {"text": label}, "thickness": 12, "len": 0.6, **rng["ticks"]})
        else:
            marker["color"] = g["color"]
        traces.append({"type": "scattergl", "mode": "markers", "name": g["name"],
                       "legendgroup": g.get("legendgroup"), "hoverinfo": "none",
                       "x": typed(coords[rows, 0]), "y": typed(coords[rows, 1]),
                       "customdata": typed(rows), "marker": marker,
                       "unselected": {"marker": {"opacity": 0.15}}})
    traces.append(_overlay(m, coords, colour, highlight, n))
    if title is None:
        title = f"{ds.title} · {m.title} · {PROJECTION_LABELS[projection]}"
    axis = {"showticklabels": False, "showgrid": False, "zeroline": False, "title": None}
    layout = {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "font": FONT, "plot_bgcolor": "#fafbfc", "paper_bgcolor": "white",
        "xaxis": axis, "yaxis": {**axis, "scaleanchor": "x", "scaleratio": 1},
        "dragmode": "select", "hovermode": "closest", "showlegend": legend and colour not in SCALES,
        "legend": {"title": {"text": "Click: hide · double-click: isolate", "font": {"size": 11}},
                   "itemsizing": "constant", "bgcolor": "rgba(255,255,255,0.85)"},
        # keeps zoom and the user's selection when only the highlight changes
        "uirevision": f"{ds.name}/{m.name}/{projection}",
        "meta": {"explorer": "scatter", "dataset": ds.name, "model": m.name, "version": ds.version, "n": n,
                 "class_names": ds.class_names, "colour": colour},
        "shapes": clicked_ring(m, projection, clicked),
    }
    if height:
        layout["height"] = height
    return {"data": traces, "layout": layout}


def highlight_patch(m: ModelView, projection: str, colour: str, highlight: np.ndarray | None,
                    patch: Patch | None = None) -> Patch:
    """Change only the overlay and the dimming of a figure made by :func:`scatter_figure`."""
    coords = m.coords(projection)
    colour = shown_colour(m, colour, projection)
    n_base = len(groups(m, colour, projection))
    patch = Patch() if patch is None else patch
    for i in range(n_base):
        patch["data"][i]["marker"]["opacity"] = DIM_OPACITY if highlight is not None else 0.8
    patch["data"][n_base] = _overlay(m, coords, colour, highlight, m.ds.n)
    return patch


def confusion_figure(m: ModelView, matrix: np.ndarray, cell: tuple[int, int] | None = None,
                     title: str = "Confusion matrix", height: int = 370) -> dict:
    """Heatmap of ``matrix`` (rows = true, columns = predicted) with counts in the cells.

    Off-diagonal cells (the mistakes) use a red scale of their own so that a handful
    of errors stays visible next to diagonals of a thousand; the chosen cell is boxed.
    """
    names = m.ds.class_names
    m = np.asarray(matrix)
    k = len(names)
    ticks = {"tickmode": "array", "tickvals": list(range(k)), "ticktext": names}
    diag = np.full(m.shape, None, dtype=object)
    off = np.full(m.shape, None, dtype=object)
    for t in range(k):
        for p in range(k):
            (diag if t == p else off)[t][p] = int(m[t, p])
    max_off = max(1, max((int(m[t, p]) for t in range(k) for p in range(k) if t != p), default=1))
    hover = [[f"true {names[t]}, predicted {names[p]}: {int(m[t, p])}" for p in range(k)] for t in range(k)]

    def text(diagonal: bool) -> list[list[str]]:
        return [[str(int(m[t, p])) if m[t, p] and (t == p) == diagonal else "" for p in range(k)]
                for t in range(k)]
    common = {"type": "heatmap", "x": list(range(k)), "y": list(range(k)), "xgap": 1, "ygap": 1,
              "showscale": False, "customdata": hover, "hovertemplate": "%{customdata}<extra></extra>",
              "texttemplate": "%{text}", "textfont": {"size": 10 if k > 5 else 12, "color": "#111"}}
    traces = [
        # light blues: the counts printed on the diagonal must stay readable
        {**common, "z": diag.tolist(), "text": text(True), "colorscale": [[0, "#eef3f9"], [1, "#8fb0d6"]],
         "zmin": 0, "zmax": max(1, int(np.diag(m).max()) if m.size else 1)},
        {**common, "z": off.tolist(), "text": text(False),
         "colorscale": [[0, "#ffffff"], [0.0001, "#fcd5d0"], [1, "#e0394f"]], "zmin": 0, "zmax": max_off},
    ]
    shapes = []
    if cell is not None:
        t, p = cell
        shapes.append({"type": "rect", "x0": p - 0.5, "x1": p + 0.5, "y0": t - 0.5, "y1": t + 0.5,
                       "line": {"color": "#111", "width": 3}})
    layout = {"title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 14}},
              "margin": {"l": 90, "r": 10, "t": 36, "b": 80}, "font": {**FONT, "size": 11},
              "height": height, "plot_bgcolor": "white",
              "xaxis": {**ticks, "title": {"text": "Predicted class"}, "tickangle": -45, "side": "bottom",
                        "fixedrange": True, "ticks": "", "showgrid": False, "zeroline": False},
              "yaxis": {**ticks, "title": {"text": "True class"}, "autorange": "reversed", "fixedrange": True,
                        "ticks": "", "showgrid": False, "zeroline": False},
              "shapes": shapes}
    return {"data": traces, "layout": layout}


def selection_confusion(model: ModelView, rows: np.ndarray) -> np.ndarray:
    """Confusion counts of ``model``'s predictions on a subset of rows."""
    k = len(model.ds.class_names)
    m = np.zeros((k, k), np.int64)
    rows = np.asarray(rows, dtype=np.intp)
    np.add.at(m, (model.ds.labels[rows].astype(np.intp), model.pred[rows].astype(np.intp)), 1)
    return m


def histogram_figure(m: ModelView, rows: np.ndarray, height: int = 220) -> dict:
    """Bar chart of the true classes of ``rows``; ``m``'s wrong predictions stacked in red."""
    k = len(m.ds.class_names)
    rows = np.asarray(rows, dtype=np.intp)
    lab, pred = m.ds.labels[rows], m.pred[rows]
    right = np.bincount(lab[lab == pred], minlength=k)[:k]
    wrong = np.bincount(lab[lab != pred], minlength=k)[:k]
    x = m.ds.class_names
    return {"data": [
        {"type": "bar", "x": x, "y": right.tolist(), "name": "correct",
         "marker": {"color": [PALETTE[c % 10] for c in range(k)]},
         "hovertemplate": "%{x}: %{y} correct<extra></extra>"},
        {"type": "bar", "x": x, "y": wrong.tolist(), "name": "wrong", "marker": {"color": WRONG_COLOUR},
         "hovertemplate": "%{x}: %{y} wrong<extra></extra>"}],
        "layout": {"barmode": "stack", "height": height, "font": {**FONT, "size": 11},
                   "margin": {"l": 36, "r": 6, "t": 24, "b": 60}, "showlegend": False,
                   "title": {"text": "True class of the selection (red: misclassified)", "font": {"size": 12},
                             "x": 0.01, "xanchor": "left"},
                   # class names such as "0".."9" must stay categories, every one labelled
                   "xaxis": {"tickangle": -40, "fixedrange": True, "type": "category"},
                   "yaxis": {"fixedrange": True}}}


def dataset_colours(store: ExplorerStore) -> dict[str, str]:
    """Each dataset's colour where datasets are compared: ``current.json``'s, else a palette colour by position."""
    return {n: store.get(n).colour or PALETTE[i % len(PALETTE)] for i, n in enumerate(store.names)}


def separability_figure(report: dict, models: dict[str, str], projection: str,
                        height: int = 300, colours: dict[str, str] | None = None) -> dict:
    """Grouped bars: k-NN accuracy (high-D and 2-D), silhouette and trustworthiness per dataset.

    Parameters
    ----------
    report : dict
        The pipeline's separability report.
    models : dict
        Dataset -> the model whose numbers to show, datasets in order.
    projection : str
    height : int, default 300
    colours : dict, optional
        Bar colour per dataset (:func:`dataset_colours`); a palette colour by position
        for a dataset it does not name.
    """
    metrics = [("k-NN acc. (high-D)", lambda s, p: s.get("knn_accuracy")),
               (f"k-NN acc. (2-D {PROJECTION_LABELS[projection]})", lambda s, p: p.get("knn_accuracy")),
               ("Silhouette (high-D)", lambda s, p: s.get("silhouette")),
               ("Trustworthiness", lambda s, p: p.get("trustworthiness"))]
    colours = colours or {}
    traces = []
    model_titles = []
    for i, (name, model) in enumerate(models.items()):
        entry = report.get("datasets", {}).get(name, {})
        s = model_entry(report, name, model)
        p = s.get("projections", {}).get(projection, {})
        ys = [f(s, p) for _, f in metrics]
        model_titles.append(str(s.get("title") or model))
        label = f"{entry.get('title', name)} · {s.get('title') or model}"
        traces.append({"type": "bar", "name": label, "x": [m for m, _ in metrics],
                       "y": [None if v is None else round(float(v), 3) for v in ys],
                       "text": ["n/a" if v is None else f"{float(v):.3f}" for v in ys], "textposition": "outside",
                       "marker": {"color": colours.get(name) or PALETTE[i % len(PALETTE)]},
                       "hovertemplate": "%{x}: %{y:.3f}<extra>" + label + "</extra>"})
    shown = model_titles[0] if len(set(model_titles)) == 1 else "each dataset's model"
    return {"data": traces, "layout": {
        "barmode": "group", "height": height, "font": FONT, "margin": {"l": 40, "r": 10, "t": 40, "b": 40},
        "title": {"text": f"Separability · {shown} · higher is better", "x": 0.01,
                  "xanchor": "left", "font": {"size": 14}},
        "yaxis": {"range": [min([0.0] + [v for t in traces for v in t["y"] if v is not None]), 1.12],
                  "fixedrange": True},
        "xaxis": {"fixedrange": True},
        "legend": {"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"}}}

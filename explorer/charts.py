"""Plotly figures other than the scatters, as plain dicts: the confusion matrix, the selection's
class histogram and the separability bars; and the fonts and colours every figure shares.

Class matrices and bars scale from 2 to 100 classes through :mod:`explorer.classes`.
"""
from __future__ import annotations

import numpy as np

from .classes import (FEW_CLASSES, MANY_CLASSES, PALETTE, class_colours, dataset_colours,  # noqa: F401
                      matrix_axes, matrix_cells)
from .store import ExplorerStore, ModelView, method_title, model_entry

CORRECT_COLOUR, WRONG_COLOUR = "#b9c2cc", "#d62728"
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13, "color": "#222"}


def confusion_figure(m: ModelView, matrix: np.ndarray, cell: tuple[int, int] | None = None,
                     title: str = "Confusion matrix", height: int = 370) -> dict:
    """Heatmap of ``matrix`` (rows = true, columns = predicted), with counts in the cells up to
    :data:`~explorer.classes.MANY_CLASSES` classes; above, the hover alone says each cell's count.

    Off-diagonal cells (the mistakes) use a red scale of their own so that a handful
    of errors stays visible next to diagonals of a thousand; the chosen cell is boxed.
    """
    names = m.ds.class_names
    m = np.asarray(matrix)
    k = len(names)
    many = k > MANY_CLASSES
    eye = np.eye(k, dtype=bool)
    diag = np.where(eye, m, None).tolist()
    off = np.where(eye, None, m).tolist()
    max_off = max(1, int(np.where(eye, 0, m).max()) if m.size else 1)
    hover = [[f"true {names[t]}, predicted {names[p]}: {int(m[t, p])}" for p in range(k)] for t in range(k)]

    def text(diagonal: bool) -> list[list[str]]:
        return [[str(int(m[t, p])) if m[t, p] and (t == p) == diagonal else "" for p in range(k)]
                for t in range(k)]
    common = {"type": "heatmap", "x": list(range(k)), "y": list(range(k)), **matrix_cells(k),
              "showscale": False, "customdata": hover, "hovertemplate": "%{customdata}<extra></extra>"}
    traces = [
        # light blues: the counts printed on the diagonal must stay readable
        {**common, "z": diag, "colorscale": [[0, "#eef3f9"], [1, "#8fb0d6"]],
         "zmin": 0, "zmax": max(1, int(np.diag(m).max()) if m.size else 1)},
        {**common, "z": off, "colorscale": [[0, "#ffffff"], [0.0001, "#fcd5d0"], [1, "#e0394f"]],
         "zmin": 0, "zmax": max_off},
    ]
    if not many:
        traces[0]["text"], traces[1]["text"] = text(True), text(False)
    shapes = []
    if cell is not None:
        t, p = cell
        shapes.append({"type": "rect", "x0": p - 0.5, "x1": p + 0.5, "y0": t - 0.5, "y1": t + 0.5,
                       "line": {"color": "#111", "width": 2 if many else 3}})
    ticks = matrix_axes(names)
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
    shown = np.arange(k)
    if k > FEW_CLASSES:  # dozens of bars in 360 px, most of them empty, say nothing: the classes it holds
        shown = np.flatnonzero(right + wrong)
    x = [m.ds.class_names[c] for c in shown]
    colours = class_colours(k)
    right, wrong = right[shown], wrong[shown]
    return {"data": [
        {"type": "bar", "x": x, "y": right.tolist(), "name": "correct",
         "marker": {"color": [colours[c] for c in shown]},
         "hovertemplate": "%{x}: %{y} correct<extra></extra>"},
        {"type": "bar", "x": x, "y": wrong.tolist(), "name": "wrong", "marker": {"color": WRONG_COLOUR},
         "hovertemplate": "%{x}: %{y} wrong<extra></extra>"}],
        "layout": {"barmode": "stack", "height": height, "font": {**FONT, "size": 11},
                   "margin": {"l": 36, "r": 6, "t": 24, "b": 60}, "showlegend": False,
                   "title": {"text": "True class of the selection (red: misclassified)", "font": {"size": 12},
                             "x": 0.01, "xanchor": "left"},
                   # class names such as "0".."9" must stay categories, every one labelled
                   "xaxis": {"tickangle": -40, "fixedrange": True, "type": "category",
                             **({"tickfont": {"size": 9}} if len(shown) > MANY_CLASSES else {})},
                   "yaxis": {"fixedrange": True}}}


def separability_figure(report: dict, models: dict[str, str], projection: str,
                        height: int = 300, colours: dict[str, str] | None = None,
                        projection_title: str | None = None) -> dict:
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
    projection_title : str, optional
        How the page calls ``projection`` (:func:`explorer.store.method_title`); default its fallback title.
    """
    metrics = [("k-NN acc. (high-D)", lambda s, p: s.get("knn_accuracy")),
               (f"k-NN acc. (2-D {projection_title or method_title(None, projection)})", lambda s, p: p.get("knn_accuracy")),
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

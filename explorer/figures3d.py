"""Explore's 3-D view as a plain Plotly dict: one ``scatter3d`` trace per colour group (the 2-D
scatter's groups, colours and rows, :func:`figures.groups`), the focus drawn larger on top of
the dimmed rest, a search's finds ringed, and the clicked point joined by lines to its nearest
neighbours in the model's embedding.

The figure is drawn in the browser by ``assets/view3d.js`` with the 3-D view's own plotly.js
(``assets/plotly-3d.min.js``, fetched when a 3-D view is first opened), not by a ``dcc.Graph``:
every 2-D page then stays as light as before.  ``layout.meta`` and ``customdata`` are the 2-D
scatter's, so ``assets/hover.js`` shows the same hover image and opens the same detail panel.
Every trace's ``hoverinfo`` is ``skip``: view3d.js picks the hovered point itself (Plotly's 3-D
picking reads the scene back from the GPU, 50-200 ms a hover without one) and emits Plotly's events.
"""
from __future__ import annotations

import numpy as np

from .classes import FEW_CLASSES, class_colours
from .classes import legend as class_legend
from .figures import FOUND_COLOUR, SCALES, WRONG_COLOUR, group_colour, groups, shown_colour, typed
from .panels import NEIGHBOURS_SHOWN
from .store import ModelView, method_title

DIM_OPACITY_3D = 0.12
#: Where the 3-D view gets each projection: 2-D layouts are always made, 3-D ones only with --dims 3 (PCA always)
MISSING_3D = ("No 3-D {method} was computed for this run (`./run.sh --dims 3` adds 3-D t-SNE and UMAP layouts); "
              "showing the 3-D PCA.")


def marker_size_3d(n: int) -> float:
    """Marker size in pixels: 3-D markers do not shrink with distance, so smaller than in 2-D."""
    return 3.5 if n <= 3000 else 2.5 if n <= 15000 else 1.6


def projection_3d(m: ModelView, projection: str) -> tuple[str | None, str]:
    """The projection the 3-D view draws for ``projection`` and a note: itself where ``m`` has its
    3-D layout, else PCA's with :data:`MISSING_3D`; ``(None, why)`` where ``m`` has no 3-D layout."""
    if projection in m.projection3d_dirs:
        return projection, ""
    if "pca" in m.projection3d_dirs:
        return "pca", MISSING_3D.format(method=method_title(m.ds, projection)[:20])
    return None, (f"{m.ds.title} · {m.title} has no 3-D layout: rerun the pipeline (`./run.sh`) to add the "
                  "3-D PCA, or `./run.sh --dims 3` for 3-D t-SNE and UMAP too.")


def _points(coords: np.ndarray, rows) -> dict:
    rows = np.asarray(rows, dtype=np.int64)
    return {"x": typed(coords[rows, 0]), "y": typed(coords[rows, 1]), "z": typed(coords[rows, 2])}


def _focus(m: ModelView, coords: np.ndarray, colour: str, rows: np.ndarray, size: float) -> dict:
    """The focused rows in their own colours, larger, on top of the dimmed base traces."""
    if colour in ("true", "pred"):
        by = m.ds.labels if colour == "true" else m.pred
        colours = class_colours(len(m.ds.class_names))
        color = [colours[int(c)] for c in by[rows]]
    elif colour == "correct":
        color = [WRONG_COLOUR if w else "#7b8794" for w in (m.ds.labels[rows] != m.pred[rows])]
    else:
        color = "#111111"
    # not "highlight" (hover.js skips the 2-D overlay's points): here the focused point is the one picked
    return {"type": "scatter3d", "mode": "markers", "name": "focus", "showlegend": False, "hoverinfo": "skip",
            **_points(coords, rows), "customdata": typed(rows.astype(np.int32)),
            "marker": {"size": size + 2, "color": color, "opacity": 1.0}}


def _clicked(m: ModelView, coords: np.ndarray, row: int) -> list[dict]:
    """The clicked point ringed and a line to each of its nearest neighbours (red: another class)."""
    t = int(m.ds.labels[row])
    same, other = [], []
    for r in (int(r) for r in m.knn[row][:NEIGHBOURS_SHOWN]):
        (other if int(m.ds.labels[r]) != t else same).append(r)
    traces = []
    for rows, colour, name in ((same, "#111111", "neighbour-lines"), (other, WRONG_COLOUR, "neighbour-lines-other")):
        if not rows:
            continue
        xyz = [[], [], []]
        for r in rows:  # a segment per neighbour, None between: one trace draws them all
            for axis in range(3):
                xyz[axis] += [float(coords[row, axis]), float(coords[r, axis]), None]
        traces.append({"type": "scatter3d", "mode": "lines+markers", "name": name, "showlegend": False,
                       "hoverinfo": "skip", "x": xyz[0], "y": xyz[1], "z": xyz[2],
                       "line": {"color": colour, "width": 2}, "marker": {"size": 3, "color": colour}})
    traces.append({"type": "scatter3d", "mode": "markers", "name": "clicked", "showlegend": False,
                   "hoverinfo": "skip", **_points(coords, [row]),
                   "marker": {"size": 9, "color": "rgba(0,0,0,0)", "symbol": "circle-open",
                              "line": {"color": "#111111", "width": 3}}})
    return traces


def scatter3d_figure(m: ModelView, projection: str, colour: str, highlight: np.ndarray | None = None,
                     clicked: int | None = None, found: np.ndarray | None = None) -> dict:
    """The 3-D scatter of ``m``'s ``projection`` (which must have a 3-D layout: :func:`projection_3d`).

    ``highlight`` rows are drawn larger over the dimmed rest (the 2-D view's selection, cell and
    filters), ``found`` rows ringed in orange, ``clicked`` joined to its nearest neighbours.  The
    base traces are :func:`figures.groups` of the 2-D view in the same order, each with its rows
    in ``customdata``, so a hover maps to a row exactly as on the 2-D scatter.
    """
    ds = m.ds
    coords = m.coords(projection, dims=3)
    colour = shown_colour(m, colour, projection)
    size = marker_size_3d(ds.n)
    dim = highlight is not None
    traces = []
    for g in groups(m, colour, projection):
        rows = g["rows"]
        # opaque unless dimmed: WebGL draws transparent points in two more passes
        marker: dict = {"size": size, "opacity": DIM_OPACITY_3D if dim else 1.0}
        marker.update(group_colour(m, g, projection))
        traces.append({"type": "scatter3d", "mode": "markers", "name": g["name"], "legendgroup": g.get("legendgroup"),
                       "hoverinfo": "skip", **_points(coords, rows), "customdata": typed(rows), "marker": marker})
    if dim and len(highlight):
        traces.append(_focus(m, coords, colour, np.asarray(highlight, dtype=np.int64), size))
    if found is not None and len(found):
        traces.append({"type": "scatter3d", "mode": "markers", "name": "found", "showlegend": False,
                       "hoverinfo": "skip", **_points(coords, found),
                       "marker": {"size": 8, "color": "rgba(0,0,0,0)", "symbol": "circle-open",
                                  "line": {"color": FOUND_COLOUR, "width": 2}}})
    if clicked is not None:
        traces += _clicked(m, coords, int(clicked))
    axis = {"visible": True, "showticklabels": False, "showgrid": True, "gridcolor": "#e4e4e0", "zeroline": False,
            "showbackground": False, "title": {"text": ""}, "showspikes": False}
    title = f"{ds.title} · {m.title} · {method_title(ds, projection)} in 3-D"
    layout = {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        "margin": {"l": 0, "r": 0, "t": 40, "b": 0}, "paper_bgcolor": "white",
        # nearer than Plotly's default eye (1.25, 1.25, 1.25): the clusters fill the box, not its middle
        "scene": {"xaxis": axis, "yaxis": axis, "zaxis": axis, "aspectmode": "data", "dragmode": "orbit",
                  "hovermode": "closest", "camera": {"eye": {"x": 0.95, "y": 0.95, "z": 0.7}}},
        "hovermode": "closest", "showlegend": colour not in SCALES,
        "legend": class_legend(len(ds.class_names), "Click: hide · double-click: isolate"),
        # the camera stays where the user turned it while colours, focus and the clicked point change
        "uirevision": f"{ds.name}/{m.name}/{projection}/3d",
        "meta": {"explorer": "scatter3d", "dataset": ds.name, "model": m.name, "version": ds.version, "n": ds.n,
                 "class_names": ds.class_names, "colour": colour, "sprite": ds.grid.meta(),
                 "many_classes": len(ds.class_names) > FEW_CLASSES, "projection": projection},
    }
    return {"data": traces, "layout": layout}

"""The "Layers" tab (issue 24 §2): one dataset's network from the pixels through each layer to the logits,
a slider (and Play) from layer to layer with the frames aligned, Explore's selection and clicked image
followed through them, and beside it the separability by depth of every dataset, side by side.

The server draws the scatter once per dataset, model, layout and followed images; ``assets/depth.js``
moves its points between layers in the browser, so the slider costs no server round trip per frame.
The figures and words are :mod:`explorer.depth`'s.
"""
from __future__ import annotations

import logging

import numpy as np
from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from core.errors import CacheError

from .. import depth as D
from .. import ids
from ..checks import _choice, _event_points, _int, _model
from ..registry import Field, View, last
from ..selection import focus_rows
from ..store import ExplorerStore
from ..widgets import GRAPH_CONFIG, control, play_button, scatter_graph

log = logging.getLogger(__name__)

HELP = ("The same images seen by each layer of the network, from the raw pixels to the logits. Move the slider "
        "(or press Play): the frames are aligned, each started from the one before, so an image moves only as "
        "far as the next layer moves it. Explore's selection is ringed black and its clicked image red; click a "
        "point here to follow it. Right: how separable the classes are at each depth, for every dataset.")
NONE = ("No model of this dataset has layers to follow yet (the pixel k-NN has none): the pipeline measures each "
        "network's layers after the first views, or rerun `./run.sh`.")
PLAY_MS = 1300
METHOD_LABELS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
CONFIG = {**GRAPH_CONFIG, "scrollZoom": True,
          "modeBarButtonsToRemove": GRAPH_CONFIG["modeBarButtonsToRemove"] + ["select2d", "lasso2d"]}
EMPTY = {"data": [], "layout": {"xaxis": {"visible": False}, "yaxis": {"visible": False},
                                "margin": {"l": 0, "r": 0, "t": 0, "b": 0}}}


def layout(store: ExplorerStore) -> html.Div:
    """The tab's panel; the scatter and chart are made when the tab is opened."""
    return html.Div([
        html.P(HELP, className="help"),
        html.Div([
            control("Layout", dcc.RadioItems(id=ids.LY_METHOD, value="umap", inline=True, className="radio",
                                             options=[{"label": v, "value": k} for k, v in METHOD_LABELS.items()])),
            control("Chart", dcc.RadioItems(id=ids.LY_MEASURE, value="knn", inline=True, className="radio",
                                            options=[{"label": v[0], "value": k} for k, v in D.MEASURES.items()])),
        ], className="controls ly-controls"),
        html.Div([
            html.Button("▶ Play", id=ids.LY_PLAY, className="btn ly-play"),
            html.Div(dcc.Slider(id=ids.LY_FRAME, min=0, max=1, step=1, value=0, updatemode="drag",
                                allow_direct_input=False), className="ly-slider"),
        ], className="ly-bar"),
        dcc.Interval(id=ids.LY_TIMER, interval=PLAY_MS, disabled=True),
        dcc.Store(id=ids.LY_SHOWN),
        html.P(id=ids.LY_INFO, className="ly-info"),
        html.Div([
            html.Div(scatter_graph(ids.LY_SCATTER, None, CONFIG), className="ly-plot depth-scatter"),
            html.Div(dcc.Graph(id=ids.LY_CHART, config={"displayModeBar": False}, className="ly-chart"),
                     className="ly-side"),
        ], className="ly-grid"),
    ], className="depth-tab")


def followed(m, sel, cell_data, flt) -> tuple[np.ndarray, str]:
    """Explore's selection (box or lasso, cell, filters) as rows and words; none: empty."""
    rows, words = focus_rows(m, sel, cell_data, flt)
    return (np.zeros(0, np.int64), "") if rows is None else (np.asarray(rows, np.int64), words)


def readable(store: ExplorerStore, ds_name, model):
    """``(model view, its DepthView, None)``; ``(m, None, what is wrong)`` where its layers folder cannot be
    read (the page says so and how to fix it); ``(None, None, None)`` where no model of the dataset has layers."""
    m = D.shown(_model(store, ds_name, model))
    if m is None:
        return None, None, None
    try:
        return m, m.depth, None
    except CacheError as e:
        log.warning("layers of %s cannot be shown: %s", m, e)
        return m, None, str(e)


def register(app, store: ExplorerStore) -> None:
    """Attach the tab's callbacks (three on the server, three in the browser) to ``app``."""
    @app.callback(
        Output(ids.LY_SCATTER, "figure"), Output(ids.LY_FRAME, "max"), Output(ids.LY_FRAME, "marks"),
        Output(ids.LY_FRAME, "value", allow_duplicate=True), Output(ids.LY_METHOD, "options"),
        Input(ids.TABS_ID, "value"), Input(ids.DATASET, "value"), Input(ids.MODEL, "value"),
        Input(ids.LY_METHOD, "value"), Input(ids.CLICKED, "data"), Input(ids.SELECTION, "data"),
        Input(ids.CELL, "data"), Input(ids.FILTER, "data"), State(ids.LY_FRAME, "value"), prevent_initial_call=True)
    def render(tab, ds_name, model, method, clicked, sel, cell_data, flt, step):
        if tab != "layers":
            raise PreventUpdate
        _choice(method, tuple(METHOD_LABELS), "layout")
        m, depth, _ = readable(store, ds_name, model)
        if depth is None:
            return EMPTY, 1, {}, 0, no_update
        method = method if method in depth.methods else depth.methods[0]
        step = min(_int(step or 0, 0, 10_001, "layer"), len(depth.layers) - 1)
        rows, _ = followed(m, sel, cell_data, flt)
        point = clicked.get("row") if isinstance(clicked, dict) and clicked.get("ds") == m.ds.name else None
        point = _int(point, 0, m.ds.n, "clicked image's row") if point is not None else None
        title = f"{m.ds.title} · {m.title} · {METHOD_LABELS[method]} · {depth.layers[step]['title']}"
        fig = D.frame_figure(m, depth, method, step, rows, point, title)
        marks = {i: {"label": x["title"]} for i, x in enumerate(depth.layers)}
        options = [{"label": v, "value": k, "disabled": k not in depth.methods} for k, v in METHOD_LABELS.items()]
        return fig, len(depth.layers) - 1, marks, step, options

    @app.callback(
        Output(ids.LY_CHART, "figure"), Output(ids.LY_INFO, "children"),
        Input(ids.TABS_ID, "value"), Input(ids.DATASET, "value"), Input(ids.MODEL, "value"),
        Input(ids.LY_METHOD, "value"), Input(ids.LY_MEASURE, "value"), Input(ids.LY_FRAME, "value"),
        Input(ids.CLICKED, "data"), Input(ids.SELECTION, "data"), Input(ids.CELL, "data"), Input(ids.FILTER, "data"))
    def describe(tab, ds_name, model, method, measure, step, clicked, sel, cell_data, flt):
        if tab != "layers":
            raise PreventUpdate
        _choice(measure, tuple(D.MEASURES), "chart")
        m, depth, problem = readable(store, ds_name, model)
        chart = D.depth_chart(D.curves(store, model), (measure,), mark=step if isinstance(step, int) else None)
        if depth is None:
            return chart, problem or NONE
        step = min(_int(step or 0, 0, 10_001, "layer"), len(depth.layers) - 1)
        method = method if method in depth.methods else depth.methods[0]
        rows, words = followed(m, sel, cell_data, flt)
        info = [D.layer_words(depth, step, method) + "."]
        point = clicked.get("row") if isinstance(clicked, dict) and clicked.get("ds") == m.ds.name else None
        follows = ([f"{len(rows):,} images of Explore's selection ({words})"] if len(rows) else []) + (
            [f"sample #{int(m.ds.sample_ids[point])}"] if isinstance(point, int) and 0 <= point < m.ds.n else [])
        if follows:
            info.append(" Following " + " and ".join(follows) + ".")
        if m.name != m.ds.pick(model).name:
            info.insert(0, f"{m.ds.pick(model).title} has no layers: showing {m.the_title}. ")
        return chart, info

    @app.callback(Output(ids.CLICKED, "data", allow_duplicate=True), Input(ids.LY_SCATTER, "clickData"),
                  State(ids.DATASET, "value"), State(ids.MODEL, "value"), prevent_initial_call=True)
    def on_click(click, ds_name, model):
        """A click on a framed image follows it through the layers (Explore opens it when the user goes back)."""
        points = _event_points(click)
        if not points or not isinstance(points[0], dict) or points[0].get("curveNumber") != 0:
            raise PreventUpdate  # the rings and the legend's entries are not images to follow
        m, depth, _ = readable(store, ds_name, model)
        if depth is None:
            raise PreventUpdate
        # a typed-array trace's click carries no customdata: its point number is the framed image's
        k = _int(points[0].get("pointNumber"), 0, len(depth.rows), "clicked point")
        return {"ds": m.ds.name, "row": int(depth.rows[k])}

    # the points move in the browser (assets/depth.js): no server round trip per animation frame
    app.clientside_callback(
        """function(step) {
            if (window.explorerDepth && typeof step === 'number') window.explorerDepth.goTo(step);
            return step;
        }""", Output(ids.LY_SHOWN, "data"), Input(ids.LY_FRAME, "value"))
    play_button(app, ids.LY_PLAY, ids.LY_TIMER, ids.LY_FRAME)


def _layer(values, r) -> int:
    """``depth=`` (the layer shown) as plain digits below 100; 0 otherwise."""
    v = last(values) or ""
    return int(v) if v.isascii() and v.isdigit() and len(v) <= 2 else 0


FIELDS = (Field("depth", 0, _layer, control=(ids.LY_FRAME, "value")),
          Field("depthproj", "umap", lambda v, r: last(v) if last(v) in METHOD_LABELS else "umap",
                control=(ids.LY_METHOD, "value")),
          Field("depthchart", "knn", lambda v, r: last(v) if last(v) in D.MEASURES else "knn",
                control=(ids.LY_MEASURE, "value")))


def to_url(s, sync):
    """The slider's layer (an int, which the fields' own reading of text would drop), layout and chart."""
    v = sync.values
    step = v.get("depth")
    return s.replace(depth=step if isinstance(step, int) and not isinstance(step, bool) and 0 <= step < 100 else 0,
                     depthproj=v.get("depthproj") if v.get("depthproj") in METHOD_LABELS else "umap",
                     depthchart=v.get("depthchart") if v.get("depthchart") in D.MEASURES else "knn"), {}


def playing(sync) -> bool:
    """Play moves the slider a layer a step: the URL takes the layer where play stops."""
    return sync.trigger in (ids.LY_FRAME, ids.LY_TIMER) and sync.extra["ly_paused"] is False


VIEW = View("layers", "Layers", order=55, fields=FIELDS, layout=layout, register=register,
            bar=(ids.DATASET_BOX,), inputs={"ly_paused": (ids.LY_TIMER, "disabled")}, to_url=to_url, waits=playing)

"""The "Image map" tab (issue 24): the chosen model's chosen layout snapped to a grid, each cell the
image put there (:mod:`explorer.imagemap`), for all images, Explore's selection (its box or lasso,
confusion cell and filters) or the most atypical images of each class (:mod:`explorer.atypical`), and
one class or all; zoomable, its cells hovered and clicked (a click
opens the image in Explore), downloaded as a PNG at the images' own pixel size or as one HTML file.
"""
from __future__ import annotations

import logging

import numpy as np
from dash import Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate

from .. import ids
from ..atypical import MOST, most_atypical
from ..checks import _event_points, _int, _model
from ..export import export_name
from ..imagemap import MAP_MAX, image_map, map_figure, map_html, map_title
from ..registry import Field, View, last
from ..selection import focus_rows
from ..store import ExplorerStore
from ..widgets import GRAPH_CONFIG, control

log = logging.getLogger(__name__)

HELP = ("The chosen layout snapped to a grid: each image sits in the cell nearest its point, so that "
        "neighbours stay neighbours (a linear assignment). Scroll to zoom, drag to pan, hover an image for "
        "its classes, click it to open it in Explore. Red frames: the model's mistakes.")
SHOW_ALL, SHOW_FOCUS, SHOW_ATYPICAL = "all", "focus", "atypical"
ALL_CLASSES = "all"
NO_FOCUS = "Explore has no selection: drag a box on its scatter or click a confusion cell, then come back."
CONFIG = {**GRAPH_CONFIG, "scrollZoom": True, "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
          "toImageButtonOptions": {**GRAPH_CONFIG.get("toImageButtonOptions", {}), "filename": "image-map"}}


def class_options(names) -> list[dict]:
    """"All classes" and each of ``names``."""
    return [{"label": "All classes", "value": ALL_CLASSES}] + [
        {"label": str(c), "value": str(i)} for i, c in enumerate(names)]


def layout(store: ExplorerStore) -> html.Div:
    """The tab's panel; the map is made when the tab is opened."""
    return html.Div([
        html.P(HELP, className="help"),
        html.Div([
            control("Images", dcc.RadioItems(id=ids.IM_SHOW, value=SHOW_ALL, inline=True, className="radio", options=[
                {"label": f"All (at most {MAP_MAX:,})", "value": SHOW_ALL},
                {"label": "Explore's selection", "value": SHOW_FOCUS},
                {"label": f"The most atypical ({MOST} a class)", "value": SHOW_ATYPICAL}])),
            # the dataset with the most classes; a callback names the shown one's
            control("Class", dcc.Dropdown(id=ids.IM_CLASS, value=ALL_CLASSES, clearable=False, searchable=False,
                                          className="im-class", options=class_options(
                                              max((store.get(n).class_names for n in store.names), key=len)))),
            html.Div([
                html.Button("Download PNG", id=ids.IM_PNG_BTN, className="btn",
                            title="The map at the images' own pixel size (a 28x28 image: 28 px a cell)"),
                html.Button("Export as HTML", id=ids.IM_HTML_BTN, className="btn btn-light",
                            title="The zoomable map as one file that opens without a server"),
                dcc.Download(id=ids.IM_DOWNLOAD),
            ], className="buttons"),
        ], className="controls im-controls"),
        html.P(id=ids.IM_INFO, className="im-info"),
        dcc.Loading(dcc.Graph(id=ids.IM_GRAPH, config=CONFIG, className="im-graph"), type="circle", delay_show=300),
    ], className="imagemap-tab")


def subset(store: ExplorerStore, ds_name, model, show, klass, sel, cell_data, flt):
    """The model and the rows the tab maps with their words; ``rows`` is ``None`` where Explore has no
    selection to show."""
    m = _model(store, ds_name, model)
    ds = m.ds
    rows, words = np.arange(ds.n), f"all {ds.n:,} images"
    if show == SHOW_FOCUS:
        rows, words = focus_rows(m, sel, cell_data, flt)
        if rows is None:
            return m, None, ""
        words = f"Explore's selection ({words})"
    elif show == SHOW_ATYPICAL:
        rows, words = most_atypical(m), f"the {MOST} most atypical images of each class"
    if klass not in (None, ALL_CLASSES):
        k = _int(int(klass) if isinstance(klass, str) and klass.isdigit() else klass, 0, len(ds.class_names), "class")
        rows = rows[ds.labels[rows] == k]
        words = {SHOW_FOCUS: f"class {ds.class_names[k]} in Explore's selection",
                 SHOW_ATYPICAL: f"the {MOST} most atypical images of class {ds.class_names[k]}"}.get(
                     show, f"class {ds.class_names[k]}")
    return m, rows, words


def shown_map(store: ExplorerStore, ds_name, model, proj, *chosen):
    """``(m, imap, rows, words)`` for the tab's controls (``chosen``: :func:`subset`'s after the model); ``imap``
    is ``None`` where there are no rows (``rows`` ``None``: Explore has no selection)."""
    m, rows, words = subset(store, ds_name, model, *chosen)
    if rows is None or not len(rows):
        return m, None, rows, words
    proj = proj if m.has(proj) else next(iter(m.projection_dirs))  # a model without it: its first layout
    return m, image_map(m, proj, rows, words), rows, words


def register(app, store: ExplorerStore) -> None:
    """Attach the tab's callbacks to ``app``."""
    @app.callback(Output(ids.IM_CLASS, "options"), Input(ids.DATASET, "value"))
    def class_names(ds_name):
        return class_options(_model(store, ds_name, None).ds.class_names)

    @app.callback(
        Output(ids.IM_GRAPH, "figure"), Output(ids.IM_INFO, "children"),
        Input(ids.TABS_ID, "value"), Input(ids.DATASET, "value"), Input(ids.MODEL, "value"),
        Input(ids.PROJ, "value"), Input(ids.IM_SHOW, "value"), Input(ids.IM_CLASS, "value"),
        State(ids.SELECTION, "data"), State(ids.CELL, "data"), State(ids.FILTER, "data"))
    def render_map(tab, ds_name, model, proj, show, klass, sel, cell_data, flt):
        if tab != "imagemap":
            raise PreventUpdate  # made when the tab is opened
        m, imap, rows, words = shown_map(store, ds_name, model, proj, show, klass, sel, cell_data, flt)
        if imap is None:
            empty = {"data": [], "layout": {"xaxis": {"visible": False}, "yaxis": {"visible": False},
                                            "margin": {"l": 0, "r": 0, "t": 0, "b": 0}}}
            return empty, NO_FOCUS if rows is None else f"No images: {words} is empty."
        return map_figure(m, imap, f"/imagemap/{imap.key}.png"), [html.B(map_title(m, imap)), ": ", imap.words() + "."]

    @app.callback(
        Output(ids.IM_DOWNLOAD, "data"), Input(ids.IM_PNG_BTN, "n_clicks"), Input(ids.IM_HTML_BTN, "n_clicks"),
        State(ids.DATASET, "value"), State(ids.MODEL, "value"), State(ids.PROJ, "value"), State(ids.IM_SHOW, "value"),
        State(ids.IM_CLASS, "value"), State(ids.SELECTION, "data"), State(ids.CELL, "data"), State(ids.FILTER, "data"),
        prevent_initial_call=True)
    def download(_png, _html, ds_name, model, proj, show, klass, sel, cell_data, flt):
        m, imap, _, _ = shown_map(store, ds_name, model, proj, show, klass, sel, cell_data, flt)
        if imap is None:
            raise PreventUpdate
        if ctx.triggered_id == ids.IM_HTML_BTN:
            return dcc.send_string(map_html(m, imap), filename=export_name(m, imap.projection, "image-map", "html"),
                                   type="text/html")
        return dcc.send_bytes(imap.png, filename=export_name(m, imap.projection, "image-map", "png"), type="image/png")

    @app.callback(
        Output(ids.CLICKED, "data", allow_duplicate=True), Output(ids.TABS_ID, "value", allow_duplicate=True),
        Input(ids.IM_GRAPH, "clickData"), State(ids.DATASET, "value"), prevent_initial_call=True)
    def on_click(click, ds_name):
        """A click on an image opens it in Explore (its detail, its ring on the scatter)."""
        points = _event_points(click)
        if not points or not isinstance(points[0], dict) or points[0].get("customdata") is None:
            raise PreventUpdate
        n = _model(store, ds_name, None).ds.n
        return {"ds": ds_name, "row": _int(points[0]["customdata"], 0, n, "clicked image's row")}, "explore"


def _class_value(v, r) -> str:
    """A ``mapclass=`` value: a class index the datasets have, else all classes."""
    x = last(v)
    return x if x is not None and x.isdigit() and int(x) < r.n_classes else ALL_CLASSES


FIELDS = (Field("map", SHOW_ALL, lambda v, r: last(v) if last(v) in (SHOW_FOCUS, SHOW_ATYPICAL) else SHOW_ALL,
                control=(ids.IM_SHOW, "value")),
          Field("mapclass", ALL_CLASSES, _class_value, control=(ids.IM_CLASS, "value")))

VIEW = View("imagemap", "Image map", order=35, fields=FIELDS, layout=layout, register=register,
            bar=(ids.DATASET_BOX, ids.PROJ_BOX))

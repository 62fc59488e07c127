"""Explore's 3-D view: the 2-D / 3-D switch's boxes, the 3-D figure's callback, and its drawing.

With "3-D" chosen (control bar, URL ``dims=3``) the Explore tab shows the chosen model's chosen
projection laid out in 3-D (:mod:`explorer.figures3d`; PCA where the run made no 3-D t-SNE or
UMAP, with a note saying how to add them), coloured, focused and clicked as the 2-D scatter is.
The server only computes the figure; ``assets/view3d.js`` draws it with the 3-D view's own
plotly.js, fetched the first time a 3-D view is opened.  Box and lasso selection are 2-D only:
a selection made there is shown here.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from .. import ids
from ..checks import _model
from ..figures3d import projection_3d, scatter3d_figure
from ..registry import Field, last
from ..selection import FOUND_MAX, find_rows, focus_rows
from ..widgets import GRAPH_CONFIG

BUNDLE = Path(__file__).resolve().parent.parent / "assets" / "plotly-3d.min.js"
HOW = "Drag to turn, scroll to zoom, hover a point for its image, click it for its neighbours. Box and lasso select in 2-D."
CONFIG_3D = {**GRAPH_CONFIG, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud", "resetCameraLastSave3d"],
             "toImageButtonOptions": {**GRAPH_CONFIG["toImageButtonOptions"], "filename": "embedding-explorer-3d"}}
#: Explore's ``dims=3`` (the switch sits in the shared control bar, shown on Explore only)
DIMS_FIELD = Field("dims", 2, lambda v, r: 3 if last(v) == "3" else 2, lambda d: ["3"] if d == 3 else [],
                   (ids.DIMS, "value"), at=8)


def box() -> html.Div:
    """The 3-D view's box beside the 2-D scatter in Explore's main plot (hidden until 3-D is chosen)."""
    return html.Div([
        html.Div(HOW, id=ids.SCATTER3D_NOTE, className="note3d"),
        # a plain div: view3d.js draws into it (class explorer-scatter: hover.js binds to the plot in it)
        html.Div(id=ids.SCATTER3D, className="scatter3d-plot"),
        dcc.Store(id=ids.SCATTER3D_FIG), dcc.Store(id=ids.SCATTER3D_KEY),
    ], id=ids.PLOT3D_BOX, className="explorer-scatter plot3d-box", style={"display": "none"})


def register(app, store) -> None:
    """Attach the 3-D view's callbacks to ``app``."""
    def bundle_url() -> str:
        # fingerprinted by the file's time: a rebuilt bundle is fetched again, an unchanged one cached
        stamp = int(BUNDLE.stat().st_mtime) if BUNDLE.exists() else 0
        return app.get_asset_url(BUNDLE.name) + f"?m={stamp}"

    app.clientside_callback(
        "function(dims) { return window.explorer3d ? window.explorer3d.show(dims) : "
        "[dims === 3 ? {display: 'none'} : {}, dims === 3 ? {} : {display: 'none'}]; }",
        Output(ids.SCATTER, "style"), Output(ids.PLOT3D_BOX, "style"), Input(ids.DIMS, "value"))

    @app.callback(
        Output(ids.SCATTER3D_FIG, "data"), Output(ids.SCATTER3D_NOTE, "children"), Output(ids.SCATTER3D_KEY, "data"),
        Input(ids.TABS_ID, "value"), Input(ids.DIMS, "value"), Input(ids.DATASET, "value"), Input(ids.MODEL, "value"),
        Input(ids.PROJ, "value"), Input(ids.COLOUR, "value"), Input(ids.CELL, "data"), Input(ids.SELECTION, "data"),
        Input(ids.CLICKED, "data"), Input(ids.FILTER, "data"), Input(ids.FIND, "value"),
        State(ids.SCATTER3D_NOTE, "children"), State(ids.SCATTER3D_KEY, "data"))
    def render_3d(tab, dims, ds_name, model, proj, colour, cell_data, sel, clicked, flt, find, note, drawn):
        if tab != "explore" or dims != 3:
            raise PreventUpdate  # nothing is computed for a 3-D view nobody looks at
        # back to 3-D (or to the tab) with nothing changed: the figure drawn in the hidden box stands
        key = hashlib.sha1(json.dumps([ds_name, model, proj, colour, cell_data, sel, clicked, flt, find],
                                      sort_keys=True, default=str).encode()).hexdigest()
        if key == drawn:
            raise PreventUpdate
        m = _model(store, ds_name, model, proj, colour)
        shown, why = projection_3d(m, proj)
        text = f"{why} {HOW}" if why else HOW
        if shown is None:
            return None, text, key
        highlight, _ = focus_rows(m, sel, cell_data, flt)
        row = clicked.get("row") if isinstance(clicked, dict) and clicked.get("ds") == ds_name else None
        row = row if isinstance(row, int) and not isinstance(row, bool) and 0 <= row < m.ds.n else None
        found, _ = find_rows(m, find)
        fig = scatter3d_figure(m, shown, colour, highlight=highlight, clicked=row,
                               found=None if found is None else found[:FOUND_MAX])
        return {"figure": fig, "config": CONFIG_3D, "bundle": bundle_url()}, (text if text != note else no_update), key

    app.clientside_callback(
        "function(spec) { if (window.explorer3d) window.explorer3d.draw(spec); "
        "return window.dash_clientside.no_update; }",
        Output(ids.SCATTER3D, "role"), Input(ids.SCATTER3D_FIG, "data"))

"""The "Compare projections" tab: one dataset in two views, selections linked between them."""
from __future__ import annotations

import logging

from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from .. import figures as F
from .. import ids
from ..checks import _choice, _event_points, _rows_of, _view
from ..store import PROJECTION_LABELS, PROJECTIONS, SPACE_LABELS, SPACES, ExplorerStore
from ..widgets import control, radio, scatter_graph

log = logging.getLogger(__name__)

HELP = ("One dataset in two views. Select points in either view and the same images light up "
        "in the other: does t-SNE cut a cluster that UMAP keeps whole? "
        "Does the CNN separate what raw pixels mix?")
VIEW_HEIGHT = "calc(100vh - 260px)"


def layout(store: ExplorerStore) -> html.Div:
    """The right view's controls (the left one follows the shared bar) and the two scatters."""
    return html.Div([
        html.P(HELP, className="help"),
        html.Div([
            html.Span("Left view: the space and projection chosen above.", className="ctl-label"),
            control("Right view · space", radio(ids.SPACE2, SPACE_LABELS, "cnn")),
            control("projection", radio(ids.PROJ2, PROJECTION_LABELS, "tsne")),
            html.Span(id=ids.CP_COUNT, className="count"),
        ], className="controls controls-2"),
        html.Div([html.Div(scatter_graph(ids.CP_LEFT, VIEW_HEIGHT), className="half"),
                  html.Div(scatter_graph(ids.CP_RIGHT, VIEW_HEIGHT), className="half")], className="pair"),
        dcc.Store(id=ids.CP_LINKED),
    ])


def register(app, store: ExplorerStore) -> None:
    """Attach the tab's callbacks to ``app``."""
    @app.callback(
        Output(ids.CP_LINKED, "data"),
        Input(ids.CP_LEFT, "selectedData"), Input(ids.CP_RIGHT, "selectedData"),
        Input(ids.DATASET, "value"), Input(ids.COLOUR, "value"), prevent_initial_call=True)
    def on_linked_select(left, right, ds_name, colour):
        trig = ctx.triggered_id
        if trig not in (ids.CP_LEFT, ids.CP_RIGHT):
            return None
        points = _event_points(left if trig == ids.CP_LEFT else right)
        if not points:
            return None
        rows = F.rows_from_points(_view(store, ds_name, colour=colour), colour, points)
        return {"ds": ds_name, "source": trig, "rows": rows.tolist()}

    @app.callback(
        Output(ids.CP_LEFT, "figure"), Output(ids.CP_RIGHT, "figure"), Output(ids.CP_COUNT, "children"),
        Output(ids.CP_RENDERED, "data"),
        Input(ids.TABS_ID, "value"), Input(ids.DATASET, "value"), Input(ids.SPACE, "value"),
        Input(ids.PROJ, "value"), Input(ids.SPACE2, "value"), Input(ids.PROJ2, "value"),
        Input(ids.COLOUR, "value"), Input(ids.CP_LINKED, "data"), State(ids.CP_RENDERED, "data"))
    def render_projections(tab, ds_name, space, proj, space2, proj2, colour, linked, rendered):
        if tab != "projections":
            raise PreventUpdate
        ds = _view(store, ds_name, space, proj, colour)
        _view(store, ds_name, _choice(space2, SPACES, "space"), _choice(proj2, PROJECTIONS, "projection"))
        rows = _rows_of(linked, ds_name, ds.n)
        count = (f"{len(rows):,} selected, highlighted in both views" if rows is not None
                 else "Select points in either view")
        key = f"{ds_name}/{space}/{proj}/{space2}/{proj2}/{colour}"
        if key == rendered:
            if ctx.triggered_id != ids.CP_LINKED:
                raise PreventUpdate
            return (F.highlight_patch(ds, space, proj, colour, rows),
                    F.highlight_patch(ds, space2, proj2, colour, rows), count, no_update)
        left = F.scatter_figure(ds, space, proj, colour, highlight=rows)
        right = F.scatter_figure(ds, space2, proj2, colour, highlight=rows, legend=False)
        left["layout"]["uirevision"] = f"L/{key}"
        right["layout"]["uirevision"] = f"R/{key}"
        return left, right, count, key

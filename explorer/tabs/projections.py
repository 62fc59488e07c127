"""The "Compare models" tab: one dataset through two models (and projections) side by side,
selections linked between the views, and every model of the dataset in one table."""
from __future__ import annotations

import logging

from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from .. import figures as F
from .. import ids
from ..checks import _choice, _event_points, _model, _rows_of, _view
from ..controls import layout_of, model_options, model_reader
from ..models_table import models_table
from ..registry import Field, Live, Sync, View, ViewState, always, pick
from ..store import ExplorerStore, method_facts, projections
from ..widgets import control, method_radio, scatter_graph

log = logging.getLogger(__name__)

HELP = ("One dataset through two models side by side. Select points in either view and the same images "
        "light up in the other: does the CNN separate what raw pixels mix? Does t-SNE cut a cluster that "
        "UMAP keeps whole? The table below scores every model of the dataset on the same samples.")
VIEW_HEIGHT = "calc(100vh - 290px)"


def layout(store: ExplorerStore) -> html.Div:
    """The right view's controls (the left one follows the shared bar), the two scatters, the models table."""
    first = store.get(store.names[0])
    right = first.other_model(first.default_model)
    return html.Div([
        html.P(HELP, className="help"),
        html.Div([
            html.Span("Left view: the model and projection chosen above.", className="ctl-label"),
            control("Right view · model",
                    dcc.RadioItems(id=ids.MODEL2, options=[{"label": m.title, "value": m.name}
                                                           for m in first.models.values()],
                                   value=right.name, inline=True, className="radio")),
            control("projection", method_radio(ids.PROJ2, method_facts(store), "tsne")),
            html.Span(id=ids.CP_COUNT, className="count"),
        ], className="controls controls-2"),
        html.Div([html.Div(scatter_graph(ids.CP_LEFT, VIEW_HEIGHT), className="half"),
                  html.Div(scatter_graph(ids.CP_RIGHT, VIEW_HEIGHT), className="half")], className="pair"),
        html.Div(id=ids.CP_TABLE, className="models-box", tabIndex="0", role="region", **{"aria-label": "Models table"}),
        dcc.Store(id=ids.CP_LINKED), dcc.Store(id=ids.CP_RENDERED),
    ])


def register(app, store: ExplorerStore) -> None:
    """Attach the tab's callbacks to ``app``."""
    @app.callback(
        Output(ids.CP_LINKED, "data"),
        Input(ids.CP_LEFT, "selectedData"), Input(ids.CP_RIGHT, "selectedData"),
        Input(ids.DATASET, "value"), Input(ids.MODEL, "value"), Input(ids.MODEL2, "value"),
        Input(ids.COLOUR, "value"), Input(ids.PROJ, "value"), Input(ids.PROJ2, "value"),
        prevent_initial_call=True)
    def on_linked_select(left, right, ds_name, model, model2, colour, proj, proj2):
        trig = ctx.triggered_id
        if trig not in (ids.CP_LEFT, ids.CP_RIGHT):
            return None
        points = _event_points(left if trig == ids.CP_LEFT else right)
        if not points:
            return None
        # the points' traces are the groups of the model drawn in the view they came from
        m = _model(store, ds_name, model if trig == ids.CP_LEFT else model2, colour=colour)
        # faithfulness colours group by the view's own layout
        rows = F.rows_from_points(m, colour, points, proj if trig == ids.CP_LEFT else proj2)
        return {"ds": ds_name, "source": trig, "rows": rows.tolist()}

    @app.callback(
        Output(ids.CP_LEFT, "figure"), Output(ids.CP_RIGHT, "figure"), Output(ids.CP_COUNT, "children"),
        Output(ids.CP_RENDERED, "data"),
        Input(ids.TABS_ID, "value"), Input(ids.DATASET, "value"), Input(ids.MODEL, "value"),
        Input(ids.PROJ, "value"), Input(ids.MODEL2, "value"), Input(ids.PROJ2, "value"),
        Input(ids.COLOUR, "value"), Input(ids.CP_LINKED, "data"), State(ids.CP_RENDERED, "data"))
    def render_projections(tab, ds_name, model, proj, model2, proj2, colour, linked, rendered):
        if tab != "projections":
            raise PreventUpdate
        left_m = _model(store, ds_name, model, proj, colour)
        right_m = _model(store, ds_name, model2, _choice(proj2, projections(_view(store, ds_name)), "projection"))
        ds = left_m.ds
        rows = _rows_of(linked, ds_name, ds.n)
        count = (f"{len(rows):,} selected, highlighted in both views" if rows is not None
                 else "Select points in either view")
        key = f"{ds_name}/{left_m.name}/{proj}/{right_m.name}/{proj2}/{colour}"
        if key == rendered:
            if ctx.triggered_id != ids.CP_LINKED:
                raise PreventUpdate
            return (F.highlight_patch(left_m, proj, colour, rows),
                    F.highlight_patch(right_m, proj2, colour, rows), count, no_update)
        left = F.scatter_figure(left_m, proj, colour, highlight=rows)
        right = F.scatter_figure(right_m, proj2, colour, highlight=rows, legend=False)
        # a half is under 720 px wide on most screens, where assets/hover.js puts the legend beneath the points:
        # drawn there from the start, the points do not jump 100 px a moment after they appear (wider, it moves
        # beside them)
        left["layout"]["legend"].update({"orientation": "h", "x": 0, "xanchor": "left", "y": -0.01, "yanchor": "top",
                                         "title": {"text": ""}})
        left["layout"]["uirevision"] = f"L/{key}"
        right["layout"]["uirevision"] = f"R/{key}"
        return left, right, count, key

    @app.callback(
        Output(ids.CP_TABLE, "children"),
        Input(ids.TABS_ID, "value"), Input(ids.DATASET, "value"), Input(ids.MODEL, "value"),
        Input(ids.PROJ, "value"), Input(ids.MODEL2, "value"), Input(ids.PROJ2, "value"))
    def render_models_table(tab, ds_name, model, proj, model2, proj2=None):
        if tab != "projections":
            raise PreventUpdate
        left = _model(store, ds_name, model, proj)
        right = _model(store, ds_name, model2)
        proj2 = _choice(proj2, projections(left.ds), "projection") if proj2 is not None else None
        return models_table(left.ds, store.report, proj, (left.name, right.name), proj2)


# -- the URL: the right view's model and projection --------------------------------------------
FIELDS = (
    Field("model2", "", model_reader(1), always, (ids.MODEL2, "value"), at=5),
    Field("proj2", "tsne", lambda v, r: pick(v, r.projections, "tsne"), always, (ids.PROJ2, "value"), at=6),
)


def from_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The right view from a URL: a layout its model lacks opens as one it has."""
    m = sync.model
    s = s.replace(proj2=layout_of(m.ds.models.get(s.model2, m), s.proj2))
    return s, {"model2": s.model2, "proj2": s.proj2, "options2": model_options(sync.dataset)}


def to_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The right view for the URL: a model the dataset lacks becomes another than the left one."""
    ds, model2, proj2, out = sync.dataset, sync.values["model2"], sync.values["proj2"], {}
    if sync.trigger == ids.DATASET:
        out["options2"] = model_options(ds)
    right = model2 if isinstance(model2, str) and model2 in ds.models else ds.other_model(sync.model.name).name
    if right != model2:
        out["model2"] = right
    if isinstance(proj2, str) and layout_of(ds.models[right], proj2) != proj2:
        proj2 = out["proj2"] = layout_of(ds.models[right], proj2)
    return s.replace(model2=right, proj2=proj2), out


def on_live(live: Live) -> dict:
    """A model that just landed joins the right view's choices."""
    options = model_options(live.dataset) if live.dataset is not None else None
    return {"options2": options} if options is not None and options != live.values.get("options2") else {}


VIEW = View("projections", "Compare models", order=40, fields=FIELDS, layout=layout, register=register,
            outputs={"options2": (ids.MODEL2, "options")}, from_url=from_url, to_url=to_url,
            live={"options2": (ids.MODEL2, "options")}, on_live=on_live)

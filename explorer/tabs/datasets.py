"""The "Compare datasets" tab: every dataset's scatter under the same controls, and the
separability report (bars and one card per dataset)."""
from __future__ import annotations

import logging

from dash import ALL, Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate

from .. import figures as F
from .. import ids
from ..checks import _model
from ..panels import report_tables
from ..store import ExplorerStore
from ..widgets import scatter_graph

log = logging.getLogger(__name__)


def help_text(titles: list[str]) -> str:
    """The tab's help line, naming the datasets the page shows."""
    names = " and ".join(titles) if len(titles) <= 2 else ", ".join(titles[:-1]) + " and " + titles[-1]
    return (f"{names or 'The datasets'} through the same model, projection and colouring (a dataset without "
            "the chosen model shows its default one). "
            "The bars below score how well the classes separate: k-NN accuracy in the full space and "
            "in 2-D, silhouette and trustworthiness (how faithfully 2-D keeps neighbourhoods).")


def layout(store: ExplorerStore) -> html.Div:
    """One half-width scatter per dataset, then the report."""
    return html.Div([
        html.P(help_text([store.get(n).title for n in store.names]), className="help"),
        html.Div([html.Div(scatter_graph(ids.per_dataset(ids.CD_SCATTER, n), "min(62vh, 560px)"),
                           className="half", id=f"cd-half-{n}") for n in store.names], className="pair"),
        html.Div([
            html.Div(dcc.Graph(id=ids.CD_BARS, config={"displayModeBar": False}), className="report-bars"),
            html.Div(id=ids.CD_REPORT, className="report-table"),
        ], className="report"),
    ])


def register(app, store: ExplorerStore) -> None:
    """Attach the tab's callback to ``app``."""
    @app.callback(
        output=dict(scatters=Output(ids.per_dataset(ids.CD_SCATTER, ALL), "figure"),
                    bars=Output(ids.CD_BARS, "figure"), report=Output(ids.CD_REPORT, "children"),
                    rendered=Output(ids.CD_RENDERED, "data")),
        inputs=dict(tab=Input(ids.TABS_ID, "value"), model=Input(ids.MODEL, "value"),
                    proj=Input(ids.PROJ, "value"), colour=Input(ids.COLOUR, "value")),
        state=dict(rendered=State(ids.CD_RENDERED, "data")))
    def render_datasets(tab, model, proj, colour, rendered):
        key = f"{model}/{proj}/{colour}"
        if tab != "datasets" or key == rendered:
            raise PreventUpdate
        figs = []
        # one figure per scatter the page holds, in its order (a page may predate a new dataset)
        for o in ctx.outputs_grouping["scatters"]:
            n = o["id"].get("dataset") if isinstance(o.get("id"), dict) else None
            m = _model(store, n, model, proj, colour)  # the chosen model, or this dataset's default
            fig = F.scatter_figure(m, proj, colour, legend=True)
            fig["layout"]["uirevision"] = f"{n}/{m.name}/{key}"
            figs.append(fig)
        report = store.report
        shown = {n: store.get(n).pick(model).name for n in store.names}
        return {"scatters": figs,
                "bars": F.separability_figure(report, shown, proj, colours=F.dataset_colours(store)),
                "report": report_tables(store, report, shown, proj), "rendered": key}

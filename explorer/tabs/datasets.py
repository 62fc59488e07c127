"""The "Compare datasets" tab: the chosen datasets' scatters under the same controls, and the
separability report (bars, a summary and one card per dataset, with where its images come from).

Which datasets are compared is a checklist of every dataset the page holds (all at first;
the URL's ``compare=`` keeps another choice), so any two, a built-in and an imported one
say, can sit side by side.
"""
from __future__ import annotations

import logging

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from .. import figures as F
from .. import ids
from ..checks import BadInput, _model, _short
from ..depth import curves as depth_curves
from ..depth import depth_chart
from ..panels import report_tables
from ..registry import Field, Sync, View, ViewState, last
from ..store import ExplorerStore, method_title
from ..widgets import GRAPH_CONFIG, control, scatter_graph

log = logging.getLogger(__name__)
#: the scatters' toolbar without the box and lasso, which would select what nothing here shows
NO_SELECT_CONFIG = {**GRAPH_CONFIG,
                    "modeBarButtonsToRemove": [*GRAPH_CONFIG["modeBarButtonsToRemove"], "select2d", "lasso2d"]}


def help_text(titles: list[str]) -> str:
    """The tab's help line, naming the datasets the page shows."""
    names = " and ".join(titles) if len(titles) <= 2 else ", ".join(titles[:-1]) + " and " + titles[-1]
    return (f"{names or 'The datasets'} through the same model, projection and colouring (a dataset without "
            "the chosen model shows its default one). "
            "The bars below score how well the classes separate: k-NN accuracy in the full space and "
            "in 2-D, silhouette and trustworthiness (how faithfully 2-D keeps neighbourhoods).")


def chosen_names(store: ExplorerStore, value) -> list[str]:
    """The compared datasets in the page's order: the checklist's names that the store holds;
    every dataset when the checklist has not said (``None``).

    Raises
    ------
    BadInput
        For anything but a list of names.
    """
    if value is None:
        return store.names
    if not isinstance(value, list) or len(value) > 1000 or not all(isinstance(v, str) for v in value):
        raise BadInput(f"compared datasets must be a list of names (got {_short(value)})")
    return [n for n in store.names if n in value]


def layout(store: ExplorerStore) -> html.Div:
    """The datasets to compare, one half-width scatter per dataset, then the report."""
    return html.Div([
        html.P(help_text([store.get(n).title for n in store.names]), className="help"),
        html.Div(control("Datasets compared", dcc.Checklist(
            id=ids.CD_SHOWN, options=[{"label": store.get(n).title, "value": n} for n in store.names],
            value=store.names, inline=True, className="radio")), className="controls controls-2",
            style={} if len(store.names) > 2 else {"display": "none"}),
        html.Div([html.Div(html.Div(scatter_graph(ids.per_dataset(ids.CD_SCATTER, n), "min(62vh, 560px)",
                                                  NO_SELECT_CONFIG),
                                    className="half", id=f"cd-half-{n}"),
                           id=ids.per_dataset(ids.CD_SLOT, n), className="cd-slot") for n in store.names],
                 className="pair"),
        html.Div([
            html.Div(dcc.Graph(id=ids.CD_BARS, config={"displayModeBar": False}), className="report-bars"),
            # separability by depth (the Layers tab's chart): k-NN accuracy and the linear probe, layer by layer
            html.Div(dcc.Graph(id=ids.CD_DEPTH, config={"displayModeBar": False}), className="report-bars cd-depth"),
            html.Div(id=ids.CD_REPORT, className="report-table"),
        ], className="report"),
        dcc.Store(id=ids.CD_RENDERED),
    ])


def register(app, store: ExplorerStore) -> None:
    """Attach the tab's callbacks to ``app``."""
    @app.callback(Output(ids.per_dataset(ids.CD_SLOT, ALL), "style"), Input(ids.CD_SHOWN, "value"))
    def show_compared(value):
        chosen = set(chosen_names(store, value))
        slots = ctx.outputs_list if isinstance(ctx.outputs_list, list) else [ctx.outputs_list]
        return [{} if isinstance(o.get("id"), dict) and o["id"].get("dataset") in chosen else {"display": "none"}
                for o in slots]

    @app.callback(
        output=dict(scatters=Output(ids.per_dataset(ids.CD_SCATTER, ALL), "figure"),
                    bars=Output(ids.CD_BARS, "figure"), report=Output(ids.CD_REPORT, "children"),
                    depth=Output(ids.CD_DEPTH, "figure"), depth_shown=Output(ids.CD_DEPTH, "style"),
                    rendered=Output(ids.CD_RENDERED, "data")),
        inputs=dict(tab=Input(ids.TABS_ID, "value"), model=Input(ids.MODEL, "value"),
                    proj=Input(ids.PROJ, "value"), colour=Input(ids.COLOUR, "value"),
                    compared=Input(ids.CD_SHOWN, "value")),
        state=dict(rendered=State(ids.CD_RENDERED, "data")))
    def render_datasets(tab, model, proj, colour, compared, rendered):
        chosen = chosen_names(store, compared)
        drawn = f"{model}/{proj}/{colour}"
        key = f"{drawn}|{','.join(chosen)}"
        if tab != "datasets" or key == rendered:
            raise PreventUpdate
        # the scatters depend on the controls only: another choice of datasets shows or hides them
        redraw = not isinstance(rendered, str) or rendered.split("|")[0] != drawn
        figs = []
        # one figure per scatter the page holds, in its order (a page may predate a new dataset)
        for o in ctx.outputs_grouping["scatters"]:
            n = o["id"].get("dataset") if isinstance(o.get("id"), dict) else None
            m = _model(store, n, model, proj, colour)  # the chosen model, or this dataset's default
            if not redraw:
                figs.append(no_update)
                continue
            fig = F.scatter_figure(m, proj, colour, legend=True)
            fig["layout"]["uirevision"] = f"{n}/{m.name}/{drawn}"
            # nothing here uses a selection (Explore and Compare models do): a drag pans, it draws no box
            fig["layout"]["dragmode"] = "pan"
            figs.append(fig)
        report = store.report
        shown = {n: store.get(n).pick(model).name for n in chosen}
        colours = F.dataset_colours(store)
        curves = depth_curves(store, model, chosen)
        return {"scatters": figs, "depth": depth_chart(curves, ("knn", "probe"), height=340),
                "depth_shown": {} if curves else {"display": "none"},
                "bars": F.separability_figure(report, shown, proj, colours={n: colours[n] for n in chosen},
                                              projection_title=method_title(store, proj)),
                "report": report_tables(store, report, shown, proj) if chosen else
                [html.P("Tick a dataset above to compare it.", className="placeholder")], "rendered": key}


# -- the URL: the datasets compared (none written: every one) ----------------------------------
def read_compare(values, r) -> tuple[str, ...]:
    """The cache's datasets the URL names, in the cache's order; ``()`` for every one."""
    wanted = set((last(values) or "").split(","))
    chosen = tuple(n for n in r.datasets if n in wanted)
    return () if len(chosen) == len(r.datasets) else chosen


COMPARE = Field("compare", (), read_compare, lambda c: [",".join(c)] if c else [], (ids.CD_SHOWN, "value"), at=17)


def from_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The checklist from a URL: the datasets it names, or every one."""
    return s, {"compare": list(s.compare or sync.names)}


def to_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The checklist for the URL: nothing while every dataset is ticked."""
    held, names = sync.values["compare"], sync.names
    chosen = tuple(n for n in names if isinstance(held, list) and n in held)
    return s.replace(compare=() if held is None or len(chosen) == len(names) else chosen), {}


VIEW = View("datasets", "Compare datasets", order=30, fields=(COMPARE,), layout=layout, register=register,
            bar=(ids.PROJ_BOX, ids.COLOUR_BOX), from_url=from_url, to_url=to_url)

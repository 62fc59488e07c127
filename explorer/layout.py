"""The page: a header, four tabs, one shared control bar and the panels of each tab.

Component ids are the constants below; callbacks import them from here.  The layout
is built per page load (``app.layout = lambda: build_layout(store)``), so a dataset
the pipeline finished after the server started appears on the next load.
"""
from __future__ import annotations

from dash import dcc, html

from . import dynamics as D
from .state import COLOUR_LABELS, COLOURS, TABS
from .store import PROJECTION_LABELS, PROJECTIONS, SPACE_LABELS, SPACES, ExplorerStore

URL = "url"
TABS_ID = "tabs"
DATASET, SPACE, PROJ, COLOUR = "ctl-dataset", "ctl-space", "ctl-proj", "ctl-colour"
DATASET_BOX, SPACE_BOX, PROJ_BOX = "ctl-dataset-box", "ctl-space-box", "ctl-proj-box"
SPACE2, PROJ2 = "ctl-space2", "ctl-proj2"
# Explore
SCATTER, CONFUSION, DETAIL = "ex-scatter", "ex-confusion", "ex-detail"
CELL, SELECTION, CLICKED = "ex-cell", "ex-selection", "ex-clicked"
FOCUS_TITLE, HIST, GALLERY = "ex-focus-title", "ex-hist", "ex-gallery"
DOWNLOAD_BTN, DOWNLOAD, CLEAR_BTN = "ex-download-btn", "ex-download", "ex-clear"
# Compare datasets / projections
CD_SCATTER = "cd-scatter"  # pattern id {"type": CD_SCATTER, "dataset": name}
CD_REPORT, CD_BARS = "cd-report", "cd-bars"
CP_LEFT, CP_RIGHT, CP_LINKED, CP_COUNT = "cp-left", "cp-right", "cp-linked", "cp-count"
HOVER_TIP = "hover-tip"
# Training dynamics; per-dataset ids are {"type": ..., "dataset": name}
DY_SCATTER, DY_CHART, DY_PAIR, DY_STATS = "dy-scatter", "dy-chart", "dy-pair", "dy-stats"
DY_FRAME, DY_PLAY, DY_TIMER, DY_FRAME_LABEL, DY_SHOWN = "dy-frame", "dy-play", "dy-timer", "dy-frame-label", "dy-shown"
DY_RENDERED = "dy-rendered"
# page-wide: one-line messages, pipeline progress and "new dataset ready"
ALERT, ALERT_TEXT, ALERT_CLOSE = "alert", "alert-text", "alert-close"
BANNER, BANNER_TEXT, RELOAD_BTN, STATUS_POLL, PAGE_DATASETS = (
    "banner", "banner-text", "banner-reload", "status-poll", "page-datasets")
NO_DYNAMICS = ("No per-epoch snapshots for this model: retrain with `python -m pipeline all` "
               "(snapshots are on by default; `--snapshot-samples 2000`) to record them.")
STATUS_POLL_MS = 2000
# what each tab's figures were last drawn for, so a tab switch redraws nothing
EX_RENDERED, CD_RENDERED, CP_RENDERED = "ex-rendered", "cd-rendered", "cp-rendered"

TAB_LABELS = {"explore": "Explore", "datasets": "Compare datasets", "projections": "Compare projections",
              "dynamics": "Training dynamics"}
HELP = {
    "explore": ("Each dot is one test image, placed by the chosen projection of the chosen space. "
                "Hover a dot to see its image; click it for its top-3 probabilities and nearest neighbours; "
                "drag a box (or pick the lasso in the toolbar) to select; scroll to zoom. "
                "Click a cell of the confusion matrix to light up exactly those images."),
    "datasets": ("MNIST and Fashion-MNIST under the same space, projection and colouring. "
                 "The bars below score how well the classes separate: k-NN accuracy in the full space and "
                 "in 2-D, silhouette and trustworthiness (how faithfully 2-D keeps neighbourhoods)."),
    "projections": ("One dataset in two views. Select points in either view and the same images light up "
                    "in the other: does t-SNE cut a cluster that UMAP keeps whole? "
                    "Does the CNN separate what raw pixels mix?"),
    "dynamics": ("The same test images in the CNN's embedding while it trained: untrained, at fractions of the "
                 "first epoch, then after each epoch. Frames are aligned (warm-started t-SNE, each frame starts "
                 "from the previous one), so a point moves only when the network moved it. Digits separate within "
                 "the first fraction of an epoch; T-shirt/Shirt/Pullover/Coat stay entangled to the end."),
}
GRAPH_CONFIG = {"scrollZoom": True, "displaylogo": False, "doubleClick": "reset",
                "modeBarButtonsToRemove": ["toImage", "autoScale2d"]}


def _radio(id_: str, options: dict[str, str], value: str) -> dcc.RadioItems:
    return dcc.RadioItems(id=id_, options=[{"label": v, "value": k} for k, v in options.items()],
                          value=value, inline=True, className="radio")


def _control(label: str, component, id_: str | None = None) -> html.Div:
    return html.Div([html.Span(label, className="ctl-label"), component], className="ctl", id=id_ or "")


def _scatter(id_, height: str | None) -> dcc.Graph:
    return dcc.Graph(id=id_, className="explorer-scatter", config=GRAPH_CONFIG,
                     style={"height": height} if height else {}, clear_on_unhover=True)


def controls(store: ExplorerStore) -> html.Div:
    datasets = {n: store.get(n).title for n in store.names}
    return html.Div([
        _control("Dataset", _radio(DATASET, datasets, store.names[0]), DATASET_BOX),
        _control("Space", _radio(SPACE, SPACE_LABELS, "cnn"), SPACE_BOX),
        _control("Projection", _radio(PROJ, PROJECTION_LABELS, "umap"), PROJ_BOX),
        _control("Colour by", _radio(COLOUR, {c: COLOUR_LABELS[c] for c in COLOURS}, "true")),
    ], className="controls")


def explore_tab(store: ExplorerStore) -> html.Div:
    return html.Div([
        html.P(HELP["explore"], className="help"),
        html.Div([
            # a fixed height: opening a sample's neighbours must not resize (and move) the plot
            html.Div(_scatter(SCATTER, None), className="main-plot"),
            html.Div([
                dcc.Graph(id=CONFUSION, config={"displayModeBar": False}, className="confusion"),
                html.Div(id=DETAIL, className="detail",
                         children=html.P("Click a point to see its image, top-3 probabilities and its nearest "
                                         "neighbours.", className="placeholder")),
            ], className="side"),
        ], className="explore-grid"),
        html.Div([
            html.Div([
                html.H3(id=FOCUS_TITLE, children="Selection: drag a box on the scatter or click a confusion cell"),
                html.Div([
                    html.Button("Download CSV", id=DOWNLOAD_BTN, className="btn", disabled=True),
                    html.Button("Clear", id=CLEAR_BTN, className="btn btn-light"),
                ], className="buttons"),
            ], className="focus-head"),
            html.Div([
                dcc.Graph(id=HIST, config={"displayModeBar": False}, className="hist",
                          style={"display": "none"}),
                html.Div(id=GALLERY, className="gallery"),
            ], className="focus-body"),
            dcc.Download(id=DOWNLOAD),
        ], className="focus"),
    ])


def datasets_tab(store: ExplorerStore) -> html.Div:
    return html.Div([
        html.P(HELP["datasets"], className="help"),
        html.Div([html.Div(_scatter({"type": CD_SCATTER, "dataset": n}, "min(62vh, 560px)"), className="half",
                           id=f"cd-half-{n}") for n in store.names], className="pair"),
        html.Div([
            html.Div(dcc.Graph(id=CD_BARS, config={"displayModeBar": False}), className="report-bars"),
            html.Div(id=CD_REPORT, className="report-table"),
        ], className="report"),
    ])


def projections_tab(store: ExplorerStore) -> html.Div:
    return html.Div([
        html.P(HELP["projections"], className="help"),
        html.Div([
            html.Span("Left view: the space and projection chosen above.", className="ctl-label"),
            _control("Right view · space", _radio(SPACE2, SPACE_LABELS, "cnn")),
            _control("projection", _radio(PROJ2, PROJECTION_LABELS, "tsne")),
            html.Span(id=CP_COUNT, className="count"),
        ], className="controls controls-2"),
        html.Div([html.Div(_scatter(CP_LEFT, "calc(100vh - 260px)"), className="half"),
                  html.Div(_scatter(CP_RIGHT, "calc(100vh - 260px)"), className="half")], className="pair"),
        dcc.Store(id=CP_LINKED),
    ])


def _dynamics_half(store: ExplorerStore, name: str) -> html.Div:
    ds = store.get(name)
    if ds.dynamics is None:
        return html.Div([html.H3(ds.title), html.P(NO_DYNAMICS, className="placeholder no-dynamics")],
                        className="half dy-half dy-empty", id=f"dy-half-{name}")
    pid = {"dataset": name}
    a, b = D.default_pair(ds)
    return html.Div([
        html.Div(dcc.Graph(id={"type": DY_SCATTER, **pid}, className="explorer-scatter dynamics-scatter",
                           config={**GRAPH_CONFIG, "modeBarButtonsToRemove": GRAPH_CONFIG["modeBarButtonsToRemove"]
                                   + ["select2d", "lasso2d"]}),
                 className="dy-plot"),
        html.Div([
            html.Div([html.Span("Class pair", className="ctl-label"),
                      dcc.Dropdown(id={"type": DY_PAIR, **pid}, options=D.pair_options(ds), value=f"{a}-{b}",
                                   clearable=False, searchable=False, className="dy-pair")], className="ctl"),
            html.Div(id={"type": DY_STATS, **pid}, className="dy-stats"),
            dcc.Graph(id={"type": DY_CHART, **pid}, config={"displayModeBar": False}, className="dy-chart"),
        ], className="dy-side"),
    ], className="half dy-half", id=f"dy-half-{name}")


def dynamics_tab(store: ExplorerStore) -> html.Div:
    epochs = D.steps(store)
    last = max(len(epochs) - 1, 0)
    marks = {i: {"label": D.mark_label(e)} for i, e in enumerate(epochs)}
    return html.Div([
        html.P(HELP["dynamics"], className="help"),
        html.Div([
            html.Button("▶ Play", id=DY_PLAY, className="btn dy-play", disabled=not epochs),
            html.Div(dcc.Slider(id=DY_FRAME, min=0, max=last, step=1, value=0, marks=marks or None,
                                included=True, updatemode="drag", disabled=not epochs,
                                allow_direct_input=False),
                     className="dy-slider"),
            html.Span(id=DY_FRAME_LABEL, className="dy-frame-label"),
        ], className="dy-bar" + ("" if epochs else " hidden")),
        dcc.Interval(id=DY_TIMER, interval=1100, disabled=True),
        dcc.Store(id=DY_SHOWN),
        html.Div([_dynamics_half(store, n) for n in store.names], className="pair dy-pair-grid"),
    ])


def panel_id(tab: str) -> str:
    return f"panel-{tab}"


def _banner(store: ExplorerStore) -> tuple[str, bool]:
    """Banner text at page load and whether to keep polling (a pipeline is still working)."""
    from .callbacks import progress_message  # callbacks imports this module

    text = progress_message(store, store.progress(), store.names)
    return text, bool(text)


def build_layout(store: ExplorerStore) -> html.Div:
    """The whole page; figures are filled in by callbacks once the URL is read."""
    store.maybe_reload()
    makers = {"explore": explore_tab, "datasets": datasets_tab, "projections": projections_tab,
              "dynamics": dynamics_tab}
    titles = " and ".join(store.get(n).title for n in store.names)
    banner, polling = _banner(store)
    return html.Div([
        dcc.Location(id=URL, refresh=False),
        html.Header([
            html.H1("Embedding explorer"),
            html.Span(f"{titles}: how a CNN sees the classes, where it confuses them", className="tagline"),
        ]),
        html.Div([html.Span(banner, id=BANNER_TEXT),
                  html.Button("Reload", id=RELOAD_BTN, className="btn", style={"display": "none"})],
                 id=BANNER, className="banner", role="status", style={} if banner else {"display": "none"}),
        html.Div([html.Span(id=ALERT_TEXT), html.Button("×", id=ALERT_CLOSE, className="alert-close",
                                                         title="Dismiss")],
                 id=ALERT, className="alert", role="alert", style={"display": "none"}),
        dcc.Interval(id=STATUS_POLL, interval=STATUS_POLL_MS, disabled=not polling),
        dcc.Store(id=PAGE_DATASETS, data=store.names),
        dcc.Tabs(id=TABS_ID, value="explore", className="tabs", children=[
            dcc.Tab(label=TAB_LABELS[t], value=t, className="tab", selected_className="tab-selected")
            for t in TABS]),
        controls(store),
        # all panels stay mounted (callbacks target them); the tab shows one, see callbacks.show_tab
        html.Div([html.Div(makers[t](store), id=panel_id(t), className="panel") for t in TABS]),
        dcc.Store(id=CELL), dcc.Store(id=SELECTION), dcc.Store(id=CLICKED),
        dcc.Store(id=EX_RENDERED), dcc.Store(id=CD_RENDERED), dcc.Store(id=CP_RENDERED),
        dcc.Store(id=DY_RENDERED),
        # one tooltip element for every scatter, driven by assets/hover.js without a server round trip
        html.Div(id=HOVER_TIP, className="hover-tip", children=[
            html.Div(className="hover-img"), html.Div(className="hover-text")]),
    ], className="page")

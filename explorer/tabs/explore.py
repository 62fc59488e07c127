"""The "Explore" tab: one dataset's scatter, its confusion matrix, the clicked sample,
and the selection (a box/lasso on the scatter or a confusion cell) as a gallery and CSV.

Rows (indices into the dataset's arrays) are what travels between the views; event
points are mapped to rows by trace and point number (:func:`figures.rows_from_points`).
"""
from __future__ import annotations

import logging

import numpy as np
from dash import Input, Output, Patch, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from .. import figures as F
from .. import ids
from ..accuracy import shown_accuracy
from ..corrections import class_options, hidden_correction
from ..checks import BadInput, _cell_of, _event_points, _int, _model, _rows_of, _short
from ..encoding import ranges_to_data, ranges_to_plot, view_grid
from ..layers import layers as draw_layers
from ..export import CONTACT_MAX, contact_sheet, export_name, selection_zip
from ..export_html import HTML_MAX, view_html
from ..figures3d import projection_3d
from ..panels import detail_panel, selection_csv, source_words, tile
from ..registry import Sync, View, ViewState
from ..selection import FIELDS as SELECTION_FIELDS
from ..selection import FOUND_MAX, find_rows, focus_rows, url_filters, url_rows, with_filters, with_rows, zoom_of
from .explore3d import DIMS_FIELD
from .explore3d import box as plot3d_box
from .explore3d import register as register_3d
from .filters import FIELDS as FILTER_FIELDS
from .filters import layers_box
from .filters import layout as filter_bar
from .filters import register as register_filters
from ..store import ExplorerStore, ModelView
from ..widgets import scatter_graph

log = logging.getLogger(__name__)

GALLERY_MAX = 300  # tiles on one page of the gallery: more make the page slow; Prev/Next page on
HELP = ("Each dot is {what}, placed by the chosen projection of the chosen model's embedding. "
        "Hover a dot to see its image; click it for its top-3 probabilities and nearest neighbours; "
        "drag a box (or pick the lasso in the toolbar) to select; scroll to zoom. "
        "Click a cell of the confusion matrix to light up exactly those images.")


def help_text(ds) -> str:
    """The tab's help line for dataset ``ds``: what one dot is (a test image, or one of the user's own)."""
    what = ("one of your images (" + source_words(ds).split(": ", 1)[-1] + ")" if ds.imported
            else "one test image" if ds.sample_set == "test" else "one image")
    return HELP.format(what=what)
NO_FOCUS = "Selection: drag a box on the scatter or click a confusion cell"


def layout(store: ExplorerStore) -> html.Div:
    """The tab's panel; its figures are drawn by the callbacks once the URL is read."""
    return html.Div([
        html.P(help_text(store.get(store.names[0])), className="help", id=ids.EX_HELP),
        filter_bar(),
        html.Div([
            # a fixed height: opening a sample's neighbours must not resize (and move) the plot
            html.Div([scatter_graph(ids.SCATTER, None), plot3d_box(), layers_box()], className="main-plot"),
            html.Div([
                dcc.Graph(id=ids.CONFUSION, config={"displayModeBar": False}, className="confusion"),
                html.Div(id=ids.DETAIL, className="detail",
                         children=html.P("Click a point to see its image, top-3 probabilities and its nearest "
                                         "neighbours.", className="placeholder")),
            ], className="side", tabIndex="0", role="region", **{"aria-label": "Confusion matrix and details"}),
        ], className="explore-grid"),
        html.Div([
            html.Div([
                html.H3(id=ids.FOCUS_TITLE, children=NO_FOCUS),
                html.Span(id=ids.SEL_NOTE, className="sel-note"),
                html.Div([
                    html.Button("Download CSV", id=ids.DOWNLOAD_BTN, className="btn", disabled=True,
                                title="Each image's classes, confidence, coordinates and class probabilities"),
                    html.Button("Contact sheet", id=ids.SHEET_BTN, className="btn", disabled=True,
                                title=f"The images as one PNG, misclassified first (at most {CONTACT_MAX})"),
                    html.Button("Zip of PNGs", id=ids.ZIP_BTN, className="btn", disabled=True,
                                title="One PNG per image, named by sample id and classes, and the CSV"),
                    html.Button("Clear", id=ids.CLEAR_BTN, className="btn btn-light"),
                    html.Span([dcc.Dropdown(id=ids.SEL_FIX_CLASS, options=class_options(store.get(store.names[0])),
                                            value=0, clearable=False, className="fix-class"),
                               html.Button("Relabel selection", id=ids.SEL_FIX_BTN, className="btn btn-light")],
                              className="sel-fix", title="Give every image shown here this label (Undo takes it back)"),
                    html.Button("Export view as HTML", id=ids.HTML_BTN, className="btn btn-light",
                                title="This scatter, its colours and hover images as one file that opens "
                                      "without a server"),
                    html.Span(dcc.Checklist(id=ids.HTML_ALL, options=[{"label": "all points", "value": "all"}],
                                            value=[], inline=True), className="html-all",
                              title=f"Unticked, a view of more than {HTML_MAX:,} points keeps a random {HTML_MAX:,} "
                                    "(about 7 MB of 28×28 images); 70,000 make about 20 MB"),
                    dcc.Download(id=ids.EXPORT),
                ], className="buttons"),
            ], className="focus-head"),
            html.Div([
                dcc.Graph(id=ids.HIST, config={"displayModeBar": False}, className="hist",
                          style={"display": "none"}),
                html.Div([pager(), html.Div(id=ids.GALLERY, className="gallery")]),
            ], className="focus-body"),
            dcc.Download(id=ids.DOWNLOAD),
        ], className="focus"),
        dcc.Store(id=ids.CELL), dcc.Store(id=ids.SELECTION), dcc.Store(id=ids.CLICKED), dcc.Store(id=ids.ZOOM),
        dcc.Store(id=ids.EX_RENDERED),
    ], className="explore-tab")


def pager() -> html.Div:
    """Prev/Next over the gallery's pages of :data:`GALLERY_MAX` and which images are shown; hidden
    while one page holds them all."""
    return html.Div([
        html.Button("‹ Prev", id=ids.PAGE_PREV, className="btn btn-light", disabled=True),
        html.Span(id=ids.PAGE_TEXT, className="page-text"),
        html.Button("Next ›", id=ids.PAGE_NEXT, className="btn btn-light", disabled=True),
        dcc.Store(id=ids.GALLERY_PAGE, data=0),
    ], id=ids.GALLERY_PAGER, className="pager", style={"display": "none"})


def gallery_page(m: ModelView, rows: np.ndarray, page) -> tuple[np.ndarray, int, int]:
    """One page of the gallery: its rows, the page (clamped to the last) and the number of pages.

    Misclassified images come first, on every page: they are what a selection is usually made to find.
    """
    order = rows[np.argsort(m.ds.labels[rows] == m.pred[rows], kind="stable")]
    pages = max(1, -(-len(rows) // GALLERY_MAX))
    page = min(max(page, 0), pages - 1) if isinstance(page, int) and not isinstance(page, bool) else 0
    return order[page * GALLERY_MAX:(page + 1) * GALLERY_MAX], page, pages


def clear_selection(m: ModelView, colour: str, proj: str | None = None, patch: Patch | None = None) -> Patch:
    """Patch that removes the box/lasso drawn on the scatter and its selected points."""
    patch = Patch() if patch is None else patch
    patch["layout"]["selections"] = []
    for i in range(len(F.groups(m, colour, proj))):
        patch["data"][i]["selectedpoints"] = None
    return patch


def clicked_row(clicked, ds_name: str, n: int) -> int | None:
    """The clicked point's row (``{"ds", "row"}``) if it is of dataset ``ds_name``, checked; else ``None``."""
    if clicked and not isinstance(clicked, dict):
        raise BadInput(f"clicked point must be an object (got {_short(clicked)})")
    if not clicked or clicked.get("ds") != ds_name:
        return None
    return _int(clicked.get("row"), 0, n, "clicked row")


def register(app, store: ExplorerStore) -> None:
    """Attach the tab's callbacks to ``app``."""
    register_filters(app, store)
    register_3d(app, store)

    @app.callback(Output(ids.EX_HELP, "children"), Input(ids.DATASET, "value"))
    def render_help(ds_name):
        return help_text(_model(store, ds_name, None).ds)

    @app.callback(
        Output(ids.SCATTER, "figure"), Output(ids.EX_RENDERED, "data"),
        Input(ids.TABS_ID, "value"), Input(ids.DATASET, "value"), Input(ids.MODEL, "value"),
        Input(ids.PROJ, "value"), Input(ids.COLOUR, "value"), Input(ids.CELL, "data"),
        Input(ids.SELECTION, "data"), Input(ids.CLICKED, "data"), Input(ids.FILTER, "data"), Input(ids.FIND, "value"),
        Input(ids.LAYERS, "value"), Input(ids.CORR_VERSION, "data"), State(ids.EX_RENDERED, "data"),
        State(ids.ZOOM, "data"))
    def render_scatter(tab, ds_name, model, proj, colour, cell_data, sel, clicked, flt, find, layers, fixes, rendered,
                       zoom):
        if tab != "explore":
            raise PreventUpdate  # drawn when the tab is opened, not before
        m = _model(store, ds_name, model, proj, colour)
        # the selection (within a chosen cell) drawn on top: it outlives the figure it was made on
        highlight, _ = focus_rows(m, sel, cell_data, flt)
        row = clicked_row(clicked, ds_name, m.ds.n)
        found, _ = find_rows(m, find)
        shapes = F.found_rings(m, proj, [] if found is None else found[:FOUND_MAX]) + F.clicked_ring(m, proj, row)
        view = f"{ds_name}/{m.name}/{proj}/{colour}"
        key = view + (f"/{fixes}" if fixes else "")  # a correction redraws: the labels' colours moved
        if key == rendered:
            changed = {t["prop_id"].split(".")[0] for t in ctx.triggered}
            if not changed & {ids.CELL, ids.CLICKED, ids.TABS_ID, ids.SELECTION, ids.FILTER, ids.FIND, ids.LAYERS}:
                raise PreventUpdate
            # the rings are cheap to resend, and a point clicked elsewhere (Label issues) arrives with the tab
            patch = Patch()
            patch["layout"]["shapes"] = shapes
            if changed & {ids.CELL, ids.SELECTION, ids.FILTER}:
                F.highlight_patch(m, proj, colour, highlight, patch)
            if ids.SELECTION in changed and _rows_of(sel, ds_name, m.ds.n) is None:
                clear_selection(m, colour, proj, patch)  # Clear or Escape: Plotly's box goes too
            if ids.LAYERS in changed:  # class labels, density: layout items, no trace moves
                for k, v in draw_layers(m, proj, colour, layers).items():
                    patch["layout"][k] = v
            return patch, no_update
        fig = F.scatter_figure(m, proj, colour, highlight=highlight, clicked=row, layers=layers)
        fig["layout"]["uirevision"] = view
        fig["layout"]["shapes"] = shapes
        ranges = zoom_of(zoom, f"{ds_name}/{m.name}/{proj}")  # the URL's, or kept from another colouring
        if ranges:  # kept in data coordinates; the axes are in plot units
            ranges = ranges_to_plot(ranges, view_grid(m, proj))
            fig["layout"]["xaxis"] = {**fig["layout"]["xaxis"], "range": list(ranges[:2]), "autorange": False}
            fig["layout"]["yaxis"] = {**fig["layout"]["yaxis"], "range": list(ranges[2:]), "autorange": False}
        return fig, key

    @app.callback(
        Output(ids.ZOOM, "data", allow_duplicate=True), Input(ids.SCATTER, "relayoutData"),
        State(ids.DATASET, "value"), State(ids.MODEL, "value"), State(ids.PROJ, "value"), prevent_initial_call=True)
    def on_zoom(relayout, ds_name, model, proj):
        """A zoom or pan keeps the scatter's axis ranges (for the URL and the next redraw), in data
        coordinates (the axes are in plot units, :mod:`explorer.encoding`); a reset drops them."""
        if not isinstance(relayout, dict):
            raise PreventUpdate
        if relayout.get("xaxis.autorange") or relayout.get("yaxis.autorange"):
            return None
        keys = ("xaxis.range[0]", "xaxis.range[1]", "yaxis.range[0]", "yaxis.range[1]")
        if not all(k in relayout for k in keys):
            raise PreventUpdate  # a legend click, a selection, the drag mode: not a zoom
        v = [relayout[k] for k in keys]
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            raise BadInput("zoom ranges must be numbers")
        m = _model(store, ds_name, model, proj)
        v = ranges_to_data([float(x) for x in v], view_grid(m, proj))
        return {"view": f"{ds_name}/{m.name}/{proj}", "x": v[:2], "y": sorted(v[2:])}

    @app.callback(
        Output(ids.SELECTION, "data", allow_duplicate=True),
        Input(ids.SCATTER, "selectedData"), Input(ids.DATASET, "value"), State(ids.MODEL, "value"),
        State(ids.PROJ, "value"), State(ids.COLOUR, "value"), State(ids.SELECTION, "data"), prevent_initial_call=True)
    def on_select(selected, ds_name, model, proj, colour, sel):
        """A box or lasso sets the selection's rows; only another dataset (or Clear, Escape, a
        double-click) ends it: colouring, model, projection and tabs keep the same rows."""
        if ctx.triggered_id != ids.SCATTER:
            if isinstance(sel, dict) and sel.get("ds") == ds_name:
                raise PreventUpdate  # the page's first load: the URL's selection is of this dataset
            return None  # rows of another dataset mean nothing here
        points = _event_points(selected)
        if not points and isinstance(selected, dict) and not (selected.get("range") or selected.get("lassoPoints")):
            # no box or lasso: Plotly redrew the figure (another colouring, model or layout) and
            # reselected nothing on it; the stored rows stand
            raise PreventUpdate
        if not points:
            return None  # a double-click (Plotly's deselect), or a box around no point
        rows = F.rows_from_points(_model(store, ds_name, model, colour=colour), colour, points, proj)
        return {"ds": ds_name, "rows": rows.tolist()}

    @app.callback(
        Output(ids.CELL, "data", allow_duplicate=True),
        Input(ids.CONFUSION, "clickData"), State(ids.CELL, "data"), State(ids.DATASET, "value"),
        State(ids.MODEL, "value"), prevent_initial_call=True)
    def on_cell_click(click, cell_data, ds_name, model):
        """A cell chooses those points, within the selection if there is one; the same cell again unchooses."""
        points = _event_points(click)
        if not points:
            raise PreventUpdate
        m = _model(store, ds_name, model)
        k = len(m.ds.class_names)
        p = points[0] if isinstance(points[0], dict) else {}
        t, q = _int(p.get("y"), 0, k, "clicked cell's row"), _int(p.get("x"), 0, k, "clicked cell's column")
        if _cell_of(cell_data, ds_name, k) == (t, q):
            return None
        return {"ds": ds_name, "cell": [t, q]}

    @app.callback(
        Output(ids.CELL, "data", allow_duplicate=True), Output(ids.SELECTION, "data", allow_duplicate=True),
        Input(ids.CLEAR_BTN, "n_clicks"), prevent_initial_call=True)
    def on_clear(_):
        return None, None

    # -- confusion matrix, selection panel, CSV -------------------------------------------
    @app.callback(Output(ids.CONFUSION, "figure"),
                  Input(ids.DATASET, "value"), Input(ids.MODEL, "value"), Input(ids.SELECTION, "data"),
                  Input(ids.CELL, "data"), Input(ids.CORR_VERSION, "data"), Input(ids.TABS_ID, "value"))
    def render_confusion(ds_name, model, sel, cell_data, _fixes, tab):
        hidden_correction(tab)
        m = _model(store, ds_name, model)
        ds = m.ds
        rows = _rows_of(sel, ds_name, ds.n)
        if rows is not None:
            cell = _cell_of(cell_data, ds_name, len(ds.class_names))
            return F.confusion_figure(m, F.selection_confusion(m, rows), cell,
                                      title=f"{m.title} · within the selection ({len(rows):,} points)")
        return F.confusion_figure(m, m.confusion, _cell_of(cell_data, ds_name, len(ds.class_names)),
                                  title=f"{m.title} · accuracy {shown_accuracy(m).words}")  # help: click a cell

    @app.callback(
        Output(ids.GALLERY_PAGE, "data"), Input(ids.PAGE_PREV, "n_clicks"), Input(ids.PAGE_NEXT, "n_clicks"),
        Input(ids.DATASET, "value"), Input(ids.MODEL, "value"), Input(ids.SELECTION, "data"),
        Input(ids.CELL, "data"), Input(ids.FILTER, "data"), State(ids.GALLERY_PAGE, "data"),
        prevent_initial_call=True)
    def on_page(_prev, _next, _ds, _model_name, _sel, _cell, _flt, page):
        """Prev/Next turn the gallery's page; other images to show start again at the first page."""
        page = page if isinstance(page, int) and not isinstance(page, bool) and page >= 0 else 0
        if ctx.triggered_id in (ids.PAGE_PREV, ids.PAGE_NEXT):
            return max(0, page + (1 if ctx.triggered_id == ids.PAGE_NEXT else -1))  # render_focus clamps
        return 0 if page else no_update

    @app.callback(
        Output(ids.FOCUS_TITLE, "children"), Output(ids.HIST, "figure"), Output(ids.HIST, "style"),
        Output(ids.GALLERY, "children"), Output(ids.DOWNLOAD_BTN, "disabled"),
        Output(ids.GALLERY_PAGER, "style"), Output(ids.PAGE_TEXT, "children"),
        Output(ids.PAGE_PREV, "disabled"), Output(ids.PAGE_NEXT, "disabled"),
        Input(ids.DATASET, "value"), Input(ids.MODEL, "value"), Input(ids.SELECTION, "data"),
        Input(ids.CELL, "data"), Input(ids.FILTER, "data"), Input(ids.GALLERY_PAGE, "data"),
        Input(ids.CORR_VERSION, "data"), Input(ids.TABS_ID, "value"))
    def render_focus(ds_name, model, sel, cell_data, flt, page, _fixes, tab):
        hidden_correction(tab)
        m = _model(store, ds_name, model)
        rows, label = focus_rows(m, sel, cell_data, flt)
        if rows is None:
            return NO_FOCUS, no_update, {"display": "none"}, [], True, {"display": "none"}, "", True, True
        shown, page, pages = gallery_page(m, rows, page)
        title = [html.Span(f"{len(rows):,}", className="count", id="focus-count"), f" images · {label}"]
        first = page * GALLERY_MAX
        words = f"images {first + 1:,}–{first + len(shown):,} of {len(rows):,}" if len(shown) else ""
        return (title, F.histogram_figure(m, rows), {"display": "block"},
                [tile(m, int(r), None, "gallery-item") for r in shown], len(rows) == 0,
                {} if pages > 1 else {"display": "none"}, words, page == 0, page >= pages - 1)

    @app.callback(
        Output(ids.DOWNLOAD, "data"), Input(ids.DOWNLOAD_BTN, "n_clicks"),
        State(ids.DATASET, "value"), State(ids.MODEL, "value"), State(ids.PROJ, "value"),
        State(ids.SELECTION, "data"), State(ids.CELL, "data"), State(ids.FILTER, "data"), prevent_initial_call=True)
    def download(_, ds_name, model, proj, sel, cell_data, flt):
        m = _model(store, ds_name, model, proj)
        rows, _label = focus_rows(m, sel, cell_data, flt)
        if rows is None:
            raise PreventUpdate
        return dcc.send_string(selection_csv(m, rows, proj),
                               filename=f"{ds_name}-{m.name}-{proj}-selection.csv", type="text/csv")

    # the contact sheet and zip need images, as the CSV does
    app.clientside_callback("function (off) { return [off, off]; }", Output(ids.SHEET_BTN, "disabled"),
                            Output(ids.ZIP_BTN, "disabled"), Input(ids.DOWNLOAD_BTN, "disabled"))

    @app.callback(
        Output(ids.EXPORT, "data"), Input(ids.SHEET_BTN, "n_clicks"), Input(ids.ZIP_BTN, "n_clicks"),
        Input(ids.HTML_BTN, "n_clicks"), State(ids.DATASET, "value"), State(ids.MODEL, "value"),
        State(ids.PROJ, "value"), State(ids.COLOUR, "value"), State(ids.SELECTION, "data"), State(ids.CELL, "data"),
        State(ids.FILTER, "data"), State(ids.ZOOM, "data"), State(ids.HTML_ALL, "value"), prevent_initial_call=True)
    def export(_sheet, _zip, _html, ds_name, model, proj, colour, sel, cell_data, flt, zoom, every):
        """The selection as a contact sheet or a zip, or the view (its highlight included) as one HTML file."""
        m = _model(store, ds_name, model, proj, colour)
        rows, label = focus_rows(m, sel, cell_data, flt)
        if ctx.triggered_id == ids.HTML_BTN:
            cap = None if isinstance(every, list) and "all" in every else HTML_MAX
            return dcc.send_string(view_html(m, proj, colour, rows, label, zoom, cap=cap),
                                   filename=export_name(m, proj, "view", "html"), type="text/html")
        if rows is None or not len(rows):
            raise PreventUpdate
        if ctx.triggered_id == ids.SHEET_BTN:
            return dcc.send_bytes(contact_sheet(m, rows, label), filename=export_name(m, proj, "sheet", "png"),
                                  type="image/png")
        return dcc.send_bytes(selection_zip(m, rows, proj, label), filename=export_name(m, proj, "selection", "zip"),
                              type="application/zip")

    # -- the clicked point ------------------------------------------------------------------
    # a click on the scatter, a gallery tile or a neighbour sets CLICKED in assets/hover.js:
    # the browser knows the hovered row, and Plotly sends no click in select drag mode
    @app.callback(Output(ids.DETAIL, "children"), Input(ids.CLICKED, "data"), Input(ids.MODEL, "value"),
                  Input(ids.DATASET, "value"), Input(ids.PROJ, "value"), Input(ids.DIMS, "value"),
                  Input(ids.CORR_VERSION, "data"), Input(ids.TABS_ID, "value"))
    def render_detail(clicked, model, ds_name, proj, dims, _fixes, tab):
        hidden_correction(tab)
        m = _model(store, ds_name, model, proj)
        ds = m.ds
        if clicked and not isinstance(clicked, dict):
            raise BadInput(f"clicked point must be an object (got {_short(clicked)})")
        if not clicked or clicked.get("ds") != ds_name:
            return html.P("Click a point (or a gallery image) to see its image, top-3 probabilities and its "
                          "nearest neighbours.", className="placeholder")
        row = _int(clicked.get("row"), 0, ds.n, "clicked row")
        if dims == 3:  # the layout the 3-D view draws: PCA's where the run made no 3-D t-SNE
            return detail_panel(m, row, projection_3d(m, proj)[0], dims=3)
        return detail_panel(m, row, proj)


# -- the URL ------------------------------------------------------------------------------------
def from_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The stores and the filter bar from a URL; a cell of classes the dataset lacks is none."""
    k = len(sync.dataset.class_names)  # the URL was read against the largest dataset's classes
    s = s.replace(cell=s.cell if s.cell and max(s.cell) < k else None)
    return s, {"cell": {"ds": s.ds, "cell": list(s.cell)} if s.cell else None, "dims": s.dims,
               **url_rows(s, sync.model), **url_filters(s)}


def to_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The stores and the filter bar for the URL; a selection too large for it is said beside the gallery."""
    v, ds, out = sync.values, sync.dataset, {}
    cell = _cell_of(v["cell"], ds.name, len(ds.class_names))
    if sync.trigger == ids.DATASET and v["cell"] and cell is None:
        out["cell"] = None  # a cell of the other dataset means nothing here
    s = s.replace(cell=cell, dims=3 if v["dims"] == 3 else 2)
    s, note = with_rows(s, sync.model, v["point"], v["sel"], v["zoom"])
    s = with_filters(s, v["conf"], v["show"], v["score"], v["find"], v["layers"])
    if note != (sync.extra["note"] or ""):
        out["selnote"] = note
    return s, out


VIEW = View("explore", "Explore", order=10, fields=(*SELECTION_FIELDS, DIMS_FIELD, *FILTER_FIELDS), layout=layout,
            register=register, bar=(ids.DATASET_BOX, ids.PROJ_BOX, ids.COLOUR_BOX, ids.DIMS_BOX),
            outputs={"selnote": (ids.SEL_NOTE, "children")}, state={"note": (ids.SEL_NOTE, "children")},
            from_url=from_url, to_url=to_url)

"""Dash callbacks: URL state, the Explore tab's linked views, and the two comparisons.

Rows (indices into the dataset's arrays) are what travels between views; event
points are mapped to rows by trace and point number (:func:`figures.rows_from_points`).
"""
from __future__ import annotations

import csv
import io
import logging

import numpy as np
from dash import ALL, Input, Output, Patch, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from . import figures as F
from . import layout as L
from .state import ViewState, parse_query, to_query
from .store import PROJECTION_LABELS, SPACE_LABELS, DatasetView, ExplorerStore
from .thumbnails import sprite_style

log = logging.getLogger(__name__)

GALLERY_MAX = 300  # more tiles than this make the page slow and say nothing new
NEIGHBOURS_SHOWN = 10  # the cache may hold more (t-SNE/UMAP want ~90); ten read at a glance
EX_RENDERED, CD_RENDERED, CP_RENDERED = L.EX_RENDERED, L.CD_RENDERED, L.CP_RENDERED


def _cell_of(cell_data: dict | None, ds: str) -> tuple[int, int] | None:
    if cell_data and cell_data.get("ds") == ds and cell_data.get("cell"):
        t, p = cell_data["cell"]
        return int(t), int(p)
    return None


def _rows_of(sel: dict | None, ds: str) -> np.ndarray | None:
    if sel and sel.get("ds") == ds and sel.get("rows") is not None:
        return np.asarray(sel["rows"], dtype=np.int64)
    return None


def _pct(x: float) -> str:
    return f"{100 * float(x):.0f}%"


def register_callbacks(app, store: ExplorerStore) -> None:
    """Attach every callback of the page to ``app``."""
    names = store.names

    # -- tabs --------------------------------------------------------------------
    app.clientside_callback(
        """function(tab) {
            const show = t => ({display: t === tab ? 'block' : 'none'});
            return [show('explore'), show('datasets'), show('projections'),
                    {display: tab === 'datasets' ? 'none' : 'flex'}];
        }""",
        Output(L.panel_id("explore"), "style"), Output(L.panel_id("datasets"), "style"),
        Output(L.panel_id("projections"), "style"), Output(L.DATASET_BOX, "style"),
        Input(L.TABS_ID, "value"))

    # -- URL <-> controls: one callback, since Dash allows a cycle only within one --
    @app.callback(
        Output(L.URL, "search"), Output(L.TABS_ID, "value"), Output(L.DATASET, "value"),
        Output(L.SPACE, "value"), Output(L.PROJ, "value"), Output(L.COLOUR, "value"),
        Output(L.SPACE2, "value"), Output(L.PROJ2, "value"), Output(L.CELL, "data"),
        Input(L.URL, "search"), Input(L.TABS_ID, "value"), Input(L.DATASET, "value"),
        Input(L.SPACE, "value"), Input(L.PROJ, "value"), Input(L.COLOUR, "value"),
        Input(L.SPACE2, "value"), Input(L.PROJ2, "value"), Input(L.CELL, "data"))
    def sync_url(search, tab, ds, space, proj, colour, space2, proj2, cell_data):
        trig = ctx.triggered_id
        if trig is None or trig == L.URL:
            n_classes = max(len(store.get(n).class_names) for n in names)
            s = parse_query(search, names, n_classes)
            cell = {"ds": s.ds, "cell": list(s.cell)} if s.cell else None
            return (no_update, s.tab, s.ds, s.space, s.proj, s.colour, s.space2, s.proj2, cell)
        cell = _cell_of(cell_data, ds)
        new_cell = no_update
        if trig == L.DATASET and cell_data and cell is None:
            new_cell = None  # a cell of the other dataset means nothing here
        s = ViewState(tab=tab, ds=ds, space=space, proj=proj, colour=colour, cell=cell,
                      space2=space2, proj2=proj2)
        query = to_query(s)
        return ((query if query != search else no_update), no_update, no_update, no_update, no_update,
                no_update, no_update, no_update, new_cell)

    # -- Explore: scatter ------------------------------------------------------------
    @app.callback(
        Output(L.SCATTER, "figure"), Output(EX_RENDERED, "data"),
        Input(L.TABS_ID, "value"), Input(L.DATASET, "value"), Input(L.SPACE, "value"),
        Input(L.PROJ, "value"), Input(L.COLOUR, "value"), Input(L.CELL, "data"),
        State(EX_RENDERED, "data"))
    def render_scatter(tab, ds_name, space, proj, colour, cell_data, rendered):
        if tab != "explore":
            raise PreventUpdate  # drawn when the tab is opened, not before
        ds = store.get(ds_name)
        cell = _cell_of(cell_data, ds_name)
        highlight = ds.rows_in_cell(*cell) if cell else None
        key = f"{ds_name}/{space}/{proj}/{colour}"
        if key == rendered:
            if ctx.triggered_id != L.CELL:
                raise PreventUpdate
            return F.highlight_patch(ds, space, proj, colour, highlight), no_update
        fig = F.scatter_figure(ds, space, proj, colour, highlight=highlight)
        fig["layout"]["uirevision"] = key
        return fig, key

    @app.callback(
        Output(L.SELECTION, "data"), Output(L.CELL, "data", allow_duplicate=True),
        Input(L.SCATTER, "selectedData"), Input(L.DATASET, "value"), Input(L.SPACE, "value"),
        Input(L.PROJ, "value"), Input(L.COLOUR, "value"), State(L.CELL, "data"),
        prevent_initial_call=True)
    def on_select(selected, ds_name, space, proj, colour, cell_data):
        if ctx.triggered_id != L.SCATTER:
            return None, no_update  # the points behind a selection moved or regrouped
        if not selected or not selected.get("points"):
            return None, no_update
        rows = F.rows_from_points(store.get(ds_name), colour, selected["points"])
        # a selection replaces a chosen cell: the gallery shows one set at a time
        return {"ds": ds_name, "rows": rows.tolist()}, (None if cell_data else no_update)

    @app.callback(
        Output(L.CELL, "data", allow_duplicate=True), Output(L.SELECTION, "data", allow_duplicate=True),
        Output(L.SCATTER, "figure", allow_duplicate=True),
        Input(L.CONFUSION, "clickData"), State(L.CELL, "data"), State(L.DATASET, "value"),
        State(L.COLOUR, "value"), prevent_initial_call=True)
    def on_cell_click(click, cell_data, ds_name, colour):
        if not click or not click.get("points"):
            raise PreventUpdate
        p = click["points"][0]
        t, q = int(p["y"]), int(p["x"])
        if _cell_of(cell_data, ds_name) == (t, q):
            return None, None, _clear_selection(store.get(ds_name), colour)  # second click: unchoose
        return {"ds": ds_name, "cell": [t, q]}, None, _clear_selection(store.get(ds_name), colour)

    @app.callback(
        Output(L.CELL, "data", allow_duplicate=True), Output(L.SELECTION, "data", allow_duplicate=True),
        Output(L.SCATTER, "figure", allow_duplicate=True),
        Input(L.CLEAR_BTN, "n_clicks"), State(L.DATASET, "value"), State(L.COLOUR, "value"),
        prevent_initial_call=True)
    def on_clear(_, ds_name, colour):
        return None, None, _clear_selection(store.get(ds_name), colour)

    # -- Explore: confusion matrix, selection panel, CSV -------------------------------
    @app.callback(Output(L.CONFUSION, "figure"),
                  Input(L.DATASET, "value"), Input(L.SELECTION, "data"), Input(L.CELL, "data"))
    def render_confusion(ds_name, sel, cell_data):
        ds = store.get(ds_name)
        rows = _rows_of(sel, ds_name)
        if rows is not None:
            return F.confusion_figure(ds, F.selection_confusion(ds, rows),
                                      title=f"Confusion within the selection ({len(rows):,} points)")
        acc = np.trace(ds.confusion) / max(1, ds.n)
        return F.confusion_figure(ds, ds.confusion, _cell_of(cell_data, ds_name),
                                  title=f"Confusion matrix · accuracy {_pct(acc)} · click a cell")

    @app.callback(
        Output(L.FOCUS_TITLE, "children"), Output(L.HIST, "figure"), Output(L.HIST, "style"),
        Output(L.GALLERY, "children"), Output(L.DOWNLOAD_BTN, "disabled"),
        Input(L.DATASET, "value"), Input(L.SELECTION, "data"), Input(L.CELL, "data"))
    def render_focus(ds_name, sel, cell_data):
        ds = store.get(ds_name)
        rows, label = _focus_rows(ds, sel, cell_data)
        if rows is None:
            return ("Selection: drag a box on the scatter or click a confusion cell", no_update,
                    {"display": "none"}, [], True)
        # misclassified images first: they are what a selection is usually made to find
        order = np.argsort(ds.labels[rows] == ds.pred[rows], kind="stable")
        shown = rows[order][:GALLERY_MAX]
        more = f" (showing the first {len(shown):,})" if len(rows) > len(shown) else ""
        title = [html.Span(f"{len(rows):,}", className="count", id="focus-count"),
                 f" images · {label}{more}"]
        return (title, F.histogram_figure(ds, rows), {"display": "block"},
                [_tile(ds, int(r), 2, "gallery-item") for r in shown], len(rows) == 0)

    @app.callback(
        Output(L.DOWNLOAD, "data"), Input(L.DOWNLOAD_BTN, "n_clicks"),
        State(L.DATASET, "value"), State(L.SPACE, "value"), State(L.PROJ, "value"),
        State(L.SELECTION, "data"), State(L.CELL, "data"), prevent_initial_call=True)
    def download(_, ds_name, space, proj, sel, cell_data):
        ds = store.get(ds_name)
        rows, _label = _focus_rows(ds, sel, cell_data)
        if rows is None:
            raise PreventUpdate
        return dcc.send_string(selection_csv(ds, rows, space, proj),
                               filename=f"{ds_name}-{space}-{proj}-selection.csv", type="text/csv")

    # -- Explore: clicked point --------------------------------------------------------
    # a click on the scatter, a gallery tile or a neighbour sets CLICKED in assets/hover.js:
    # the browser knows the hovered row, and Plotly sends no click in select drag mode
    @app.callback(Output(L.DETAIL, "children"), Input(L.CLICKED, "data"), Input(L.SPACE, "value"),
                  Input(L.DATASET, "value"))
    def render_detail(clicked, space, ds_name):
        if not clicked or clicked.get("ds") != ds_name:
            return html.P("Click a point (or a gallery image) to see its image, top-3 probabilities and its "
                          "nearest neighbours.", className="placeholder")
        return detail_panel(store.get(ds_name), int(clicked["row"]), space)

    # -- Compare datasets ------------------------------------------------------------
    @app.callback(
        Output({"type": L.CD_SCATTER, "dataset": ALL}, "figure"), Output(L.CD_BARS, "figure"),
        Output(L.CD_REPORT, "children"), Output(CD_RENDERED, "data"),
        Input(L.TABS_ID, "value"), Input(L.SPACE, "value"), Input(L.PROJ, "value"),
        Input(L.COLOUR, "value"), State(CD_RENDERED, "data"))
    def render_datasets(tab, space, proj, colour, rendered):
        key = f"{space}/{proj}/{colour}"
        if tab != "datasets" or key == rendered:
            raise PreventUpdate
        figs = []
        for n in names:
            fig = F.scatter_figure(store.get(n), space, proj, colour, legend=True)
            fig["layout"]["uirevision"] = f"{n}/{key}"
            figs.append(fig)
        report = store.report
        return (figs, F.separability_figure(report, names, space, proj),
                report_tables(store, report, space, proj), key)

    # -- Compare projections -----------------------------------------------------------
    @app.callback(
        Output(L.CP_LINKED, "data"),
        Input(L.CP_LEFT, "selectedData"), Input(L.CP_RIGHT, "selectedData"),
        Input(L.DATASET, "value"), Input(L.COLOUR, "value"), prevent_initial_call=True)
    def on_linked_select(left, right, ds_name, colour):
        trig = ctx.triggered_id
        if trig not in (L.CP_LEFT, L.CP_RIGHT):
            return None
        sel = left if trig == L.CP_LEFT else right
        if not sel or not sel.get("points"):
            return None
        rows = F.rows_from_points(store.get(ds_name), colour, sel["points"])
        return {"ds": ds_name, "source": trig, "rows": rows.tolist()}

    @app.callback(
        Output(L.CP_LEFT, "figure"), Output(L.CP_RIGHT, "figure"), Output(L.CP_COUNT, "children"),
        Output(CP_RENDERED, "data"),
        Input(L.TABS_ID, "value"), Input(L.DATASET, "value"), Input(L.SPACE, "value"),
        Input(L.PROJ, "value"), Input(L.SPACE2, "value"), Input(L.PROJ2, "value"),
        Input(L.COLOUR, "value"), Input(L.CP_LINKED, "data"), State(CP_RENDERED, "data"))
    def render_projections(tab, ds_name, space, proj, space2, proj2, colour, linked, rendered):
        if tab != "projections":
            raise PreventUpdate
        ds = store.get(ds_name)
        rows = _rows_of(linked, ds_name)
        count = (f"{len(rows):,} selected, highlighted in both views" if rows is not None
                 else "Select points in either view")
        key = f"{ds_name}/{space}/{proj}/{space2}/{proj2}/{colour}"
        if key == rendered:
            if ctx.triggered_id != L.CP_LINKED:
                raise PreventUpdate
            return (F.highlight_patch(ds, space, proj, colour, rows),
                    F.highlight_patch(ds, space2, proj2, colour, rows), count, no_update)
        left = F.scatter_figure(ds, space, proj, colour, highlight=rows)
        right = F.scatter_figure(ds, space2, proj2, colour, highlight=rows, legend=False)
        left["layout"]["uirevision"] = f"L/{key}"
        right["layout"]["uirevision"] = f"R/{key}"
        return left, right, count, key


def _clear_selection(ds: DatasetView, colour: str) -> Patch:
    """Patch that removes the box/lasso drawn on the scatter and its selected points."""
    patch = Patch()
    patch["layout"]["selections"] = []
    for i in range(len(F.groups(ds, colour))):
        patch["data"][i]["selectedpoints"] = None
    return patch


def _focus_rows(ds: DatasetView, sel: dict | None, cell_data: dict | None) -> tuple[np.ndarray | None, str]:
    rows = _rows_of(sel, ds.name)
    if rows is not None:
        return rows, "selected on the scatter"
    cell = _cell_of(cell_data, ds.name)
    if cell is not None:
        t, p = cell
        what = "correctly classified" if t == p else f"predicted {ds.class_names[p]}"
        return ds.rows_in_cell(t, p), f"true {ds.class_names[t]}, {what}"
    return None, ""


def _tile(ds: DatasetView, row: int, scale: int, cls: str) -> html.Div:
    t, p = int(ds.labels[row]), int(ds.pred[row])
    tip = (f"#{int(ds.sample_ids[row])} · true {ds.class_names[t]} · predicted {ds.class_names[p]} "
           f"({_pct(ds.confidence[row])})")
    return html.Div(className=f"{cls} tile" + (" wrong" if t != p else ""), title=tip,
                    style=sprite_style(ds.name, ds.version, ds.n, row, scale),
                    **{"data-row": str(row), "data-dataset": ds.name})


def detail_panel(ds: DatasetView, row: int, space: str) -> list:
    """The clicked sample: image, classes, top-3 probabilities and k nearest neighbours."""
    t, p = int(ds.labels[row]), int(ds.pred[row])
    proba = np.asarray(ds.proba[row], dtype=float)
    top = np.argsort(-proba, kind="stable")[:3]
    bars = [html.Div([
        html.Span(ds.class_names[c], className="bar-label"),
        html.Div(html.Div(style={"width": _pct(proba[c]), "background": F.PALETTE[c % 10]}, className="bar-fill"),
                 className="bar"),
        html.Span(_pct(proba[c]), className="bar-value")], className="bar-row") for c in top]
    nb = [int(r) for r in ds.knn(space)[row][:NEIGHBOURS_SHOWN]]
    strip = []
    for r in nb:
        other = int(ds.labels[r]) != t
        strip.append(html.Div([
            html.Img(src=f"/thumb/{ds.name}/{r}.png?scale=2&v={ds.version}", className="nb-img",
                     alt=ds.class_names[int(ds.labels[r])]),
            html.Span(ds.class_names[int(ds.labels[r])], className="nb-label")],
            className="nb-item" + (" other" if other else ""), title=f"row {r}",
            **{"data-row": str(r), "data-dataset": ds.name}))
    n_other = sum(int(ds.labels[r]) != t for r in nb)
    verdict = html.Span("correct", className="ok") if t == p else html.Span("wrong", className="bad")
    return [
        html.Div([
            html.Img(src=f"/thumb/{ds.name}/{row}.png?scale=5&v={ds.version}", className="detail-img",
                     id="detail-img", **{"data-row": str(row)}),
            html.Div([
                html.Div(f"Sample #{int(ds.sample_ids[row])}", className="detail-id"),
                html.Div(["True: ", html.B(ds.class_names[t])]),
                html.Div(["Predicted: ", html.B(ds.class_names[p]), " · ", verdict]),
                html.Div("Top-3 probabilities", className="small-head"),
                *bars,
            ], className="detail-text"),
        ], className="detail-top"),
        html.Div(f"{len(nb)} nearest neighbours in the {SPACE_LABELS[space]} "
                 f"({n_other} of another class, outlined red)", className="small-head"),
        html.Div(strip, className="nb-strip", id="nb-strip"),
    ]


def selection_csv(ds: DatasetView, rows: np.ndarray, space: str, proj: str) -> str:
    """CSV of rows: row, sample index, true and predicted class (number and name), confidence, x, y."""
    coords = ds.coords(space, proj)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["row", "index", "true", "true_name", "predicted", "predicted_name", "confidence",
                f"{proj}_x", f"{proj}_y"])
    for r in np.asarray(rows, dtype=np.int64):
        t, p = int(ds.labels[r]), int(ds.pred[r])
        w.writerow([int(r), int(ds.sample_ids[r]), t, ds.class_names[t], p, ds.class_names[p],
                    f"{float(ds.confidence[r]):.4f}", f"{float(coords[r, 0]):.4f}", f"{float(coords[r, 1]):.4f}"])
    return buf.getvalue()


def summary_line(store: ExplorerStore, report: dict, space: str, proj: str) -> html.P:
    """One sentence: which dataset separates better, by how much, on which measures."""
    entries = {n: report.get("datasets", {}).get(n) for n in store.names}
    entries = {n: e for n, e in entries.items() if e}
    if len(entries) < 2:
        return html.P("Only one dataset in the report.", className="summary")
    (a, ea), (b, eb) = list(entries.items())[:2]

    def vals(e):
        s = e.get("spaces", {}).get(space, {})
        p = s.get("projections", {}).get(proj, {})
        return {"k-NN accuracy in the full space": s.get("knn_accuracy"),
                f"k-NN accuracy in 2-D {PROJECTION_LABELS[proj]}": p.get("knn_accuracy"),
                "silhouette": s.get("silhouette")}
    va, vb = vals(ea), vals(eb)
    parts = []
    for k in va:
        if va[k] is None or vb[k] is None:
            continue
        hi, lo = (ea, eb) if va[k] >= vb[k] else (eb, ea)
        x, y = max(va[k], vb[k]), min(va[k], vb[k])
        parts.append(f"{k} {x:.3f} ({hi['title']}) vs {y:.3f} ({lo['title']})")
    wins = sum(1 for k in va if va[k] is not None and vb[k] is not None and va[k] > vb[k])
    better = ea["title"] if wins * 2 >= len(parts) else eb["title"]
    return html.P([html.B(f"{better} separates more cleanly"),
                   f" in the {SPACE_LABELS[space]}: " + "; ".join(parts) + "."], className="summary")


def report_tables(store: ExplorerStore, report: dict, space: str, proj: str) -> list:
    """One card per dataset: headline numbers and its most confused class pairs."""
    if not report:
        return [html.P("No separability report in the cache; run the pipeline's report stage.",
                       className="placeholder")]
    cards = [summary_line(store, report, space, proj)]
    for n in store.names:
        e = report.get("datasets", {}).get(n)
        if not e:
            continue
        s = e.get("spaces", {}).get(space, {})
        p = s.get("projections", {}).get(proj, {})

        def fmt(v):
            return "n/a" if v is None else f"{float(v):.3f}"
        rows = [("Test accuracy (CNN)", fmt(e.get("test_accuracy"))),
                (f"k-NN accuracy, {SPACE_LABELS[space]}", fmt(s.get("knn_accuracy"))),
                (f"k-NN accuracy, 2-D {PROJECTION_LABELS[proj]}", fmt(p.get("knn_accuracy"))),
                ("Silhouette", fmt(s.get("silhouette"))),
                (f"Trustworthiness, {PROJECTION_LABELS[proj]}", fmt(p.get("trustworthiness")))]
        # pairs the CNN never mixes up and whose neighbourhoods barely touch say nothing
        pairs = [pr for pr in e.get("pairs", [])
                 if pr.get("confusions", 0) > 0 or pr.get("overlap", 0) >= 0.01][:5]
        cards.append(html.Div([
            html.H4(e.get("title", n)),
            html.Table([html.Tr([html.Td(k), html.Td(v, className="num")]) for k, v in rows],
                       className="metrics"),
            html.Div("Most confused pairs (CNN errors both ways)", className="small-head"),
            html.Ol([html.Li([html.B(f"{pr['names'][0]} ↔ {pr['names'][1]}"),
                              f": {pr['confusions']} errors ({pr['confusions_ab']} / {pr['confusions_ba']}), "
                              f"neighbour overlap {100 * pr.get('overlap', 0):.1f}%"]) for pr in pairs],
                    className="pairs"),
        ], className="card", **{"data-dataset": n}))
    return cards

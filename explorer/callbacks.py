"""Dash callbacks: URL state, the Explore tab's linked views, the two comparisons,
the training dynamics, and the pipeline's progress.

Rows (indices into the dataset's arrays) are what travels between views; event
points are mapped to rows by trace and point number (:func:`figures.rows_from_points`).
Everything a browser sends is checked (:class:`BadInput`); a failing callback shows
a one-line message in the page's alert area (:func:`on_callback_error`), never a
traceback.
"""
from __future__ import annotations

import csv
import io
import itertools
import logging

import numpy as np
from dash import ALL, Input, Output, Patch, State, ctx, dcc, html, no_update, set_props
from dash.exceptions import PreventUpdate

from . import dynamics as D
from . import figures as F
from . import layout as L
from .state import COLOURS, TABS, ViewState, parse_pair, parse_query, to_query
from .store import PROJECTION_LABELS, PROJECTIONS, SPACE_LABELS, SPACES, DatasetView, ExplorerStore
from .thumbnails import sprite_style

log = logging.getLogger(__name__)

GALLERY_MAX = 300  # more tiles than this make the page slow and say nothing new
NEIGHBOURS_SHOWN = 10  # the cache may hold more (t-SNE/UMAP want ~90); ten read at a glance
EX_RENDERED, CD_RENDERED, CP_RENDERED = L.EX_RENDERED, L.CD_RENDERED, L.CP_RENDERED
MAX_EVENT_POINTS = 200_000  # more than any dataset's points (70,000): not a real selection
STAGE_WORDS = {"train": "training", "waiting": "waiting for its turn", "fetch": "fetching the data",
               "embed": "extracting embeddings", "project": "projecting", "dynamics": "aligning training snapshots",
               "report": "measuring separability"}
KNOWN_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


class BadInput(ValueError):
    """A callback input the page would never send; the message is shown to the user as is."""


def _short(value) -> str:
    """A client-sent value for a message: its repr cut short, or its type when it is big."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return repr(value)[:40]
    return type(value).__name__


def _int(value, lo: int, hi: int, what: str) -> int:
    """``value`` as an int in ``[lo, hi)``; ``BadInput`` naming ``what`` and the bound otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise BadInput(f"{what} must be an integer (got {_short(value)})")
    if not lo <= value < hi:
        raise BadInput(f"{what} must be from {lo} to {hi - 1} (got {value})")
    return int(value)


def _choice(value, allowed, what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise BadInput(f"{what} must be one of {', '.join(allowed)} (got {_short(value)})")
    return value


def _dataset(store: ExplorerStore, name) -> DatasetView:
    if not isinstance(name, str) or name not in store.datasets:
        raise BadInput(f"unknown dataset {_short(name)}; known: {', '.join(store.names)}")
    return store.datasets[name]


def _view(store: ExplorerStore, ds_name, space=None, proj=None, colour=None) -> DatasetView:
    """Check the shared controls; the dataset they name."""
    ds = _dataset(store, ds_name)
    if space is not None:
        _choice(space, SPACES, "space")
    if proj is not None:
        _choice(proj, PROJECTIONS, "projection")
        if not ds.has(space or "cnn", proj):
            raise BadInput(f"{ds.title} has no {space}/{proj} projection in the cache")
    if colour is not None:
        _choice(colour, COLOURS, "colour")
    return ds


def _cell_of(cell_data, ds: str, n_classes: int = 10) -> tuple[int, int] | None:
    if not cell_data:
        return None
    if not isinstance(cell_data, dict):
        raise BadInput(f"cell must be an object (got {_short(cell_data)})")
    if cell_data.get("ds") != ds or not cell_data.get("cell"):
        return None
    cell = cell_data["cell"]
    if not isinstance(cell, (list, tuple)) or len(cell) != 2:
        raise BadInput(f"cell must be [true, predicted] (got {_short(cell)})")
    return (_int(cell[0], 0, n_classes, "cell's true class"), _int(cell[1], 0, n_classes, "cell's predicted class"))


def _rows_of(sel, ds: str, n: int | None = None) -> np.ndarray | None:
    if not sel:
        return None
    if not isinstance(sel, dict):
        raise BadInput(f"selection must be an object (got {_short(sel)})")
    if sel.get("ds") != ds or sel.get("rows") is None:
        return None
    rows = sel["rows"]
    if not isinstance(rows, list) or (n is not None and len(rows) > n):
        raise BadInput(f"selection must be a list of at most {n or 0:,} rows")
    try:
        arr = np.asarray(rows, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise BadInput("selection rows must be integers") from None
    if arr.ndim != 1 or (n is not None and len(arr) and (arr.min() < 0 or arr.max() >= n)):
        raise BadInput(f"selection rows must be from 0 to {(n or 1) - 1}")
    return arr


def _event_points(event) -> list:
    """The ``points`` of a Plotly event (click/hover/selected data), checked for shape and size."""
    if not event:
        return []
    if not isinstance(event, dict):
        raise BadInput(f"event data must be an object (got {_short(event)})")
    points = event.get("points") or []
    if not isinstance(points, list):
        raise BadInput(f"event points must be a list (got {_short(points)})")
    if len(points) > MAX_EVENT_POINTS:
        raise BadInput(f"selection of {len(points):,} points is too large (at most {MAX_EVENT_POINTS:,})")
    return points


def on_callback_error(err: Exception):
    """Dash's ``on_error``: any callback that raises answers with a message in the alert area.

    ``BadInput`` and lookup errors carry a message meant for the user; anything else is
    logged with its traceback on the server and summarised in the page.  Outputs are
    left as they were.
    """
    if isinstance(err, (BadInput, KeyError)):
        text = err.args[0] if err.args else str(err)
        log.info("callback refused input: %s", text)
        message = f"Request not understood: {str(text)[:300]}"
    else:
        log.exception("callback failed", exc_info=err)
        message = (f"Could not update the view ({type(err).__name__}); the server log has the details. "
                   "Reload the page if it looks wrong.")
    set_props(L.ALERT_TEXT, {"children": message})
    set_props(L.ALERT, {"style": {"display": "flex"}})
    return None


def progress_message(store: ExplorerStore, progress: dict | None, page_names: list[str]) -> str:
    """The banner: datasets ready since the page loaded, and what the pipeline still prepares."""
    parts = []
    new = [n for n in store.names if n not in page_names]
    if new:
        parts.append(" and ".join(store.get(n).title for n in new) + (" is" if len(new) == 1 else " are")
                     + " ready — reload the page to explore " + ("it." if len(new) == 1 else "them."))
    entries = (progress or {}).get("datasets") or {}
    if isinstance(entries, dict):
        for name, e in entries.items():
            # served datasets need no word here (new ones were announced above)
            if not isinstance(e, dict) or e.get("stage") in (None, "ready") or name in store.datasets:
                continue
            title = KNOWN_TITLES.get(name, str(name)[:40])
            stage = str(e.get("stage"))[:40]
            detail = str(e.get("detail") or "")[:60]
            parts.append(f"{title} is still being prepared: {STAGE_WORDS.get(stage, stage)}"
                         + (f" ({detail})" if detail else "") + "…")
    return " ".join(parts)


def _pct(x: float) -> str:
    return f"{100 * float(x):.0f}%"


def register_callbacks(app, store: ExplorerStore) -> None:
    """Attach every callback of the page to ``app``."""
    # -- tabs --------------------------------------------------------------------
    app.clientside_callback(
        """function(tab) {
            const show = t => ({display: t === tab ? 'block' : 'none'});
            const ctl = hidden => ({display: hidden ? 'none' : 'flex'});
            return [show('explore'), show('datasets'), show('projections'), show('dynamics'),
                    ctl(tab === 'datasets' || tab === 'dynamics'), ctl(tab === 'dynamics'), ctl(tab === 'dynamics')];
        }""",
        Output(L.panel_id("explore"), "style"), Output(L.panel_id("datasets"), "style"),
        Output(L.panel_id("projections"), "style"), Output(L.panel_id("dynamics"), "style"),
        Output(L.DATASET_BOX, "style"), Output(L.SPACE_BOX, "style"), Output(L.PROJ_BOX, "style"),
        Input(L.TABS_ID, "value"))

    # -- alert and banner ------------------------------------------------------------
    app.clientside_callback(
        "function(n) { return n ? {display: 'none'} : window.dash_clientside.no_update; }",
        Output(L.ALERT, "style", allow_duplicate=True), Input(L.ALERT_CLOSE, "n_clicks"), prevent_initial_call=True)
    app.clientside_callback(
        "function(n) { if (n) { window.location.reload(); } return window.dash_clientside.no_update; }",
        Output(L.RELOAD_BTN, "n_clicks"), Input(L.RELOAD_BTN, "n_clicks"), prevent_initial_call=True)

    @app.callback(
        Output(L.BANNER_TEXT, "children"), Output(L.BANNER, "style"), Output(L.RELOAD_BTN, "style"),
        Output(L.STATUS_POLL, "disabled"),
        Input(L.STATUS_POLL, "n_intervals"), State(L.PAGE_DATASETS, "data"), prevent_initial_call=True)
    def poll_status(_, page_names):
        store.maybe_reload()
        page_names = [n for n in page_names if isinstance(n, str)] if isinstance(page_names, list) else []
        progress = store.progress()
        text = progress_message(store, progress, page_names)
        new = any(n not in page_names for n in store.names)
        # keep polling while the pipeline works; a new dataset is announced once, then polling stops
        return (text, {} if text else {"display": "none"}, {} if new else {"display": "none"},
                progress is None or new)

    # -- URL <-> controls: one callback, since Dash allows a cycle only within one --
    @app.callback(
        Output(L.URL, "search"), Output(L.TABS_ID, "value"), Output(L.DATASET, "value"),
        Output(L.SPACE, "value"), Output(L.PROJ, "value"), Output(L.COLOUR, "value"),
        Output(L.SPACE2, "value"), Output(L.PROJ2, "value"), Output(L.CELL, "data"),
        Output(L.DY_FRAME, "value"), Output({"type": L.DY_PAIR, "dataset": ALL}, "value"),
        Input(L.URL, "search"), Input(L.TABS_ID, "value"), Input(L.DATASET, "value"),
        Input(L.SPACE, "value"), Input(L.PROJ, "value"), Input(L.COLOUR, "value"),
        Input(L.SPACE2, "value"), Input(L.PROJ2, "value"), Input(L.CELL, "data"),
        Input(L.DY_FRAME, "value"), Input({"type": L.DY_PAIR, "dataset": ALL}, "value"),
        State(L.DY_FRAME, "max"))
    def sync_url(search, tab, ds, space, proj, colour, space2, proj2, cell_data, frame, pairs, frame_max):
        names = store.names
        trig = ctx.triggered_id
        pair_names = [o["id"]["dataset"] for o in ctx.outputs_list[10]]
        n_classes = max(len(store.get(n).class_names) for n in names)
        if trig is None or trig == L.URL:
            s = parse_query(search, names, n_classes)
            cell = {"ds": s.ds, "cell": list(s.cell)} if s.cell else None
            chosen = {n: (a, b) for n, a, b in s.pairs}
            last = frame_max if isinstance(frame_max, int) and frame_max >= 0 else 0
            pair_values = []
            for n in pair_names:
                a, b = chosen.get(n) or (D.default_pair(store.get(n)) if n in store.datasets else (0, 1))
                pair_values.append(f"{a}-{b}")
            return (no_update, s.tab, s.ds, s.space, s.proj, s.colour, s.space2, s.proj2, cell,
                    min(s.frame, last), pair_values)
        ds_view = _view(store, ds)
        cell = _cell_of(cell_data, ds, len(ds_view.class_names))
        new_cell = no_update
        if trig == L.DATASET and cell_data and cell is None:
            new_cell = None  # a cell of the other dataset means nothing here
        chosen_pairs = []
        for n, v in zip(pair_names, pairs if isinstance(pairs, list) else []):
            pair = parse_pair(v, n_classes, distinct=True)
            if pair is not None and n in names:
                chosen_pairs.append((n, *pair))
        s = ViewState(tab=_choice(tab, TABS, "tab"), ds=ds, space=space,
                      proj=proj, colour=colour, cell=cell, space2=space2, proj2=proj2,
                      frame=frame if isinstance(frame, int) and not isinstance(frame, bool) and frame >= 0 else 0,
                      pairs=tuple(sorted(chosen_pairs)))
        query = to_query(s)
        return ((query if query != search else no_update), no_update, no_update, no_update, no_update,
                no_update, no_update, no_update, new_cell, no_update, [no_update] * len(pair_names))

    # -- Explore: scatter ------------------------------------------------------------
    @app.callback(
        Output(L.SCATTER, "figure"), Output(EX_RENDERED, "data"),
        Input(L.TABS_ID, "value"), Input(L.DATASET, "value"), Input(L.SPACE, "value"),
        Input(L.PROJ, "value"), Input(L.COLOUR, "value"), Input(L.CELL, "data"),
        State(EX_RENDERED, "data"))
    def render_scatter(tab, ds_name, space, proj, colour, cell_data, rendered):
        if tab != "explore":
            raise PreventUpdate  # drawn when the tab is opened, not before
        ds = _view(store, ds_name, space, proj, colour)
        cell = _cell_of(cell_data, ds_name, len(ds.class_names))
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
        points = _event_points(selected)
        if not points:
            return None, no_update
        rows = F.rows_from_points(_view(store, ds_name, colour=colour), colour, points)
        # a selection replaces a chosen cell: the gallery shows one set at a time
        return {"ds": ds_name, "rows": rows.tolist()}, (None if cell_data else no_update)

    @app.callback(
        Output(L.CELL, "data", allow_duplicate=True), Output(L.SELECTION, "data", allow_duplicate=True),
        Output(L.SCATTER, "figure", allow_duplicate=True),
        Input(L.CONFUSION, "clickData"), State(L.CELL, "data"), State(L.DATASET, "value"),
        State(L.COLOUR, "value"), prevent_initial_call=True)
    def on_cell_click(click, cell_data, ds_name, colour):
        points = _event_points(click)
        if not points:
            raise PreventUpdate
        ds = _view(store, ds_name, colour=colour)
        k = len(ds.class_names)
        p = points[0] if isinstance(points[0], dict) else {}
        t, q = _int(p.get("y"), 0, k, "clicked cell's row"), _int(p.get("x"), 0, k, "clicked cell's column")
        if _cell_of(cell_data, ds_name, k) == (t, q):
            return None, None, _clear_selection(ds, colour)  # second click: unchoose
        return {"ds": ds_name, "cell": [t, q]}, None, _clear_selection(ds, colour)

    @app.callback(
        Output(L.CELL, "data", allow_duplicate=True), Output(L.SELECTION, "data", allow_duplicate=True),
        Output(L.SCATTER, "figure", allow_duplicate=True),
        Input(L.CLEAR_BTN, "n_clicks"), State(L.DATASET, "value"), State(L.COLOUR, "value"),
        prevent_initial_call=True)
    def on_clear(_, ds_name, colour):
        return None, None, _clear_selection(_view(store, ds_name, colour=colour), colour)

    # -- Explore: confusion matrix, selection panel, CSV -------------------------------
    @app.callback(Output(L.CONFUSION, "figure"),
                  Input(L.DATASET, "value"), Input(L.SELECTION, "data"), Input(L.CELL, "data"))
    def render_confusion(ds_name, sel, cell_data):
        ds = _view(store, ds_name)
        rows = _rows_of(sel, ds_name, ds.n)
        if rows is not None:
            return F.confusion_figure(ds, F.selection_confusion(ds, rows),
                                      title=f"Confusion within the selection ({len(rows):,} points)")
        acc = np.trace(ds.confusion) / max(1, ds.n)
        return F.confusion_figure(ds, ds.confusion, _cell_of(cell_data, ds_name, len(ds.class_names)),
                                  title=f"Confusion matrix · accuracy {_pct(acc)} · click a cell")

    @app.callback(
        Output(L.FOCUS_TITLE, "children"), Output(L.HIST, "figure"), Output(L.HIST, "style"),
        Output(L.GALLERY, "children"), Output(L.DOWNLOAD_BTN, "disabled"),
        Input(L.DATASET, "value"), Input(L.SELECTION, "data"), Input(L.CELL, "data"))
    def render_focus(ds_name, sel, cell_data):
        ds = _view(store, ds_name)
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
        ds = _view(store, ds_name, space, proj)
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
        ds = _view(store, ds_name, space)
        if clicked and not isinstance(clicked, dict):
            raise BadInput(f"clicked point must be an object (got {_short(clicked)})")
        if not clicked or clicked.get("ds") != ds_name:
            return html.P("Click a point (or a gallery image) to see its image, top-3 probabilities and its "
                          "nearest neighbours.", className="placeholder")
        return detail_panel(ds, _int(clicked.get("row"), 0, ds.n, "clicked row"), space)

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
        # one figure per scatter the page holds, in its order (a page may predate a new dataset)
        for o in ctx.outputs_list[0]:
            n = o["id"].get("dataset") if isinstance(o.get("id"), dict) else None
            fig = F.scatter_figure(_view(store, n, space, proj, colour), space, proj, colour, legend=True)
            fig["layout"]["uirevision"] = f"{n}/{key}"
            figs.append(fig)
        report = store.report
        names = store.names
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
        points = _event_points(left if trig == L.CP_LEFT else right)
        if not points:
            return None
        rows = F.rows_from_points(_view(store, ds_name, colour=colour), colour, points)
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
        ds = _view(store, ds_name, space, proj, colour)
        _view(store, ds_name, _choice(space2, SPACES, "space"), _choice(proj2, PROJECTIONS, "projection"))
        rows = _rows_of(linked, ds_name, ds.n)
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


    # -- Training dynamics ---------------------------------------------------------------
    renders = itertools.count(1)

    def dynamics_of(name) -> DatasetView:
        ds = _dataset(store, name)
        if ds.dynamics is None:
            raise BadInput(f"{ds.title} has no training dynamics in the cache")
        return ds

    def step_of(frame, epochs: list[float]) -> int:
        if not epochs:
            raise PreventUpdate  # no dataset has dynamics: the tab shows only the messages
        return _int(frame, 0, len(epochs), "frame")

    @app.callback(
        Output({"type": L.DY_SCATTER, "dataset": ALL}, "figure"), Output(L.DY_RENDERED, "data"),
        Input(L.TABS_ID, "value"), Input(L.COLOUR, "value"), State(L.DY_FRAME, "value"),
        State(L.DY_RENDERED, "data"))
    def render_dynamics(tab, colour, frame, rendered):
        if tab != "dynamics":
            raise PreventUpdate
        _choice(colour, COLOURS, "colour")
        epochs = D.steps(store)
        step = step_of(frame, epochs)
        if rendered == colour:
            raise PreventUpdate  # back on the tab: the browser already shows it (and moves it)
        figs = []
        for o in ctx.outputs_list[0]:
            ds = dynamics_of(o["id"].get("dataset"))
            frames = [D.frame_at(ds.dynamics, e) for e in epochs]
            fig = D.scatter_figure(ds, frames[step], colour, frames, epochs)
            # tells assets/dynamics.js that this drawing, not its own last one, is on screen
            fig["layout"]["meta"]["render"] = next(renders)
            figs.append(fig)
        return figs, colour

    @app.callback(
        Output({"type": L.DY_CHART, "dataset": ALL}, "figure"), Output({"type": L.DY_STATS, "dataset": ALL}, "children"),
        Output(L.DY_FRAME_LABEL, "children"),
        Input(L.TABS_ID, "value"), Input(L.DY_FRAME, "value"), Input({"type": L.DY_PAIR, "dataset": ALL}, "value"))
    def render_dynamics_charts(tab, frame, pairs):
        if tab != "dynamics":
            raise PreventUpdate
        epochs = D.steps(store)
        step = step_of(frame, epochs)
        chosen = {}
        for spec in ctx.inputs_list[2] if isinstance(pairs, list) else []:
            if isinstance(spec, dict) and isinstance(spec.get("id"), dict):
                chosen[spec["id"].get("dataset")] = spec.get("value")
        figs, stats = [], []
        for o in ctx.outputs_list[0]:
            name = o["id"].get("dataset")
            ds = dynamics_of(name)
            k = len(ds.class_names)
            pair = parse_pair(chosen.get(name), k, distinct=True)
            if pair is None:
                raise BadInput(f"class pair of {ds.title} must be two different classes 'a-b' below {k} "
                               f"(got {_short(chosen.get(name))})")
            pair = (min(pair), max(pair))
            f = D.frame_at(ds.dynamics, epochs[step])
            figs.append(D.chart_figure(ds, f, pair))
            stats.append(D.stats_line(ds, f, pair))
        label = f"{D.epoch_label(epochs[step])} · step {step + 1} of {len(epochs)}"
        return figs, stats, label

    # the points move in the browser (assets/dynamics.js): no server round trip per animation frame
    app.clientside_callback(
        """function(step) {
            if (window.explorerDynamics && typeof step === 'number') window.explorerDynamics.goTo(step);
            return step;
        }""",
        Output(L.DY_SHOWN, "data"), Input(L.DY_FRAME, "value"))
    app.clientside_callback(
        """function(n, disabled, step, last) {
            const nu = window.dash_clientside.no_update;
            if (!n) return [nu, nu, nu];
            if (disabled) {  // start: from the beginning when at the end
                return [false, '❚❚ Pause', (step >= last) ? 0 : nu];
            }
            return [true, '▶ Play', nu];
        }""",
        Output(L.DY_TIMER, "disabled"), Output(L.DY_PLAY, "children"),
        Output(L.DY_FRAME, "value", allow_duplicate=True),
        Input(L.DY_PLAY, "n_clicks"), State(L.DY_TIMER, "disabled"), State(L.DY_FRAME, "value"),
        State(L.DY_FRAME, "max"), prevent_initial_call=True)
    app.clientside_callback(
        """function(n, step, last) {
            const next = (typeof step === 'number' ? step : 0) + 1;
            if (next >= last) return [Math.min(next, last), true, '▶ Play'];
            return [next, window.dash_clientside.no_update, window.dash_clientside.no_update];
        }""",
        Output(L.DY_FRAME, "value", allow_duplicate=True), Output(L.DY_TIMER, "disabled", allow_duplicate=True),
        Output(L.DY_PLAY, "children", allow_duplicate=True),
        Input(L.DY_TIMER, "n_intervals"), State(L.DY_FRAME, "value"), State(L.DY_FRAME, "max"),
        prevent_initial_call=True)

def _clear_selection(ds: DatasetView, colour: str) -> Patch:
    """Patch that removes the box/lasso drawn on the scatter and its selected points."""
    patch = Patch()
    patch["layout"]["selections"] = []
    for i in range(len(F.groups(ds, colour))):
        patch["data"][i]["selectedpoints"] = None
    return patch


def _focus_rows(ds: DatasetView, sel: dict | None, cell_data: dict | None) -> tuple[np.ndarray | None, str]:
    rows = _rows_of(sel, ds.name, ds.n)
    if rows is not None:
        return rows, "selected on the scatter"
    cell = _cell_of(cell_data, ds.name, len(ds.class_names))
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

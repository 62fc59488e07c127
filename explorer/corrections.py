"""Label corrections in the page: the actions that correct (a point's detail panel, Explore's selection, the
Label issues grid and its keys), undo, the bar with its counts, switch and exports.

The log is :class:`core.corrections.CorrectionLog` (``<cache>/<dataset>/corrections.jsonl``); which labels
a request sees is :mod:`explorer.labels`' (``labels=original`` in the URL, sent as ``X-Labels``). Every
correction goes through :func:`register`'s one callback: it bumps ``CORR_VERSION``, which Explore's
views and the bar take as an input, and sets ``CORR_DONE``, the marks ``assets/corrections.js`` writes on
the Label issues cards it touched (the grid is not drawn again: a key costs 0.3-0.4 s, not 1.3 s).
"""
from __future__ import annotations

import flask
import numpy as np
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from core.corrections import ACTIONS, states

from . import ids
from .accuracy import Accuracy, accuracy_rows
from .checks import BadInput, _model, _short
from .labels import CHOICES, changed_rows, decision, keys_of, log_of, row_states, shown
from .registry import Field, View, pick
from .selection import focus_rows
from .views import DatasetView

MOST_ROWS = 100_000  # rows one action may correct (a selection of every image of the 70,000 set fits)


def hidden_correction(tab) -> None:
    """Explore's matrix, gallery and detail draw a correction made on another tab (a review in Label issues)
    when Explore is opened, not at each key while hidden."""
    if ctx.triggered_id in (ids.CORR_VERSION, ids.TABS_ID) and tab != "explore":
        raise PreventUpdate


def class_options(ds: DatasetView) -> list[dict]:
    return [{"label": n, "value": k} for k, n in enumerate(ds.class_names)]


def apply(ds: DatasetView, model: str | None, rows, action: str, new=None) -> str:
    """Correct ``rows`` of ``ds`` by ``action`` (``new``: the class of a relabel; ``accept`` takes the
    model's suggested label) as one batch; its id (what undo takes back)."""
    if action not in ACTIONS or action == "undo":
        raise BadInput(f"action must be one of {', '.join(a for a in ACTIONS if a != 'undo')} (got {_short(action)})")
    if not isinstance(rows, list) or not 0 < len(rows) <= MOST_ROWS or not all(
            isinstance(r, int) and not isinstance(r, bool) and 0 <= r < ds.n for r in rows):
        raise BadInput(f"rows must be 1 to {MOST_ROWS} row numbers below {ds.n}")
    base = ds.base or ds
    shown_labels = shown(base, "corrected").labels
    if action == "accept":
        issues = base.pick(model).issues
        if issues is None:
            raise BadInput(f"{base.pick(model).title} has no suggested labels to accept")
        targets = [int(issues.suggested[r]) for r in rows]
    elif action == "relabel":
        if not isinstance(new, int) or isinstance(new, bool) or not 0 <= new < len(ds.class_names):
            raise BadInput(f"new label must be a class number 0 to {len(ds.class_names) - 1} (got {_short(new)})")
        targets = [new] * len(rows)
    else:
        targets = [int(shown_labels[r]) for r in rows]
    keys = keys_of(base)
    entries = [{"split": keys.key(r)[0], "index": keys.key(r)[1], "old": int(shown_labels[r]), "new": t,
                "action": action} for r, t in zip(rows, targets)]
    made = log_of(base).append(entries)
    return made[0].batch if made else ""


def undo(ds: DatasetView, batch) -> list[int]:
    """Take back a batch this page made; the rows of ``ds`` it touched."""
    if not isinstance(batch, str) or not 0 < len(batch) <= 64:
        raise BadInput("undo takes a batch id from this page")
    keys = keys_of(ds)
    return [r for r in (keys.row(e.split, e.index) for e in log_of(ds).undo(batch=batch)) if r is not None]


def marks(ds: DatasetView, rows) -> dict:
    """What ``corrections.js`` writes on the Label issues cards of ``rows``: ``{"dataset", "marks": {row: [action,
    badge] or None}}`` (the grid is not drawn again: Dash re-rendering 48 cards took a second a key)."""
    now = row_states(ds)
    return {"dataset": (ds.base or ds).name,
            "marks": {str(r): [now[r], decision(ds, r, now[r])] if r in now else None for r in rows}}


# -- the bar: counts, the switch, undo, exports ---------------------------------------------------
def bar_words(ds: DatasetView, m) -> str:
    """What the bar says of ``ds``'s corrections: how many labels changed, and the accuracy both ways."""
    base = ds.base or ds
    problem = base._cache.get("corrections-problem")
    if problem:
        return f"Corrections not shown: {problem}"
    entries = log_of(base).entries()
    if not entries:
        return ""
    changed = changed_rows(base)
    st = states(entries)
    marks = {a: sum(1 for s in st.values() if s.action == a) for a in ("ambiguous", "confirmed")}
    train = sum(1 for (split, _), s in st.items() if split == "train" and s.label is not None)
    words = [f"{len(changed):,} label{'s' if len(changed) != 1 else ''} corrected"]
    if train and base.sample_set == "test":
        words.append(f"{train:,} training image{'s' if train != 1 else ''} (the next run trains on them)")
    words += [f"{v:,} {SHORT[a]}" for a, v in marks.items() if v]
    if m is not None:
        rows, images = accuracy_rows(base)
        before, after = (Accuracy.of(np.mean(labels[rows] == m.pred[rows]) if len(rows) else 0, len(rows), images)
                         for labels in (base.labels, shown(base, "corrected").labels))
        words.append(f"{m.title} {after.percent} right against them, {before.percent} against the original")
    return " · ".join(words)


SHORT = {"ambiguous": "ambiguous", "confirmed": "confirmed right"}


def layout(store) -> html.Div:
    return html.Div([
        html.Span(id=ids.CORR_TEXT, className="corr-text"),
        html.Span("Labels", className="corr-label", id="corr-labels-name"),
        dcc.RadioItems(id=ids.LABELS, options=[{"label": "corrected", "value": "corrected"},
                                               {"label": "original", "value": "original"}],
                       value="corrected", inline=True, className="radio corr-switch"),
        html.Button("Undo", id=ids.CORR_UNDO_BTN, className="btn btn-light", disabled=True,
                    title="Take back this page's last correction (key U in the Label issues grid)"),
        html.A("Export CSV", id=ids.CORR_CSV, className="btn btn-light", download=""),
        html.A("Export JSON", id=ids.CORR_JSON, className="btn btn-light", download=""),
        html.Span(id=ids.CORR_MSG, className="corr-msg", role="status"),
        dcc.Store(id=ids.CORR_VERSION, data=0), dcc.Store(id=ids.CORR_ACTION), dcc.Store(id=ids.CORR_DONE),
        dcc.Store(id=ids.CORR_UNDO, storage_type="session", data=[]),
    ], id=ids.CORR_BAR, className="corr-bar", style={"display": "none"})


def register(app, store) -> None:
    @app.callback(
        Output(ids.CORR_VERSION, "data"), Output(ids.CORR_UNDO, "data"), Output(ids.CORR_MSG, "children"),
        Output(ids.CORR_DONE, "data"),
        Input(ids.CORR_ACTION, "data"), Input(ids.CORR_UNDO_BTN, "n_clicks"), Input(ids.SEL_FIX_BTN, "n_clicks"),
        State(ids.SEL_FIX_CLASS, "value"), State(ids.DATASET, "value"), State(ids.MODEL, "value"),
        State(ids.SELECTION, "data"), State(ids.CELL, "data"), State(ids.FILTER, "data"),
        State(ids.CORR_UNDO, "data"), State(ids.CORR_VERSION, "data"), prevent_initial_call=True)
    def correct(action, _undo, _sel, sel_class, ds_name, model, sel, cell, flt, stack, version):
        stack = [b for b in stack if isinstance(b, list) and len(b) == 2][-200:] if isinstance(stack, list) else []
        version = (version if isinstance(version, int) else 0) + 1
        if ctx.triggered_id == ids.CORR_UNDO_BTN or (isinstance(action, dict) and action.get("undo") is True):
            if not stack:
                return no_update, no_update, "Nothing of this page's to undo.", {"marks": {}}
            name, batch = stack.pop()
            ds = store.get(name)
            rows = undo(ds, batch)
            return version, stack, f"Undone: {len(rows)} correction{'s' if len(rows) != 1 else ''}.", marks(ds, rows)
        if ctx.triggered_id == ids.SEL_FIX_BTN:
            m = _model(store, ds_name, model)
            rows, _ = focus_rows(m, sel, cell, flt)
            if rows is None or not len(rows):
                return no_update, no_update, "Select images first (box, lasso, a cell or the filters).", no_update
            batch = apply(m.ds, m.name, [int(r) for r in rows], "relabel", sel_class)
            return (version, stack + [[m.ds.name, batch]], f"{len(rows):,} image{'s' if len(rows) != 1 else ''} "
                    f"relabelled {m.ds.class_names[sel_class]}.", marks(m.ds, rows[:1000].tolist()))
        if not isinstance(action, dict):
            raise BadInput("a correction must be an object")
        m = _model(store, action.get("dataset"), action.get("model"))
        batch = apply(m.ds, m.name, action.get("rows"), action.get("action"), action.get("new"))
        return version, stack + [[m.ds.name, batch]], "", marks(m.ds, action["rows"])

    @app.callback(Output(ids.CORR_TEXT, "children"), Output(ids.CORR_BAR, "style"), Output(ids.CORR_UNDO_BTN,
                  "disabled"), Output(ids.CORR_CSV, "href"), Output(ids.CORR_JSON, "href"),
                  Input(ids.DATASET, "value"), Input(ids.MODEL, "value"), Input(ids.CORR_VERSION, "data"),
                  Input(ids.CORR_UNDO, "data"))
    def bar(ds_name, model, _version, stack):
        m = _model(store, ds_name, model)
        words = bar_words(m.ds, m)
        base = f"/api/corrections/{m.ds.name}"
        return (words, {} if words else {"display": "none"}, not stack, base + ".csv", base + ".json")

    @app.callback(Output(ids.SEL_FIX_CLASS, "options"), Output(ids.SEL_FIX_CLASS, "value"),
                  Input(ids.DATASET, "value"), State(ids.SEL_FIX_CLASS, "value"))
    def fix_classes(ds_name, chosen):
        ds = _model(store, ds_name, None).ds
        return class_options(ds), chosen if isinstance(chosen, int) and 0 <= chosen < len(ds.class_names) else 0

    # the cards a correction touched show it (assets/corrections.js), without the grid drawn again
    app.clientside_callback("function (done) { window.explorerCorrections.mark(done); "
                            "return window.dash_clientside.no_update; }",
                            Output(ids.CORR_DONE, "modified_timestamp"), Input(ids.CORR_DONE, "data"),
                            prevent_initial_call=True)

    # the switch: the page loads again with the other labels (every view draws them), its URL saying which
    app.clientside_callback(
        """function (v) {
            if (v !== 'original' && v !== 'corrected' || v === window.explorerLabels) {
                return window.dash_clientside.no_update;
            }
            const url = new URL(window.location.href);
            if (v === 'original') url.searchParams.set('labels', 'original'); else url.searchParams.delete('labels');
            window.location.replace(url.toString());
            return window.dash_clientside.no_update;
        }""", Output(ids.CORR_MSG, "title"), Input(ids.LABELS, "value"), prevent_initial_call=True)

    server = app.server

    @server.route("/api/corrections/<name>.<fmt>", endpoint="corrections")
    def export(name: str, fmt: str):
        if name not in store.datasets or fmt not in ("csv", "json"):
            return flask.Response(f"no corrections export {name[:40]}.{fmt[:8]}: use "
                                  f"/api/corrections/<dataset>.csv or .json for one of {', '.join(store.names)}\n",
                                  status=404, mimetype="text/plain")
        log = log_of(store.datasets[name])
        body = log.to_csv() if fmt == "csv" else log.to_json()
        resp = flask.Response(body, mimetype="text/csv" if fmt == "csv" else "application/json")
        resp.headers["Content-Disposition"] = f"attachment; filename={name}-corrections.{fmt}"
        resp.headers["Cache-Control"] = "no-store"
        return resp


FIELDS = (Field("labels", "corrected", lambda v, r: pick(v, CHOICES, "corrected"), None, (ids.LABELS, "value"), at=4.5),)
VIEW = View("corrections", None, order=1, fields=FIELDS, layout=layout, register=register)

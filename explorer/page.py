"""The page shell: header, progress banner, alert area, tabs and their panels, composed from the
registered views (:mod:`explorer.registry`; the built-in ones in :mod:`explorer.controls` and
:mod:`explorer.tabs`), plus the page-wide callbacks: tab switching, alert, banner polling, and the
URL callback that reads and writes every registered view's fields.

Component ids are in :mod:`explorer.ids`.  The layout is built per page load (``app.layout =
lambda: build_layout(store, parts)``), so a dataset the pipeline finished after the server started
appears on the next load.
"""
from __future__ import annotations

import json
import logging
from typing import Sequence

from dash import Input, Output, State, ctx, dcc, html, no_update, set_props

from . import ids
from . import live
from .live import STATUS_POLL_MS, progress_message  # noqa: F401 - tests import progress_message here
from .progress import STAGE_WORDS  # noqa: F401
from .controls import BOXES, OPENING_TAB, catalog, colour_options, coming_models  # noqa: F401 - colour_options: tests import it here
from .registry import Reading, Sync, View, ViewState, views
from .state import ignored_values, parse_query, to_query
from .store import ExplorerStore, projections
from .urlnote import ignored_note

log = logging.getLogger(__name__)


def build_layout(store: ExplorerStore, parts: Sequence[View] | None = None) -> html.Div:
    """The whole page of the views ``parts`` (default: those registered); figures are filled in by
    callbacks once the URL is read."""
    parts = views() if parts is None else parts
    tabs = [v for v in parts if v.label is not None]
    store.maybe_reload()
    if not store.names:  # a pipeline runs but has published nothing yet
        return live.waiting_layout(store)
    names = [store.get(n).title for n in store.names]
    titles = " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]
    progress = store.progress()
    banner = live.banner_children(store, progress, store.names, store.names[0])
    return html.Div([
        dcc.Location(id=ids.URL, refresh=False),
        html.Header([
            html.H1("Embedding explorer"),
            html.Span(f"{titles}: how each model sees the classes, where it confuses them", className="tagline"),
        ]),
        html.Div([html.Div(banner, id=ids.BANNER_TEXT, className="banner-text"),
                  html.Button("Reload", id=ids.RELOAD_BTN, className="btn", style={"display": "none"})],
                 id=ids.BANNER, className="banner", role="status", style={} if banner else {"display": "none"}),
        html.Div([html.Span(id=ids.ALERT_TEXT), html.Button("×", id=ids.ALERT_CLOSE, className="alert-close",
                                                             title="Dismiss")],
                 id=ids.ALERT, className="alert", role="alert", style={"display": "none"}),
        # polls while a pipeline is working (there is something to announce)
        dcc.Interval(id=ids.STATUS_POLL, interval=STATUS_POLL_MS, disabled=progress is None),
        dcc.Store(id=ids.PAGE_DATASETS, data=store.names), dcc.Store(id=ids.LIVE_NOTE),
        # one row of tabs at every width (Dash stacks them under 800 px: 190 px of a phone's first screen)
        dcc.Tabs(id=ids.TABS_ID, value=OPENING_TAB, className="tabs", mobile_breakpoint=0, children=[
            dcc.Tab(label=v.label, value=v.name, className="tab", selected_className="tab-selected") for v in tabs]),
        # the parts of every tab (the shared control bar)
        *[v.layout(store) for v in parts if v.label is None and v.layout is not None],
        # all panels stay mounted (callbacks target them); the tab shows one, see register's tab switch
        html.Div([html.Div(v.layout(store) if v.layout else None, id=ids.panel_id(v.name), className="panel")
                  for v in tabs]),
        # one tooltip element for every scatter, driven by assets/hover.js without a server round trip
        html.Div(id=ids.HOVER_TIP, className="hover-tip", children=[
            html.Div(className="hover-img"), html.Div(className="hover-text")]),
    ], className="page")


def register(app, store: ExplorerStore, parts: Sequence[View] | None = None) -> None:
    """Attach the page-wide callbacks for the views ``parts`` (default: those registered) to ``app``:
    tabs, alert, banner, URL."""
    parts = views() if parts is None else parts
    tabs = [v.name for v in parts if v.label is not None]
    # -- tabs: show one panel, and the boxes of the shared bar that tab uses ----------------------
    bars = {v.name: [b for b in BOXES if b in v.bar] for v in parts if v.label is not None}
    app.clientside_callback(
        """function(tab) {
            const bar = %s[tab] || [];
            return [...%s.map(t => ({display: t === tab ? 'block' : 'none'})),
                    ...%s.map(box => ({display: bar.includes(box) ? 'flex' : 'none'}))];
        }""" % (json.dumps(bars), json.dumps(tabs), json.dumps(list(BOXES))),
        *[Output(ids.panel_id(t), "style") for t in tabs], *[Output(b, "style") for b in BOXES],
        Input(ids.TABS_ID, "value"))

    # -- alert and banner --------------------------------------------------------------------
    app.clientside_callback(
        "function(n) { return n ? {display: 'none'} : window.dash_clientside.no_update; }",
        Output(ids.ALERT, "style", allow_duplicate=True), Input(ids.ALERT_CLOSE, "n_clicks"),
        prevent_initial_call=True)
    app.clientside_callback(
        "function(n) { if (n) { window.location.reload(); } return window.dash_clientside.no_update; }",
        Output(ids.RELOAD_BTN, "n_clicks"), Input(ids.RELOAD_BTN, "n_clicks"), prevent_initial_call=True)

    live.register(app, store, parts)
    register_url(app, store, parts)


def _wild(id_) -> bool:
    """An id with a wildcard (``ALL``): its property is a list, one value per matching component."""
    return isinstance(id_, dict)


def register_url(app, store: ExplorerStore, parts: Sequence[View]) -> None:
    """URL <-> controls: one callback over every field of ``parts`` (Dash allows a cycle only within one).

    The URL read (page load, back/forward) sets the controls through each view's ``from_url``; a
    control's change writes the URL through each view's ``to_url``, the shared bar's first.
    """
    held_by = [f for v in parts for f in v.fields if f.control]  # the fields a control holds
    outputs = {"search": Output(ids.URL, "search"), "fields": {f.name: Output(*f.control) for f in held_by},
               "extra": {k: Output(*c) for v in parts for k, c in v.outputs.items()}}
    inputs = {"search": Input(ids.URL, "search"), "fields": {f.name: Input(*f.control) for f in held_by},
              "extra": {k: Input(*c) for v in parts for k, c in v.inputs.items()}}
    state = {"held": {k: State(*c) for v in parts for k, c in v.state.items()}}
    outputs, inputs, state = ({k: g for k, g in d.items() if g != {}} for d in (outputs, inputs, state))
    read = {k: c for v in parts for k, c in (*v.inputs.items(), *v.state.items())}
    # an extra output some input or state reads too: the page's value of it, to leave alone when equal
    same = {k: next((r for r, rc in read.items() if rc == c), None) for v in parts for k, c in v.outputs.items()}
    wild = {f.name for f in held_by if _wild(f.control[0])} | {
        k for v in parts for k, c in v.outputs.items() if _wild(c[0])}

    @app.callback(output=outputs, inputs=inputs, state=state)
    def sync_url(search, fields=None, extra=None, held=None):
        names = store.names
        fields, got = fields or {}, {**(extra or {}), **(held or {})}
        args, outs = ctx.args_grouping.get("fields", {}), ctx.outputs_grouping
        sync = Sync(store, ctx.triggered_id, dict(fields), got,
                    Reading(names, max(len(store.get(n).class_names) for n in names), catalog(store),
                            projections(store)),
                    # the wildcard components this page holds (it may predate a dataset), with their values
                    items={k: [(p["id"], p.get("value")) for p in args[k] if _wild(p.get("id"))]
                           if isinstance(fields.get(k), list) else [] for k in wild if k in args},
                    targets={k: [o.get("id") for o in {**outs.get("fields", {}), **outs.get("extra", {})}[k]]
                             for k in wild})
        out = {}
        if sync.trigger in (None, ids.URL):  # page load or back/forward: the URL sets the controls
            r = sync.reading
            coming = coming_models(store, store.progress())
            s = parse_query(search, names, r.n_classes, r.models, r.projections, coming)
            # values it names that the page cannot show: said, and the URL made the view read (issue 26)
            canonical = say_ignored(search, s, Reading(names, r.n_classes, r.models, r.projections, coming))
            for v in parts:
                s, o = v.url_to_controls(s, sync)
                out.update(o)
            # a control already holding the URL's value is left alone: setting it would set off its
            # callbacks, and the scatter's figure would wait for them (issue 14)
            for k, new in out.items():
                now = [v for _id, v in sync.items.get(k, [])] if k in wild else (
                    fields[k] if k in fields else got.get(same.get(k), no_update))
                if k in wild:
                    out[k] = [no_update if a == b else a for a, b in zip(new, now)] if len(now) == len(new) else new
                elif new == now:
                    out[k] = no_update
            return answer(canonical, out, sync)
        if any(v.waits is not None and v.waits(sync) for v in parts):
            return answer(no_update, {}, sync)  # e.g. playing: the URL follows once play stops
        # a control changed (or play stopped): the URL follows
        s = ViewState()
        for v in parts:
            s, o = v.controls_to_url(s, sync)
            out.update(o)
        query = to_query(s)
        return answer(query if query != search else no_update, out, sync)

    def say_ignored(search, s: ViewState, reading: Reading):
        """Show in the alert area what the URL ``search`` gave that ``s`` did not take; the query of ``s``
        for the URL then (the view the page shows, a model still being made included), else ``no_update``."""
        note = ignored_note(ignored_values(search, s, reading), store.get(s.ds).title if s.ds else "")
        if not note:
            return no_update
        set_props(ids.ALERT_TEXT, {"children": note})
        set_props(ids.ALERT, {"style": {"display": "flex"}})
        query = to_query(s)
        return query if query != search else no_update

    def answer(search, out: dict, sync: Sync) -> dict:
        """The callback's outputs: ``out``'s values, ``no_update`` for the others (one per component of a wildcard)."""
        def value(k):
            return out.get(k, [no_update] * len(sync.targets[k]) if k in wild else no_update)
        return {"search": search, **{g: {k: value(k) for k in outputs[g]} for g in ("fields", "extra") if g in outputs}}

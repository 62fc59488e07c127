"""The page shell: header, progress banner, alert area, tabs, the shared control bar and
the stores, plus the page-wide callbacks (tab switching, alert, banner polling, URL sync).

Each tab's panel and callbacks are in :mod:`explorer.tabs`; component ids in
:mod:`explorer.ids`.  The layout is built per page load (``app.layout = lambda:
build_layout(store)``), so a dataset the pipeline finished after the server started
appears on the next load.
"""
from __future__ import annotations

import json
import logging
from dataclasses import replace

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from . import dynamics as D
from . import figures as F
from . import ids
from .checks import _cell_of, _choice, _model, _pair_of, _view
from .selection import url_filters, url_rows, with_filters, with_rows
from .state import COLOUR_LABELS, COLOURS, TABS, ViewState, parse_pair, parse_query, to_query
from .store import DatasetView, ExplorerStore, ModelView, method_facts, method_title, projections
from .tabs import TAB_MODULES
from .widgets import control, method_radio, radio

log = logging.getLogger(__name__)

STATUS_POLL_MS = 2000
TAB_LABELS = {"explore": "Explore", "issues": "Label issues", "datasets": "Compare datasets",
              "projections": "Compare models", "dynamics": "Training dynamics"}
STAGE_WORDS = {"train": "training", "waiting": "waiting for its turn", "fetch": "fetching the data",
               "embed": "extracting embeddings", "project": "projecting", "dynamics": "aligning training snapshots",
               "report": "measuring separability", "faith": "measuring how faithful each layout is",
               "issues": "looking for label errors"}
#: the view's fields other than the query string itself, each with the control that holds it
URL_FIELDS = {"tab": (ids.TABS_ID, "value"), "ds": (ids.DATASET, "value"), "model": (ids.MODEL, "value"),
              "proj": (ids.PROJ, "value"), "colour": (ids.COLOUR, "value"), "model2": (ids.MODEL2, "value"),
              "proj2": (ids.PROJ2, "value"), "cell": (ids.CELL, "data"), "frame": (ids.DY_FRAME, "value"),
              "issue": (ids.LI_PAIR, "data"), "compare": (ids.CD_SHOWN, "value"),
              "point": (ids.CLICKED, "data"), "sel": (ids.SELECTION, "data"), "zoom": (ids.ZOOM, "data"),
              "dims": (ids.DIMS, "value"),  # Explore's 2-D / 3-D switch
              # Explore's filter bar
              "conf": (ids.FLT_CONF, "value"), "show": (ids.FLT_CORRECT, "value"), "score": (ids.FLT_ISSUE, "value"),
              "find": (ids.FIND, "value"), "layers": (ids.LAYERS, "value")}
DYNAMICS_NOTE = ("Training dynamics are coloured by true class for this choice: it describes the trained "
                 "model's final layouts, not its snapshots.")
PAIRS = ids.per_dataset(ids.DY_PAIR, ALL)  # the class pair charted per dataset (training dynamics)


def progress_message(store: ExplorerStore, progress: dict | None, page_names: list[str]) -> str:
    """The banner: datasets ready since the page loaded, and what the pipeline still prepares.

    Parameters
    ----------
    store : ExplorerStore
    progress : dict or None
        The running pipeline's ``progress.json`` (:meth:`ExplorerStore.progress`).
    page_names : list of str
        The datasets the page was built with.
    """
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
            title = str(e.get("title") or name)[:40]  # older pipelines wrote no title: the name
            stage = str(e.get("stage"))[:40]
            detail = str(e.get("detail") or "")[:60]
            parts.append(f"{title} is still being prepared: {STAGE_WORDS.get(stage, stage)}"
                         + (f" ({detail})" if detail else "") + "…")
    return " ".join(parts)


def layout_of(m: ModelView, proj) -> str:
    """``proj`` if model ``m`` has that layout, else the first it has (in the page's order)."""
    if m.has(proj):
        return proj
    return next((p for p in projections(m.ds) if m.has(p)), proj)


def model_options(ds: DatasetView) -> list[dict]:
    """The Model control's options for ``ds``: its models in ``current.json``'s order, by title."""
    return [{"label": m.title, "value": m.name} for m in ds.models.values()]


def colour_options(m: ModelView, proj) -> list[dict]:
    """The Colour by control's options: label-issue score and faithfulness only where ``m`` (and its
    ``proj`` layout) has them."""
    return [{"label": COLOUR_LABELS[c], "value": c} for c in COLOURS if F.available(m, c, proj)]


def catalog(store: ExplorerStore) -> dict[str, tuple[list[str], str]]:
    """Per dataset its model names and default model, as :func:`state.parse_query` checks them."""
    return {n: (store.get(n).model_names, store.get(n).default_model) for n in store.names}


def controls(store: ExplorerStore) -> html.Div:
    """The shared control bar: dataset, model, projection, colouring."""
    datasets = {n: store.get(n).title for n in store.names}
    first = store.get(store.names[0])
    return html.Div([
        control("Dataset", radio(ids.DATASET, datasets, store.names[0]), ids.DATASET_BOX),
        control("Model", dcc.RadioItems(id=ids.MODEL, options=model_options(first), value=first.default_model,
                                        inline=True, className="radio"), ids.MODEL_BOX),
        control("Projection", method_radio(ids.PROJ, method_facts(store), "umap"), ids.PROJ_BOX),
        control("View", dcc.RadioItems(id=ids.DIMS, options=[{"label": "2-D", "value": 2}, {"label": "3-D", "value": 3}],
                                       value=2, inline=True, className="radio"), ids.DIMS_BOX),
        control("Colour by", dcc.RadioItems(id=ids.COLOUR, options=colour_options(first.pick(None), "umap"),
                                            value="true", inline=True, className="radio"), ids.COLOUR_BOX),
        html.Div(id=ids.COLOUR_NOTE, className="colour-note", style={"display": "none"}),
    ], className="controls")


def build_layout(store: ExplorerStore) -> html.Div:
    """The whole page; figures are filled in by callbacks once the URL is read."""
    store.maybe_reload()
    names = [store.get(n).title for n in store.names]
    titles = " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]
    banner = progress_message(store, store.progress(), store.names)
    return html.Div([
        dcc.Location(id=ids.URL, refresh=False),
        html.Header([
            html.H1("Embedding explorer"),
            html.Span(f"{titles}: how each model sees the classes, where it confuses them", className="tagline"),
        ]),
        html.Div([html.Span(banner, id=ids.BANNER_TEXT),
                  html.Button("Reload", id=ids.RELOAD_BTN, className="btn", style={"display": "none"})],
                 id=ids.BANNER, className="banner", role="status", style={} if banner else {"display": "none"}),
        html.Div([html.Span(id=ids.ALERT_TEXT), html.Button("×", id=ids.ALERT_CLOSE, className="alert-close",
                                                             title="Dismiss")],
                 id=ids.ALERT, className="alert", role="alert", style={"display": "none"}),
        # polls while a pipeline is working (there is something to announce)
        dcc.Interval(id=ids.STATUS_POLL, interval=STATUS_POLL_MS, disabled=not banner),
        dcc.Store(id=ids.PAGE_DATASETS, data=store.names),
        dcc.Tabs(id=ids.TABS_ID, value="explore", className="tabs", children=[
            dcc.Tab(label=TAB_LABELS[t], value=t, className="tab", selected_className="tab-selected")
            for t in TABS]),
        controls(store),
        # all panels stay mounted (callbacks target them); the tab shows one, see register's show_tab
        html.Div([html.Div(TAB_MODULES[t].layout(store), id=ids.panel_id(t), className="panel") for t in TABS]),
        dcc.Store(id=ids.CELL), dcc.Store(id=ids.SELECTION), dcc.Store(id=ids.CLICKED), dcc.Store(id=ids.LI_PAIR),
        dcc.Store(id=ids.ZOOM), dcc.Store(id=ids.EX_RENDERED), dcc.Store(id=ids.CD_RENDERED), dcc.Store(id=ids.CP_RENDERED),
        dcc.Store(id=ids.DY_RENDERED),
        # one tooltip element for every scatter, driven by assets/hover.js without a server round trip
        html.Div(id=ids.HOVER_TIP, className="hover-tip", children=[
            html.Div(className="hover-img"), html.Div(className="hover-text")]),
    ], className="page")


def register(app, store: ExplorerStore) -> None:
    """Attach the page-wide callbacks to ``app``: tabs, alert, banner, URL."""
    # -- tabs: show one panel; hide the controls a tab does not use ------------------------
    app.clientside_callback(
        """function(tab) {
            const show = t => ({display: t === tab ? 'block' : 'none'});
            const ctl = hidden => ({display: hidden ? 'none' : 'flex'});
            return [...%s.map(show), ctl(tab === 'datasets' || tab === 'dynamics'),
                    ctl(tab === 'dynamics' || tab === 'issues'), ctl(tab === 'issues'), ctl(tab !== 'explore')];
        }""" % json.dumps(list(TABS)),
        *[Output(ids.panel_id(t), "style") for t in TABS],
        Output(ids.DATASET_BOX, "style"), Output(ids.PROJ_BOX, "style"), Output(ids.COLOUR_BOX, "style"),
        Output(ids.DIMS_BOX, "style"), Input(ids.TABS_ID, "value"))

    @app.callback(Output(ids.COLOUR_NOTE, "children"), Output(ids.COLOUR_NOTE, "style"),
                  Input(ids.COLOUR, "value"), Input(ids.DATASET, "value"), Input(ids.MODEL, "value"),
                  Input(ids.PROJ, "value"), Input(ids.TABS_ID, "value"))
    def colour_note(colour, ds_name, model, proj, tab):
        """One line on what the chosen colouring means, while it is one that needs explaining."""
        if colour not in F.COLOUR_NOTES or tab == "issues":
            return "", {"display": "none"}
        if tab == "dynamics":
            return DYNAMICS_NOTE, {}
        m = _model(store, ds_name, model)
        if not F.available(m, colour, proj):
            return "", {"display": "none"}
        return F.COLOUR_NOTES[colour].format(model=m.possessive, proj=method_title(m.ds, proj)), {}

    # -- alert and banner --------------------------------------------------------------------
    app.clientside_callback(
        "function(n) { return n ? {display: 'none'} : window.dash_clientside.no_update; }",
        Output(ids.ALERT, "style", allow_duplicate=True), Input(ids.ALERT_CLOSE, "n_clicks"),
        prevent_initial_call=True)
    app.clientside_callback(
        "function(n) { if (n) { window.location.reload(); } return window.dash_clientside.no_update; }",
        Output(ids.RELOAD_BTN, "n_clicks"), Input(ids.RELOAD_BTN, "n_clicks"), prevent_initial_call=True)

    @app.callback(
        Output(ids.BANNER_TEXT, "children"), Output(ids.BANNER, "style"), Output(ids.RELOAD_BTN, "style"),
        Output(ids.STATUS_POLL, "disabled"),
        Input(ids.STATUS_POLL, "n_intervals"), State(ids.PAGE_DATASETS, "data"), prevent_initial_call=True)
    def poll_status(_, page_names):
        store.maybe_reload()
        page_names = [n for n in page_names if isinstance(n, str)] if isinstance(page_names, list) else []
        progress = store.progress()
        text = progress_message(store, progress, page_names)
        new = any(n not in page_names for n in store.names)
        # keep polling while the pipeline works; a new dataset is announced once, then polling stops
        return (text, {} if text else {"display": "none"}, {} if new else {"display": "none"},
                progress is None or new)

    # -- URL <-> controls: one callback, since Dash allows a cycle only within one -------------
    @app.callback(
        output=dict(search=Output(ids.URL, "search"), **{k: Output(*c) for k, c in URL_FIELDS.items()},
                    pairs=Output(PAIRS, "value"), options=Output(ids.MODEL, "options"),
                    options2=Output(ids.MODEL2, "options"), colours=Output(ids.COLOUR, "options"),
                    selnote=Output(ids.SEL_NOTE, "children")),
        inputs=dict(search=Input(ids.URL, "search"), **{k: Input(*c) for k, c in URL_FIELDS.items()},
                    pairs=Input(PAIRS, "value"), paused=Input(ids.DY_TIMER, "disabled")),
        state=dict(frame_max=State(ids.DY_FRAME, "max"), colours=State(ids.COLOUR, "options"),
                   note=State(ids.SEL_NOTE, "children")))
    def sync_url(search, tab, ds, model, proj, colour, model2, proj2, cell, frame, issue, compare, point, sel, zoom,
                 conf, show, score, find, layers, dims, pairs, paused, frame_max, colours, note):
        names = store.names
        # the pair dropdowns this page holds (it may predate a dataset), each with its value
        pair_inputs = [(p["id"].get("dataset"), p.get("value")) for p in ctx.args_grouping["pairs"]
                       if isinstance(p.get("id"), dict)] if isinstance(pairs, list) else []
        pair_outputs = [o["id"].get("dataset") if isinstance(o.get("id"), dict) else None
                        for o in ctx.outputs_grouping["pairs"]]
        out = dict.fromkeys(["search", *URL_FIELDS, "options", "options2", "colours", "selnote"], no_update)
        out["pairs"] = [no_update] * len(pair_outputs)  # a wildcard output wants one value per component
        n_classes = max(len(store.get(n).class_names) for n in names)
        if ctx.triggered_id in (None, ids.URL):  # page load or back/forward: the URL sets the controls
            s = parse_query(search, names, n_classes, catalog(store), projections(store))
            chosen = {n: (a, b) for n, a, b in s.pairs if max(a, b) < len(store.get(n).class_names)}
            last = frame_max if isinstance(frame_max, int) and frame_max >= 0 else 0
            shown = store.get(s.ds).pick(s.model)
            k = len(shown.ds.class_names)  # the URL was read against the largest dataset's classes
            s = replace(s, cell=s.cell if s.cell and max(s.cell) < k else None,
                        issue=s.issue if s.issue and max(s.issue) < k else None)
            # a layout the model lacks (a dataset imported without UMAP, say) opens as one it has
            s = replace(s, proj=layout_of(shown, s.proj),
                        proj2=layout_of(shown.ds.models.get(s.model2, shown), s.proj2))
            # a colouring this model (or layout) lacks data for opens as the true class
            out.update(tab=s.tab, ds=s.ds, model=s.model, proj=s.proj, model2=s.model2, proj2=s.proj2, dims=s.dims,
                       colour=s.colour if F.available(shown, s.colour, s.proj) else "true",
                       cell={"ds": s.ds, "cell": list(s.cell)} if s.cell else None, frame=min(s.frame, last),
                       issue={"ds": s.ds, "pair": list(s.issue)} if s.issue else None,
                       compare=list(s.compare or names), colours=colour_options(shown, s.proj),
                       **url_rows(s, shown), **url_filters(s))
            out["options"] = out["options2"] = model_options(store.get(s.ds))
            out["pairs"] = ["{}-{}".format(*(chosen.get(n) or (D.default_pair(store.get(n))
                                                                 if n in store.datasets else (0, 1))))
                            for n in pair_outputs]
            # a control already holding the URL's value is left alone: setting it would set off its
            # callbacks, and the scatter's figure would wait for them (issue 14)
            held = dict(tab=tab, ds=ds, model=model, proj=proj, colour=colour, model2=model2, proj2=proj2, cell=cell,
                        frame=frame, issue=issue, compare=compare, point=point, sel=sel, zoom=zoom, conf=conf,
                        show=show, score=score, find=find, dims=dims, colours=colours)
            for k, v in held.items():
                if out.get(k) == v:
                    out[k] = no_update
            out["pairs"] = [no_update if new == old else new for new, (_n, old) in zip(out["pairs"], pair_inputs)] \
                if len(pair_inputs) == len(out["pairs"]) else out["pairs"]
            return out
        if ctx.triggered_id in (ids.DY_FRAME, ids.DY_TIMER) and paused is False:
            return out  # playing: the URL takes the frame where play stops (one history entry, not one a step)
        # a control changed (or play stopped): the URL follows
        ds_view = _view(store, ds)
        chosen_cell = _cell_of(cell, ds, len(ds_view.class_names))
        chosen_issue = _pair_of(issue, ds, len(ds_view.class_names))
        if ctx.triggered_id == ids.DATASET:
            if cell and chosen_cell is None:
                out["cell"] = None  # a cell of the other dataset means nothing here
            if issue and chosen_issue is None:
                out["issue"] = None
            # the new dataset's models; a model it lacks becomes its default (the right view: another one)
            out["options"] = out["options2"] = model_options(ds_view)
        left = ds_view.pick(model).name
        right = model2 if isinstance(model2, str) and model2 in ds_view.models else ds_view.other_model(left).name
        if left != model:
            out["model"] = left
        if right != model2:
            out["model2"] = right
        shown = ds_view.models[left]
        if isinstance(proj, str) and layout_of(shown, proj) != proj:
            proj = out["proj"] = layout_of(shown, proj)
        if isinstance(proj2, str) and layout_of(ds_view.models[right], proj2) != proj2:
            proj2 = out["proj2"] = layout_of(ds_view.models[right], proj2)
        if colour in COLOURS and not F.available(shown, colour, proj):
            colour = out["colour"] = "true"  # the new model or layout has no data for it
        options = colour_options(shown, proj)
        if options != colours:
            out["colours"] = options
        chosen_pairs = []
        for n, v in pair_inputs:
            pair = parse_pair(v, n_classes, distinct=True)
            if pair is not None and n in names:
                chosen_pairs.append((n, *pair))
        compared = tuple(n for n in names if isinstance(compare, list) and n in compare)
        s = ViewState(tab=_choice(tab, TABS, "tab"), ds=ds, model=left, proj=proj, colour=colour,
                      cell=chosen_cell, model2=right, proj2=proj2,
                      compare=() if compare is None or len(compared) == len(names) else compared,
                      frame=frame if isinstance(frame, int) and not isinstance(frame, bool) and frame >= 0 else 0,
                      pairs=tuple(sorted(chosen_pairs)), issue=chosen_issue, dims=3 if dims == 3 else 2)
        s, new_note = with_rows(s, shown, point, sel, zoom)
        s = with_filters(s, conf, show, score, find, layers)
        if new_note != (note or ""):
            out["selnote"] = new_note
        query = to_query(s)
        if query != search:
            out["search"] = query
        return out

"""The page while a pipeline publishes: the waiting page (no dataset yet), and the banner's poll, which
says what is ready and what is being made and lets each view follow what lands (its ``live`` hook,
:class:`explorer.registry.Live`).

The pipeline writes ``progress.json`` and grows ``current.json``; the store re-reads the latter
(:meth:`ExplorerStore.maybe_reload`), :mod:`explorer.progress` checks the former.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Sequence

from dash import Input, Output, State, ctx, dcc, html, no_update

from . import ids
from .progress import DatasetProgress, all_progress, dataset_progress, eta_words, history_words, training_words
from .registry import Live, View
from .store import ExplorerStore, method_title

log = logging.getLogger(__name__)

STATUS_POLL_MS = 1500  # the banner's poll while a pipeline works
WAIT_POLL_MS = 1000  # the waiting page's
NOTE_SECONDS = 12.0  # how long the banner says what just changed ("Now showing the CNN's UMAP")
NO_PIPELINE = ("No pipeline is running and none has published a dataset yet: run `python -m pipeline all` "
               "(this page opens the explorer as soon as the first view is ready).")


def progress_message(store: ExplorerStore, progress: dict | None, page_names: list[str]) -> str:
    """The banner's words on other datasets: those ready since the page loaded, and those the pipeline
    still prepares (not served yet).

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
        one = len(new) == 1
        parts.append(" and ".join(store.get(n).title for n in new) + (" is" if one else " are")
                     + " ready — pick " + ("it" if one else "them") + " under Dataset, or reload the page to see "
                     + ("it" if one else "them") + " in every tab.")
    for p in all_progress(progress):
        # served datasets are spoken of by the dataset shown (status_line)
        if p.stage in ("", "ready") or p.name in store.datasets:
            continue
        parts.append(f"{p.title} is still being prepared: {p.words}" + (f" ({p.detail})" if p.detail else "") + "…")
    return " ".join(parts)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _the(title: str) -> str:
    """A model's title in a sentence, as :attr:`ModelView.the_title` words it for a model not loaded yet."""
    return title if title.lower().startswith(("your ", "my ")) else f"the {title}"


def status_line(ds, p: DatasetProgress | None):
    """What is ready of dataset ``ds`` (a :class:`DatasetView`) and what is being made, or ``None`` when
    its pipeline is done: ``Digits: CNN training, epoch 3 of 8 (accuracy 0.981); next: the Dense
    network's t-SNE, about 40 s``, with the training's loss and accuracy by epoch beneath."""
    if p is None or p.stage in ("", "ready"):
        return None
    ready = "; ".join(f"{m.title} ({', '.join(method_title(ds, q) for q in m.projection_dirs)})"
                      for m in ds.models.values())
    titles = {**p.coming_models(), **{n: m.title for n, m in ds.models.items()}}
    if p.epochs is not None:
        doing = training_words(p.epochs, titles.get(p.epochs.model, p.epochs.model))
    else:
        doing = p.words + (f" ({p.detail})" if p.detail else "")
    words = f"{ds.title}: {doing}"
    if p.coming:
        c = p.coming[0]
        words += f"; next: {_the(c.title)}'s {method_title(ds, c.proj)}, {eta_words(c.eta_s)}"
    children = [html.Span(words), html.Span(f"Ready: {ready}.", className="live-ready")]
    if p.epochs is not None and p.epochs.history:
        spark, rows = history_words(p.epochs)
        children.append(html.Span(spark, className="live-spark", title=rows))
    return html.Div(children, className="live-line")


def waiting_lines(progress: dict | None) -> list:
    """The waiting page's status: what the pipeline prepares for each dataset."""
    entries = all_progress(progress)
    if progress is None:
        return [html.Div(NO_PIPELINE, className="live-line")]
    if not entries:
        return [html.Div("The pipeline is starting…", className="live-line")]
    lines = []
    for p in entries:
        doing = (training_words(p.epochs, p.coming_models().get(p.epochs.model, p.epochs.model))
                 if p.epochs is not None else p.words + (f" ({p.detail})" if p.detail else ""))
        words = f"{p.title}: {doing}…" if p.stage not in ("", "ready") else f"{p.title}: ready"
        if p.coming and p.stage not in ("", "ready"):
            c = p.coming[0]
            words += f" First view: {_the(c.title)}'s {method_title(None, c.proj)}, {eta_words(c.eta_s)}."
        children = [html.Span(words)]
        if p.epochs is not None and p.epochs.history:
            spark, rows = history_words(p.epochs)
            children.append(html.Span(spark, className="live-spark", title=rows))
        lines.append(html.Div(children, className="live-line"))
    return lines


def waiting_layout(store: ExplorerStore) -> html.Div:
    """The page before the pipeline has published any dataset: what it prepares, polled; the page reloads
    itself into the explorer once ``current.json`` lists a dataset."""
    return html.Div([
        html.Header([
            html.H1("Embedding explorer"),
            html.Span("Preparing the first view: this page opens the explorer as soon as it is ready",
                      className="tagline"),
        ]),
        html.Div(waiting_lines(store.progress()), id=ids.WAIT_TEXT, className="banner banner-live", role="status"),
        dcc.Interval(id=ids.WAIT_POLL, interval=WAIT_POLL_MS),
        dcc.Store(id=ids.WAIT_READY, data=False),
    ], className="page page-waiting")


def banner_children(store: ExplorerStore, progress: dict | None, page_names: list[str], shown: str | None,
                    notes: Sequence = ()) -> list:
    """The banner's lines: ``notes`` (what just changed on the page), the dataset shown's status, the
    other datasets' (:func:`progress_message`)."""
    lines = [html.Div(n, className="live-line live-note") for n in notes]
    ds = store.datasets.get(shown) if isinstance(shown, str) else None
    if ds is not None:
        line = status_line(ds, dataset_progress(progress, ds.name))
        if line is not None:
            lines.append(line)
    other = progress_message(store, progress, page_names)
    if other:
        lines.append(html.Div(other, className="live-line"))
    return lines


def register(app, store: ExplorerStore, parts: Sequence[View]) -> None:
    """The waiting page's poll and reload, and the banner's poll over every view's ``live`` hook."""
    @app.callback(Output(ids.WAIT_TEXT, "children"), Output(ids.WAIT_READY, "data"),
                  Input(ids.WAIT_POLL, "n_intervals"), prevent_initial_call=True)
    def poll_waiting(_):
        store.maybe_reload(force=True)
        return waiting_lines(store.progress()), bool(store.names)

    app.clientside_callback(
        "function(ready) { if (ready) { window.location.reload(); return true; } "
        "return window.dash_clientside.no_update; }",
        Output(ids.WAIT_POLL, "disabled"), Input(ids.WAIT_READY, "data"), prevent_initial_call=True)

    props = {k: c for v in parts for k, c in v.live.items()}
    triggers = [k for v in parts for k in v.live_triggers]
    outputs = {"text": Output(ids.BANNER_TEXT, "children"), "style": Output(ids.BANNER, "style"),
               "reload": Output(ids.RELOAD_BTN, "style"), "stop": Output(ids.STATUS_POLL, "disabled"),
               "live": {k: Output(*c, allow_duplicate=True) for k, c in props.items()}}
    inputs = {"n": Input(ids.STATUS_POLL, "n_intervals"), "asked": {k: Input(*props[k]) for k in triggers}}
    outputs["note"] = Output(ids.LIVE_NOTE, "data")
    state = {"page": State(ids.PAGE_DATASETS, "data"), "note": State(ids.LIVE_NOTE, "data"),
             "held": {k: State(*c) for k, c in props.items() if k not in triggers}}
    outputs, inputs, state = ({k: g for k, g in d.items() if g != {}} for d in (outputs, inputs, state))

    @app.callback(output=outputs, inputs=inputs, state=state, prevent_initial_call=True)
    def poll_status(n=None, asked=None, page=None, note=None, held=None):
        progress = store.progress()
        # the last poll after the pipeline ended must see its last current.json
        store.maybe_reload(force=progress is None)
        page_names = [n for n in page if isinstance(n, str)] if isinstance(page, list) else []
        # a change (the page's wish) that Dash merged into one request with the poll's tick set it off
        trigger = next((i for i in ctx.triggered_prop_ids.values() if i != ids.STATUS_POLL), ctx.triggered_id)
        live = Live(store, progress, trigger, {**(held or {}), **(asked or {})})
        out: dict = {}
        if store.names:
            for v in parts:
                if v.on_live is not None:
                    out.update(v.on_live(live))
        shown = getattr(live.dataset, "name", None) if live.dataset is not None else None
        now = time.time()
        if live.notes:  # what just changed is said for a while, then goes
            note = {"lines": [str(x)[:300] for x in live.notes][:4], "until": now + NOTE_SECONDS}
        kept = note.get("lines") if isinstance(note, dict) and _number(note.get("until")) > now else None
        kept = [str(x)[:300] for x in kept][:4] if isinstance(kept, list) else []
        lines = banner_children(store, progress, page_names, shown, [*kept, *live.lines])
        new = any(n not in page_names for n in store.names)
        answer = {"text": lines, "style": {} if lines else {"display": "none"},
                  "reload": {} if new else {"display": "none"},
                  # polls while the pipeline works, and once more (the last current.json) after
                  "stop": progress is None and not kept, "note": note if live.notes else no_update}
        if "live" in outputs:
            answer["live"] = {k: out.get(k, no_update) for k in props}
        return answer

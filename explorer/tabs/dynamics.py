"""The "Training dynamics" tab: each dataset's snapshot images moving as the chosen model trained
(or, for a model without snapshots, the first model that has them, said beside the plot),
one slider (and a Play button) for all, and per dataset a class pair's confusions over time.

The server draws a scatter once per colouring; ``assets/dynamics.js`` moves its points
between frames in the browser, so the slider costs no server round trip per frame.
The figures and words are :mod:`explorer.dynamics`'s.
"""
from __future__ import annotations

import itertools
import logging

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from core.errors import CacheError

from .. import dynamics as D
from .. import ids
from ..checks import BadInput, _choice, _dataset, _int, _short
from ..registry import Field, Sync, View, ViewState, always, last
from ..store import ExplorerStore, ModelView
from ..urlvalues import COLOURS, MAX_FRAME, parse_pair
from ..widgets import GRAPH_CONFIG, play_button

log = logging.getLogger(__name__)

HELP = ("The same test images in the chosen model's embedding while it trained: untrained, at fractions of the "
        "first epoch, then after each epoch. Frames are aligned (warm-started t-SNE, each frame starts "
        "from the previous one), so a point moves only when the network moved it. Easy classes separate "
        "within the first fraction of an epoch; the pairs the model keeps confusing (chart one beside each "
        "plot) stay entangled to the end.")
NO_DYNAMICS = ("No per-epoch snapshots for this model: retrain with `python -m pipeline all` "
               "(snapshots are on by default; `--snapshot-samples 2000`) to record them.")
HELP_NONE = ("Training dynamics show how a model's embedding formed while it trained, snapshot by snapshot; "
             "no dataset here has snapshots of its training.")
NO_DYNAMICS_IMPORTED = ("No training dynamics: {title} is imported data, seen through {what}. No model was "
                        "trained on it here, so there are no per-epoch snapshots to show; the other tabs show it.")
PLAY_MS = 1100
#: the colouring's note on this tab (shown where the chosen colouring has a note)
COLOUR_NOTE = ("Training dynamics are coloured by true class for this choice: it describes the trained "
               "model's final layouts, not its snapshots.")
#: a panel's figure while its dataset's snapshots are not made yet
EMPTY = {"data": [], "layout": {"xaxis": {"visible": False}, "yaxis": {"visible": False},
                                "margin": {"l": 0, "r": 0, "t": 0, "b": 0}}}
# no box or lasso: a selection means nothing while the points move
SCATTER_CONFIG = {**GRAPH_CONFIG, "modeBarButtonsToRemove": GRAPH_CONFIG["modeBarButtonsToRemove"]
                  + ["select2d", "lasso2d"]}


def _half(store: ExplorerStore, name: str) -> html.Div:
    """One dataset's scatter, class-pair picker, stats line and chart; or why it has none."""
    ds = store.get(name)
    m = D.shown(ds)
    try:
        dyn = m.dynamics if m is not None else None
    except CacheError as e:  # the page still loads; this panel says what is wrong and how to fix it
        log.warning("training dynamics of %s cannot be shown: %s", name, e)
        return html.Div([html.H3(ds.title), html.P(str(e), className="placeholder no-dynamics")],
                        className="half dy-half dy-empty", id=f"dy-half-{name}")
    if dyn is None:
        what = " and ".join(x.the_title for x in ds.models.values())
        text = NO_DYNAMICS_IMPORTED.format(title=ds.title, what=what) if ds.imported else NO_DYNAMICS
        return html.Div([html.H3(ds.title), html.P(text, className="placeholder no-dynamics")],
                        className="half dy-half dy-empty", id=f"dy-half-{name}")
    a, b = D.default_pair(ds)
    return html.Div([
        html.Div(dcc.Graph(id=ids.per_dataset(ids.DY_SCATTER, name),
                           className="explorer-scatter dynamics-scatter", config=SCATTER_CONFIG),
                 className="dy-plot"),
        html.Div([
            html.Div([html.Span("Class pair", className="ctl-label"),
                      dcc.Dropdown(id=ids.per_dataset(ids.DY_PAIR, name), options=D.pair_options(ds),
                                   value=f"{a}-{b}", clearable=False, searchable=False, className="dy-pair")],
                     className="ctl"),
            html.Div(id=ids.per_dataset(ids.DY_MODEL, name), className="dy-model"),
            html.Div(id=ids.per_dataset(ids.DY_STATS, name), className="dy-stats"),
            dcc.Graph(id=ids.per_dataset(ids.DY_CHART, name), config={"displayModeBar": False},
                      className="dy-chart"),
        ], className="dy-side"),
    ], className="half dy-half", id=f"dy-half-{name}")


def layout(store: ExplorerStore) -> html.Div:
    """The slider bar (hidden when no dataset has snapshots) and one half per dataset."""
    epochs = D.steps(store)
    last = max(len(epochs) - 1, 0)
    marks = {i: {"label": D.mark_label(e)} for i, e in enumerate(epochs)}
    return html.Div([
        html.P(HELP if epochs else HELP_NONE, className="help"),
        html.Div([
            html.Button("▶ Play", id=ids.DY_PLAY, className="btn dy-play", disabled=not epochs),
            html.Div(dcc.Slider(id=ids.DY_FRAME, min=0, max=last, step=1, value=0, marks=marks or None,
                                included=True, updatemode="drag", disabled=not epochs,
                                allow_direct_input=False),
                     className="dy-slider"),
            html.Span(id=ids.DY_FRAME_LABEL, className="dy-frame-label"),
        ], className="dy-bar" + ("" if epochs else " hidden")),
        dcc.Interval(id=ids.DY_TIMER, interval=PLAY_MS, disabled=True),
        dcc.Store(id=ids.DY_SHOWN), dcc.Store(id=ids.DY_RENDERED),
        html.Div([_half(store, n) for n in store.names], className="pair dy-pair-grid"),
    ])


def register(app, store: ExplorerStore) -> None:
    """Attach the tab's callbacks (two on the server, three in the browser) to ``app``."""
    renders = itertools.count(1)  # per app: numbers this app's drawings for assets/dynamics.js

    def dynamics_of(name, model) -> ModelView | None:
        ds = _dataset(store, name)
        if model is not None and not isinstance(model, str):
            raise BadInput(f"model must be a model's name (got {_short(model)})")
        m = D.shown(ds, model)
        if m is None or m.dynamics is None:
            return None  # not made (yet): a running pipeline makes a model's snapshots' frames after its layouts'

        return m

    def note(m: ModelView, model) -> str:
        chosen = m.ds.pick(model)
        if chosen.name == m.name:
            return f"Training of {m.the_title}."
        chosen_words = chosen.the_title[:1].upper() + chosen.the_title[1:]
        return f"{chosen_words} has no training snapshots: showing {m.possessive} training."

    def step_of(frame, epochs: list[float]) -> int:
        if not epochs:
            raise PreventUpdate  # no dataset has dynamics: the tab shows only the messages
        return _int(frame, 0, len(epochs), "frame")

    @app.callback(
        output=dict(figures=Output(ids.per_dataset(ids.DY_SCATTER, ALL), "figure"),
                    notes=Output(ids.per_dataset(ids.DY_MODEL, ALL), "children"),
                    rendered=Output(ids.DY_RENDERED, "data"), marks=Output(ids.DY_FRAME, "marks"),
                    last=Output(ids.DY_FRAME, "max"), frame=Output(ids.DY_FRAME, "value", allow_duplicate=True)),
        inputs=dict(tab=Input(ids.TABS_ID, "value"), colour=Input(ids.COLOUR, "value"),
                    model=Input(ids.MODEL, "value")),
        state=dict(frame=State(ids.DY_FRAME, "value"), rendered=State(ids.DY_RENDERED, "data")),
        prevent_initial_call=True)
    def render_dynamics(tab, colour, model, frame, rendered):
        if tab != "dynamics":
            raise PreventUpdate
        _choice(colour, COLOURS, "colour")
        epochs = D.steps(store, model)
        if not epochs:
            raise PreventUpdate  # no dataset has dynamics: the tab shows only the messages
        # another model may have fewer snapshots: the slider keeps its place within them
        step = min(_int(frame, 0, 10_001, "frame"), len(epochs) - 1)
        key = f"{model}/{colour}"
        if rendered == key:
            raise PreventUpdate  # back on the tab: the browser already shows it (and moves it)
        figs, notes = [], []
        for o in ctx.outputs_grouping["figures"]:
            m = dynamics_of(o["id"].get("dataset"), model)
            if m is None:
                figs.append(EMPTY)
                notes.append(f"No training snapshots of {_dataset(store, o['id'].get('dataset')).title} yet.")
                continue
            frames = [D.frame_at(m.dynamics, e) for e in epochs]
            fig = D.scatter_figure(m, frames[step], colour, frames, epochs)
            # tells assets/dynamics.js that this drawing, not its own last one, is on screen
            fig["layout"]["meta"]["render"] = next(renders)
            figs.append(fig)
            notes.append(note(m, model))
        return {"figures": figs, "notes": notes, "rendered": key, "last": len(epochs) - 1,
                "marks": {i: {"label": D.mark_label(e)} for i, e in enumerate(epochs)},
                "frame": step if step != frame else no_update}

    @app.callback(
        output=dict(charts=Output(ids.per_dataset(ids.DY_CHART, ALL), "figure"),
                    stats=Output(ids.per_dataset(ids.DY_STATS, ALL), "children"),
                    label=Output(ids.DY_FRAME_LABEL, "children")),
        inputs=dict(tab=Input(ids.TABS_ID, "value"), frame=Input(ids.DY_FRAME, "value"),
                    pairs=Input(ids.per_dataset(ids.DY_PAIR, ALL), "value"), model=Input(ids.MODEL, "value")))
    def render_dynamics_charts(tab, frame, pairs, model):
        if tab != "dynamics":
            raise PreventUpdate
        epochs = D.steps(store, model)
        step = step_of(frame, epochs)
        chosen = {}
        for spec in ctx.args_grouping["pairs"] if isinstance(pairs, list) else []:
            if isinstance(spec, dict) and isinstance(spec.get("id"), dict):
                chosen[spec["id"].get("dataset")] = spec.get("value")
        charts, stats = [], []
        for o in ctx.outputs_grouping["charts"]:
            name = o["id"].get("dataset")
            m = dynamics_of(name, model)
            if m is None:
                charts.append(EMPTY)
                stats.append("")
                continue
            ds = m.ds
            k = len(ds.class_names)
            pair = parse_pair(chosen.get(name), k, distinct=True)
            if pair is None:
                raise BadInput(f"class pair of {ds.title} must be two different classes 'a-b' below {k} "
                               f"(got {_short(chosen.get(name))})")
            pair = (min(pair), max(pair))
            f = D.frame_at(m.dynamics, epochs[step])
            charts.append(D.chart_figure(m, f, pair))
            stats.append(D.stats_line(m, f, pair))
        label = f"{D.epoch_label(epochs[step])} · step {step + 1} of {len(epochs)}"
        return {"charts": charts, "stats": stats, "label": label}

    # the points move in the browser (assets/dynamics.js): no server round trip per animation frame
    app.clientside_callback(
        """function(step) {
            if (window.explorerDynamics && typeof step === 'number') window.explorerDynamics.goTo(step);
            return step;
        }""",
        Output(ids.DY_SHOWN, "data"), Input(ids.DY_FRAME, "value"))
    play_button(app, ids.DY_PLAY, ids.DY_TIMER, ids.DY_FRAME)


# -- the URL: the slider's step and each dataset's class pair ------------------------------------
def read_frame(values, r) -> int:
    """The slider's step as the URL writes it (plain digits, at most :data:`MAX_FRAME`); 0 otherwise."""
    f = last(values) or ""
    # isascii: str.isdigit accepts other scripts' digits, which int() would then read
    return int(f) if f.isascii() and f.isdigit() and len(f) <= 5 and int(f) <= MAX_FRAME else 0


def read_pairs(values, r) -> tuple[tuple[str, int, int], ...]:
    """``pair=<dataset>:<a>-<b>`` (once per dataset, the last wins) as ``((dataset, a, b), ...)`` by name."""
    pairs = {}
    for item in values:
        name, _, ab = item.partition(":")
        pair = parse_pair(ab, r.n_classes, distinct=True)
        if name in r.datasets and pair is not None:
            pairs[name] = pair
    return tuple((n, a, b) for n, (a, b) in sorted(pairs.items()))


PAIRS = ids.per_dataset(ids.DY_PAIR, ALL)
FIELDS = (Field("frame", 0, read_frame, always, (ids.DY_FRAME, "value"), at=7),
          Field("pairs", (), read_pairs, lambda ps: [f"{n}:{a}-{b}" for n, a, b in ps], (PAIRS, "value"), at=20,
                key="pair"))


def from_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The slider (within this page's steps) and each dataset's pair (its default where the URL has none)."""
    store = sync.store
    chosen = {n: (a, b) for n, a, b in s.pairs if max(a, b) < len(store.get(n).class_names)}
    last_step = sync.extra["frame_max"]
    last_step = last_step if isinstance(last_step, int) and last_step >= 0 else 0
    names = [i.get("dataset") if isinstance(i, dict) else None for i in sync.targets["pairs"]]
    return s, {"frame": min(s.frame, last_step),
               "pairs": ["{}-{}".format(*(chosen.get(n) or (D.default_pair(store.get(n)) if n in store.datasets
                                                            else (0, 1)))) for n in names]}


def to_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The slider's step and the pair of each dataset the page holds, for the URL."""
    frame, chosen = sync.values["frame"], []
    for id_, value in sync.items["pairs"]:  # the pair dropdowns this page holds (it may predate a dataset)
        pair = parse_pair(value, sync.reading.n_classes, distinct=True)
        if pair is not None and id_.get("dataset") in sync.names:
            chosen.append((id_.get("dataset"), *pair))
    return s.replace(frame=frame if isinstance(frame, int) and not isinstance(frame, bool) and frame >= 0 else 0,
                     pairs=tuple(sorted(chosen))), {}


def playing(sync: Sync) -> bool:
    """Play moves the slider a step a second: the URL takes the frame where play stops (one history
    entry, not one a step)."""
    return sync.trigger in (ids.DY_FRAME, ids.DY_TIMER) and sync.extra["paused"] is False


VIEW = View("dynamics", "Training dynamics", order=50, fields=FIELDS, layout=layout, register=register,
            bar=(ids.COLOUR_BOX,), colour_note=COLOUR_NOTE, inputs={"paused": (ids.DY_TIMER, "disabled")},
            state={"frame_max": (ids.DY_FRAME, "max")}, from_url=from_url, to_url=to_url, waits=playing)

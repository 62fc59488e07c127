"""Explore's find and filter bar: a search that rings the points it finds (sample ids, a class, a
predicted class), and filters (confidence range, correct/wrong, least label-issue score) that
combine and narrow the scatter's highlight, the gallery and the CSV (:func:`selection.focus_rows`).
Above the confidence and issue sliders, a small histogram of every point (grey) and of those passing
(coloured); a box dragged on one (a brush) sets its slider, so either way sets the same filter."""
from __future__ import annotations

import math

import numpy as np
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from .. import ids
from ..charts import FONT
from ..checks import BadInput, _model
from ..figures import nines
from ..registry import Field, last, pick
from ..selection import FOUND_MAX, NO_FILTER, filter_rows, find_rows
from ..subclusters import subcluster_of
from ..subclusters import words as subcluster_words
from ..urlvalues import LAYERS, MAX_FIND, SHOWS, numbers_text, parse_conf, parse_score
from ..widgets import control

CONF_MARKS = {0: "0", 1: "0.9", 2: "0.99", 3: "0.999", 4: "1"}
CORRECT = {"all": "All", "correct": "Correct", "wrong": "Misclassified only"}
#: the histograms' bins: one per step of their slider (a tenth of a nine; 0.05 of the issue score)
CONF_EDGES, ISSUE_EDGES = np.linspace(0.0, 4.0, 41), np.linspace(0.0, 1.0, 21)
ALL_COLOUR, PASS_COLOUR = "#d5dae0", "#4e79a7"
HIST_CONFIG = {"displayModeBar": False, "doubleClick": "reset", "showTips": False}
#: the bar's URL fields (Explore's): each written only where it filters or finds something
FIELDS = (
    Field("conf", None, lambda v, r: parse_conf(last(v)), lambda c: [] if c is None else [numbers_text(c)],
          (ids.FLT_CONF, "value"), at=9),
    Field("show", "all", lambda v, r: pick(v, SHOWS, "all"), control=(ids.FLT_CORRECT, "value"), at=10),
    Field("score", 0.0, lambda v, r: parse_score(last(v)), lambda x: [f"{x:.6g}"] if x else [],
          (ids.FLT_ISSUE, "value"), at=11),
    Field("find", "", lambda v, r: (last(v) or "")[:MAX_FIND].strip(), control=(ids.FIND, "value"), at=12),
    Field("layers", (), lambda v, r: tuple(x for x in LAYERS if x in (last(v) or "").split(",")),
          lambda on: [",".join(on)] if on else [], (ids.LAYERS, "value"), at=13),
)


def histogram(values: np.ndarray, passing: np.ndarray | None, edges: np.ndarray, words) -> dict:
    """A small bar chart of ``values`` in ``edges``' bins (grey) with those of the ``passing`` rows over it.

    The bars are tall by the log of their count, so a bin of five stays visible next to one of 60,000;
    ``words(lo, hi)`` names a bin in its hover.  A horizontal box on it (a brush) is read by :func:`brushed`.
    """
    every = np.histogram(values, edges)[0]
    shown = every if passing is None else np.histogram(values[passing], edges)[0]
    centres = ((edges[:-1] + edges[1:]) / 2).tolist()
    width = float(edges[1] - edges[0])
    tip = [f"{words(a, b)}: {n:,} pass of {t:,}" for a, b, n, t in zip(edges[:-1], edges[1:], shown, every)]
    common = {"type": "bar", "x": centres, "width": width, "customdata": tip, "hovertemplate": "%{customdata}<extra></extra>"}
    log = [math.log10(n + 1) for n in every.tolist()]
    return {"data": [{**common, "y": log, "marker": {"color": ALL_COLOUR}, "name": "all"},
                     {**common, "y": [math.log10(n + 1) for n in shown.tolist()], "marker": {"color": PASS_COLOUR},
                      "name": "passing"}],
            "layout": {"barmode": "overlay", "bargap": 0, "height": 34, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
                       "font": {**FONT, "size": 11}, "showlegend": False, "dragmode": "select",
                       "selectdirection": "h", "plot_bgcolor": "rgba(0,0,0,0)", "paper_bgcolor": "rgba(0,0,0,0)",
                       "xaxis": {"range": [float(edges[0]), float(edges[-1])], "fixedrange": True, "visible": False},
                       "yaxis": {"range": [0, max(log) * 1.05 or 1], "fixedrange": True, "visible": False}}}


def brushed(selected, edges: np.ndarray) -> tuple[float, float] | None:
    """The range a brush on a :func:`histogram` chose, snapped to its bins' edges; ``None`` for none.

    Raises ``BadInput`` for a range that is not two numbers.
    """
    rng = selected.get("range") if isinstance(selected, dict) else None
    if not isinstance(rng, dict) or rng.get("x") is None:
        return None
    x = rng["x"]
    if (not isinstance(x, list) or len(x) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in x)):
        raise BadInput(f"a histogram's brushed range must be two numbers (got {x!r:.60})")
    w, lo_edge, hi_edge = float(edges[1] - edges[0]), float(edges[0]), float(edges[-1])
    a, b = sorted(min(max(float(v), lo_edge), hi_edge) for v in x)
    lo, hi = round(a / w) * w, round(b / w) * w
    if hi <= lo:  # a box within one bin: that bin
        lo = math.floor(a / w) * w
        hi = min(lo + w, hi_edge)
        lo = hi - w
    return round(lo, 6), round(hi, 6)


def conf_words(a: float, b: float) -> str:
    """A bin of nines as confidences: ``0.9–0.92``."""
    return f"confidence {1 - 10 ** -a:.4g}–{1 - 10 ** -b:.4g}"


def issue_words(a: float, b: float) -> str:
    return f"issue score {a:.2f}–{b:.2f}"


def hist_graph(id_: str) -> dcc.Graph:
    return dcc.Graph(id=id_, config=HIST_CONFIG, className="flt-hist", figure={"data": [], "layout": {"height": 34}})


#: the search box's hint, short enough to show whole in its width (style.css ``.find``); its title says the rest
FIND_PLACEHOLDER = "id, class, pred Shirt"
FIND_HELP = ("Sample ids (1234, or 12, 40), a true class by name or number (Shirt, class 7, true 7, label 7) "
             "or a predicted class (pred Shirt, pred 7); Enter to find")


def layout() -> html.Div:
    """The bar above the scatter, every control at its "filters nothing" value."""
    lo, hi = NO_FILTER["conf"]
    return html.Div([
        control("Find", html.Span(dcc.Input(id=ids.FIND, type="search", debounce=True, className="find",
                                            placeholder=FIND_PLACEHOLDER), title=FIND_HELP)),
        html.Span(id=ids.FIND_COUNT, className="find-count"),
        control("Confidence", html.Div([hist_graph(ids.FLT_HIST_CONF),
                                        dcc.RangeSlider(id=ids.FLT_CONF, min=lo, max=hi, step=0.1, value=[lo, hi],
                                                        marks=CONF_MARKS, allow_direct_input=False)],
                                       className="flt-slider")),
        control("Show", dcc.RadioItems(id=ids.FLT_CORRECT, value="all", inline=True, className="radio",
                                       options=[{"label": v, "value": k} for k, v in CORRECT.items()])),
        control("Label-issue score ≥", html.Div([hist_graph(ids.FLT_HIST_ISSUE),
                                                  dcc.Slider(id=ids.FLT_ISSUE, min=0, max=1, step=0.05, value=0,
                                                             marks={0: "0", 0.5: "0.5", 1: "1"},
                                                             allow_direct_input=False)],
                                                 className="flt-slider"), ids.FLT_ISSUE_BOX),
        html.Span(id=ids.FILTER_COUNT, className="count filter-count"),
        dcc.Store(id=ids.FILTER),
    ], className="controls filter-bar")


def layers_box() -> html.Div:
    """The scatter's optional layers (:mod:`explorer.layers`), ticked in its top corner: they draw
    over it as the filters do, but filter nothing."""
    return html.Div(dcc.Checklist(id=ids.LAYERS, value=[], inline=True, className="radio",
                                  options=[{"label": "Class labels", "value": "labels"},
                                           {"label": "Sub-clusters", "value": "subclusters"},
                                           {"label": "Density", "value": "density"},
                                           # drawn in the browser (assets/semzoom.js), none by the server
                                           {"label": "Images", "value": "images"}]), className="layers-box")


def register(app, store) -> None:
    """Attach the bar's callbacks: its values into one store, the counts, the issue filter where it applies."""
    @app.callback(Output(ids.FILTER, "data"), Input(ids.FLT_CONF, "value"), Input(ids.FLT_CORRECT, "value"),
                  Input(ids.FLT_ISSUE, "value"), prevent_initial_call=True)  # the store starts as no filter
    def on_filter(conf, correct, issue):
        flt = {"conf": conf if isinstance(conf, list) else NO_FILTER["conf"], "correct": correct or "all",
               "issue": issue or 0.0}
        return None if flt == NO_FILTER else flt

    @app.callback(Output(ids.FILTER_COUNT, "children"), Output(ids.FIND_COUNT, "children"),
                  Output(ids.FLT_ISSUE_BOX, "style"),
                  Input(ids.FILTER, "data"), Input(ids.FIND, "value"), Input(ids.DATASET, "value"),
                  Input(ids.MODEL, "value"), State(ids.FLT_ISSUE_BOX, "style"))
    def counts(flt, text, ds_name, model, issue_style):
        m = _model(store, ds_name, model)
        passing = filter_rows(m, flt)
        n = m.ds.n
        shown = (f"all {n:,} points" if passing is None
                 else [html.Span(f"{len(passing):,}", id="filter-pass"), f" of {n:,} points pass"])
        found, what = find_rows(m, text)
        if found is None:
            words = ""
        else:
            ringed = f", the first {FOUND_MAX} ringed" if len(found) > FOUND_MAX else " ringed"
            words = [html.Span(f"{len(found):,}", id="find-n"), f" found ({what}){ringed if len(found) else ''}"]
        # a model without label issues has no score to filter by
        style = {} if m.issues is not None else {"display": "none"}
        return shown, words, (style if style != (issue_style or {}) else no_update)

    @app.callback(Output(ids.FLT_HIST_CONF, "figure"), Output(ids.FLT_HIST_ISSUE, "figure"),
                  Input(ids.FILTER, "data"), Input(ids.DATASET, "value"), Input(ids.MODEL, "value"))
    def render_histograms(flt, ds_name, model):
        """Each histogram: every point in grey, those passing all the filters (its own included) over them."""
        m = _model(store, ds_name, model)
        passing = filter_rows(m, flt)
        conf = histogram(m.cached("confidence-nines", lambda: nines(m.confidence)), passing, CONF_EDGES, conf_words)
        issue = (histogram(np.asarray(m.issues.score, dtype=np.float64), passing, ISSUE_EDGES, issue_words)
                 if m.issues is not None else no_update)
        return conf, issue

    @app.callback(Output(ids.FLT_CONF, "value", allow_duplicate=True), Output(ids.FLT_ISSUE, "value", allow_duplicate=True),
                  Input(ids.FLT_HIST_CONF, "selectedData"), Input(ids.FLT_HIST_ISSUE, "selectedData"),
                  prevent_initial_call=True)
    def on_brush(conf_sel, issue_sel):
        """A brush sets its slider: the confidence range, or the least issue score (the box's left end).

        No brush (``None``) changes nothing: Plotly sends one each time a histogram is redrawn, which
        every filter does; a double-click lets the filter go (``assets/brush.js``)."""
        which = ctx.triggered_id
        rng = brushed(conf_sel if which == ids.FLT_HIST_CONF else issue_sel,
                      CONF_EDGES if which == ids.FLT_HIST_CONF else ISSUE_EDGES)
        if rng is None:
            raise PreventUpdate
        return (list(rng), no_update) if which == ids.FLT_HIST_CONF else (no_update, rng[0])

    @app.callback(Output(ids.SELECTION, "data", allow_duplicate=True), Input(ids.SCATTER, "clickAnnotationData"),
                  State(ids.DATASET, "value"), State(ids.MODEL, "value"), prevent_initial_call=True)
    def on_subcluster_click(click, ds_name, model):
        """A sub-cluster's label (the Sub-clusters layer) selects its images, as a box would."""
        annotation = click.get("annotation") if isinstance(click, dict) else None
        m = _model(store, ds_name, model)
        found = subcluster_of(m, annotation.get("name") if isinstance(annotation, dict) else None)
        if found is None:
            raise PreventUpdate  # a class label, or a sub-cluster of a model no longer shown
        return {"ds": ds_name, "rows": found.rows.tolist(), "what": subcluster_words(m, found, count=False)}

"""Explore's find and filter bar: a search that rings the points it finds (sample ids, a class, a
predicted class), and filters (confidence range, correct/wrong, least label-issue score) that
combine and narrow the scatter's highlight, the gallery and the CSV (:func:`selection.focus_rows`)."""
from __future__ import annotations

from dash import Input, Output, State, dcc, html, no_update

from .. import ids
from ..checks import _model
from ..selection import FOUND_MAX, NO_FILTER, filter_rows, find_rows
from ..widgets import control

CONF_MARKS = {0: "0", 1: "0.9", 2: "0.99", 3: "0.999", 4: "1"}
CORRECT = {"all": "All", "correct": "Correct", "wrong": "Misclassified only"}


def layout() -> html.Div:
    """The bar above the scatter, every control at its "filters nothing" value."""
    lo, hi = NO_FILTER["conf"]
    return html.Div([
        control("Find", dcc.Input(id=ids.FIND, type="search", debounce=True, className="find",
                                  placeholder="sample id, class or 'pred Shirt'")),
        html.Span(id=ids.FIND_COUNT, className="find-count"),
        control("Confidence", html.Div(dcc.RangeSlider(id=ids.FLT_CONF, min=lo, max=hi, step=0.1, value=[lo, hi],
                                                       marks=CONF_MARKS, allow_direct_input=False),
                                       className="flt-slider")),
        control("Show", dcc.RadioItems(id=ids.FLT_CORRECT, value="all", inline=True, className="radio",
                                       options=[{"label": v, "value": k} for k, v in CORRECT.items()])),
        control("Label-issue score ≥", html.Div(dcc.Slider(id=ids.FLT_ISSUE, min=0, max=1, step=0.05, value=0,
                                                            marks={0: "0", 0.5: "0.5", 1: "1"},
                                                            allow_direct_input=False),
                                                 className="flt-slider"), ids.FLT_ISSUE_BOX),
        html.Span(id=ids.FILTER_COUNT, className="count filter-count"),
        dcc.Store(id=ids.FILTER),
    ], className="controls filter-bar")


def register(app, store) -> None:
    """Attach the bar's callbacks: its values into one store, the counts, the issue filter where it applies."""
    @app.callback(Output(ids.FILTER, "data"), Input(ids.FLT_CONF, "value"), Input(ids.FLT_CORRECT, "value"),
                  Input(ids.FLT_ISSUE, "value"))
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

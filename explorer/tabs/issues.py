"""The "Label issues" tab: the chosen model's suspected label errors as a grid of images,
most likely wrong first, filtered by a (given → suggested) class pair picked in a small
matrix, paged with "Show more", and exported as CSV.

A click on a suspect (``assets/hover.js``) opens it in Explore: ringed on the scatter,
its detail panel open with its neighbours.  The data is :class:`explorer.labelissues.LabelIssues`.
"""
from __future__ import annotations

import logging

import numpy as np
from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from .. import ids
from ..charts import FONT
from ..checks import _event_points, _int, _model, _pair_of
from ..classes import MANY_CLASSES, matrix_axes, matrix_cells
from ..labelissues import LabelIssues, issues_csv
from ..labels import decision, row_states
from ..registry import Field, Sync, View, ViewState, last
from ..store import ExplorerStore, ModelView
from ..thumbnails import CARD_MOST, CARD_PX, sprite_style
from ..urlvalues import pair_text, parse_pair
from ..widgets import shown_count

log = logging.getLogger(__name__)

PAGE = 48  # suspects per "Show more"
HELP = ("A suspect's score says how likely its given label is wrong: the model's out-of-sample probability "
        "of the given label, combined with the labels of the image's nearest neighbours in the model's "
        "embedding; images are flagged by confident learning (cleanlab). Most likely wrong first; click one "
        "to see it in Explore, or a cell of the matrix to keep one given → suggested pair.")
KEYS = ("Review with the keyboard: on a suspect, A takes the suggested label, C says the label is right, M marks it "
        "ambiguous, a digit relabels it as that class (with up to 10 classes), U undoes the last correction; "
        "each moves on to the next suspect, and the arrow keys move too. Enter opens it in Explore.")
NOT_COMPUTED = "Label issues are not computed for this model ({title})."
EMPTY = "No suspected label errors for this model: confident learning flagged none."


def layout(store: ExplorerStore) -> html.Div:
    """The tab's panel, filled by :func:`register`'s callbacks when the tab is opened."""
    return html.Div([
        html.P(HELP, className="help"),
        html.P(KEYS, className="help li-keys"),
        html.P(id=ids.LI_MISSING, className="placeholder li-missing", style={"display": "none"}),
        html.Div([
            html.Div([
                dcc.Graph(id=ids.LI_MATRIX, config={"displayModeBar": False}, className="li-matrix"),
                html.Div(id=ids.LI_SUMMARY, className="li-summary"),
            ], className="li-side"),
            html.Div([
                html.Div([
                    html.H3(id=ids.LI_TITLE),
                    html.Div([
                        html.Button("All pairs", id=ids.LI_ALL, className="btn btn-light", disabled=True),
                        html.Button("Download CSV", id=ids.LI_DOWNLOAD_BTN, className="btn", disabled=True,
                                    title="The ranked suspects shown (row, sample id, given, suggested, score)"),
                    ], className="buttons"),
                ], className="focus-head"),
                html.Div(id=ids.LI_GRID, className="li-grid"),
                html.Button("Show more", id=ids.LI_MORE, className="btn btn-light li-more",
                            style={"display": "none"}),
            ], className="li-main"),
        ], id=ids.LI_BODY, className="li-layout"),
        dcc.Store(id=ids.LI_SHOWN), dcc.Download(id=ids.LI_DOWNLOAD), dcc.Store(id=ids.LI_PAIR),
    ])


def shown_key(m: ModelView, pair: tuple[int, int] | None) -> str:
    """What a "Show more" count belongs to: another dataset, model or filter starts at one page again."""
    return f"{m.ds.name}/{m.name}/{pair}"


def pair_name(m: ModelView, pair: tuple[int, int]) -> str:
    names = m.ds.class_names
    return f"{names[pair[0]]} → {names[pair[1]]}"


def card(m: ModelView, issues: LabelIssues, rank: int, row: int, mark: str | None = None) -> html.Div:
    """One suspect: its image, given and suggested label, score, and what a correction made of it (``mark``,
    the log's last action on it); ``data-row`` opens it in Explore, the keys correct it (``assets/corrections.js``)."""
    ds, names = m.ds, m.ds.class_names
    g, s, score = int(ds.original_labels[row]), int(issues.suggested[row]), float(issues.score[row])
    tip = (f"#{int(ds.sample_ids[row])} · given {names[g]} · suggested {names[s]} · score {score:.3f}"
           " · click to see it in Explore")
    return html.Div([
        html.Div(className="tile issue-img",
                 style=sprite_style(ds.name, ds.version, ds.n, row, ds.grid.scale_for(CARD_PX, CARD_MOST), ds.grid)),
        html.Div([html.Span(f"#{rank}", className="issue-rank"),
                  html.Span(f"{score:.2f}", className="issue-score")], className="issue-head"),
        html.Div(["given ", html.B(names[g])], className="issue-given"),
        html.Div(["→ ", html.B(names[s])], className="issue-suggested"),
    ], className="issue-card" + (f" decided {mark}" if mark else ""), title=tip, role="button", tabIndex=0,
        **{"data-row": str(row), "data-dataset": ds.name, "data-rank": str(rank), "data-model": m.name,
           "data-suggested": str(s)}, **({"data-decision": decision(ds, row, mark)} if mark else {}))


def matrix_figure(m: ModelView, counts: np.ndarray, pair: tuple[int, int] | None) -> dict:
    """Heatmap of the suspects per (given, suggested) pair, counts in the cells up to
    :data:`~explorer.classes.MANY_CLASSES` classes (the hover says each); the chosen pair boxed."""
    names = m.ds.class_names
    k = len(names)
    z = [[int(counts[g, s]) if counts[g, s] else None for s in range(k)] for g in range(k)]
    hover = [[f"given {names[g]}, suggested {names[s]}: {int(counts[g, s])}" for s in range(k)] for g in range(k)]
    ticks = {**matrix_axes(names), "fixedrange": True, "ticks": "", "showgrid": False, "zeroline": False}
    shapes = []
    if pair is not None:
        g, s = pair
        shapes.append({"type": "rect", "x0": s - 0.5, "x1": s + 0.5, "y0": g - 0.5, "y1": g + 0.5,
                       "line": {"color": "#111", "width": 2 if k > MANY_CLASSES else 3}})
    heat = {"type": "heatmap", "z": z, "x": list(range(k)), "y": list(range(k)), **matrix_cells(k),
            "colorscale": [[0, "#fde3c8"], [1, "#d6452a"]], "zmin": 0, "zmax": max(1, int(counts.max())),
            "showscale": False, "customdata": hover, "hovertemplate": "%{customdata}<extra></extra>"}
    if k <= MANY_CLASSES:
        heat["text"] = [[str(v) if v else "" for v in row] for row in z]
    return {"data": [heat],
            "layout": {"title": {"text": "Suspects by label pair · click to filter", "x": 0.01, "xanchor": "left",
                                 "font": {"size": 13}},
                       "margin": {"l": 86, "r": 8, "t": 32, "b": 80}, "font": {**FONT, "size": 11}, "height": 360,
                       "plot_bgcolor": "white",
                       "xaxis": {**ticks, "title": {"text": "Suggested label"}, "tickangle": -45},
                       "yaxis": {**ticks, "title": {"text": "Given label"}, "autorange": "reversed"},
                       "shapes": shapes}}


def summary(store: ExplorerStore, m: ModelView, issues: LabelIssues) -> list:
    """Lines under the matrix: how many were flagged, how the probabilities were obtained, the report's count."""
    ds = m.ds
    flagged = int(issues.suspect.sum())
    lines = [html.Div([html.B(f"{len(issues.ranked):,}"), f" of {ds.n:,} suspects of {m.the_title}: ",
                       html.B(f"{flagged:,}"), " flagged by confident learning, the others scored above 0.5"])]
    words = issues.oos_words(ds.imported)
    if words:
        lines.append(html.Div(f"Out of sample: {words}."))
    li = store.model_report(ds.name, m.name).get("label_issues")
    if isinstance(li, dict) and isinstance(li.get("count"), int) and isinstance(li.get("threshold"), (int, float)):
        lines.append(html.Div(f"{li['count']:,} score above {float(li['threshold']):.2f} (report)."))
    return lines


def register(app, store: ExplorerStore) -> None:
    """Attach the tab's callbacks to ``app``."""
    @app.callback(
        Output(ids.LI_MISSING, "children"), Output(ids.LI_MISSING, "style"), Output(ids.LI_BODY, "style"),
        Output(ids.LI_MATRIX, "figure"), Output(ids.LI_SUMMARY, "children"), Output(ids.LI_TITLE, "children"),
        Output(ids.LI_GRID, "children"), Output(ids.LI_MORE, "children"), Output(ids.LI_MORE, "style"),
        Output(ids.LI_DOWNLOAD_BTN, "disabled"), Output(ids.LI_ALL, "disabled"),
        Input(ids.TABS_ID, "value"), Input(ids.DATASET, "value"), Input(ids.MODEL, "value"),
        Input(ids.LI_PAIR, "data"), Input(ids.LI_SHOWN, "data"))
    def render_issues(tab, ds_name, model, pair_data, shown_data):
        if tab != "issues":
            raise PreventUpdate  # drawn when the tab is opened
        m = _model(store, ds_name, model)
        hide = {"display": "none"}
        issues = m.issues
        if issues is None:
            have = [x.title for x in m.ds.models.values() if x.has_issues]
            text = NOT_COMPUTED.format(title=m.title) + (
                f" Models of {m.ds.title} that have them: {', '.join(have)}." if have
                else " Rerun the pipeline to compute them.")
            return (text, {}, hide, no_update, no_update, no_update, [], no_update, hide, True, True)
        pair = _pair_of(pair_data, ds_name, len(m.ds.class_names))
        rows = issues.ranked_rows(pair)
        rank = {int(r): i + 1 for i, r in enumerate(issues.rows)}
        count = shown_count(shown_data, shown_key(m, pair), PAGE)
        shown = rows[:count]
        what = f" · given {pair_name(m, pair)}" if pair else ""
        title = [html.Span(f"{len(shown):,}", className="count", id="li-count"),
                 f" of {len(rows):,} suspects{what}, most likely wrong first"]
        marks = row_states(m.ds)
        grid = [card(m, issues, rank[int(r)], int(r), marks.get(int(r))) for r in shown]
        if not len(rows):
            grid = [html.P(EMPTY if not len(issues.rows) else "No suspects with this pair of labels.",
                           className="placeholder")]
        left = len(rows) - len(shown)
        more = f"Show more ({min(PAGE, left):,} of {left:,} left)"
        return ("", hide, {}, matrix_figure(m, issues.pair_counts(len(m.ds.class_names)), pair),
                summary(store, m, issues), title, grid, more, {} if left > 0 else hide,
                len(rows) == 0, pair is None)

    @app.callback(
        Output(ids.LI_PAIR, "data", allow_duplicate=True),
        Input(ids.LI_MATRIX, "clickData"), State(ids.LI_PAIR, "data"), State(ids.DATASET, "value"),
        State(ids.MODEL, "value"), prevent_initial_call=True)
    def on_pair_click(click, pair_data, ds_name, model):
        points = _event_points(click)
        if not points:
            raise PreventUpdate
        k = len(_model(store, ds_name, model).ds.class_names)
        p = points[0] if isinstance(points[0], dict) else {}
        g, s = _int(p.get("y"), 0, k, "clicked cell's row"), _int(p.get("x"), 0, k, "clicked cell's column")
        if g == s:
            raise PreventUpdate  # the suggested label is never the given one
        if _pair_of(pair_data, ds_name, k) == (g, s):
            return None  # second click: all pairs again
        return {"ds": ds_name, "pair": [g, s]}

    @app.callback(Output(ids.LI_PAIR, "data", allow_duplicate=True), Input(ids.LI_ALL, "n_clicks"),
                  prevent_initial_call=True)
    def on_all_pairs(_):
        return None

    @app.callback(
        Output(ids.LI_SHOWN, "data"), Input(ids.LI_MORE, "n_clicks"), State(ids.LI_SHOWN, "data"),
        State(ids.DATASET, "value"), State(ids.MODEL, "value"), State(ids.LI_PAIR, "data"),
        prevent_initial_call=True)
    def on_more(_, shown_data, ds_name, model, pair_data):
        m = _model(store, ds_name, model)
        key = shown_key(m, _pair_of(pair_data, ds_name, len(m.ds.class_names)))
        return {"key": key, "count": shown_count(shown_data, key, PAGE) + PAGE}

    @app.callback(
        Output(ids.LI_DOWNLOAD, "data"), Input(ids.LI_DOWNLOAD_BTN, "n_clicks"), State(ids.DATASET, "value"),
        State(ids.MODEL, "value"), State(ids.LI_PAIR, "data"), prevent_initial_call=True)
    def download_issues(_, ds_name, model, pair_data):
        m = _model(store, ds_name, model)
        issues = m.issues
        if issues is None:
            raise PreventUpdate
        pair = _pair_of(pair_data, ds_name, len(m.ds.class_names))
        rows = issues.ranked_rows(pair) if pair else None
        name = f"{ds_name}-{m.name}-label-issues" + (f"-{pair[0]}-{pair[1]}" if pair else "") + ".csv"
        return dcc.send_string(issues_csv(issues, m.ds.class_names, rows), filename=name, type="text/csv")


# -- the URL: the (given, suggested) pair the tab is filtered to --------------------------------
ISSUE = Field("issue", None, lambda v, r: parse_pair(last(v), r.n_classes, distinct=True),
              lambda p: [] if p is None else [pair_text(p)], (ids.LI_PAIR, "data"), at=19)


def from_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The filter from a URL, if the dataset has those classes."""
    k = len(sync.dataset.class_names)  # the URL was read against the largest dataset's classes
    s = s.replace(issue=s.issue if s.issue and max(s.issue) < k else None)
    return s, {"issue": {"ds": s.ds, "pair": list(s.issue)} if s.issue else None}


def to_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The filter for the URL; another dataset's is dropped."""
    ds, held = sync.dataset, sync.values["issue"]
    pair = _pair_of(held, ds.name, len(ds.class_names))
    return s.replace(issue=pair), {"issue": None} if sync.trigger == ids.DATASET and held and pair is None else {}


VIEW = View("issues", "Label issues", order=20, fields=(ISSUE,), layout=layout, register=register,
            bar=(ids.DATASET_BOX,), from_url=from_url, to_url=to_url)

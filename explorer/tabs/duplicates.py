"""The "Duplicates" tab: a dataset's near-duplicate groups side by side, each member's image with its
label, split and id; groups whose labels differ first (a label question too), or only those;
paged with "Show more", exported as CSV, with the threshold and how it was chosen.

A click on a member that is one of the samples opens it in Explore (``assets/hover.js``, as a
Label issues card does). The data is :class:`explorer.duplicates.Duplicates`.
"""
from __future__ import annotations

import base64

from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from .. import ids
from ..checks import _dataset
from ..duplicates import Duplicates, duplicates_csv
from ..registry import View
from ..store import DatasetView, ExplorerStore
from ..thumbnails import encode_png
from ..widgets import shown_count

PAGE = 24  # groups per "Show more"
TILE_SCALE = 3  # a 28 px image drawn 84 px wide
HELP = ("Near-duplicates: pairs of images whose aligned cosine distance (1 - cosine of the pixels, the "
        "smaller over shifts of one pixel) is under a threshold, found among each image's nearest neighbours "
        "in pixel space and in every model's embedding, and joined into groups. A test image with a near-copy "
        "in training makes test accuracy look better than it is; a group whose labels differ is a label "
        "question too. Click an image of the samples to see it in Explore.")
NOT_COMPUTED = "Near-duplicates are not computed for {title}; rerun the pipeline to look for them."


def layout(store: ExplorerStore) -> html.Div:
    """The tab's panel, filled by :func:`register`'s callbacks when the tab is opened."""
    return html.Div([
        html.P(HELP, className="help"),
        html.P(id=ids.DU_MISSING, className="placeholder", style={"display": "none"}),
        html.Div([
            html.P(id=ids.DU_NOTE, className="du-note"),
            html.Div([
                html.H3(id=ids.DU_TITLE),
                html.Div([
                    dcc.Checklist(id=ids.DU_MIXED, options=[{"label": " only groups whose labels differ",
                                                             "value": "mixed"}], value=[], inline=True),
                    html.Button("Download CSV", id=ids.DU_DOWNLOAD_BTN, className="btn", disabled=True,
                                title="Every member of the groups shown: group, id, split, row, label, distance"),
                ], className="buttons"),
            ], className="focus-head"),
            html.Div(id=ids.DU_LIST, className="du-list"),
            html.Button("Show more", id=ids.DU_MORE, className="btn btn-light li-more", style={"display": "none"}),
        ], id=ids.DU_BODY),
        dcc.Store(id=ids.DU_SHOWN), dcc.Download(id=ids.DU_DOWNLOAD),
    ])


def tile_src(dup: Duplicates, image: int) -> str:
    """A member's image as a PNG data URL (training images the samples lack are only in the folder)."""
    return "data:image/png;base64," + base64.b64encode(encode_png(dup.images[image], TILE_SCALE)).decode()


def member_tile(ds: DatasetView, dup: Duplicates, mb: dict) -> html.Div:
    """One member: its image, label, split and id; a sample (``row``) opens in Explore on a click."""
    name = ds.class_names[mb["label"]]
    what = f"{mb['split']} #{mb['id']}"
    attrs = {"title": f"{what} · label {name}" + (" · click to see it in Explore" if mb["row"] is not None else
                                                    " · a training image (not in the sample set shown)")}
    cls = "du-member"
    if mb["row"] is not None:
        cls += " issue-card"  # hover.js opens it in Explore
        attrs.update({"role": "button", "tabIndex": 0, "data-row": str(mb["row"]), "data-dataset": ds.name})
    return html.Div([
        html.Img(src=tile_src(dup, mb["image"]), className="du-img", alt=f"{name}, {what}"),
        html.Div(html.B(name), className="du-label"),
        html.Div(what, className=f"du-split du-{mb['split']}"),
    ], className=cls, **attrs)


def group_box(ds: DatasetView, dup: Duplicates, g: dict) -> html.Div:
    """One group side by side, headed by its number, size, largest distance and whether its labels differ."""
    head = [html.Span(f"Group {g['group'] + 1}", className="du-group-name"),
            html.Span(f"{len(g['members'])} images · distance ≤ {float(g.get('distance', 0)):.4f}")]
    if g.get("labels_differ"):
        head.append(html.Span("labels differ", className="du-mixed-badge"))
    return html.Div([html.Div(head, className="du-group-head"),
                     html.Div([member_tile(ds, dup, mb) for mb in g["members"]], className="du-members")],
                    className="du-group" + (" du-group-mixed" if g.get("labels_differ") else ""),
                    **{"data-group": str(g["group"])})


def note(dup: Duplicates) -> list:
    """The counts and the threshold's rule, above the groups."""
    c = dup.counts
    line = (f"{c.get('groups', 0):,} groups holding {c.get('images', 0):,} images; pairs within train "
            f"{c.get('within_train', 0):,}, within test {c.get('within_test', 0):,}, train-test "
            f"{c.get('train_test', 0):,}; {c.get('mixed_labels', 0):,} groups with differing labels.")
    return [html.Span(line), html.Br(), html.Span(dup.rule_words())]


def register(app, store: ExplorerStore) -> None:
    """Attach the tab's callbacks to ``app``."""
    @app.callback(
        Output(ids.DU_MISSING, "children"), Output(ids.DU_MISSING, "style"), Output(ids.DU_BODY, "style"),
        Output(ids.DU_NOTE, "children"), Output(ids.DU_TITLE, "children"), Output(ids.DU_LIST, "children"),
        Output(ids.DU_MORE, "children"), Output(ids.DU_MORE, "style"), Output(ids.DU_DOWNLOAD_BTN, "disabled"),
        Input(ids.TABS_ID, "value"), Input(ids.DATASET, "value"), Input(ids.DU_MIXED, "value"),
        Input(ids.DU_SHOWN, "data"))
    def render_duplicates(tab, ds_name, mixed, shown_data):
        if tab != "duplicates":
            raise PreventUpdate  # drawn when the tab is opened
        ds = _dataset(store, ds_name)
        hide = {"display": "none"}
        dup = ds.duplicates
        if dup is None:
            return NOT_COMPUTED.format(title=ds.title), {}, hide, no_update, no_update, [], no_update, hide, True
        mixed_only = "mixed" in (mixed or [])
        groups = dup.groups(mixed_only)
        count = shown_count(shown_data, f"{ds.name}/{mixed_only}", PAGE)
        shown = groups[:count]
        title = [html.Span(f"{len(shown):,}", className="count", id="du-count"),
                 f" of {len(groups):,} groups" + (" whose labels differ" if mixed_only else ", differing labels first")]
        body = [group_box(ds, dup, g) for g in shown] or [html.P(
            "No groups whose labels differ." if mixed_only and dup.groups() else
            "No near-duplicates under the threshold.", className="placeholder")]
        left = len(groups) - len(shown)
        return ("", hide, {}, note(dup), title, body, f"Show more ({min(PAGE, left):,} of {left:,} left)",
                {} if left > 0 else hide, not groups)

    @app.callback(Output(ids.DU_SHOWN, "data"), Input(ids.DU_MORE, "n_clicks"), State(ids.DU_SHOWN, "data"),
                  State(ids.DATASET, "value"), State(ids.DU_MIXED, "value"), prevent_initial_call=True)
    def on_more(_, shown_data, ds_name, mixed):
        key = f"{_dataset(store, ds_name).name}/{'mixed' in (mixed or [])}"
        return {"key": key, "count": shown_count(shown_data, key, PAGE) + PAGE}

    @app.callback(Output(ids.DU_DOWNLOAD, "data"), Input(ids.DU_DOWNLOAD_BTN, "n_clicks"),
                  State(ids.DATASET, "value"), State(ids.DU_MIXED, "value"), prevent_initial_call=True)
    def download(_, ds_name, mixed):
        ds = _dataset(store, ds_name)
        if ds.duplicates is None:
            raise PreventUpdate
        mixed_only = "mixed" in (mixed or [])
        name = f"{ds.name}-near-duplicates" + ("-mixed-labels" if mixed_only else "") + ".csv"
        return dcc.send_string(duplicates_csv(ds.duplicates, ds.class_names, mixed_only), filename=name,
                               type="text/csv")


VIEW = View("duplicates", "Duplicates", order=21, layout=layout, register=register, bar=(ids.DATASET_BOX,))

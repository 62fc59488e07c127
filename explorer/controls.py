"""The shared control bar (dataset, model, projection, 2-D / 3-D, colouring) above every tab, as a
view without a tab of its own: the URL fields it holds (``tab``, ``ds``, ``model``, ``proj``,
``colour``) and the rules tying them to the cache (a model the dataset lacks opens as its default;
a layout or colouring the model lacks, as one it has), which the page's URL callback runs first.
"""
from __future__ import annotations

from dash import Input, Output, dcc, html

from . import figures as F
from . import ids
from .checks import _choice, _model, _view
from .registry import Field, Reading, Sync, View, ViewState, always, last, pick, tab_names, tabs
from .store import DatasetView, ExplorerStore, ModelView, method_facts, method_title, projections
from .urlvalues import COLOUR_LABELS, COLOURS, model_defaults
from .widgets import control, method_radio, radio

OPENING_TAB = "explore"
#: the boxes of the bar a tab shows or hides (:attr:`View.bar`); the model's box shows on every tab
BOXES = (ids.DATASET_BOX, ids.PROJ_BOX, ids.COLOUR_BOX, ids.DIMS_BOX)


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


def layout(store: ExplorerStore) -> html.Div:
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


def model_reader(side: int):
    """``read`` of a model field: a model of the dataset read before it, else the model that dataset
    opens with on ``side`` (0: left, 1: right; :func:`model_defaults`); where the cache's models are
    not known, any short name as written."""
    def read(values, r: Reading) -> str:
        v, ds = last(values), r.got.get("ds")
        if r.models and ds in r.models:
            names, default = r.models[ds]
            return v if v in names else model_defaults(names, default)[side]
        return v if isinstance(v, str) and len(v) <= 64 else ""
    return read


FIELDS = (
    Field("tab", OPENING_TAB, lambda v, r: pick(v, tab_names(), OPENING_TAB), always, (ids.TABS_ID, "value"), at=0),
    Field("ds", "", lambda v, r: pick(v, r.datasets, r.datasets[0] if r.datasets else ""), always,
          (ids.DATASET, "value"), at=1),
    Field("model", "", model_reader(0), always, (ids.MODEL, "value"), at=2),
    Field("proj", "umap", lambda v, r: pick(v, r.projections, "umap"), always, (ids.PROJ, "value"), at=3),
    Field("colour", "true", lambda v, r: pick(v, COLOURS, "true"), always, (ids.COLOUR, "value"), at=4),
)


def from_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The bar from a URL: a layout the model lacks (a dataset imported without UMAP, say) opens as one
    it has, a colouring it lacks data for as the true class."""
    ds = sync.dataset = sync.store.get(s.ds)
    m = sync.model = ds.pick(s.model)
    s = s.replace(proj=layout_of(m, s.proj))
    colour = s.colour if F.available(m, s.colour, s.proj) else "true"
    return s, dict(tab=s.tab, ds=s.ds, model=s.model, proj=s.proj, colour=colour,
                   options=model_options(ds), colours=colour_options(m, s.proj))


def to_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The bar's values for the URL; a model, layout or colouring the chosen dataset or model lacks is
    put right on the page too."""
    v, out = sync.values, {}
    ds = sync.dataset = _view(sync.store, v["ds"])
    if sync.trigger == ids.DATASET:
        out["options"] = model_options(ds)  # the new dataset's models
    left = ds.pick(v["model"]).name  # a model it lacks: its default
    if left != v["model"]:
        out["model"] = left
    m = sync.model = ds.models[left]
    proj, colour = v["proj"], v["colour"]
    if isinstance(proj, str) and layout_of(m, proj) != proj:
        proj = out["proj"] = layout_of(m, proj)
    if colour in COLOURS and not F.available(m, colour, proj):
        colour = out["colour"] = "true"  # the new model or layout has no data for it
    options = colour_options(m, proj)
    if options != sync.extra["colours"]:
        out["colours"] = options
    return s.replace(tab=_choice(v["tab"], tab_names(), "tab"), ds=v["ds"], model=left, proj=proj,
                     colour=colour), out


def register(app, store: ExplorerStore) -> None:
    """The colouring's note: one line on what the chosen colouring means, where it needs explaining."""
    shown = {v.name: v for v in tabs()}

    @app.callback(Output(ids.COLOUR_NOTE, "children"), Output(ids.COLOUR_NOTE, "style"),
                  Input(ids.COLOUR, "value"), Input(ids.DATASET, "value"), Input(ids.MODEL, "value"),
                  Input(ids.PROJ, "value"), Input(ids.TABS_ID, "value"))
    def colour_note(colour, ds_name, model, proj, tab):
        view = shown.get(tab)
        if colour not in F.COLOUR_NOTES or (view is not None and ids.COLOUR_BOX not in view.bar):
            return "", {"display": "none"}  # no colouring on that tab
        if view is not None and view.colour_note:
            return view.colour_note, {}
        m = _model(store, ds_name, model)
        if not F.available(m, colour, proj):
            return "", {"display": "none"}
        return F.COLOUR_NOTES[colour].format(model=m.possessive, proj=method_title(m.ds, proj)), {}


VIEW = View("controls", None, order=0, fields=FIELDS, layout=layout, register=register,
            outputs={"options": (ids.MODEL, "options"), "colours": (ids.COLOUR, "options")},
            state={"colours": (ids.COLOUR, "options")}, from_url=from_url, to_url=to_url)

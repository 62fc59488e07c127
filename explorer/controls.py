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
from .progress import DatasetProgress, all_progress, dataset_progress, eta_words, write_wanted
from .registry import Field, Live, Reading, Sync, View, ViewState, always, last, pick, tab_names, tabs
from .store import DatasetView, ExplorerStore, ModelView, method_facts, method_title, projections
from .urlvalues import COLOUR_LABELS, COLOURS, model_defaults
from .widgets import control, method_radio, option_labels, radio_options

OPENING_TAB = "explore"
#: the boxes of the bar a tab shows or hides (:attr:`View.bar`); the model's box shows on every tab
BOXES = (ids.DATASET_BOX, ids.PROJ_BOX, ids.COLOUR_BOX, ids.DIMS_BOX)


def layout_of(m: ModelView, proj) -> str:
    """``proj`` if model ``m`` has that layout, else the first it has (in the page's order)."""
    if m.has(proj):
        return proj
    return next((p for p in projections(m.ds) if m.has(p)), proj)


#: the layout a page opens with, and moves to once the model has it while nobody has chosen another
PROJ_DEFAULT = "umap"


def dataset_options(store: ExplorerStore, progress: dict | None) -> list[dict]:
    """The Dataset control's options: the datasets served, by title; then those the pipeline has not
    served yet, greyed, as ``Letters (computing, about 30 s)`` (their first view's time)."""
    options = [{"label": store.get(n).title, "value": n} for n in store.names]
    for p in all_progress(progress):
        if p.name not in store.datasets:
            eta = min((c.eta_s for c in p.coming), default=None)
            options.append({"label": f"{p.title} (computing, {eta_words(eta)})", "value": p.name, "disabled": True})
    return options


def model_options(ds: DatasetView, coming: DatasetProgress | None = None) -> list[dict]:
    """The Model control's options for ``ds``: its models in ``current.json``'s order, by title; then the
    models the pipeline still makes (``coming``), as ``CNN (computing, about 2 min)``."""
    options = [{"label": m.title, "value": m.name} for m in ds.models.values()]
    for name, title in (coming.coming_models().items() if coming is not None else ()):
        if name not in ds.models:
            options.append({"label": f"{title} (computing, {eta_words(coming.eta(name))})", "value": name})
    return options


def proj_options(m: ModelView, coming: DatasetProgress | None = None) -> list[dict]:
    """The Projection control's options for model ``m``: its dataset's layouts by title (what each shows
    on hover); one ``m`` lacks that the pipeline still makes, as ``t-SNE (computing, about 40 s)``."""
    facts = method_facts(m.ds)
    titles = {n: f["title"] if m.has(n) or coming is None or not coming.is_coming(m.name, n)
              else f"{f['title']} (computing, {eta_words(coming.eta(m.name, n))})" for n, f in facts.items()}
    return radio_options(titles, {n: f.get("about", "") for n, f in facts.items()})


def auto_view(ds: DatasetView) -> tuple[str, str]:
    """The (model, layout) a page shows of ``ds`` by itself: its default model, in UMAP where it has it."""
    m = ds.pick(None)
    return m.name, layout_of(m, PROJ_DEFAULT)


def known_names(store: ExplorerStore, progress: dict | None) -> dict[str, tuple[set, set]]:
    """Per served dataset, the model and layout names a wish may name: those made and those coming."""
    out = {}
    for name, ds in store.datasets.items():
        p = dataset_progress(progress, name)
        coming = p.coming if p is not None else ()
        out[name] = ({*ds.models, *(c.model for c in coming)}, {*projections(ds), *(c.proj for c in coming)})
    return out


def colour_options(m: ModelView, proj) -> list[dict]:
    """The Colour by control's options: label-issue score and faithfulness only where ``m`` (and its
    ``proj`` layout) has them."""
    return [{"label": COLOUR_LABELS[c], "value": c} for c in COLOURS if F.available(m, c, proj)]


def catalog(store: ExplorerStore) -> dict[str, tuple[list[str], str]]:
    """Per dataset its model names and default model, as :func:`state.parse_query` checks them."""
    return {n: (store.get(n).model_names, store.get(n).default_model) for n in store.names}


def coming_models(store: ExplorerStore, progress: dict | None) -> dict[str, list[str]]:
    """Per served dataset the models the running pipeline still makes (a URL may name one)."""
    out = {}
    for name in store.names:
        p = dataset_progress(progress, name)
        if p is not None:
            out[name] = [m for m in p.coming_models() if m not in store.get(name).models]
    return out


def layout(store: ExplorerStore) -> html.Div:
    """The shared control bar: dataset, model, projection, colouring."""
    first = store.get(store.names[0])
    progress = store.progress()
    coming = dataset_progress(progress, first.name)
    return html.Div([
        control("Dataset", dcc.RadioItems(id=ids.DATASET, options=dataset_options(store, progress),
                                          value=first.name, inline=True, className="radio"), ids.DATASET_BOX),
        control("Model", dcc.RadioItems(id=ids.MODEL, options=model_options(first, coming),
                                        value=first.default_model, inline=True, className="radio"), ids.MODEL_BOX),
        control("Projection", method_radio(ids.PROJ, method_facts(store), PROJ_DEFAULT), ids.PROJ_BOX),
        control("View", dcc.RadioItems(id=ids.DIMS, options=[{"label": "2-D", "value": 2}, {"label": "3-D", "value": 3}],
                                       value=2, inline=True, className="radio"), ids.DIMS_BOX),
        control("Colour by", dcc.RadioItems(id=ids.COLOUR, options=colour_options(first.pick(None), "umap"),
                                            value="true", inline=True, className="radio"), ids.COLOUR_BOX),
        html.Div(id=ids.COLOUR_NOTE, className="colour-note", style={"display": "none"}),
        # the view the page chose itself (it moves on as better ones land) and one asked for but not made yet
        dcc.Store(id=ids.AUTO), dcc.Store(id=ids.WISH),
    ], className="controls")


def model_reader(side: int):
    """``read`` of a model field: a model of the dataset read before it, else the model that dataset
    opens with on ``side`` (0: left, 1: right; :func:`model_defaults`), or on the left one the
    pipeline still makes (:func:`from_url` shows the default until it lands); where the cache's
    models are not known, any short name as written."""
    def read(values, r: Reading) -> str:
        v, ds = last(values), r.got.get("ds")
        if r.models and ds in r.models:
            names, default = r.models[ds]
            if side == 0 and v in r.coming.get(ds, ()):
                return v
            return v if v in names else model_defaults(names, default)[side]
        return v if isinstance(v, str) and len(v) <= 64 else ""
    return read


FIELDS = (
    Field("tab", OPENING_TAB, lambda v, r: pick(v, tab_names(), OPENING_TAB), always, (ids.TABS_ID, "value"), at=0),
    Field("ds", "", lambda v, r: pick(v, r.datasets, r.datasets[0] if r.datasets else ""), always,
          (ids.DATASET, "value"), at=1),
    Field("model", "", model_reader(0), always, (ids.MODEL, "value"), at=2),
    Field("proj", PROJ_DEFAULT, lambda v, r: pick(v, r.projections, PROJ_DEFAULT), always, (ids.PROJ, "value"), at=3),
    Field("colour", "true", lambda v, r: pick(v, COLOURS, "true"), always, (ids.COLOUR, "value"), at=4),
)


def from_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The bar from a URL: a layout the model lacks (a dataset imported without UMAP, say) opens as one
    it has, a colouring it lacks data for as the true class.  A model the running pipeline still
    makes becomes the page's wish: it shows what exists and switches when that lands (a layout not
    made yet is not: every URL names one, and the default would pin a fresh page to it)."""
    ds = sync.dataset = sync.store.get(s.ds)
    m = sync.model = ds.pick(s.model)
    coming = dataset_progress(sync.store.progress(), ds.name)
    asked = (s.model, s.proj)
    s = s.replace(model=m.name, proj=layout_of(m, s.proj))
    wish = None
    if asked[0] != s.model and askable(ds, coming, *asked):
        wish = {"dataset": ds.name, "model": asked[0], "proj": asked[1], "shown": [s.model, s.proj]}
    colour = s.colour if F.available(m, s.colour, s.proj) else "true"
    # the page's own choice while it is what the page would choose: it moves on when a better view lands
    auto = [ds.name, m.name, s.proj] if wish is None and (m.name, s.proj) == auto_view(ds) else None
    return s, dict(tab=s.tab, ds=s.ds, model=s.model, proj=s.proj, colour=colour, auto=auto, wish=wish,
                   options=model_options(ds, coming), proj_options=proj_options(m, coming),
                   colours=colour_options(m, s.proj))


def askable(ds: DatasetView, coming: DatasetProgress | None, model, proj) -> bool:
    """Whether a page may wait for ``model``'s ``proj`` layout of ``ds``: a layout of the run, of a model
    it has or one the pipeline still makes (a wish for anything else is dropped)."""
    return (isinstance(model, str) and isinstance(proj, str) and proj in projections(ds)
            and (model in ds.models or (coming is not None and coming.is_coming(model))))


def to_url(s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
    """The bar's values for the URL; a model, layout or colouring the chosen dataset or model lacks is
    put right on the page too."""
    v, out = sync.values, {}
    ds = sync.dataset = _view(sync.store, v["ds"])
    coming = dataset_progress(sync.store.progress(), ds.name) if sync.trigger in (ids.DATASET, ids.MODEL) or (
        v["model"] not in ds.models) else None
    if sync.trigger == ids.DATASET:
        out["options"] = model_options(ds, coming)  # the new dataset's models
    left = ds.pick(v["model"]).name  # a model it lacks (or not made yet): its default
    if left != v["model"]:
        out["model"] = left
    m = sync.model = ds.models[left]
    if coming is not None:  # another dataset or model: its layouts, those still computing marked
        out["proj_options"] = proj_options(m, coming)
    proj, colour = v["proj"], v["colour"]
    if isinstance(proj, str) and layout_of(m, proj) != proj:
        proj = out["proj"] = layout_of(m, proj)
    if colour in COLOURS and not F.available(m, colour, proj):
        colour = out["colour"] = "true"  # the new model or layout has no data for it
    options = colour_options(m, proj)
    if options != sync.extra["colours"]:
        out["colours"] = options
    out.update(wish_and_auto(sync, ds, coming, v["model"], v["proj"], [ds.name, left, proj]))
    return s.replace(tab=_choice(v["tab"], tab_names(), "tab"), ds=v["ds"], model=left, proj=proj,
                     colour=colour), out


def wish_and_auto(sync: Sync, ds: DatasetView, coming: DatasetProgress | None, asked_model, asked_proj,
                  shown: list) -> dict:
    """The page's wish and own choice after a control changed to ``shown`` ``[dataset, model, layout]``.

    A model or layout asked for but not made yet (one the pipeline will make) becomes the wish, shown
    as what exists until it lands (the poll then switches to it, :func:`on_live`); choosing anything
    else drops the wish.  The page's own choice (``auto``) holds while the view is still that one.
    """
    out, wish, auto = {}, sync.extra.get("wish"), sync.extra.get("auto")
    asked = (asked_model, asked_proj)
    new = None
    if sync.trigger in (ids.MODEL, ids.PROJ) and asked != tuple(shown[1:]) and askable(ds, coming, *asked):
        new = {"dataset": ds.name, "model": asked_model, "proj": asked_proj, "shown": shown[1:]}
    if new is not None:
        if new != wish:
            out["wish"] = new
    elif isinstance(wish, dict) and (wish.get("dataset") != ds.name or wish.get("shown") != shown[1:]):
        out["wish"] = None  # something else was chosen
    if auto is not None and (new is not None or auto != shown):
        out["auto"] = None  # touched: the page never moves by itself again
    return out


def on_live(live: Live) -> dict:
    """While the pipeline publishes: the datasets and models to choose from (those coming too), and the
    page moved to a view that just landed: the one asked for (the wish), or, on a page nobody has
    touched, the dataset's default model in UMAP."""
    store, v, out = live.store, live.values, {}
    datasets = dataset_options(store, live.progress)
    if datasets != v.get("datasets"):  # a dataset published after the page loaded, or its time
        out["datasets"] = datasets
    ds = store.datasets.get(v.get("ds")) if isinstance(v.get("ds"), str) else None
    if ds is None or v.get("model") not in ds.models:
        return out
    live.dataset, model, proj = ds, v["model"], v.get("proj")
    coming = dataset_progress(live.progress, ds.name)
    options = model_options(ds, coming)
    if options != v.get("options"):
        out["options"] = options
    layouts = proj_options(ds.models[model], coming)
    if option_labels(layouts) != option_labels(v.get("proj_options")):
        out["proj_options"] = layouts
    wish = v.get("wish") if isinstance(v.get("wish"), dict) and v["wish"].get("dataset") == ds.name else None
    if wish is not None:
        if live.trigger == ids.WISH:  # just asked: tell the pipeline, which may make it sooner
            write_wanted(store.artifacts.root, wish, known_names(store, live.progress))
        out.update(_follow_wish(live, ds, coming, wish, model, proj))
    elif v.get("auto") == [ds.name, model, proj]:
        best = auto_view(ds)
        if best != (model, proj):
            out["model"], out["proj"], out["auto"] = best[0], best[1], [ds.name, *best]
            m = ds.models[best[0]]
            live.notes.append(f"Now showing {m.possessive} {method_title(ds, best[1])}: it just finished.")
    return out


def _follow_wish(live: Live, ds: DatasetView, coming: DatasetProgress | None, wish: dict, model: str,
                 proj) -> dict:
    """The page moved towards the view asked for as far as it exists; the banner says what it waits for."""
    out: dict = {}
    wm = ds.models.get(wish.get("model"))
    wproj = wish.get("proj")
    title = method_title(ds, wproj)
    if wm is not None:
        target = (wm.name, layout_of(wm, wproj))
        if target != (model, proj):
            out["model"], out["proj"], out["auto"] = target[0], target[1], None
        if wm.has(wproj):
            out["wish"] = None
            if target != (model, proj):
                live.notes.append(f"Now showing {wm.possessive} {title}, as asked: it just finished.")
            return out
        if [*target] != wish.get("shown"):
            out["wish"] = {**wish, "shown": [*target]}
        model, proj = target
    showing = ds.models[model]
    if live.progress is None:  # no pipeline runs (killed, or ended without it): nothing is being computed
        out["wish"] = None
        live.notes.append(f"The view asked for was not made: the pipeline stopped. Showing {showing.possessive} "
                          f"{method_title(ds, proj)}.")
        return out
    eta = coming.eta(wish.get("model"), wproj) if coming is not None else None
    whose = wm.possessive if wm is not None else f"the {_coming_title(coming, wish.get('model'))}'s"
    live.lines.append(f"{whose[0].upper()}{whose[1:]} {title} is being computed: {eta_words(eta)}; showing "
                      f"{showing.possessive} {method_title(ds, proj)} until then.")
    return out


def _coming_title(coming: DatasetProgress | None, model) -> str:
    return (coming.coming_models().get(model) if coming is not None else None) or str(model)[:40]


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
        window = m.faith_sizes(proj)[1] if colour == "faith" else None
        return F.COLOUR_NOTES[colour].format(model=m.possessive, proj=method_title(m.ds, proj), window=window), {}


VIEW = View("controls", None, order=0, fields=FIELDS, layout=layout, register=register,
            outputs={"options": (ids.MODEL, "options"), "proj_options": (ids.PROJ, "options"),
                     "colours": (ids.COLOUR, "options"),
                     "auto": (ids.AUTO, "data"), "wish": (ids.WISH, "data")},
            state={"colours": (ids.COLOUR, "options"), "auto": (ids.AUTO, "data"), "wish": (ids.WISH, "data")},
            from_url=from_url, to_url=to_url,
            live={"datasets": (ids.DATASET, "options"), "ds": (ids.DATASET, "value"), "model": (ids.MODEL, "value"),
                  "proj": (ids.PROJ, "value"), "options": (ids.MODEL, "options"),
                  "proj_options": (ids.PROJ, "options"), "auto": (ids.AUTO, "data"),
                  "wish": (ids.WISH, "data")},
            live_triggers=("wish",), on_live=on_live)

"""Views as a registry: what a part of the page declares (name, label, order, URL fields, layout,
callbacks, and how its fields meet its controls), the parts registered, and the view state they
compose, read from and written to the query string.

A new tab is one module that makes a :class:`View` and registers it (:func:`register_view`; the
built-in ones are registered by :mod:`explorer.tabs`).  The page (:mod:`explorer.page`) composes
whatever is registered when the app is made: the tabs, their panels, the tab switch and one URL
callback over every field.  :class:`ViewState` holds one value per registered field.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import parse_qs, urlencode

from . import ids
from .urlvalues import MAX_QUERY, Models

NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")  # a view's name: the URL's tab= and its panel's id
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")  # a field's name: a ViewState attribute
LAST = 1000.0  # a field's place in the query string unless it says: after every built-in one
#: the shared control bar's boxes a tab shows unless it says (the model's box shows on every tab)
DEFAULT_BAR = (ids.DATASET_BOX, ids.PROJ_BOX, ids.COLOUR_BOX)


@dataclass(frozen=True)
class Reading:
    """What a field's ``read`` checks a URL against: the cache's datasets, their largest number of
    classes, each dataset's ``(model names, default model)`` (``None``: not known), its projection
    methods, the models a running pipeline still makes per dataset (``coming``: a URL may name one,
    the page then waits for it), and the fields read before it, in query order (``got``: a model is
    one of the dataset read before it)."""

    datasets: Sequence[str]
    n_classes: int = 10
    models: Models | None = None
    projections: Sequence[str] = ()
    coming: Mapping[str, Sequence[str]] = dataclasses.field(default_factory=dict)
    got: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def last(values: Sequence[str]) -> str | None:
    """The value a query gives last for a key (a hand-edited URL may repeat one), or ``None``."""
    return values[-1] if values else None


def pick(values: Sequence[str], allowed, default):
    """The last value if it is one of ``allowed``, else ``default``."""
    v = last(values)
    return v if v in allowed else default


def always(value) -> list[str]:
    """``write`` of a field the URL always carries, default or not."""
    return [str(value)]


@dataclass(frozen=True)
class Field:
    """One query parameter a view owns.

    Parameters
    ----------
    name : str
        The :class:`ViewState` attribute, and the query key unless ``key`` names another.
    default
        Its value where nothing says otherwise (``ViewState()``).
    read : callable
        ``read(values, reading)``: the values the query gives the key, in order (``[]`` when
        absent), checked against a :class:`Reading`; anything it does not accept falls back to a
        default (URLs are hand-edited and outlive caches), it never raises.
    write : callable, optional
        ``write(value)``: the query's values for the key (``[]``: left out).  By default
        ``str(value)``, left out while it is ``default``.
    control : (id, property), optional
        The component property that holds it on the page; an id with ``ALL`` in it gives a list.
    at : float, default :data:`LAST`
        Where it sits in the query string (the built-in fields keep the order URLs had before the
        views were modules, so links and the tests' strings stay the same).
    key : str, optional
        The query key where it is not ``name`` (``pairs`` is written ``pair=``, once per dataset).
    """

    name: str
    default: Any
    read: Callable[[Sequence[str], Reading], Any]
    write: Callable[[Any], list[str]] | None = None
    control: tuple[Any, str] | None = None
    at: float = LAST
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.name)

    def encode(self, value) -> list[str]:
        """The query's values for ``value``."""
        if self.write is not None:
            return self.write(value)
        return [] if value == self.default else [str(value)]


@dataclass
class Sync:
    """What a view's URL hooks see in one run of the page's URL callback.

    ``values`` holds every field's control value by field name (a list for an ``ALL`` id), ``extra``
    the views' extra inputs and states by name; ``items`` the ``(component id, value)`` of each
    component an ``ALL`` field matched and ``targets`` the ids an ``ALL`` output will set, in order.
    The shared control bar's hooks run first and set ``dataset`` and ``model``: the dataset shown
    and its model on the left (``DatasetView``, ``ModelView``).
    """

    store: Any
    trigger: Any  # the id of the component that changed; None or the URL's id: the URL was read
    values: dict
    extra: dict
    reading: Reading
    items: dict = dataclasses.field(default_factory=dict)
    targets: dict = dataclasses.field(default_factory=dict)
    dataset: Any = None
    model: Any = None

    @property
    def names(self) -> list[str]:
        """The datasets the cache holds, in its order."""
        return self.store.names


#: a URL hook: ``(state, sync) -> (state, outputs)``; outputs by field name or extra output name
Hook = Callable[["ViewState", Sync], "tuple[ViewState, dict]"]


@dataclass
class Live:
    """What a view's live hook sees in one run of the page's poll (a pipeline publishes while the page
    is open): the store (re-read), the running pipeline's ``progress.json`` (``None`` when none runs),
    the id that set the poll off, and every view's live properties by name as the page holds them.
    A hook appends to ``notes`` what just changed on the page, which the banner keeps saying a while
    ("Now showing the CNN's UMAP: it just finished"), and to ``lines`` what it should say now."""

    store: Any
    progress: dict | None
    trigger: Any
    values: dict
    notes: list = dataclasses.field(default_factory=list)
    lines: list = dataclasses.field(default_factory=list)
    dataset: Any = None  # the dataset shown (a DatasetView), set by the shared bar's hook, which runs first


@dataclass(frozen=True, eq=False)
class View:
    """A part of the page that declares its own state: a tab, or (``label=None``) the shared control bar.

    Parameters
    ----------
    name : str
        The tab's value, as in the URL's ``tab=``, and its panel's id (:func:`ids.panel_id`).
    label : str or None
        The tab's label; ``None`` for a part of every tab, whose layout sits above the panels.
    order : int
        Its place among the tabs; hooks run in this order too (the shared bar's first).
    fields : tuple of Field
        The URL fields it owns.
    layout, register : callable, optional
        ``layout(store)``: its panel, built per page load; ``register(app, store)``: its callbacks.
    bar : tuple of str
        The shared control bar's boxes its tab shows (ids; the model's box always shows).
    colour_note : str, optional
        What the colouring's note says on this tab instead of the colouring's own words.
    outputs, inputs, state : mapping of name to (id, property)
        Further component properties its URL hooks set or read, by a name unique on the page.
    from_url, to_url : Hook, optional
        ``from_url``: the controls' values from a URL's state, which it may settle against the cache
        for the views after it (by default each field's control takes its value as is).  ``to_url``:
        its fields' values from its controls, and any control to put right (by default each
        control's value is read as the URL's text).
    waits : callable, optional
        ``waits(sync)``: true while the URL should not follow the change yet (play in Training dynamics).
    live : mapping of name to (id, property)
        Component properties the page's poll reads and may set while the pipeline publishes (a
        model's options as models land); ``live_triggers`` names those whose change runs the poll at
        once (a wish for a view not made yet).
    on_live : callable, optional
        ``on_live(live)``: the values to set of its ``live`` properties, by name (:class:`Live`).
    """

    name: str
    label: str | None = None
    order: int = 100
    fields: tuple[Field, ...] = ()
    layout: Callable[[Any], Any] | None = None
    register: Callable[[Any, Any], None] | None = None
    bar: tuple[str, ...] = DEFAULT_BAR
    colour_note: str | None = None
    outputs: Mapping[str, tuple] = dataclasses.field(default_factory=dict)
    inputs: Mapping[str, tuple] = dataclasses.field(default_factory=dict)
    state: Mapping[str, tuple] = dataclasses.field(default_factory=dict)
    from_url: Hook | None = None
    to_url: Hook | None = None
    waits: Callable[[Sync], bool] | None = None
    live: Mapping[str, tuple] = dataclasses.field(default_factory=dict)
    live_triggers: tuple[str, ...] = ()
    on_live: Callable[[Live], dict] | None = None

    def url_to_controls(self, s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
        """``from_url``, or each field's control set to the state's value."""
        if self.from_url is not None:
            return self.from_url(s, sync)
        return s, {f.name: getattr(s, f.name) for f in self.fields if f.control}

    def controls_to_url(self, s: ViewState, sync: Sync) -> tuple[ViewState, dict]:
        """``to_url``, or each field read from its control's value as from the URL's text."""
        if self.to_url is not None:
            return self.to_url(s, sync)
        reading = dataclasses.replace(sync.reading, got=s.asdict())
        got = {}
        for f in self.fields:
            if f.control:
                v = sync.values.get(f.name)
                got[f.name] = f.read([v] if isinstance(v, str) else [], reading)
        return s.replace(**got), {}


_views: dict[str, View] = {}
_fields: dict[str, Field] | None = None  # every registered field in query order, made when first asked


def _check(view: View) -> None:
    """Refuse a view whose name, fields or extra names are malformed or taken."""
    if not isinstance(view, View):
        raise TypeError(f"register_view takes a View (got {type(view).__name__})")
    if not isinstance(view.name, str) or not NAME.fullmatch(view.name):
        raise ValueError(f"a view's name must be lower-case letters, digits, '-' or '_' (got {view.name!r})")
    if view.name in _views:
        raise ValueError(f"a view named {view.name!r} is registered already")
    keys = {f.key: v.name for v in _views.values() for f in v.fields}
    # fields and extra outputs share one namespace: a hook's outputs name either
    outputs = {k: v.name for v in _views.values() for k in (*(f.name for f in v.fields), *v.outputs)}
    reads = {k: v.name for v in _views.values() for k in (*v.inputs, *v.state)}
    for f in view.fields:
        if not isinstance(f, Field) or not FIELD_NAME.fullmatch(f.name) or hasattr(ViewState, f.name):
            raise ValueError(f"view {view.name!r}: a field must be a Field named in lower case, not a ViewState "
                             f"method (got {getattr(f, 'name', f)!r})")
        if f.name in outputs or f.key in keys:
            owner = outputs.get(f.name) or keys[f.key]
            raise ValueError(f"view {view.name!r}: URL field {f.name!r} clashes with view {owner!r}'s")
        keys[f.key] = outputs[f.name] = view.name
    for k in view.outputs:
        if k in outputs:
            raise ValueError(f"view {view.name!r}: output name {k!r} is view {outputs[k]!r}'s already")
        outputs[k] = view.name
    for k in (*view.inputs, *view.state):
        if k in reads:
            raise ValueError(f"view {view.name!r}: input name {k!r} is view {reads[k]!r}'s already")
        reads[k] = view.name
    lives = {k: v.name for v in _views.values() for k in v.live}
    for k in view.live:
        if k in lives:
            raise ValueError(f"view {view.name!r}: live name {k!r} is view {lives[k]!r}'s already")
    if not set(view.live_triggers) <= set(view.live):
        raise ValueError(f"view {view.name!r}: live_triggers must name live properties")


def register_view(view: View) -> View:
    """Add ``view`` to the page: apps made from now on show it, and its fields join :class:`ViewState`.

    Registering the same view again does nothing.

    Raises
    ------
    ValueError
        For a malformed name, or a name, URL field or extra name another view has.
    """
    global _fields
    if _views.get(getattr(view, "name", None)) is view:
        return view
    _check(view)
    _views[view.name] = view
    _fields = None
    return view


def unregister_view(name: str) -> None:
    """Take the view called ``name`` off the page (a test's view, after the test)."""
    global _fields
    _views.pop(name, None)
    _fields = None


def views() -> list[View]:
    """The registered views by ``order`` (then in the order they were registered)."""
    return sorted(_views.values(), key=lambda v: v.order)


def tabs() -> list[View]:
    """The registered views that are tabs, in the page's order."""
    return [v for v in views() if v.label is not None]


def tab_names() -> tuple[str, ...]:
    """The URL's allowed ``tab=`` values."""
    return tuple(v.name for v in tabs())


def url_fields() -> dict[str, Field]:
    """Every registered field by name, in query-string order."""
    global _fields
    if _fields is None:
        every = [f for v in views() for f in v.fields]
        _fields = {f.name: f for f in sorted(every, key=lambda f: f.at)}
    return _fields


class ViewState:
    """What the page shows: one value per registered URL field, read as an attribute (``s.ds``).

    ``ViewState(**values)`` gives the fields not named their defaults; it is immutable, equal to
    another with the same values, and ``s.replace(**changes)`` makes a changed copy.
    """

    __slots__ = ("_values",)

    def __init__(self, **values) -> None:
        fields = url_fields()
        unknown = [k for k in values if k not in fields]
        if unknown:
            raise TypeError(f"ViewState has no field {unknown[0]!r}; the registered views' fields: "
                            f"{', '.join(fields)}")
        object.__setattr__(self, "_values", {n: values[n] if n in values else f.default
                                             for n, f in fields.items()})

    def __getattr__(self, name: str):
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        field = url_fields().get(name)  # a view registered after this state was made
        if field is None:
            raise AttributeError(f"ViewState has no field {name!r}")
        return field.default

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError("a ViewState is immutable: s.replace(...) makes a changed copy")

    def __eq__(self, other) -> bool:
        return isinstance(other, ViewState) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))

    def __repr__(self) -> str:
        return "ViewState(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"

    def asdict(self) -> dict:
        """The values by field name, in query order."""
        return dict(self._values)

    def replace(self, **changes) -> ViewState:
        """A copy with ``changes``."""
        return ViewState(**{**self._values, **changes})


def read_query(search: str | None, reading: Reading) -> ViewState:
    """The state a query string (with or without its ``?``) gives, every field read in query order;
    anything but a string, or one longer than :data:`MAX_QUERY`, reads as no query."""
    lists = parse_qs(search.lstrip("?")) if isinstance(search, str) and len(search) <= MAX_QUERY else {}
    got: dict[str, Any] = {}
    r = dataclasses.replace(reading, got=got)  # the fields read so far, as they are read
    for f in url_fields().values():
        got[f.name] = f.read(lists.get(f.key, []), r)
    return ViewState(**got)


def write_query(state: ViewState) -> str:
    """The query string (with ``?``) of ``state``: each field's values in query order."""
    return "?" + urlencode([(f.key, v) for f in url_fields().values() for v in f.encode(getattr(state, f.name))])

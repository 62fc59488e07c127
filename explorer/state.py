"""The view's shareable state and its query-string form: every registered view's URL fields
(:mod:`explorer.registry`), composed; importing it registers the built-in views (:mod:`explorer.tabs`).

``?tab=explore&ds=<name>&model=cnn&proj=umap&colour=true&cell=6-0&model2=pixels&proj2=tsne``
``&frame=3&pair=<name>:4-9&pair=<other>:0-6&issue=6-0&compare=<name>,<other>`` restores a view exactly; unknown or
invalid values fall back to defaults rather than failing, since URLs get hand-edited
and outlive caches: a model the dataset lacks becomes its default model.
``&point=17&sel=z<base64>&zoom=x0,x1,y0,y1`` add the clicked point, the box/lasso selection
(:func:`encode_rows`: a zlib-packed bitset of the rows) and the scatter's axis ranges;
``&conf=1,3&show=wrong&score=0.5&find=pred+Shirt`` Explore's filter bar (confidence in nines, correct/wrong,
least label-issue score) and its search, each only where it filters or finds something;
``&layers=labels,density`` the Explore scatter's class labels and density map;
``&dims=3`` Explore's 3-D view.

Who owns which: ``tab``, ``ds``, ``model``, ``proj``, ``colour`` the shared control bar
(:mod:`explorer.controls`); ``cell``, ``point``, ``sel``, ``zoom``, ``dims`` and the filter bar's
fields Explore; ``issue`` Label issues; ``compare`` Compare datasets; ``model2``, ``proj2`` Compare
models; ``frame``, ``pair`` Training dynamics.  A view registered later adds its own.
"""
from __future__ import annotations

import dataclasses
from typing import Mapping, Sequence
from urllib.parse import parse_qs

from . import tabs  # noqa: F401 - registers the built-in views, whose fields make up the state
from .registry import Reading, ViewState, read_query, tab_names, url_fields, write_query
from .store import PROJECTIONS
# re-exported: the values' parsers and bounds, where they were before the views were modules
from .urlvalues import (COLOUR_LABELS, COLOURS, LAYERS, MAX_QUERY, MAX_SEL, SHOWS, Models, decode_rows,
                        encode_rows, model_defaults, parse_conf, parse_pair, parse_zoom)

__all__ = ["ViewState", "default_state", "ignored_values", "parse_query", "to_query", "tab_names", "COLOUR_LABELS",
           "COLOURS", "LAYERS", "MAX_SEL", "SHOWS", "Models", "decode_rows", "encode_rows", "model_defaults",
           "parse_conf", "parse_pair", "parse_zoom"]


def default_state(datasets: list[str], models: Models | None = None) -> ViewState:
    """Defaults for a cache holding ``datasets`` (the first one is shown, with its default models)."""
    return parse_query(None, datasets, models=models)


def parse_query(search: str | None, datasets: list[str], n_classes: int = 10,
                models: Models | None = None, projections: Sequence[str] = PROJECTIONS,
                coming: Mapping[str, Sequence[str]] | None = None) -> ViewState:
    """Read a ``ViewState`` from ``location.search`` (with or without the ``?``).

    Parameters
    ----------
    search : str or None
        The query string.
    datasets : list of str
        Dataset names the cache holds; any other ``ds`` falls back to the first.
    n_classes : int, default 10
        Bound of the class numbers in ``cell``.
    models : mapping, optional
        Per dataset ``(model names, default model)``; a ``model``/``model2`` the chosen
        dataset lacks falls back to :func:`model_defaults`.  Without it, models are
        kept as written (short strings) or left ``""``.
    projections : sequence of str, default :data:`~explorer.store.PROJECTIONS`
        The projection methods the cache has (:func:`explorer.store.projections`).
    coming : mapping, optional
        Per dataset the models a running pipeline still makes: ``model`` may name one (the page
        shows the default until it lands).
    """
    return read_query(search, Reading(datasets, n_classes, models, projections, coming or {}))


def to_query(state: ViewState) -> str:
    """The query string (with ``?``) of ``state``: the shared bar's fields, ``model2``, ``proj2`` and ``frame``
    always; ``cell``, ``issue``, ``compare``, ``point``, ``sel``, ``zoom``, ``dims`` and the filter bar's fields
    only when chosen; one ``pair`` per dataset."""
    return write_query(state)


def ignored_values(search, state: ViewState, reading: Reading) -> list[tuple[str, str, list[str]]]:
    """What a query string gave that ``state`` (the state read from it with ``reading``) did not take:
    ``(key, value given, values written instead)`` for each known key whose value read as the key's
    absence reads (a model the dataset lacks, a tab that is not there) and is not how the state is
    written.  A value taken, also spelled otherwise (``point=007``), or a model the running pipeline
    still makes (the page waits for it) is not ignored; unknown keys are left out quietly."""
    lists = parse_qs(search.lstrip("?")) if isinstance(search, str) and len(search) <= MAX_QUERY else {}
    r = dataclasses.replace(reading, got=state.asdict())  # each field's absence read beside the state's
    out = []
    for f in url_fields().values():
        given = [v for v in lists.get(f.key, []) if v.strip()]
        if not given:
            continue
        value, written = getattr(state, f.name), f.encode(getattr(state, f.name))
        if given == written or given[-1:] == written or given[-1] == str(value) or value != f.read([], r):
            continue
        out.append((f.key, given[-1], written))
    return out

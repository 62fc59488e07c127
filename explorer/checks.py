"""Checks of what a browser sends to a callback, and what a failing callback shows.

Everything a callback receives comes from the client and may be anything; the
helpers here turn it into checked values or raise :class:`BadInput` with a message
meant for the user.  :func:`on_callback_error` is the app's ``on_error``: a callback
that raises answers with a one-line message in the page's alert area, never a
traceback, and a damaged or missing artifact (``CacheError``) is named there with
the fix.
"""
from __future__ import annotations

import logging

import numpy as np
from dash import set_props

from core.errors import CacheError

from .ids import ALERT, ALERT_TEXT
from .store import DatasetView, ExplorerStore, ModelView, projections
from .urlvalues import COLOURS

log = logging.getLogger(__name__)

MAX_EVENT_POINTS = 200_000  # more than any dataset's points (70,000): not a real selection
MAX_MESSAGE = 600  # characters of a message shown in the alert area (paths can be long)


class BadInput(ValueError):
    """A callback input the page would never send; the message is shown to the user as is."""


def _short(value) -> str:
    """A client-sent value for a message: its repr cut short, or its type when it is big."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return repr(value)[:40]
    return type(value).__name__


def _int(value, lo: int, hi: int, what: str) -> int:
    """``value`` as an int in ``[lo, hi)``.

    Raises
    ------
    BadInput
        Naming ``what`` and the bound, for a non-integer or a value out of range.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise BadInput(f"{what} must be an integer (got {_short(value)})")
    if not lo <= value < hi:
        raise BadInput(f"{what} must be from {lo} to {hi - 1} (got {value})")
    return int(value)


def _choice(value, allowed, what: str) -> str:
    """``value`` if it is one of ``allowed``; ``BadInput`` listing them otherwise."""
    if not isinstance(value, str) or value not in allowed:
        raise BadInput(f"{what} must be one of {', '.join(allowed)} (got {_short(value)})")
    return value


def _dataset(store: ExplorerStore, name) -> DatasetView:
    """The dataset called ``name``; ``BadInput`` with the known names otherwise."""
    if not isinstance(name, str) or name not in store.datasets:
        raise BadInput(f"unknown dataset {_short(name)}; known: {', '.join(store.names)}")
    return store.get(name)


def _view(store: ExplorerStore, ds_name, colour=None) -> DatasetView:
    """Check the dataset and (if given) the colouring; the dataset they name."""
    ds = _dataset(store, ds_name)
    if colour is not None:
        _choice(colour, COLOURS, "colour")
    return ds


def _model(store: ExplorerStore, ds_name, model, proj=None, colour=None) -> ModelView:
    """Check the shared controls (those given); the model of the dataset they name.

    A model name the dataset lacks (the dataset just changed, or a URL outlived its
    cache) is its default model, as :meth:`DatasetView.pick` says; anything but a
    name is refused.
    """
    ds = _view(store, ds_name, colour)
    if model is not None and (not isinstance(model, str) or len(model) > 200):
        raise BadInput(f"model must be a model's name (got {_short(model)})")
    m = ds.pick(model)
    if proj is not None:
        _choice(proj, projections(ds), "projection")
        if not m.has(proj):
            raise BadInput(f"{ds.title} · {m.title} has no {proj} projection in the cache")
    return m


def _class_pair(data, ds: str, key: str, what: str, owner: str, names: tuple[str, str],
                n_classes: int) -> tuple[int, int] | None:
    """Two classes stored as ``{"ds", key: [a, b]}`` for dataset ``ds``, checked; ``None`` if none
    or chosen on another dataset (it means nothing here)."""
    if not data:
        return None
    if not isinstance(data, dict):
        raise BadInput(f"{what} must be an object (got {_short(data)})")
    if data.get("ds") != ds or not data.get(key):
        return None
    pair = data[key]
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise BadInput(f"{what} must be [{names[0]}, {names[1]}] (got {_short(pair)})")
    return (_int(pair[0], 0, n_classes, f"{owner}'s {names[0]} class"),
            _int(pair[1], 0, n_classes, f"{owner}'s {names[1]} class"))


def _cell_of(cell_data, ds: str, n_classes: int = 10) -> tuple[int, int] | None:
    """The chosen confusion cell ``(true, predicted)`` of dataset ``ds``, or ``None``."""
    return _class_pair(cell_data, ds, "cell", "cell", "cell", ("true", "predicted"), n_classes)


def _pair_of(data, ds: str, n_classes: int = 10) -> tuple[int, int] | None:
    """The "Label issues" filter ``(given, suggested)`` (``{"ds", "pair"}``) of dataset ``ds``, or ``None``."""
    pair = _class_pair(data, ds, "pair", "class-pair filter", "filter", ("given", "suggested"), n_classes)
    if pair is not None and pair[0] == pair[1]:
        raise BadInput(f"class-pair filter must be two different classes (got {pair[0]}, {pair[1]})")
    return pair


def _rows_of(sel, ds: str, n: int | None = None) -> np.ndarray | None:
    """The rows of a selection store (``{"ds", "rows"}``) of dataset ``ds``, checked; ``None`` if none."""
    if not sel:
        return None
    if not isinstance(sel, dict):
        raise BadInput(f"selection must be an object (got {_short(sel)})")
    if sel.get("ds") != ds or sel.get("rows") is None:
        return None
    rows = sel["rows"]
    if not isinstance(rows, list) or (n is not None and len(rows) > n):
        raise BadInput(f"selection must be a list of at most {n or 0:,} rows")
    try:
        arr = np.asarray(rows, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise BadInput("selection rows must be integers") from None
    if arr.ndim != 1 or (n is not None and len(arr) and (arr.min() < 0 or arr.max() >= n)):
        raise BadInput(f"selection rows must be from 0 to {(n or 1) - 1}")
    return arr


def _event_points(event) -> list:
    """The ``points`` of a Plotly event (click/hover/selected data), checked for shape and size."""
    if not event:
        return []
    if not isinstance(event, dict):
        raise BadInput(f"event data must be an object (got {_short(event)})")
    points = event.get("points") or []
    if not isinstance(points, list):
        raise BadInput(f"event points must be a list (got {_short(points)})")
    if len(points) > MAX_EVENT_POINTS:
        raise BadInput(f"selection of {len(points):,} points is too large (at most {MAX_EVENT_POINTS:,})")
    return points


def error_message(err: Exception) -> str:
    """The line the alert area shows for an exception a callback raised (also logs it).

    ``BadInput`` and lookup errors carry a message meant for the user; a ``CacheError``
    (a missing or damaged artifact, :class:`core.store.DamagedArtifact`) names the file
    and the fix; anything else is logged with its traceback and summarised.
    """
    if isinstance(err, (BadInput, KeyError)):
        text = err.args[0] if err.args else str(err)
        log.info("callback refused input: %s", text)
        return f"Request not understood: {str(text)[:300]}"
    if isinstance(err, CacheError):
        # the pipeline's words: which file, what is wrong with it, the command that repairs it
        log.warning("callback could not read the cache: %s", err)
        return f"Cannot show this view: {str(err)[:MAX_MESSAGE]}"
    log.exception("callback failed", exc_info=err)
    return (f"Could not update the view ({type(err).__name__}); the server log has the details. "
            "Reload the page if it looks wrong.")


def on_callback_error(err: Exception):
    """Dash's ``on_error``: any callback that raises answers with a message in the alert area.

    The message is :func:`error_message`'s; the callback's outputs are left as they were.
    """
    set_props(ALERT_TEXT, {"children": error_message(err)})
    set_props(ALERT, {"style": {"display": "flex"}})
    return None

"""Which labels a request sees: a dataset's own, or corrected by its log (``core.corrections``).

A page shows the corrected labels unless its URL says ``labels=original``; ``assets/corrections.js``
sends that choice with each of the page's requests (header ``X-Labels``), and :func:`shown` gives the
dataset as the choice has it (:meth:`explorer.store.ExplorerStore.get` and the callbacks' checks call
it): a corrected view is a :class:`~explorer.views.DatasetView` whose ``labels`` are corrected, sharing
the arrays read from files with the dataset's own view.  Outside a request (a notebook) the labels
are the corrected ones.
"""
from __future__ import annotations

import dataclasses
import threading

import flask
import numpy as np

from core.corrections import CorrectionLog, CorrectionsError, SampleKeys, corrected, states

from .views import DatasetView

CHOICES = ("corrected", "original")
HEADER = "X-Labels"
_guard = threading.Lock()


def choice() -> str:
    """The labels the page asking wants: its ``X-Labels`` header's, else the corrected ones."""
    if flask.has_request_context():
        asked = flask.request.headers.get(HEADER)
        if asked in CHOICES:
            return asked
    return "corrected"


def sizes(ds: DatasetView) -> dict[str, int]:
    """Images per split a correction of ``ds`` may name (a sample set of test images still names training ones)."""
    if ds.imported:
        return {"all": ds.n}
    n_test = ds.n if ds.sample_set == "test" else ds.n - ds.n_train
    return {"train": ds.n_train, "test": n_test}


def log_of(ds: DatasetView) -> CorrectionLog:
    base = ds.base or ds
    return base.cached("corrections-log", lambda: CorrectionLog(base.artifacts.root, base.name, base.class_names,
                                                               sizes(base)))


def keys_of(ds: DatasetView) -> SampleKeys:
    base = ds.base or ds
    return base.cached("sample-keys", lambda: SampleKeys(base.sample_ids, base.sample_set, base.n_train,
                                                         base.imported))


def has_log(ds: DatasetView) -> bool:
    """Whether ``ds``'s corrections log holds anything (a damaged one too: its labels may change when mended)."""
    try:
        return bool(log_of(ds).digest())
    except CorrectionsError:
        return True


def shown(ds: DatasetView, which: str | None = None) -> DatasetView:
    """``ds`` as the page's choice has it: with its corrected labels where the log changes any of its rows."""
    if (which or choice()) == "original":
        return ds
    log = log_of(ds)
    try:
        digest = log.digest()
    except CorrectionsError as e:  # a damaged log: the original labels, and the bar says why
        ds._cache["corrections-problem"] = str(e)
        return ds
    ds._cache.pop("corrections-problem", None)
    if not digest:
        return ds
    with _guard:
        kept = ds._cache.get("corrected-view")
        if kept is not None and kept[0] == digest:
            return kept[1]
        labels = corrected(ds.labels, keys_of(ds), log.entries())
        view = ds if np.array_equal(labels, ds.labels) else _with_labels(ds, labels)
        ds._cache["corrected-view"] = (digest, view)
        return view


def _with_labels(ds: DatasetView, labels: np.ndarray) -> DatasetView:
    view = dataclasses.replace(ds, models={}, base=ds, label_override=labels, _cache={})
    view.models = {n: dataclasses.replace(m, ds=view) for n, m in ds.models.items()}
    return view


def row_states(ds: DatasetView) -> dict[int, str]:
    """``{row: action}``: the last standing correction of each row of ``ds`` the log touched."""
    keys = keys_of(ds)
    out = {}
    try:
        entries = log_of(ds).entries()
    except CorrectionsError:  # a damaged log: no marks (the corrections bar says why)
        return out
    for (split, index), st in states(entries).items():
        row = keys.row(split, index)
        if row is not None:
            out[row] = st.action
    return out


def changed_rows(ds: DatasetView) -> np.ndarray:
    """Rows whose corrected label differs from the dataset's."""
    view = shown(ds.base or ds, "corrected")
    return np.flatnonzero(view.labels != view.original_labels)


MARK_WORDS = {"relabel": "relabelled", "accept": "suggestion taken", "ambiguous": "marked ambiguous",
              "confirmed": "label confirmed right"}


def fix_row(m, row: int, suggested: int | None = None):
    """The detail panel's corrections of one image: its label's history in a line, then relabel (a class
    list), take the suggested label, label is right, ambiguous; ``assets/corrections.js`` sends them."""
    from dash import html

    ds = m.ds
    base = ds.base or ds
    now, was = int(shown(base, "corrected").labels[row]), int(base.labels[row])
    mark = row_states(base).get(row)
    names = ds.class_names
    words = ([f"Label corrected: {names[was]} → {names[now]}"] if now != was else []) + (
        [MARK_WORDS[mark]] if mark in MARK_WORDS and mark not in ("relabel", "accept") else [])
    buttons = [html.Select([html.Option(n, value=str(k), selected=k == now) for k, n in enumerate(names)],
                           className="fix-select", **{"aria-label": "New label"}),
               html.Button("Relabel", className="btn btn-light", **{"data-fix": "relabel"})]
    if suggested is not None and suggested != now:
        buttons.append(html.Button(f"Take {names[suggested]}", className="btn btn-light", **{"data-fix": "accept"}))
    buttons += [html.Button("Label is right", className="btn btn-light", **{"data-fix": "confirmed"}),
                html.Button("Ambiguous", className="btn btn-light", **{"data-fix": "ambiguous"})]
    return html.Div([html.Div(" · ".join(words), className="fix-note") if words else None, *buttons],
                    className="fix-row", **{"data-fix-row": str(row), "data-dataset": base.name, "data-model": m.name})


def decision(ds: DatasetView, row: int, mark: str) -> str:
    """A reviewed suspect's badge in the Label issues grid: its label now, or the mark it got."""
    if mark in ("relabel", "accept"):
        return f"✓ now {ds.class_names[int(shown(ds.base or ds, 'corrected').labels[row])]}"
    return {"confirmed": "✓ label right", "ambiguous": "? ambiguous"}.get(mark, mark)

"""HTML panels and exports built from a dataset: the clicked sample, gallery tiles,
the separability report's cards and summary, and a selection as CSV.

Pure functions of a :class:`~explorer.store.DatasetView` (or the report) and plain
arguments; the tabs' callbacks decide when to show them.
"""
from __future__ import annotations

import csv
import io
import logging

import numpy as np
from dash import html

from .figures import PALETTE
from .store import PROJECTION_LABELS, SPACE_LABELS, DatasetView, ExplorerStore
from .thumbnails import sprite_style

log = logging.getLogger(__name__)

NEIGHBOURS_SHOWN = 10  # the cache may hold more (t-SNE/UMAP want ~90); ten read at a glance


def pct(x: float) -> str:
    """``0.934`` -> ``"93%"``."""
    return f"{100 * float(x):.0f}%"


def tile(ds: DatasetView, row: int, scale: int, cls: str) -> html.Div:
    """One image as a tile of its sprite sheet, with its classes as the tooltip; outlined when wrong."""
    t, p = int(ds.labels[row]), int(ds.pred[row])
    tip = (f"#{int(ds.sample_ids[row])} · true {ds.class_names[t]} · predicted {ds.class_names[p]} "
           f"({pct(ds.confidence[row])})")
    return html.Div(className=f"{cls} tile" + (" wrong" if t != p else ""), title=tip,
                    style=sprite_style(ds.name, ds.version, ds.n, row, scale),
                    **{"data-row": str(row), "data-dataset": ds.name})


def detail_panel(ds: DatasetView, row: int, space: str) -> list:
    """The clicked sample: image, classes, top-3 probabilities and k nearest neighbours.

    Parameters
    ----------
    ds : DatasetView
    row : int
        A checked row of ``ds``.
    space : str
        The space whose neighbours are listed (``cnn`` or ``pixels``).

    Returns
    -------
    list
        Children of the detail panel.
    """
    t, p = int(ds.labels[row]), int(ds.pred[row])
    proba = np.asarray(ds.proba[row], dtype=float)
    top = np.argsort(-proba, kind="stable")[:3]
    bars = [html.Div([
        html.Span(ds.class_names[c], className="bar-label"),
        html.Div(html.Div(style={"width": pct(proba[c]), "background": PALETTE[c % 10]}, className="bar-fill"),
                 className="bar"),
        html.Span(pct(proba[c]), className="bar-value")], className="bar-row") for c in top]
    nb = [int(r) for r in ds.knn(space)[row][:NEIGHBOURS_SHOWN]]
    strip = []
    for r in nb:
        other = int(ds.labels[r]) != t
        strip.append(html.Div([
            html.Img(src=f"/thumb/{ds.name}/{r}.png?scale=2&v={ds.version}", className="nb-img",
                     alt=ds.class_names[int(ds.labels[r])]),
            html.Span(ds.class_names[int(ds.labels[r])], className="nb-label")],
            className="nb-item" + (" other" if other else ""), title=f"row {r}",
            **{"data-row": str(r), "data-dataset": ds.name}))
    n_other = sum(int(ds.labels[r]) != t for r in nb)
    verdict = html.Span("correct", className="ok") if t == p else html.Span("wrong", className="bad")
    return [
        html.Div([
            html.Img(src=f"/thumb/{ds.name}/{row}.png?scale=5&v={ds.version}", className="detail-img",
                     id="detail-img", **{"data-row": str(row)}),
            html.Div([
                html.Div(f"Sample #{int(ds.sample_ids[row])}", className="detail-id"),
                html.Div(["True: ", html.B(ds.class_names[t])]),
                html.Div(["Predicted: ", html.B(ds.class_names[p]), " · ", verdict]),
                html.Div("Top-3 probabilities", className="small-head"),
                *bars,
            ], className="detail-text"),
        ], className="detail-top"),
        html.Div(f"{len(nb)} nearest neighbours in the {SPACE_LABELS[space]} "
                 f"({n_other} of another class, outlined red)", className="small-head"),
        html.Div(strip, className="nb-strip", id="nb-strip"),
    ]


def selection_csv(ds: DatasetView, rows: np.ndarray, space: str, proj: str) -> str:
    """CSV of rows: row, sample index, true and predicted class (number and name), confidence, x, y."""
    coords = ds.coords(space, proj)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["row", "index", "true", "true_name", "predicted", "predicted_name", "confidence",
                f"{proj}_x", f"{proj}_y"])
    for r in np.asarray(rows, dtype=np.int64):
        t, p = int(ds.labels[r]), int(ds.pred[r])
        w.writerow([int(r), int(ds.sample_ids[r]), t, ds.class_names[t], p, ds.class_names[p],
                    f"{float(ds.confidence[r]):.4f}", f"{float(coords[r, 0]):.4f}", f"{float(coords[r, 1]):.4f}"])
    return buf.getvalue()


def summary_line(store: ExplorerStore, report: dict, space: str, proj: str) -> html.P:
    """One sentence: which dataset separates better, by how much, on which measures."""
    entries = {n: report.get("datasets", {}).get(n) for n in store.names}
    entries = {n: e for n, e in entries.items() if e}
    if len(entries) < 2:
        return html.P("Only one dataset in the report.", className="summary")
    (a, ea), (b, eb) = list(entries.items())[:2]

    def vals(e):
        s = e.get("spaces", {}).get(space, {})
        p = s.get("projections", {}).get(proj, {})
        return {"k-NN accuracy in the full space": s.get("knn_accuracy"),
                f"k-NN accuracy in 2-D {PROJECTION_LABELS[proj]}": p.get("knn_accuracy"),
                "silhouette": s.get("silhouette")}
    va, vb = vals(ea), vals(eb)
    ta, tb = ea.get("title", a), eb.get("title", b)
    parts = []
    for k in va:
        if va[k] is None or vb[k] is None:
            continue
        hi, lo = (ta, tb) if va[k] >= vb[k] else (tb, ta)
        x, y = max(va[k], vb[k]), min(va[k], vb[k])
        parts.append(f"{k} {x:.3f} ({hi}) vs {y:.3f} ({lo})")
    wins = sum(1 for k in va if va[k] is not None and vb[k] is not None and va[k] > vb[k])
    better = ta if wins * 2 >= len(parts) else tb
    return html.P([html.B(f"{better} separates more cleanly"),
                   f" in the {SPACE_LABELS[space]}: " + "; ".join(parts) + "."], className="summary")


def report_tables(store: ExplorerStore, report: dict, space: str, proj: str) -> list:
    """One card per dataset: headline numbers and its most confused class pairs."""
    if not report:
        return [html.P("No separability report in the cache; run the pipeline's report stage.",
                       className="placeholder")]
    cards = [summary_line(store, report, space, proj)]
    for n in store.names:
        e = report.get("datasets", {}).get(n)
        if not e:
            continue
        s = e.get("spaces", {}).get(space, {})
        p = s.get("projections", {}).get(proj, {})

        def fmt(v):
            return "n/a" if v is None else f"{float(v):.3f}"
        rows = [("Test accuracy (CNN)", fmt(e.get("test_accuracy"))),
                (f"k-NN accuracy, {SPACE_LABELS[space]}", fmt(s.get("knn_accuracy"))),
                (f"k-NN accuracy, 2-D {PROJECTION_LABELS[proj]}", fmt(p.get("knn_accuracy"))),
                ("Silhouette", fmt(s.get("silhouette"))),
                (f"Trustworthiness, {PROJECTION_LABELS[proj]}", fmt(p.get("trustworthiness")))]
        # pairs the CNN never mixes up and whose neighbourhoods barely touch say nothing
        pairs = [pr for pr in e.get("pairs", [])
                 if pr.get("confusions", 0) > 0 or pr.get("overlap", 0) >= 0.01][:5]
        cards.append(html.Div([
            html.H4(e.get("title", store.get(n).title)),
            html.Table([html.Tr([html.Td(k), html.Td(v, className="num")]) for k, v in rows],
                       className="metrics"),
            html.Div("Most confused pairs (CNN errors both ways)", className="small-head"),
            html.Ol([html.Li([html.B(f"{pr['names'][0]} ↔ {pr['names'][1]}"),
                              f": {pr['confusions']} errors ({pr['confusions_ab']} / {pr['confusions_ba']}), "
                              f"neighbour overlap {100 * pr.get('overlap', 0):.1f}%"]) for pr in pairs],
                    className="pairs"),
        ], className="card", **{"data-dataset": n}))
    return cards

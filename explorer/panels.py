"""HTML panels and exports built from a model's view of a dataset: the clicked sample,
gallery tiles, the separability report's cards and summary, the models table, a dataset's
source in words, and a selection as CSV.

Pure functions of a :class:`~explorer.store.ModelView` (or the report) and plain
arguments; the tabs' callbacks decide when to show them.
"""
from __future__ import annotations

import csv
import io
import logging

import numpy as np
from dash import html

from .accuracy import shown_accuracy
from .classes import class_colours
from .labels import fix_row
from .store import DatasetView, ExplorerStore, ModelView, method_title, model_entry
from .thumbnails import GALLERY_PX, sprite_style
from .views import FAITH_K

log = logging.getLogger(__name__)

NEIGHBOURS_SHOWN = 10  # the cache may hold more (t-SNE/UMAP want ~90); ten read at a glance
DETAIL_PX, NEIGHBOUR_PX = 140, 56  # the clicked image's and its neighbours' longer side, about


def image_words(ds: DatasetView) -> str:
    """``"32×32 RGB"``, ``"28×28 grey"``: the size of a dataset's images."""
    h, w, c = ds.image_shape
    return f"{h}×{w} {'RGB' if c == 3 else 'grey'}"


def source_words(ds: DatasetView) -> str:
    """Where a dataset's images come from and what they are, in one line."""
    k = len(ds.class_names)
    if ds.imported:
        return (f"Imported (your own data): {ds.n:,} images, {image_words(ds)}, {k} classes; "
                f"no train/test split, sample ids 0–{ds.n - 1:,} in your order")
    which = "test images" if ds.sample_set == "test" else "images, training and test"
    return f"Built-in dataset: {ds.n:,} {which}, {image_words(ds)}, {k} classes"


def thumb(ds: DatasetView, row: int, px: int, most: int | None = None, **props) -> html.Img:
    """One image from ``/thumb/``, enlarged by the whole-pixel scale that makes it about ``px`` on a side
    (its longer side at most ``most``, :meth:`~explorer.thumbnails.SpriteGrid.scale_for`)."""
    s = ds.grid.scale_for(px, most)
    return html.Img(src=f"/thumb/{ds.name}/{row}.png?scale={s}&v={ds.version}",
                    style={"width": f"{ds.grid.w * s}px", "height": f"{ds.grid.h * s}px"}, **props)


def pct(x: float) -> str:
    """A probability or accuracy in percent: ``0.934`` -> ``"93%"``; near 0 or 100 % with the decimals
    that keep it off the bound (``0.995`` -> ``"99.5%"``, ``0.9996`` -> ``"99.96%"``, never a false ``"100%"``).

    ``assets/hover.js``'s ``pct`` is the same rule for the hover tooltip.
    """
    v = 100 * float(x)
    if not (99 < v < 100 or 0 < v < 1):
        return f"{v:.0f}%"
    for digits in (1, 2):
        if 0 < round(v, digits) < 100:
            return f"{v:.{digits}f}%"
    return "99.99%" if v > 50 else "0.01%"


def top_pcts(probs) -> list[str]:
    """Probabilities in decreasing order (a sample's top 3) as :func:`pct` words each, but never adding up
    past 100 %: one below 0.005 % reads ``"<0.01%"`` (not :func:`pct`'s ``"0.01%"``), a top one of 1
    beside a non-zero other ``">99.99%"``, and while the shown ones still add up past 100 (``0.335, 0.335,
    0.33``: 34 + 34 + 33) the one rounded up most, in its last digit, goes one digit down."""
    v = [100 * float(p) for p in probs]
    out = [pct(p) for p in probs]
    shown = [float(t.rstrip("%")) for t in out]
    digits = [len(t.rstrip("%").partition(".")[2]) for t in out]
    for i, x in enumerate(v):
        if x > 0 and round(x, 2) == 0:
            out[i], shown[i] = "<0.01%", 0.0
    if v and shown[0] >= 100 and any(x > 0 for x in v[1:]):
        out[0], shown[0] = ">99.99%", 99.99
    while sum(shown) > 100 + 1e-6:
        i = max((j for j in range(len(v)) if shown[j] > 0), key=lambda j: ((shown[j] - v[j]) * 10 ** digits[j], j))
        unit = 10.0 ** -digits[i]
        shown[i] = round(shown[i] - unit, digits[i])
        out[i] = f"{shown[i]:.{digits[i]}f}%" if shown[i] > 0 else f"<{unit:.{digits[i]}f}%"
    return out


def tile(m: ModelView, row: int, scale: int | None, cls: str) -> html.Div:
    """One image as a tile of its sprite sheet, with its classes as the tooltip; outlined when ``m`` is wrong.

    ``scale`` enlarges it; ``None`` picks the one that makes it about :data:`GALLERY_PX` on its longer side.
    """
    ds = m.ds
    scale = ds.grid.scale_for(GALLERY_PX) if scale is None else scale
    t, p = int(ds.labels[row]), int(m.pred[row])
    tip = (f"#{int(ds.sample_ids[row])} · true {ds.class_names[t]} · {m.title} predicted {ds.class_names[p]} "
           f"({pct(m.confidence[row])})")
    return html.Div(className=f"{cls} tile" + (" wrong" if t != p else ""), title=tip,
                    style=sprite_style(ds.name, ds.version, ds.n, row, scale, ds.grid),
                    **{"data-row": str(row), "data-dataset": ds.name})


def detail_panel(m: ModelView, row: int, projection: str | None = None, dims: int = 2) -> list:
    """The clicked sample: image, classes, ``m``'s top-3 probabilities and its k nearest neighbours;
    its label-issue score where ``m`` has one, and how many of its neighbours in the
    ``projection`` layout are true ones where that layout's faithfulness was measured
    (in 3-D: counted here, in the 3-D layout drawn).

    Parameters
    ----------
    m : ModelView
        The model whose prediction, probabilities and k-NN graph are shown.
    row : int
        A checked row of ``m.ds``.
    projection : str, optional
        The layout on screen; with ``dims=3`` the 3-D view's (which may not be the chosen projection:
        :func:`explorer.figures3d.projection_3d`).
    dims : int
        2, or 3 where the 3-D view is shown.

    Returns
    -------
    list
        Children of the detail panel.
    """
    ds = m.ds
    t, p = int(ds.labels[row]), int(m.pred[row])
    proba = np.asarray(m.proba[row], dtype=float)
    top = np.argsort(-proba, kind="stable")[:3]
    colours = class_colours(len(ds.class_names))
    bars = [html.Div([
        html.Span(ds.class_names[c], className="bar-label"),
        html.Div(html.Div(style={"width": pct(proba[c]), "background": colours[c]}, className="bar-fill"),
                 className="bar"),
        html.Span(words, className="bar-value")], className="bar-row") for c, words in zip(top, top_pcts(proba[top]))]
    nb = [int(r) for r in m.knn[row][:NEIGHBOURS_SHOWN]]
    strip = []
    for r in nb:
        other = int(ds.labels[r]) != t
        strip.append(html.Div([
            thumb(ds, r, NEIGHBOUR_PX, className="nb-img", alt=ds.class_names[int(ds.labels[r])]),
            html.Span(ds.class_names[int(ds.labels[r])], className="nb-label")],
            className="nb-item" + (" other" if other else ""), title=f"row {r}",
            **{"data-row": str(r), "data-dataset": ds.name}))
    n_other = sum(int(ds.labels[r]) != t for r in nb)
    verdict = html.Span("correct", className="ok") if t == p else html.Span("wrong", className="bad")
    return [
        # on a phone the panel is a sheet over the bottom of the screen (style.css): this closes it
        html.Button("×", className="detail-close", title="Close", **{"aria-label": "Close this image's details"}),
        html.Div([
            # no wider than 140 px: the probabilities beside it need the room
            thumb(ds, row, DETAIL_PX, DETAIL_PX, className="detail-img", id="detail-img", **{"data-row": str(row)},
                  alt=f"Sample #{int(ds.sample_ids[row])}, labelled {ds.class_names[t]}"),
            html.Div([
                html.Div(f"Sample #{int(ds.sample_ids[row])}", className="detail-id"),
                html.Div(["True: ", html.B(ds.class_names[t])]),
                html.Div(["Predicted: ", html.B(ds.class_names[p]), " · ", verdict]),
                html.Div(f"Top-3 probabilities · {m.title}", className="small-head"),
                *bars,
            ], className="detail-text"),
        ], className="detail-top"),
        fix_row(m, row, int(m.issues.suggested[row]) if m.issues is not None and m.issues.in_doubt(row) else None),
        *quality_lines(m, row, projection, dims),
        html.Div(f"{len(nb)} nearest neighbours in the space of {m.title} "
                 f"({n_other} of another class, outlined red)", className="small-head"),
        html.Div(strip, className="nb-strip", id="nb-strip"),
    ]


def kept_in_3d(m: ModelView, layout: str, row: int) -> tuple[int, int, int] | None:
    """``(kept, k, window)``: how many of ``row``'s k nearest neighbours in ``m``'s embedding are among its
    ``window`` nearest in ``layout``'s 3-D coordinates, counted here (the pipeline measures 2-D layouts only);
    k and window as the 2-D layout's faithfulness counted, else :data:`~explorer.views.FAITH_K` each.
    ``None`` where k is 0."""
    knn = m.knn
    k, window = m.faith_sizes(layout) if m.has_faithfulness(layout) else (FAITH_K, FAITH_K)
    k, window = min(k, knn.shape[1], m.ds.n - 1), min(window, m.ds.n - 1)
    if k < 1:
        return None
    xyz = m.coords(layout, dims=3)
    d = ((xyz - xyz[row]) ** 2).sum(axis=1)
    d[row] = np.inf
    near = np.argpartition(d, window - 1)[:window]
    return int(np.isin(np.asarray(knn[row][:k]), near).sum()), k, window


def issue_line(m: ModelView, row: int) -> html.Div:
    """``row``'s label-issue score; the suggested label only where the given one is in doubt
    (:meth:`~explorer.labelissues.LabelIssues.in_doubt`), and whether confident learning flagged it."""
    issues = m.issues
    score = html.B(f"{float(issues.score[row]):.2f}")
    if not issues.in_doubt(row):
        return html.Div(["Label-issue score ", score, " · the given label is not in doubt"], className="detail-line",
                        id="detail-issue", title=f"A label is doubted where its score is above "
                                                 f"{issues.threshold:.2f} or confident learning flags it")
    flag = (" · flagged as a suspected label error" if issues.suspect[row] else "")
    return html.Div(["Label-issue score ", score, " · suggested label ",
                     html.B(m.ds.class_names[int(issues.suggested[row])]), flag],
                    className="detail-line" + (" bad" if issues.suspect[row] else ""), id="detail-issue")


def quality_lines(m: ModelView, row: int, projection: str | None, dims: int = 2) -> list:
    """The detail panel's lines on ``row``'s label-issue score and its layout's faithfulness (where computed;
    in 3-D, of the 3-D ``projection`` drawn, counted here: :func:`kept_in_3d`)."""
    out = [issue_line(m, row)] if m.issues is not None else []
    if dims == 3:
        kept, k, window = (kept_in_3d(m, projection, row) if projection else None) or (None, 0, 0)
        label = f"3-D {method_title(m.ds, projection)}"
    else:
        kept = m.true_neighbours(projection, row) if projection else None
        k, window = m.faith_sizes(projection) if kept is not None else (0, 0)
        label = method_title(m.ds, projection)
    if kept is not None:
        out.append(html.Div([html.B(f"{kept} of its {k}"), f" nearest neighbours in the space of {m.title} are "
                             f"among its {window} nearest in this {label}"
                             + (" (the layout misleads here)" if kept <= k * 3 // 10 else "")],
                            className="detail-line", id="detail-faith", **{"data-kept": str(kept)}))
    return out


def selection_csv(m: ModelView, rows: np.ndarray, proj: str, files: list[str] | None = None) -> str:
    """CSV of rows: row, sample index, true and ``m``'s predicted class (number and name), confidence, x, y,
    then ``m``'s probability of each class (``p_<class name>``, in class order) and, where ``files`` is
    given (one name per row, as the selection zip names its images), a ``file`` column."""
    ds = m.ds
    coords = m.coords(proj)
    proba = m.proba
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["row", "index", "true", "true_name", "predicted", "predicted_name", "confidence",
                f"{proj}_x", f"{proj}_y", *(f"p_{c}" for c in ds.class_names)]
               + (["file"] if files is not None else []))
    rows = np.asarray(rows, dtype=np.int64)
    if files is not None and len(files) != len(rows):
        raise ValueError(f"files must name one file per row ({len(rows)} rows, got {len(files)} names)")
    for i, r in enumerate(rows):
        t, p = int(ds.labels[r]), int(m.pred[r])
        w.writerow([int(r), int(ds.sample_ids[r]), t, ds.class_names[t], p, ds.class_names[p],
                    f"{float(m.confidence[r]):.4f}", f"{float(coords[r, 0]):.4f}", f"{float(coords[r, 1]):.4f}",
                    # 6 significant digits: a confident model's small probabilities are not all 0.0000
                    *(f"{float(v):.6g}" for v in proba[r])] + ([files[i]] if files is not None else []))
    return buf.getvalue()


def fmt(v, digits: int = 3) -> str:
    """A report number as text; ``n/a`` where the report has none."""
    return "n/a" if v is None else f"{float(v):.{digits}f}"


def duration(seconds) -> str:
    """``95.0`` -> ``"1 min 35 s"``; ``n/a`` when unknown."""
    if seconds is None:
        return "n/a"
    s = float(seconds)
    if s < 60:
        return f"{s:.1f} s"
    minutes, rest = divmod(round(s), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def summary_line(store: ExplorerStore, report: dict, models: dict[str, str], proj: str) -> html.P:
    """One sentence: which of two datasets separates better, by how much, on which measures; with more
    than two, the datasets ranked by k-NN accuracy in the full space."""
    entries = {n: model_entry(report, n, models[n]) for n in models}
    entries = {n: e for n, e in entries.items() if e}
    if len(entries) < 2:
        return html.P("Only one dataset in the report." if len(models) < 2 else
                      "Only one of these datasets is in the report.", className="summary")
    seen = {store.get(n).model(models[n]).the_title for n in entries}
    where = f"seen through {seen.pop()}" if len(seen) == 1 else "each seen through its model"
    if len(entries) > 2:
        ranked = sorted(entries, key=lambda n: -(entries[n].get("knn_accuracy") or 0))
        return html.P([html.B(f"{store.get(ranked[0]).title} separates most cleanly"),
                       f", {where}; k-NN accuracy in the full space: "
                       + ", ".join(f"{store.get(n).title} {fmt(entries[n].get('knn_accuracy'))}" for n in ranked)
                       + "."], className="summary")
    (a, ea), (b, eb) = list(entries.items())[:2]

    def vals(s):
        p = s.get("projections", {}).get(proj, {})
        return {"k-NN accuracy in the full space": s.get("knn_accuracy"),
                f"k-NN accuracy in 2-D {method_title(store, proj)}": p.get("knn_accuracy"),
                "silhouette": s.get("silhouette")}
    va, vb = vals(ea), vals(eb)
    ta, tb = store.get(a).title, store.get(b).title
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
                   f", {where}: " + "; ".join(parts) + "."], className="summary")


def report_tables(store: ExplorerStore, report: dict, models: dict[str, str], proj: str) -> list:
    """One card per dataset (``models``: dataset -> the model shown): headline numbers and most confused pairs."""
    if not report:
        return [html.P("No separability report in the cache; run the pipeline's report stage.",
                       className="placeholder")]
    cards = [summary_line(store, report, models, proj)]
    for n, model in models.items():
        s = model_entry(report, n, model)
        if not s:
            continue
        title = store.get(n).model(model).title
        p = s.get("projections", {}).get(proj, {})
        # Explore's figure (issue 26); an imported dataset has no test set: over the user's samples
        rows = [(f"{'Accuracy' if store.get(n).imported else 'Test accuracy'} ({title})",
                 shown_accuracy(store.get(n).model(model)).words),
                ("k-NN accuracy, high-D", fmt(s.get("knn_accuracy"))),
                (f"k-NN accuracy, 2-D {method_title(store.get(n), proj)}", fmt(p.get("knn_accuracy"))),
                ("Silhouette", fmt(s.get("silhouette"))),
                (f"Trustworthiness, {method_title(store.get(n), proj)}", fmt(p.get("trustworthiness")))]
        # pairs the model never mixes up and whose neighbourhoods barely touch say nothing
        pairs = [pr for pr in s.get("pairs", [])
                 if pr.get("confusions", 0) > 0 or pr.get("overlap", 0) >= 0.01][:5]
        cards.append(html.Div([
            html.H4(f"{store.get(n).title} · {title}"),
            html.Div(source_words(store.get(n)), className="ds-source"),
            html.Table([html.Tr([html.Td(k), html.Td(v, className="num")]) for k, v in rows],
                       className="metrics"),
            html.Div(f"Most confused pairs ({title} errors both ways)", className="small-head"),
            html.Ol([html.Li([html.B(f"{pr['names'][0]} ↔ {pr['names'][1]}"),
                              f": {pr['confusions']} errors ({pr['confusions_ab']} / {pr['confusions_ba']}), "
                              f"neighbour overlap {100 * pr.get('overlap', 0):.1f}%"]) for pr in pairs],
                    className="pairs"),
        ], className="card", **{"data-dataset": n}))
    return cards

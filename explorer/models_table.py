"""The Compare models tab's table: every model of a dataset scored on the same samples, the two on screen
marked, the 2-D columns of the left view's layout and, where the right view shows another, of that one."""
from __future__ import annotations

from dash import html

from .accuracy import accuracy_rows, shown_accuracy
from .panels import duration, fmt
from .store import DatasetView, method_title, model_entry

#: the columns, in order; the 2-D ones (``knn_2d``, ``trustworthiness``) come once per layout shown
MODEL_COLUMNS = (("title", "Model"), ("test_accuracy", "Test accuracy"), ("knn_accuracy", "k-NN acc. high-D"),
                 ("knn_2d", "k-NN acc. 2-D"), ("trustworthiness", "Trustworthiness"),
                 ("silhouette", "Silhouette"), ("pair", "Most confused pair"), ("train_seconds", "Training time"))
LAYOUT_KEYS = ("knn_2d", "trustworthiness")


def model_rows(ds: DatasetView, report: dict, proj: str) -> list[dict]:
    """Per model of ``ds`` (in order) the report's numbers, with ``proj``'s 2-D ones; ``None`` where missing;
    ``test_accuracy`` the :class:`~explorer.accuracy.Accuracy` Explore shows (:func:`shown_accuracy`)."""
    out = []
    for m in ds.models.values():
        s = model_entry(report, ds.name, m.name)
        p = s.get("projections", {}).get(proj, {})
        top = next(iter(s.get("pairs") or []), None)
        pair = "none" if s else None  # no confusion at all, or no report entry
        if isinstance(top, dict) and top.get("confusions", 0) > 0:
            pair = f"{top['names'][0]} ↔ {top['names'][1]} ({top['confusions']})"
        out.append({"model": m.name, "title": m.title, "test_accuracy": shown_accuracy(m),
                    "knn_accuracy": s.get("knn_accuracy"), "knn_2d": p.get("knn_accuracy"),
                    "trustworthiness": p.get("trustworthiness"), "silhouette": s.get("silhouette"),
                    "pair": pair, "train_seconds": s.get("train_seconds")})
    return out


def columns(ds: DatasetView, layouts: list[str]) -> list[tuple[str, str, str | None]]:
    """``(key, heading, layout)`` of each column: the 2-D ones once per layout, named by it."""
    out = []
    for key, head in MODEL_COLUMNS:
        if key in LAYOUT_KEYS:
            if key == LAYOUT_KEYS[0]:
                out += [(k, f"{h} ({method_title(ds, p)})", p) for p in layouts
                        for k, h in MODEL_COLUMNS if k in LAYOUT_KEYS]
            continue
        out.append((key, head, None))
    return out


def models_table(ds: DatasetView, report: dict, proj: str, shown: tuple[str, str], proj2: str | None = None) -> html.Div:
    """The dataset's models side by side (:func:`model_rows`); the two models on screen are marked; the 2-D
    columns of ``proj`` (the left view's layout) and of ``proj2`` (the right view's) where it differs."""
    if not report:
        return html.P("No separability report in the cache; run the pipeline's report stage.",
                      className="placeholder")
    layouts = [proj, *([proj2] if isinstance(proj2, str) and proj2 != proj else [])]
    cols = columns(ds, layouts)
    counted, images = accuracy_rows(ds)  # an imported dataset has no test set: over the user's samples
    heads = [f"{'Accuracy' if ds.imported else 'Test accuracy'} (of {len(counted):,} {images})"
             if k == "test_accuracy" else h for k, h, _ in cols]

    def cell(key: str, v):
        if key in ("title", "pair"):
            return v or "n/a"
        if key == "test_accuracy":
            return v.percent
        return duration(v) if key == "train_seconds" else fmt(v)
    by_layout = {p: model_rows(ds, report, p) for p in layouts}
    rows = []
    for i, r in enumerate(by_layout[proj]):
        sides = [s for s, m in zip(("left", "right"), shown) if m == r["model"]]
        tags = [html.Span(f"{s} view", className=f"tag tag-{s}") for s in sides]
        tds = [html.Td([cell("title", r["title"]), *tags])]
        tds += [html.Td(cell(k, (by_layout[p][i] if p else r)[k]), className="num" if k != "pair" else "text")
                for k, _, p in cols[1:]]
        rows.append(html.Tr(tds, className=" ".join(["shown", *sides]) if sides else "",
                            **{"data-model": r["model"]}))
    where = " and ".join(f"{method_title(ds, p)}, {side} view" for p, side in zip(layouts, ("left", "right")))
    if len(layouts) == 1:
        where = method_title(ds, proj)
    return html.Div([
        html.Div(f"{ds.title}: every model, scored on the same samples (2-D columns: {where})",
                 className="small-head"),
        html.Table([html.Thead(html.Tr([html.Th(h, className="text" if k in ("title", "pair") else "num")
                                        for (k, _, _), h in zip(cols, heads)])), html.Tbody(rows)],
                   className="metrics models-table", id="models-table")])

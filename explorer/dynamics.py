"""The "Training dynamics" tab's data: the shared frame schedule, figures and words.

The tab's layout and callbacks are in :mod:`explorer.tabs.dynamics`; this module
holds what they draw.  One slider steps through the union of the datasets' snapshot
times; each dataset shows its latest frame taken at or before the step's time.  The scatter is drawn
once by the server for a frame and colouring; ``assets/dynamics.js`` then moves the
points between frames in the browser (positions from ``/api/dynamics/<name>.json``).
"""
from __future__ import annotations

import logging

import numpy as np

from core.errors import CacheError

from .accuracy import Accuracy, shown_accuracy
from .classes import class_colours
from .figures import CONF_BAR, CONF_NINES, CORRECT_COLOUR, FONT, WRONG_COLOUR, nines, typed
from .store import DatasetView, DynamicsView, ExplorerStore, ModelView

log = logging.getLogger(__name__)
MARKER_SIZE = 5.0


def shown(ds: DatasetView, model=None) -> ModelView | None:
    """The model whose training a dataset's panel shows: ``model`` if it has snapshots, else
    the default model if it has, else the first that has (:meth:`DatasetView.dynamics_model`)."""
    return ds.dynamics_model(model)


def steps(store: ExplorerStore, model=None) -> list[float]:
    """Snapshot times (in epochs) of every dataset's shown dynamics (:func:`shown`), merged and sorted.

    A dataset whose dynamics folder cannot be read is left out here (logged); the
    tab names the problem where that dataset's panel would be.
    """
    times: set[float] = set()
    for n in store.names:
        m = shown(store.get(n), model)
        try:
            dyn = m.dynamics if m is not None else None
        except CacheError as e:
            log.warning("training dynamics of %s left out: %s", n, e)
            continue
        if dyn is not None:
            times.update(round(float(e), 4) for e in dyn.epochs)
    return sorted(times)


def frame_at(dyn: DynamicsView, epoch: float) -> int:
    """The dataset's latest frame taken at or before ``epoch`` (its first if none was)."""
    i = int(np.searchsorted(np.round(dyn.epochs, 4), round(float(epoch), 4), side="right")) - 1
    return min(max(i, 0), dyn.n_frames - 1)


def mark_label(epoch: float) -> str:
    """Short slider mark: ``untrained``, ``5%`` (of the first epoch), ``epoch 2``."""
    e = float(epoch)
    if e <= 0:
        return "untrained"
    if e < 1:
        return f"{100 * e:.0f}%"
    return f"epoch {e:g}"


def epoch_label(epoch: float) -> str:
    """Long label: ``untrained``, ``5% of epoch 1``, ``epoch 2``, ``40% of epoch 3``."""
    e = float(epoch)
    if e <= 0:
        return "untrained"
    whole = int(np.floor(e + 1e-9))
    frac = e - whole
    if frac < 1e-6:
        return f"epoch {whole}"
    return f"{100 * frac:.0f}% of epoch {whole + 1}"


def pair_to_chart(ds: DatasetView) -> tuple[int, int]:
    """The class pair charted first in "Training dynamics", as ``(low, high)``.

    ``current.json``'s ``default_pair`` when it names two different classes; else the
    pair the default dynamics model confused most at its last snapshot, or ``(0, 1)``
    without snapshots.
    """
    k = len(ds.class_names)
    pair = ds.default_pair
    if pair is not None and pair[0] != pair[1] and all(0 <= c < k for c in pair):
        return (min(pair), max(pair))
    shown = ds.dynamics_model()
    if shown is None or k < 2:
        return (0, 1)
    dyn = shown.dynamics
    c = dyn.confusion(dyn.n_frames - 1)
    both = c + c.T
    np.fill_diagonal(both, -1)
    a, b = np.unravel_index(int(both.argmax()), both.shape)
    return (int(min(a, b)), int(max(a, b)))


def default_pair(ds: DatasetView) -> tuple[int, int]:
    """The class pair charted first: ``current.json``'s ``default_pair``, else the most confused one.

    See :func:`pair_to_chart`; a dynamics folder that cannot be read gives
    ``(0, 1)`` here (the tab reports the problem itself).
    """
    try:
        return pair_to_chart(ds)
    except CacheError as e:
        log.warning("default class pair of %s: %s", ds.name, e)
        return (0, 1)


def pair_options(ds: DatasetView) -> list[dict]:
    names = ds.class_names
    return [{"label": f"{names[a]} vs {names[b]}", "value": f"{a}-{b}"}
            for a in range(len(names)) for b in range(a + 1, len(names))]


def _colours(ds: DatasetView, dyn: DynamicsView, frame: int, colour: str):
    """Per-point marker colour and the legend entries ``[(name, colour)]`` at ``frame``."""
    names = ds.class_names
    colours = class_colours(len(names))
    if colour in ("true", "pred"):
        by = dyn.labels if colour == "true" else dyn.pred[frame]
        return ([colours[int(c)] for c in by], [(names[c], colours[c]) for c in range(len(names))])
    if colour == "correct":
        wrong = dyn.labels != dyn.pred[frame]
        return ([WRONG_COLOUR if w else CORRECT_COLOUR for w in wrong],
                [(f"Correct ({int((~wrong).sum()):,})", CORRECT_COLOUR), (f"Wrong ({int(wrong.sum()):,})",
                                                                          WRONG_COLOUR)])
    if colour == "confidence":
        return None, []
    raise ValueError(f"colour must be one of true, pred, correct, confidence (got {str(colour)[:40]!r})")


def scatter_figure(m: ModelView, frame: int, colour: str, step_frames: list[int], epochs: list[float]) -> dict:
    """The aligned layout of a model's snapshot images at ``frame``.

    Parameters
    ----------
    m : ModelView
        A model with dynamics.
    frame : int
        Frame of ``m.dynamics`` to draw.
    colour : str
        ``true``, ``pred`` (at that frame), ``correct`` (at that frame) or ``confidence``.
    step_frames : list of int
        The dataset's frame for each slider step (``assets/dynamics.js`` reads it).
    epochs : list of float
        The slider steps' times, for the title the script writes while animating.

    Returns
    -------
    dict
        Trace 0 holds every snapshot image (``customdata`` = its embed row, -1 if the
        shown set lacks it); the traces after it only draw the legend.
    """
    ds, dyn = m.ds, m.dynamics
    xy = dyn.frames[frame]
    if colour in ("issues", "faith"):
        colour = "true"  # scores of the trained model's final layout say nothing about a snapshot's frame
    point_colour, legend = _colours(ds, dyn, frame, colour)
    title = f"{ds.title} · {m.title}"
    marker: dict = {"size": MARKER_SIZE, "opacity": 0.85}
    if point_colour is None:
        marker.update(color=typed(nines(dyn.confidence[frame])), colorscale="Viridis", cmin=0.0,
                      cmax=float(CONF_NINES), reversescale=True, showscale=True,
                      colorbar={"title": {"text": "Confidence"}, "thickness": 12, "len": 0.6, **CONF_BAR})
    else:
        marker["color"] = point_colour
    traces = [{"type": "scattergl", "mode": "markers", "name": "points", "showlegend": False,
               "hoverinfo": "none", "x": typed(xy[:, 0]), "y": typed(xy[:, 1]),
               "customdata": typed(dyn.rows.astype(np.int32)), "marker": marker}]
    # legend-only traces: the one real trace changes colour per point as frames change
    for name, c in legend:
        traces.append({"type": "scatter", "mode": "markers", "name": name, "x": [None], "y": [None],
                       "marker": {"color": c, "size": 9}, "hoverinfo": "skip", "showlegend": True})
    lo, hi = dyn.frames.min(axis=(0, 1)), dyn.frames.max(axis=(0, 1))
    pad = 0.04 * (hi - lo)
    axis = {"showticklabels": False, "showgrid": False, "zeroline": False, "title": None}
    return {"data": traces, "layout": {
        "title": {"text": f"{title} · {epoch_label(dyn.epochs[frame])}", "x": 0.01, "xanchor": "left",
                  "font": {"size": 15}},
        "margin": {"l": 6, "r": 6, "t": 36, "b": 6}, "font": FONT,
        "plot_bgcolor": "#fafbfc", "paper_bgcolor": "white",
        # fixed ranges over all frames: points move, the axes do not
        "xaxis": {**axis, "range": [float(lo[0] - pad[0]), float(hi[0] + pad[0])], "autorange": False},
        "yaxis": {**axis, "range": [float(lo[1] - pad[1]), float(hi[1] + pad[1])], "autorange": False,
                  "scaleanchor": "x", "scaleratio": 1},
        "dragmode": "zoom", "hovermode": "closest", "showlegend": bool(legend),
        "legend": {"itemclick": False, "itemdoubleclick": False, "font": {"size": 11},
                   "bgcolor": "rgba(255,255,255,0.85)", "itemsizing": "constant"},
        "uirevision": f"dyn/{ds.name}/{dyn.version}",
        "meta": {"explorer": "dynamics", "dataset": ds.name, "model": m.name, "title": title, "version": ds.version,
                 "n": ds.n, "dyn_version": dyn.version, "colour": colour, "frame": frame,
                 "steps": step_frames, "step_epochs": epochs, "class_names": ds.class_names,
                 "sprite": ds.grid.meta()},
    }}


def pair_confusions(dyn: DynamicsView, a: int, b: int) -> list[int]:
    """Per frame: snapshot images of class ``a`` predicted ``b`` plus those of ``b`` predicted ``a``."""
    return [int(dyn.confusion(f)[a, b] + dyn.confusion(f)[b, a]) for f in range(dyn.n_frames)]


def chart_figure(m: ModelView, frame: int, pair: tuple[int, int], height: int = 210) -> dict:
    """Test accuracy (left axis) and the pair's confusions (right axis) over ``m``'s training, frame marked."""
    ds, dyn = m.ds, m.dynamics
    x = [float(e) for e in dyn.epochs]
    acc = [None if v is None else 100 * v for v in dyn.metric("test_accuracy")]
    words = [None if (a := frame_accuracy(m, f)) is None else a.words for f in range(dyn.n_frames)]
    a, b = pair
    conf = pair_confusions(dyn, a, b)
    names = ds.class_names
    pair_name = f"{names[a]}↔{names[b]}"
    top = max(4, max(conf))
    acc_colour, conf_colour = "#4e79a7", "#e15759"
    traces = [
        {"type": "scatter", "mode": "lines+markers", "x": x, "y": acc, "name": "test accuracy (%)",
         "line": {"color": acc_colour, "width": 2}, "marker": {"size": 5},
         "customdata": words, "hovertemplate": "epoch %{x:.2f}: %{customdata}<extra>test accuracy</extra>"},
        {"type": "scatter", "mode": "lines+markers", "x": x, "y": conf, "name": f"{pair_name} confusions",
         "yaxis": "y2", "line": {"color": conf_colour, "width": 2, "dash": "dot"}, "marker": {"size": 5},
         "hovertemplate": "epoch %{x:.2f}: %{y}<extra>" + pair_name + "</extra>"},
    ]
    ring = {"size": 13, "color": "rgba(0,0,0,0)", "line": {"color": "#111", "width": 2}}
    for y, axis in ((acc[frame], "y"), (conf[frame], "y2")):  # the current frame, on each axis
        traces.append({"type": "scatter", "mode": "markers", "x": [x[frame]], "y": [y], "yaxis": axis,
                       "showlegend": False, "hoverinfo": "skip", "marker": ring})
    return {"data": traces, "layout": {
        "height": height, "font": {**FONT, "size": 11}, "margin": {"l": 44, "r": 44, "t": 30, "b": 34},
        "showlegend": True, "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0,
                                       "font": {"size": 11}},
        "xaxis": {"title": {"text": "epoch", "standoff": 4}, "fixedrange": True, "zeroline": False,
                  "range": [-0.15, max(x) + 0.15]},
        "yaxis": {"title": {"text": "test acc. %", "font": {"color": acc_colour}}, "fixedrange": True,
                  "range": [0, 101], "tickfont": {"color": acc_colour}},
        # whole counts only: a small count must not get ticks at 2.21 and 4.42
        "yaxis2": {"title": {"text": "confusions", "font": {"color": conf_colour}},  # the legend names the pair
                   "overlaying": "y", "side": "right", "fixedrange": True, "showgrid": False,
                   "range": [0, top * 1.04], "tickmode": "linear", "tick0": 0, "dtick": max(1, -(-top // 4)),
                   "tickfont": {"color": conf_colour}},
        "shapes": [{"type": "line", "xref": "x", "yref": "paper", "x0": x[frame], "x1": x[frame],
                    "y0": 0, "y1": 1, "line": {"color": "#888", "width": 1, "dash": "dash"}}],
        "meta": {"explorer": "dynamics-chart", "dataset": ds.name, "frame": frame}}}


def fit_test_images(m: ModelView) -> int:
    """How many test images ``m``'s fit scored at each epoch's end: its ``metrics.json``'s confusion
    matrix (the whole test set, also where the explorer shows a subset), else the test images shown."""
    try:
        n = int(np.asarray(m.metrics.get("confusion"), dtype=np.int64).sum())
    except (CacheError, OSError, ValueError, TypeError, AttributeError):
        n = 0
    return n if n > 0 else shown_accuracy(m).n


def frame_accuracy(m: ModelView, frame: int) -> Accuracy | None:
    """The test accuracy recorded at ``frame``, with the images it counts: at an epoch's end the whole
    test set's (the fit's own, the figure Explore shows after the last epoch), before and inside the
    first epoch the tracked snapshot images' own (``training/callbacks.py``'s ``Snapshot``)."""
    dyn = m.dynamics
    value = dyn.rows_json[frame].get("test_accuracy")
    if value is None:
        return None
    epoch = float(dyn.epochs[frame])
    if epoch >= 1 and epoch.is_integer():
        return Accuracy.of(value, fit_test_images(m))
    return Accuracy.of(value, dyn.m, "tracked test images")


def stats_line(m: ModelView, frame: int, pair: tuple[int, int]) -> str:
    """``epoch 2 · test accuracy 98.30% of 10,000 test images · 4↔9 confusions: 12 · k-NN acc 0.987 ·
    silhouette 0.33``."""
    ds, dyn = m.ds, m.dynamics
    a, b = pair
    row = dyn.rows_json[frame]
    parts = [epoch_label(dyn.epochs[frame])]
    acc = frame_accuracy(m, frame)
    if acc is not None:
        parts.append(f"test accuracy {acc.words}")
    parts.append(f"{ds.class_names[a]}↔{ds.class_names[b]} confusions: {pair_confusions(dyn, a, b)[frame]}")
    if row.get("knn_accuracy") is not None:
        parts.append(f"k-NN acc {float(row['knn_accuracy']):.3f}")
    if row.get("silhouette") is not None:
        parts.append(f"silhouette {float(row['silhouette']):.2f}")
    return " · ".join(parts)


def points_payload(m: ModelView) -> dict:
    """What ``assets/dynamics.js`` needs to animate: every frame's positions, predictions, confidences."""
    ds, dyn = m.ds, m.dynamics
    return {"dataset": ds.name, "model": m.name, "version": dyn.version, "frames": dyn.n_frames, "m": dyn.m,
            "epochs": [float(e) for e in dyn.epochs], "class_names": ds.class_names,
            "xy": typed(dyn.frames.reshape(-1)),  # (frames, m, 2) flattened
            "labels": typed(dyn.labels), "pred": typed(dyn.pred.reshape(-1)),
            # in hundredths of a per cent, cut (not rounded): 99.996 % must not read as 100 %
            "conf": typed(np.floor(dyn.confidence.astype(np.float64) * 1e4).astype(np.uint16).reshape(-1)),
            "rows": typed(dyn.rows.astype(np.int32)),
            "ids": typed(np.where(dyn.rows >= 0, ds.sample_ids[np.clip(dyn.rows, 0, None)], -1).astype(np.int32)),
            "palette": class_colours(len(ds.class_names)),
            "correct_colour": CORRECT_COLOUR, "wrong_colour": WRONG_COLOUR}

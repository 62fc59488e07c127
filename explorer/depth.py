"""The network layer by layer (the Layers tab): a model's ``layers/<key>/`` folder read and checked, its
aligned frames drawn, any image placed on them, and the separability-by-depth chart of every dataset.

The pipeline (``embeddings/layers.py``) frames a fixed subset of images in each layer, from the pixels to
the logits, and records for every image its nearest framed images in each layer: an image outside the
subset (a point clicked in Explore, a selection) is drawn at their mean, so any image can be followed.
The server draws one frame; ``assets/depth.js`` moves the points between frames in the browser
(``layout.meta.frames`` holds every frame of the subset and of the followed images).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import CacheError

from .classes import FEW_CLASSES, class_colours, dataset_colours
from .encoding import typed

#: the measures the separability-by-depth chart offers: value -> (label, layers.json key)
MEASURES = {"knn": ("k-NN accuracy", "knn_accuracy"), "probe": ("Linear probe accuracy", "probe_accuracy"),
            "silhouette": ("Silhouette", "silhouette")}
FOLLOWED_MAX = 2000  # followed images drawn at most (a larger selection: its first, by row)
DASHES = ("solid", "dash", "dot")
log = logging.getLogger(__name__)
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12}


@dataclass(frozen=True)
class DepthView:
    """One model's layers: the framed rows, each layer's facts, frames per method and each row's anchors."""

    folder: Path
    rows: np.ndarray                 # int64 (m,) framed rows of the samples
    layers: list[dict]               # layers.json's per-layer entries, pixels first
    frames: dict[str, np.ndarray]    # method -> float32 (layers, m, 2)
    anchors: np.ndarray              # int32 (layers, n, k) into rows

    @classmethod
    def load(cls, folder: Path, artifacts, n: int) -> "DepthView":
        """Read and check a layers folder against a sample set of ``n`` rows."""
        facts = artifacts.read_json(folder / "layers.json")
        layers = facts.get("layers") if isinstance(facts, dict) else None
        if not isinstance(layers, list) or not layers or not all(isinstance(x, dict) and "title" in x for x in layers):
            raise CacheError(f"{folder / 'layers.json'} lists no layers; rerun the pipeline")
        rows = artifacts.load_array(folder / "rows.npy")
        frames = {m: artifacts.load_array(folder / f"{m}.npy") for m in facts.get("methods", [])
                  if (folder / f"{m}.npy").is_file()}
        anchors = artifacts.load_array(folder / "anchors.npy")
        bad = [f"{m}.npy is {f.shape}" for m, f in frames.items() if f.shape != (len(layers), len(rows), 2)]
        if anchors.shape[:2] != (len(layers), n) or (len(rows) and (rows.min() < 0 or rows.max() >= n)):
            bad.append(f"anchors.npy is {anchors.shape} for {len(layers)} layers and {n} rows")
        if anchors.size and (anchors.min() < 0 or anchors.max() >= len(rows)):
            bad.append("anchors.npy names images that are not framed")
        if bad or not frames:
            raise CacheError(f"{folder} does not match its samples ({'; '.join(bad) or 'no frames'}); "
                             "rebuild it with `python -m pipeline verify --repair`")
        return cls(Path(folder), rows, layers, frames, anchors)

    @property
    def methods(self) -> list[str]:
        return list(self.frames)

    def placed(self, method: str, rows: np.ndarray) -> np.ndarray:
        """float32 (layers, len(rows), 2): where ``rows`` sit on each frame (a framed row at its own point)."""
        f, rows = self.frames[method], np.asarray(rows, np.int64)
        near = self.anchors[:, rows]  # (layers, r, k)
        out = f[np.arange(len(f))[:, None, None], near].mean(2)
        own = np.searchsorted(self.rows, rows).clip(0, max(len(self.rows) - 1, 0))
        framed = self.rows[own] == rows
        out[:, framed] = f[:, own[framed]]
        return out.astype(np.float32)


def shown(m):
    """Model view ``m`` if it has layers, else the first model of its dataset that has (the pixels have none);
    ``None`` where no model has."""
    order = [m, m.ds.pick(None), *m.ds.models.values()]
    return next((x for x in order if x.layers_dir is not None), None)


def curves(store, model, names=None) -> list[tuple[str, str, list[dict]]]:
    """Per dataset of explorer store ``store`` (of ``names``, default all) with layers, ``(title, colour, layers)``
    of ``model`` (or the first of its models with layers)."""
    out, colours = [], dataset_colours(store)
    for name in [n for n in store.names if names is None or n in names]:
        ds = store.get(name)
        m = shown(ds.pick(model))
        try:
            depth = m.depth if m is not None else None
        except CacheError as e:  # the other datasets' curves still show
            log.warning("layers of %s cannot be shown: %s", name, e)
            continue
        if depth is not None:
            title = ds.title if m.name == ds.pick(model).name else f"{ds.title} ({m.title})"
            out.append((title, colours[name], depth.layers))
    return out


def frame_figure(m, depth: DepthView, method: str, step: int, followed: np.ndarray,
                 clicked: int | None, title: str) -> dict:
    """Model view ``m``'s Layers scatter at layer ``step``: the framed images by class, the followed ones ringed black and the
    clicked one red; ``layout.meta.frames`` carries every frame for ``assets/depth.js``."""
    ds = m.ds
    k = len(ds.class_names)
    colours = class_colours(k)
    f = depth.frames[method]
    labels = ds.labels[depth.rows].astype(np.int64)
    follow = np.asarray(followed[:FOLLOWED_MAX], np.int64)
    marks = np.concatenate([follow, [clicked] if clicked is not None else []]).astype(np.int64)
    at = depth.placed(method, marks) if len(marks) else np.zeros((len(f), 0, 2), np.float32)
    base = {"type": "scattergl", "mode": "markers", "hoverinfo": "none"}
    traces = [{**base, "name": "images", "showlegend": False, "x": typed(f[step, :, 0]), "y": typed(f[step, :, 1]),
               "customdata": typed(depth.rows.astype(np.int32)),
               "marker": {"size": 5, "opacity": 0.75, "color": [colours[c] for c in labels]}}]
    traces += [{**base, "name": str(name), "x": [None], "y": [None], "marker": {"color": colours[c], "size": 8}}
               for c, name in enumerate(ds.class_names)]
    n_follow = len(follow)
    traces.append({**base, "name": "highlight", "showlegend": False, "x": typed(at[step, :n_follow, 0]),
                   "y": typed(at[step, :n_follow, 1]), "customdata": typed(follow.astype(np.int32)),
                   "marker": {"size": 9, "color": "rgba(0,0,0,0)", "line": {"width": 1.5, "color": "#222"}}})
    traces.append({**base, "name": "highlight", "showlegend": False, "x": typed(at[step, n_follow:, 0]),
                   "y": typed(at[step, n_follow:, 1]), "customdata": typed(marks[n_follow:].astype(np.int32)),
                   "marker": {"size": 16, "color": "rgba(0,0,0,0)", "line": {"width": 3, "color": "#d62728"}}})
    lo, hi = f.reshape(-1, 2).min(0), f.reshape(-1, 2).max(0)
    pad = (hi - lo) * 0.04
    axis = {"showticklabels": False, "showgrid": False, "zeroline": False, "title": None}
    return {"data": traces, "layout": {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 15}},
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "font": FONT, "plot_bgcolor": "#fbfbfb",
        "paper_bgcolor": "white", "hovermode": "closest", "dragmode": "pan",
        "xaxis": {**axis, "range": [float(lo[0] - pad[0]), float(hi[0] + pad[0])]},
        "yaxis": {**axis, "range": [float(lo[1] - pad[1]), float(hi[1] + pad[1])], "scaleanchor": "x"},
        "legend": {"itemsizing": "constant", "font": {"size": 11}},
        "uirevision": f"{ds.name}/{m.name}/{method}",
        "meta": {"explorer": "depth", "dataset": ds.name, "model": m.name, "version": ds.version, "n": ds.n,
                 "sprite": ds.grid.meta(), "step": step, "layers": len(f), "m": len(depth.rows),
                 "titles": [x["title"] for x in depth.layers], "title": title.rsplit(" · ", 1)[0],
                 "frames": typed(f.astype(np.float32)), "followed": typed(at.astype(np.float32)),
                 "n_followed": n_follow, "many_classes": k > FEW_CLASSES}}}


def layer_words(depth: DepthView, step: int, method: str) -> str:
    """One line on layer ``step``: what it is and how separable the classes are there."""
    x = depth.layers[step]
    trust = x.get(f"trustworthiness_{method}")
    words = (f"Layer {step} of {len(depth.layers) - 1}: {x['title']} ({x.get('how', '')}). "
             f"k-NN accuracy {x['knn_accuracy']:.3f} · linear probe {x['probe_accuracy']:.3f} · "
             f"silhouette {x['silhouette']:.2f}")
    return words + (f" · this layout keeps its neighbourhoods {trust:.2f} (trustworthiness)" if trust else "")


def depth_chart(curves: list[tuple[str, str, list[dict]]], measures: tuple[str, ...] = ("knn",),
                mark: int | None = None, height: int = 300) -> dict:
    """Separability by depth: per ``(dataset title, colour, layers)`` one line per measure (solid, then dashed),
    x the layers (by their titles when the datasets' agree, else their numbers), ``mark`` the shown layer."""
    titles = [[x["title"] for x in layers] for _, _, layers in curves]
    same = all(t == titles[0] for t in titles) if titles else True
    data = []
    for (name, colour, layers), t in zip(curves, titles):
        for measure, dash in zip(measures, DASHES):
            label, key = MEASURES[measure]
            shown = name if len(measures) == 1 else f"{name} · {label}"
            data.append({"type": "scatter", "mode": "lines+markers", "name": shown,
                         "line": {"color": colour, "width": 2.5, "dash": dash},
                         "x": t if same else list(range(len(layers))), "y": [x[key] for x in layers],
                         "hovertemplate": "%{x}: %{y:.3f}<extra>" + shown + "</extra>"})
    shapes = []
    if mark is not None and curves:
        xs = titles[0] if same else list(range(len(curves[0][2])))
        if 0 <= mark < len(xs):
            shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": xs[mark], "x1": xs[mark],
                           "y0": 0, "y1": 1, "line": {"color": "#999", "dash": "dot", "width": 1}})
    labels = [MEASURES[m][0] for m in measures]
    what = " and ".join(x[0].lower() + x[1:] if x[1].islower() else x for x in labels)  # "k-NN", "linear probe"
    return {"data": data, "layout": {
        "title": {"text": f"Separability by depth: {what}",
                  "font": {"size": 14}, "x": 0.01, "xanchor": "left"},
        "height": height, "margin": {"l": 50, "r": 10, "t": 40, "b": 60}, "font": FONT,
        "yaxis": {"title": labels[0] if len(labels) == 1 else None, "gridcolor": "#eee", "zeroline": False},
        "xaxis": {"title": None if same else "layer", "type": "category" if same else "linear"},
        "legend": {"orientation": "h", "y": -0.25}, "shapes": shapes, "plot_bgcolor": "white"}}

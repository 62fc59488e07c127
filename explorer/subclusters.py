"""What a model found inside a class (issue 24): each class's sub-clusters in the model's embedding,
found by HDBSCAN (scikit-learn's), with their size, the model's accuracy on them, what they are most
often taken for and a few exemplar images; drawn as labels on the scatter (Explore's "Sub-clusters"
layer), each of which selects its images when clicked.

Per class: the embedding's rows of that class (``space.npy``; the pixels scaled to [0, 1] for the pixel
k-NN, which has no embedding of its own), reduced by PCA to :data:`DIMS` dimensions (HDBSCAN's
densities mean little in 128), clustered with ``min_cluster_size`` :data:`MIN_SHARE` of the class (at
least :data:`MIN_SIZE`).  Above :data:`FIT_MAX` images a class is clustered on a seeded sample and
every other image joins the cluster of its nearest sampled one, so that 70,000 images take seconds.
Images HDBSCAN calls noise belong to no sub-cluster.  A class with fewer than two sub-clusters has no
structure to show and gets no label.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .classes import class_colours
from .encoding import to_plot, view_grid
from .panels import pct
from .store import ModelView

log = logging.getLogger(__name__)

DIMS = 10  # PCA dimensions HDBSCAN clusters in
MIN_SHARE, MIN_SIZE = 0.04, 15  # a sub-cluster's least size: 4 % of its class, at least 15 images
MIN_SAMPLES = 5  # HDBSCAN's density estimate: its 5th nearest neighbour
FIT_MAX = 2_000  # images of a class clustered at most; the others join their nearest one's cluster
EXEMPLARS = 4
SEED = 0
NAME = "subcluster"  # the annotations' name prefix: ``subcluster-<class>-<k>``


@dataclass(frozen=True)
class SubCluster:
    """One sub-cluster: the ``k``-th largest of class ``cls`` (from 1)."""

    cls: int
    k: int
    rows: np.ndarray
    accuracy: float  # the share the model gets right
    taken_for: tuple[int, int] | None  # the class it is most often wrongly predicted as, and how often
    exemplars: np.ndarray  # rows nearest its centre in the reduced embedding

    @property
    def name(self) -> str:
        return f"{NAME}-{self.cls}-{self.k}"


def embedding(m: ModelView) -> np.ndarray:
    """The model's embedding of every row: ``space.npy``, or the pixels in [0, 1] where it has none."""
    if (Path(m.embed_dir) / "space.npy").is_file():
        return m._array("space.npy", mmap=True)  # checked to have a row per image, as the model's other arrays
    return m.ds.images.reshape(m.ds.n, -1)  # scaled by the caller, in float32 per class


def cluster_class(X: np.ndarray, seed: int = SEED) -> np.ndarray:
    """HDBSCAN labels (-1: noise) of one class's embedding ``X`` (n, d), as described above."""
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    n = len(X)
    if n < 2 * MIN_SIZE:
        return np.full(n, -1)
    fit = np.sort(np.random.default_rng(seed).choice(n, FIT_MAX, replace=False)) if n > FIT_MAX else np.arange(n)
    dims = min(DIMS, X.shape[1], len(fit) - 1)
    pca = PCA(dims, random_state=seed).fit(X[fit])
    Z = pca.transform(X).astype(np.float32)
    size = max(MIN_SIZE, int(round(MIN_SHARE * len(fit))))
    fitted = HDBSCAN(min_cluster_size=size, min_samples=MIN_SAMPLES, copy=True).fit_predict(Z[fit])
    if len(fit) == n:
        return fitted
    out = np.empty(n, np.int64)
    out[fit] = fitted
    rest = np.setdiff1d(np.arange(n), fit)
    nearest = NearestNeighbors(n_neighbors=1).fit(Z[fit]).kneighbors(Z[rest], return_distance=False)[:, 0]
    out[rest] = fitted[nearest]
    return out


def find_subclusters(m: ModelView) -> list[SubCluster]:
    """Every class's sub-clusters (classes with at least two), largest first within a class."""
    t0 = time.perf_counter()
    X_all, labels, pred = embedding(m), m.ds.labels, m.pred
    scale = 1.0 / 255.0 if X_all.dtype == np.uint8 else 1.0
    out = []
    for c in range(len(m.ds.class_names)):
        rows = np.flatnonzero(labels == c)
        if not len(rows):
            continue
        X = np.asarray(X_all[rows], dtype=np.float32) * scale
        found = cluster_class(X)
        ids, sizes = np.unique(found[found >= 0], return_counts=True)
        if len(ids) < 2:
            continue
        for k, i in enumerate(ids[np.argsort(-sizes, kind="stable")], 1):
            mine = rows[found == i]
            wrong = pred[mine][pred[mine] != c]
            counts = np.bincount(wrong, minlength=len(m.ds.class_names)) if len(wrong) else None
            taken = (int(counts.argmax()), int(counts.max())) if counts is not None else None
            centre = X[found == i].mean(0)
            near = np.argsort(((X[found == i] - centre) ** 2).sum(1), kind="stable")[:EXEMPLARS]
            out.append(SubCluster(cls=c, k=k, rows=mine, accuracy=float((pred[mine] == c).mean()), taken_for=taken,
                                  exemplars=mine[near]))
    log.info("%s · %s: %d sub-clusters in %.1f s", m.ds.title, m.title, len(out), time.perf_counter() - t0)
    return out


def subclusters(m: ModelView) -> list[SubCluster]:
    """:func:`find_subclusters` of ``m``, once per model."""
    return m.cached("subclusters", lambda: find_subclusters(m))


def words(m: ModelView, s: SubCluster, count: bool = True) -> str:
    """A sub-cluster in a line: ``7, sub-cluster 2: 412 images, 98% right; taken for 1 in 6`` (without
    ``count``: ``7, sub-cluster 2 (98% right; taken for 1 in 6)``, for a title that gives the count)."""
    names = m.ds.class_names
    taken = f"; taken for {names[s.taken_for[0]]} in {s.taken_for[1]:,}" if s.taken_for else ""
    if not count:
        return f"{names[s.cls]}, sub-cluster {s.k} ({pct(s.accuracy)} right{taken})"
    return f"{names[s.cls]}, sub-cluster {s.k}: {len(s.rows):,} images, {pct(s.accuracy)} right{taken}"


def labels(m: ModelView, projection: str) -> list[dict]:
    """Layout annotations: a small label ``<class>·<k>`` at each sub-cluster's median in the layout (in
    the scatter's plot units), framed in its class's colour, its words on hover; a click selects it."""
    found = subclusters(m)
    if not found:
        return []
    coords = m.coords(projection)
    centres = np.array([np.median(coords[s.rows], axis=0) for s in found])
    at = to_plot([tuple(c) for c in centres], view_grid(m, projection)).reshape(-1, 2)
    colours = class_colours(len(m.ds.class_names))
    names = m.ds.class_names
    return [{"x": float(x), "y": float(y), "xref": "x", "yref": "y", "text": f"{names[s.cls]}·{s.k}",
             "showarrow": False, "name": s.name, "font": {"size": 10, "color": "#111"},
             "bgcolor": "rgba(255,255,255,0.8)", "bordercolor": colours[s.cls], "borderwidth": 1.5, "borderpad": 1,
             "hovertext": words(m, s), "captureevents": True}
            for s, (x, y) in zip(found, at)]


def subcluster_of(m: ModelView, name) -> SubCluster | None:
    """The sub-cluster an annotation ``name`` names, or ``None``."""
    if not isinstance(name, str) or not name.startswith(NAME + "-"):
        return None
    return next((s for s in subclusters(m) if s.name == name), None)

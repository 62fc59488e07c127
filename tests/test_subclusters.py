"""Sub-clusters within a class (issue 24, explorer/subclusters.py): HDBSCAN in the model's embedding finds
the blobs a class is made of, joins the images left out of a large class's sample to their blob, and finds
no structure in one blob; the labels sit at each sub-cluster's median in the layout and name its rows."""
from __future__ import annotations

import numpy as np
import pytest

from explorer.encoding import to_plot, view_grid
from explorer.subclusters import FIT_MAX, SubCluster, cluster_class, labels, subcluster_of, words


def blobs(sizes, seed: int = 0, dims: int = 16, apart: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs of ``sizes`` in ``dims`` dimensions, ``apart`` standard deviations from each other."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (len(sizes), dims))
    if len(sizes) > 1:
        centres *= apart / np.linalg.norm(centres[0] - centres[-1])
    which = np.repeat(np.arange(len(sizes)), sizes)
    return (centres[which] + rng.normal(0, 1, (len(which), dims))).astype(np.float32), which


def same_partition(found: np.ndarray, truth: np.ndarray, noise_at_most: float = 0.05) -> bool:
    """Whether ``found`` (-1: noise) splits the points as ``truth`` does, noise aside."""
    kept = found >= 0
    if kept.mean() < 1 - noise_at_most:
        return False
    pairs = {(int(f), int(t)) for f, t in zip(found[kept], truth[kept])}
    return len(pairs) == len({f for f, _ in pairs}) == len({t for _, t in pairs}) == len(set(truth))


@pytest.mark.parametrize("sizes", [(400, 200), (300, 150, 90)])
def test_a_class_made_of_blobs_splits_into_them(sizes):
    X, truth = blobs(sizes)
    assert same_partition(cluster_class(X), truth)


def test_a_large_class_is_clustered_on_a_sample_and_the_rest_join_their_blob():
    X, truth = blobs((2400, 1200, 600), seed=1)
    assert len(X) > FIT_MAX
    found = cluster_class(X)
    assert same_partition(found, truth)
    assert np.array_equal(cluster_class(X), found)  # seeded: the same every time


def test_one_blob_has_no_sub_clusters():
    X, _ = blobs((600,), seed=2)
    found = cluster_class(X)
    assert len(np.unique(found[found >= 0])) <= 1


def test_labels_sit_at_each_sub_clusters_median_and_name_its_rows(explorer_app):
    m = explorer_app.explorer_store.get("fashion-mnist").model("mlp")
    six = np.flatnonzero(m.ds.labels == 6)
    made = [SubCluster(cls=6, k=1, rows=six[: len(six) // 2], accuracy=0.5, taken_for=(0, 3), exemplars=six[:2]),
            SubCluster(cls=6, k=2, rows=six[len(six) // 2:], accuracy=1.0, taken_for=None, exemplars=six[-2:])]
    made = m.cached("subclusters", lambda: made)  # this model's sub-clusters, as if found (the browser test
    assert [s.name for s in made] == ["subcluster-6-1", "subcluster-6-2"]  # in the same session makes the same)
    drawn = labels(m, "umap")
    assert [a["name"] for a in drawn] == ["subcluster-6-1", "subcluster-6-2"]
    xy = m.coords("umap")
    for a, s in zip(drawn, made):
        at = to_plot(np.median(xy[s.rows], axis=0), view_grid(m, "umap"))
        assert (a["x"], a["y"]) == pytest.approx(tuple(at))
        assert a["captureevents"] and a["hovertext"] == words(m, s)
        assert subcluster_of(m, a["name"]) is s
    assert words(m, made[0]) == f"Shirt, sub-cluster 1: {len(made[0].rows)} images, 50% right; taken for T-shirt/top in 3"
    assert subcluster_of(m, "subcluster-6-9") is None and subcluster_of(m, "class-label") is None
    assert subcluster_of(m, None) is None

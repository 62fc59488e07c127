"""Atypicality (issue 25 §2, explorer/atypical.py): each image's mean distance to its 10 nearest neighbours in
the model's embedding, as a percentile within its class; a colouring, and the Image map's most atypical."""
from __future__ import annotations

import numpy as np
import pytest

from explorer import figures as F
from explorer.atypical import K, atypicality, most_atypical, raw_distance
from explorer_helpers import decode_typed
from explorer.tabs.imagemap import SHOW_ATYPICAL, subset


@pytest.fixture(scope="module")
def model(explorer_app):
    return explorer_app.explorer_store.get("fashion-mnist").model("cnn")


def test_the_score_is_the_neighbour_distance_as_a_percentile_within_the_class(model):
    dist = model.ds.artifacts.load_array(model.embed_dir / "knn-distances.npy")
    raw = dist[:, :K].astype(np.float64).mean(1)
    assert np.allclose(raw_distance(model), raw, rtol=1e-6)
    a, labels = atypicality(model), model.ds.labels
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        assert a[rows].max() == 1.0 and a[rows[np.argmax(raw[rows])]] == 1.0  # its class's outlier tops it
        order = rows[np.argsort(raw[rows], kind="stable")]
        assert np.all(np.diff(a[order]) >= 0)  # farther from its neighbours: never less atypical
        assert a[order[0]] == pytest.approx(1 / len(rows))


def test_the_most_atypical_are_the_farthest_of_each_class(model):
    raw, labels = raw_distance(model), model.ds.labels
    rows = most_atypical(model, most=3)
    for c in np.unique(labels):
        mine = rows[labels[rows] == c]
        assert len(mine) == 3
        assert raw[mine].min() >= np.sort(raw[labels == c])[-3]


def test_it_colours_a_scatter_and_chooses_the_image_maps_images(model, explorer_app):
    fig = F.scatter_figure(model, "umap", "atypical")
    trace = fig["data"][0]
    rows = decode_typed(trace["customdata"])
    assert np.array_equal(decode_typed(trace["marker"]["color"]), atypicality(model)[rows])
    assert trace["marker"]["colorbar"]["title"]["text"].startswith("Atypicality")
    # the outliers are drawn last, on top
    assert atypicality(model)[rows[-1]] == 1.0
    store = explorer_app.explorer_store
    m, chosen, words = subset(store, "fashion-mnist", "cnn", SHOW_ATYPICAL, "6", None, None, None)
    assert np.array_equal(chosen, most_atypical(m)[m.ds.labels[most_atypical(m)] == 6])
    assert words.startswith("the 100 most atypical images of class Shirt")

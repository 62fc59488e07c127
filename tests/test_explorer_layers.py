"""The scatter's optional layers (class names at their clusters' medians, a density map) and the
highlight's marker, thinner the more points it holds."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from explorer import figures as F
from explorer.encoding import to_plot, view_grid
from explorer.layers import class_labels, density_grid, density_image, layers
from explorer_helpers import store  # noqa: F401 - the fixture


def test_labels_sit_at_each_class_median_and_name_it(store):
    m = store.get("fashion-mnist").model("cnn")
    xy = to_plot(m.coords("umap"), view_grid(m, "umap"))  # the scatter's plot units
    labels = class_labels(m, "umap", "true")
    assert [a["text"] for a in labels] == m.ds.class_names  # every class present, in order
    for c, a in enumerate(labels):
        assert (a["x"], a["y"]) == pytest.approx(tuple(np.median(xy[m.ds.labels == c], axis=0)))
    # coloured by prediction, the labels name the predicted classes' clusters
    pred = class_labels(m, "umap", "pred")
    c = int(m.pred[0])
    got = next(a for a in pred if a["text"] == m.ds.class_names[c])
    assert (got["x"], got["y"]) == pytest.approx(tuple(np.median(xy[m.pred == c], axis=0)))


def test_the_density_counts_every_point_and_covers_the_layout(store):
    m = store.get("mnist").model("cnn")
    grid, (x0, x1, y0, y1) = density_grid(m, "tsne", "true")
    assert grid.shape[0] == len(m.ds.class_names)
    assert grid.sum() == pytest.approx(m.ds.n, rel=0.02)  # the blur moves mass, it neither adds nor loses it
    xy = m.coords("tsne")
    assert x0 < xy[:, 0].min() and xy[:, 0].max() < x1 and y0 < xy[:, 1].min() and xy[:, 1].max() < y1
    img = density_image(m, "tsne", "true")
    png = Image.open(io.BytesIO(base64.b64decode(img["source"].split(",", 1)[1])))
    assert png.mode == "RGBA" and png.size == (grid.shape[2], grid.shape[1])
    alpha = np.asarray(png)[..., 3]
    assert alpha.max() > 0 and (alpha == 0).any()  # transparent where there are no points
    (px0, py0), (px1, py1) = to_plot([(x0, y0), (x1, y1)], view_grid(m, "tsne"))  # placed in plot units
    assert img["layer"] == "below" and (img["x"], img["y"]) == pytest.approx((px0, py1))
    assert (img["sizex"], img["sizey"]) == pytest.approx((px1 - px0, py1 - py0))


def test_the_layers_go_into_the_layout_and_leave_the_traces_alone(store):
    m = store.get("mnist").model("cnn")
    plain = F.scatter_figure(m, "umap", "true")
    fig = F.scatter_figure(m, "umap", "true", layers=["labels", "density"])
    assert len(fig["data"]) == len(plain["data"])  # traces map events back to rows: none added
    assert len(fig["layout"]["annotations"]) == len(m.ds.class_names) and len(fig["layout"]["images"]) == 1
    assert layers(m, "umap", "true", None) == {"annotations": [], "images": []}


def test_the_highlight_thins_as_it_grows():
    sizes, widths = zip(*(F.highlight_marker(k, 70_000) for k in (10, 300, 2000, 7000, 30_000)))
    assert list(sizes) == sorted(sizes, reverse=True) and list(widths) == sorted(widths, reverse=True)
    assert F.highlight_marker(7000, 70_000)[1] < 0.5 and F.highlight_marker(30_000, 70_000)[1] == 0
    assert F.highlight_marker(10, 300) == (F.marker_size(300) + 3, 1.0)  # a few points: as before

"""The image map (issue 24): a layout snapped to a grid (explorer/grid.py) and drawn as one PNG of the
images put there (explorer/imagemap.py), served at /imagemap/<key>.png and exported as one HTML file."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from explorer.grid import Grid, grid_shape, kept_neighbours, snap
from explorer.imagemap import EMPTY, compose, image_map, kept_map, map_figure, map_html


def clustered(n: int, seed: int = 0) -> np.ndarray:
    """A t-SNE-like layout: ten tight clusters."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(10, 2)) * 10
    return centres[rng.integers(0, 10, n)] + rng.normal(size=(n, 2))


@pytest.mark.parametrize("n,shape", [(1, (1, 1)), (4, (2, 2)), (5, (2, 3)), (1000, (32, 32)), (2500, (50, 50)),
                                     (10_000, (100, 100)), (10_001, (100, 101))])
def test_the_grid_is_near_square_and_holds_every_point(n, shape):
    rows, cols = grid_shape(n)
    assert (rows, cols) == shape
    assert rows * cols >= n and (rows - 1) * cols < n  # no empty row


@pytest.mark.parametrize("n,block", [(7, 256), (200, 256), (2000, 256), (2000, 64)])
def test_every_point_gets_its_own_cell_among_the_first_n(n, block):
    g = snap(clustered(n), block=block)
    assert sorted(g.cell.tolist()) == list(range(n))  # a bijection; the empty cells end the bottom row


def test_a_layout_that_is_a_grid_snaps_to_itself_exactly_and_by_blocks():
    rows, cols = 30, 30
    r, c = np.divmod(np.arange(rows * cols), cols)
    xy = np.stack([c * 2.0, (rows - 1 - r) * 2.0], axis=1)  # row 0 is the highest y
    perm = np.random.default_rng(1).permutation(len(xy))
    for block in (4096, 256, 64):  # exact, then blocks of 256 and 64 cells
        g = snap(xy[perm], block=block)
        assert np.array_equal(g.cell, perm), block
        assert kept_neighbours(xy[perm], g) == 1.0


def test_the_grid_keeps_neighbourhoods_a_random_placement_loses():
    xy = clustered(1500)
    exact, blocked = snap(xy, block=4096), snap(xy)
    random = Grid(exact.rows, exact.cols, np.random.default_rng(0).permutation(len(xy)))
    k_exact, k_blocked, k_random = (kept_neighbours(xy, g) for g in (exact, blocked, random))
    assert k_random < 0.02
    assert k_exact > 0.5 and k_blocked > 0.5
    assert k_blocked > k_exact - 0.05  # blocks cost little of what one exact assignment keeps


@pytest.mark.parametrize("xy,words", [(np.zeros((3, 3)), "(n, 2)"), (np.zeros((0, 2)), "(n, 2)"),
                                      (np.array([[0.0, np.nan]]), "finite")])
def test_a_bad_layout_is_refused(xy, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        snap(xy)


@pytest.mark.parametrize("channels", [(), (3,)])
def test_compose_puts_each_image_in_its_cell_and_greys_the_empty_ones(channels):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (9, 4, 3, *channels), dtype=np.uint8)
    rows = np.array([8, 1, 5, 0, 3])
    g = Grid(2, 3, np.array([4, 0, 2, 1, 3]))  # cell 5 (bottom right) is empty
    out = compose(images, rows, g)
    assert out.shape == (8, 9, *channels)
    for i, row in enumerate(rows):
        r, c = divmod(int(g.cell[i]), 3)
        assert np.array_equal(out[r * 4:(r + 1) * 4, c * 3:(c + 1) * 3], images[row])
    assert (out[4:8, 6:9] == EMPTY).all()


def test_a_map_of_a_view_is_its_images_at_their_pixel_size_served_and_exported(explorer_app, explorer_url):
    import urllib.request

    m = explorer_app.explorer_store.get("mnist").model("cnn")
    rows = np.flatnonzero(m.ds.labels == 3)
    imap = image_map(m, "umap", rows, "class 3")
    assert np.array_equal(imap.rows, rows) and imap.of == len(rows)
    assert image_map(m, "umap", rows[::-1], "class 3") is imap  # the same rows: the map kept
    png = np.asarray(Image.open(io.BytesIO(imap.png)))
    h, w = m.ds.images.shape[1:3]
    assert png.shape == (imap.grid.rows * h, imap.grid.cols * w)
    r, c = imap.grid.row_col
    for i, row in enumerate(imap.rows):
        assert np.array_equal(png[r[i] * h:(r[i] + 1) * h, c[i] * w:(c[i] + 1) * w], m.ds.images[row])
    # served by its key; another key is a 404 that says what to do
    assert kept_map(imap.key) is imap
    with urllib.request.urlopen(f"{explorer_url}/imagemap/{imap.key}.png") as resp:
        assert resp.read() == imap.png and resp.headers["Content-Type"] == "image/png"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{explorer_url}/imagemap/{'0' * 24}.png")
    assert err.value.code == 404 and b"open the tab again" in err.value.read()
    # the figure: one hover point a cell, at its centre, carrying the row; the model's mistakes framed
    fig = map_figure(m, imap, "x.png")
    cells = fig["data"][0]
    assert cells["customdata"] == rows.tolist()
    assert cells["x"][0] == c[0] * w + w / 2 and cells["y"][0] == r[0] * h + h / 2
    wrong = int((m.pred[rows] != 3).sum())
    assert len(fig["data"][1]["x"]) == 6 * wrong
    # the HTML file: the PNG and the figure inline
    page = map_html(m, imap)
    assert '<html lang="en">' in page and "data:image/png;base64," in page and "src=\"http" not in page


def test_a_large_set_is_mapped_from_a_seeded_sample():
    from explorer.imagemap import kept_rows

    rows = np.arange(25_000)
    a, b = kept_rows(rows, most=10_000), kept_rows(rows, most=10_000)
    assert len(a) == 10_000 and np.array_equal(a, b) and len(np.unique(a)) == 10_000

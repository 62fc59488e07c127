"""The selection as rows: its URL encoding (a zlib-packed bitset), its refusals, the fallback past the
URL's limit, and the zoom's ranges; selections within a confusion cell."""
from __future__ import annotations

import base64
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from explorer.selection import url_rows, with_rows, within, zoom_of
from explorer.state import MAX_SEL, ViewState, decode_rows, encode_rows, parse_query, parse_zoom, to_query


@pytest.mark.parametrize("n,k", [(300, 1), (300, 40), (300, 300), (70_000, 300), (70_000, 7_000)])
def test_rows_round_trip_through_the_url(rng, n, k):
    rows = np.sort(rng.choice(n, k, replace=False))
    text = encode_rows(rows, n)
    assert len(text) <= MAX_SEL  # a 7,000-point lasso of 70,000 fits (about 6,600 characters)
    assert np.array_equal(decode_rows(text, n), rows)
    s = ViewState(ds="mnist", sel=text, point=int(rows[0]), zoom=(-1.5, 2.25, 0.0, 3e-3))
    assert parse_query(to_query(s), ["mnist"]) == s


def bomb(n_bytes: int) -> str:
    return "z" + base64.urlsafe_b64encode(zlib.compress(b"\xff" * n_bytes)).decode().rstrip("=")


@pytest.mark.parametrize("text", ["", "x123", "z", "z!!!", "zAAAA", "z" + "A" * MAX_SEL, bomb(10_000_000),
                                  bomb(37), bomb(39)])
def test_a_hand_edited_selection_is_none(text):
    assert decode_rows(text, 300) is None  # 300 rows are 38 bytes: 37 or 39 are another dataset's


def test_bits_past_the_dataset_are_refused():
    assert decode_rows(encode_rows([299], 300), 298) is None
    assert decode_rows(encode_rows([], 300), 300) is None  # nothing selected: no selection


@pytest.mark.parametrize("text,expected", [("0,1,2,3", (0, 1, 2, 3)), ("1,0,2,3", None), ("0,1,nan,3", None),
                                           ("0,1,2", None), ("0,1,2,inf", None), ("a,b,c,d", None),
                                           ("1e400,2,3,4", None), ("-1e3,1e3,-5,5.5", (-1e3, 1e3, -5, 5.5))])
def test_zoom_ranges(text, expected):
    assert parse_zoom(text) == expected


def model(n: int):
    return SimpleNamespace(name="cnn", ds=SimpleNamespace(name="big", n=n))


def test_a_selection_too_large_for_the_url_is_left_out_and_said_so(rng):
    m = model(200_000)
    rows = np.sort(rng.choice(200_000, 100_000, replace=False))  # a random half: incompressible
    s, note = with_rows(ViewState(ds="big", proj="umap"), m, {"ds": "big", "row": 5},
                        {"ds": "big", "rows": rows.tolist()}, {"view": "big/cnn/umap", "x": [0, 1], "y": [2, 3]})
    assert s.sel == "" and s.point == 5 and s.zoom == (0, 1, 2, 3)
    assert "too large for the page's URL" in note and "100,000 points" in note
    small, note = with_rows(ViewState(ds="big", proj="umap"), m, None, {"ds": "big", "rows": [1, 2]}, None)
    assert note == "" and np.array_equal(decode_rows(small.sel, 200_000), [1, 2])


def test_the_url_sets_the_stores_of_its_dataset_only():
    m = model(300)
    s = ViewState(ds="big", proj="tsne", point=400, sel=encode_rows([3, 4], 300), zoom=(0, 1, 0, 1))
    got = url_rows(s, m)
    assert got["point"] is None  # past the dataset's last row
    assert got["sel"] == {"ds": "big", "rows": [3, 4]}
    assert got["zoom"] == {"view": "big/cnn/tsne", "x": [0, 1], "y": [0, 1]}
    assert zoom_of(got["zoom"], "big/cnn/umap") is None  # another layout's ranges mean nothing here
    assert zoom_of({"view": "v", "x": ["a", 1], "y": [0, 1]}, "v") is None


def test_within():
    a, b = np.array([1, 3, 5, 7]), np.array([3, 4, 5])
    assert within(a, b).tolist() == [3, 5]
    assert within(None, b) is b and within(a, None) is a and within(None, None) is None


# -- find and filter, on the synthetic cache ------------------------------------------------------
from explorer_helpers import store  # noqa: E402,F401 - the fixture
from explorer.checks import BadInput  # noqa: E402
from explorer.figures import nines  # noqa: E402
from explorer.selection import filter_rows, find_rows, focus_rows  # noqa: E402


def test_find_by_sample_id_class_and_predicted_class(store):
    m = store.get("fashion-mnist").model("cnn")
    ds = m.ds
    rows, what = find_rows(m, f" {int(ds.sample_ids[5])}, {int(ds.sample_ids[17])} ")
    assert rows.tolist() == [5, 17] and what == "sample id"
    shirt = ds.class_names.index("Shirt")
    rows, what = find_rows(m, "shirt")  # the whole name wins over T-shirt/top, which holds it
    assert rows.tolist() == np.flatnonzero(ds.labels == shirt).tolist() and what == "true class Shirt"
    rows, what = find_rows(m, "Pred: Shirt")
    assert rows.tolist() == np.flatnonzero(m.pred == shirt).tolist() and what == "predicted Shirt"
    rows, what = find_rows(m, "boo")  # a part of one name: Ankle boot
    assert len(rows) and what == "true class Ankle boot"
    rows, what = find_rows(m, "zebra")
    assert len(rows) == 0 and what == "no such class"
    assert find_rows(m, "") == (None, "")
    with pytest.raises(BadInput, match="search must be a short text"):
        find_rows(m, "x" * 201)


def test_find_a_class_by_its_number_or_name_with_a_prefix(store):
    """A bare number is a sample id; ``class``/``true``/``label`` say it is a true class (issue 26)."""
    m = store.get("mnist").model("cnn")
    sevens = np.flatnonzero(m.ds.labels == 7).tolist()
    assert find_rows(m, "7")[1] == "sample id"
    for text in ("class 7", "true 7", "Label: 7", "CLASS  7"):
        rows, what = find_rows(m, text)
        assert rows.tolist() == sevens and what == "true class 7", text
    rows, what = find_rows(m, "pred 7")
    assert rows.tolist() == np.flatnonzero(m.pred == 7).tolist() and what == "predicted 7"
    assert find_rows(m, "class 10")[1] == "no such class"
    f = store.get("fashion-mnist").model("cnn")
    shirt = f.ds.class_names.index("Shirt")
    for text in ("class Shirt", "true shirt", f"label {shirt}", "Shirt"):
        rows, what = find_rows(f, text)
        assert rows.tolist() == np.flatnonzero(f.ds.labels == shirt).tolist() and what == "true class Shirt", text
    assert find_rows(f, f"pred {shirt}")[1] == "predicted Shirt"


def test_the_find_box_hint_fits_and_its_title_says_the_rest():
    """The placeholder was cut at every width; the box is ``.find``'s width in style.css."""
    import re
    from explorer.tabs.filters import FIND_HELP, FIND_PLACEHOLDER
    css = (Path(__file__).resolve().parent.parent / "explorer/assets/style.css").read_text()
    width = int(re.search(r"\.find \{ width: (\d+)px; padding: 4px 8px;", css).group(1))
    # 7 px a character is more than the page's 14 px sans-serif averages (6.6 px); the box loses its
    # padding and border (the browser test measures the text itself)
    assert len(FIND_PLACEHOLDER) * 7 <= width - 2 * 8 - 2
    assert all(w in FIND_HELP for w in ("class 7", "pred Shirt", "Sample ids"))


def test_filters_combine_and_narrow_a_selection(store):
    m = store.get("mnist").model("cnn")
    wrong = m.ds.labels != m.pred
    assert filter_rows(m, None) is None and filter_rows(m, {"conf": [0, 4], "correct": "all", "issue": 0}) is None
    assert filter_rows(m, {"correct": "wrong"}).tolist() == np.flatnonzero(wrong).tolist()
    both = {"conf": [1, 4], "correct": "correct", "issue": 0.0}
    assert filter_rows(m, both).tolist() == np.flatnonzero(~wrong & (nines(m.confidence) >= 1 - 1e-6)).tolist()
    issue = filter_rows(m, {"issue": 0.5})
    assert issue.tolist() == np.flatnonzero(m.issues.score >= 0.5).tolist()
    rows, words = focus_rows(m, {"ds": "mnist", "rows": list(range(100))}, None, {"correct": "wrong"})
    assert rows.tolist() == [r for r in range(100) if wrong[r]] and words == "selected on the scatter, passing the filters"
    for bad, msg in (("x", "filter must be an object"), ({"conf": [0]}, "two numbers"),
                     ({"correct": "maybe"}, "all, correct or wrong"), ({"issue": "high"}, "must be a number")):
        with pytest.raises(BadInput, match=msg):
            filter_rows(m, bad)

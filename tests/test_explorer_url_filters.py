"""Explore's filter bar in the URL: its values round-trip, a value that filters nothing stays out of
the URL, and hand-edited values fall back to "no filter"."""
from __future__ import annotations

import pytest

from explorer.selection import NO_FILTER, url_filters, with_filters
from explorer.state import ViewState, parse_query, to_query


def test_the_filter_bar_round_trips_through_the_url():
    s = ViewState(ds="mnist", conf=(1.2, 3.5), show="wrong", score=0.45, find="pred Shirt", layers=("labels",))
    q = to_query(s)
    assert "conf=1.2%2C3.5" in q and "show=wrong" in q and "score=0.45" in q and "find=pred+Shirt" in q
    assert "layers=labels" in q
    assert parse_query(q, ["mnist"]) == s
    assert url_filters(parse_query(q, ["mnist"])) == {"conf": [1.2, 3.5], "show": "wrong", "score": 0.45,
                                                       "find": "pred Shirt", "layers": ["labels"]}
    # the layers in their own order, unknown ones dropped
    assert parse_query("?layers=density,x,labels", ["mnist"]).layers == ("labels", "density")


def test_no_filter_writes_nothing_and_reads_back_as_the_bar_at_rest():
    q = to_query(ViewState(ds="mnist"))
    assert not any(k in q for k in ("conf=", "show=", "score=", "find=", "layers="))
    assert url_filters(parse_query(q, ["mnist"])) == {"conf": NO_FILTER["conf"], "show": "all", "score": 0.0,
                                                       "find": "", "layers": []}


def test_the_controls_values_are_checked_and_the_whole_range_is_no_filter():
    base = ViewState(ds="mnist")
    assert with_filters(base, [0, 4], "all", 0, None) == base
    assert with_filters(base, [0.5, 2], "correct", 0.3, " 12, 40 ", ["density"]) == ViewState(
        ds="mnist", conf=(0.5, 2.0), show="correct", score=0.3, find="12, 40", layers=("density",))
    assert with_filters(base, ["a", 2], "maybe", True, 7) == base


@pytest.mark.parametrize("query", ["conf=3,1", "conf=0,9", "conf=nan,2", "conf=1", "conf=0,4", "conf=1e999,2",
                                   "show=sometimes", "score=2", "score=-0.5", "score=inf", "score=x"])
def test_a_hand_edited_filter_is_no_filter(query):
    s = parse_query("?ds=mnist&" + query, ["mnist"])
    assert (s.conf, s.show, s.score) == (None, "all", 0.0)


def test_a_long_search_is_cut_to_what_the_search_takes():
    assert len(parse_query("?find=" + "a" * 5000, ["mnist"]).find) == 200

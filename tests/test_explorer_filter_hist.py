"""The filter bar's histograms: a brush snaps to the bins its slider steps by; the bars count every
point and the passing ones."""
from __future__ import annotations

import numpy as np
import pytest

from explorer.checks import BadInput
from explorer.tabs.filters import CONF_EDGES, ISSUE_EDGES, brushed, histogram, issue_words


@pytest.mark.parametrize("x,expected", [([0.52, 1.48], (0.5, 1.5)), ([1.48, 0.52], (0.5, 1.5)),
                                        ([1.01, 1.04], (1.0, 1.1)),  # within one bin: that bin
                                        ([-3, 9], (0.0, 4.0)), ([3.97, 4.5], (3.9, 4.0))])
def test_a_brush_snaps_to_the_bins(x, expected):
    assert brushed({"range": {"x": x}}, CONF_EDGES) == pytest.approx(expected)


def test_no_brush_is_none_and_a_bad_one_is_refused():
    assert brushed(None, ISSUE_EDGES) is None
    assert brushed({"points": []}, ISSUE_EDGES) is None
    for x in ([0.1], ["a", 1], [float("nan"), 0.5], [True, 0.5]):
        with pytest.raises(BadInput, match="brushed range must be two numbers"):
            brushed({"range": {"x": x}}, ISSUE_EDGES)


def test_the_bars_count_every_point_and_the_passing_ones(rng):
    values = rng.random(1000)
    passing = np.flatnonzero(values >= 0.6)
    fig = histogram(values, passing, ISSUE_EDGES, issue_words)
    every, shown = fig["data"]
    counts = [int(t.split(" pass of ")[1].replace(",", "")) for t in every["customdata"]]
    passed = [int(t.split(": ")[1].split(" pass")[0]) for t in shown["customdata"]]
    assert counts == np.histogram(values, ISSUE_EDGES)[0].tolist() and sum(counts) == 1000
    assert sum(passed) == len(passing) and passed[:12] == [0] * 12
    assert every["y"] == pytest.approx(np.log10(np.array(counts) + 1))  # log heights: a bin of 5 stays visible
    assert fig["layout"]["dragmode"] == "select" and fig["layout"]["selectdirection"] == "h"

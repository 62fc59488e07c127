"""What the page says when a URL names values it cannot show (issue 26): a link to a model, tab or
colouring that is not there opens the defaults, and without a word the address bar went on
showing what was asked.  :func:`ignored_note` words each value :func:`explorer.state.ignored_values`
found ignored; the page shows it in its alert area and writes the view it shows to the URL.
"""
from __future__ import annotations

#: why a key's value was not taken, by query key (a view registered later gets :data:`OTHER`); each
#: reason also covers a value that means the same as leaving the key out (``score=0``)
REASONS = {
    "tab": "no such tab", "ds": "no such dataset in this cache", "model": "{ds} has no such model",
    "model2": "{ds} has no such model", "proj": "no such layout", "proj2": "no such layout",
    "colour": "no such colouring", "frame": "not a step number", "point": "not a row number",
    "sel": "not a selection this page wrote", "zoom": "not four axis bounds",
    "cell": "not a cell of the dataset's classes", "issue": "not two different classes",
    "conf": "not a confidence range in nines other than the whole one", "score": "not a score above 0 and at most 1",
    "show": "not all, correct or wrong", "layers": "no such layer", "compare": "not some of the cache's datasets",
    "pair": "not a dataset and two different classes", "dims": "not 2 or 3",
}
OTHER = "not a value it takes"
MAX_LINES = 6  # a hand-made URL may be long: the first few are enough to see what went wrong
MAX_VALUE = 40  # characters of a value the note repeats


def _shown(text: str) -> str:
    """``text`` cut to :data:`MAX_VALUE` characters, anything unprintable as ``?``."""
    cut = "".join(c if c.isprintable() else "?" for c in text[:MAX_VALUE])
    return cut + ("…" if len(text) > MAX_VALUE else "")


def ignored_line(key: str, given: str, written: list[str], ds_title: str) -> str:
    """One ignored value in words: ``ignored model=resnet (Digits has no such model; showing model=cnn)``."""
    why = REASONS.get(key, OTHER).format(ds=ds_title)
    instead = f"; showing {key}={_shown(written[-1])}" if written else ""
    return f"ignored {key}={_shown(given)} ({why}{instead})"


def ignored_note(ignored: list[tuple[str, str, list[str]]], ds_title: str) -> str:
    """The alert's text for what a URL gave that the page did not take; ``""`` for nothing."""
    if not ignored:
        return ""
    lines = [ignored_line(k, v, w, ds_title) for k, v, w in ignored[:MAX_LINES]]
    more = f"; and {len(ignored) - MAX_LINES} more" if len(ignored) > MAX_LINES else ""
    return "This link asked for what this page cannot show: " + "; ".join(lines) + more + "."

"""The view's shareable state and its query-string form.

``?tab=explore&ds=fashion-mnist&space=cnn&proj=umap&colour=true&cell=6-0&space2=cnn&proj2=tsne``
restores a view exactly; unknown or invalid values fall back to defaults rather
than failing, since URLs get hand-edited and outlive caches.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from .store import PROJECTIONS, SPACES

TABS = ("explore", "datasets", "projections")
COLOURS = ("true", "pred", "correct", "confidence")
COLOUR_LABELS = {"true": "True class", "pred": "Predicted class", "correct": "Correct / wrong",
                 "confidence": "Confidence"}


@dataclass(frozen=True)
class ViewState:
    """What the page shows; every field is one query parameter.

    ``cell`` is ``(true, predicted)`` of the chosen confusion cell of dataset ``ds``;
    ``space2``/``proj2`` are the right-hand view of "Compare projections".
    """

    tab: str = "explore"
    ds: str = "mnist"
    space: str = "cnn"
    proj: str = "umap"
    colour: str = "true"
    cell: tuple[int, int] | None = None
    space2: str = "cnn"
    proj2: str = "tsne"


def default_state(datasets: list[str]) -> ViewState:
    """Defaults for a cache holding ``datasets`` (the first one is shown)."""
    return ViewState(ds=datasets[0] if datasets else "mnist")


def parse_query(search: str | None, datasets: list[str], n_classes: int = 10) -> ViewState:
    """Read a ``ViewState`` from ``location.search`` (with or without the ``?``).

    Parameters
    ----------
    search : str or None
        The query string.
    datasets : list of str
        Dataset names the cache holds; any other ``ds`` falls back to the first.
    n_classes : int, default 10
        Bound of the class numbers in ``cell``.
    """
    base = default_state(datasets)
    q = {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}

    def pick(key: str, allowed, default):
        v = q.get(key)
        return v if v in allowed else default

    cell = None
    if "cell" in q:
        parts = q["cell"].split("-")
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            t, p = int(parts[0]), int(parts[1])
            if t < n_classes and p < n_classes:
                cell = (t, p)
    return ViewState(tab=pick("tab", TABS, base.tab), ds=pick("ds", datasets, base.ds),
                     space=pick("space", SPACES, base.space), proj=pick("proj", PROJECTIONS, base.proj),
                     colour=pick("colour", COLOURS, base.colour), cell=cell,
                     space2=pick("space2", SPACES, base.space2), proj2=pick("proj2", PROJECTIONS, base.proj2))


def to_query(state: ViewState) -> str:
    """The query string (with ``?``) of ``state``; ``cell`` only when one is chosen."""
    d = dataclasses.asdict(state)
    cell = d.pop("cell")
    if cell is not None:
        d["cell"] = f"{cell[0]}-{cell[1]}"
    return "?" + urlencode(d)

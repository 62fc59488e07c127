"""One module per tab, in the order the page shows them; each has ``layout(store)`` and ``register(app, store)``.

``layout`` builds the tab's panel (per page load); ``register`` attaches the tab's
callbacks.  Page-wide wiring (tab switching, the URL, alerts, the progress banner)
is :mod:`explorer.page`'s.
"""
from __future__ import annotations

from . import datasets, dynamics, explore, issues, projections

#: tab value (as in the URL's ``tab=``) -> its module
TAB_MODULES = {"explore": explore, "issues": issues, "datasets": datasets, "projections": projections,
               "dynamics": dynamics}

__all__ = ["TAB_MODULES", "datasets", "dynamics", "explore", "issues", "projections"]

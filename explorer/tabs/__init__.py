"""The built-in views, registered on import: the shared control bar and one module per tab, each
declaring its ``VIEW`` (:class:`explorer.registry.View`: name, label, order, URL fields, layout,
callbacks).

A new tab is a module here with its ``VIEW`` and one entry in :data:`BUILTIN` (or, outside the
package, :func:`explorer.registry.register_view` before ``create_app``).  Page-wide wiring (tab
switching, the URL, alerts, the progress banner) is :mod:`explorer.page`'s.
"""
from __future__ import annotations

from .. import controls, corrections
from ..registry import register_view
from . import datasets, depth, duplicates, dynamics, explore, imagemap, issues, projections

#: the views the explorer ships with; the page shows the tabs by their ``order``
BUILTIN = (controls.VIEW, corrections.VIEW, explore.VIEW, issues.VIEW, datasets.VIEW, imagemap.VIEW,
           projections.VIEW, dynamics.VIEW, depth.VIEW, duplicates.VIEW)
for _view in BUILTIN:
    register_view(_view)

__all__ = ["BUILTIN", "datasets", "depth", "duplicates", "dynamics", "explore", "imagemap", "issues", "projections"]

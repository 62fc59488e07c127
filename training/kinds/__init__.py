"""Model kinds, one module each, and the table that lists them (:mod:`.registry`).

Adding a kind: write ``<name>.py`` with its :class:`~.registry.Kind` (how it is fit, how it
embeds a sample set, its layers, whether its predictions are in sample, whether it leaves
snapshots, its words, and the rungs ``--models`` takes for it) and register it below. Every
stage, ``--models``' choices and ``current.json`` learn it from there; nothing else names it.
"""
from __future__ import annotations

from . import cnn, dense, given, keras_file, pixels
from .registry import (Kind, ModelSpec, Rung, SampleSet, default_rungs, get, preferred, register, rung,
                       rung_names, spec, table, unregister)

# the ladder's order, simplest first: ``--models``' choices and the default run list their rungs so
register(pixels.KIND)
register(dense.KIND)
register(cnn.KIND)
register(keras_file.KIND)
register(given.KIND)

__all__ = ["Kind", "ModelSpec", "Rung", "SampleSet", "default_rungs", "get", "preferred", "register", "rung",
           "rung_names", "spec", "table", "unregister"]

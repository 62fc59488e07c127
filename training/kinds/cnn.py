"""The CNN: convolution stages, then the ``embedding`` layer (``training/model.py``).

Two rungs: ``cnn`` trains the run's ``--profile``, ``cnn-strong`` the strong profile under its own name.
"""
from __future__ import annotations

from .network import network_kind, profile
from .registry import Rung


def _title(train) -> str:
    return "CNN" if train.profile == "default" else f"CNN ({train.profile} profile)"


KIND = network_kind("cnn", "CNN", rungs=(
    Rung("cnn", profile(None), titled=_title, preferred=True),
    Rung("cnn-strong", profile("strong"), title="Strong CNN", default=False)), fit_seconds=90)

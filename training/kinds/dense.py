"""The dense network: 784 -> 256 -> 128 -> classes (training profile ``mlp``), the last hidden layer its embedding."""
from __future__ import annotations

from .network import network_kind, profile
from .registry import Rung

KIND = network_kind("mlp", "Dense network", rungs=(Rung("mlp", profile("mlp")),), fit_seconds=40)

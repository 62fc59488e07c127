"""How the explorer is served: one dataclass, read by ``python -m explorer`` and by the
pipeline's ``serve`` and ``all`` commands, so each default is written once."""
from __future__ import annotations

import dataclasses

from core.options import option, validate


@dataclasses.dataclass(frozen=True)
class ServeOptions:
    """Where and how the explorer listens."""

    host: str = option("127.0.0.1", "address to bind (127.0.0.1: this machine only)")
    port: int = option(8050, "port", lo=1, hi=65535)
    # 16 keep 50 loopback clients served, since hovers cost no request
    threads: int = option(16, "waitress worker threads", lo=1, hi=256)
    debug: bool = option(False, "Dash debug mode on Flask's development server (never on a shared network)")

    def __post_init__(self) -> None:
        validate(self, "explorer")

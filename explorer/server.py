"""Serve the explorer with waitress: threaded, bound to localhost by default."""
from __future__ import annotations

import logging
from pathlib import Path

from core.store import ArtifactStore, CacheError

from . import warmup
from .app import create_app
from .options import ServeOptions
from .store import read_progress

log = logging.getLogger(__name__)


def serve(cache_root: Path | None = None, host: str = ServeOptions.host, port: int = ServeOptions.port,
          debug: bool = ServeOptions.debug, threads: int = ServeOptions.threads) -> None:
    """Serve the explorer of the cache at ``cache_root`` until interrupted; prints the URL.

    Parameters
    ----------
    cache_root : Path, optional
        Cache root; default ``$MNIST_EXPLORER_CACHE`` or ``./cache``.
    host : str, default "127.0.0.1"
        Interface to bind; anything but loopback exposes the page to the network.
    port : int, default 8050
    debug : bool, default False
        Dash's debug mode (dev tools, reloader, tracebacks in the browser) on
        Flask's development server; never for a shared machine.
    threads : int, default 16
        Waitress worker threads; 16 keep 50 loopback clients served since hovers cost none.

    Raises
    ------
    core.store.CacheError
        If the cache has no ``current.json`` and no pipeline runs on it (no live ``progress.json``).
    """
    store = ArtifactStore(cache_root)
    # a pipeline that has just started publishes current.json later: the page waits for it
    if not (store.root / "current.json").is_file() and read_progress(store.root) is None:
        raise CacheError(f"{store.root / 'current.json'} is missing: run `python -m pipeline all` first "
                         "(or pass --cache-dir)")
    app = create_app(store)
    url = f"http://{host}:{port}/"
    if debug:
        print(f"Embedding explorer (debug) at {url}", flush=True)
        app.run(host=host, port=port, debug=True)
        return
    from waitress import serve as waitress_serve

    # arrays verified, hover thumbnails and sprite pages encoded while the first requests come in (issue 26)
    warmup.start(app)
    print(f"Embedding explorer at {url}  (Ctrl+C to stop)", flush=True)
    waitress_serve(app.server, host=host, port=port, threads=threads, ident="explorer",
                   # Dash posts whole figures' selections back; keep the body limit generous
                   max_request_body_size=64 * 1024 * 1024)

"""The Dash app factory: data loaded here, layout and callbacks from their modules."""
from __future__ import annotations

import logging
from pathlib import Path

import dash

from pipeline.cache import ArtifactStore

from .callbacks import on_callback_error, register_callbacks
from .layout import build_layout
from .routes import register_routes
from .store import ExplorerStore

log = logging.getLogger(__name__)
ASSETS = Path(__file__).resolve().parent / "assets"


def create_app(store: ArtifactStore | ExplorerStore) -> dash.Dash:
    """Build the explorer for the artifacts ``store`` names in its ``current.json``.

    Parameters
    ----------
    store : ArtifactStore or ExplorerStore
        The pipeline's cache (an ``ExplorerStore`` is used as is, e.g. by tests).

    Returns
    -------
    dash.Dash
        The app; ``app.server`` is the Flask app to hand to a WSGI server.

    Raises
    ------
    pipeline.cache.CacheError
        If ``current.json`` is missing or incomplete.
    """
    data = store if isinstance(store, ExplorerStore) else ExplorerStore(store)
    app = dash.Dash(__name__, assets_folder=str(ASSETS), title="Embedding explorer",
                    update_title=None, serve_locally=True,
                    # a failing callback shows a message in the page, never a traceback
                    on_error=on_callback_error)
    # a function: each page load sees the datasets current.json lists now
    app.layout = lambda: build_layout(data)
    register_callbacks(app, data)
    register_routes(app.server, data)
    app.explorer_store = data  # for tests and the screenshot script
    log.info("explorer ready: %s", ", ".join(f"{n} ({data.get(n).n:,} points)" for n in data.names))
    return app

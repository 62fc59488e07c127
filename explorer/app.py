"""The Dash app factory: the store, the page shell, the registered views (one module per tab), the HTTP routes.

``create_app`` wires them together; every piece of state (loaded arrays, sprite
pages, compressed bundles) hangs off the app it made, so two apps in one process
share nothing.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import dash
import flask

from core.store import ArtifactStore

from . import page, tabs  # noqa: F401 - importing tabs registers the built-in views
from .checks import on_callback_error
from .registry import views
from .routes import COMPRESSION, register_routes
from .store import ExplorerStore

log = logging.getLogger(__name__)
ASSETS = Path(__file__).resolve().parent / "assets"
#: Set (to anything) to serve Dash's full plotly.js instead of ours (``assets/plotly-explorer.min.js``,
#: scripts/plotly/build.sh): the benchmark's reference, and a way out should ours ever lack something.
FULL_PLOTLY_ENV = "MNIST_EXPLORER_FULL_PLOTLY"


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
    core.store.CacheError
        If ``current.json`` is missing or incomplete.
    """
    data = store if isinstance(store, ExplorerStore) else ExplorerStore(store)
    # flask-compress reads its settings when Dash attaches it: they must be on the server first
    server = flask.Flask(__name__)
    server.config.update(COMPRESSION)
    app = dash.Dash(__name__, server=server, assets_folder=str(ASSETS), title="Embedding explorer",
                    update_title=None, serve_locally=True, compress=True,
                    # the 3-D view's plotly.js is fetched by assets/view3d.js when first opened, not with the page
                    assets_ignore=(r"plotly-explorer\.min\.js|" if os.environ.get(FULL_PLOTLY_ENV) else "")
                    + r"plotly-3d\.min\.js",
                    # a failing callback shows a message in the page, never a traceback
                    on_error=on_callback_error)
    # the page's language, for screen readers and the accessibility check (Dash's default <html> has none)
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)
    parts = views()  # the views registered now: this app's tabs, panels and URL fields
    # a function: each page load sees the datasets current.json lists now
    app.layout = lambda: page.build_layout(data, parts)
    page.register(app, data, parts)
    for view in parts:
        if view.register is not None:
            view.register(app, data)
    register_routes(app.server, data)
    app.explorer_store = data  # for tests and the screenshot script
    log.info("explorer ready: %s", ", ".join(f"{n} ({data.get(n).n:,} points)" for n in data.names))
    return app

"""``explorer.show()``: the full explorer inline in a Jupyter notebook, in a browser tab from a
script, or just its URL.

In a notebook the app is served by Dash's own Jupyter support (``app.run(jupyter_mode=...)``,
a threaded server in the kernel) and shown in an iframe opened on the chosen dataset; from a
script by the same threaded server on a background thread. Either way it is bound to
127.0.0.1, debug is off, and nothing is sent anywhere: the page and every image come from
this machine.
"""
from __future__ import annotations

import dataclasses
import logging
import socket
import threading
from pathlib import Path
from urllib.parse import urlencode

from core.store import CURRENT_FILE, ArtifactStore, CacheError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
#: Ways to show it: in the notebook's output, a link printed there, a new browser tab, or nothing (the URL).
MODES = ("inline", "external", "tab", "url")
_SHOWN: dict[int, "Shown"] = {}
VIEW_KEYS = {"tab", "model", "proj", "colour", "cell", "model2", "proj2", "dims"}


@dataclasses.dataclass
class Shown:
    """A running explorer: its ``url``; ``stop()`` ends it (a notebook's kernel ending does too)."""

    url: str
    port: int
    _stop: object = None

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None
        _SHOWN.pop(self.port, None)

    def __repr__(self) -> str:
        return f"explorer at {self.url}" + ("" if self._stop is not None else " (stopped)")


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def show(dataset: str | None = None, *, cache_dir: Path | str | None = None, mode: str | None = None,
         port: int | None = None, height: int = 820, **view) -> Shown:
    """Open the explorer of the cache (default: the one ``./run.sh`` made) on ``dataset``.

    Parameters
    ----------
    dataset : str, optional
        A dataset the cache shows (a built-in one or one you imported), by its name;
        default the page's first.
    cache_dir : path, optional
        Default ``$MNIST_EXPLORER_CACHE`` or the project's ``cache/``.
    mode : {"inline", "external", "tab", "url"}, optional
        ``inline`` (the default in a notebook) shows it in the cell's output; ``external``
        prints its link there; ``tab`` (the default from a script) opens a browser tab;
        ``url`` only starts it.
    port : int, optional
        Default: a free port.
    height : int
        Height of the inline frame in pixels.
    **view
        Where the page opens, as its URL keeps it: ``tab`` ("explore", "projections",
        "datasets", "dynamics", "issues"), ``model``, ``proj`` ("umap", "tsne", "pca"),
        ``colour``, ``cell=(true, predicted)`` (that confusion cell's gallery), ``dims=3`` (Explore's 3-D view).

    Returns
    -------
    Shown
        Its ``url`` and ``stop()``. Showing again on the same port replaces the server.
    """
    from .app import create_app

    notebook = _in_notebook()
    mode = mode or ("inline" if notebook else "tab")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    store = ArtifactStore(cache_dir)
    if not (store.root / CURRENT_FILE).is_file():
        raise CacheError(f"{store.root / CURRENT_FILE} is missing: run ./run.sh (or python -m pipeline all), "
                         "or make a dataset with explorer.from_arrays(...), first")
    app = create_app(store)
    names = app.explorer_store.names
    if dataset is not None and dataset not in names:
        raise CacheError(f"dataset {dataset!r} is not in {store.root / CURRENT_FILE}; it shows {', '.join(names)}")
    port = int(port or free_port())
    if port in _SHOWN:
        _SHOWN[port].stop()
    unknown = sorted(set(view) - VIEW_KEYS)
    if unknown:
        raise ValueError(f"show() takes no {', '.join(unknown)}; where the page opens: {', '.join(sorted(VIEW_KEYS))}")
    query = {"ds": dataset} if dataset else {}
    query.update({k: "-".join(map(str, v)) if isinstance(v, (tuple, list)) else str(v) for k, v in view.items()})
    url = f"http://{HOST}:{port}/" + (f"?{urlencode(query)}" if query else "")
    if notebook:
        # Dash's Jupyter support serves it from the kernel; "_none": we display it ourselves, on `dataset`
        app.run(jupyter_mode="_none", host=HOST, port=port, debug=False)
        from dash._jupyter import JupyterDash

        stop = JupyterDash._servers.pop((HOST, port)).shutdown  # noqa: SLF001 - Dash keeps no public handle
    else:
        stop = _serve_in_thread(app, port)
    shown = _SHOWN[port] = Shown(url, port, stop)
    _display(url, mode, height, notebook)
    return shown


def _serve_in_thread(app, port: int):
    """A threaded server on a daemon thread (as Dash's Jupyter support runs it); returns its stop function."""
    from werkzeug.serving import make_server

    server = make_server(HOST, port, app.server, threaded=True)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    threading.Thread(target=server.serve_forever, daemon=True, name=f"explorer-{port}").start()
    return server.shutdown


def _display(url: str, mode: str, height: int, notebook: bool) -> None:
    if mode == "url":
        return
    if notebook:
        from IPython.display import HTML, IFrame, display

        if mode == "inline":
            display(IFrame(url, width="100%", height=height))
        else:
            display(HTML(f'Explorer: <a href="{url}" target="_blank">{url}</a>'))
        if mode == "tab":
            import webbrowser

            webbrowser.open(url)
        return
    print(f"Embedding explorer at {url}", flush=True)
    if mode == "tab":
        import webbrowser

        webbrowser.open(url)

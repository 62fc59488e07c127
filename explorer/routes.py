"""Plain HTTP routes beside the Dash app: sprites, thumbnails, per-point data, status;
and the settings of response compression.

Every path parameter is validated here and answered with a 400/404 and a one-line
message; a client never sees a traceback, also not from a malformed Dash callback
request.  An artifact that is missing or damaged (``CacheError``, e.g.
:class:`core.store.DamagedArtifact`) is answered with a 503 whose text names the file
and the fix.  Every request first lets the store notice a rewritten ``current.json``.

Compression is flask-compress, switched on by Dash's ``compress=True`` with the
settings in :data:`COMPRESSION` (gzip; Dash's fingerprinted bundles compressed once
and kept, see :class:`BundleCache`); scripts and style sheets get brotli where the client takes it
once :mod:`explorer.precompress` has made it.  One piece stays hand-written:
:func:`_buffer_asset` hands flask-compress the small files of ``assets/`` as whole
bodies, since it compresses a streamed file per chunk, without ``Content-Length``.
"""
from __future__ import annotations

import contextlib
import logging
import re
import threading

import cachetools
import flask
import numpy as np
from dash.exceptions import DependencyException
from dash.fingerprint import check_fingerprint
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map

from core.errors import CacheError

from .dynamics import points_payload
from .imagemap import kept_map
from .labels import has_log
from .precompress import register as register_brotli
from .store import ExplorerStore, ModelView
from .thumbnails import MAX_SCALE, SpriteCache, ThumbCache, page_count

log = logging.getLogger(__name__)

_INT = re.compile(r"[0-9]{1,9}")
_MAP_KEY = re.compile(r"[0-9a-f]{24}")
_DIGITS = re.compile(r"[0-9]+")
#: paths under these prefixes are ours: one that matches no route is a 404, never the app's page
API_PREFIXES = ("/api/", "/sprites/", "/thumb/", "/imagemap/")
OUR_ROUTES = "/api/points/<dataset>.json, /api/neighbours/<dataset>/<model>/<row>, /api/dynamics/<dataset>.json, " \
             "/api/status, /api/corrections/<dataset>.csv (or .json), /sprites/<dataset>/<page>.png, /thumb/<dataset>/<row>.png, /imagemap/<key>.png"
_UNCACHED = "-"  # flask-compress cache key of a response compressed afresh each time
ASSET_BUFFER_MAX = 4 << 20  # assets/ files larger than this are sent as they are, uncompressed


class BundleCache:
    """flask-compress cache backend that keeps only Dash's fingerprinted bundles.

    flask-compress asks the cache for every response it compresses; the key
    (:func:`bundle_cache_key`) is ``"<algorithm>;-"`` for anything but a fingerprinted
    ``/_dash-component-suites/`` file, and such keys are never stored.  A bundle's URL
    changes with its package version and file, so a stored copy is never stale; the
    total is bounded (least recently used dropped first) so that made-up fingerprints
    cannot fill the memory.
    """

    #: 32 MB: Dash's and Plotly's bundles gzip to about 3 MB in all, ten times over for other encodings and versions
    MAX_BYTES = 32 << 20

    def __init__(self) -> None:
        self._data = cachetools.LRUCache(self.MAX_BYTES, getsizeof=len)
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._data.get(key)

    def set(self, key: str, value: bytes) -> None:
        if key.endswith(";" + _UNCACHED):
            return
        with self._lock, contextlib.suppress(ValueError):  # ValueError: larger than the whole bound
            self._data[key] = value


#: The explorer's own plotly.js (scripts/plotly/build.sh): loaded from assets/ before Dash's graph
#: component, which then uses this ``window.Plotly`` and never fetches Dash's full bundle.
PLOTLY_ASSET = "/assets/plotly-explorer.min.js"
#: The 3-D view's plotly.js (core + scatter3d as ``window.Plotly3D``), fetched when a 3-D view is first opened.
PLOTLY_3D_ASSET = "/assets/plotly-3d.min.js"


def bundle_cache_key(request: flask.Request) -> str:
    """flask-compress cache key: the path of a fingerprinted Dash bundle, else :data:`_UNCACHED`."""
    path = request.path
    if path.startswith("/_dash-component-suites/") and check_fingerprint(path)[1]:
        return path
    if path in (PLOTLY_ASSET, PLOTLY_3D_ASSET) and request.args.get("m"):  # ours, fingerprinted by mtime
        return f"{path}?m={request.args['m'][:32]}"
    return _UNCACHED


#: Flask config for flask-compress, set on the server before Dash attaches it.
COMPRESSION = {
    # what every client accepts (Dash's enable_compression means to set this too, but only after
    # flask-compress has read it: zstd and brotli would be chosen for Chromium otherwise)
    "COMPRESS_ALGORITHM": ["gzip"],
    "COMPRESS_LEVEL": 6,
    "COMPRESS_MIN_SIZE": 1024,  # below a kilobyte the header costs more than it saves
    # Dash's JSON (figures), our JSON and CSV, the page and its scripts; PNGs already are compressed
    "COMPRESS_MIMETYPES": ["application/json", "text/html", "text/css", "application/javascript",
                           "text/javascript", "text/csv", "text/plain"],
    # plotly.js (1.5 MB ours, 4.8 MB Dash's) takes 0.1-0.2 s to compress: once per process, not per client
    "COMPRESS_CACHE_BACKEND": BundleCache,
    "COMPRESS_CACHE_KEY": bundle_cache_key,
    # streamed bodies (byte ranges, large files) go out as they are; assets/ are buffered first
    "COMPRESS_STREAMS": False,
}


class BadRequest(ValueError):
    """A request parameter is invalid; the message goes to the client as is."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def parse_index(text: str, n: int, what: str = "index") -> int:
    """Parse a row number from a URL, with the bound in the message when it fails.

    Raises
    ------
    BadRequest
        For anything but a decimal integer in ``[0, n)``.
    """
    if text is None or not _DIGITS.fullmatch(str(text)):
        raise BadRequest(f"{what} must be a non-negative integer (got {str(text)[:40]!r})")
    if not _INT.fullmatch(text) or int(text) >= n:  # more than 9 digits is too large for any set
        largest = f"the largest valid {what} is {n - 1}" if n > 0 else f"there is no valid {what}"
        raise BadRequest(f"{what} must be < {n} (got {text[:40]}): too large, {largest}")
    return int(text)


def parse_scale(text: str | None, default: int = 4) -> int:
    if text is None or text == "":
        return default
    if not _INT.fullmatch(text) or not 1 <= int(text) <= MAX_SCALE:
        raise BadRequest(f"scale must be an integer from 1 to {MAX_SCALE} (got {text[:40]!r})")
    return int(text)


def _text(message: str, status: int) -> flask.Response:
    return flask.Response(message + "\n", status=status, mimetype="text/plain")


def _allowed_methods(server: flask.Flask, path: str, method: str) -> list[str] | None:
    """The methods a route at ``path`` takes where it does not take ``method``; ``None`` where it does,
    or no route has the path.  Dash's page, which takes GET at every path, is no route here: without
    it ``DELETE /api/status`` would be "no such route" and ``GET /_dash-update-component`` the page."""
    routes = server.extensions.get("explorer_routes")
    if routes is None:  # built at the first request, when every route is registered
        routes = Map([r.empty() for r in server.url_map.iter_rules() if not r.rule.endswith("<path:path>")],
                     converters=server.url_map.converters, strict_slashes=server.url_map.strict_slashes)
        server.extensions["explorer_routes"] = routes
    try:
        routes.bind("localhost").match(path, method=method)
    except MethodNotAllowed as err:
        return sorted(err.valid_methods or [])
    except HTTPException:  # no such path, or a redirect to one (a slash added): not a method's fault
        return None
    return None


def register_routes(server: flask.Flask, store: ExplorerStore) -> None:
    """Add the image and data routes and the error handlers to ``server``.

    Parameters
    ----------
    server : flask.Flask
        The Dash app's server, with flask-compress already attached (``compress=True``).
    store : ExplorerStore
    """
    sprites, thumbs = SpriteCache(), ThumbCache()
    server.extensions["explorer_images"] = {"sprites": sprites, "thumbs": thumbs}

    def dataset(name: str):
        if name not in store.datasets:
            raise BadRequest(f"unknown dataset {name[:40]!r}; known: {', '.join(store.names)}", 404)
        return store.get(name)  # labelled as the page asks (its X-Labels header)

    def model(name: str, model_name: str | None) -> ModelView:
        """The model a request names (``None``: the dataset's default); 404 naming the dataset's models."""
        ds = dataset(name)
        if model_name is None:
            return ds.pick(None)
        if model_name not in ds.models:
            raise BadRequest(f"{ds.title} has no model {model_name[:40]!r}; its models: "
                             f"{', '.join(ds.models)}", 404)
        return ds.models[model_name]

    def png(data: bytes, immutable: bool) -> flask.Response:
        resp = flask.Response(data, mimetype="image/png")
        # URLs carry the embed key (?v=...), so a cached image can never be stale
        resp.headers["Cache-Control"] = "public, max-age=31536000, immutable" if immutable else "no-cache"
        return resp

    @server.errorhandler(BadRequest)
    def _bad(err: BadRequest):
        return _text(str(err), err.status)

    @server.errorhandler(CacheError)
    def _cache_problem(err: CacheError):
        # the server works, this artifact does not: 503 with the pipeline's words (file and fix)
        log.warning("request %s refused: %s", flask.request.path, err)
        return _text(f"cannot serve {flask.request.path[:80]}: {err}", 503)

    @server.errorhandler(Exception)
    def _unexpected(err: Exception):
        if isinstance(err, HTTPException):
            return err  # 404s, 405s... as Flask words them
        if isinstance(err, DependencyException):  # a path no Dash package registered, e.g. with ../
            return _text(f"not found: {flask.request.path[:80]}", 404)
        if flask.request.path.endswith("/_dash-update-component"):
            # Dash itself fails on a body that is not a callback request: say so, briefly
            log.info("malformed callback request: %r", err)
            return _text(f"malformed callback request ({type(err).__name__})", 400)
        log.exception("request %s failed", flask.request.path, exc_info=err)
        return _text("internal error; the server log has the details", 500)

    @server.before_request
    def _follow_current():
        path, rule = flask.request.path, flask.request.url_rule
        allowed = (_allowed_methods(server, path, flask.request.method)
                   if rule is None or rule.rule.endswith("<path:path>") else None)
        if allowed:  # the route is there, the method is not one it takes: 405, never 404 or the page
            resp = _text(f"method {flask.request.method[:20]} not allowed on {path[:80]}; "
                         f"it takes {', '.join(allowed)}", 405)
            resp.headers["Allow"] = ", ".join(allowed)
            return resp
        if (path == "/api" or path.startswith(API_PREFIXES)) and (rule is None or rule.endpoint not in own):
            # Dash's catch-all would answer with the page (e.g. for a %2f in a path segment)
            return _text(f"no such route: {path[:80]}; the routes here: {OUR_ROUTES}", 404)
        store.maybe_reload()  # at most one stat a second

    @server.route("/sprites/<name>/<page>.png")
    def sprite(name: str, page: str):
        ds = dataset(name)
        p = parse_index(page, page_count(ds.n, ds.grid), "page")
        data = sprites.get(ds.name, ds.version, ds.images, p, ds.grid)
        sprites.warm(ds.name, ds.version, lambda: ds.images, ds.n, ds.grid, first=p + 1)  # the rest follow
        return png(data, immutable=flask.request.args.get("v") == ds.version)

    @server.route("/thumb/<name>/<index>.png")
    def thumb(name: str, index: str):
        ds = dataset(name)
        row = parse_index(index, ds.n)
        scale = parse_scale(flask.request.args.get("scale"))
        data = thumbs.get(ds.name, ds.version, ds.images, row, scale)  # bounded: a scan of all rows must not eat RAM
        return png(data, immutable=flask.request.args.get("v") == ds.version)

    @server.route("/imagemap/<key>.png")
    def imagemap(key: str):
        """An image map's PNG, as the Image map tab made it (its key names the data and the rows)."""
        imap = kept_map(key) if _MAP_KEY.fullmatch(key) else None
        if imap is None:
            return _text(f"no image map {key[:40]}: maps are kept a while after the Image map tab makes them; "
                         "open the tab again to make it", 404)
        return png(imap.png, immutable=True)

    @server.route("/api/points/<name>.json")
    def points(name: str):
        """Per-row sample id, true class and one model's (``?model=``) predicted class and confidence (in %),
        for hover labels."""
        m = model(name, flask.request.args.get("model"))
        ds = m.ds
        # hover.js asks for these after first paint: the sprite pages a first hover will want, meanwhile
        sprites.warm(ds.name, ds.version, lambda: ds.images, ds.n, ds.grid)
        body = {"dataset": ds.name, "model": m.name, "version": ds.version, "n": ds.n, "class_names": ds.class_names,
                "labels": ds.labels.tolist(), "pred": m.pred.tolist(),
                "ids": ds.sample_ids.astype(np.int64).tolist(),
                # in %, cut (not rounded) to 3 decimals: 99.9996 % must not read as 100 %
                "conf": np.round(np.floor(m.confidence.astype(np.float64) * 1e5) / 1e3, 3).tolist()}
        resp = flask.jsonify(body)
        # the labels may be corrected (and corrected again): asked afresh while the dataset has corrections
        resp.headers["Cache-Control"] = "no-cache" if has_log(ds) else "public, max-age=3600"
        resp.headers["Vary"] = "X-Labels"
        return resp

    @server.route("/api/neighbours/<name>/<model_name>/<index>")
    def neighbours(name: str, model_name: str, index: str):
        """A row's nearest neighbours in one model's embedding, with that model's predictions."""
        m = model(name, model_name)
        ds = m.ds
        row = parse_index(index, ds.n)
        nb = [int(r) for r in m.knn[row]]
        return flask.jsonify({"row": row, "label": int(ds.labels[row]), "model": m.name,
                              "neighbours": [{"row": r, "label": int(ds.labels[r]),
                                              "pred": int(m.pred[r])} for r in nb]})

    @server.route("/api/dynamics/<name>.json")
    def dynamics(name: str):
        """Every frame's positions, predictions and confidences of one model's (``?model=``) snapshot images."""
        asked = flask.request.args.get("model")
        # without ?model=: the model whose training the page shows by default
        m = model(name, asked) if asked is not None else (dataset(name).dynamics_model() or dataset(name).pick(None))
        if m.dynamics is None:
            raise BadRequest(f"{m.ds.title} · {m.title} has no training dynamics in the cache", 404)
        dyn = m.dynamics
        resp = flask.jsonify(points_payload(m))
        resp.headers["Cache-Control"] = ("public, max-age=31536000, immutable"
                                         if flask.request.args.get("v") == dyn.version else "no-cache")
        return resp

    @server.route("/api/status")
    def status():
        """Datasets served now, their sizes, and the running pipeline's progress (or null)."""
        names = store.names
        body = {"datasets": names,
                "sizes": {n: {"n": store.get(n).n, "title": store.get(n).title, "source": store.get(n).source,
                              "image_shape": list(store.get(n).image_shape)} for n in names},
                "progress": store.progress()}
        resp = flask.jsonify(body)
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @server.route("/healthz")
    def healthz():
        return _text("ok", 200)

    own = {"sprite", "thumb", "points", "neighbours", "dynamics", "status", "imagemap",
           "corrections"}  # explorer/corrections.py's export
    # Flask runs these last registered first: buffer an assets/ file, give it brotli if made
    # (explorer.precompress), else flask-compress (registered earlier, by Dash) gzips it
    server.extensions["explorer_brotli"] = register_brotli(server)
    server.after_request(_buffer_asset)


def _buffer_asset(resp: flask.Response) -> flask.Response:
    """Turn a whole file of ``assets/`` that Flask streams from disk into a body flask-compress can gzip.

    flask-compress compresses a streamed response chunk by chunk without ``Content-Length``
    (and not with gzip by default); these files are a few kilobytes.  The ETag becomes
    weak, as nginx does: it then names both encodings, and Flask's conditional check
    compares weakly, so a revalidation still gets its 304.
    """
    if (resp.status_code != 200 or not resp.direct_passthrough or not flask.request.path.startswith("/assets/")
            or resp.mimetype not in COMPRESSION["COMPRESS_MIMETYPES"]
            or "gzip" not in flask.request.headers.get("Accept-Encoding", "")
            or not 0 < (resp.content_length or 0) <= ASSET_BUFFER_MAX):
        return resp  # sent as Flask made it (byte ranges still work)
    body = resp.response
    try:
        data = b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    resp.direct_passthrough = False
    resp.set_data(data)
    resp.headers.pop("Accept-Ranges", None)  # byte ranges would count the uncompressed file
    etag, weak = resp.get_etag()
    if etag and not weak:
        resp.set_etag(etag, weak=True)
    return resp

"""Plain HTTP routes beside the Dash app: sprites, thumbnails, per-point data, status, gzip.

Every path parameter is validated here and answered with a 400/404 and a one-line
message; a client never sees a traceback, also not from a malformed Dash callback
request.  Every request first lets the store notice a rewritten ``current.json``.
"""
from __future__ import annotations

import gzip
import logging
import re

import flask
import numpy as np
from werkzeug.exceptions import HTTPException

from .dynamics import points_payload
from .store import SPACES, ExplorerStore
from .thumbnails import MAX_SCALE, SpriteCache, encode_png, page_count

log = logging.getLogger(__name__)

_INT = re.compile(r"[0-9]{1,9}")
# Responses worth compressing: Dash's JSON (figures) and our JSON; PNGs already are.
_GZIP_TYPES = {"application/json", "text/html", "text/css", "application/javascript",
               "text/javascript", "text/csv", "text/plain"}
_GZIP_MIN_BYTES = 1024


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
    if text is None or not _INT.fullmatch(str(text)):
        raise BadRequest(f"{what} must be a non-negative integer (got {str(text)[:40]!r})")
    value = int(text)
    if value >= n:
        raise BadRequest(f"{what} must be < {n} (got {value})")
    return value


def parse_scale(text: str | None, default: int = 4) -> int:
    if text is None or text == "":
        return default
    if not _INT.fullmatch(text) or not 1 <= int(text) <= MAX_SCALE:
        raise BadRequest(f"scale must be an integer from 1 to {MAX_SCALE} (got {text[:40]!r})")
    return int(text)


def _text(message: str, status: int) -> flask.Response:
    return flask.Response(message + "\n", status=status, mimetype="text/plain")


def register_routes(server: flask.Flask, store: ExplorerStore) -> None:
    """Add the image and data routes and response compression to ``server``."""
    sprites = SpriteCache()
    thumb_cache: dict[tuple[str, int, int], bytes] = {}
    static_gz: dict[tuple[str, int], bytes] = {}

    def dataset(name: str):
        if name not in store.datasets:
            raise BadRequest(f"unknown dataset {name[:40]!r}; known: {', '.join(store.names)}", 404)
        return store.datasets[name]

    def png(data: bytes, immutable: bool) -> flask.Response:
        resp = flask.Response(data, mimetype="image/png")
        # URLs carry the embed key (?v=...), so a cached image can never be stale
        resp.headers["Cache-Control"] = "public, max-age=31536000, immutable" if immutable else "no-cache"
        return resp

    @server.errorhandler(BadRequest)
    def _bad(err: BadRequest):
        return _text(str(err), err.status)

    @server.errorhandler(Exception)
    def _unexpected(err: Exception):
        if isinstance(err, HTTPException):
            return err  # 404s, 405s... as Flask words them
        if flask.request.path.endswith("/_dash-update-component"):
            # Dash itself fails on a body that is not a callback request: say so, briefly
            log.info("malformed callback request: %r", err)
            return _text(f"malformed callback request ({type(err).__name__})", 400)
        log.exception("request %s failed", flask.request.path, exc_info=err)
        return _text("internal error; the server log has the details", 500)

    @server.before_request
    def _follow_current():
        store.maybe_reload()  # at most one stat a second

    @server.route("/sprites/<name>/<page>.png")
    def sprite(name: str, page: str):
        ds = dataset(name)
        p = parse_index(page, page_count(ds.n), "page")
        data = sprites.get(ds.name, ds.version, ds.images, p)
        return png(data, immutable=flask.request.args.get("v") == ds.version)

    @server.route("/thumb/<name>/<index>.png")
    def thumb(name: str, index: str):
        ds = dataset(name)
        row = parse_index(index, ds.n)
        scale = parse_scale(flask.request.args.get("scale"))
        key = (ds.name, row, scale)
        data = thumb_cache.get(key)
        if data is None:
            data = encode_png(np.asarray(ds.images[row]), scale)
            if len(thumb_cache) < 20_000:  # bounded: a scan of all rows must not eat RAM
                thumb_cache[key] = data
        return png(data, immutable=flask.request.args.get("v") == ds.version)

    @server.route("/api/points/<name>.json")
    def points(name: str):
        """Per-row true class, predicted class and confidence (in %), for hover labels."""
        ds = dataset(name)
        body = {"dataset": ds.name, "version": ds.version, "n": ds.n, "class_names": ds.class_names,
                "labels": ds.labels.tolist(), "pred": ds.pred.tolist(),
                "conf": np.round(ds.confidence * 100).astype(int).tolist()}
        resp = flask.jsonify(body)
        resp.headers["Cache-Control"] = "public, max-age=3600"
        return resp

    @server.route("/api/neighbours/<name>/<space>/<index>")
    def neighbours(name: str, space: str, index: str):
        ds = dataset(name)
        if space not in SPACES:
            raise BadRequest(f"space must be one of {', '.join(SPACES)} (got {space[:40]!r})")
        row = parse_index(index, ds.n)
        nb = [int(r) for r in ds.knn(space)[row]]
        return flask.jsonify({"row": row, "label": int(ds.labels[row]), "space": space,
                              "neighbours": [{"row": r, "label": int(ds.labels[r]),
                                              "pred": int(ds.pred[r])} for r in nb]})

    @server.route("/api/dynamics/<name>.json")
    def dynamics(name: str):
        """Every frame's positions, predictions and confidences of one dataset's snapshot images."""
        ds = dataset(name)
        dyn = ds.dynamics
        if dyn is None:
            raise BadRequest(f"{ds.title} has no training dynamics in the cache", 404)
        resp = flask.jsonify(points_payload(ds))
        resp.headers["Cache-Control"] = ("public, max-age=31536000, immutable"
                                         if flask.request.args.get("v") == dyn.version else "no-cache")
        return resp

    @server.route("/api/status")
    def status():
        """Datasets served now, their sizes, and the running pipeline's progress (or null)."""
        names = store.names
        body = {"datasets": names,
                "sizes": {n: {"n": store.get(n).n, "title": store.get(n).title} for n in names},
                "progress": store.progress()}
        resp = flask.jsonify(body)
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @server.route("/healthz")
    def healthz():
        return _text("ok", 200)

    @server.after_request
    def _gzip(resp: flask.Response) -> flask.Response:
        # flask-compress is not a dependency; this covers Dash's large JSON figures and scripts
        if (resp.status_code != 200 or "Content-Encoding" in resp.headers
                or resp.mimetype not in _GZIP_TYPES
                or "gzip" not in flask.request.headers.get("Accept-Encoding", "")):
            return resp
        path = flask.request.path
        if resp.direct_passthrough:
            return _gzip_static(resp, path)
        data = resp.get_data()
        if len(data) < _GZIP_MIN_BYTES:
            return resp
        if path.startswith("/_dash-component-suites/"):
            # fingerprinted bundles (plotly.js is 4 MB): compress once, not per client
            key = (path, len(data))
            packed = static_gz.get(key)
            if packed is None:
                packed = static_gz[key] = gzip.compress(data, compresslevel=6)
        else:
            packed = gzip.compress(data, compresslevel=5)
        return _encoded(resp, packed)

    def _gzip_static(resp: flask.Response, path: str) -> flask.Response:
        """A file Flask streams from disk (assets/*.js, *.css): compressed once per file version."""
        if (resp.content_length or 0) < _GZIP_MIN_BYTES:
            return resp
        etag, _weak = resp.get_etag()
        key = (path, etag or str(resp.last_modified))
        packed = static_gz.get(key)
        body = resp.response
        try:
            if packed is None:
                packed = static_gz[key] = gzip.compress(b"".join(body), compresslevel=6)
        finally:
            if hasattr(body, "close"):
                body.close()
        resp.direct_passthrough = False
        resp.headers.pop("Accept-Ranges", None)  # byte ranges would count the uncompressed file
        if etag:
            # as nginx does: a weak ETag names both encodings, and Flask's conditional
            # check compares weakly, so a revalidation still gets its 304
            resp.set_etag(etag, weak=True)
        return _encoded(resp, packed)

    def _encoded(resp: flask.Response, packed: bytes) -> flask.Response:
        resp.set_data(packed)
        resp.headers["Content-Encoding"] = "gzip"
        resp.headers["Vary"] = "Accept-Encoding"
        return resp

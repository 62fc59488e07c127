"""Brotli for the page's scripts and styles: each body compressed once, at brotli's best quality, off
the request path.

flask-compress (:data:`explorer.routes.COMPRESSION`) gzips every response at one level; Chromium also
accepts ``br``, over ``http://127.0.0.1`` too, and brotli's quality 11 makes the explorer's plotly.js
426 kB instead of gzip's 517 kB, but takes about 3 s.  So the first request for a script or style
sheet gets gzip as before and starts a background brotli of that body (the C library releases the
GIL), kept by the body's hash; later requests get it.  Figures and other JSON stay gzip: they change
with every callback.
"""
from __future__ import annotations

import hashlib
import logging
import threading

import flask

log = logging.getLogger(__name__)

MIMETYPES = {"application/javascript", "text/javascript", "text/css"}
QUALITY = 11  # brotli's best: the work is done once per body, not per response
MIN_BYTES = 1024  # below a kilobyte the header costs more than it saves
#: 16 MB of brotli bodies: the page's scripts are about 2 MB in brotli.  Full, it starts no more rather than
#: dropping old ones (an LRU would redo a dropped body's ~3 s of quality-11 work on its next request)
MAX_BYTES = 16 << 20


def accepts_br(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header accepts ``br`` (not with ``q=0``)."""
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() == "br":
            q = params.strip().lower()
            return not (q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


class BrotliCache:
    """Brotli bodies by the SHA-256 of what they encode, made in background threads, bounded in total."""

    def __init__(self, quality: int = QUALITY, max_bytes: int = MAX_BYTES) -> None:
        self.quality, self.max_bytes = quality, max_bytes
        self._done: dict[bytes, bytes] = {}
        self._pending: dict[bytes, threading.Thread] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, data: bytes, wait: bool = False) -> bytes | None:
        """The brotli of ``data`` if made; else ``None``, and it is started (``wait``: and waited for)."""
        key = hashlib.sha256(data).digest()
        with self._lock:
            hit = self._done.get(key)
            job = self._pending.get(key)
            if hit is None and job is None and self._bytes + len(data) // 2 <= self.max_bytes:
                job = self._pending[key] = threading.Thread(target=self._make, args=(key, data), daemon=True,
                                                            name="brotli")
                job.start()
        if hit is None and job is not None and wait:
            job.join()
            return self._done.get(key)
        return hit

    def _make(self, key: bytes, data: bytes) -> None:
        import brotli

        try:
            out = brotli.compress(data, quality=self.quality)
        except Exception:  # noqa: BLE001 - a body that fails to compress is sent gzipped, as before
            log.exception("brotli failed on a %d-byte body", len(data))
            out = None
        with self._lock:
            self._pending.pop(key, None)
            if out is not None and self._bytes + len(out) <= self.max_bytes:
                self._done[key] = out
                self._bytes += len(out)


def register(server: flask.Flask, cache: BrotliCache | None = None) -> BrotliCache:
    """Send ``br`` for scripts and style sheets once their brotli is made (:class:`BrotliCache`).

    Register it after flask-compress and before the hook that buffers ``assets/`` files: Flask runs
    ``after_request`` hooks last registered first, and flask-compress leaves a response that already
    has a ``Content-Encoding`` alone.
    """
    cache = BrotliCache() if cache is None else cache

    def brotli_body(resp: flask.Response) -> flask.Response:
        if (resp.status_code != 200 or resp.direct_passthrough or resp.is_streamed or resp.mimetype not in MIMETYPES
                or "Content-Encoding" in resp.headers or not accepts_br(flask.request.headers.get("Accept-Encoding"))):
            return resp
        data = resp.get_data()
        if len(data) < MIN_BYTES:
            return resp
        body = cache.get(data)
        if body is None:
            return resp  # gzip this time; brotli from the next request on
        resp.set_data(body)
        resp.headers["Content-Encoding"] = "br"
        resp.headers.pop("Accept-Ranges", None)
        vary = resp.headers.get("Vary")
        if not vary:
            resp.headers["Vary"] = "Accept-Encoding"
        elif "accept-encoding" not in vary.lower():
            resp.headers["Vary"] = f"{vary}, Accept-Encoding"
        etag, weak = resp.get_etag()
        if etag and not weak:  # names all the encodings, as routes._buffer_asset makes it
            resp.set_etag(etag, weak=True)
        return resp

    server.after_request(brotli_body)
    return cache

"""A server's first minute, prepared in the background when it starts (issue 26).

A just-started explorer did on first use what a warm one had done already: it loaded each
array and checked its sha256 against the folder's record (images, labels and sample ids of a
dataset, each model's predictions, probabilities and k-NN graph: 60 ms for all of both
10,000-point datasets, the first ``/thumb`` 18 ms, the first ``/api/neighbours`` 8 ms), and it
encoded each single thumbnail on its first request (0.25-0.45 ms with Pillow on a busy 2-core
machine), which is half the hover-image requests of its first minute: 50 clients asking for
random rows of 20,000 at 800 requests/s make about 16,000 first ones of 33,000 in 60 s.

:func:`start` (called by :func:`explorer.server.serve`) runs a :class:`Preparation` in a
daemon thread that, for every dataset ``current.json`` lists:

1. loads and verifies the images, labels, sample ids, each model's predictions,
   confidence (its probabilities) and k-NN graph, the report and the training dynamics the
   page's layout shows first, through the views' own cached loaders;
2. has the thumbnails at the hover scale (:data:`~explorer.thumbnails.HOVER_PX`: 4 for
   28x28 images, the ``/thumb`` route's default) encoded by :mod:`explorer.thumbworker`, a
   process of its own (a thread, getting the GIL back from 16 busy request threads after
   each zlib call, made 100-200 a second), one row of each dataset in turn, and files them
   until it has added half of the thumbnail cache's bound (both built-in 10,000-image sets,
   14 MB, fit);
3. encodes the sprite pages (:meth:`~explorer.thumbnails.SpriteCache.warm`, which stops at
   half of its own bound).

It never blocks a request: one that needs something not prepared yet does it itself, under
the same locks (the view's for arrays, the caches' for images): an array is loaded once, and
a thumbnail a request encoded first is kept (the other process's copy is dropped).  Memory
stays within the caches' bounds (the arrays are those the views load on first use anyway);
the encoding process maps the images and ends when done.  When the store reloads
``current.json`` (:attr:`ExplorerStore.listeners`) the views it made anew (a dataset
republished) are prepared the same way; unchanged datasets keep their prepared views.  A
view replaced while it is being prepared is left at once: images are keyed by version and
arrays held by their view, so nothing of it is ever served for the new version.  A file
that fails its check is logged here and answered with a 503 by the request that needs it,
as before.
"""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

from .store import DatasetView, ExplorerStore
from .thumbnails import HOVER_PX, SpriteCache, ThumbCache
from .thumbworker import FRAME

log = logging.getLogger(__name__)

#: share of the thumbnail cache's bound the preparation fills at most (per pass)
THUMB_SHARE = 0.5
ROOT = Path(__file__).resolve().parent.parent  # where ``python -m explorer.thumbworker`` finds the package


class Preparation:
    """Prepares every dataset view of ``store`` once, in a daemon thread (:meth:`start`), and each new one
    the store loads later.  ``idle`` is set while every view it knows of is prepared."""

    def __init__(self, store: ExplorerStore, sprites: SpriteCache, thumbs: ThumbCache,
                 thumb_share: float = THUMB_SHARE) -> None:
        self.store, self.sprites, self.thumbs, self.thumb_share = store, sprites, thumbs, thumb_share
        self.idle = threading.Event()
        self.passes = 0  # preparation passes finished (one at start, one per reload that made new views)
        self.last: dict = {}  # what the last pass did: datasets, seconds, thumbnails, thumbnail bytes
        self._prepared: weakref.WeakSet[DatasetView] = weakref.WeakSet()
        self._cond = threading.Condition()
        self._dirty = True
        self._thread: threading.Thread | None = None
        store.listeners.append(self._reloaded)

    def start(self) -> "Preparation":
        """Start the thread (once); returns itself."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="explorer-warmup", daemon=True)
            self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every view known now is prepared; False if ``timeout`` ran out first."""
        return self.idle.wait(timeout)

    def _reloaded(self, datasets: dict) -> None:
        # in a request's thread, from ExplorerStore._load: only note the change
        with self._cond:
            if any(ds not in self._prepared for ds in datasets.values()):
                self._dirty = True
                self.idle.clear()
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._dirty:
                    self.idle.set()
                    self._cond.wait()
                self._dirty = False
            todo = [ds for ds in self.store.datasets.values() if ds not in self._prepared]
            if todo:
                try:
                    self._prepare(todo)
                except Exception:  # noqa: BLE001 - a background warm-up: the request path reports it
                    log.warning("background preparation stopped", exc_info=True)
                self.passes += 1

    def _current(self, ds: DatasetView) -> bool:
        """Whether the store still serves this very view (not a newer one of the dataset)."""
        return self.store.datasets.get(ds.name) is ds

    def _prepare(self, todo: list[DatasetView]) -> None:
        t0 = time.perf_counter()
        ready = [ds for ds in todo if self._arrays(ds)]
        t_arrays = time.perf_counter() - t0
        count, made = self._thumbnails(ready)
        t_thumbs = time.perf_counter() - t0 - t_arrays
        for ds in ready:
            if self._current(ds):
                thread = self.sprites.warm(ds.name, ds.version, ds.images, ds.n, ds.grid)
                if thread is not None:  # None: a request has started this dataset's pages already
                    thread.join()
        for ds in todo:
            self._prepared.add(ds)
        seconds = time.perf_counter() - t0
        self.last = {"datasets": [ds.name for ds in todo], "seconds": seconds, "arrays_seconds": t_arrays,
                     "thumbnails": count, "thumbnail_bytes": made}
        log.info("prepared %s in the background in %.1f s: arrays %.2f s, %d thumbnails (%.1f MB) %.1f s, "
                 "sprite pages %.1f s", ", ".join(self.last["datasets"]), seconds, t_arrays, count, made / 2**20,
                 t_thumbs, seconds - t_arrays - t_thumbs)

    def _arrays(self, ds: DatasetView) -> bool:
        """Load (and so verify) what the image, neighbour and point routes read; False if the view was
        replaced meanwhile or its images fail their check."""
        steps = [("images", lambda: ds.images), ("labels", lambda: ds.labels), ("sample ids", lambda: ds.sample_ids),
                 ("sprite grid", lambda: ds.grid), ("report", lambda: self.store.report)]
        for m in ds.models.values():
            steps += [(f"{m.name} predictions", lambda m=m: m.pred), (f"{m.name} confidence", lambda m=m: m.confidence),
                      (f"{m.name} k-NN graph", lambda m=m: m.knn)]
        # the page's layout, built for every page load, reads the training dynamics it shows first
        steps.append(("training dynamics", lambda: ds.dynamics_model() and ds.dynamics_model().dynamics))
        images_ok = True
        for what, load in steps:
            if not self._current(ds):
                return False
            try:
                load()
            except Exception as e:  # noqa: BLE001 - CacheError and the like: the request that needs it says so
                log.warning("%s: %s not prepared (%s)", ds.name, what, e)
                images_ok = images_ok and what != "images"
        return images_ok

    def _thumbnails(self, views: list[DatasetView]) -> tuple[int, int]:
        """Hover-sized thumbnails of ``views``, one row of each in turn, until :attr:`thumb_share` of the
        cache's bound was added; returns (thumbnails filed, bytes added).

        They are encoded by :mod:`explorer.thumbworker` in a process of its own, so that neither
        the encoding nor its zlib calls wait for the GIL the request threads hold; where that
        process cannot run, here.
        """
        budget = self.thumbs.max_bytes * self.thumb_share
        jobs = [(ds, ds.grid.scale_for(HOVER_PX)) for ds in views if self._current(ds)]
        if not jobs:
            return 0, 0
        try:
            return self._thumbnails_apart(jobs, budget)
        except OSError as e:
            log.warning("thumbnails prepared in the server's own process (%s)", e)
            return self._thumbnails_here(jobs, budget)

    def _thumbnails_apart(self, jobs: list[tuple[DatasetView, int]], budget: float) -> tuple[int, int]:
        spec = {"jobs": [[str(Path(ds.samples_dir) / "images.npy"), ds.n, scale] for ds, scale in jobs]}
        proc = subprocess.Popen([sys.executable, "-m", "explorer.thumbworker"], cwd=ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, bufsize=1 << 20)
        count = made = 0
        try:
            proc.stdin.write(json.dumps(spec).encode())
            proc.stdin.close()
            while True:
                head = proc.stdout.read(FRAME.size)
                if len(head) < FRAME.size:
                    break
                j, row, size = FRAME.unpack(head)
                data = proc.stdout.read(size)
                if len(data) < size:  # the process ended mid-thumbnail: never file half a PNG
                    break
                ds, scale = jobs[j]
                if row % 512 == 0 and not any(self._current(d) for d, _ in jobs):
                    break  # every view was replaced: nothing of this pass is wanted
                added = self.thumbs.put(ds.name, ds.version, row, scale, data) if self._current(ds) else 0
                count, made = count + (added > 0), made + added
                if made > budget:
                    break
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
            if proc.wait() > 0:  # killed (made enough) is negative; its own error went to the server's log
                log.warning("the thumbnail process exited with status %d", proc.returncode)
        return count, made

    def _thumbnails_here(self, jobs: list[tuple[DatasetView, int]], budget: float) -> tuple[int, int]:
        count = made = 0
        for row in range(max((ds.n for ds, _ in jobs), default=0)):
            if row % 512 == 0:
                jobs = [j for j in jobs if self._current(j[0])]  # a replaced view's thumbnails: no more
                if not jobs:
                    break
            for ds, scale in jobs:
                if row < ds.n:
                    added = self.thumbs.prepare(ds.name, ds.version, ds.images, row, scale)
                    count, made = count + (added > 0), made + added
                    if made > budget:
                        return count, made
        return count, made


def start(app) -> Preparation:
    """Start preparing the datasets of ``app`` (:func:`explorer.app.create_app`) in the background;
    the preparation is also ``app.server.extensions["explorer_warmup"]``."""
    images = app.server.extensions["explorer_images"]
    prep = Preparation(app.explorer_store, images["sprites"], images["thumbs"])
    app.server.extensions["explorer_warmup"] = prep
    return prep.start()

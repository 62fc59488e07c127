"""``python -m explorer.thumbworker``: encode thumbnails for :mod:`explorer.warmup` in a process of its own.

A thread of the server would share its GIL with the request threads: under the load of a
class opening the page together it got the GIL back after each thumbnail's zlib call only
now and then, some hundred thumbnails a second.  This process encodes them on a core of
its own and streams them back; the server only files them in its cache.

Reads one JSON object on stdin: ``{"jobs": [[images_path, rows, scale], ...]}`` (images
the server has verified, ``uint8`` ``.npy`` files); writes, one row of each job in turn,
frames of ``>HII`` (job, row, length) and the bytes of :func:`explorer.thumbnails.encode_png`
of that row at the job's scale.  It stops when its reader goes away.
"""
from __future__ import annotations

import json
import os
import struct
import sys

import numpy as np

from .thumbnails import encode_png

FRAME = struct.Struct(">HII")


def main() -> int:
    spec = json.loads(sys.stdin.read())
    jobs = [(np.load(path, mmap_mode="r", allow_pickle=False), int(rows), int(scale))
            for path, rows, scale in spec["jobs"]]
    out = sys.stdout.buffer
    try:
        for row in range(max((rows for _, rows, _ in jobs), default=0)):
            for j, (images, rows, scale) in enumerate(jobs):
                if row < rows:
                    data = encode_png(np.asarray(images[row]), scale)
                    out.write(FRAME.pack(j, row, len(data)) + data)
        out.flush()
    except BrokenPipeError:  # the server has what it wanted (or is gone): leave quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())

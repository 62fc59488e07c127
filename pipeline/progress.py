"""What a user sees while a stage works: a transient bar per step, redrawn every second.

A step that counts its work (t-SNE iterations, cross-validation folds, query blocks) moves
its bar through a ``(done, total)`` callback; a step that cannot (Annoy's k-NN graph of
70,000 images, a network's predictions, UMAP's spectral start) still shows its elapsed
time moving, since :func:`ticking` redraws the bar every :data:`TICK` seconds.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator

#: seconds between redraws of a bar whose step has not reported (a terminal never stands still longer)
TICK = 1.0


def bar_updater(enabled: bool, desc: str) -> Callable[[int, int], None] | None:
    """A (done, total) callback drawing a transient progress bar (closed when done reaches total)."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    bar = tqdm(total=1, desc=desc, leave=False, dynamic_ncols=True)

    def step(done: int, total: int) -> None:
        bar.total, bar.n = total, done
        bar.refresh()
        if done >= total:
            bar.close()

    return step


@contextmanager
def ticking(enabled: bool, desc: str) -> Iterator[Callable[[int, int], None] | None]:
    """A transient bar shown while the block runs, with its elapsed time redrawn every second.

    Yields a (done, total) callback for the parts of the block that count their work, or None
    when progress is off.
    """
    if not enabled:
        yield None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=None, desc=desc, leave=False, dynamic_ncols=True)
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(TICK):
            bar.refresh()

    def step(done: int, total: int) -> None:
        bar.total, bar.n = total, done
        bar.refresh()

    thread = threading.Thread(target=tick, name=f"progress: {desc.strip()}", daemon=True)
    thread.start()
    try:
        yield step
    finally:
        stop.set()
        thread.join()
        bar.close()

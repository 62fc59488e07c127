"""Reviewing label suspects with the keyboard (issue 25 §1, ``assets/corrections.js``): the time from a key
pressed on a suspect of the Label issues grid to its badge drawn and the next suspect focused, in headless
Chromium against ``python -m explorer``, with the tab's own fresh load in the same run as the reference.

``python -m benchmarks.review_bench [--cache DIR]``; ``python -m benchmarks --sections review`` (the default
run's cache). The corrections are written into a hard-linked copy of the cache, never into the cache given.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Row, explorer_in_chromium, to_markdown

SECTION = "review: label suspects reviewed with the keyboard (Label issues grid)"
KEYS = "acmacmacmacmacmacmac"  # take the suggestion, label right, ambiguous, ... over 20 suspects


def review(browser, url: str, dataset: str) -> tuple[list[float], float]:
    """(seconds per suspect, seconds of the tab's fresh load) on one page of the CNN's suspects."""
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    try:
        address = f"{url}/?tab=issues&ds={dataset}&model=cnn"
        t0 = time.perf_counter()
        page.goto(address)
        page.wait_for_selector("#li-grid .issue-card", timeout=120_000)
        load = time.perf_counter() - t0
        page.wait_for_timeout(2000)  # the warm-up's background work settles
        rows = page.locator("#li-grid .issue-card").evaluate_all("els => els.map(e => e.dataset.row)")
        page.locator("#li-grid .issue-card").first.focus()
        times = []
        for i, key in enumerate(KEYS[:len(rows) - 1]):
            t = time.perf_counter()
            page.keyboard.press(key)
            page.wait_for_selector(f"#li-grid .issue-card[data-row='{rows[i]}'][data-decision]", timeout=30_000)
            page.wait_for_function(f"() => document.activeElement.dataset.row === '{rows[i + 1]}'")
            times.append(time.perf_counter() - t)
        return times, load
    finally:
        page.context.close()


def bench_review(cache) -> list[Row]:
    from core.store import ArtifactStore

    datasets = list(ArtifactStore(cache).read_current()["datasets"])
    rows = []
    with tempfile.TemporaryDirectory(prefix="review-bench-") as tmp:
        copy = Path(tmp) / "cache"
        shutil.copytree(cache, copy, copy_function=os.link, ignore=shutil.ignore_patterns("corrections.jsonl"))
        with explorer_in_chromium(copy) as (browser, url):
            for name in datasets:
                times, load = review(browser, url, name)
                median = statistics.median(times)
                rows.append(Row(SECTION, f"{name}: a key on a suspect to its badge and the next suspect focused "
                                f"({len(times)} suspects, median; max {max(times) * 1000:.0f} ms; a hundred take "
                                f"{100 * median:.0f} s)", f"{median * 1000:.0f} ms",
                                f"the tab's fresh load {load:.1f} s", f"{median / load:.2f}x", "<= 1 s a suspect",
                                median <= 1.0))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.review_bench", description=__doc__)
    p.add_argument("--cache", type=Path, default=Path("cache"), help="a pipeline cache with label issues")
    args = p.parse_args(argv)
    print(to_markdown(bench_review(args.cache)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

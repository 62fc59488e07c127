"""Shared fixtures: seeded randomness, tiny synthetic data, the real datasets fetched once."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
#: Every process the tests start inherits this variable, so the session can find any left running.
RUN_MARKER = "MNIST_EXPLORER_TEST_RUN"


def _processes_of_this_run(marker: str) -> list[str]:
    """``"pid command"`` of every live process (but this one) whose environment carries ``marker``."""
    found = []
    needle = f"{RUN_MARKER}={marker}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{proc.name} {command[:120]}")
        except OSError:
            continue  # ended meanwhile, or not ours to read
    return found


@pytest.fixture(scope="session", autouse=True)
def no_process_outlives_the_tests():
    """Fail the run if any process a test started (a pipeline, an explorer, a browser) is still running."""
    import time

    marker = f"{os.getpid()}-{time.time_ns()}"
    os.environ[RUN_MARKER] = marker
    yield
    deadline = time.time() + 15
    while (left := _processes_of_this_run(marker)) and time.time() < deadline:
        time.sleep(0.2)
    assert not left, f"processes started by the tests are still running: {left}"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """300 points in 3 well-separated 10-D clusters, plus one class with a single sample."""
    r = np.random.default_rng(1)
    centres = r.normal(scale=10, size=(3, 10))
    labels = np.repeat([0, 1, 2], 100)
    X = centres[labels] + r.normal(size=(300, 10))
    X = np.vstack([X, centres[:1] * -1])
    labels = np.append(labels, 3)
    return X.astype(np.float32), labels.astype(np.int64)


@pytest.fixture(scope="session")
def tiny_images() -> dict:
    """A dataset-shaped dict of small uint8 arrays with class-dependent patterns and a constant image."""
    r = np.random.default_rng(2)

    def make(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.arange(n) % 10
        x = r.integers(0, 40, size=(n, 28, 28))
        for c in range(10):
            x[y == c, 2 + 2 * c: 6 + 2 * c, 4:24] = 250  # a bar whose height says the class
        x[0] = 128  # a constant image
        return x.astype(np.uint8), y.astype(np.uint8)

    xtr, ytr = make(600)
    xte, yte = make(200)
    return {"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte}


@pytest.fixture(scope="session")
def real_data_dir(tmp_path_factory) -> Path:
    """Both real datasets, fetched once through the project's own offline-capable sources.

    Reuses ``./cache/data`` when an earlier run left verified copies there, so a
    developer's test run does not download again; CI starts clean and fetches.
    """
    local = ROOT / "cache" / "data"
    if all((local / f"{n}.npz").is_file() for n in ("mnist", "fashion-mnist")):
        return local
    data = tmp_path_factory.mktemp("data")
    r = subprocess.run([sys.executable, "-m", "pipeline", "fetch", "--data-dir", str(data), "-q"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return data


# -- explorer: a synthetic cache, a live server and a headless Chromium -------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def explorer_cache(tmp_path_factory) -> Path:
    """A complete synthetic cache (300 points per dataset) written by ``tests/explorer_data.py``."""
    from explorer_data import write_synthetic_cache

    root = tmp_path_factory.mktemp("explorer-cache")
    write_synthetic_cache(root, n=300, seed=0)
    return root


@pytest.fixture(scope="session")
def explorer_app(explorer_cache):
    from explorer.app import create_app
    from core.store import ArtifactStore

    return create_app(ArtifactStore(explorer_cache))


@pytest.fixture(scope="session")
def explorer_url(explorer_app):
    """Base URL of the explorer served by waitress on a free loopback port, in a thread."""
    import threading

    from waitress import create_server

    server = create_server(explorer_app.server, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never ``playwright install``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh laptop-sized page (1366x768) per test."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)  # generous: CI shares 2 cores with the server under test
    yield pg
    context.close()

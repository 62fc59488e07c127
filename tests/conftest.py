"""Shared fixtures: seeded randomness, tiny synthetic data, the real datasets fetched once."""
from __future__ import annotations

import os

if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:  # before numpy loads its BLAS
    # One core per pytest-xdist worker, for it and every process it starts (a pipeline, a notebook
    # kernel), the same in all of them (a run compared with another must use as many BLAS threads):
    # two TensorFlows (oneDNN), or two BLAS, each spinning two threads on 2 cores took 41 s each
    # for the tiny run that takes 18 s alone and 19-21 s side by side on one thread each.
    for _var in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
#: Every process the tests start inherits this variable, so the session can find any left running.
RUN_MARKER = "MNIST_EXPLORER_TEST_RUN"


def _processes_of_this_run(marker: str) -> list[str]:
    """``"pid command"`` of every live process (but this one) whose environment carries ``marker``."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if proc.pid == os.getpid():
            continue
        try:
            if proc.environ().get(RUN_MARKER) == marker and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(f"{proc.pid} {' '.join(proc.info['cmdline'] or [])[:120]}")
        except psutil.Error:
            continue  # ended meanwhile, or not ours to read
    return found


def pytest_collection_modifyitems(items) -> None:
    """Every test that takes a browser page is a ``browser`` test (pytest.ini: the tiers).

    In pytest-xdist's workers (``test.sh`` runs ``-n 2 --dist loadfile``: a file's tests stay on
    one worker, so no module-wide fixture is made twice) the files with most slow tests come
    first: the browser and fast files then fill the other worker while those run.
    """
    for item in items:
        if {"page", "browser"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        slow: dict[str, int] = {}  # file -> its slow tests: the file with most of them goes first
        for i in items:
            if i.get_closest_marker("slow"):
                slow[i.nodeid.split("::")[0]] = slow.get(i.nodeid.split("::")[0], 0) + 1
        items.sort(key=lambda i: -slow.get(i.nodeid.split("::")[0], 0))  # stable: each file's own order kept


def once_per_run(tmp_path_factory, name: str, make) -> Path:
    """The folder ``name`` that ``make(folder)`` fills, made once per test run: under pytest-xdist,
    the first worker to ask makes it in the run's shared temporary folder and the others wait for it."""
    import shutil

    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # pytest-N/, above popen-gwK/
    folder, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a failed try's
            folder.mkdir()
            make(folder)
            done.touch()
    return folder


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


def pipeline_main(*args) -> subprocess.CompletedProcess:
    """``python -m pipeline *args`` run in this process through ``pipeline.cli.main``, as the shell would see it.

    The exit code, stdout, and stderr (the log lines included) come back as
    :func:`subprocess.run` gives them. TensorFlow, numba's compiled UMAP and the datasets are
    then loaded once per test session instead of once per command. Where a signal, a crash or
    a fresh interpreter is under test, start ``python -m pipeline`` as a process instead.
    """
    import contextlib
    import io
    import logging
    import signal

    from pipeline.cli import main

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    signals = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    root.handlers = []  # main's logging.basicConfig then logs to the stderr captured here
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as e:  # argparse's errors and --help
                code = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
    finally:
        root.handlers, root.level = handlers, level
        for sig, handler in signals.items():  # main makes SIGTERM and SIGHUP raise KeyboardInterrupt
            signal.signal(sig, handler)
    return subprocess.CompletedProcess([sys.executable, "-m", "pipeline", *argv], code, out.getvalue(),
                                       err.getvalue())


@pytest.fixture(scope="session")
def real_data_dir(tmp_path_factory) -> Path:
    """Both real datasets, fetched once through the project's own offline-capable sources.

    Reuses ``./cache/data`` when an earlier run left verified copies there, so a
    developer's test run does not download again; CI starts clean and fetches.
    """
    local = ROOT / "cache" / "data"
    if all((local / f"{n}.npz").is_file() for n in ("mnist", "fashion-mnist")):
        return local

    def fetch(data: Path) -> None:
        r = pipeline_main("fetch", "--data-dir", data, "-q")
        assert r.returncode == 0, r.stderr[-2000:]

    return once_per_run(tmp_path_factory, "data", fetch)


#: The tiny real run most pipeline tests share: MNIST, the pixel k-NN and the CNN (one epoch: most of a
#: fit's time is its snapshots' and validation's passes over the 10,000 test images), 300 samples shown.
TINY = ["--dataset", "mnist", "--models", "pixels,cnn", "--train-subset", "1500", "--epochs", "1",
        "--embed-subset", "300", "--snapshot-samples", "100", "--tsne-iter", "100", "-q"]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, real_data_dir) -> subprocess.CompletedProcess:
    """``all --no-serve`` with :data:`TINY`, run once per test run into a cache that no test changes.

    What it printed is in ``stdout`` and ``stderr``, the cache is ``tiny_run.cache``; tests that
    change a cache take :func:`tiny_cache`, a copy of it.
    """
    def run(folder: Path) -> None:
        r = pipeline_main("all", "--no-serve", "--cache-dir", folder / "cache", "--data-dir", real_data_dir, *TINY)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
        (folder / "stdout").write_text(r.stdout)
        (folder / "stderr").write_text(r.stderr)

    folder = once_per_run(tmp_path_factory, "tiny-run", run)
    r = subprocess.CompletedProcess(["python", "-m", "pipeline", "all", *TINY], 0, (folder / "stdout").read_text(),
                                    (folder / "stderr").read_text())
    r.cache = folder / "cache"
    return r


@pytest.fixture
def tiny_cache(tiny_run, tmp_path) -> Path:
    """A copy of the session's tiny cache (:func:`tiny_run`) for this test alone; file times kept."""
    import shutil

    return Path(shutil.copytree(tiny_run.cache, tmp_path / "cache", symlinks=True))


# -- explorer: a synthetic cache, a live server and a headless Chromium -------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def explorer_cache(tmp_path_factory) -> Path:
    """A complete synthetic cache (300 points per dataset) written by ``synthetic/cache.py``."""
    from synthetic.cache import write_synthetic_cache

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


#: Run in every test page before its own scripts: the URL of each fetch whose JSON the page's code
#: has received (pushed in a later task than the one that hands it over, so once a URL is listed,
#: what the page did with that JSON is done). The browser tests wait on it, not on time.
RECORD_FETCHED_JSON = """(() => {
  const got = window.__jsonFetched = [], fetch0 = window.fetch;
  window.fetch = function (input) {
    const url = String((input && input.url) || input);
    return fetch0.apply(this, arguments).then(function (r) {
      const json = r.json.bind(r);
      r.json = function () {
        return json().then(function (v) { setTimeout(function () { got.push(url); }, 0); return v; });
      };
      return r;
    });
  };
})();"""


@pytest.fixture
def page(browser):
    """A fresh laptop-sized page (1366x768) per test, recording what it fetched (:data:`RECORD_FETCHED_JSON`)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    context.add_init_script(RECORD_FETCHED_JSON)
    pg = context.new_page()
    pg.set_default_timeout(30_000)  # generous: CI shares 2 cores with the server under test
    yield pg
    context.close()

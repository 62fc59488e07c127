"""Screenshots of the explorer while a pipeline publishes (issue 23): the waiting page, and the page with
the pixels' layouts ready while the CNN trains, at 1366x768 and 390x844.

    python scripts/live_screenshots.py [--out docs/screenshots]

A synthetic cache (``synthetic/cache.py``) with ``current.json`` cut down and a ``progress.json`` naming
this process stands in for the running pipeline; headless Debian Chromium draws the pages.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.store import ArtifactStore, write_json_atomic  # noqa: E402
from synthetic.cache import write_synthetic_cache  # noqa: E402

SIZES = {"1366": (1366, 768), "390": (390, 844)}
COMING = [{"model": "cnn", "title": "CNN", "proj": "pca", "eta_s": 75.0},
          {"model": "cnn", "title": "CNN", "proj": "umap", "eta_s": 130.0},
          {"model": "mlp", "title": "Dense network", "proj": "pca", "eta_s": 160.0}]
EPOCHS = {"model": "cnn", "epoch": 4, "of": 8, "history": [
    {"epoch": e, "loss": loss, "accuracy": acc, "val_accuracy": val} for e, loss, acc, val in
    ((1, 0.412, 0.874, 0.951), (2, 0.121, 0.962, 0.972), (3, 0.083, 0.975, 0.979))]}


def progress(root: Path, **entry) -> None:
    write_json_atomic(root / "progress.json", {"pid": os.getpid(), "updated": time.time(), "datasets": {
        "mnist": {"title": "MNIST", **entry},
        "fashion-mnist": {"title": "Fashion-MNIST", "stage": "waiting", "words": "waiting for its turn",
                          "detail": ""}}})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright
    from waitress import create_server

    from explorer.app import create_app

    root = Path(tempfile.mkdtemp(prefix="live-shots-"))
    write_synthetic_cache(root, n=2000, seed=0)
    full = json.loads((root / "current.json").read_text())
    (root / "current.json").unlink()
    progress(root, stage="train", words="training the pixel k-NN", detail="10,000 test images",
             coming=[{"model": "pixels", "title": "Raw pixels (k-NN)", "proj": "pca", "eta_s": 12.0}, *COMING])
    server = create_server(create_app(ArtifactStore(root)).server, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}/"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        for name, (w, h) in SIZES.items():
            page = browser.new_page(viewport={"width": w, "height": h})
            page.goto(url)
            page.wait_for_selector("#wait-text .live-line")
            page.screenshot(path=str(args.out / f"live-waiting-{name}.png"))
            page.close()
        cur = json.loads(json.dumps(full))
        cur["datasets"] = {"mnist": cur["datasets"]["mnist"]}
        px = cur["datasets"]["mnist"]["models"]["pixels"]
        px.update(projections={k: v for k, v in px["projections"].items() if k in ("pca", "tsne")},
                  projections3d={}, faithfulness={})
        cur["datasets"]["mnist"]["models"] = {"pixels": px}
        cur.pop("report")
        write_json_atomic(root / "current.json", cur)
        progress(root, stage="train", words="training the networks", detail="", coming=COMING, epochs=EPOCHS)
        for name, (w, h) in SIZES.items():
            page = browser.new_page(viewport={"width": w, "height": h})
            page.goto(url)
            page.wait_for_function("() => { const gd = document.querySelector('#ex-scatter .js-plotly-plot');"
                                   " return gd && gd._fullData && gd._fullData.length > 1; }")
            page.wait_for_selector("#banner .live-spark")
            page.wait_for_timeout(800)  # let the confusion matrix finish drawing (a picture, not a test)
            page.screenshot(path=str(args.out / f"live-computing-{name}.png"))
            page.close()
        browser.close()
    server.close()
    print(f"wrote live-*.png to {args.out}")


if __name__ == "__main__":
    main()

"""Screenshot of the example notebook with the explorer inline, as a notebook shows it.

Runs ``examples/explore_your_model.ipynb`` in a real Jupyter kernel (nbclient), renders the
executed notebook with nbconvert's JupyterLab template, and photographs it in headless
Chromium while the kernel still serves the inline explorer::

    .venv/bin/python scripts/notebook_screenshot.py --cache-dir /tmp/cold --out docs/screenshots

The notebook adds its dataset ("fashion-student") to that cache.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "cache")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--width", type=int, default=1366)
    args = parser.parse_args(argv)

    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter
    from playwright.sync_api import sync_playwright

    os.environ["MNIST_EXPLORER_CACHE"] = str(args.cache_dir.resolve())
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    nb = nbformat.read(ROOT / "examples" / "explore_your_model.ipynb", as_version=4)
    work = Path(tempfile.mkdtemp(prefix="nbshot-"))
    client = NotebookClient(nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(work)}})
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                print(f"cell {i}...", flush=True)
                client.execute_cell(cell, i)
        html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
        page_file = work / "notebook.html"
        page_file.write_text(html)
        args.out.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": args.width, "height": 900})
            page.goto(page_file.as_uri())
            frame_el = page.locator("iframe").first
            frame_el.scroll_into_view_if_needed()
            frame = frame_el.element_handle().content_frame()
            frame.wait_for_function("() => { const gd = document.querySelector('#ex-scatter .js-plotly-plot');"
                                    " return gd && gd._fullData && gd._fullData.length > 1; }", timeout=60_000)
            page.wait_for_timeout(1500)
            box = frame_el.bounding_box()
            page.evaluate(f"window.scrollBy(0, {box['y'] - 140})")
            page.wait_for_timeout(500)
            out = args.out / "notebook-inline.png"
            page.screenshot(path=str(out))
            print(f"wrote {out}")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

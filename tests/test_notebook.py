"""The example notebook, executed top to bottom in a real Jupyter kernel (nbclient + ipykernel),
and the inline explorer it shows, asked while the kernel still serves it."""
from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOK = ROOT / "examples" / "explore_your_model.ipynb"


def kernel_cache(tmp_path: Path, real_data_dir: Path, monkeypatch) -> Path:
    """A fresh cache holding only the verified datasets; the kernel inherits it through the environment."""
    cache = tmp_path / "cache"
    (cache / "data").mkdir(parents=True)
    for npz in real_data_dir.glob("*.npz"):
        (cache / "data" / npz.name).symlink_to(npz)
    monkeypatch.setenv("MNIST_EXPLORER_CACHE", str(cache))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    return cache


def outputs(cell) -> str:
    """A cell's text and HTML outputs, joined."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        data = out.get("data", {})
        parts += [data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(parts)


@pytest.mark.slow  # a Jupyter kernel trains the notebook's CNN on 20,000 images
def test_the_example_notebook_runs_and_shows_the_explorer_inline(tmp_path, real_data_dir, monkeypatch):
    cache = kernel_cache(tmp_path, real_data_dir, monkeypatch)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # run from a folder that is not the checkout: `import explorer` must not depend on the cwd
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert errors == []
        text = "\n".join(outputs(c) for c in nb.cells if c.cell_type == "code")
        acc = float(re.search(r"test accuracy (0\.\d+) after", text).group(1))
        assert acc > 0.75  # two epochs on 20,000 images: a model worth looking at
        assert "Fashion-MNIST, my CNN: 3000 samples, 10 classes" in text
        assert re.search(r"Shirt <-> T-shirt/top: \d+ confusions among 3000 images", text)
        frames = re.findall(r'<iframe[^>]*src="(http://127\.0\.0\.1:\d+/\?[^"]*)"', text)
        assert len(frames) == 2 and all("ds=fashion-student" in f for f in frames)
        assert "cell=6-0" in frames[1]
        # the inline app answers while the kernel serves it: its page, and its data routes
        with urllib.request.urlopen(frames[0], timeout=30) as r:
            assert r.status == 200 and "Embedding explorer" in r.read().decode()
        base = frames[0].split("?")[0]
        with urllib.request.urlopen(base + "sprites/fashion-student/0.png?v=x", timeout=60) as r:
            assert r.status == 200 and r.read(8) == b"\x89PNG\r\n\x1a\n"
    current = (cache / "current.json").read_text()
    assert '"fashion-student"' in current and '"imported"' in current

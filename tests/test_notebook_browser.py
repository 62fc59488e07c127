"""The inline explorer of a notebook, in a real headless Chromium: a kernel runs
``explorer.from_arrays(...)`` on a user's 32x32 RGB dataset and ``.show()``; the frame it puts in
the notebook draws, and a hover in it shows that row's image, pixel for pixel."""
from __future__ import annotations

import re

import nbformat
import numpy as np
from nbclient import NotebookClient

from synthetic.imported import decode_imported_row, imported_images
from test_explorer_browser import GD, hover_isolated, tooltip_image, wait_scatter
from test_notebook import kernel_cache, outputs

CLASSES = ["apple", "bus", "cat", "dog", "eel", "fox"]


def test_the_inline_app_of_a_users_rgb_dataset_hovers_the_right_image(page, tmp_path, real_data_dir, monkeypatch):
    kernel_cache(tmp_path, real_data_dir, monkeypatch)
    labels = np.arange(150) % len(CLASSES)
    images = imported_images(labels, (32, 32, 3), len(CLASSES))
    emb = np.random.default_rng(0).normal(size=(150, 12)) + 5 * np.eye(len(CLASSES), 12)[labels]
    np.savez(tmp_path / "mine.npz", images=images, labels=labels, embeddings=emb)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import numpy as np\nimport explorer\n"
        f"z = np.load({str(tmp_path / 'mine.npz')!r})\n"
        f"ds = explorer.from_arrays(z['images'], z['labels'], z['embeddings'], class_names={CLASSES!r},\n"
        "                           name='rgb32', perplexity=10, methods=('pca', 'tsne'))\n"
        "ds.show()")])
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel():
        client.execute_cell(nb.cells[0], 0)
        text = outputs(nb.cells[0])
        assert "rgb32: 150 samples, 6 classes" in text
        src = re.search(r'<iframe[^>]*src="(http://127\.0\.0\.1:\d+/\?ds=rgb32)"', text).group(1)
        # as the notebook shows it: in a frame
        page.set_content(f'<iframe src="{src}" width="100%" height="820"></iframe>')
        page.wait_for_function("() => window.frames.length === 1")
        frame = next(f for f in page.frames if f.url.startswith("http://127.0.0.1"))
        wait_scatter(frame)  # UMAP, the page's first choice, was not made: it opens on a layout there is
        assert frame.evaluate(f"() => {GD.format(sel='#ex-scatter')}.layout.meta.dataset") == "rgb32"
        assert frame.locator("input[name=ctl-proj][value=tsne]").is_checked()
        assert "no umap projection" not in frame.locator("body").inner_text()
        # and hovered, on its own page
        page.goto(src)
        wait_scatter(page)
        page.wait_for_function(f"() => {GD.format(sel='#ex-scatter')}.layout.meta.dataset === 'rgb32'")
        pt, tip = hover_isolated(page)
        row = pt["row"]
        assert f"True: {CLASSES[labels[row]]}" in tip.inner_text()
        shot = tooltip_image(page, "RGB")
        scale = shot.shape[0] // 32
        tile = shot[scale // 2::scale, scale // 2::scale][:32, :32]
        assert decode_imported_row(tile) == row
        assert np.abs(tile - images[row].astype(np.int16)).max() <= 8  # every channel

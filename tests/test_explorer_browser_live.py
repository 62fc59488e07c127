"""The explorer in a real headless Chromium while a pipeline publishes (issue 23): the waiting page opens
the explorer by itself, and a page opened before the CNN existed gains it without a reload."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from core.store import ArtifactStore, write_json_atomic
from test_explorer_browser import GD, wait_scatter
from test_explorer_browser_select import drag_box, gallery_rows, wait_gallery
from test_explorer_live import COMING, EPOCHS, partial, progress_file, touch


@pytest.fixture
def live_server(tmp_path, explorer_cache):
    """``start(current)``: a copy of the session's synthetic cache with ``current`` as its current.json
    (``None``: none yet) and a progress.json of this process, served; returns (base URL, cache root, full)."""
    from waitress import create_server

    from explorer.app import create_app

    servers = []

    def start(current=None, **progress):
        root = Path(shutil.copytree(explorer_cache, tmp_path / "cache", symlinks=True))
        full = json.loads((root / "current.json").read_text())
        (root / "current.json").unlink()
        if current is not None:
            write_json_atomic(root / "current.json", current(full))
        progress_file(root, **progress)
        server = create_server(create_app(ArtifactStore(root)).server, host="127.0.0.1", port=0, threads=4)
        threading.Thread(target=server.run, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.effective_port}", root, full

    yield start
    for s in servers:
        s.close()


def publish(root: Path, current: dict) -> None:
    write_json_atomic(root / "current.json", current)
    touch(root / "current.json")


def test_the_waiting_page_opens_the_explorer_when_the_first_view_lands(page, live_server):
    url, root, full = live_server(None, stage="train", words="training the pixel k-NN", detail="")
    page.goto(url + "/")
    page.wait_for_selector("#wait-text")
    assert "MNIST: training the pixel k-NN" in page.locator("#wait-text").inner_text()
    publish(root, partial(full, {"pixels": ("pca",)}, extras=False))
    wait_scatter(page)  # reloaded by itself into the explorer
    assert "Raw pixels (k-NN)" in page.evaluate(f"() => {GD.format(sel='#ex-scatter')}.layout.title.text")


def model_labels(pg) -> list[str]:
    return [s.strip() for s in pg.locator("#ctl-model label").all_inner_texts()]


def test_the_cnn_landing_joins_the_menu_and_moves_only_an_untouched_page(page, browser, live_server):
    early = {"pixels": ("pca", "tsne")}  # the pixels' PCA and t-SNE are out, the CNN is coming
    url, root, full = live_server(lambda f: partial(f, early, extras=False), coming=COMING, epochs=EPOCHS,
                                  stage="train")
    # an untouched page (it chose the pixels' t-SNE itself), with a selection
    page.goto(url + "/")
    wait_scatter(page)
    assert model_labels(page) == ["Raw pixels (k-NN)", "CNN (computing, about 80 s)"]
    assert page.locator("#ctl-proj input[value='tsne']").is_checked()
    assert "CNN training, epoch 3 of 8" in page.locator("#banner").inner_text()
    rows = drag_box(page)
    wait_gallery(page, len(rows))
    # a touched page: its user chose the PCA
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        other = context.new_page()
        other.set_default_timeout(30_000)
        other.goto(url + "/")
        wait_scatter(other)
        other.locator("#ctl-proj input[value='pca']").check()
        other.wait_for_function("() => location.search.includes('proj=pca')")

        publish(root, partial(full, None))  # the CNN lands, with every layout
        progress_file(root, coming=[], stage="report", words="measuring separability", detail="")
        for pg in (page, other):  # both menus gain it without a reload
            pg.wait_for_function("() => [...document.querySelectorAll('#ctl-model label')]"
                                 ".some(l => l.innerText.trim() === 'CNN')")
        page.wait_for_function(f"() => {GD.format(sel='#ex-scatter')}.layout.meta.model === 'cnn'")
        page.wait_for_function("() => location.search.includes('model=cnn') && location.search.includes('proj=umap')")
        assert "Now showing the CNN's UMAP" in page.locator("#banner").inner_text()
        wait_gallery(page, len(rows))
        assert gallery_rows(page) == rows  # the selection made before survives the move
        # the touched page stays where its user put it
        other.wait_for_function("() => document.querySelector('#banner').innerText.includes('separability')")
        assert other.locator("#ctl-model input[value='pixels']").is_checked()
        assert other.locator("#ctl-proj input[value='pca']").is_checked()
        assert "model=pixels" in other.evaluate("location.search")
    finally:
        context.close()

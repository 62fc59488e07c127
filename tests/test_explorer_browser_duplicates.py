"""The Duplicates tab in a real headless Chromium: groups side by side with each member's label, split and id,
differing labels first; a click on a member of the samples opens it in Explore."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from core.store import ArtifactStore, write_json_atomic


def plant(store: ArtifactStore) -> dict:
    """A duplicates folder for the synthetic MNIST: rows 5 and 9 (labels differ), rows 0 and 2 with a copy
    of row 0 among the training images the test sample set lacks (shown from the folder's own images)."""
    from embeddings.duplicates import groups_of, write

    current = store.read_current()
    entry = current["datasets"]["mnist"]
    samples = store.resolve(entry["samples"])
    images = store.load_array(samples / "images.npy")
    labels = store.load_array(samples / "labels.npy").astype(np.int64)
    n = len(labels)
    assert labels[5] != labels[9] and labels[0] == labels[2]
    # the training image joins as an extra row n, a copy of row 0
    all_images = np.concatenate([images, images[0:1]])
    all_labels = np.concatenate([labels, labels[0:1]])
    in_train = np.r_[np.zeros(n, bool), True]
    global_id = np.r_[np.arange(n) + 60_000, 17]
    pairs = np.array([[5, 9], [0, n], [0, 2]])
    distance = np.array([0.001, 0.002, 0.003], np.float32)
    result = {"pairs": pairs, "distance": distance, "found": np.array([1, 1, 3], np.uint8),
              "sources": ["pixels", "cnn"], "group": groups_of(pairs, all_labels, distance, n + 1),
              "nearest": np.ones(n + 1, np.float32),
              "calibration": {"threshold": 0.004, "bound": "planted", "planted_quantile": 0.004,
                              "guard_quantile": 0.01, "planted_found": 0.95, "rule": "the smaller of two quantiles"}}
    folder = store.build("mnist", "duplicates", {"synthetic": True},
                         lambda out: write(out, result, all_images, all_labels, in_train, global_id, n, "aligned"))
    entry["duplicates"] = store.relative(folder)
    write_json_atomic(store.root / "current.json", current)
    return result


@pytest.fixture()
def dup_url(tmp_path):
    from waitress import create_server

    from explorer.app import create_app
    from synthetic.cache import write_synthetic_cache

    write_synthetic_cache(tmp_path, n=300, seed=0)
    store = ArtifactStore(tmp_path)
    result = plant(store)
    server = create_server(create_app(store).server, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}", store, result
    server.close()


def test_groups_with_labels_and_a_click_opens_explore(browser, dup_url):
    url, store, result = dup_url
    names = store.read_current()["datasets"]["mnist"]["class_names"]
    labels = store.load_array(store.resolve(store.read_current()["datasets"]["mnist"]["samples"]) / "labels.npy")
    page = browser.new_page()
    try:
        page.goto(f"{url}/?tab=duplicates&ds=mnist")
        page.wait_for_selector("#du-list .du-group")
        groups = page.locator("#du-list .du-group")
        assert groups.count() == 2
        first = groups.nth(0)
        assert "labels differ" in first.inner_text()  # the group whose labels differ comes first
        rows = [int(r) for r in first.locator(".du-member").evaluate_all("els => els.map(e => e.dataset.row)")]
        assert sorted(rows) == [5, 9]
        shown = first.locator(".du-label").all_inner_texts()
        assert sorted(shown) == sorted(names[labels[r]] for r in (5, 9))
        second = groups.nth(1)
        assert second.locator(".du-member").count() == 3
        assert "train #17" in second.inner_text() and "test #60002" in second.inner_text()
        assert second.locator(".du-member:not(.issue-card)").count() == 1  # the training image opens nothing
        assert "Threshold 0.0040" in page.locator("#du-note").inner_text()
        page.locator("#du-mixed input").check()
        page.wait_for_function("() => document.querySelectorAll('#du-list .du-group').length === 1")
        page.locator("#du-list .du-member.issue-card").nth(1).click()
        page.wait_for_function("() => location.search.includes('tab=explore')")
        page.wait_for_selector("#detail-img[data-row='9']", timeout=30_000)
    finally:
        page.close()

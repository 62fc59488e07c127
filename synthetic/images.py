"""The synthetic caches' images, neighbours and label-issue folders: each image shows its class as a bar and
its row number as bits (:func:`decode_row` reads it back), so a test can tell which image a page shows."""
from __future__ import annotations

import numpy as np

from core.store import ArtifactStore, save_npy_atomic, write_json_atomic

BIT_ROW = 26  # the row number is drawn in binary on image rows 26-27
N_BITS = 17   # enough for 70,000 rows


def draw_images(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per-class shape (a bar whose position is the class) plus the row index as bits."""
    n = len(labels)
    img = np.zeros((n, 28, 28), np.uint8)
    for i, c in enumerate(labels):
        top = 2 + 2 * int(c)
        img[i, top:top + 3, 4:24] = 200 + int(rng.integers(0, 55))
        img[i, 4:22, 2 + 2 * int(c)] = 120
        bits = [(i >> b) & 1 for b in range(N_BITS)]
        for b, on in enumerate(bits):
            if on:
                img[i, BIT_ROW:BIT_ROW + 2, 2 + b] = 255
    return img


def decode_row(image: np.ndarray) -> int:
    """Read back the row index drawn by :func:`draw_images` (used by tests)."""
    row = np.asarray(image)[BIT_ROW, 2:2 + N_BITS]
    return int(sum(1 << b for b, v in enumerate(row) if v > 127))


def knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest rows of each row (itself left out): int32 indices, float32 distances."""
    x = x.astype(np.float64)
    sq = (x * x).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0)  # no (n, n, d) temporary
    np.fill_diagonal(d2, np.inf)
    idx = np.argsort(d2, axis=1, kind="stable")[:, :k]
    dist = np.sqrt(np.take_along_axis(d2, idx, axis=1))
    return idx.astype(np.int32), dist.astype(np.float32)


def knn_fake(labels: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random same-class rows as "neighbours": valid shape and dtype in O(n) for big load-test caches."""
    n = len(labels)
    idx = np.empty((n, k), np.int32)
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        pick = rng.integers(0, len(rows), (len(rows), k))
        idx[rows] = rows[pick]
    clash = idx == np.arange(n)[:, None]
    idx[clash] = (idx[clash] + 1) % n  # never the row itself
    dist = np.sort(rng.uniform(0.5, 3.0, (n, k)).astype(np.float32), axis=1)
    return idx, dist


def write_issues(store: ArtifactStore, name: str, key: str, record: dict, score: np.ndarray,
                 suggested: np.ndarray, suspect: np.ndarray, ranked: list[dict]) -> str:
    """An issues folder (``docs/ARTIFACTS.md``) of ``name`` under ``key``; its path relative to the cache."""
    with store.writing(name, "issues", key, record) as d:
        save_npy_atomic(d / "score.npy", score)
        save_npy_atomic(d / "suggested.npy", suggested)
        save_npy_atomic(d / "suspect.npy", suspect)
        write_json_atomic(d / "ranked.json", ranked)
    return f"{name}/issues/{key}"

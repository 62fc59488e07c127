"""A synthetic cache's Layers folders (``layers/<key>/``, ``embeddings/layers.py``'s format) for its networks."""
from __future__ import annotations

import numpy as np

from core.store import ArtifactStore, config_key, save_npy_atomic, write_json_atomic

K = 10  # synthetic.cache.K: the neighbours a folder records

#: the layers the Layers view follows in each synthetic network, pixels first (as embeddings/layers.py names them)
LAYER_TITLES = {"mlp": ("pixels", "dense1", "embedding", "logits"),
                "cnn": ("pixels", "conv stage 1", "conv stage 2", "embedding", "logits")}
LAYER_FRAMED = 200  # framed images per synthetic layers folder (the rest are placed by their anchors)


def write_layers(store: ArtifactStore, name: str, model: str, labels: np.ndarray, mkey: str, skey: str, seed: int) -> str:
    """A layers folder: each layer's points drift from noise towards class clusters, separability climbs."""
    rng = np.random.default_rng([seed, len(name), len(model), 24])  # its own stream: the others' draws stay
    titles, n = LAYER_TITLES[model], len(labels)
    angles = np.linspace(0, 2 * np.pi, 10, endpoint=False)
    centres = np.stack([np.cos(angles), np.sin(angles)], 1) * 10.0
    noise = rng.normal(0, 4, (n, 2))
    rows = np.sort(rng.choice(n, min(LAYER_FRAMED, n), replace=False)).astype(np.int64)
    frames, anchors, table = [], [], []
    for i, t in enumerate(np.linspace(0, 1, len(titles)) ** 0.8):
        at = ((1 - t) * noise + t * centres[labels] + rng.normal(0, 0.5, (n, 2))).astype(np.float32)
        frames.append(at[rows])
        d = ((at[:, None, :] - at[rows][None]) ** 2).sum(-1)
        d[rows, np.arange(len(rows))] = -1.0  # a framed image's own point is its first anchor
        anchors.append(np.argsort(d, 1)[:, :5].astype(np.int32))  # embeddings.layers.ANCHORS
        table.append({"layer": i, "title": titles[i], "how": "784 values" if i == 0 else f"{64 >> i} values",
                      "dims": 784 if i == 0 else 64 >> i, "knn_accuracy": round(0.80 + 0.19 * t, 4),
                      "probe_accuracy": round(0.85 + 0.14 * t, 4), "silhouette": round(0.05 + 0.5 * t, 4),
                      "trustworthiness_umap": 0.95, "trustworthiness_pca": 0.8, "seconds": 0.1})
    frames = np.stack(frames)
    lkey = config_key({"synthetic-layers": name, "model": model}, mkey, skey)
    with store.writing(name, "layers", lkey, {"synthetic": True, "model": mkey}) as d:
        save_npy_atomic(d / "rows.npy", rows.astype(np.int64))
        save_npy_atomic(d / "anchors.npy", np.stack(anchors))
        save_npy_atomic(d / "umap.npy", frames)
        save_npy_atomic(d / "pca.npy", (frames * np.float32(0.5)).astype(np.float32))
        write_json_atomic(d / "layers.json", {"layers": table, "methods": ["umap", "pca"], "k": K})
    return f"{name}/layers/{lkey}"

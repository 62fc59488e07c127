"""A synthetic imported dataset ("your own data") for the explorer's tests and screenshots.

:func:`write_imported` writes what ``python -m pipeline import NAME --images ...`` writes
(``docs/ARTIFACTS.md``): a samples folder of ``(n, h, w)`` grey or ``(n, h, w, 3)`` RGB
uint8 images with ``index.npy`` = ``arange(n)``, 2 to 100 classes, and one or two models
of kind ``given`` (the user's embeddings, with ``space.npy``) or ``pixels``, each with
metrics, an embed folder, three layouts, label issues and faithfulness, ``dynamics: null``,
and a report part shaped like MNIST's.  Each image carries its row number as bits in the
bottom rows of its first channel (:func:`decode_imported_row`); its three channels differ
(a class-coloured square on a background whose red runs left to right and green top to
bottom), so a test can tell from drawn pixels which image, in which colours, is shown.
"""
from __future__ import annotations

import numpy as np

from core.store import ArtifactStore, config_key, save_npy_atomic, write_json_atomic
from synthetic.images import knn, write_issues

#: CIFAR-100's fine labels: realistic names, long and short, for up to 100 classes
CIFAR100 = ("apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly "
            "camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup "
            "dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower "
            "leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid "
            "otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road "
            "rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar sunflower "
            "sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale "
            "willow_tree wolf woman worm").split()
IMPORTED_BITS = 12  # rows up to 4,095
MODEL_TITLES = {"given": "your embeddings", "pixels": "Raw pixels (k-NN)"}
K = 10
FAITH_K = 10


def known_cells(classes: int, model: str = "given") -> dict[tuple[int, int], int]:
    """(true, predicted) -> count of a model's deliberate mistakes; every other off-diagonal cell is empty."""
    last = classes - 1
    return {(1, 2): 2, (3, 0): 1, (last, 0): 1} if model == "given" else {(2, 1): 2, (last, 3): 1}


def _bit_cells(h: int, w: int) -> list[tuple[int, int]]:
    """Pixel (y, x) of each row bit: left to right from x = 1 on the bottom row, then the rows above."""
    per_line = w - 2
    return [(h - 1 - b // per_line, 1 + b % per_line) for b in range(IMPORTED_BITS)]


def imported_images(labels: np.ndarray, shape: tuple[int, int, int], classes: int) -> np.ndarray:
    """uint8 (n, h, w) or (n, h, w, 3): background gradients, a class-coloured square, the row as bits."""
    h, w, c = shape
    n = len(labels)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.zeros((n, h, w, 3), np.uint8)
    img[..., 0] = (40 + 120 * xx / max(1, w - 1)).astype(np.uint8)  # red: left to right
    img[..., 1] = (30 + 100 * yy / max(1, h - 1)).astype(np.uint8)  # green: top to bottom
    img[..., 2] = 90
    side = max(3, min(h, w) // 3)
    for i, k in enumerate(labels):
        k = int(k)
        top = (k * 7) % max(1, h - side - 2)
        left = (k * 11) % max(1, w - side)
        hue = 2 * np.pi * k / classes
        img[i, top:top + side, left:left + side] = [int(127 + 120 * np.cos(hue + a)) for a in (0, 2.1, 4.2)]
    for b, (y, x) in enumerate(_bit_cells(h, w)):
        on = ((np.arange(n) >> b) & 1).astype(bool)
        img[:, y, x] = [0, 40, 200]
        img[on, y, x, 0] = 255
    return img[..., 0].copy() if c == 1 else img


def decode_imported_row(image: np.ndarray) -> int:
    """Read back the row number :func:`imported_images` drew into an image (h, w) or (h, w, 3)."""
    first = np.asarray(image)
    first = first[..., 0] if first.ndim == 3 else first
    h, w = first.shape
    return int(sum(1 << b for b, (y, x) in enumerate(_bit_cells(h, w)) if first[y, x] > 127))


def _predictions(labels: np.ndarray, cells: dict, classes: int, rng) -> tuple[np.ndarray, np.ndarray]:
    n = len(labels)
    pred = labels.copy()
    for (t, p), count in cells.items():
        rows = rng.permutation(np.flatnonzero((labels == t) & (pred == t)))[:count]
        assert len(rows) == count, "n too small for the known confusion cells"
        pred[rows] = p
    proba = rng.uniform(0, 1, (n, classes))
    conf = rng.uniform(0.3, 0.99, n)
    proba[np.arange(n), pred] = 0
    proba = proba / proba.sum(1, keepdims=True) * (1 - conf)[:, None]
    proba[np.arange(n), pred] = conf
    return pred, proba.astype(np.float32)


def _model(store: ArtifactStore, name: str, model: str, labels: np.ndarray, images: np.ndarray, names: list[str],
           skey: str, rng) -> tuple[dict, dict]:
    """One model's folders; its ``current.json`` and report entries."""
    n, classes = len(labels), len(names)
    pred, proba = _predictions(labels, known_cells(classes, model), classes, rng)
    wrong = labels != pred
    if model == "given":
        centres = rng.normal(0, 4, (classes, 16))
        space = (centres[labels] + rng.normal(0, 1, (n, 16))).astype(np.float32)
        space[wrong] = (0.5 * centres[labels[wrong]] + 0.5 * centres[pred[wrong]]).astype(np.float32)
    else:
        space = images.reshape(n, -1).astype(np.float32) / 255.0  # what the pipeline means: not stored
    idx, dist = knn(space, K)
    confusion = np.zeros((classes, classes), int)
    np.add.at(confusion, (labels, pred), 1)
    acc = float(np.trace(confusion) / n)
    mkey = config_key({"synthetic-imported-model": name, "model": model})
    metrics = {"kind": model, "title": MODEL_TITLES[model], "test_accuracy": acc, "class_names": names,
               "precision": (np.diag(confusion) / np.maximum(confusion.sum(0), 1)).tolist(),
               "recall": (np.diag(confusion) / np.maximum(confusion.sum(1), 1)).tolist(),
               "confusion": confusion.tolist(), "train_seconds": 0.0}
    with store.writing(name, "model", mkey, {"synthetic": True, "name": model}) as d:
        write_json_atomic(d / "metrics.json", metrics)
    ekey = config_key({"synthetic-imported-embed": name, "model": model}, mkey, skey)
    with store.writing(name, "embed", ekey, {"synthetic": True, "model": mkey, "samples": skey}) as d:
        save_npy_atomic(d / "pred.npy", pred)
        save_npy_atomic(d / "proba.npy", proba)
        if model == "given":
            save_npy_atomic(d / "space.npy", space)
        save_npy_atomic(d / "knn-indices.npy", idx)
        save_npy_atomic(d / "knn-distances.npy", dist)
    centres2 = rng.normal(0, 12, (classes, 2))
    projections, faith, proj_metrics = {}, {}, {}
    for j, method in enumerate(("umap", "tsne", "pca")):
        pos = centres2[labels].copy()
        pos[wrong] = 0.5 * (centres2[labels[wrong]] + centres2[pred[wrong]])
        coords = (pos + rng.normal(0, 1.0 + 0.3 * j, (n, 2))).astype(np.float32)
        pkey = config_key({"method": method, "model": model}, ekey)
        with store.writing(name, "proj", pkey, {"method": method, "model": model, "seconds": 0.1}) as d:
            save_npy_atomic(d / "coords.npy", coords)
        projections[method] = f"{name}/proj/{pkey}"
        f = ((np.arange(n) * 7 + j) % (FAITH_K + 1) / FAITH_K).astype(np.float32)
        fkey = config_key({"synthetic-imported-faith": name, "model": model, "method": method}, ekey)
        with store.writing(name, "faith", fkey, {"method": method, "k": FAITH_K, "embed": ekey}) as d:
            save_npy_atomic(d / "faithfulness.npy", f)
            save_npy_atomic(d / "false_neighbours.npy", ((1 - f) / 2).astype(np.float32))
        faith[method] = f"{name}/faith/{fkey}"
        nn = knn(coords, K)[0]
        proj_metrics[method] = {"knn_accuracy": float((labels[nn] == labels[:, None]).mean()),
                                "trustworthiness": round(0.85 - 0.05 * j, 3), "faithfulness": float(f.mean())}
    # label issues: exactly the model's mistakes, suggested = its prediction
    order = np.argsort(-proba, axis=1, kind="stable")
    suggested = np.where(order[:, 0] == labels, order[:, 1], order[:, 0]).astype(np.uint8)
    score = np.round(rng.uniform(0.0, 0.3, n), 4).astype(np.float32)
    bad = np.flatnonzero(wrong)
    score[bad] = np.round(np.linspace(0.95, 0.6, len(bad)), 4)
    ranked = [{"row": int(r), "id": int(r), "given": int(labels[r]), "suggested": int(suggested[r]),
               "score": float(score[r])} for r in sorted(bad.tolist(), key=lambda r: -score[r])]
    ikey = config_key({"synthetic-imported-issues": name, "model": model}, ekey)
    issues = write_issues(store, name, ikey, {"oos": "cv-5", "combine": "synthetic", "embed": ekey},
                          score, suggested, wrong, ranked)
    pairs = []
    for a in range(classes):
        for b in range(a + 1, classes):
            ab, ba = int(confusion[a, b]), int(confusion[b, a])
            pairs.append({"a": a, "b": b, "names": [names[a], names[b]], "confusions": ab + ba,
                          "confusions_ab": ab, "confusions_ba": ba, "overlap": 0.0, "overlap_ab": 0.0,
                          "overlap_ba": 0.0})
    pairs.sort(key=lambda p: -p["confusions"])
    report = {"title": MODEL_TITLES[model], "kind": model, "test_accuracy": acc, "sample_accuracy": acc,
              "train_seconds": 0.0, "knn_accuracy": float((labels[idx] == labels[:, None]).mean()),
              "silhouette": 0.21, "projections": proj_metrics, "pairs": pairs, "epochs": [],
              "label_issues": {"count": len(ranked), "threshold": 0.5, "top": [e["id"] for e in ranked[:20]],
                               "suspects": len(ranked)}}
    current = {"title": MODEL_TITLES[model], "kind": model, "model": f"{name}/model/{mkey}",
               "embed": f"{name}/embed/{ekey}", "projections": projections, "dynamics": None,
               "issues": issues, "faithfulness": faith}
    return current, report


def write_imported(store: ArtifactStore, spec: dict, n: int, seed: int) -> tuple[str, dict, dict]:
    """Write one imported dataset described by ``spec``; its name, ``current.json`` entry and report part.

    ``spec``: ``name`` (required), ``shape`` ``(h, w, c)`` (default ``(32, 32, 3)``), ``classes``
    (5 to 100, default 20), ``n`` (default the caller's ``n``), ``models`` (``("given",)``,
    ``("pixels",)`` or both), ``title`` (default the name) and ``colour``.
    """
    name = spec["name"]
    h, w, c = spec.get("shape", (32, 32, 3))
    classes = int(spec.get("classes", 20))
    n = int(spec.get("n", n))
    models = tuple(spec.get("models", ("given",)))
    assert 5 <= classes <= len(CIFAR100) and n <= 1 << IMPORTED_BITS and w - 2 >= 3
    names = list(CIFAR100[:classes])
    rng = np.random.default_rng([seed, len(name), classes])
    labels = (np.arange(n) % classes).astype(np.uint8)
    rng.shuffle(labels)
    images = imported_images(labels, (h, w, c), classes)
    skey = config_key({"synthetic-imported": name, "n": n, "shape": [h, w, c], "classes": classes, "seed": seed})
    with store.writing(name, "samples", skey, {"synthetic": True, "imported": True, "n": n}) as d:
        save_npy_atomic(d / "index.npy", np.arange(n, dtype=np.int64))
        save_npy_atomic(d / "images.npy", images)
        save_npy_atomic(d / "labels.npy", labels)
    current_models, reports = {}, {}
    for model in models:
        current_models[model], reports[model] = _model(store, name, model, labels, images, names, skey, rng)
    title = spec.get("title", name)
    current = {"title": title, "class_names": names, "mirror_symmetric": False, "default_pair": None,
               "colour": spec.get("colour", "#59a14f"), "sample_set": "all", "n": n,
               "samples": f"{name}/samples/{skey}", "default_model": models[0], "models": current_models,
               "image_shape": [h, w, c], "source": "imported"}
    report = {"title": title, "n": n, "class_names": names, "default_model": models[0], "models": reports}
    return name, current, report

"""Synthetic artifact cache for the explorer's tests and screenshots.

Writes a complete, valid cache in the format of ``docs/ARTIFACTS.md`` (``current.json``
of ``core/current.py``'s version) for "mnist" and "fashion-mnist" without TensorFlow: one samples folder per
dataset (images that differ per sample: a per-class shape plus the row number drawn as
bits, so a test can tell which image is shown) and three models per dataset, ``pixels``,
``mlp`` and ``cnn`` (:data:`MODELS`), each with its own predictions, known confusion
cells (:data:`MODEL_CELLS`), embedding, k-NN graph and clustered coordinates per
projection, so a test can tell which model is drawn.  In datasets named in ``dynamics``
``mlp`` and ``cnn`` also get a training-dynamics folder (on different snapshot
schedules) whose frames move every point and whose per-frame test accuracy differs per
frame; ``pixels`` never has one.  ``mlp`` and ``cnn`` get a label-issues folder whose
suspects are exactly their deliberate mistakes (:func:`planted_scores`), and
faithfulness folders for the projections :data:`FAITH_PROJECTIONS` names, with known
values per row (:func:`faithfulness_of`); ``pixels`` has neither, like an older cache.  ``current.json`` entries carry the facts the pipeline
records (``title``, ``default_pair``, ``colour``, ``image_shape``, ``source``); a test that wants an older cache
deletes them.  ``imported=`` adds a user's own dataset after them (``synthetic/imported.py``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core import current as current_json
from core.store import ArtifactStore, config_key, save_npy_atomic, write_json_atomic
from synthetic.images import decode_row, draw_images, knn, knn_fake, write_issues  # noqa: F401 (decode_row: the tests' reader)
from synthetic.layers import write_layers

FASHION_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MNIST_NAMES = [str(i) for i in range(10)]
TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
#: current.json's facts per dataset, as the pipeline writes them (training/datasets/mnist.py, fashion_mnist.py)
DEFAULT_PAIRS = {"mnist": [4, 9], "fashion-mnist": [0, 6]}
COLOURS = {"mnist": "#4e79a7", "fashion-mnist": "#f28e2b"}
MIRROR = {"mnist": False, "fashion-mnist": True}
NAMES = {"mnist": MNIST_NAMES, "fashion-mnist": FASHION_NAMES}
#: current.json version this module writes (core/current.py declares it)
CURRENT_VERSION = current_json.CURRENT_VERSION

#: The models of every dataset, in the ladder's order, and the one the page opens with.
MODELS = ("pixels", "mlp", "cnn")
DEFAULT_MODEL = "cnn"
MODEL_TITLES = {"pixels": "Raw pixels (k-NN)", "mlp": "Dense network", "cnn": "CNN"}
#: made-up training times, distinct per model so a table test can tell them apart
TRAIN_SECONDS = {"pixels": 0.8, "mlp": 12.5, "cnn": 95.0}
#: silhouettes in the report, distinct per model and dataset
SILHOUETTE = {"pixels": 0.08, "mlp": 0.31, "cnn": 0.5}

#: (true, predicted) -> count of the CNN's deliberate mistakes per dataset; every other
#: off-diagonal cell is empty, so a test knows exactly what each cell holds.
KNOWN_CELLS: dict[str, dict[tuple[int, int], int]] = {
    "mnist": {(4, 9): 6, (7, 1): 3, (9, 4): 2},
    "fashion-mnist": {(6, 0): 7, (4, 2): 4, (0, 6): 3, (2, 4): 2},
}
#: the same per model: model -> dataset -> (true, predicted) -> count; ``cnn``'s are :data:`KNOWN_CELLS`
MODEL_CELLS: dict[str, dict[str, dict[tuple[int, int], int]]] = {
    "pixels": {"mnist": {(3, 5): 8, (5, 3): 5, (9, 7): 4, (4, 9): 2},
               "fashion-mnist": {(6, 2): 9, (2, 6): 6, (9, 7): 5, (0, 3): 3}},
    "mlp": {"mnist": {(2, 7): 5, (8, 3): 4},
            "fashion-mnist": {(6, 4): 6, (3, 0): 3}},
    "cnn": KNOWN_CELLS,
}
K = 10
#: when each synthetic dynamics frame was taken: untrained, inside epoch 1, then epochs 1 and 2
DYNAMICS_EPOCHS = (0.0, 0.05, 0.5, 1.0, 2.0)
#: the dense network's snapshots: another schedule, so the slider follows the chosen model
MLP_DYNAMICS_EPOCHS = (0.0, 0.25, 1.0, 2.0, 3.0)
DYNAMICS_SCHEDULES = {"mlp": MLP_DYNAMICS_EPOCHS, "cnn": DYNAMICS_EPOCHS}
#: models with an ``issues/<key>/`` folder, and per model the projections with a ``faith/<key>/`` one
ISSUE_MODELS = ("mlp", "cnn")
FAITH_PROJECTIONS = {"mlp": ("umap", "tsne", "pca"), "cnn": ("umap", "tsne")}
FAITH_K = 10
ISSUE_THRESHOLD = 0.5  # the report's label_issues threshold (every planted suspect scores above it)
DYNAMICS_MISSING = 10  # snapshot images whose test id is not in the samples (n..n+9)
def faithfulness_of(rows, model: str, method: str) -> np.ndarray:
    """Synthetic faithfulness of ``rows``: a tenth from 0 to 1 that depends on the row, model and method."""
    rows = np.asarray(rows, dtype=np.int64)
    shift = 3 * MODELS.index(model) + ("umap", "tsne", "pca").index(method)
    return ((rows * 7 + shift) % (FAITH_K + 1) / FAITH_K).astype(np.float32)


def planted_scores(labels: np.ndarray, pred: np.ndarray, proba: np.ndarray,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(score, suggested, suspect)``: the suspects are exactly the rows the model gets wrong.

    A suspect scores from 0.99 down to 0.6 in a shuffled order (not row order) and its
    suggested label is the model's prediction; every other row scores below 0.3 and
    suggests its runner-up class.
    """
    n = len(labels)
    order = np.argsort(-proba, axis=1, kind="stable")
    suggested = np.where(order[:, 0] == labels, order[:, 1], order[:, 0]).astype(np.uint8)
    suspect = labels != pred
    score = np.round(rng.uniform(0.0, 0.3, n), 4)
    wrong = np.flatnonzero(suspect)
    score[wrong] = np.round(np.linspace(0.99, 0.6, len(wrong)), 4)[rng.permutation(len(wrong))]
    return score.astype(np.float32), suggested, suspect


def _quality(store: ArtifactStore, name: str, model: str, labels: np.ndarray, pred: np.ndarray,
             proba: np.ndarray, ekey: str, seed: int) -> tuple[dict, dict]:
    """A model's ``issues/`` and ``faith/`` folders: its ``current.json`` and report additions."""
    if model not in ISSUE_MODELS and model not in FAITH_PROJECTIONS:
        return {}, {}
    rng = np.random.default_rng([seed, len(name), MODELS.index(model), 13])  # the main stream stays as it was
    n = len(labels)
    current, report = {}, {}
    if model in ISSUE_MODELS:
        score, suggested, suspect = planted_scores(labels, pred, proba, rng)
        rows = sorted(np.flatnonzero(suspect).tolist(), key=lambda r: -score[r])
        ranked = [{"row": r, "id": r, "given": int(labels[r]), "suggested": int(suggested[r]),
                   "score": float(score[r])} for r in rows]
        ikey = config_key({"synthetic-issues": name, "model": model}, ekey)
        current["issues"] = write_issues(store, name, ikey, {"oos": "test", "combine": "synthetic", "embed": ekey},
                                         score, suggested, suspect, ranked)
        report["label_issues"] = {"count": int((score > ISSUE_THRESHOLD).sum()), "threshold": ISSUE_THRESHOLD,
                                  "top": [e["id"] for e in ranked[:20]]}
    faith, means = {}, {}
    for method in FAITH_PROJECTIONS.get(model, ()):
        f = faithfulness_of(np.arange(n), model, method)
        fkey = config_key({"synthetic-faith": name, "model": model, "method": method}, ekey)
        with store.writing(name, "faith", fkey, {"method": method, "k": FAITH_K, "embed": ekey}) as d:
            save_npy_atomic(d / "faithfulness.npy", f)
            save_npy_atomic(d / "false_neighbours.npy", ((1 - f) / 2).astype(np.float32))
        faith[method] = f"{name}/faith/{fkey}"
        means[method] = float(f.mean())
    if faith:
        current["faithfulness"] = faith
    return current, {**report, "faithfulness": means}


def _dynamics(store: ArtifactStore, name: str, model: str, n: int, labels: np.ndarray, acc: float, mkey: str,
              rng: np.random.Generator) -> tuple[str, list[float], list[dict]]:
    """A dynamics folder: points drift from noise to class clusters, accuracy climbs to ``acc``.

    Returns the folder (relative to the root), the per-frame test accuracy and ``epochs.json``'s rows.
    """
    schedule = DYNAMICS_SCHEDULES[model]
    n_frames = len(schedule)
    m_present = min(n - 10, 190)
    ids = np.concatenate([np.sort(rng.choice(n, m_present, replace=False)),
                          np.arange(n, n + DYNAMICS_MISSING)]).astype(np.int64)
    lab = np.concatenate([labels[ids[:m_present]],
                          rng.integers(0, 10, DYNAMICS_MISSING).astype(np.uint8)]).astype(np.uint8)
    m = len(ids)
    angles = np.linspace(0, 2 * np.pi, 10, endpoint=False)
    centres = np.stack([np.cos(angles), np.sin(angles)], 1) * 10.0
    start = rng.normal(0, 4, (m, 2))
    progress = np.linspace(0, 1, n_frames) ** 0.7
    test_acc = [round(float(v), 4) for v in np.linspace(0.1, acc, n_frames)]
    test_acc[0] = 0.1013 if model == "cnn" else 0.0987  # untrained: chance
    frames = np.empty((n_frames, m, 2), np.float32)
    proba = np.empty((n_frames, m, 10), np.float32)
    rows_json = []
    for f in range(n_frames):
        t = progress[f]
        frames[f] = (1 - t) * start + t * centres[lab] + rng.normal(0, 0.6, (m, 2))
        correct = rng.random(m) < max(0.1, test_acc[f])
        pred = np.where(correct, lab, rng.integers(0, 10, m)).astype(np.uint8)
        conf = rng.uniform(0.12, 0.3, m) + 0.69 * t
        p = rng.uniform(0, 1, (m, 10))
        p[np.arange(m), pred] = 0
        p = p / p.sum(1, keepdims=True) * (1 - conf)[:, None]
        p[np.arange(m), pred] = conf
        proba[f] = p
        cm = np.zeros((10, 10), int)
        np.add.at(cm, (lab.astype(np.intp), pred.astype(np.intp)), 1)
        rows_json.append({"frame": f, "epoch": schedule[f], "knn_accuracy": round(0.2 + 0.75 * t, 4),
                          "silhouette": round(-0.05 + 0.4 * t, 4), "snapshot_accuracy": float((pred == lab).mean()),
                          "test_accuracy": test_acc[f], "confusion": cm.tolist()})
    dkey = config_key({"synthetic-dynamics": name, "model": model}, mkey)
    with store.writing(name, "dynamics", dkey, {"alignment": "synthetic", "model": mkey}) as d:
        save_npy_atomic(d / "frames.npy", frames)
        save_npy_atomic(d / "epochs.npy", np.asarray(schedule, np.float32))
        save_npy_atomic(d / "index.npy", ids)
        save_npy_atomic(d / "labels.npy", lab)
        save_npy_atomic(d / "proba.npy", proba)
        write_json_atomic(d / "epochs.json", rows_json)
    return f"{name}/dynamics/{dkey}", test_acc, rows_json


def _predictions(labels: np.ndarray, cells: dict[tuple[int, int], int],
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Predictions with exactly ``cells`` as mistakes, and softmax-like probabilities agreeing with them."""
    n = len(labels)
    pred = labels.copy()
    for (t, p), count in cells.items():
        rows = rng.permutation(np.flatnonzero((labels == t) & (pred == t)))[:count]
        assert len(rows) == count, "n too small for the known confusion cells"
        pred[rows] = p
    proba = rng.uniform(0, 1, (n, 10)).astype(np.float32)
    conf = rng.uniform(0.45, 0.995, n)
    proba[np.arange(n), pred] = 0
    proba = proba / proba.sum(1, keepdims=True) * (1 - conf)[:, None]
    proba[np.arange(n), pred] = conf
    return pred, proba.astype(np.float32)


def _model(store: ArtifactStore, name: str, model: str, index: int, labels: np.ndarray, images: np.ndarray,
           skey: str, seed: int, with_dynamics: bool, rng: np.random.Generator) -> tuple[dict, dict]:
    """One model's folders (model, embed, proj, dynamics); its ``current.json`` and report entries."""
    n = len(labels)
    trained = model != "pixels"
    pred, proba = _predictions(labels, MODEL_CELLS[model][name], rng)
    wrong = labels != pred
    if trained:
        centres = rng.normal(0, 4, (10, 16))
        space = (centres[labels] + rng.normal(0, 1 + 0.5 * (model == "mlp"), (n, 16))).astype(np.float32)
        space[wrong] = (0.5 * centres[labels[wrong]] + 0.5 * centres[pred[wrong]]
                        + rng.normal(0, 0.5, (wrong.sum(), 16))).astype(np.float32)
    else:
        space = images.reshape(n, -1).astype(np.float32) / 255.0  # what the pipeline means: not stored
    # exact k-NN of 70,000 points takes minutes on a laptop; big caches need only the shape
    idx, dist = knn(space, K) if n <= 5000 else knn_fake(labels, K, rng)

    confusion = np.zeros((10, 10), int)
    np.add.at(confusion, (labels, pred), 1)
    acc = float(np.trace(confusion) / n)
    mkey = config_key({"synthetic-model": name, "model": model, "seed": seed, "dynamics": with_dynamics})
    dynamics_rel, val_acc, epochs_rows = None, [acc], []
    if trained and with_dynamics:
        dynamics_rel, test_acc, epochs_rows = _dynamics(store, name, model, n, labels, acc, mkey, rng)
        # whole-epoch frames are the history's val_accuracy, as the real pipeline saves them
        val_acc = [a for e, a in zip(DYNAMICS_SCHEDULES[model], test_acc) if e >= 1 and float(e).is_integer()]
    metrics = {"kind": model, "title": MODEL_TITLES[model], "test_accuracy": acc, "class_names": NAMES[name],
               "precision": (np.diag(confusion) / np.maximum(confusion.sum(0), 1)).tolist(),
               "recall": (np.diag(confusion) / np.maximum(confusion.sum(1), 1)).tolist(),
               "confusion": confusion.tolist(), "train_seconds": TRAIN_SECONDS[model]}
    metrics.update({"test_loss": 0.1, "epochs": len(val_acc), "train_images": 60_000} if trained else {"k": K})
    with store.writing(name, "model", mkey, {"synthetic": True, "name": model}) as d:
        write_json_atomic(d / "metrics.json", metrics)
        if trained:
            e = len(val_acc)
            write_json_atomic(d / "history.json", {"loss": [0.5] * e, "accuracy": val_acc, "val_loss": [0.5] * e,
                                                   "val_accuracy": val_acc, "seconds": [1.0] * e})

    ekey = config_key({"synthetic-embed": name, "model": model}, mkey, skey)
    with store.writing(name, "embed", ekey, {"synthetic": True, "model": mkey, "samples": skey}) as d:
        save_npy_atomic(d / "pred.npy", pred)
        save_npy_atomic(d / "proba.npy", proba)
        if trained:
            save_npy_atomic(d / "space.npy", space)
        save_npy_atomic(d / "knn-indices.npy", idx)
        save_npy_atomic(d / "knn-distances.npy", dist)

    angles = np.linspace(0, 2 * np.pi, 10, endpoint=False)
    radius = {"pixels": 5.0, "mlp": 7.5, "cnn": 10.0}[model]
    projections, proj_metrics = {}, {}
    for m, method in enumerate(("umap", "tsne", "pca")):
        c2 = np.stack([np.cos(angles + 0.4 * m + 0.9 * index), np.sin(angles + 0.4 * m + 0.9 * index)], 1) * radius
        pos = c2[labels].copy()
        pos[wrong] = 0.5 * (c2[labels[wrong]] + c2[pred[wrong]])
        coords = (pos + rng.normal(0, 1.0 + m * 0.3, (n, 2))).astype(np.float32)
        pkey = config_key({"method": method, "model": model}, ekey)
        with store.writing(name, "proj", pkey, {"method": method, "model": model, "seconds": 0.1}) as d:
            save_npy_atomic(d / "coords.npy", coords)
        projections[method] = f"{name}/proj/{pkey}"
        sub = slice(0, min(n, 3000))  # 2-D k-NN accuracy on a subset keeps big caches quick
        nn = knn(coords[sub], K)[0]
        proj_metrics[method] = {
            "knn_accuracy": float((labels[sub][nn] == labels[sub][:, None]).mean(1).round().mean()),
            "trustworthiness": round(0.9 - 0.05 * m - 0.1 * (2 - index), 3)}

    # the 3-D view's layouts: PCA for every model (as the pipeline always makes), UMAP for the CNN only
    # (as `--dims 3` would), so that a t-SNE in 3-D falls back to PCA with a note; z spreads the classes
    projections3d = {}
    for m, method in enumerate(("umap", "tsne", "pca")):
        if method == "tsne" or (method == "umap" and model != "cnn"):
            continue
        xy = np.load(store.resolve(projections[method]) / "coords.npy")
        z = (labels - 4.5) * (0.8 + 0.4 * m) + rng.normal(0, 0.6, n)
        pkey = config_key({"method": method, "model": model, "n_components": 3}, ekey)
        with store.writing(name, "proj", pkey, {"method": method, "model": model, "n_components": 3,
                                                "seconds": 0.1}) as d:
            save_npy_atomic(d / "coords.npy", np.column_stack([xy, z]).astype(np.float32))
        projections3d[method] = f"{name}/proj/{pkey}"

    pairs = []
    for a in range(10):
        for b in range(a + 1, 10):
            ab, ba = int(confusion[a, b]), int(confusion[b, a])
            ov_ab = float((labels[idx[labels == a]] == b).mean())
            ov_ba = float((labels[idx[labels == b]] == a).mean())
            pairs.append({"a": a, "b": b, "names": [NAMES[name][a], NAMES[name][b]],
                          "confusions": ab + ba, "confusions_ab": ab, "confusions_ba": ba,
                          "overlap": (ov_ab + ov_ba) / 2, "overlap_ab": ov_ab, "overlap_ba": ov_ba})
    pairs.sort(key=lambda p: (-p["confusions"], -p["overlap"]))
    quality_current, quality_report = _quality(store, name, model, labels, pred, proba, ekey, seed)
    for method, mean in quality_report.pop("faithfulness", {}).items():
        proj_metrics[method]["faithfulness"] = mean
    report = {"title": MODEL_TITLES[model], "kind": model, "test_accuracy": acc, "sample_accuracy": acc,
              "train_seconds": TRAIN_SECONDS[model], "knn_accuracy": float((labels[idx] == labels[:, None]).mean()),
              "silhouette": round(SILHOUETTE[model] - (0.2 if name == "fashion-mnist" else 0), 3),
              "projections": proj_metrics, "pairs": pairs, "epochs": epochs_rows, **quality_report}
    current = {"title": MODEL_TITLES[model], "kind": model, "model": f"{name}/model/{mkey}",
               "embed": f"{name}/embed/{ekey}", "projections": projections, "projections3d": projections3d,
               "dynamics": dynamics_rel,
               "layers": write_layers(store, name, model, labels, mkey, skey, seed) if trained else None,
               **quality_current}
    return current, report


def _dataset(store: ArtifactStore, name: str, n: int, seed: int,
             with_dynamics: bool = False) -> tuple[dict, dict]:
    rng = np.random.default_rng([seed, len(name)])
    labels = (np.arange(n) % 10).astype(np.uint8)
    rng.shuffle(labels)
    images = draw_images(labels, rng)
    skey = config_key({"synthetic": name, "n": n, "seed": seed})
    with store.writing(name, "samples", skey, {"synthetic": True, "n": n, "seed": seed}) as d:
        save_npy_atomic(d / "index.npy", np.arange(n, dtype=np.int64))
        save_npy_atomic(d / "images.npy", images)
        save_npy_atomic(d / "labels.npy", labels)
    models, reports = {}, {}
    for i, model in enumerate(MODELS):
        models[model], reports[model] = _model(store, name, model, i, labels, images, skey, seed,
                                               with_dynamics, rng)
    report_entry = {"title": TITLES[name], "n": n, "class_names": NAMES[name], "default_model": DEFAULT_MODEL,
                    "models": reports}
    current_entry = {"title": TITLES[name], "class_names": NAMES[name], "mirror_symmetric": MIRROR[name],
                     "default_pair": DEFAULT_PAIRS[name], "colour": COLOURS[name], "sample_set": "test", "n": n,
                     "samples": f"{name}/samples/{skey}", "default_model": DEFAULT_MODEL, "models": models,
                     "image_shape": [28, 28, 1], "source": "builtin",
                     "methods": {p: dict(facts) for p, facts in current_json.V2_METHODS.items()}}
    return current_entry, report_entry


def write_synthetic_cache(root: Path, n: int = 300, seed: int = 0,
                          dynamics: tuple[str, ...] = ("mnist",), imported: dict | list | None = None) -> None:
    """Write a complete synthetic cache under ``root``, ``current.json`` last.

    Parameters
    ----------
    root : Path
        Cache root; created if needed.
    n : int, default 300
        Samples per dataset (at least 100 so every known confusion cell fits).
    seed : int, default 0
        Seed of the random coordinates, probabilities and embeddings.
    dynamics : tuple of str, default ("mnist",)
        Datasets whose ``mlp`` and ``cnn`` get a training-dynamics folder; the others'
        models all have ``"dynamics": null`` like models trained without snapshots.
    imported : dict or list of dict, optional
        Imported datasets listed after the built-in ones, e.g. ``{"name": "own", "shape": (32, 32, 3),
        "classes": 20}`` (:func:`synthetic.imported.write_imported` lists the keys).
    """
    store = ArtifactStore(root)
    current: dict = {"version": CURRENT_VERSION, "datasets": {}}
    report: dict = {"k": K, "datasets": {}}
    for name in ("mnist", "fashion-mnist"):
        current["datasets"][name], report["datasets"][name] = _dataset(store, name, n, seed,
                                                                       with_dynamics=name in dynamics)
    from synthetic.imported import write_imported

    for spec in [imported] if isinstance(imported, dict) else list(imported or []):
        name, current["datasets"][name], report["datasets"][name] = write_imported(store, spec, n, seed)
    rkey = config_key({"synthetic-report": seed, "n": n, "imported": sorted(report["datasets"])})
    # the report folder is report/<key>/ (no stage level): an empty stage does that
    with store.writing("report", "", rkey, {"synthetic": True}) as d:
        write_json_atomic(d / "report.json", report)
    current["report"] = "/".join(("report", rkey, "report.json"))
    current["run"] = {"data": {"dataset": ["mnist", "fashion-mnist"]}, "seed": {"seed": seed},
                      "train": {"models": list(MODELS)}, "synthetic": {"n": n}}
    current["stages"] = {}
    # written as is (not store.write_current, which stamps the store's own schema version)
    write_json_atomic(Path(root) / "current.json", current)

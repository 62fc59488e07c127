"""Near-duplicate images: pairs closer than a calibrated threshold, found from k-NN graphs, joined into groups.

Candidates are each image's ``k`` nearest neighbours in the pixel-space graph (the pixel k-NN
model's shared graph, or one built here) and in every model's embedding graph, plus, with the
default ``test`` sample set, each test image's ``k`` nearest training images (cosine, exact):
the training images are not samples there, so within-train copies are only looked for with
``--sample-set all``. Every candidate pair is then judged by one distance:

**aligned cosine distance**: the smallest ``1 - cos(a, shift(b))`` over shifts of ``b`` by up to
``shift`` pixels (zero fill). Cosine, not RMS: a thin digit has little ink, so any two 1s are
close in raw L2; dividing by the pair's norms puts a 1 and an 8 on one scale. The shift makes
a copy moved by a pixel as close as the original.

**Threshold rule** (``threshold=None``, the default): the smaller of

- the ``recall`` quantile (0.95) of the distances between ``planted`` (1,000) images of the set
  and planted near-copies of them (shifted one pixel in a random direction, zero fill, plus
  Gaussian noise of ``noise`` = 4 grey levels): at least 95% of such copies are found; and
- the ``guard`` quantile (0.01) of every image's distance to its nearest other image: distinct
  images of a class must not be found, so at most 1% of the images may have a neighbour under
  the threshold.

Which bound binds, and the planted copies' recall at the threshold, are recorded. Pairs under
the threshold are joined into groups (connected components).
"""
from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import ConfigError
from core.options import option, validate
from core.store import ArtifactStore, save_npy_atomic, write_json_atomic

log = logging.getLogger(__name__)

STAGE = "duplicates"
RULE = ("the smaller of the {recall:g} quantile of planted near-copies' distances (one-pixel shift, "
        "Gaussian noise of {noise:g} grey levels; {planted} images) and the {guard:g} quantile of every "
        "image's distance to its nearest other image")
DISTANCE = "aligned cosine distance: min over shifts of up to {shift} px of 1 - cos(a, shift(b))"
PIXELS = "pixels"  # the source name of the pixel-space graph
SPLITS = ("train", "test")


@dataclasses.dataclass(frozen=True)
class DuplicatesConfig:
    """How near-duplicates are found and where the line is drawn."""

    k: int = option(5, "nearest neighbours per image (in each graph) that are candidate copies", lo=1,
                    flag="--dup-k")
    threshold: float | None = option(None, "aligned cosine distance under which two images are near-copies "
                                     "(default: calibrated, see --dup-recall and --dup-guard)", lo=0, hi=1,
                                     type=float, flag="--dup-threshold")
    shift: int = option(1, "pixels a copy may be moved by and still count as one", lo=0, hi=3, flag="--dup-shift")
    recall: float = option(0.95, "share of planted near-copies the calibrated threshold must find", lo=0, hi=1,
                           lo_open=True, flag="--dup-recall")
    guard: float = option(0.01, "most images that may have a near-copy under the calibrated threshold (share)",
                          lo=0, hi=1, lo_open=True, flag="--dup-guard")
    noise: float = option(4.0, "Gaussian noise (grey levels) of the planted near-copies", lo=0, flag="--dup-noise")
    planted: int = option(1000, "images given a planted near-copy to calibrate the threshold", lo=10,
                          flag="--dup-planted")
    seed: int = option(0, "seed of the planted copies", derived=True)

    def __post_init__(self) -> None:
        validate(self, "near-duplicates")


def check_images(images: np.ndarray, name: str = "images") -> np.ndarray:
    """uint8 (n, h, w) images, or a :class:`ConfigError` naming what is wrong (colour images are averaged)."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] in (1, 3):
        images = images.mean(-1).round().astype(np.uint8) if images.shape[-1] == 3 else images[..., 0]
    if images.ndim != 3 or min(images.shape[1:], default=0) < 2:
        raise ConfigError(f"{name} must be (n, h, w) images, got shape {images.shape}")
    if images.dtype != np.uint8:
        raise ConfigError(f"{name} must be uint8 grey levels, got {images.dtype}")
    return images


def aligned_distance(a: np.ndarray, b: np.ndarray, shift: int = 1, chunk: int = 20_000) -> np.ndarray:
    """float32 (p,): ``min over |dy|, |dx| <= shift of 1 - cos(a[i], b[i] moved by (dy, dx))``.

    ``a`` and ``b`` are uint8 (p, h, w) pairs; an all-black image is at distance 1 from everything.
    """
    a, b = check_images(a, "a"), check_images(b, "b")
    if a.shape != b.shape:
        raise ConfigError(f"pairs need images of one shape, got {a.shape} and {b.shape}")
    out = np.empty(len(a), np.float32)
    h, w = a.shape[1:]
    for s in range(0, len(a), chunk):
        x = a[s:s + chunk].astype(np.float32) / 255
        y = np.pad(b[s:s + chunk].astype(np.float32) / 255, ((0, 0), (shift, shift), (shift, shift)))
        nx = np.sqrt(np.einsum("pij,pij->p", x, x))
        best = np.full(len(x), np.inf, np.float32)
        for dy in range(-shift, shift + 1):
            for dx in range(-shift, shift + 1):
                ys = y[:, shift + dy:shift + dy + h, shift + dx:shift + dx + w]
                norm = nx * np.sqrt(np.einsum("pij,pij->p", ys, ys))
                cos = np.where(norm > 0, np.einsum("pij,pij->p", x, ys) / np.maximum(norm, 1e-12), 0.0)
                best = np.minimum(best, 1.0 - cos)
        out[s:s + chunk] = np.clip(best, 0.0, 1.0)
    return out


def plant_copies(images: np.ndarray, rng: np.random.Generator, noise: float = 4.0) -> np.ndarray:
    """Near-copies of ``images``: each moved one pixel in a random direction (zero fill) and noised."""
    images = check_images(images)
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    for i, (axis, step) in enumerate(zip(rng.integers(2, size=len(images)), rng.choice([-1, 1], len(images)))):
        src = images[i]
        if axis == 0:
            out[i, max(step, 0):h + min(step, 0)] = src[max(-step, 0):h + min(-step, 0)]
        else:
            out[i, :, max(step, 0):w + min(step, 0)] = src[:, max(-step, 0):w + min(-step, 0)]
    noisy = out.astype(np.float32) + rng.normal(0.0, noise, out.shape) if noise else out
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def calibrate(images: np.ndarray, nearest: np.ndarray, config: DuplicatesConfig) -> dict:
    """The threshold by the module's rule, with what it rests on.

    ``nearest``: each image's distance to its nearest other image (its candidates' smallest).
    Returns ``threshold``, ``bound`` ("planted" or "guard": which quantile was smaller),
    ``planted_quantile``, ``guard_quantile``, ``planted_found`` (share of planted copies under
    the threshold) and ``rule``.
    """
    rng = np.random.default_rng(config.seed)
    images = check_images(images)
    rows = rng.choice(len(images), min(config.planted, len(images)), replace=False)
    planted = aligned_distance(images[rows], plant_copies(images[rows], rng, config.noise), config.shift)
    q_planted = float(np.quantile(planted, config.recall, method="higher"))  # at least `recall` of them under it
    nearest = np.asarray(nearest, np.float64)
    nearest = nearest[np.isfinite(nearest)]
    q_guard = float(np.quantile(nearest, config.guard)) if len(nearest) else q_planted
    threshold = min(q_planted, q_guard)
    return {"threshold": threshold, "bound": "planted" if q_planted <= q_guard else "guard",
            "planted_quantile": q_planted, "guard_quantile": q_guard,
            "planted_found": float((planted <= threshold).mean()),
            "rule": RULE.format(recall=config.recall, noise=config.noise, planted=len(rows), guard=config.guard)}


def graph_pairs(knn: np.ndarray, k: int) -> np.ndarray:
    """int64 (p, 2) unique pairs ``i < j`` of each row and its first ``k`` neighbours."""
    knn = np.asarray(knn)
    if knn.ndim != 2:
        raise ConfigError(f"a k-NN graph must be (n, k), got shape {knn.shape}")
    k = min(k, knn.shape[1])
    i = np.repeat(np.arange(len(knn)), k)
    j = knn[:, :k].ravel().astype(np.int64)
    if len(j) and (j.min() < 0 or j.max() >= len(knn)):
        raise ConfigError(f"k-NN indices must be rows in [0, {len(knn)}), got [{j.min()}, {j.max()}]")
    pairs = np.stack([np.minimum(i, j), np.maximum(i, j)], 1)
    return np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0)


def nearest_cosine(queries: np.ndarray, base: np.ndarray, k: int, chunk: int = 1024) -> np.ndarray:
    """int64 (q, k): the ``k`` rows of ``base`` nearest each query in cosine distance (exact)."""
    def unit(x: np.ndarray) -> np.ndarray:
        x = x.reshape(len(x), -1).astype(np.float32)
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    B, k = unit(base), min(k, len(base))
    out = np.empty((len(queries), k), np.int64)
    for s in range(0, len(queries), chunk):
        sim = unit(queries[s:s + chunk]) @ B.T
        part = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sim, part, 1), axis=1, kind="stable")
        out[s:s + chunk] = np.take_along_axis(part, order, 1)
    return out


def find(images: np.ndarray, labels: np.ndarray, splits: np.ndarray, graphs: dict[str, np.ndarray],
         config: DuplicatesConfig = DuplicatesConfig(), extra: np.ndarray | None = None) -> dict:
    """Near-duplicate pairs and groups among ``images``.

    Parameters
    ----------
    images : uint8 (n, h, w)
    labels : int (n,)
    splits : int (n,), 0 = training image, 1 = test image
    graphs : {source: int (n, >= 1)} k-NN indices (rows of ``images``), each a source of candidates
    extra : int (p, 2), optional
        More candidate pairs (the test images' nearest training images), credited to ``pixels``.

    Returns
    -------
    dict with ``pairs`` int64 (p, 2) (rows, ``i < j``, nearest first), ``distance`` float32 (p,),
    ``found`` uint8 (p,) (bit s: source s of ``sources`` proposed the pair), ``sources``,
    ``group`` int32 (n,) (-1: none; groups with differing labels first, then larger, then closer),
    ``nearest`` float32 (n,) and ``calibration`` (:func:`calibrate`, or the given threshold).
    """
    images = check_images(images)
    n = len(images)
    labels, splits = np.asarray(labels).astype(np.int64), np.asarray(splits).astype(np.int64)
    if labels.shape != (n,) or splits.shape != (n,):
        raise ConfigError(f"labels and splits need one value per image ({n}), got {labels.shape} and {splits.shape}")
    if not graphs and extra is None:
        raise ConfigError("near-duplicates need at least one k-NN graph to take candidates from")
    sources = sorted(graphs, key=lambda s: (s != PIXELS, s))
    if extra is not None and PIXELS not in sources:
        sources.insert(0, PIXELS)
    keys, marks = [], []
    for bit, source in enumerate(sources):
        if len(graphs.get(source, ())) not in (0, n):
            raise ConfigError(f"the {source} graph has {len(graphs[source])} rows for {n} images")
        cand = graph_pairs(graphs[source], config.k) if source in graphs else np.zeros((0, 2), np.int64)
        if source == PIXELS and extra is not None and len(extra):
            cand = np.concatenate([cand, np.sort(np.asarray(extra, np.int64), 1)])
        keys.append(cand[:, 0] * n + cand[:, 1])
        marks.append(np.full(len(cand), 1 << bit, np.uint8))
    keys, marks = np.concatenate(keys), np.concatenate(marks)
    order = np.argsort(keys, kind="stable")
    keys, marks = keys[order], marks[order]
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, np.int64)
    bits = np.bitwise_or.reduceat(marks, first) if len(first) else np.zeros(0, np.uint8)
    pairs = np.stack([keys[first] // n, keys[first] % n], 1).astype(np.int64).reshape(-1, 2)
    distance = aligned_distance(images[pairs[:, 0]], images[pairs[:, 1]], config.shift)
    nearest = np.full(n, np.inf, np.float32)
    np.minimum.at(nearest, pairs[:, 0], distance)
    np.minimum.at(nearest, pairs[:, 1], distance)
    if config.threshold is None:
        calibration = calibrate(images, nearest, config)
    else:
        calibration = {"threshold": float(config.threshold), "bound": "given", "rule": "given (--dup-threshold)"}
    keep = distance <= calibration["threshold"]
    order = np.argsort(distance[keep], kind="stable")
    pairs, distance, bits = pairs[keep][order], distance[keep][order], bits[keep][order]
    group = groups_of(pairs, labels, distance, n)
    log.info("%d near-duplicate pairs in %d groups (threshold %.4f, %s bound)", len(pairs), group.max() + 1,
             calibration["threshold"], calibration["bound"])
    return {"pairs": pairs, "distance": distance, "found": bits, "sources": sources, "group": group,
            "nearest": nearest, "calibration": calibration}


def groups_of(pairs: np.ndarray, labels: np.ndarray, distance: np.ndarray, n: int) -> np.ndarray:
    """int32 (n,): connected components of ``pairs`` numbered from 0 (mixed labels, larger, closer first); -1 alone."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    group = np.full(n, -1, np.int32)
    if not len(pairs):
        return group
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    members = np.unique(pairs)
    keys = {}
    for c in np.unique(comp[members]):
        rows = members[comp[members] == c]
        closest = distance[np.isin(pairs[:, 0], rows)].min()
        keys[c] = (len(np.unique(labels[rows])) == 1, -len(rows), float(closest), int(rows.min()))
    for g, c in enumerate(sorted(keys, key=keys.get)):
        group[members[comp[members] == c]] = g
    return group


def counts(groups: list[dict], pairs: list[dict]) -> dict:
    """The report's numbers: groups, images in groups, pairs within train, within test and across, mixed labels."""
    where = [tuple(sorted((p["split_a"], p["split_b"]))) for p in pairs]
    return {"groups": len(groups), "images": sum(len(g["members"]) for g in groups), "pairs": len(pairs),
            "within_train": where.count(("train", "train")), "within_test": where.count(("test", "test")),
            "train_test": where.count(("test", "train")),
            "mixed_labels": sum(1 for g in groups if g["labels_differ"])}


def build_duplicates(dataset: str, samples_dir: Path, embeds: dict[str, tuple[Path, bool]], store: ArtifactStore,
                     config: DuplicatesConfig = DuplicatesConfig(), train: tuple[np.ndarray, np.ndarray] | None = None,
                     n_train: int = 0) -> Path:
    """Compute (or reuse) a dataset's ``duplicates/<key>/`` folder (docs/ARTIFACTS.md).

    ``embeds``: per model its embed folder and whether its space is the pixels (its graph is then
    the pixel-space graph). ``train``: (images, labels) of the training images, searched for each
    test image when the sample set holds none of them; ``n_train`` their number (the "all" sample
    set's ids below it are training images).
    """
    samples_dir = Path(samples_dir)
    sample_set = store.recorded(samples_dir)["config"].get("sample_set", "test")
    search_train = train is not None and len(train[0]) > 0 and sample_set != "all"
    record = {**dataclasses.asdict(config), "sources": sorted(embeds), "search_train": search_train,
              "distance": DISTANCE.format(shift=config.shift)}

    def make(out: Path) -> dict:
        t0 = time.perf_counter()
        ids = store.load_array(samples_dir / "index.npy")
        images = check_images(store.load_array(samples_dir / "images.npy"))
        labels = store.load_array(samples_dir / "labels.npy").astype(np.int64)
        n = len(ids)
        in_train = (ids < n_train) if sample_set == "all" else np.zeros(n, bool)
        global_id = np.where(in_train, ids, ids + (n_train if sample_set != "all" else 0))
        graphs = {(PIXELS if pixel else model): store.load_array(Path(folder) / "knn-indices.npy")
                  for model, (folder, pixel) in embeds.items()}
        if PIXELS not in graphs:  # no pixel-space model in the run: its graph, built here
            from embeddings.knn import build_knn

            graphs[PIXELS] = build_knn(images.reshape(n, -1).astype(np.float32) / 255, min(config.k, n - 1)).indices
        extra = None
        if search_train:  # the test images' nearest training images join the rows as extra rows
            t_images, t_labels = check_images(train[0], "training images"), np.asarray(train[1]).astype(np.int64)
            near = nearest_cosine(images, t_images, config.k)
            used = np.unique(near)
            extra = np.stack([np.repeat(np.arange(n), near.shape[1]), n + np.searchsorted(used, near.ravel())], 1)
            images = np.concatenate([images, t_images[used]])
            labels = np.concatenate([labels, t_labels[used]])
            in_train = np.concatenate([in_train, np.ones(len(used), bool)])
            global_id = np.concatenate([global_id, used])
            graphs = {s: np.concatenate([g, np.repeat(np.arange(len(used))[:, None] + n, g.shape[1], 1)])
                      for s, g in graphs.items()}  # training rows propose only themselves: no pairs
        result = find(images, labels, (~in_train).astype(np.int64), graphs, config, extra)
        write(out, result, images, labels, in_train, global_id, n, DISTANCE.format(shift=config.shift))
        seconds = time.perf_counter() - t0
        log.info("%s: near-duplicates in %.1f s", dataset, seconds)
        return {"seconds": seconds, **result["calibration"]}

    return store.build(dataset, STAGE, record, make, upstream=(samples_dir.name, *[Path(f).name for f, _ in embeds.values()]))


def write(out: Path, result: dict, images: np.ndarray, labels: np.ndarray, in_train: np.ndarray,
          global_id: np.ndarray, n: int, words: str = "") -> None:
    """The folder's files from :func:`find`'s result; rows at or past ``n`` are training images added for the search."""
    pairs, group = result["pairs"], result["group"]
    members = np.unique(pairs)
    image_of = {int(r): i for i, r in enumerate(members)}
    split = np.where(in_train, "train", "test")

    def member(r: int) -> dict:
        return {"id": int(global_id[r]), "row": int(r) if r < n else None, "split": str(split[r]),
                "label": int(labels[r]), "image": image_of[int(r)]}

    groups = []
    for g in range(int(group.max()) + 1 if len(group) else 0):
        rows = np.flatnonzero(group == g)
        inside = np.isin(pairs[:, 0], rows)
        groups.append({"group": g, "members": [member(int(r)) for r in rows],
                       "labels_differ": bool(len(np.unique(labels[rows])) > 1),
                       "distance": round(float(result["distance"][inside].max()), 6)})
    found = [[s for b, s in enumerate(result["sources"]) if f >> b & 1] for f in result["found"].tolist()]
    pair_list = [{"a": int(global_id[i]), "b": int(global_id[j]), "split_a": str(split[i]), "split_b": str(split[j]),
                  "label_a": int(labels[i]), "label_b": int(labels[j]), "distance": round(float(d), 6),
                  "found_by": f, "group": int(group[i])}
                 for (i, j), d, f in zip(pairs.tolist(), result["distance"].tolist(), found)]
    cal = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in result["calibration"].items()}
    save_npy_atomic(out / "group.npy", result["group"][:n].astype(np.int32))
    save_npy_atomic(out / "nearest.npy", np.where(np.isfinite(result["nearest"][:n]), result["nearest"][:n], 1.0)
                    .astype(np.float32))
    save_npy_atomic(out / "images.npy", np.ascontiguousarray(images[members]).astype(np.uint8).reshape(-1, *images.shape[1:]))
    write_json_atomic(out / "duplicates.json", {
        "threshold": cal["threshold"], "calibration": cal, "distance": words, "sources": result["sources"],
        "counts": counts(groups, pair_list), "groups": groups, "pairs": pair_list})


def summary(folder: Path, read: Callable = None) -> dict:
    """The report's ``duplicates``: :func:`counts`, the threshold and which bound set it."""
    from core.store import read_json

    data = (read or read_json)(Path(folder) / "duplicates.json")
    cal = data["calibration"]
    return {**data["counts"], "threshold": data["threshold"], "bound": cal.get("bound"),
            "planted_found": cal.get("planted_found")}

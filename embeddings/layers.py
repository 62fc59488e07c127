"""The network layer by layer (the Layers view): each followed layer's activations of the sample set, how
separable the classes are there, and aligned 2-D frames from the pixels to the logits.

Which layers (:func:`depth_taps`, of the network ``Kind.network`` opens): the pixels, the output of each
convolution stage (its last layer before the next convolution, ``Flatten`` or dense layer, once a pooling
layer has run), every dense layer, and the logits of a softmax output (its input times its weights, plus
its bias). A layer's row per image (:func:`features`) is its activations flattened, a map of more than
:data:`MAX_FEATURES` values average-pooled over ``f x f`` cells first; its "how" says which.

Per layer, over the whole sample set: the k-NN accuracy (leave-one-out), a linear probe (standardised
logistic regression, cross-validated) and the silhouette. The frames are of a fixed class-balanced subset:
PCA and UMAP (t-SNE on request), each started from the previous layer's frame and rotated onto it
(:func:`rotated_onto`), so a point moves only as far as the layer moved it, with its trustworthiness.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import ConfigError
from core.options import option, validate
from core.store import ArtifactStore, save_npy_atomic, write_json_atomic
from embeddings import metrics
from embeddings.knn import build_knn

log = logging.getLogger(__name__)

STAGE = "layers"
METHODS = ("pca", "umap", "tsne")
#: a layer's row per image holds at most this many values (above it, average pooling: see the module)
MAX_FEATURES = 4096
#: UMAP of a layer: its first 50 principal components, 200 epochs (the pixels) or 100 (started from the layer
#: before), its exact 15 neighbours given: below 4,096 rows umap-learn would fill a full distance matrix through
#: a Python callback (11 of a 2,000-image frame's 11.5 s).
UMAP_PCA, UMAP_EPOCHS, UMAP_WARM_EPOCHS = 50, 200, 100
ANCHORS = 5  # an image outside the framed subset sits at the mean of its 5 nearest framed images in a layer
SILHOUETTE_ROWS = 3000  # a layer's silhouette: on a seeded sample of this many rows
#: the layer types after which a convolution stage ends (a tap is its last layer before one of these)
_STAGE_ENDS = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D", "Flatten", "GlobalAveragePooling2D",
               "GlobalMaxPooling2D", "Dense")


@dataclasses.dataclass(frozen=True)
class LayersConfig:
    """Which layouts of each layer, of how many images, and how each layer's separability is measured."""

    methods: tuple[str, ...] = option(("pca", "umap"), "layouts of each layer (t-SNE on request)",
                                      choices=METHODS, many=True, flag="--layers-methods")
    points: int = option(2000, "images in each layer's frames (a fixed class-balanced subset)", lo=50,
                         flag="--layers-points")
    k: int = option(10, "neighbours of each layer's k-NN accuracy", lo=1, flag="--layers-k")
    probe_points: int = option(5000, "rows the linear probe is cross-validated on", lo=50,
                               flag="--layers-probe-points")
    names: tuple[str, ...] = option((), "a layer of your --model file to follow, by name (default: each "
                                    "convolution stage, each dense layer, the logits)", repeat=True,
                                    flag="--layers-name")
    probe_folds: int = option(3, "folds of the linear probe's cross-validation", lo=2, flag="--layers-probe-folds")
    seed: int = option(0, "seed of the subset, the probe's folds and the layouts", derived=True)

    def __post_init__(self) -> None:
        if not self.methods:
            raise ConfigError("--layers-methods needs at least one of pca, umap, tsne (got none)")
        validate(self, "layers")


@dataclasses.dataclass(frozen=True)
class Tap:
    """One layer the view follows: its name in the model, its title on the page, and whether its values
    are the logits computed from a softmax layer's input."""

    name: str
    title: str
    logits: bool = False


def depth_taps(model) -> list[Tap]:
    """The layers of a Keras network the Layers view follows, input to output (see the module)."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    taps, pooled, stage = [], False, 0
    for i, layer in enumerate(layers):
        kind = type(layer).__name__
        if kind.endswith("Pooling2D") and not kind.startswith("Global"):
            pooled = True
        after = type(layers[i + 1]).__name__ if i + 1 < len(layers) else None
        if kind == "Dense":
            last = i == len(layers) - 1 or not any(type(x).__name__ == "Dense" for x in layers[i + 1:])
            softmax = getattr(getattr(layer, "activation", None), "__name__", "") == "softmax"
            taps.append(Tap(layer.name, "logits" if last else layer.name, logits=last and softmax))
        elif pooled and after in _STAGE_ENDS:
            stage += 1
            taps.append(Tap(layer.name, f"conv stage {stage}"))
            pooled = False
    return taps


def named_taps(model, names: tuple[str, ...]) -> list[Tap]:
    """The layers called ``names`` (in the model's order), a softmax output among them as its logits.

    Raises
    ------
    ConfigError
        Naming the layers the model has, for a name it has not.
    """
    have = [layer.name for layer in model.layers if type(layer).__name__ != "InputLayer"]
    unknown = [n for n in names if n not in have]
    if unknown:
        raise ConfigError(f"--layers-name {', '.join(unknown)}: {model.name} has no such layer; its layers are "
                          f"{', '.join(have)}")
    last = have[-1]
    softmax = getattr(getattr(model.get_layer(last), "activation", None), "__name__", "") == "softmax"
    return [Tap(n, "logits" if n == last and softmax else n, logits=n == last and softmax)
            for n in have if n in names]


def pool_size(shape: tuple[int, ...], limit: int = MAX_FEATURES) -> int:
    """The smallest ``f`` whose ``f x f`` average pooling brings an (h, w, c) map to ``limit`` values or fewer."""
    if len(shape) != 3:
        return 1
    h, w, c = shape
    f = 1
    while math.ceil(h / f) * math.ceil(w / f) * c > limit and (f < h or f < w):
        f += 1
    return f


def features(act: np.ndarray, f: int) -> np.ndarray:
    """(n, values) float32 rows of activations ``act`` (n, ...), (n, h, w, c) maps average-pooled over f x f."""
    act = np.asarray(act, np.float32)
    if act.ndim == 4 and f > 1:
        n, h, w, c = act.shape
        H, W = math.ceil(h / f) * f, math.ceil(w / f) * f
        act = np.pad(act, ((0, 0), (0, H - h), (0, W - w), (0, 0)), mode="edge")
        act = act.reshape(n, H // f, f, W // f, f, c).mean((2, 4))
    return act.reshape(len(act), -1)


def how(shape: tuple[int, ...], f: int, logits: bool = False) -> str:
    """What a layer's row per image is, in words."""
    dims = " x ".join(str(s) for s in shape)
    total = int(np.prod(shape))
    if logits:
        return f"the logits before the softmax ({total:,} values)"
    if len(shape) == 3 and f > 1:
        h, w, c = shape
        pooled = f"{math.ceil(h / f)} x {math.ceil(w / f)} x {c}"
        return f"{dims} map, {f} x {f} average-pooled to {pooled} = {math.ceil(h / f) * math.ceil(w / f) * c:,} values"
    return f"{dims} = {total:,} values" if len(shape) > 1 else f"{total:,} values"


def activations(model, to_input, taps: list[Tap], images: np.ndarray, batch: int = 2000) -> list[tuple[np.ndarray, str]]:
    """Per tap, (its rows per image, how they were made), the images fed (``to_input(images)``) in batches."""
    import keras

    outputs = [model.get_layer(t.name).input if t.logits else model.get_layer(t.name).output for t in taps]
    probe = keras.Model(model.inputs, outputs)
    shapes = [tuple(int(d) for d in o.shape[1:]) for o in outputs]
    pools = [pool_size(s) for s in shapes]
    parts: list[list[np.ndarray]] = [[] for _ in taps]
    for start in range(0, len(images), batch):
        got = probe.predict(to_input(images[start:start + batch]), batch_size=500, verbose=0)
        got = got if isinstance(got, (list, tuple)) else [got]
        for j, (a, f) in enumerate(zip(got, pools)):
            parts[j].append(features(a, f))
    out = []
    for t, rows, shape, f in zip(taps, parts, shapes, pools):
        X = np.concatenate(rows)
        if t.logits:
            kernel, bias = (np.asarray(w, np.float32) for w in model.get_layer(t.name).get_weights())
            X = X @ kernel + bias
            shape = (kernel.shape[1],)
        out.append((X.astype(np.float32), how(shape, f, t.logits)))
    return out


def subset(labels: np.ndarray, m: int, seed: int = 0) -> np.ndarray:
    """Sorted rows of a seeded class-balanced subset of ``m`` rows (every row when there are no more)."""
    n = len(labels)
    if m >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    per = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    take, i = [], 0
    while len(take) < m:  # round robin over the classes: each gives one row a turn while it has rows
        for rows in per:
            if i < len(rows) and len(take) < m:
                take.append(rows[i])
        i += 1
    return np.sort(np.asarray(take, np.int64))


def probe_accuracy(X: np.ndarray, labels: np.ndarray, points: int, folds: int, seed: int = 0) -> float:
    """A linear probe: cross-validated accuracy of a logistic regression on standardised rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows = subset(labels, points, seed)
    y = labels[rows]
    folds = max(2, min(folds, int(np.bincount(y).min())))
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300, C=1.0))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return float(cross_val_score(clf, X[rows], y, cv=cv).mean())


def _layout(method: str, X: np.ndarray, previous: np.ndarray | None, seed: int) -> np.ndarray:
    """One frame of ``method`` (2-D), started from and rotated onto the previous layer's frame."""
    if method == "pca":
        from sklearn.decomposition import PCA

        Y = PCA(2, random_state=seed).fit_transform(X)
    elif method == "umap":
        import warnings

        import umap

        from embeddings.methods.umap import cache_umap_compilation

        cache_umap_compilation()
        R = reduced(X, seed)
        idx, dist = build_knn(R, min(14, len(R) - 1), seed=seed).with_self(min(15, len(R)))
        init = "spectral" if previous is None else _scaled(previous)
        epochs = UMAP_EPOCHS if previous is None else UMAP_WARM_EPOCHS
        with warnings.catch_warnings():  # no new points are ever placed: its search index is not needed
            warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]", category=UserWarning)
            Y = umap.UMAP(n_neighbors=idx.shape[1], min_dist=0.1, init=init, n_epochs=epochs, random_state=seed,
                          n_jobs=1, precomputed_knn=(idx, dist), force_approximation_algorithm=True).fit_transform(R)
    elif previous is None:
        from embeddings.projections import TSNE

        Y = TSNE(perplexity=30, random_state=seed).fit_transform(X, knn=build_knn(X, min(90, len(X) - 1)))
    else:  # no early exaggeration: the previous layer's frame is the start
        from embeddings.dynamics import DynamicsConfig, tsne_from

        Y = tsne_from(X, build_knn(X, min(90, len(X) - 1)), previous, DynamicsConfig(seed=seed))
    Y = np.asarray(Y, np.float32)
    return Y if previous is None else rotated_onto(Y, previous)


def rotated_onto(frame: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``frame`` rotated (or reflected) onto ``reference`` (orthogonal Procrustes), centred on it and scaled to
    its spread. The least-squares scale the training-dynamics frames take would shrink a layer whose layout
    differs much from the one before (the logits after the embedding) towards a dot."""
    from scipy.linalg import orthogonal_procrustes

    F, R = frame - frame.mean(0), reference - reference.mean(0)
    rot, _ = orthogonal_procrustes(F, R)
    scale = np.sqrt((R ** 2).sum() / max(float((F ** 2).sum()), 1e-12))
    return (scale * F @ rot + reference.mean(0)).astype(np.float32)


def reduced(X: np.ndarray, seed: int = 0) -> np.ndarray:
    """``X`` on its first :data:`UMAP_PCA` principal components (as it is when it has no more columns)."""
    if X.shape[1] <= UMAP_PCA:
        return X
    from sklearn.decomposition import PCA

    return PCA(UMAP_PCA, random_state=seed).fit_transform(X).astype(np.float32)


def _scaled(frame: np.ndarray, sd: float = 10.0) -> np.ndarray:
    """``frame`` centred and scaled to standard deviation ``sd`` along x: the start UMAP takes."""
    centred = frame - frame.mean(0)
    return (centred / max(float(centred[:, 0].std()), 1e-12) * sd).astype(np.float64)


def layer_rows(X: np.ndarray, labels: np.ndarray, config: LayersConfig) -> dict:
    """A layer's separability over every row: k-NN accuracy, linear probe, silhouette."""
    knn = build_knn(X, min(config.k, len(X) - 1), method="exact")
    return {"knn_accuracy": metrics.knn_accuracy(knn, labels, min(config.k, len(X) - 1)),
            "probe_accuracy": probe_accuracy(X, labels, config.probe_points, config.probe_folds, config.seed),
            "silhouette": metrics.silhouette(X, labels, sample_size=SILHOUETTE_ROWS, seed=config.seed)}


def anchors(X: np.ndarray, rows: np.ndarray, k: int = ANCHORS) -> np.ndarray:
    """int32 (n, k): each row's ``k`` nearest framed rows in this layer (indices into ``rows``; a framed
    row's own first), so that any image can be placed on a frame and followed through the layers."""
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(rows))
    return NearestNeighbors(n_neighbors=k).fit(X[rows]).kneighbors(X, return_distance=False).astype(np.int32)


#: the pixels' layer as the last model of a sample set measured it: every network of a dataset starts from the
#: same pixels, so a run measures and lays them out once (key: the samples folder and the config)
_PIXELS: dict[tuple, tuple] = {}


def one_layer(i: int, title: str, X: np.ndarray, words: str, rows: np.ndarray, labels: np.ndarray,
              previous: dict[str, np.ndarray | None], config: LayersConfig) -> tuple[dict, dict[str, np.ndarray], np.ndarray]:
    """(its row of the table, {method: its frame}, its anchors) of layer ``i``."""
    t0 = time.perf_counter()
    near = anchors(X, rows)
    entry = {"layer": i, "title": title, "how": words, "dims": int(X.shape[1]), **layer_rows(X, labels, config)}
    frames = {}
    for method in config.methods:
        frames[method] = _layout(method, X[rows], previous.get(method), config.seed)
        entry[f"trustworthiness_{method}"] = metrics.trustworthiness(X[rows], frames[method], config.k)
    entry["seconds"] = round(time.perf_counter() - t0, 2)
    log.info("layer %d (%s): k-NN %.3f, probe %.3f in %.1f s", i, title, entry["knn_accuracy"],
             entry["probe_accuracy"], entry["seconds"])
    return entry, frames, near


def follow(layers: list[tuple[str, np.ndarray, str]], labels: np.ndarray, config: LayersConfig,
           progress: Callable[[int, int], None] | None = None,
           pixels_key: tuple | None = None) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, list[dict]]:
    """(subset rows, {method: frames (layers, m, 2)}, anchors (layers, n, k), per-layer rows) of
    ``layers`` = [(title, X, how)]; ``pixels_key`` names the first layer (the pixels) for :data:`_PIXELS`."""
    rows = subset(labels, config.points, config.seed)
    frames: dict[str, list[np.ndarray]] = {m: [] for m in config.methods}
    table, near = [], []
    for i, (title, X, words) in enumerate(layers):
        previous = {m: f[-1] if f else None for m, f in frames.items()}
        key = (pixels_key, dataclasses.astuple(config)) if i == 0 and pixels_key else None
        if key is not None and key in _PIXELS:
            entry, got, ne = _PIXELS[key]
        else:
            entry, got, ne = one_layer(i, title, X, words, rows, labels, previous, config)
            if key is not None:
                _PIXELS.clear()  # one sample set's pixels at a time
                _PIXELS[key] = (entry, got, ne)
        table.append(dict(entry))
        near.append(ne)
        for m in config.methods:
            frames[m].append(got[m])
        if progress:
            progress(i + 1, len(layers))
    return rows, {m: np.stack(f) for m, f in frames.items()}, np.stack(near), table


@dataclasses.dataclass(frozen=True)
class Measured:
    """One network's layers measured (:func:`measure`): its taps, then what ``layers/<key>/`` holds (the
    framed rows, {method: frames (layers, m, 2)}, anchors (layers, n, k), the per-layer table)."""

    taps: list[Tap]
    rows: np.ndarray
    frames: dict[str, np.ndarray]
    anchors: np.ndarray
    table: list[dict]
    extract_seconds: float


def measure(spec, model_dir: Path, images: np.ndarray, labels: np.ndarray, config: LayersConfig, store,
            progress: Callable[[int, int], None] | None = None, pixels_key: tuple | None = None) -> Measured:
    """Open ``spec``'s network (its kind's ``network``), follow its layers over ``images`` and measure them."""
    from training import kinds
    from training.pixels import flat

    kind = kinds.get(spec.kind)
    model, to_input = kind.network(spec, model_dir, store)
    # --layers-name chooses a user's file's layers; the ladder's networks follow their stages
    taps = named_taps(model, config.names) if config.names and kind.check else depth_taps(model)
    if not taps:
        raise ConfigError(f"{spec.name}: {Path(model_dir) / 'model.keras'} has no dense or pooled convolution "
                          "layer to follow; the Layers view needs at least one")
    t0 = time.perf_counter()
    acts = activations(model, to_input, taps, images)
    extract = time.perf_counter() - t0
    layers = [("pixels", flat(images), how(tuple(images.shape[1:]), 1)),
              *[(t.title, X, words) for t, (X, words) in zip(taps, acts)]]
    rows, frames, near, table = follow(layers, labels, config, progress, pixels_key=pixels_key)
    return Measured(taps, rows, frames, near, table, extract)


def build_layers(dataset: str, spec, model_dir: Path, model_key: str, samples_dir: Path, config: LayersConfig,
                 store: ArtifactStore, progress: Callable[[int, int], None] | None = None) -> Path | None:
    """Compute (or reuse) one model's ``layers/<key>/`` folder; ``None`` for a model without layers.

    Its files are :class:`Measured`'s: ``rows.npy``, ``anchors.npy``, a ``<method>.npy`` per layout method and
    ``layers.json`` (the table, see :func:`follow`).
    """
    from training import kinds

    if kinds.get(spec.kind).network is None:
        return None

    def make(out: Path) -> dict:
        images = store.load_array(Path(samples_dir) / "images.npy")
        labels = store.load_array(Path(samples_dir) / "labels.npy").astype(np.int64)
        got = measure(spec, model_dir, images, labels, config, store, progress, pixels_key=(str(Path(samples_dir)),))
        save_npy_atomic(out / "rows.npy", got.rows)
        save_npy_atomic(out / "anchors.npy", got.anchors)
        for method, f in got.frames.items():
            save_npy_atomic(out / f"{method}.npy", f)
        write_json_atomic(out / "layers.json", {"layers": got.table, "methods": list(got.frames), "k": config.k,
                                                "extract_seconds": round(got.extract_seconds, 2)})
        return {"layers": [t.name for t in got.taps]}

    return store.build(dataset, STAGE, config, make, upstream=(model_key, Path(samples_dir).name))

"""Your own dataset: images, labels and (optionally) embeddings, probabilities or predictions.

:func:`check` validates arrays a user hands over (every refusal names the argument, what
was expected, what was found and the fix); :func:`import_arrays` writes them into the
cache as ``<name>/import/<key>/``, keyed by their content, so importing the same arrays
again reuses everything made from them; :func:`load` reads such a folder back for the
stages (``training/datasets/import_folder.py``: the same arrays a built-in dataset's loader
gives). From there an imported dataset goes through the same stages as MNIST: samples,
the k-NN graph, PCA/t-SNE/UMAP, faithfulness, label issues and the report.

Its one model is ``given`` when embeddings were given (predictions from the given
probabilities or predictions, else the 5-NN vote of the other samples in that
embedding), else ``pixels`` (the 5-NN vote of the other samples on the raw pixels).
There is no train/test split: every sample is a sample, its id its row.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from core.datasets import MAX_CLASSES, check_class_count
from core.errors import DataError
from core.store import ArtifactStore, save_npy_atomic, write_json_atomic
from training import datasets

log = logging.getLogger(__name__)

STAGE = "import"
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
SIDE = (8, 64)        # image height and width, inclusive


@dataclasses.dataclass(frozen=True)
class Given:
    """Validated arrays of one dataset: what :func:`import_arrays` writes."""

    name: str
    title: str
    images: np.ndarray                 # uint8 (n, h, w) or (n, h, w, 3)
    labels: np.ndarray                 # uint8 (n,)
    class_names: tuple[str, ...]
    embeddings: np.ndarray | None = None  # float32 (n, d)
    proba: np.ndarray | None = None       # float32 (n, C)
    pred: np.ndarray | None = None        # uint8 (n,)
    #: the model the embeddings come from: its name (folders, URLs) and title (tables)
    model_name: str = "embeddings"
    model_title: str = "your embeddings"

    @property
    def image_shape(self) -> tuple[int, int, int]:
        h, w = self.images.shape[1:3]
        return int(h), int(w), 3 if self.images.ndim == 4 else 1

    def digest(self) -> str:
        """sha256 of everything given: the import's cache key."""
        h = hashlib.sha256()
        for part in ("images", "labels", "embeddings", "proba", "pred"):
            a = getattr(self, part)
            h.update(f"{part}:{None if a is None else (a.dtype.str, a.shape)};".encode())
            if a is not None:
                h.update(np.ascontiguousarray(a).tobytes())
        h.update(repr((self.title, self.class_names, self.model_name, self.model_title)).encode())
        return h.hexdigest()


def _fail(argument: str, text: str) -> DataError:
    return DataError(f"{argument}: {text}")


def _array(value, argument: str) -> np.ndarray:
    try:
        a = np.asarray(value)
    except Exception as e:  # noqa: BLE001 - ragged lists and the like
        raise _fail(argument, f"could not be read as an array ({e}); pass a numpy array") from None
    if a.dtype == object:
        raise _fail(argument, "is an array of Python objects (ragged rows?); pass a numeric numpy array")
    return a


def check_name(name) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise _fail("name", f"expected 1-40 lowercase letters, digits, '.', '_' or '-' starting with a letter "
                            f"or digit (it names folders and URLs); got {name!r}: e.g. 'my-cifar'")
    if name in datasets.NAMES:
        raise _fail("name", f"{name!r} is a built-in dataset; give yours another name, e.g. '{name}-mine'")
    return name


def check_images(images) -> np.ndarray:
    a = _array(images, "images")
    if a.ndim == 4 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (3, 4) or (a.ndim == 4 and a.shape[-1] != 3):
        raise _fail("images", f"expected shape (n, height, width) for grey or (n, height, width, 3) for RGB; "
                              f"got {a.shape}" + ("; channels first? use images.transpose(0, 2, 3, 1)"
                                                  if a.ndim == 4 and a.shape[1] in (1, 3) else ""))
    h, w = a.shape[1:3]
    if not (SIDE[0] <= h <= SIDE[1] and SIDE[0] <= w <= SIDE[1]):
        raise _fail("images", f"expected height and width from {SIDE[0]} to {SIDE[1]} pixels; got {h}x{w}: "
                              "resize them (e.g. PIL.Image.resize) before importing")
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    if a.dtype.kind in "iu":
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        if lo < 0 or hi > 255:
            raise _fail("images", f"expected pixel values 0-255 (uint8); got {a.dtype} values from {lo} to {hi}")
        return a.astype(np.uint8)
    if a.dtype.kind == "f":
        lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
        fix = ("(images * 255).round().astype('uint8')" if lo >= 0 and hi <= 1
               else "rescale them to 0-255 and .astype('uint8')")
        raise _fail("images", f"expected uint8 pixels 0-255; got {a.dtype} values from {lo:g} to {hi:g}: "
                              f"convert with {fix}")
    raise _fail("images", f"expected uint8 pixels 0-255; got dtype {a.dtype}")


def check_labels(labels, n: int, class_names: Sequence[str] | None) -> tuple[np.ndarray, tuple[str, ...]]:
    a = _array(labels, "labels")
    if a.ndim == 2 and a.shape[1] > 1 and a.shape[0] == n:
        raise _fail("labels", f"expected one class number per image, shape ({n},); got {a.shape} "
                              "(one-hot? use labels.argmax(1))")
    a = a.reshape(-1) if a.ndim == 2 and a.shape[1] == 1 else a
    if a.ndim != 1 or len(a) != n:
        raise _fail("labels", f"expected shape ({n},), one label per image; got {a.shape}")
    if a.dtype.kind in "USO":
        names = tuple(sorted(set(a.tolist())))
        if class_names is not None:
            known = {c: i for i, c in enumerate(check_class_names(class_names, len(names)))}
            missing = [c for c in names if c not in known]
            if missing:
                raise _fail("labels", f"names {missing[:5]} are not in class_names")
            return np.array([known[c] for c in a.tolist()], np.uint8), tuple(known)
        check_class_count(len(names), "labels")
        index = {c: i for i, c in enumerate(names)}
        return np.array([index[c] for c in a.tolist()], np.uint8), check_class_names(names, len(names))
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise _fail("labels", f"expected integer class numbers 0..C-1; got {a.dtype} values that are not "
                                  "whole numbers")
    elif a.dtype.kind not in "iub":
        raise _fail("labels", f"expected integer class numbers 0..C-1; got dtype {a.dtype}")
    lo, hi = int(a.min()), int(a.max())
    c = len(class_names) if class_names is not None else hi + 1
    if lo < 0 or hi >= c:
        raise _fail("labels", f"expected class numbers 0..{c - 1}" +
                    (f" (one per class name: {c} class_names given)" if class_names is not None else "") +
                    f"; got values from {lo} to {hi}")
    check_class_count(c, "labels" if class_names is None else "class_names")  # what says how many classes
    names = check_class_names(class_names, c) if class_names is not None else tuple(str(i) for i in range(c))
    return a.astype(np.uint8), names


def check_class_names(class_names, c: int) -> tuple[str, ...]:
    if isinstance(class_names, str) or not isinstance(class_names, (list, tuple, np.ndarray)):
        raise _fail("class_names", f"expected a list of {c} names; got {type(class_names).__name__}")
    names = tuple(str(x).strip() for x in class_names)
    if len(names) > MAX_CLASSES:
        check_class_count(len(names), "class_names")
    if len(names) < c or len(names) < 2:
        raise _fail("class_names", f"expected one name per class (at least {max(c, 2)}); got {len(names)}")
    empty = [i for i, x in enumerate(names) if not x]
    if empty:
        raise _fail("class_names", f"class {empty[0]} has an empty name; name every class")
    dup = sorted({x for x in names if names.count(x) > 1})
    if dup:
        raise _fail("class_names", f"expected distinct names; {dup[:3]} appear more than once")
    return names


def check_embeddings(embeddings, n: int) -> np.ndarray:
    a = _array(embeddings, "embeddings")
    if a.ndim == 1 or a.ndim > 2:
        a_shape = a.shape
        if a.ndim > 2 and a.shape[0] == n:
            a = a.reshape(n, -1)
        else:
            raise _fail("embeddings", f"expected shape ({n}, d), one row per image; got {a_shape}")
    if a.shape[0] != n:
        raise _fail("embeddings", f"expected {n} rows, one per image; got {a.shape[0]} (shape {a.shape})")
    if a.dtype.kind not in "fiub":
        raise _fail("embeddings", f"expected numbers; got dtype {a.dtype}")
    if a.shape[1] < 2:
        raise _fail("embeddings", f"expected at least 2 dimensions per row; got {a.shape[1]}")
    a = a.astype(np.float32)
    bad = ~np.isfinite(a).all(1)
    if bad.any():
        raise _fail("embeddings", f"{int(bad.sum())} rows hold NaN or infinite values (first: row "
                                  f"{int(np.flatnonzero(bad)[0])}); drop or fix those rows")
    if float(np.ptp(a, axis=0).max()) == 0.0:
        raise _fail("embeddings", "every row is the same vector; pass the embeddings of each image")
    return np.ascontiguousarray(a)


def check_proba(proba, n: int, c: int) -> np.ndarray:
    a = _array(proba, "proba")
    if a.shape != (n, c):
        raise _fail("proba", f"expected shape ({n}, {c}): one probability per image and class; got {a.shape}")
    if a.dtype.kind not in "fiu":
        raise _fail("proba", f"expected numbers; got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise _fail("proba", "holds NaN or infinite values")
    if a.min() < -1e-6 or a.max() > 1 + 1e-6 or not np.allclose(a.sum(1), 1, atol=1e-3):
        raise _fail("proba", f"expected rows of probabilities (each in [0, 1], summing to 1); got values from "
                             f"{a.min():.3g} to {a.max():.3g}, row sums up to {np.abs(a.sum(1) - 1).max():.3g} "
                             "off 1: logits? apply scipy.special.softmax(proba, axis=1)")
    return np.clip(a, 0, 1).astype(np.float32)


def check_pred(pred, n: int, c: int) -> np.ndarray:
    a = _array(pred, "pred")
    a = a.reshape(-1) if a.ndim == 2 and a.shape[1] == 1 else a
    if a.shape != (n,):
        raise _fail("pred", f"expected shape ({n},), one predicted class per image; got {a.shape}")
    if a.dtype.kind not in "iu" or int(a.min()) < 0 or int(a.max()) >= c:
        raise _fail("pred", f"expected integer class numbers 0..{c - 1}; got {a.dtype} "
                            f"values from {a.min()} to {a.max()}")
    return a.astype(np.uint8)


def check(images, labels, embeddings=None, proba=None, pred=None, class_names=None, *, name: str,
          title: str | None = None, min_samples: int = 2, model_name: str = "embeddings",
          model_title: str | None = None) -> Given:
    """Validate a user's arrays (see the module doc); raises ``DataError`` naming the argument."""
    from core.vocab import MODEL_NAME
    from training.kinds.registry import rung_names

    name = check_name(name)
    if not isinstance(model_name, str) or not MODEL_NAME.match(model_name) or model_name in rung_names():
        raise _fail("model_name", f"expected 1-40 lowercase letters, digits, '.', '_' or '-', none of "
                                  f"{', '.join(rung_names())}; got {model_name!r}")
    if (proba is not None or pred is not None) and embeddings is None:
        raise _fail("embeddings", "proba or pred was given without the embeddings they go with; pass "
                                  "embeddings= too (the model's last hidden layer), or drop proba/pred")
    images = check_images(images)
    n = len(images)
    if n < min_samples:
        raise _fail("images", f"{n} images; the layouts need at least {min_samples} (t-SNE with perplexity p "
                              "needs 3 p + 1): pass more images or a lower perplexity")
    labels, names = check_labels(labels, n, class_names)
    if proba is not None and pred is not None:
        raise _fail("pred", "give proba or pred, not both (pred is proba.argmax(1))")
    return Given(name=name, title=str(title or name)[:60], images=images, labels=labels, class_names=names,
                 embeddings=None if embeddings is None else check_embeddings(embeddings, n),
                 proba=None if proba is None else check_proba(proba, n, len(names)),
                 pred=None if pred is None else check_pred(pred, n, len(names)),
                 model_name=model_name,
                 model_title=str(model_title or ("your embeddings" if model_name == "embeddings" else model_name))[:60])


def import_arrays(given: Given, store: ArtifactStore) -> Path:
    """Write (or reuse) ``<name>/import/<key>/``, keyed by the arrays' content."""
    def make(out: Path) -> None:
        for part in ("images", "labels", "embeddings", "proba", "pred"):
            a = getattr(given, part)
            if a is not None:
                save_npy_atomic(out / f"{part}.npy", a)
        write_json_atomic(out / "facts.json", {"title": given.title, "class_names": list(given.class_names),
                                               "image_shape": list(given.image_shape), "n": len(given.labels),
                                               "model_name": given.model_name, "model_title": given.model_title})

    return store.build(given.name, STAGE, {"sha256": given.digest()}, make)


@dataclasses.dataclass(frozen=True)
class GivenConfig:
    """The ``given`` model of an imported dataset (its cache key: the import folder's)."""

    dataset: str
    name: str
    source: str          # the import folder's key
    k: int = 5           # neighbours that vote when no predictions were given


def fit_given(config: GivenConfig, import_dir: Path, store: ArtifactStore, progress=None) -> Path:
    """The model folder of the given embeddings: probabilities (given, from predictions, or the
    leave-one-out k-NN vote in the embedding) and their metrics."""
    from training.pixels import PixelsConfig, vote
    from training.train import classification_metrics

    def make(out: Path) -> None:
        info = datasets.get(config.dataset)
        labels = store.load_array(import_dir / "labels.npy").astype(np.int64)
        c = len(info.class_names)
        if (import_dir / "proba.npy").exists():
            proba, how = store.load_array(import_dir / "proba.npy"), "given probabilities"
        elif (import_dir / "pred.npy").exists():
            proba = np.eye(c, dtype=np.float32)[store.load_array(import_dir / "pred.npy").astype(np.int64)]
            how = "given predictions"
        else:
            emb = store.load_array(import_dir / "embeddings.npy")
            proba = vote(emb, emb, labels, c, PixelsConfig(dataset=config.dataset, k=config.k),
                         self_rows=np.arange(len(emb)), progress=progress)
            how = f"{config.k}-NN vote of the other samples in the embedding (leave-one-out)"
        metrics = classification_metrics(labels, proba.argmax(1), c)
        metrics.update(kind="given", title=config.name, class_names=list(info.class_names), train_seconds=None,
                       predictions=how)
        save_npy_atomic(out / "test-proba.npy", np.asarray(proba, np.float32))
        write_json_atomic(out / "metrics.json", metrics)
        log.info("%s: %s, accuracy %.4f (%s)", config.dataset, config.name, metrics["test_accuracy"], how)

    return store.build(config.dataset, "model", {"kind": "given", **dataclasses.asdict(config)}, make)

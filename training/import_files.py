"""``python -m pipeline import NAME --images ...``: your dataset's files, read into arrays for
:func:`training.imported.check`.

``--images`` takes a ``.npy`` array, an ``.npz`` holding the keys ``images``, ``labels`` and
optionally ``embeddings``, ``proba``, ``pred``, ``class_names``, one IDX file (``.gz`` or
not), or a folder of the four IDX files MNIST ships as (``--split`` picks which images).
Every array is read with ``allow_pickle=False``.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from core.errors import DataError
from core.options import option, validate
from training.idx import IDX_FILES, read_idx

NPZ_KEYS = ("images", "labels", "embeddings", "proba", "pred", "class_names")


@dataclasses.dataclass(frozen=True)
class ImportOptions:
    """What the ``import`` command reads: your dataset's name and files."""

    name: str | None = option(None, "your dataset's name (folders, URLs): lowercase letters, digits, . _ -",
                              type=str, positional=True)
    images: Path | None = option(None, "images: .npy (n, h, w) or (n, h, w, 3) uint8, .npz with the keys "
                                       "images, labels[, embeddings, proba, pred, class_names], an IDX file, "
                                       "or a folder of the four MNIST-style IDX files", type=Path)
    labels: Path | None = option(None, "labels: .npy (n,) class numbers (or names), or an IDX file", type=Path)
    embeddings: Path | None = option(None, "embeddings .npy (n, d), e.g. your model's last hidden layer",
                                     type=Path)
    proba: Path | None = option(None, "class probabilities .npy (n, classes) that go with --embeddings",
                                type=Path)
    pred: Path | None = option(None, "predicted classes .npy (n,) that go with --embeddings", type=Path)
    class_names: Path | None = option(None, "text file with one class name per line", type=Path)
    title: str | None = option(None, "title shown in the explorer (default: the name)", type=str)
    split: str = option("test", "of a folder of IDX files: the test images, the training images, or all",
                        choices=("test", "train", "all"))
    quiet: bool = option(False, "no progress bars", short="-q")

    def __post_init__(self) -> None:
        validate(self, "import")


def _need(path: Path | None, flag: str) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{flag} {path}: no such file or folder")
    return path


#: the first bytes of what np.save and np.savez write: NumPy's own magic, and a zip archive's
NPY_MAGIC, ZIP_MAGIC = b"\x93NUMPY", b"PK"


def _magic(path: Path, flag: str, magic: bytes, kind: str, fix: str) -> None:
    """Refuse a file that does not start as ``kind`` does (random bytes, a CSV renamed): np.load
    would take it for a pickle and talk of ``allow_pickle``, which is no help."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(NPY_MAGIC))
    except OSError as e:
        raise DataError(f"{flag} {path}: cannot be read ({e})") from None
    if head.startswith(magic):
        return
    found = f"its first bytes are {head!r}" if head else "it is empty"
    if kind == ".npy" and head.startswith(ZIP_MAGIC):
        found += ", a zip archive's: an .npz? name it .npz and give it to --images"
    raise DataError(f"{flag} {path}: is not a {kind} file (every {kind} file starts with {magic!r}; {found}); {fix}")


def _npy(path: Path, flag: str) -> np.ndarray:
    _magic(path, flag, NPY_MAGIC, ".npy", "save the array with np.save(path, array)")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as e:
        raise DataError(f"{flag} {path}: not a plain .npy array ({e}); save it with np.save(path, array) "
                        "from a numeric array") from None
    except (OSError, EOFError) as e:
        raise DataError(f"{flag} {path}: cannot be read as .npy ({str(e) or 'cut short'})") from None


def _array_file(path: Path, flag: str) -> np.ndarray:
    name = path.name.lower()
    if name.endswith(".npy"):
        return _npy(path, flag)
    if "idx" in name or name.endswith(".gz") or name.endswith("ubyte"):
        try:
            return read_idx(path)
        except DataError as e:
            raise DataError(f"{flag} {path}: {e}") from None
    raise DataError(f"{flag} {path}: expected a .npy array or an IDX file (its name holds 'idx' or ends in "
                    "'ubyte' / '.gz')")


def _idx_folder(folder: Path, split: str) -> dict:
    found = {}
    for key, stem in IDX_FILES.items():
        cand = [c for c in (folder / f"{stem}.gz", folder / stem) if c.exists()]
        if cand:
            found[key] = read_idx(cand[0])
    parts = {"test": ("test",), "train": ("train",), "all": ("train", "test")}[split]
    missing = [IDX_FILES[f"{k}_{p}"] for p in parts for k in ("x", "y") if f"{k}_{p}" not in found]
    if missing:
        raise DataError(f"--images {folder}: a folder of IDX files needs {', '.join(missing)} (or .gz) for "
                        f"--split {split}; found {', '.join(sorted(IDX_FILES[k] for k in found)) or 'none'}")
    return {"images": np.concatenate([found[f"x_{p}"] for p in parts]),
            "labels": np.concatenate([found[f"y_{p}"] for p in parts])}


def read(options: ImportOptions) -> dict:
    """``{"images", "labels", "embeddings", "proba", "pred", "class_names"}`` (absent ones None)."""
    if not options.name:
        raise DataError("import needs a NAME: python -m pipeline import NAME --images x.npy --labels y.npy")
    if options.images is None:
        raise DataError("import needs --images (.npy, .npz, an IDX file or a folder of IDX files)")
    out = dict.fromkeys(NPZ_KEYS)
    images = _need(options.images, "--images")
    if images.is_dir():
        out.update(_idx_folder(images, options.split))
    elif images.name.lower().endswith(".npz"):
        _magic(images, "--images", ZIP_MAGIC, ".npz", "save the arrays with np.savez(path, images=..., labels=...)")
        try:
            with np.load(images, allow_pickle=False) as z:
                unknown = sorted(set(z.files) - set(NPZ_KEYS))
                if unknown:
                    raise DataError(f"--images {images}: unknown keys {', '.join(unknown)}; an .npz holds "
                                    f"{', '.join(NPZ_KEYS)}")
                out.update({k: z[k] for k in z.files})
        except ValueError as e:
            raise DataError(f"--images {images}: holds object arrays ({e}); save numeric arrays with "
                            "np.savez(path, images=..., labels=...)") from None
        if out["images"] is None:
            raise DataError(f"--images {images}: the .npz has no 'images' array (it has "
                            f"{', '.join(k for k in NPZ_KEYS if out[k] is not None) or 'nothing'})")
    else:
        out["images"] = _array_file(images, "--images")
    if options.labels is not None:
        out["labels"] = _array_file(_need(options.labels, "--labels"), "--labels")
    if out["labels"] is None:
        raise DataError("import needs labels: --labels y.npy (or an 'labels' key in the .npz)")
    for key in ("embeddings", "proba", "pred"):
        if getattr(options, key) is not None:
            out[key] = _npy(_need(getattr(options, key), f"--{key}"), f"--{key}")
    _embeddings_with(out, options, images)
    if options.class_names is not None:
        path = _need(options.class_names, "--class-names")
        out["class_names"] = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    elif out["class_names"] is not None:
        out["class_names"] = [str(x) for x in np.asarray(out["class_names"]).tolist()]
    return out


def _embeddings_with(out: dict, options: ImportOptions, images: Path) -> None:
    """Refuse class probabilities or predictions without the embeddings they go with, naming the
    argument that gave them (the check of the arrays would name the embeddings, which nobody gave)."""
    key = next((k for k in ("proba", "pred") if out[k] is not None), None)
    if key is None or out["embeddings"] is not None:
        return
    given = getattr(options, key)
    where = f"--{key} {given}" if given is not None else f"--images {images} (its {key!r})"
    what = {"proba": "class probabilities", "pred": "predicted classes"}[key]
    raise DataError(f"{where}: {what} need the embeddings of the model that made them, and none were given; "
                    "pass --embeddings e.npy too (e.g. that model's last hidden layer, one row per image), "
                    f"or leave out {key}")

"""What every artifact folder holds, declared once: its files, their dtypes and shapes, their meaning.

Each stage of the pipeline writes one folder ``<root>/<dataset>/<stage>/<key>/`` (the
combined report: ``<root>/report/<key>/``). :data:`FOLDERS` declares, per stage, the files
such a folder may hold and the stage's ``version``, which is part of every folder's key
(:func:`core.store.config_key`): a change to what a stage computes is one bumped number,
and that stage and everything made from it get new keys while the rest is reused.

Writers name files through these declarations (``EMBED["proba"].name``); the store checks
every array it loads against them (:func:`check_array`), the tests' synthetic caches write
through them, and the tables of ``docs/ARTIFACTS.md`` are generated from them
(``python -m core.schema`` rewrites them; a test fails when they drift).
This module imports only numpy and the standard library: the explorer uses it too.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from core.datasets import MAX_CLASSES, MIN_CLASSES
from core.errors import CacheError

#: Files of the cache that belong to no stage folder.
CONFIG_FILE = "config.json"
CURRENT_FILE = "current.json"
PROGRESS_FILE = "progress.json"
WANTED_FILE = "wanted.json"  # the view a page asked for (docs/ARTIFACTS.md), read by pipeline/schedule.py


@dataclasses.dataclass(frozen=True)
class File:
    """One file of a stage folder.

    ``dtypes`` are the numpy dtypes an array may have (empty for JSON and Keras files);
    ``shapes`` the shapes it may have, each a tuple of symbols (``"n"``) or fixed sizes, so
    that only the number of axes and the fixed sizes are checked when it is read.
    """

    name: str
    meaning: str
    dtypes: tuple[str, ...] = ()
    shapes: tuple[tuple, ...] = ()
    optional: bool = False

    @property
    def key(self) -> str:
        """The short name writers and readers use: ``"knn-indices.npy"`` -> ``"knn_indices"``."""
        return re.sub(r"\W", "_", self.name.rsplit(".", 1)[0])

    def shape_text(self) -> str:
        return " or ".join("(" + ", ".join(map(str, s)) + ("," if len(s) == 1 else "") + ")" for s in self.shapes)

    def describe(self) -> str:
        """``"float32 (n, classes)"``, ``"JSON"``: the type column of the docs' tables."""
        if not self.dtypes:
            return {".json": "JSON", ".keras": "Keras 3 file"}.get(Path(self.name).suffix, "file")
        return f"{' or '.join(self.dtypes)} {self.shape_text()}"


@dataclasses.dataclass(frozen=True)
class Folder:
    """One stage's folder: its name under ``<dataset>/``, its version and its files."""

    stage: str
    version: int
    title: str
    files: tuple[File, ...]

    def __getitem__(self, key: str) -> File:
        for f in self.files:
            if key in (f.key, f.name):
                return f
        raise KeyError(f"{self.stage} folders declare no file {key!r} (they hold {', '.join(self.names)})")

    def path(self, folder: Path | str, key: str) -> Path:
        """``folder / <file name of key>``: the one way code spells a file of this stage."""
        return Path(folder) / self[key].name

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.files)

    def declares(self, rel: str) -> File | None:
        return next((f for f in self.files if f.name == rel), None)


_U8, _I64, _F32 = ("uint8",), ("int64",), ("float32",)
_IMAGES = (("n", "h", "w"), ("n", "h", "w", 3))

IMPORT = Folder("import", 1, "your dataset's arrays, checked, as given", (
    File("images.npy", "the images as given (0 = black)", _U8, _IMAGES),
    File("labels.npy", "true class, 0 to C-1", _U8, (("n",),)),
    File("embeddings.npy", "the user's embeddings", _F32, (("n", "d"),), optional=True),
    File("proba.npy", "the user's class probabilities", _F32, (("n", "classes"),), optional=True),
    File("pred.npy", "the user's predictions", _U8, (("n",),), optional=True),
    File("facts.json", "`title`, `class_names`, `image_shape`, `n`, `model_name`, `model_title`"),
))
SAMPLES = Folder("samples", 1, "one sample set of one dataset", (
    File("index.npy", "sample id: 0-9999 = test image, with `sample_set=\"all\"` 0-59999 = training and "
         "60000-69999 = test; for an imported dataset `arange(n)`, the user's order", _I64, (("n",),)),
    File("images.npy", "the images, 0 = black; (n, 28, 28) for the built-in datasets, h and w from 8 to 64 "
         "for an imported one, as its `image_shape` says", _U8, _IMAGES),
    File("labels.npy", f"true class, 0 to C-1 (C = {MIN_CLASSES} to {MAX_CLASSES} classes)", _U8, (("n",),)),
))
MODEL = Folder("model", 2, "one fitted model of one dataset", (
    File("metrics.json", "test accuracy, precision, recall, confusion (rows = true), train seconds; "
         "below"),
    File("model.keras", "the trained network (trained models and a user's `.keras`)", optional=True),
    File("history.json", "Keras history per epoch: `loss`, `accuracy`, `val_loss`, `val_accuracy`, "
         "`seconds`", optional=True),
    File("test-proba.npy", "class probabilities of every test image (`pixels`: the neighbours' vote "
         "shares; `given`: as given or voted)", _F32, (("n_test", "classes"),), optional=True),
    File("dynamics/index.npy", "test ids of the snapshot images", _I64, (("m",),), optional=True),
    File("dynamics/labels.npy", "their true classes", _U8, (("m",),), optional=True),
    File("dynamics/embeddings.npy", "the embedding of the snapshot images at each snapshot", _F32,
         (("frames", "m", "d"),), optional=True),
    File("dynamics/proba.npy", "their softmax at each snapshot", _F32, (("frames", "m", "classes"),),
         optional=True),
    File("dynamics/epochs.npy", "when each snapshot was taken (0 = untrained, then fractions and whole "
         "epochs)", _F32, (("frames",),), optional=True),
    File("dynamics/test_accuracy.npy", "test accuracy at each snapshot: the whole test set's at an epoch's "
         "end, the snapshot images' own before training and inside the first epoch (version 2; version 1 "
         "took the whole test set there too)", _F32, (("frames",),),
         optional=True),
))
EMBED = Folder("embed", 1, "one model's view of one sample set", (
    File("pred.npy", "the model's predicted class", _U8, (("n",),)),
    File("proba.npy", "its class probabilities (softmax; for `pixels` the neighbours' vote shares)", _F32,
         (("n", "classes"),)),
    File("space.npy", "the embedding (absent for `pixels`: `images / 255` of the samples folder)", _F32,
         (("n", "d"),), optional=True),
    File("knn-indices.npy", "k nearest neighbours in the embedding, self excluded, nearest first; rows of "
         "the samples folder", ("int32",), (("n", "k"),)),
    File("knn-distances.npy", "their euclidean distances", _F32, (("n", "k"),)),
))
PROJ = Folder("proj", 1, "one layout of one model's embedding", (
    File("coords.npy", "the layout; row i is row i of the samples folder", _F32, (("n", 2), ("n", 3))),
))
DYNAMICS = Folder("dynamics", 1, "aligned per-epoch frames of a trained model's snapshots", (
    File("frames.npy", "aligned 2-D layout of the snapshot subset at each snapshot", _F32,
         (("frames", "m", 2),)),
    File("epochs.npy", "when each frame was taken: 0 = untrained, 0.05 ... 0.6 = inside the first epoch, "
         "then 1, 2, ... = after each epoch", _F32, (("frames",),)),
    File("index.npy", "test-set ids of the m snapshot images (class-balanced, fixed)", _I64, (("m",),)),
    File("labels.npy", "their true classes", _U8, (("m",),)),
    File("proba.npy", "softmax at each snapshot", _F32, (("frames", "m", "classes"),)),
    File("epochs.json", "per frame: `frame`, `epoch`, `knn_accuracy`, `silhouette`, `snapshot_accuracy`, "
         "`test_accuracy`, `confusion` (on the subset, rows = true)"),
))
LAYERS = Folder("layers", 1, "one network's layers, from the pixels to the logits: aligned frames and "
                "separability by depth", (
    File("rows.npy", "the frames' images: a fixed class-balanced subset, rows of the samples folder", _I64,
         (("m",),)),
    File("anchors.npy", "per layer, each row's 5 nearest framed images there (indices into `rows.npy`, a "
         "framed row's own first): any image is placed on a frame at their mean", ("int32",), (("layers", "n", "k"),)),
    File("pca.npy", "PCA of each layer's rows, each frame rotated onto the one before", _F32,
         (("layers", "m", 2),), optional=True),
    File("umap.npy", "UMAP of each layer (its first 50 principal components), each frame started from and "
         "rotated onto the one before", _F32, (("layers", "m", 2),), optional=True),
    File("tsne.npy", "t-SNE of each layer, each frame started from the one before (on request)", _F32,
         (("layers", "m", 2),), optional=True),
    File("layers.json", "`layers`: per layer (pixels first) `title`, `how` (what its row per image is), `dims`, "
         "`knn_accuracy`, `probe_accuracy`, `silhouette`, `trustworthiness_<method>`, `seconds`; `methods`, `k`, "
         "`extract_seconds`"),
))
ISSUES = Folder("issues", 1, "suspected label errors of one model's view of the samples", (
    File("score.npy", "how likely row i's given label is wrong, in [0, 1] (1 = surely wrong)", _F32, (("n",),)),
    File("suggested.npy", "the label the evidence prefers", _U8, (("n",),)),
    File("suspect.npy", "flagged as a label issue (cleanlab's confident learning on the combined evidence)",
         ("bool",), (("n",),)),
    File("ranked.json", "the suspects, most likely wrong first: `{\"row\", \"id\", \"given\", \"suggested\", "
         "\"score\", \"flagged\"}`"),
))
DUPLICATES = Folder("duplicates", 1, "near-duplicate images of one dataset's samples (and, with the test sample "
                    "set, their nearest training images)", (
    File("group.npy", "row i's near-duplicate group (-1: none); groups with differing labels first, then larger",
         ("int32",), (("n",),)),
    File("nearest.npy", "row i's aligned cosine distance to its nearest candidate (1: none)", _F32, (("n",),)),
    File("images.npy", "every group member's image, in the order of `duplicates.json`'s `image` fields (training "
         "images the sample set lacks included)", _U8, _IMAGES),
    File("duplicates.json", "`threshold`, `calibration` (`rule`, `bound`, quantiles, `planted_found`), `distance`, "
         "`sources`, `counts` (`groups`, `images`, `pairs`, `within_train`, `within_test`, `train_test`, "
         "`mixed_labels`), `groups` (`members`: `id`, `row`, `split`, `label`, `image`), `pairs` (`a`, `b`, "
         "splits, labels, `distance`, `found_by`, `group`)"),
))
FAITH = Folder("faith", 1, "where one layout keeps its model's neighbourhoods", (
    File("faithfulness.npy", "share of row i's k = 10 nearest high-D neighbours that are among its window = 30 "
         "nearest in the layout (1 = the layout keeps them all; folders without `window_used`: among its 10)",
         _F32, (("n",),)),
    File("false_neighbours.npy", "share of its 10 nearest layout neighbours that are not among its 30 "
         "nearest high-D ones", _F32, (("n",),)),
))
REPORT = Folder("report", 1, "one dataset's part of the separability report (and, under `<root>/report/`, "
                "the report of all datasets)", (
    File("report.json", "separability, accuracies, faithfulness and label issues per model; below"),
))

#: Every stage folder, in the order the stages run.
FOLDERS: dict[str, Folder] = {f.stage: f for f in (IMPORT, SAMPLES, MODEL, EMBED, PROJ, DYNAMICS, LAYERS,
                                                   ISSUES, DUPLICATES, FAITH, REPORT)}


def version_of(stage: str) -> int:
    """The version of ``stage`` that enters its folders' keys (1 for a stage no schema declares)."""
    folder = FOLDERS.get(stage)
    return folder.version if folder else 1


def check_array(path: Path, arr: np.ndarray, stage: str | None = None, rel: str | None = None) -> np.ndarray:
    """Raise :class:`CacheError` unless ``arr`` has a dtype and shape its folder's declaration allows.

    ``stage`` and ``rel`` (the file's path inside its folder) default to what ``path`` says:
    ``<root>/<dataset>/<stage>/<key>/<rel>``. Files no stage declares pass unchecked.
    """
    path = Path(path)
    if stage is None:
        stage, rel = _stage_of(path)
    spec = FOLDERS[stage].declares(rel) if stage in FOLDERS and rel else None
    if spec is None or not spec.dtypes:
        return arr
    if arr.dtype.name not in spec.dtypes:
        raise CacheError(f"{path} holds {arr.dtype.name}, not the documented type of a {stage} folder's "
                         f"{spec.name} ({' or '.join(spec.dtypes)}, docs/ARTIFACTS.md); rebuild it with "
                         "`python -m pipeline verify --repair`")
    if not any(len(s) == arr.ndim and all(not isinstance(d, int) or d == n for d, n in zip(s, arr.shape))
               for s in spec.shapes):
        raise CacheError(f"{path} has shape {arr.shape} where a {stage} folder's {spec.name} is "
                         f"{spec.shape_text()} (docs/ARTIFACTS.md); rebuild it with "
                         "`python -m pipeline verify --repair`")
    return arr


def conformance(folder: Path, stage: str, files: list[str]) -> list[str]:
    """What in a published folder of ``stage`` its declaration does not allow, one line each.

    ``files`` are the paths its ``config.json`` recorded. A file no declaration names, a required
    file missing, or an array of another dtype or shape is a problem; ``[]`` for an undeclared stage.
    """
    spec = FOLDERS.get(stage)
    if spec is None:
        return []
    problems = [f"{Path(folder) / rel} is a file a {stage} folder does not declare (core/schema.py)"
                for rel in files if rel != CONFIG_FILE and spec.declares(rel) is None]
    problems += [f"{Path(folder) / f.name} is missing: every {stage} folder holds it (core/schema.py)"
                 for f in spec.files if not f.optional and f.name not in files]
    for rel in files:
        f = spec.declares(rel)
        if f is None or not f.dtypes or not (Path(folder) / rel).is_file():
            continue
        try:
            check_array(Path(folder) / rel, np.load(Path(folder) / rel, mmap_mode="r", allow_pickle=False),
                        stage, rel)
        except (CacheError, ValueError) as e:
            problems.append(str(e))
    return problems


def _stage_of(path: Path) -> tuple[str | None, str | None]:
    """``(stage, file inside the folder)`` of ``.../<stage>/<12-hex key>/<rel>``, else ``(None, None)``."""
    parts = path.parts
    for i in range(len(parts) - 2, 0, -1):
        if re.fullmatch(r"[0-9a-f]{12}", parts[i]):
            return parts[i - 1], "/".join(parts[i + 1:])
    return None, None


# -- docs/ARTIFACTS.md: its tables are generated from the declarations above ---------------------------
DOC = Path(__file__).resolve().parent.parent / "docs" / "ARTIFACTS.md"
_BLOCK = re.compile(r"<!-- schema:(\w+) -->\n.*?<!-- /schema -->", re.S)


def table(folder: Folder) -> str:
    """The markdown table of one folder's files."""
    rows = ["| file | dtype, shape | meaning |", "|---|---|---|"]
    rows += [f"| `{f.name}`{' (optional)' if f.optional else ''} | {f.describe()} | {f.meaning} |"
             for f in folder.files]
    return "\n".join(rows)


def render(text: str) -> str:
    """``text`` with every ``<!-- schema:<stage> -->`` block replaced by that folder's generated table."""
    def block(m: re.Match) -> str:
        stage = m[1]
        if stage not in FOLDERS:
            raise KeyError(f"{DOC}: a schema block names {stage!r}, which no folder declares")
        folder = FOLDERS[stage]
        return (f"<!-- schema:{stage} -->\nversion {folder.version}: {folder.title}\n\n{table(folder)}\n"
                "<!-- /schema -->")

    return _BLOCK.sub(block, text)


if __name__ == "__main__":  # python -m core.schema: regenerate docs/ARTIFACTS.md's tables
    DOC.write_text(render(DOC.read_text()))
    print(f"{DOC}: tables regenerated from core/schema.py")

"""What every stage and view may know about a dataset (:class:`DatasetFacts`), and the one bound on
its number of classes (:data:`MAX_CLASSES`), shared by the import check and the explorer.

The datasets themselves, built in or imported, are the registry of ``training/datasets/``;
``current.json`` carries their facts to the explorer, and nothing downstream compares a
dataset's name to a string.
"""
from __future__ import annotations

import dataclasses

from core.errors import DataError

MIN_CLASSES = 2
#: The most classes a dataset may have: what the explorer can draw. At 100 its generated palette
#: keeps every two classes at least 19 CIELAB units apart and a 100 x 100 confusion matrix is a
#: 0.8 MB figure; tried at 256 (labels are uint8), the nearest colours were 13 apart, under the
#: 15 the explorer promises for "apart at a glance", and the matrix a 5.7 MB figure.
MAX_CLASSES = 100


def check_class_count(count: int, argument: str) -> int:
    """``count`` if a dataset may have that many classes, else a ``DataError`` naming ``argument``."""
    if not MIN_CLASSES <= count <= MAX_CLASSES:
        fix = ("; merge classes or import a subset of them (the explorer draws up to "
               f"{MAX_CLASSES})") if count > MAX_CLASSES else ""
        raise DataError(f"{argument}: expected {MIN_CLASSES} to {MAX_CLASSES} classes; got {count}{fix}")
    return count


@dataclasses.dataclass(frozen=True)
class DatasetFacts:
    """What every stage and view may know about a dataset.

    The declared facts (title, class names, ...) come from a built-in dataset's module or an
    import's ``facts.json``; ``n_train``, ``n_test`` and ``image_shape`` from its arrays
    (:meth:`measured`): a built-in dataset's before it is loaded from the shapes its module pins
    (and verifies), ``None`` until then for a user's.
    """

    name: str
    title: str
    class_names: tuple[str, ...]
    #: a horizontal flip keeps the class (clothes), so augmentation may flip; digits may not
    mirror_symmetric: bool
    #: the class pair it is known to confuse, charted first in the training-dynamics view
    default_pair: tuple[int, int]
    #: its colour where datasets are compared side by side
    colour: str
    #: training images (sample ids below it are training images in ``sample_set="all"``)
    n_train: int | None = None
    n_test: int | None = None
    #: (height, width, channels) of its images: 1 channel grey, 3 RGB
    image_shape: tuple[int, int, int] | None = None
    #: "builtin" (a module of ``training/datasets/``) or "imported" (the user's own)
    source: str = "builtin"
    #: keys of the folders its arrays were read from, which enter its samples' key (an import
    #: folder's); a built-in dataset's arrays are pinned by its name, so it has none
    upstream: tuple[str, ...] = ()

    def measured(self, arrays: dict) -> DatasetFacts:
        """These facts with the ones its arrays show: image shape and the number of images per split."""
        return self.shaped(arrays["x_train"].shape, arrays["x_test"].shape)

    def shaped(self, train: tuple[int, ...], test: tuple[int, ...]) -> DatasetFacts:
        """These facts with the ones the shapes of ``x_train`` and ``x_test``, ``(n, h, w[, 3])``, show."""
        h, w = (int(s) for s in test[1:3])
        return dataclasses.replace(self, image_shape=(h, w, int(test[3]) if len(test) == 4 else 1),
                                   n_train=int(train[0]), n_test=int(test[0]))

    def to_json(self) -> dict:
        """The facts ``current.json`` carries to the explorer."""
        return {"title": self.title, "class_names": list(self.class_names),
                "mirror_symmetric": self.mirror_symmetric, "default_pair": list(self.default_pair),
                "colour": self.colour, "image_shape": list(self.image_shape), "source": self.source,
                **({"n_train": self.n_train} if self.n_train is not None else {})}

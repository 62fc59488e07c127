"""Facts about each dataset, in one registry: title, class names, sizes, and what the views
need to know (mirror symmetry for augmentation, the pair it is known to confuse, its colour).

Downstream code asks the registry (or reads these facts from ``current.json``); nothing
compares a dataset's name to a string.
"""
from __future__ import annotations

import dataclasses

from core.errors import DataError

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DIGIT_CLASSES = tuple(str(i) for i in range(10))


@dataclasses.dataclass(frozen=True)
class DatasetFacts:
    """What every stage and view may know about a dataset without loading it."""

    name: str
    title: str
    class_names: tuple[str, ...]
    #: a horizontal flip keeps the class (clothes), so augmentation may flip; digits may not
    mirror_symmetric: bool
    #: the class pair it is known to confuse, charted first in the training-dynamics view
    default_pair: tuple[int, int]
    #: its colour where datasets are compared side by side
    colour: str
    n_train: int = 60_000
    n_test: int = 10_000
    #: (height, width, channels) of its images: 1 channel grey, 3 RGB
    image_shape: tuple[int, int, int] = (28, 28, 1)
    #: "builtin" (MNIST, Fashion-MNIST) or "imported" (the user's own, ``training/imported.py``)
    source: str = "builtin"

    def to_json(self) -> dict:
        """The facts ``current.json`` carries to the explorer."""
        return {"title": self.title, "class_names": list(self.class_names),
                "mirror_symmetric": self.mirror_symmetric, "default_pair": list(self.default_pair),
                "colour": self.colour, "image_shape": list(self.image_shape), "source": self.source}


DATASETS = {
    "mnist": DatasetFacts("mnist", "MNIST", DIGIT_CLASSES, mirror_symmetric=False,
                          default_pair=(4, 9), colour="#4e79a7"),
    "fashion-mnist": DatasetFacts("fashion-mnist", "Fashion-MNIST", FASHION_CLASSES, mirror_symmetric=True,
                                  default_pair=(0, 6), colour="#f28e2b"),
}
NAMES = tuple(DATASETS)
#: The user's datasets this process has loaded (``training.imported.load``), by name.
_IMPORTED: dict[str, DatasetFacts] = {}


def register(info: DatasetFacts) -> DatasetFacts:
    """Make an imported dataset's facts known to every stage of this process."""
    if info.name in DATASETS:
        raise DataError(f"{info.name!r} is a built-in dataset; give your dataset another name")
    _IMPORTED[info.name] = info
    return info


def get(name: str) -> DatasetFacts:
    """Look a dataset up by name, with the list of valid names in the error."""
    try:
        return DATASETS[name] if name in DATASETS else _IMPORTED[name]
    except (KeyError, TypeError):
        raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)} "
                        "(or import your own: python -m pipeline import NAME --images ...)") from None

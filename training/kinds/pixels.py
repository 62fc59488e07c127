"""The pixel k-NN: each image takes the vote of its nearest training images; its space is the pixels.

Its model folder holds the test images' votes (``training/pixels.py``); embedding a sample set
reuses them for the test rows and votes for training rows without their own vote, so every
prediction is out of sample.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from training.pixels import PixelsConfig

from .registry import Kind, ModelSpec, Rung, SampleSet


def fit(spec: ModelSpec, arrays: dict, store, progress: bool = True, step=None, on_epoch=None) -> Path:
    from training.pixels import fit_pixels

    return fit_pixels(spec.config, arrays, store, progress=step)


def embed(spec: ModelSpec, model_dir: Path, samples: SampleSet, store, progress=None) -> tuple[None, np.ndarray]:
    """(None: the images are its space, vote shares): the test rows' from its model folder, training
    rows left out of their own vote."""
    from training.pixels import flat, training_images, vote

    ids, arrays = samples.ids, samples.arrays
    n_train = len(arrays["x_train"]) if samples.sample_set == "all" else 0
    test_proba = store.load_array(Path(model_dir) / "test-proba.npy")
    proba = np.zeros((len(ids), test_proba.shape[1]), np.float32)
    is_test = ids >= n_train
    proba[is_test] = test_proba[ids[is_test] - n_train]
    train_rows = ids[~is_test]
    if len(train_rows):
        train, labels = training_images(arrays, spec.config)
        own = np.where(train_rows < len(train), train_rows, -1)
        proba[~is_test] = vote(flat(arrays["x_train"][train_rows]), train, labels, proba.shape[1], spec.config,
                               self_rows=own, progress=progress)
    return None, proba


KIND = Kind(
    name="pixels", title="Raw pixels (k-NN)", fit=fit, embed=embed,
    in_sample=False,  # a training image never votes for itself
    words="k-NN vote of the training images", fit_bar="k-NN", pixel_space=True, fit_seconds=20,
    rungs=(Rung("pixels", lambda dataset, train, seed: PixelsConfig(
        dataset=dataset, k=train.pixels_k, weights=train.pixels_weights, train_subset=train.train_subset)),))


def imported_spec(dataset: str, source: str) -> ModelSpec:
    """The pixel k-NN of an imported dataset (``source``: its import folder's key)."""
    return ModelSpec(KIND.name, KIND.name, KIND.title, PixelsConfig(dataset=dataset, source=source))

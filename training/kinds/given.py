"""An imported dataset's own embeddings (``python -m pipeline import ... --embeddings``).

Its model folder holds the given probabilities, the given predictions or the leave-one-out k-NN
vote in the embedding (``training/imported.py``); embedding a sample set reads the given rows.
An imported dataset without embeddings is seen through the pixel k-NN instead.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .pixels import imported_spec
from .registry import Kind, ModelSpec, SampleSet


def _import_dir(spec: ModelSpec, store) -> Path:
    from training.imported import STAGE

    return store.path(spec.config.dataset, STAGE, spec.config.source)


def fit(spec: ModelSpec, arrays: dict, store, progress: bool = True, step=None, on_epoch=None) -> Path:
    from training.imported import fit_given

    return fit_given(spec.config, _import_dir(spec, store), store, progress=step)


def embed(spec: ModelSpec, model_dir: Path, samples: SampleSet, store, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Every row of an imported dataset is a sample: its given embedding and its model folder's probabilities."""
    ids = samples.ids
    return (store.load_array(_import_dir(spec, store) / "embeddings.npy")[ids],
            store.load_array(Path(model_dir) / "test-proba.npy")[ids])


KIND = Kind(name="given", title="Your embeddings", fit=fit, embed=embed,
            in_sample=False,  # an imported dataset has no training images
            words="predictions of your embeddings", fit_bar="k-NN", fit_seconds=5)


def imported_specs(dataset: str, import_dir: Path, store) -> list[ModelSpec]:
    """The one model of an imported dataset: its given embeddings, else the raw pixels."""
    from training.imported import GivenConfig

    import_dir = Path(import_dir)
    record = store.read_json(import_dir / "facts.json")
    if (import_dir / "embeddings.npy").exists():
        name = record.get("model_name") or "embeddings"
        return [ModelSpec(name, KIND.name, record.get("model_title") or name,
                          GivenConfig(dataset=dataset, name=name, source=import_dir.name))]
    return [imported_spec(dataset, import_dir.name)]

"""Your own dataset through the stages: checked, imported, then the k-NN graph, layouts, label
issues, faithfulness and report, and published beside what the explorer already shows.

Both ways in use it: ``python -m pipeline import`` (files, ``training/import_files.py``) and
``explorer.from_arrays`` / ``from_model`` in a notebook (arrays, ``pipeline/notebook.py``).
"""
from __future__ import annotations

import logging

from core.store import ArtifactStore
from pipeline.config import RunConfig
from pipeline.run import Pipeline

log = logging.getLogger(__name__)


def min_samples(config: RunConfig) -> int:
    """The fewest samples the layouts accept: t-SNE's 3 x perplexity neighbours (UMAP's n_neighbors) + 1."""
    return config.project.neighbours_needed() + 1


def add(arrays: dict, config: RunConfig, name: str, title: str | None = None, model_name: str = "embeddings",
        model_title: str | None = None) -> Pipeline:
    """Check ``arrays`` (images, labels[, embeddings, proba, pred, class_names]), import them and
    run every stage on them, publishing each view as it lands; returns the finished run
    (``pipe.results[name]``, ``pipe.report_path``)."""
    pipe = prepare(arrays, config, name, title, model_name, model_title)
    pipe.run_all()
    return pipe


def prepare(arrays: dict, config: RunConfig, name: str, title: str | None = None, model_name: str = "embeddings",
            model_title: str | None = None) -> Pipeline:
    """Check and import ``arrays`` (nothing is written before the checks pass); the run that makes
    the rest (``.run_all()``), not started."""
    from training.imported import check, import_arrays

    given = check(**arrays, name=name, title=title, min_samples=min_samples(config), model_name=model_name,
                  model_title=model_title)
    store = ArtifactStore(config.where.cache_dir)
    folder = import_arrays(given, store)
    h, w, c = given.image_shape
    log.info("%s: %d images %dx%d %s, %d classes, in %s", name, len(given.labels), h, w,
             "RGB" if c == 3 else "grey", len(given.class_names), folder)
    return Pipeline(config, imported={name: folder})

"""The notebook's way in: ``explorer.from_arrays(...)`` and ``explorer.from_model(...)``.

Both check what they are given (each refusal names the argument, what was expected and
what was found), import it into the cache keyed by its content, run the same cached stages
as ``./run.sh`` (k-NN graph, PCA/t-SNE/UMAP, faithfulness, label issues, report), show
progress, and return a :class:`Dataset` whose ``show()`` opens the explorer on it. A second
call with the same arrays reuses every stage. With ``wait=False`` they return as soon as the
arrays are checked and imported: the stages run on in a background thread, publishing each
view as it lands, so ``show()`` draws the first layout within seconds and fills in the rest;
``ds.wait()`` (or reading ``ds.report``) waits for the end.
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import sys
import threading
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from core.errors import DataError

log = logging.getLogger(__name__)
_CHATTY = ("pipeline", "training", "embeddings")


class Dataset:
    """A dataset in the cache: its ``name``, where it lives and (once its stages are done) its report entry."""

    def __init__(self, name: str, cache_dir: Path, report: dict | None = None, pipe=None):
        self.name, self.cache_dir = name, Path(cache_dir)
        self._report, self._pipe = report, pipe
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _start(self, progress: bool) -> "Dataset":
        """Run the stages in a background thread (``from_arrays(..., wait=False)``)."""
        def work() -> None:
            try:
                with _talk(progress):
                    self._pipe.run_all()
                self._report = self._pipe.results[self.name].report
                if progress:
                    print(self.summary(), flush=True)
            except BaseException as e:  # noqa: BLE001 - kept for wait(), which raises it
                self._error = e
                log.error("%s: the stages stopped: %s", self.name, e)

        self._thread = threading.Thread(target=work, name=f"explorer-{self.name}", daemon=True)
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        """Whether every stage has finished (or failed: :meth:`wait` raises why)."""
        return self._thread is None or not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> "Dataset":
        """Wait until every stage is done; raises what stopped them, ``TimeoutError`` after ``timeout`` s."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"{self.name}: still computing after {timeout} s; the explorer shows what is ready")
        if self._error is not None:
            raise self._error
        return self

    @property
    def report(self) -> dict:
        """Its entry of the separability report (waits for the stages)."""
        self.wait()
        return self._report or {}

    def show(self, **kwargs):
        """The explorer opened on this dataset (``explorer.show``'s options: mode, port, height)."""
        from explorer.notebook import show

        return show(self.name, cache_dir=self.cache_dir, **kwargs)

    @property
    def models(self) -> dict:
        return self.report.get("models", {})

    def summary(self) -> str:
        lines = [f"{self.report.get('title', self.name)}: {self.report.get('n')} samples, "
                 f"{len(self.report.get('class_names', []))} classes (cache {self.cache_dir})"]
        for name, m in self.models.items():
            proj = ", ".join(f"{p} 2-D k-NN {v['knn_accuracy']:.3f}" for p, v in m.get("projections", {}).items())
            lines.append(f"  {m['title']}: accuracy {m['test_accuracy']:.4f}, 10-NN high-D "
                         f"{m['knn_accuracy']:.4f}; {proj}")
            pairs = m.get("pairs") or []
            if pairs:
                p = pairs[0]
                lines.append(f"  most confused: {' / '.join(p['names'])} ({p['confusions']} confusions)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        if not self.done:
            return f"{self.name}: computing in the background (cache {self.cache_dir}); .show() draws what is ready"
        return self.summary()


@contextlib.contextmanager
def _talk(progress: bool) -> Iterator[None]:
    """The stages' log lines in the notebook's output (stdout), for the length of a call."""
    if not progress:
        yield
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    loggers = [logging.getLogger(n) for n in _CHATTY]
    added = [lg for lg in loggers if not lg.handlers and not logging.getLogger().handlers]
    levels = {lg: lg.level for lg in added}
    for lg in added:
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    try:
        yield
    finally:
        for lg in added:
            lg.removeHandler(handler)
            lg.setLevel(levels[lg])


def _config(cache_dir, progress: bool, seed: int, perplexity: float, methods: Sequence[str] | None):
    from pipeline.config import RunConfig

    project = {"perplexity": float(perplexity)}
    if methods is not None:  # else the command line's default --methods
        project["methods"] = tuple(methods)
    return RunConfig.from_sections({"where": {"cache_dir": Path(cache_dir) if cache_dir else None},
                                    "data": {"quiet": not progress}, "seed": {"seed": seed}, "project": project})


def from_arrays(images, labels, embeddings=None, proba=None, pred=None, class_names: Sequence[str] | None = None,
                *, name: str, title: str | None = None, model_name: str = "embeddings",
                model_title: str | None = None, cache_dir: Path | str | None = None, perplexity: float = 30.0,
                methods: Sequence[str] | None = None, seed: int = 0, progress: bool = True,
                wait: bool = True) -> Dataset:
    """Your dataset in the explorer: images, labels, and optionally embeddings with probabilities or predictions.

    Parameters
    ----------
    images : uint8 array (n, h, w) or (n, h, w, 3)
        Grey or RGB images, h and w from 8 to 64 pixels, values 0-255.
    labels : array (n,)
        Class numbers 0..C-1 (or class names, sorted into numbers), C from 2 to 100.
    embeddings : array (n, d), optional
        One vector per image (a model's last hidden layer, say). Without it the raw pixels
        are the space (and their leave-one-out 5-NN vote the predictions).
    proba : array (n, C), optional
        Class probabilities that go with ``embeddings``; or ``pred`` (n,), predicted classes.
        Without either, the predictions are the leave-one-out 5-NN vote in the embedding.
    class_names : list of C str, optional
        Default "0".."C-1".
    name : str
        The dataset's name in the cache, URLs and the page (lowercase letters, digits, ``. _ -``).
    title, model_name, model_title : str, optional
        How the page and tables call the dataset and its model.
    cache_dir : path, optional
        Default ``$MNIST_EXPLORER_CACHE`` or the project's ``cache/``: the explorer
        ``./run.sh`` serves shows it too.
    perplexity, methods, seed :
        As ``python -m pipeline all --perplexity --methods --seed``; ``methods`` None: the default
        ``--methods`` (PCA, t-SNE and UMAP; add ``"densmap"`` for densMAP).
    progress : bool
        Progress bars and a line per stage in the output.
    wait : bool
        ``False``: return once the arrays are checked and imported, the stages running on in the
        background (``.show()`` fills in as each layout lands; ``.wait()`` waits for the end).
    """
    from core.store import ArtifactStore
    from pipeline.own_data import prepare

    config = _config(cache_dir, progress, seed, perplexity, methods)
    arrays = dict(images=images, labels=labels, embeddings=embeddings, proba=proba, pred=pred,
                  class_names=class_names)
    with _talk(progress):
        pipe = prepare(arrays, config, name=name, title=title, model_name=model_name, model_title=model_title)
    store = ArtifactStore(config.where.cache_dir)
    dataset = Dataset(name, store.root, pipe=pipe)
    if not wait:
        if progress:
            print(f"{name}: computing in the background; .show() draws each layout as it lands "
                  f"(explorer data: {store.root / 'current.json'})", flush=True)
        return dataset._start(progress)
    with _talk(progress):
        pipe.run_all()
    dataset._report = pipe.results[name].report
    if progress:
        print(dataset.summary(), f"\nexplorer data: {store.root / 'current.json'}; .show() opens it", flush=True)
    return dataset


def _model_name(model) -> str:
    text = re.sub(r"[^a-z0-9_.-]+", "-", str(getattr(model, "name", "model")).lower()).strip("-._")[:40]
    from training.kinds import rung_names

    return text if text and text not in rung_names() else "model"


def from_model(model, images, labels, class_names: Sequence[str] | None = None, *, name: str,
               embedding_layer: str | None = None, input_scale: str = "auto", batch_size: int = 256,
               **options) -> Dataset:
    """A Keras model in memory seen on ``images``: its embedding and probabilities, then :func:`from_arrays`.

    The embedding is ``embedding_layer``'s output, else the input of the model's final Dense
    layer (the command line's ``--embedding-layer`` rule); ``input_scale`` is ``"auto"``
    (raw 0-255 pixels if the model has a Rescaling/Normalization layer, else x / 255),
    ``"1/255"`` or ``"1"``; outputs that are not probabilities get a softmax.
    ``options`` are :func:`from_arrays`'s (title, cache_dir, perplexity, methods, seed, progress, wait).
    """
    from training.imported import check_images, check_labels
    from training.user_model import SCALES, inspect_model, run

    if not hasattr(model, "inputs") or not hasattr(model, "layers"):
        raise DataError(f"model: expected a Keras model (keras.Model); got {type(model).__name__}")
    if input_scale not in ("auto", *SCALES):
        raise DataError(f"input_scale: expected 'auto', '1/255' or '1'; got {input_scale!r}")
    imgs = check_images(images)
    y, names = check_labels(labels, len(imgs), class_names)
    h, w = imgs.shape[1:3]
    shape = (h, w, 3 if imgs.ndim == 4 else 1)
    checked = inspect_model(model, len(names), options.get("title") or name, embedding_layer, input_scale,
                            lambda what: DataError(f"model {getattr(model, 'name', '')!r}: {what}"),
                            image_shape=shape, layer_flag="embedding_layer=", scale_flag="input_scale=")
    emb, proba, logits = run(checked, imgs, batch_size=batch_size)
    if options.get("progress", True):
        notes = checked.notes + (["outputs are not probabilities: taken for logits, softmax applied"]
                                 if logits else [])
        print(f"{getattr(model, 'name', 'model')}: " + "; ".join(notes), flush=True)
    mname = _model_name(model)
    return from_arrays(imgs, y, embeddings=emb, proba=np.asarray(proba, np.float32), class_names=names, name=name,
                       model_name=mname, model_title=str(getattr(model, "name", mname)), **options)

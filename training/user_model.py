"""The user's own ``.keras`` model: checked before any work, evaluated, and seen like ours.

A model is loaded with Keras safe mode (no deserialised code) and must take the dataset's
images (its facts' ``image_shape``: for 28x28 grey ``(28, 28)``, ``(28, 28, 1)`` or ``(784,)``)
and give one score per class. Its embedding is the layer named by ``--embedding-layer``, else
the input of its final classification (Dense) layer. Outputs that are not probabilities are taken for
logits and softmax is applied; the input scaling is found out (a model with its own
``Rescaling``/``Normalization`` layer gets raw 0-255 pixels) or given.
Everything is keyed by the file's sha256, so a changed file is recomputed.
"""
from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import ConfigError
from core.files import file_digest
from core.store import ArtifactStore, write_json_atomic
from training import datasets as facts
from training.datasets import Arrays

log = logging.getLogger(__name__)

STAGE = "model"
SCALES = {"1/255": 1 / 255.0, "1": 1.0}
#: Layers that pass the class scores through unchanged in shape, after the classification layer.
_PASS_THROUGH = ("Activation", "Softmax", "Dropout", "ActivityRegularization")
_SELF_SCALING = ("Rescaling", "Normalization")


@dataclasses.dataclass(frozen=True)
class UserModelConfig:
    """One user model on one dataset; ``sha256`` (the file's content) keys it, not its path."""

    dataset: str
    name: str
    path: str
    sha256: str
    embedding_layer: str | None = None
    input_scale: str = "auto"

    def record(self) -> dict:
        return {"kind": "keras", **{k: v for k, v in dataclasses.asdict(self).items() if k != "path"}}


@dataclasses.dataclass
class Checked:
    """A loaded model that passed the checks, and what was found out about it."""

    model: object
    embed: object            # keras.Model: images -> (embedding, outputs)
    layer: str               # the embedding layer's name
    scale: float
    flat_input: bool
    notes: list[str]


def configure(dataset: str, name: str, path: Path, embedding_layer: str | None, input_scale: str) -> UserModelConfig:
    """The config of a user model file, after the checks that need no TensorFlow."""
    path = Path(path).expanduser()
    fix = "save it with model.save('my_model.keras') (Keras 3)"
    if not path.is_file():
        raise ConfigError(f"--model {path}: no such file; expected a .keras model file ({fix})")
    if path.suffix != ".keras":
        raise ConfigError(f"--model {path}: expected a .keras file, found {path.suffix or 'no suffix'}; "
                          f"load it in Keras and {fix}")
    if input_scale not in ("auto", *SCALES):
        raise ConfigError(f"--input-scale must be auto, 1/255 or 1 (got {input_scale!r})")
    return UserModelConfig(dataset, name, str(path.resolve()), file_digest(path), embedding_layer, input_scale)


def _fail(config: UserModelConfig, what: str) -> ConfigError:
    return ConfigError(f"--model {config.path}: {what}")


def load_checked(path: Path, config: UserModelConfig) -> Checked:
    """Load ``path`` safely and check it can be seen on ``config.dataset``; every failure is one line."""
    import keras

    import zipfile

    n_classes = len(facts.get(config.dataset).class_names)
    if not zipfile.is_zipfile(path):
        raise _fail(config, "is not a .keras archive (a .keras file is a zip; this one is damaged or is "
                            "another format); save the model again with model.save('my_model.keras')")
    try:
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as e:  # noqa: BLE001 - any reason a file is not a loadable model
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise _fail(config, f"could not be loaded as a Keras model ({first}); expected a file written by "
                            "model.save('my_model.keras'), without custom or lambda layers") from None
    info = facts.get(config.dataset)
    return inspect_model(model, n_classes, info.title, config.embedding_layer, config.input_scale,
                         lambda what: _fail(config, what), image_shape=info.image_shape)


def inspect_model(model, n_classes: int, title: str, embedding_layer: str | None, input_scale: str,
                  fail: Callable[[str], Exception], image_shape: tuple[int, int, int] = (28, 28, 1),
                  layer_flag: str = "--embedding-layer", scale_flag: str = "--input-scale") -> Checked:
    """Check a loaded Keras model can be seen on images of ``image_shape`` with ``n_classes``
    classes (file or in memory: ``fail(what)`` makes the error); find its embedding and scaling."""
    import keras

    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise fail(f"has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
                            "expected one image input and one class-score output")
    shape = tuple(model.inputs[0].shape[1:])
    h, w, c = image_shape
    accepted = (((h, w),) if c == 1 else ()) + ((h, w, c), (h * w * c,))
    if shape not in accepted:
        kind = "grayscale" if c == 1 else "RGB"
        names = [str(a) for a in accepted]
        raise fail(f"takes inputs of shape {shape}; expected {h}x{w} {kind} images: "
                   f"{', '.join(names[:-1])} or {names[-1]}; retrain or wrap it with a Reshape input")
    out = tuple(model.outputs[0].shape[1:])
    if out != (n_classes,):
        raise fail(f"gives outputs of shape {out}; expected {n_classes} class scores (one per {title} class)")
    notes: list[str] = []
    if embedding_layer:
        names = [layer.name for layer in model.layers]
        if embedding_layer not in names:
            raise fail(f"has no layer named {embedding_layer!r} ({layer_flag}); its layers are {', '.join(names)}")
        layer = model.get_layer(embedding_layer)
        tensor, name = layer.output, layer.name
    else:
        head = _classification_layer(model)
        if not isinstance(head, tuple):
            raise fail(f"gets its class scores from a {type(head).__name__} layer {head.name!r}, not from "
                       "a Dense classification layer whose input would be the embedding; name the "
                       f"embedding layer with {layer_flag}")
        head = head[0]
        tensor, name = head.input, f"input of {head.name}"
        notes.append(f"embedding: the input of the final Dense layer {head.name!r}")
    embed = keras.Model(model.inputs, [tensor, model.outputs[0]])
    if input_scale == "auto":
        own = [layer.name for layer in model.layers if type(layer).__name__ in _SELF_SCALING]
        scale = 1.0 if own else SCALES["1/255"]
        notes.append(f"input: raw 0-255 pixels (the model rescales itself in {own[0]!r})" if own
                     else f"input: pixels scaled to [0, 1] (x / 255; {scale_flag} 1 for 0-255)")
    else:
        scale = SCALES[input_scale]
        notes.append(f"input: pixels x {input_scale} (given)")
    return Checked(model, embed, name, scale, len(shape) == 1, notes)


def _classification_layer(model):
    """``(dense,)``: the Dense layer the outputs come from, through trailing activations;
    else the layer that makes the scores instead."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    for layer in reversed(layers):
        kind = type(layer).__name__
        if kind == "Dense":
            return (layer,)
        if kind not in _PASS_THROUGH:
            return layer
    return layers[-1]


def to_probabilities(outputs: np.ndarray) -> tuple[np.ndarray, bool]:
    """(probabilities, were_logits): rows that are not distributions get a softmax."""
    outputs = np.asarray(outputs, np.float64)
    is_dist = outputs.min() >= -1e-6 and outputs.max() <= 1 + 1e-6 and np.allclose(outputs.sum(1), 1, atol=1e-3)
    if is_dist:
        return np.clip(outputs, 0, 1).astype(np.float32), False
    z = outputs - outputs.max(1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(1, keepdims=True)).astype(np.float32), True


def run(checked: Checked, images: np.ndarray, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray, bool]:
    """(embeddings (n, d), probabilities (n, classes), were_logits) of uint8 images (n, 28, 28)."""
    x = images.astype(np.float32) * checked.scale
    shape = tuple(checked.model.inputs[0].shape[1:])
    x = x.reshape((len(x), *shape))
    emb, out = checked.embed.predict(x, batch_size=batch_size, verbose=0)
    emb = np.asarray(emb, np.float32).reshape(len(x), -1)
    proba, logits = to_probabilities(out)
    return emb, proba, logits


def import_model(config: UserModelConfig, arrays: Arrays, store: ArtifactStore) -> Path:
    """Check, copy and evaluate (or reuse) a user model; returns its model folder."""
    from training.train import classification_metrics

    def make(out: Path) -> None:
        target = out / "model.keras"
        shutil.copyfile(config.path, target)
        if file_digest(target) != config.sha256:
            raise _fail(config, "changed while it was being read; save it again and rerun")
        checked = load_checked(target, config)
        t0 = time.perf_counter()
        _, proba, logits = run(checked, arrays["x_test"])
        seconds = time.perf_counter() - t0
        n_classes = proba.shape[1]
        metrics = classification_metrics(arrays["y_test"], proba.argmax(1), n_classes)
        notes = list(checked.notes)
        if logits:
            notes.append("outputs are not probabilities: taken for logits, softmax applied")
        acc = metrics["test_accuracy"]
        if acc < 1.5 / n_classes:
            warning = (f"test accuracy {acc:.3f} is near chance ({1 / n_classes:.2f}): is the input scaling right? "
                       f"This run fed pixels x {'1/255' if checked.scale < 1 else '1'}; try --input-scale "
                       f"{'1' if checked.scale < 1 else '1/255'}")
            log.warning("%s (%s): %s", config.name, config.path, warning)
            notes.append(warning)
        metrics.update(kind="keras", title=config.name, class_names=list(facts.get(config.dataset).class_names),
                       train_seconds=None, eval_seconds=seconds, source=config.path, sha256=config.sha256,
                       embedding_layer=checked.layer, input_scale=checked.scale, logits=logits, notes=notes)
        write_json_atomic(out / "metrics.json", metrics)
        log.info("%s: your model %r: test accuracy %.4f (%s)", config.dataset, config.name, acc, "; ".join(notes))

    return store.build(config.dataset, STAGE, config.record(), make)

"""The trained networks: a CNN and a dense network, each with a named ``embedding`` layer and a softmax head."""
from __future__ import annotations

from training import datasets as facts
from training.config import CLASSES_LAYER, EMBEDDING_LAYER, TrainConfig


def build_cnn(config: TrainConfig, n_classes: int = 10, *, input_shape: tuple[int, int, int]):
    """Build (not compile) the Keras model described by ``config`` for images of ``input_shape``
    (height, width, channels: the data's, ``training/train.py``).

    Each stage is ``convs_per_stage`` 3x3 convolutions (batch-normed if asked) and a
    2x2 max-pool (with ``pool_first`` right after the stage's last convolution, before its batch
    norm and ReLU, which then run on a quarter of the pixels); then dropout, the ``embedding``
    dense layer whose activations the explorer projects, dropout again, and the classifier.
    """
    import keras
    from keras import layers

    inputs = keras.Input(tuple(input_shape), name="image")
    x = inputs
    if config.augment:  # shifts of up to 2 pixels
        h, w = input_shape[:2]
        x = layers.RandomTranslation(2 / h, 2 / w, fill_mode="constant", seed=config.seed)(x)
        if facts.get(config.dataset).mirror_symmetric:  # clothes are, digits are not
            x = layers.RandomFlip("horizontal", seed=config.seed)(x)
    for stage, width in enumerate(config.widths):
        for i in range(config.convs_per_stage):
            x = layers.Conv2D(width, 3, padding="same", use_bias=not config.batch_norm,
                              name=f"conv{stage + 1}_{i + 1}")(x)
            last = i == config.convs_per_stage - 1
            if last and config.pool_first:  # batch norm and ReLU on a quarter of the pixels
                x = layers.MaxPooling2D(name=f"pool{stage + 1}")(x)
            if config.batch_norm:
                x = layers.BatchNormalization(name=f"bn{stage + 1}_{i + 1}")(x)
            x = layers.ReLU()(x)
        if not config.pool_first:
            x = layers.MaxPooling2D(name=f"pool{stage + 1}")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(config.dropout)(x)
    x = layers.Dense(config.embedding_dim, activation="relu", name=EMBEDDING_LAYER)(x)
    x = layers.Dropout(config.head_dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name=CLASSES_LAYER)(x)
    return keras.Model(inputs, outputs, name=f"cnn_{config.dataset.replace('-', '_')}")


def build_network(config: TrainConfig, n_classes: int = 10, *, input_shape: tuple[int, int, int]):
    """The network ``config.architecture`` names for images of ``input_shape``, built (not compiled)."""
    build = build_mlp if config.architecture == "mlp" else build_cnn
    return build(config, n_classes, input_shape=input_shape)


def build_mlp(config: TrainConfig, n_classes: int = 10, *, input_shape: tuple[int, int, int]):
    """The flattened pixels (784 for 28x28 grey) -> ``hidden`` dense ReLU layers (dropout after
    each) -> softmax; the last hidden layer is named ``embedding``."""
    import keras
    from keras import layers

    inputs = keras.Input(tuple(input_shape), name="image")
    x = layers.Flatten()(inputs)
    for i, width in enumerate(config.hidden):
        last = i == len(config.hidden) - 1
        x = layers.Dense(width, activation="relu", name=EMBEDDING_LAYER if last else f"dense{i + 1}")(x)
        x = layers.Dropout(config.head_dropout if last else config.dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", name=CLASSES_LAYER)(x)
    return keras.Model(inputs, outputs, name=f"mlp_{config.dataset.replace('-', '_')}")


def embedding_model(model, layer: str = EMBEDDING_LAYER):
    """A model mapping images to the activations of ``layer`` and the model's output."""
    import keras

    return keras.Model(model.inputs, [model.get_layer(layer).output, model.output])

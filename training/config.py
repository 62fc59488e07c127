"""Training configuration: one dataclass, two named profiles, saved with every model."""
from __future__ import annotations

import dataclasses

from core.errors import ConfigError
from core.options import option, validate

#: Name of the penultimate layer; extraction looks it up by this name, never by position.
EMBEDDING_LAYER = "embedding"
#: Name of the softmax layer that gives the class scores.
CLASSES_LAYER = "classes"


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that changes a trained model (and so its cache key); one per dataset."""

    dataset: str = "mnist"
    profile: str = "default"
    # "cnn": convolution stages (widths, convs_per_stage, batch_norm, augment);
    # "mlp": dense layers of ``hidden`` units, the last of them the embedding.
    architecture: str = option("cnn", "network kind", choices=("cnn", "mlp"))
    hidden: tuple[int, ...] = (256, 128)
    epochs: int = option(6, "epochs", lo=1)   # default profile: about 65-80 s per dataset on 2 CPU cores
    batch_size: int = option(128, "batch size", lo=1)
    # peak of a warm-up + cosine schedule (Loshchilov & Hutter 2017)
    learning_rate: float = option(4e-3, "peak learning rate", lo=0, lo_open=True)
    warmup_fraction: float = option(0.1, "share of the steps spent warming up", lo=0, hi=0.999)
    widths: tuple[int, ...] = (16, 48)   # conv filters per stage; each stage ends in 2x2 max-pooling
    convs_per_stage: int = option(1, "convolutions per stage", lo=1)
    embedding_dim: int = option(128, "width of the embedding layer", lo=2)
    dropout: float = option(0.1, "dropout before the embedding layer", lo=0, hi=0.999)
    head_dropout: float = option(0.2, "dropout on the embedding, before the classifier", lo=0, hi=0.999)
    batch_norm: bool = True
    # max-pool right after a stage's last conv, then batch norm and ReLU on 1/4 of the pixels: on 2 CPU
    # cores those memory-bound ops at 28x28 cost more than the convolutions (issue 23)
    pool_first: bool = True
    augment: bool = False           # random shifts of up to 2 px (and flips for mirror-symmetric classes)
    label_smoothing: float = option(0.0, "label smoothing", lo=0, hi=0.999)
    seed: int = 0
    # first N training images (smoke tests); None = all 60,000
    train_subset: int | None = option(None, "first N training images", lo=10, hi=60000)
    # class-balanced test images embedded at every snapshot (0 = off)
    snapshot_samples: int = option(2000, "snapshot images", lo=0, hi=10000)
    # Extra snapshots inside the first epoch, where most of the separation happens (0.0 = untrained).
    snapshot_fractions: tuple[float, ...] = (0.0, 0.05, 0.15, 0.35, 0.6)
    # key of the corrected training labels it learns from (core.corrections.fixes_digest; "" for none)
    label_fixes: str = ""

    def __post_init__(self) -> None:
        validate(self, "training")
        if any(not 0 <= f < 1 for f in self.snapshot_fractions):
            raise ConfigError(f"training snapshot_fractions must be in [0, 1) (got {self.snapshot_fractions!r})")
        if not self.widths or any(w < 1 for w in self.widths):
            raise ConfigError(f"training widths must be positive integers (got {self.widths!r})")
        if not self.hidden or any(w < 2 for w in self.hidden):
            raise ConfigError(f"training hidden must be layer widths >= 2 (got {self.hidden!r})")

    def record(self) -> dict:
        """The fields that shape this network, as its cache key sees them.

        A CNN's record is the same as before dense networks existed (its key, and so every
        trained CNN in a cache, stays valid); a dense network leaves out the CNN's fields.
        """
        values = dataclasses.asdict(self)
        cnn_only = ("widths", "convs_per_stage", "embedding_dim", "batch_norm", "augment")
        for name in (("architecture", "hidden") if self.architecture == "cnn" else cnn_only + ("pool_first",)):
            values.pop(name)
        if not self.pool_first:  # added later: networks without it keep the key they had
            values.pop("pool_first", None)
        if not self.label_fixes:  # the dataset's own labels: the key it had before corrections existed
            values.pop("label_fixes")
        return values


@dataclasses.dataclass(frozen=True)
class TrainOptions:
    """What the command line sets about training; :func:`make_config` turns it into a
    :class:`TrainConfig` per dataset (a profile's values, then these overrides)."""

    profile: str = option("default", "default: ~70 s per dataset on 2 cores; "
                          "strong: augmented, deeper, longer", choices=("default", "strong"))
    epochs: int | None = option(None, "override the profile's epochs")
    train_subset: int | None = option(None, "train on the first N images only")
    snapshot_samples: int | None = option(
        None, "test images embedded at every snapshot for the training-dynamics view (0 = off)")
    #: the raw-pixel k-NN rung (training/pixels.py PixelsConfig; its key holds them)
    pixels_k: int = option(5, "training images that vote in the raw-pixel k-NN", lo=1)
    pixels_weights: str = option("distance", "the raw-pixel k-NN's vote weights", choices=("distance", "uniform"))

    def config(self, dataset: str, seed: int, profile: str | None = None) -> "TrainConfig":
        """The training config of ``profile`` (default: ``--profile``) on ``dataset``, with these overrides.

        Each trained rung of the ladder names its profile (``training/kinds/``): ``cnn`` takes
        ``--profile``, as it did before the ladder; ``cnn-strong`` the strong profile, ``mlp`` the dense one.
        """
        return make_config(dataset, profile or self.profile, epochs=self.epochs, seed=seed,
                           train_subset=self.train_subset, snapshot_samples=self.snapshot_samples)


PROFILES = {
    # Small CNN (16, 48 filters, pooled before batch norm), 6 epochs, Adam with warm-up + cosine decay to
    # a peak of 4e-3, oneDNN kernels (core/__init__.py): 63 / 81 s per dataset on 2 cores (Fashion-MNIST /
    # MNIST, 0.9235 / 0.9934; issue 23, benchmarks/cnn_speed.py).
    "default": {},
    # Deeper, batch-normed, augmented and longer: for users with time or a GPU.
    "strong": dict(epochs=30, widths=(32, 64, 128), convs_per_stage=2, embedding_dim=128,
                   augment=True, dropout=0.3, head_dropout=0.3, label_smoothing=0.1, pool_first=False),
    # 784 -> 256 -> 128 -> classes with dropout: the seeds' dense baseline, seconds per epoch.
    "mlp": dict(architecture="mlp", epochs=12, hidden=(256, 128), learning_rate=1e-3, dropout=0.2,
                head_dropout=0.2, batch_size=128),
}


def make_config(dataset: str, profile: str = "default", **overrides) -> TrainConfig:
    """Build a :class:`TrainConfig` from a named profile plus explicit overrides."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown training profile {profile!r}; choose one of {', '.join(PROFILES)}")
    values = {**PROFILES[profile], **{k: v for k, v in overrides.items() if v is not None}}
    return TrainConfig(dataset=dataset, profile=profile, **values)

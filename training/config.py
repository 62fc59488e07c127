"""Training configuration: one dataclass, two named profiles, saved with every model."""
from __future__ import annotations

import dataclasses

from pipeline.errors import ConfigError

#: Name of the penultimate layer; extraction looks it up by this name, never by position.
EMBEDDING_LAYER = "embedding"


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that changes a trained model (and so its cache key)."""

    dataset: str = "mnist"
    profile: str = "default"
    epochs: int = 8                 # default profile: fits ~3 min per dataset on 2 CPU cores
    batch_size: int = 128
    learning_rate: float = 3e-3     # peak of a warm-up + cosine schedule (Loshchilov & Hutter 2017)
    warmup_fraction: float = 0.1
    widths: tuple[int, ...] = (32, 64)   # conv filters per stage; each stage ends in 2x2 max-pooling
    convs_per_stage: int = 1
    embedding_dim: int = 128
    dropout: float = 0.1            # on the flattened features, before the embedding layer
    head_dropout: float = 0.2       # on the embedding, before the classifier
    batch_norm: bool = True
    augment: bool = False           # random shifts of up to 2 px (and flips for clothes)
    label_smoothing: float = 0.0
    seed: int = 0
    train_subset: int | None = None  # first N training images (smoke tests); None = all 60,000
    snapshot_samples: int = 2000     # class-balanced test images embedded after every epoch (0 = off)
    # Extra snapshots inside the first epoch, where most of the separation happens (0.0 = untrained).
    snapshot_fractions: tuple[float, ...] = (0.0, 0.05, 0.15, 0.35, 0.6)

    def __post_init__(self) -> None:
        checks = [
            ("epochs", self.epochs >= 1, ">= 1"),
            ("batch_size", self.batch_size >= 1, ">= 1"),
            ("learning_rate", self.learning_rate > 0, "> 0"),
            ("warmup_fraction", 0 <= self.warmup_fraction < 1, "in [0, 1)"),
            ("embedding_dim", self.embedding_dim >= 2, ">= 2"),
            ("dropout", 0 <= self.dropout < 1, "in [0, 1)"),
            ("head_dropout", 0 <= self.head_dropout < 1, "in [0, 1)"),
            ("label_smoothing", 0 <= self.label_smoothing < 1, "in [0, 1)"),
            ("train_subset", self.train_subset is None or 10 <= self.train_subset <= 60000, "in [10, 60000]"),
            ("snapshot_samples", 0 <= self.snapshot_samples <= 10000, "in [0, 10000]"),
            ("convs_per_stage", self.convs_per_stage >= 1, ">= 1"),
        ]
        for name, ok, bound in checks:
            if not ok:
                raise ConfigError(f"training {name} must be {bound} (got {getattr(self, name)!r})")
        if any(not 0 <= f < 1 for f in self.snapshot_fractions):
            raise ConfigError(f"training snapshot_fractions must be in [0, 1) (got {self.snapshot_fractions!r})")
        if not self.widths or any(w < 1 for w in self.widths):
            raise ConfigError(f"training widths must be positive integers (got {self.widths!r})")


PROFILES = {
    # Small CNN, Adam with warm-up + cosine decay: about 3 min per dataset on 2 cores.
    "default": {},
    # Deeper, batch-normed, augmented and longer: for users with time or a GPU.
    "strong": dict(epochs=30, widths=(32, 64, 128), convs_per_stage=2, embedding_dim=128,
                   augment=True, dropout=0.3, head_dropout=0.3, label_smoothing=0.1),
}


def make_config(dataset: str, profile: str = "default", **overrides) -> TrainConfig:
    """Build a :class:`TrainConfig` from a named profile plus explicit overrides."""
    if profile not in PROFILES:
        raise ConfigError(f"unknown training profile {profile!r}; choose one of {', '.join(PROFILES)}")
    values = {**PROFILES[profile], **{k: v for k, v in overrides.items() if v is not None}}
    return TrainConfig(dataset=dataset, profile=profile, **values)

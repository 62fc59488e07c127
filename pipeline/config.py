"""One run config: every stage's dataclass composed, with the rules that join them.

Each section is the dataclass of the stage that uses it (its fields, defaults, bounds and
help live there, once); the command line (``pipeline/cli.py``) is generated from these
fields, and :class:`RunConfig.__post_init__` holds the cross-field rules:

- one ``seed`` for every stage;
- the shared k-NN graph keeps as many neighbours as its largest consumer needs
  (each chosen method's estimator says: t-SNE's 3 x perplexity, UMAP's n_neighbors; the
  report's k), at least
  :data:`KNN_K_FLOOR`.

A parameter's road: ``--perplexity 40`` -> ``RunConfig.project.perplexity`` (field of
``embeddings.project.ProjectConfig``) -> ``ProjectConfig.params("tsne")`` ->
``embeddings.methods.tsne.TSNE(perplexity=40)`` (the field comes from the method's registry
entry, ``embeddings/methods/``); the same value sets
``RunConfig.embed.knn_k`` (120) here.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from core.errors import ConfigError
from core.options import option, validate
from embeddings.duplicates import DuplicatesConfig
from embeddings.dynamics import DynamicsConfig
from embeddings.extract import EmbedConfig
from embeddings.faithfulness import FaithConfig
from embeddings.label_issues import IssuesConfig
from embeddings.layers import LayersConfig
from embeddings.project import ProjectConfig
from embeddings.report import ReportConfig
from explorer.options import ServeOptions
from pipeline import stages
from pipeline.corrections import CorrectionsOptions
from training import datasets as facts
from training import kinds
from training.config import TrainConfig, TrainOptions
from training.import_files import ImportOptions
from training.ladder import ModelOptions

#: The shared graph never keeps fewer neighbours than this: the perplexity-30 default's 90,
#: so a lower perplexity reuses the graph (its first 3 x perplexity columns) instead of
#: building a shorter one.
KNN_K_FLOOR = 90


@dataclasses.dataclass(frozen=True)
class WhereOptions:
    """Where the cache lives."""

    cache_dir: Path | None = option(None, "artifact cache (default: ./cache or $MNIST_EXPLORER_CACHE)", type=Path)


@dataclasses.dataclass(frozen=True)
class DataOptions:
    """Which datasets, from where, and how chatty."""

    dataset: tuple[str, ...] = option(facts.NAMES, "datasets, comma-separated",
                                      choices=facts.NAMES, many=True)
    data_dir: Path | None = option(None, "local data folder (default: <cache>/data)", type=Path)
    quiet: bool = option(False, "no progress bars", short="-q")


@dataclasses.dataclass(frozen=True)
class SeedOptions:
    """The one seed of every random step."""

    seed: int = option(0, "seed of training, k-NN search, layouts and sampled metrics")


#: Section name -> its dataclass, in the order ``--help`` lists them.
SECTIONS = {"where": WhereOptions, "data": DataOptions, "seed": SeedOptions, "models": ModelOptions,
            "train": TrainOptions,
            "embed": EmbedConfig, "project": ProjectConfig, "faith": FaithConfig, "issues": IssuesConfig,
            "duplicates": DuplicatesConfig, "dynamics": DynamicsConfig, "layers": LayersConfig, "report": ReportConfig,
            "serve": ServeOptions, "imported": ImportOptions, "corrections": CorrectionsOptions}
TITLES = {"where": "cache", "data": "datasets", "seed": "randomness", "models": "models", "train": "training",
          "embed": "embeddings", "project": "projections", "faith": "faithfulness", "issues": "label issues",
          "duplicates": "near-duplicates", "dynamics": "training dynamics", "layers": "layer by layer", "report": "report",
          "serve": "explorer", "imported": "your dataset", "corrections": "label corrections"}


def _sections_of(stage: str) -> tuple[str, ...]:
    """The sections a stage's command takes: those of the stage and every stage it needs, in ``--help`` order."""
    return tuple(s for s in SECTIONS if s in stages.sections(stage))


#: The sections each command uses: a stage runs the ones it needs, so it takes their options
#: (``pipeline/stages.py`` declares which sections shape which stage).
COMMANDS = {
    **{name: _sections_of(name) + (("corrections",) if name == "train" else ())
       for name, s in stages.STAGES.items() if s.help},
    "all": _sections_of("report") + ("corrections", "serve"),
    "serve": ("where", "serve"),
    "verify": ("where", "data"),
    # your own dataset: read, checked, then the stages from the k-NN graph to the report, published
    "import": ("where", "imported", "seed", "project", "faith", "issues", "duplicates", "report", "corrections"),
}


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Every section of a run; build it with keyword sections or :meth:`from_flat`."""

    where: WhereOptions = WhereOptions()
    data: DataOptions = DataOptions()
    seed: SeedOptions = SeedOptions()
    models: ModelOptions = ModelOptions()
    train: TrainOptions = TrainOptions()
    embed: EmbedConfig = EmbedConfig()
    project: ProjectConfig = ProjectConfig()
    dynamics: DynamicsConfig = DynamicsConfig()
    layers: LayersConfig = LayersConfig()
    faith: FaithConfig = FaithConfig()
    issues: IssuesConfig = IssuesConfig()
    duplicates: DuplicatesConfig = DuplicatesConfig()
    report: ReportConfig = ReportConfig()
    serve: ServeOptions = ServeOptions()
    imported: ImportOptions = ImportOptions()
    corrections: CorrectionsOptions = CorrectionsOptions()

    def __post_init__(self) -> None:
        for name in SECTIONS:
            validate(getattr(self, name), TITLES[name])
        seed = self.seed.seed
        replace = dataclasses.replace
        knn_k = max(KNN_K_FLOOR, self.project.neighbours_needed(), self.report.k)
        # frozen sections: the derived values are set once, here
        object.__setattr__(self, "embed", replace(self.embed, knn_k=knn_k, seed=seed))
        object.__setattr__(self, "project", replace(self.project, seed=seed))
        object.__setattr__(self, "dynamics", replace(self.dynamics, seed=seed))
        object.__setattr__(self, "layers", replace(self.layers, seed=seed))
        object.__setattr__(self, "issues", replace(self.issues, seed=seed))
        object.__setattr__(self, "duplicates", replace(self.duplicates, seed=seed))
        object.__setattr__(self, "report", replace(self.report, seed=seed))
        if self.models.model and len(self.datasets) != 1:
            raise ConfigError(f"--model needs one --dataset (the one your model was trained on); "
                              f"got {', '.join(self.datasets)}: add {' or '.join(f'--dataset {n}' for n in facts.NAMES)}")
        for name in self.datasets:  # a bad training value fails now, before any work
            for model in self.models.models:
                kinds.spec(model, name, self.train, seed)

    @classmethod
    def from_sections(cls, values: dict[str, dict]) -> "RunConfig":
        """Build from ``{section: {field: value}}``; sections and fields not given keep their defaults."""
        return cls(**{name: SECTIONS[name](**fields) for name, fields in values.items()})

    @property
    def datasets(self) -> tuple[str, ...]:
        return self.data.dataset

    @property
    def progress(self) -> bool:
        return not (self.data.quiet or self.imported.quiet)

    def train_config(self, dataset: str, model: str = "cnn") -> TrainConfig:
        """The config rung ``model`` (a trained one) is made with on ``dataset``."""
        return kinds.spec(model, dataset, self.train, self.seed.seed).config

    def settable(self, sections: tuple[str, ...] | None = None) -> dict[str, dict]:
        """``{section: {field: value}}`` of the fields the command line sets, for records and reruns."""
        out = {}
        for name in sections or tuple(SECTIONS):
            section = getattr(self, name)
            out[name] = {f.name: getattr(section, f.name) for f in dataclasses.fields(section)
                         if not (f.metadata.get("option") or {}).get("derived")}
        return out

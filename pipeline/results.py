"""What a run made, typed: per dataset its samples, models and report part; per model a folder per artifact.

``pipeline/tasks.py`` fills these records stage by stage; ``Pipeline.publish`` turns them into
``current.json``'s declared entries (``core/current.py``) and the report reads them as they are.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

from core import current as current_json
from training import kinds


@dataclasses.dataclass
class ModelRun:
    """What the run made for one model of one dataset: a folder per artifact (``None``: not yet)."""

    spec: Any  # training.ladder.ModelSpec
    model: Path
    embed: Path | None = None
    projections: dict[str, Path] = dataclasses.field(default_factory=dict)  # 2-D layouts, every view's
    projections3d: dict[str, Path] = dataclasses.field(default_factory=dict)  # the explorer's 3-D view's
    faithfulness: dict[str, Path] = dataclasses.field(default_factory=dict)
    issues: Path | None = None
    dynamics: Path | None = None
    dynamics_done: bool = False  # a model trained without snapshots has none, and is done
    layers: Path | None = None
    layers_done: bool = False  # a model without a network (the pixels) has none, and is done

    def layouts(self, dims: int) -> dict[str, Path]:
        return self.projections if dims == 2 else self.projections3d

    def entry(self, rel: Callable[[Path], str]) -> current_json.ModelEntry:
        """This model's ``current.json`` entry, with paths relative to the cache root."""
        return current_json.ModelEntry(
            title=self.spec.title, kind=self.spec.kind, article=kinds.get(self.spec.kind).article,
            model=rel(self.model), embed=rel(self.embed),
            projections={p: rel(f) for p, f in self.projections.items()},
            projections3d={p: rel(f) for p, f in self.projections3d.items()},
            dynamics=rel(self.dynamics) if self.dynamics else None,
            layers=rel(self.layers) if self.layers else None,
            issues=rel(self.issues) if self.issues else None,
            faithfulness={p: rel(f) for p, f in self.faithfulness.items()})

    def report_input(self) -> dict:
        """What ``embeddings.report.dataset_part`` reads of this model."""
        return dict(title=self.spec.title, kind=self.spec.kind, model_dir=self.model, embed_dir=self.embed,
                    projections=self.projections, dynamics_dir=self.dynamics, layers_dir=self.layers,
                    issues_dir=self.issues,
                    faith=self.faithfulness)


@dataclasses.dataclass
class DatasetRun:
    """What the run made for one dataset."""

    models: dict[str, ModelRun] = dataclasses.field(default_factory=dict)
    samples: Path | None = None
    duplicates: Path | None = None  # its near-duplicates folder
    report: dict | None = None  # its part of the report

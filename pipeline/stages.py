"""The stage graph, declared once: what each stage needs, which config sections shape it, what it writes.

Every other place that knows about stages reads these declarations: the order the runner
(``pipeline/run.py``) runs them in, the options each command takes (``pipeline/config.py``'s
``COMMANDS``), the words a running explorer shows while a stage works (written into
``progress.json``), and the folder each stage publishes (``core.schema.FOLDERS``, whose
``version`` enters the stage's keys). A new stage is one :class:`Stage` here, one method of
:class:`~pipeline.run.Pipeline` named after it that computes it, and its folder in
``core/schema.py``.

What a stage computes is kept apart from where it runs: each stage's method walks its
(dataset, model, layout) tasks in the runner's priority order and calls a plain function of
``training/`` or ``embeddings/`` that reads its input folders and writes one output folder
through ``core.store.ArtifactStore.build`` (atomic, keyed, locked across processes). Those
calls are the unit a distributed engine would take: handing them to Dask's or Ray's
executors (``client.submit(project, ...)`` with the store on a shared file system) needs no
change to the functions, only a runner that submits them instead of calling them.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of the pipeline.

    ``needs``: the stages whose artifacts it reads; ``sections``: the run config's sections that
    change what it computes (beyond those of the stages it needs); ``folder``: the
    ``core.schema`` folder it publishes (``None``: it publishes none); ``words``: what the
    explorer says while it runs; ``help``: its command's one line, if it is a command.
    """

    name: str
    needs: tuple[str, ...]
    sections: tuple[str, ...]
    folder: str | None
    words: str
    help: str = ""


#: The stages, each after the ones it needs.
STAGES: dict[str, Stage] = {s.name: s for s in (
    Stage("fetch", (), ("where", "data"), None, "fetching the data", "download and verify the datasets"),
    Stage("train", ("fetch",), ("seed", "models", "train"), "model", "training",
          "fit the models: pixel k-NN, dense network, CNN (and check your own)"),
    # the shared k-NN graph keeps as many neighbours as its largest consumer needs: the layouts' and the report's
    Stage("embed", ("train",), ("embed", "project", "report"), "embed", "extracting embeddings",
          "each model's embeddings and k-NN graph"),
    Stage("project", ("embed",), ("project",), "proj", "projecting", "layouts of every model (PCA, t-SNE, UMAP, ...)"),
    Stage("faith", ("project",), ("faith",), "faith", "measuring how faithful each layout is"),
    Stage("issues", ("embed",), ("issues",), "issues", "looking for label errors"),
    Stage("duplicates", ("embed",), ("duplicates",), "duplicates", "looking for near-duplicate images"),
    Stage("dynamics", ("train",), ("dynamics",), "dynamics", "aligning training snapshots"),
    # after every view the first page shows (pipeline/schedule.py puts the report's step last)
    Stage("layers", ("embed",), ("layers",), "layers", "following the classes through each layer"),
    Stage("report", ("project", "faith", "issues", "duplicates", "dynamics", "layers"), ("report",), "report", "measuring separability",
          "separability report (JSON + table); updates what the explorer shows"),
)}
#: What the explorer says of a dataset before its first stage starts.
WAITING = "waiting for its turn"


def order(target: str) -> list[Stage]:
    """The stages ``target`` needs, each after the ones it needs, then ``target`` itself."""
    if target not in STAGES:
        raise KeyError(f"no stage {target!r}; the stages are {', '.join(STAGES)}")
    seen: list[str] = []

    def visit(name: str) -> None:
        for need in STAGES[name].needs:
            visit(need)
        if name not in seen:
            seen.append(name)

    visit(target)
    return [STAGES[n] for n in seen]


def sections(target: str) -> set[str]:
    """Every config section that shapes ``target``'s results: its own and those of all it needs."""
    return {s for stage in order(target) for s in stage.sections}


def downstream(stage: str) -> set[str]:
    """The stages that read, directly or not, what ``stage`` makes (``stage`` included)."""
    return {s for s in STAGES if stage in {x.name for x in order(s)}}


def words(stage: str) -> str:
    """What the explorer says while ``stage`` runs."""
    return STAGES[stage].words if stage in STAGES else WAITING if stage == "waiting" else stage

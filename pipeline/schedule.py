"""What to compute next: the run as a queue of small steps, the view a user looks at first.

A :class:`Step` is one stage target of the graph (``pipeline/stages.py``) for one dataset, narrowed
to some models, methods and dimensions: "MNIST's pixel k-NN, PCA" runs the fetch, the pixel k-NN,
its embedding and one 2-D layout and nothing else; the runner (:meth:`pipeline.run.Pipeline.run_all`)
publishes ``current.json`` after each step, so the explorer, started before any work, shows each
view as it lands.

The default queue (:func:`plan`) goes in rounds, each over the datasets in the run's priority order:

1. the first picture: the user's own models, each with all its 2-D layouts (what they came to see),
   and the ladder's first model (the pixel k-NN: seconds) with its quickest layout (PCA,
   milliseconds) and the explorer's first choice (UMAP); at 70,000 points the model the page
   opens with instead (the pixel k-NN is the slow one there);
2. the model the page opens with (the CNN) in the same two layouts: the view the page moves to
   (at 70,000 points, the pixel k-NN's); then its training-dynamics frames, which the page shows
   beside it (a network trained with snapshots: about 15 s);
3. every other 2-D layout, model by model in ladder order;
4. everything else the report needs (3-D layouts, faithfulness, label issues, dynamics, the report).

The explorer asks for a view it lacks by writing ``<cache>/wanted.json`` (:data:`WANTED_FILE`); the
runner reads it between steps (:func:`wanted`) and makes that view next.  :class:`Estimates` says how
long each coming view will take: a first guess from the kinds' and methods' registries, replaced by
what this run measured.
"""
from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Sequence

from core.schema import WANTED_FILE
from embeddings import methods as method_table
from training import kinds

log = logging.getLogger(__name__)

#: a first guess at one model's embedding (predictions and k-NN graph) of 10,000 samples, in seconds
EMBED_SECONDS = 10.0
#: a first guess at a dataset's work after its 2-D views (3-D layouts, faithfulness, label issues,
#: dynamics, report), per model, in seconds
REST_SECONDS = 25.0
#: a first guess at one network's training-dynamics frames, in seconds
DYNAMICS_SECONDS = 15.0


@dataclasses.dataclass(frozen=True)
class Step:
    """One stage ``target`` of dataset ``dataset``, for ``models`` x ``methods`` x ``dims`` (``None``: all)."""

    dataset: str
    target: str
    models: tuple[str, ...] | None = None
    methods: tuple[str, ...] | None = None
    dims: tuple[int, ...] | None = None

    def view(self) -> tuple[str, str] | None:
        """The one 2-D view (model, method) this step makes, if it makes exactly one."""
        if self.target == "project" and self.dims == (2,) and self.models and self.methods \
                and len(self.models) == len(self.methods) == 1:
            return self.models[0], self.methods[0]
        return None

    def covers(self, model: str, method: str | None = None, dims: int = 2) -> bool:
        """Whether this step may work on ``model`` (and its ``method`` layout in ``dims``)."""
        return ((self.models is None or model in self.models)
                and (method is None or self.methods is None or method in self.methods)
                and (self.dims is None or dims in self.dims))


def layout_order(chosen: Sequence[str]) -> list[str]:
    """The 2-D layouts of a model in the order they are made: the quickest, then the explorer's order."""
    table = [method_table.get(m) for m in chosen]
    if not table:
        return []
    quick = min(table, key=lambda m: m.seconds)
    return [quick.name, *[m.name for m in sorted(table, key=lambda m: m.order) if m is not quick]]


def plan(names: Sequence[str], specs_of, chosen: Sequence[str], opening_first: bool = False) -> list[Step]:
    """The default queue of a run over ``names`` (:func:`specs_of`: a dataset's model specs), in rounds
    across the datasets: every dataset's first picture comes before any dataset's slower views (a user
    compares MNIST with Fashion-MNIST from the first minute), and every opening view before the rest.

    ``opening_first``: the model the page opens with makes the first picture, before the ladder's
    first model.  A run over the training images too (``--sample-set all``) asks it: there the pixel
    k-NN votes for each of the 60,000 training images and searches a 784-d graph of all 70,000
    (130-145 s per dataset, measured), where the CNN, trained or reused, embeds them in about 30 s.
    """
    layouts = layout_order(chosen)
    rounds: list[list[Step]] = [[], [], [], []]
    for name in names:
        specs = specs_of(name)
        users = [s.name for s in specs if kinds.get(s.kind).check]
        ladder = [s.name for s in specs if s.name not in users]
        first = [(model, method) for model in users for method in layouts]
        opening = []
        best = None
        if ladder:
            best = kinds.preferred(ladder)
            quick, then = (best, ladder[0]) if opening_first else (ladder[0], best)
            first += [(quick, method) for method in layouts[:2]]
            opening = [(model, method) for model in dict.fromkeys((quick, then))
                       for method in layouts[:2] if (model, method) not in first]
        done = {*first, *opening}
        others = [(model, method) for model in ladder for method in layouts if (model, method) not in done]
        for i, views in enumerate((first, opening, others)):
            rounds[i] += [Step(name, "project", (model,), (method,), (2,)) for model, method in views]
        kind = next((s.kind for s in specs if s.name == best), None)
        if kind is not None and kinds.get(kind).snapshots:
            rounds[1].append(Step(name, "dynamics", (best,)))
        rounds[3].append(Step(name, "report"))
    return [step for steps in rounds for step in steps]


def wanted(root: Path, seen: float, names: Sequence[str], specs_of, chosen: Sequence[str]) -> tuple[Step | None, float]:
    """The view the explorer asked for after time ``seen`` (``<root>/wanted.json``), as a step; and its time.

    Anything but a known dataset, one of its models and a chosen method is ignored (the file is
    written by a page, so it is read as untrusted input).
    """
    try:
        w = json.loads((Path(root) / WANTED_FILE).read_text())
        when = float(w["time"])
        ds, model, method = w["dataset"], w["model"], w["proj"]
    except (OSError, ValueError, KeyError, TypeError):
        return None, seen
    if when <= seen:
        return None, seen
    if not all(isinstance(v, str) for v in (ds, model, method)) or ds not in names \
            or model not in {s.name for s in specs_of(ds)} or method not in chosen:
        log.info("ignoring %s: %r / %r / %r is not a view of this run", WANTED_FILE, ds, model, method)
        return None, when
    return Step(ds, "project", (model,), (method,), (2,)), when


class Estimates:
    """Seconds each piece of work takes: the registries' first guesses, then what this run measured.

    A fit is timed per kind, an embedding per kind and a layout per method, each scaled by the
    number of points (a layout) where it was timed on another dataset's samples.
    """

    def __init__(self) -> None:
        self.fit: dict[str, float] = {}
        self.embed: dict[str, float] = {}
        self.layout: dict[str, float] = {}  # seconds per 10,000 points
        self.rest: float | None = None  # per model, the work after the 2-D views
        self.dynamics: float | None = None  # one network's training-dynamics frames

    def learn(self, kind: str, method: str | None, took: dict[str, float], n: int) -> None:
        """Record one step's stage times (``took``: stage -> seconds) of a model of ``kind``."""
        if took.get("train", 0) > 0.5:
            self.fit[kind] = took["train"]
        if took.get("embed", 0) > 0.5:
            self.embed[kind] = took["embed"]
        if method and took.get("project", 0) > 0.05 and n:
            self.layout[method] = took["project"] * 10_000 / n

    def learn_rest(self, took: float, models: int) -> None:
        """Record a dataset's work after its 2-D views (``models`` models)."""
        self.rest = took / max(models, 1)

    def learn_dynamics(self, took: float) -> None:
        self.dynamics = took

    def dynamics_seconds(self) -> float:
        return self.dynamics if self.dynamics is not None else DYNAMICS_SECONDS

    def rest_seconds(self, models: int) -> float:
        return (self.rest if self.rest is not None else REST_SECONDS) * models

    def seconds(self, kind: str, method: str, n: int, fitted: bool, embedded: bool,
                fit_left: float | None = None) -> float:
        """The seconds from now to ``method``'s layout of a model of ``kind``, given what it has
        (``fit_left``: what its fit, under way, has still to do)."""
        out = 0.0 if fitted else fit_left if fit_left is not None else self.fit.get(kind, kinds.get(kind).fit_seconds)
        out += 0.0 if embedded else self.embed.get(kind, EMBED_SECONDS * max(n, 1) / 10_000)
        per = self.layout.get(method, method_table.get(method).seconds)
        return out + per * max(n, 1) / 10_000

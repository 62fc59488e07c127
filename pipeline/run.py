"""The runner: the stages of ``pipeline/stages.py`` in the graph's order, each cached, datasets in priority order.

Each dataset is seen through several models (``training/ladder.py``); every stage after
fetch runs once per model (and per layout), and each artifact is keyed by what made it.
What a run made is held in typed records (:class:`DatasetRun`, :class:`ModelRun`) that
``publish`` turns into ``current.json``'s declared entries (``core/current.py``).

``Pipeline.run_all`` works through a queue of small steps (``pipeline/schedule.py``): each
model's quickest layout first, dataset by dataset, publishing ``current.json`` after every
step, so an explorer started before any work shows each view as it lands; ``priority`` puts
the dataset a user looks at first, and a view the page asks for (``wanted.json``) goes next.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from core import current as current_json
from core import schema
from core.corrections import fixes_digest, train_fixes
from core.store import ArtifactStore, write_json_atomic
from pipeline import schedule, stages
from pipeline.config import SECTIONS, RunConfig
from pipeline.corrections import log_of, with_fixes
from pipeline.results import DatasetRun
from pipeline.tasks import StageTasks
from training import datasets as facts
from training import kinds

log = logging.getLogger(__name__)

PROGRESS_FILE = schema.PROGRESS_FILE


@dataclasses.dataclass
class Timings:
    """Seconds per stage over the whole run, and per dataset where a call worked on one."""

    seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    per_dataset: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)

    @contextmanager
    def stage(self, name: str, datasets: Sequence[str] = ()) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            dt = time.perf_counter() - t0
            self.seconds[name] = self.seconds.get(name, 0.0) + dt
            if len(datasets) == 1:  # run_all takes the datasets one at a time
                own = self.per_dataset.setdefault(datasets[0], {})
                own[name] = own.get(name, 0.0) + dt


class Pipeline(StageTasks):
    """Runs the stages for the chosen datasets, reusing every cached artifact it can.

    :meth:`run` runs a stage after every stage it needs (``pipeline/stages.py``); each
    stage's method (``fetch``, ``train``, ... in :class:`~pipeline.tasks.StageTasks`) computes
    what is missing for the datasets it is given and is cheap when everything is cached.
    Each stage reads its own section of the :class:`~pipeline.config.RunConfig`.
    """

    def __init__(self, config: RunConfig, imported: dict[str, Path] | None = None,
                 priority: Sequence[str] = ()):
        """``imported`` maps the user's datasets to their import folders (``training/imported.py``);
        when given, the run works on those datasets instead of ``config``'s. ``priority`` names the
        datasets to run first (the one the user looks at), the others keep their order."""
        self.config = config
        self.imported = {n: Path(f) for n, f in (imported or {}).items()}
        names = tuple(self.imported) or config.datasets
        self.names = (*[n for n in priority if n in names], *[n for n in names if n not in priority])
        self.store = ArtifactStore(config.where.cache_dir)
        self.data_dir = Path(config.data.data_dir) if config.data.data_dir else self.store.root / "data"
        self.timings = Timings()
        self._arrays: dict[str, dict] = {}
        self.results: dict[str, DatasetRun] = {name: DatasetRun() for name in self.names}
        self._specs: dict[str, list] = {}
        self._checked: set[str] = set()
        self._progress: dict[str, dict] = {}
        self._epochs: dict[str, dict] = {}  # per dataset, the network being trained: its epochs so far
        self._coming: dict[str, list] = {}  # per dataset, the 2-D views still to come, with their times
        self._coming_at = time.monotonic()  # when those times were estimated
        self._queue: list[schedule.Step] = []  # the steps still to run (run_all's)
        self._fit_left: dict[tuple[str, str], float] = {}  # a fit under way: its seconds still to go
        self.estimates = schedule.Estimates()
        self.report_path: Path | None = None

    def _names(self, names: Sequence[str] | None) -> tuple[str, ...]:
        return tuple(names) if names is not None else self.names

    def run(self, target: str, names: Sequence[str] | None = None, step: schedule.Step | None = None) -> None:
        """Every stage ``target`` needs, in the graph's order, then ``target``, for ``names`` (default all);
        ``step`` narrows each stage to its models, methods and dimensions."""
        self._scope = step
        try:
            for stage in stages.order(target):
                with self.timings.stage(stage.name, self._names(names)):
                    getattr(self, f"stage_{stage.name}")(names)
        finally:
            self._scope = None

    def _status(self, name: str, stage: str, detail: str = "") -> None:
        """Tell a running explorer what is being prepared (``<cache>/progress.json``), in the graph's words,
        with the views still to come and the epochs of a network in training."""
        self._progress[name] = {"stage": stage, "words": stages.words(stage), "detail": detail,
                                "title": self._title(name)}
        self._write_progress()

    def _write_progress(self) -> None:
        """``progress.json``: each dataset's stage, its coming views (counted down to now) and epochs."""
        for name, entry in self._progress.items():
            entry["coming"] = self._coming_now(name)
            entry.pop("epochs", None)
            if name in self._epochs:
                entry["epochs"] = self._epochs[name]
        try:
            write_json_atomic(self.store.root / PROGRESS_FILE,
                              {"pid": os.getpid(), "updated": time.time(), "datasets": self._progress})
        except OSError as e:  # progress is a courtesy; never fail the run for it
            log.debug("could not write progress: %s", e)

    def _title(self, name: str) -> str:
        """A dataset's title; a user's dataset not opened yet goes by its name."""
        if name in self.imported and name not in self._arrays:
            return name
        return facts.get(name).title

    def models(self, name: str):
        """The :class:`~training.ladder.ModelSpec` of each model of ``name``, ladder first."""
        if name not in self._specs:
            from training.ladder import imported_specs, specs

            self._specs[name] = (imported_specs(name, self.imported[name], self.store) if name in self.imported else
                                 with_fixes(specs(name, self.config.models, self.config.train, self.config.seed.seed),
                                            fixes_digest(train_fixes(log_of(self.store, name).entries()))))
        return self._specs[name]

    def check_models(self) -> None:
        """Load and check every user model before any other work (each failure is one line)."""
        from training.ladder import check

        for name in self.names:
            for spec in self.models(name):
                if kinds.get(spec.kind).check and spec.name not in self._checked:
                    for note in check(spec):
                        log.info("%s: your model %r: %s", name, spec.name, note)
                    self._checked.add(spec.name)

    def report(self, names: Sequence[str] | None = None) -> Path:
        """Every stage, then each dataset's part of the report and the combined report."""
        self.run("report", names)
        return self.report_path

    # -- publishing -------------------------------------------------------------------------
    def publish(self, names: Sequence[str] | None = None) -> Path:
        """Point ``current.json`` at the datasets' artifacts made so far (atomically), for the explorer.

        A dataset is listed once a model of it has a 2-D layout, a model once it has one; its
        ``methods`` are every method the run makes, so the page offers them before they land.
        """
        from embeddings.methods import facts as method_facts
        from embeddings.report import combine

        rel = self.store.relative
        # the run's settings, so `verify --repair` can rebuild exactly what this view shows
        run = self.config.settable(tuple(s for s in SECTIONS if s in stages.sections("report") and s != "where"))
        run["data"].pop("data_dir", None)
        run["models"]["model"] = [str(Path(p).expanduser().resolve()) for p in run["models"]["model"]]
        datasets: dict[str, Any] = {}
        for name in self._names(names):
            r = self.results[name]
            # in the run's order (the ladder, then the user's models), whichever was made first
            made = [s.name for s in self.models(name) if s.name in r.models]
            shown = {model: r.models[model] for model in made if r.models[model].embed is not None
                     and r.models[model].projections}
            if r.samples is None or not shown:
                continue  # nothing to show yet
            models = {model: m.entry(rel) for model, m in shown.items()}
            methods = {p for m in shown.values() for p in (*m.projections, *m.projections3d)}
            methods |= set(self.config.project.methods)
            datasets[name] = current_json.DatasetEntry(
                **facts.get(name).to_json(),
                run=dict(run, import_folder=rel(self.imported[name])) if name in self.imported else run,
                sample_set=self.config.embed.sample_set,
                n=len(self.store.load_array(schema.SAMPLES.path(r.samples, "labels"), mmap=True)),
                samples=rel(r.samples),
                default_model=kinds.preferred(models),
                duplicates=rel(r.duplicates) if r.duplicates else None,
                models=models, methods=method_facts(methods))
            if r.report is not None:
                self._status(name, "ready")
        parts = {n: self.results[n].report for n in datasets}
        kept, kept_parts = self._still_shown(set(datasets))
        order = [*kept, *[n for n in datasets if n not in kept]]  # where the page listed them, new ones last
        datasets = {n: datasets.get(n) or kept[n] for n in order}
        # a dataset still being made has no report part yet: the page shows its views without one
        parts = {n: p for n in order if (p := parts.get(n) or kept_parts.get(n)) is not None}
        report = combine(parts, self.store, self.config.report.k)
        versions = {folder.stage: folder.version for folder in schema.FOLDERS.values()}
        self.store.write_current(current_json.to_json(datasets, rel(report), run, versions))
        return self.store.root / schema.CURRENT_FILE

    def _still_shown(self, running: set[str]) -> tuple[dict, dict]:
        """The entries (and report parts) of datasets the explorer shows that this run does not touch.

        A run with ``--dataset fashion-mnist --model mine.keras`` keeps MNIST on the page: every
        other dataset of the current view stays when its folders are there and its report part
        was measured with the same k. Entries keep their own ``run`` record for ``verify --repair``.
        """
        from core.errors import CacheError

        try:
            current = self.store.read_current()
            report = self.store.read_json(self.store.resolve(current["report"]))
        except (CacheError, KeyError, TypeError):
            return {}, {}
        if report.get("k") != self.config.report.k:
            return {}, {}
        entries, parts = {}, {}
        for name, entry in (current.get("datasets") or {}).items():
            known = name in facts.NAMES or (isinstance(entry, dict) and entry.get("source") == "imported")
            if name in running or name not in report.get("datasets", {}) or not known:
                entries.setdefault(name, None)  # keeps the page's order for datasets rerun now
                continue
            folders = [entry.get("samples"), *[f for m in (entry.get("models") or {}).values()
                                               for f in (m.get("model"), m.get("embed"), *m.get("projections", {}).values(),
                                                         *(m.get("projections3d") or {}).values())]]
            try:
                present = all(f and self.store.resolve(f).is_dir() for f in folders)
            except CacheError:
                present = False
            if present:
                entries[name], parts[name] = entry, report["datasets"][name]
        return {n: e for n, e in entries.items() if e is not None or n in running}, parts

    def run_all(self, on_start: Callable[[], None] | None = None) -> Path:
        """Every stage for every dataset, as a queue of steps (``pipeline/schedule.py``), publishing after each.

        ``on_start`` runs once ``progress.json`` says what is coming, before any work (the explorer
        starts then and shows each view as it lands).  Between steps a view the page asked for
        (``wanted.json``, written after this run started) is made next.
        """
        for name in self.names:
            self._status(name, "waiting")
        if on_start:
            on_start()
        self.check_models()
        chosen = [m for m in self.config.project.methods if 2 in self.config.project.dims_of(m)]
        queue = self._queue = schedule.plan(self.names, self.models, chosen,
                                            opening_first=self.config.embed.sample_set == "all")
        seen = time.time()
        self._tell_coming(queue)
        while queue:
            wish, seen = schedule.wanted(self.store.root, seen, self.names, self.models, chosen)
            if wish is not None and not self._made(wish):
                log.info("%s: the page asked for %s of %s: next", wish.dataset, wish.methods[0], wish.models[0])
                queue.insert(0, wish)
                self._tell_coming(queue)
            step = queue[0]  # stays queued while it runs: its view is still coming
            if self._made(step):
                queue.pop(0)
                continue
            before = dict(self.timings.seconds)
            self.run(step.target, [step.dataset], step)
            queue.pop(0)
            self._learn(step, before)
            self._tell_coming(queue)  # the page sees the new view with what is still to come
            self.publish([n for n in self.names if self.results[n].models])
        self._tell_coming([])
        self.report()
        current = self.publish()
        (self.store.root / PROGRESS_FILE).unlink(missing_ok=True)
        return current

    # -- the queue's bookkeeping (pipeline/schedule.py) ----------------------------------------------
    def _made(self, step: schedule.Step) -> bool:
        r = self.results[step.dataset]
        view = step.view()
        if step.target == "dynamics":
            return all(r.models[m].dynamics_done for m in step.models or () if m in r.models) and all(
                m in r.models for m in step.models or ())
        if view is None:
            return step.target == "report" and r.report is not None
        m = r.models.get(view[0])
        return m is not None and view[1] in m.projections

    def _points(self, name: str) -> int:
        """The samples a dataset's layouts hold (its samples folder's, or what the config asks)."""
        r, embed = self.results[name], self.config.embed
        if r.samples is not None:
            return len(self.store.load_array(schema.SAMPLES.path(r.samples, "labels"), mmap=True))
        return embed.embed_subset or (70_000 if embed.sample_set == "all" else 10_000)

    def _learn(self, step: schedule.Step, before: dict[str, float]) -> None:
        view = step.view()
        took = {k: v - before.get(k, 0.0) for k, v in self.timings.seconds.items()}
        if step.target == "dynamics":
            if took.get("dynamics", 0) > 0.5:
                self.estimates.learn_dynamics(took["dynamics"])
            return
        if view is None:
            self.estimates.learn_rest(sum(took.values()), len(self.models(step.dataset)))
            return
        spec = next(s for s in self.models(step.dataset) if s.name == view[0])
        self.estimates.learn(spec.kind, view[1], took, self._points(step.dataset))

    def _tell_coming(self, queue: list[schedule.Step]) -> None:
        """Per dataset, the 2-D views ``queue`` will make, in order, each with its seconds from now."""
        coming: dict[str, list] = {n: [] for n in self.names}
        fitted = {(n, model) for n in self.names for model in self.results[n].models}
        embedded = {(n, model) for n in self.names for model, m in self.results[n].models.items() if m.embed}
        eta = 0.0
        for step in queue:
            view = step.view()
            if self._made(step):
                continue
            if step.target == "dynamics":
                eta += self.estimates.dynamics_seconds() * len(step.models or ())
                continue
            if view is None:  # the rest of a dataset's work comes before the next one's views
                eta += self.estimates.rest_seconds(len(self.models(step.dataset)))
                continue
            spec = next(s for s in self.models(step.dataset) if s.name == view[0])
            key = (step.dataset, spec.name)
            eta += self.estimates.seconds(spec.kind, view[1], self._points(step.dataset),
                                          key in fitted, key in embedded, self._fit_left.get(key))
            fitted.add(key)
            embedded.add(key)
            coming[step.dataset].append({"model": spec.name, "title": spec.title, "proj": view[1],
                                         "eta_s": round(eta, 1)})
        self._coming, self._coming_at = coming, time.monotonic()
        self._write_progress()

    def _coming_now(self, name: str) -> list[dict]:
        """The coming views of ``name`` with their seconds from now (each status write counts down); a step
        that overruns its estimate pushes the rest back, never below 5 s for the next one."""
        views = self._coming.get(name, [])
        if not views:
            return []
        elapsed, first = time.monotonic() - self._coming_at, min(v["eta_s"] for v in views)
        return [{**v, "eta_s": round(max(v["eta_s"] - elapsed, v["eta_s"] - first + 5.0), 1)} for v in views]

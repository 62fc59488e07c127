"""The stages in order, each cached: fetch -> train -> embed -> project -> faith, issues -> dynamics -> report.

Each dataset is seen through several models (``training/ladder.py``); every stage after
fetch runs once per model, and each model's artifacts are keyed by what made them.

Datasets go through the stages one after the other, so the first one can be explored
while the second is still training (``Pipeline.run_all``).
"""
from __future__ import annotations

import dataclasses
import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

from core import datasets as facts
from core.store import ArtifactStore, write_json_atomic
from core.vocab import PREFERRED_MODEL
from pipeline.config import RunConfig
from pipeline.progress import bar_updater, ticking

log = logging.getLogger(__name__)

PROGRESS_FILE = "progress.json"
#: where a model's layouts of each dimension go in the run's results and in current.json
_LAYOUTS = {2: "projections", 3: "projections3d"}


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


class Pipeline:
    """Runs the stages for the chosen datasets, reusing every cached artifact it can.

    Each stage method takes the dataset names to work on (default: all) and runs the
    stages before it first; all of them are cheap when their artifacts are cached.
    Each stage reads its own section of the :class:`~pipeline.config.RunConfig`.
    """

    def __init__(self, config: RunConfig, imported: dict[str, Path] | None = None):
        """``imported`` maps the user's datasets to their import folders (``training/imported.py``);
        when given, the run works on those datasets instead of ``config``'s."""
        self.config = config
        self.imported = {n: Path(f) for n, f in (imported or {}).items()}
        self.names = tuple(self.imported) or config.datasets
        self.store = ArtifactStore(config.where.cache_dir)
        self.data_dir = Path(config.data.data_dir) if config.data.data_dir else self.store.root / "data"
        self.timings = Timings()
        self._arrays: dict[str, dict] = {}
        self.results: dict[str, dict] = {name: {} for name in self.names}
        self._specs: dict[str, list] = {}
        self._checked: set[str] = set()
        self.report_path: Path | None = None

    def _names(self, names: Sequence[str] | None) -> tuple[str, ...]:
        return tuple(names) if names is not None else self.names

    def _status(self, name: str, stage: str, detail: str = "") -> None:
        """Tell a running explorer what is being prepared (``<cache>/progress.json``)."""
        status = getattr(self, "_progress", {})
        status[name] = {"stage": stage, "detail": detail, "title": facts.get(name).title}
        self._progress = status
        try:
            write_json_atomic(self.store.root / PROGRESS_FILE,
                              {"pid": os.getpid(), "updated": time.time(), "datasets": status})
        except OSError as e:  # progress is a courtesy; never fail the run for it
            log.debug("could not write progress: %s", e)

    # -- stages -----------------------------------------------------------------------
    def fetch(self, names: Sequence[str] | None = None) -> None:
        from training import datasets

        with self.timings.stage("fetch", self._names(names)):
            for name in self._names(names):
                if name in self._arrays:
                    continue
                if name in self.imported:
                    from training.imported import load

                    self._arrays[name] = load(self.imported[name], self.store)[1]
                    log.info("%s: your data, from %s", name, self.imported[name])
                    continue
                self._arrays[name] = datasets.load(name, self.data_dir)
                log.info("%s: data ready in %s", name, self.data_dir / f"{name}.npz")

    def models(self, name: str):
        """The :class:`~training.ladder.ModelSpec` of each model of ``name``, ladder first."""
        if name not in self._specs:
            from training.ladder import imported_specs, specs

            self._specs[name] = (imported_specs(name, self.imported[name], self.store) if name in self.imported else
                                 specs(name, self.config.models, self.config.train, self.config.seed.seed))
        return self._specs[name]

    def check_models(self) -> None:
        """Load and check every user model before any other work (each failure is one line)."""
        from training.ladder import check_user_model

        for name in self.names:
            for spec in self.models(name):
                if spec.kind == "keras" and spec.name not in self._checked:
                    for note in check_user_model(spec):
                        log.info("%s: your model %r: %s", name, spec.name, note)
                    self._checked.add(spec.name)

    def train(self, names: Sequence[str] | None = None) -> None:
        from training.ladder import fit

        self.fetch(names)
        self.check_models()
        with self.timings.stage("train", self._names(names)):
            for name in self._names(names):
                done = self.results[name].setdefault("models", {})
                for spec in self.models(name):
                    if spec.name in done:
                        continue
                    what = (f"{spec.config.epochs} epochs" if spec.trained else
                            "k-NN vote of the training images" if spec.kind == "pixels" else
                            "predictions of your embeddings" if spec.kind == "given" else "checking your model")
                    self._status(name, "train", f"{spec.name}: {what}")
                    step = (bar_updater(self.config.progress, f"  {name} {spec.name} k-NN")
                            if spec.kind in ("pixels", "given") else None)
                    folder = fit(spec, self._arrays[name], self.store, progress=self.config.progress, step=step)
                    done[spec.name] = {"spec": spec, "model": folder}

    def embed(self, names: Sequence[str] | None = None) -> None:
        from embeddings.extract import embed, samples

        self.train(names)
        with self.timings.stage("embed", self._names(names)):
            for name in self._names(names):
                r = self.results[name]
                if "samples" not in r:
                    source = (self.imported[name].name,) if name in self.imported else ()
                    r["samples"] = samples(name, self._arrays[name], self.config.embed, self.store, upstream=source)
                for m in r["models"].values():
                    if "embed" in m:
                        continue
                    self._status(name, "embed", m["spec"].name)
                    with ticking(self.config.progress, f"  {name} {m['spec'].name}: predictions, k-NN graph") as step:
                        m["embed"] = embed(name, m["spec"], m["model"], m["model"].name, r["samples"],
                                           self._arrays[name], self.config.embed, self.store, progress=step)

    def project(self, names: Sequence[str] | None = None) -> None:
        from tqdm.auto import tqdm

        from embeddings.project import project

        self.embed(names)
        cfg, progress = self.config.project, self.config.progress
        # 2-D layouts of every model before any 3-D one: the explorer's views need them first
        tasks = [(n, m, p, d) for d in (2, 3) for n in self._names(names) for m in self.results[n]["models"]
                 for p in cfg.methods if d in cfg.dims_of(p)
                 and p not in self.results[n]["models"][m].get(_LAYOUTS[d], {})]
        if not tasks:
            return
        with self.timings.stage("project", self._names(names)):
            bar = tqdm(tasks, desc="project", unit="layout", disable=not progress, dynamic_ncols=True)
            for name, model, method, dims in bar:
                what = method if dims == 2 else f"3-D {method}"
                bar.set_postfix_str(f"{name} {model} {what}")
                self._status(name, "project", f"{what} of {model}")
                r = self.results[name]
                m = r["models"][model]
                with ticking(progress, f"  {what} {model}") as step:
                    folder = project(name, model, m["spec"].kind, m["embed"], r["samples"], method, cfg,
                                     self.store, progress=step, dims=dims)
                m.setdefault(_LAYOUTS[dims], {})[method] = folder
            bar.close()

    def faith(self, names: Sequence[str] | None = None) -> None:
        """Per layout, the share of each point's high-D neighbours it keeps (``faith/<key>/``)."""
        from embeddings.faithfulness import FaithConfig, build_faith

        self.project(names)
        with self.timings.stage("faith", self._names(names)):
            for name in self._names(names):
                for model, m in self.results[name]["models"].items():
                    done = m.setdefault("faithfulness", {})
                    for method, folder in m.get("projections", {}).items():
                        if method not in done:
                            self._status(name, "faith", f"faithfulness of {model}'s {method}")
                            done[method] = build_faith(name, model, method, folder, m["embed"], self.store,
                                                       FaithConfig())

    def issues(self, names: Sequence[str] | None = None) -> None:
        """Per model, the suspected label errors of the sample set (``issues/<key>/``)."""
        from embeddings.label_issues import IssuesConfig, build_issues

        self.embed(names)
        config = IssuesConfig(seed=self.config.seed.seed)
        with self.timings.stage("issues", self._names(names)):
            for name in self._names(names):
                r = self.results[name]
                for model, m in r["models"].items():
                    if "issues" in m:
                        continue
                    self._status(name, "issues", f"suspected label errors seen by {model}")
                    with ticking(self.config.progress, f"  issues {name} {model} cross-validation") as step:
                        m["issues"] = build_issues(name, model, m["spec"].kind, m["embed"], r["samples"],
                                                   self.store, config,
                                                   progress=_with_status(step, self._status, name, model))

    def dynamics(self, names: Sequence[str] | None = None) -> None:
        """Aligned per-epoch frames for the training-dynamics view (models trained with snapshots)."""
        from embeddings.dynamics import build_dynamics

        self.train(names)
        config = self.config.dynamics
        with self.timings.stage("dynamics", self._names(names)):
            for name in self._names(names):
                for m in self.results[name]["models"].values():
                    if "dynamics" in m:
                        continue
                    if not m["spec"].trained:
                        m["dynamics"] = None
                        continue
                    self._status(name, "dynamics", f"{m['spec'].name}: aligning per-epoch frames")
                    m["dynamics"] = build_dynamics(name, m["model"], m["model"].name, config, self.store,
                                                   bar_updater(self.config.progress,
                                                                f"dynamics {name} {m['spec'].name}"))

    def report(self, names: Sequence[str] | None = None) -> Path:
        from embeddings.report import combine, dataset_part

        self.project(names)
        self.faith(names)
        self.issues(names)
        self.dynamics(names)
        with self.timings.stage("report", self._names(names)):
            for name in self._names(names):
                r, info = self.results[name], facts.get(name)
                if "report" not in r:
                    self._status(name, "report", "separability metrics")
                    models = {m: dict(title=e["spec"].title, kind=e["spec"].kind, model_dir=e["model"],
                                      embed_dir=e["embed"], projections=e.get("projections", {}),
                                      dynamics_dir=e.get("dynamics"), issues_dir=e.get("issues"),
                                      faith=e.get("faithfulness", {})) for m, e in r["models"].items()}
                    r["report"] = dataset_part(name, info.title, list(info.class_names), r["samples"], models,
                                               self.store, self.config.report,
                                               progress=bar_updater(self.config.progress, f"report {name}"))
            self.report_path = combine({n: self.results[n]["report"] for n in self._names(names)},
                                       self.store, self.config.report.k)
        return self.report_path

    def publish(self, names: Sequence[str] | None = None) -> Path:
        """Point ``current.json`` at the finished datasets' artifacts (atomically), for the explorer."""
        from embeddings.report import combine

        rel = self.store.relative
        # the run's settings, so `verify --repair` can rebuild exactly what this view shows
        run = self.config.settable(("data", "seed", "models", "train", "embed", "project", "dynamics", "report"))
        run["data"].pop("data_dir", None)
        run["models"]["model"] = [str(Path(p).expanduser().resolve()) for p in run["models"]["model"]]
        datasets = {}
        for name in self._names(names):
            r = self.results[name]
            own = dict(run, import_folder=rel(self.imported[name])) if name in self.imported else run
            models = {}
            for model, m in r["models"].items():
                models[model] = {"title": m["spec"].title, "kind": m["spec"].kind, "model": rel(m["model"]),
                                 "embed": rel(m["embed"]),
                                 "projections": {p: rel(f) for p, f in m.get("projections", {}).items()},
                                 "projections3d": {p: rel(f) for p, f in m.get("projections3d", {}).items()},
                                 "dynamics": rel(m["dynamics"]) if m.get("dynamics") else None}
                if m.get("issues"):
                    models[model]["issues"] = rel(m["issues"])
                if m.get("faithfulness"):
                    models[model]["faithfulness"] = {p: rel(f) for p, f in m["faithfulness"].items()}
            datasets[name] = {
                **facts.get(name).to_json(),
                "run": own,
                "sample_set": self.config.embed.sample_set,
                "n": len(self.store.load_array(Path(r["samples"]) / "labels.npy", mmap=True)),
                "samples": rel(r["samples"]),
                "default_model": PREFERRED_MODEL if PREFERRED_MODEL in models else next(iter(models)),
                "models": models,
            }
            self._status(name, "ready")
        parts = {n: self.results[n]["report"] for n in datasets}
        kept, kept_parts = self._still_shown(set(datasets))
        order = [*kept, *[n for n in datasets if n not in kept]]  # where the page listed them, new ones last
        datasets = {n: datasets.get(n) or kept[n] for n in order}
        parts = {n: parts.get(n) or kept_parts[n] for n in order}
        report = combine(parts, self.store, self.config.report.k)
        self.store.write_current({"datasets": datasets, "report": rel(report), "run": run})
        return self.store.root / "current.json"

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

    def run_all(self, on_first_ready: Callable[[], None] | None = None) -> Path:
        """Every stage, dataset by dataset; ``on_first_ready`` runs once the first one is published."""
        self.fetch()
        self.check_models()
        for name in self.names:
            self._status(name, "waiting")
        done: list[str] = []
        for name in self.names:
            self.report([name])
            done.append(name)
            self.publish(done)
            if on_first_ready and len(done) == 1 and len(self.names) > 1:
                on_first_ready()
        self.report_path = self.report()
        current = self.publish()
        (self.store.root / PROGRESS_FILE).unlink(missing_ok=True)
        return current


def _with_status(step: Callable[[int, int], None] | None, status: Callable, name: str,
                 model: str) -> Callable[[int, int], None]:
    """A (done, total) callback that also tells a running explorer how far a long step got."""
    def report(done: int, total: int) -> None:
        status(name, "issues", f"suspected label errors seen by {model}: fold {min(done + 1, total)} of {total}")
        if step:
            step(done, total)

    return report

"""What each stage of ``pipeline/stages.py`` computes: one ``stage_<name>`` method per stage.

Each method takes the datasets to work on (``None``: all, in the run's priority order), walks
their missing (dataset, model, layout) tasks and calls the plain function of ``training/`` or
``embeddings/`` that builds one folder. The runner (:meth:`pipeline.run.Pipeline.run`) calls
them in the graph's order, so none of them calls another stage; a step of the queue
(``pipeline/schedule.py``) narrows them to its models, methods and dimensions (``_covers``).
"""
from __future__ import annotations

import logging
from typing import Callable, Sequence

from pipeline.progress import bar_updater, ticking
from pipeline.results import ModelRun
from training import datasets as facts

log = logging.getLogger(__name__)


class StageTasks:
    """The stages' methods of :class:`~pipeline.run.Pipeline` (its state: ``results``, ``store``, ``config``)."""

    _scope = None  # the schedule.Step being run (None: everything the stage has to do)

    def _covers(self, model: str, method: str | None = None, dims: int = 2) -> bool:
        return self._scope is None or self._scope.covers(model, method, dims)

    def stage_fetch(self, names: Sequence[str] | None = None) -> None:
        for name in self._names(names):
            if name in self._arrays:
                continue
            folder = self.imported.get(name)  # a user's dataset: its import folder; a built-in: its pinned sources
            _, self._arrays[name] = facts.open_dataset(name, self.data_dir, self.store, folder)
            log.info("%s: %s %s", name, "your data, from" if folder else "data ready in",
                     folder or self.data_dir / f"{name}.npz")

    def stage_train(self, names: Sequence[str] | None = None) -> None:
        from training import kinds
        from training.ladder import fit

        self.check_models()
        for name in self._names(names):
            done = self.results[name].models
            for spec in self.models(name):
                if spec.name in done or not self._covers(spec.name):
                    continue
                kind = kinds.get(spec.kind)
                self._status(name, "train", f"{spec.name}: {kind.fit_words(spec)}")
                step = (bar_updater(self.config.progress, f"  {name} {spec.name} {kind.fit_bar}")
                        if kind.fit_bar else None)
                folder = fit(spec, self._learned(name), self.store, progress=self.config.progress, step=step,
                             on_epoch=self._epoch_watcher(name, spec))
                self._epochs.pop(name, None)
                self._fit_left.pop((name, spec.name), None)
                done[spec.name] = ModelRun(spec=spec, model=folder)

    def _learned(self, name: str) -> dict:
        """The arrays a model learns from: the training labels corrected by the cache's log, where it has any
        (``pipeline/corrections.py``; the samples the views show keep the dataset's own)."""
        from pipeline.corrections import fixed_training

        return fixed_training(self.store, name, self._arrays[name])[0]

    def _epoch_watcher(self, name: str, spec) -> Callable[[dict], None]:
        """Each finished epoch of ``spec``'s training, told to a running explorer (``progress.json``'s ``epochs``)."""
        def watch(record: dict) -> None:
            run = self._epochs.setdefault(name, {"model": spec.name, "title": spec.title, "history": []})
            run.update(epoch=record["epoch"], of=record["of"])
            run["history"].append(record)
            # the fit's remaining time from its epochs so far: the coming views' times follow it
            seconds = [r.get("seconds", 0.0) for r in run["history"]]
            self._fit_left[(name, spec.name)] = sum(seconds) / len(seconds) * (record["of"] - record["epoch"])
            self._tell_coming(self._queue)
            acc = record.get("val_accuracy")
            self._status(name, "train", f"{spec.name}: epoch {record['epoch']} of {record['of']}"
                         + (f", test accuracy {acc:.4f}" if acc is not None else ""))
        return watch

    def stage_embed(self, names: Sequence[str] | None = None) -> None:
        from embeddings.extract import embed, samples

        for name in self._names(names):
            r = self.results[name]
            if r.samples is None:
                r.samples = samples(name, self._arrays[name], self.config.embed, self.store,
                                    upstream=facts.get(name).upstream)
            for m in r.models.values():
                if m.embed is not None or not self._covers(m.spec.name):
                    continue
                self._status(name, "embed", m.spec.name)
                with ticking(self.config.progress, f"  {name} {m.spec.name}: predictions, k-NN graph") as step:
                    m.embed = embed(name, m.spec, m.model, m.model.name, r.samples, self._learned(name),
                                    self.config.embed, self.store, progress=step)

    def stage_project(self, names: Sequence[str] | None = None) -> None:
        from tqdm.auto import tqdm

        from embeddings.project import project

        cfg, progress = self.config.project, self.config.progress
        # 2-D layouts of every model before any 3-D one: the explorer's views need them first
        tasks = [(n, model, p, d) for d in (2, 3) for n in self._names(names)
                 for model, m in self.results[n].models.items()
                 for p in cfg.methods if d in cfg.dims_of(p) and p not in m.layouts(d) and self._covers(model, p, d)]
        if not tasks:
            return
        bar = tqdm(tasks, desc="project", unit="layout", disable=not progress, dynamic_ncols=True)
        for name, model, method, dims in bar:
            what = method if dims == 2 else f"3-D {method}"
            bar.set_postfix_str(f"{name} {model} {what}")
            self._status(name, "project", f"{what} of {model}")
            r = self.results[name]
            m = r.models[model]
            with ticking(progress, f"  {what} {model}") as step:
                m.layouts(dims)[method] = project(name, model, m.spec.kind, m.embed, r.samples, method, cfg,
                                                  self.store, progress=step, dims=dims)
        bar.close()

    def stage_faith(self, names: Sequence[str] | None = None) -> None:
        """Per layout, the share of each point's high-D neighbours it keeps (``faith/<key>/``)."""
        from embeddings.faithfulness import build_faith

        for name in self._names(names):
            for model, m in self.results[name].models.items():
                for method, folder in m.projections.items():
                    if method not in m.faithfulness:
                        self._status(name, "faith", f"faithfulness of {model}'s {method}")
                        m.faithfulness[method] = build_faith(name, model, method, folder, m.embed, self.store,
                                                             self.config.faith)

    def stage_issues(self, names: Sequence[str] | None = None) -> None:
        """Per model, the suspected label errors of the sample set (``issues/<key>/``)."""
        from embeddings.label_issues import build_issues

        for name in self._names(names):
            r = self.results[name]
            for model, m in r.models.items():
                if m.issues is not None:
                    continue
                self._status(name, "issues", f"suspected label errors seen by {model}")
                with ticking(self.config.progress, f"  issues {name} {model} cross-validation") as step:
                    m.issues = build_issues(name, model, m.spec.kind, m.embed, r.samples, self.store,
                                            self.config.issues, progress=with_status(step, self._status, name, model))

    def stage_duplicates(self, names: Sequence[str] | None = None) -> None:
        """Per dataset, near-duplicate images found from every model's k-NN graph (``duplicates/<key>/``)."""
        from embeddings.duplicates import build_duplicates
        from training import kinds

        for name in self._names(names):
            r = self.results[name]
            # after every model's graph: a step narrowed to some models (a layout) leaves it for later
            if r.duplicates is not None or r.samples is None or (self._scope and self._scope.models is not None):
                continue
            embeds = {model: (m.embed, kinds.get(m.spec.kind).pixel_space) for model, m in r.models.items()
                      if m.embed is not None}
            if not embeds:
                continue
            self._status(name, "duplicates", "near-copies within and across the splits")
            arrays = self._arrays[name]
            train = (arrays["x_train"], arrays["y_train"]) if len(arrays.get("x_train", ())) else None
            r.duplicates = build_duplicates(name, r.samples, embeds, self.store, self.config.duplicates, train=train,
                                            n_train=len(arrays.get("x_train", ())))

    def stage_dynamics(self, names: Sequence[str] | None = None) -> None:
        """Aligned per-epoch frames for the training-dynamics view (models trained with snapshots)."""
        from embeddings.dynamics import build_dynamics
        from training import kinds

        for name in self._names(names):
            for m in self.results[name].models.values():
                if m.dynamics_done or not self._covers(m.spec.name):
                    continue
                if kinds.get(m.spec.kind).snapshots:
                    self._status(name, "dynamics", f"{m.spec.name}: aligning per-epoch frames")
                    m.dynamics = build_dynamics(name, m.model, m.model.name, self.config.dynamics, self.store,
                                                bar_updater(self.config.progress, f"dynamics {name} {m.spec.name}"))
                m.dynamics_done = True

    def stage_layers(self, names: Sequence[str] | None = None) -> None:
        """Each network's layers from the pixels to the logits: frames and separability (``layers/<key>/``)."""
        from embeddings.layers import build_layers

        for name in self._names(names):
            r = self.results[name]
            for m in r.models.values():
                if m.layers_done or not self._covers(m.spec.name):
                    continue
                self._status(name, "layers", f"{m.spec.name}: layer by layer")
                m.layers = build_layers(name, m.spec, m.model, m.model.name, r.samples, self.config.layers, self.store,
                                        bar_updater(self.config.progress, f"layers {name} {m.spec.name}"))
                m.layers_done = True

    def stage_report(self, names: Sequence[str] | None = None) -> None:
        """Each dataset's part of the separability report, then the report of all datasets given."""
        from embeddings.report import combine, dataset_part
        from pipeline.corrections import report_part

        for name in self._names(names):
            r, info = self.results[name], facts.get(name)
            if r.report is None:
                self._status(name, "report", "separability metrics")
                models = {model: m.report_input() for model, m in r.models.items()}
                r.report = dataset_part(name, info.title, list(info.class_names), r.samples, models,
                                        self.store, self.config.report,
                                        progress=bar_updater(self.config.progress, f"report {name}"),
                                        duplicates_dir=r.duplicates)
                fixes = report_part(self.store, name, r.samples, {k: m.embed for k, m in r.models.items()})
                if fixes:
                    r.report["corrections"] = fixes
        self.report_path = combine({n: self.results[n].report for n in self._names(names)},
                                   self.store, self.config.report.k)

    # the stages a command runs by name (each after the ones it needs)
    def fetch(self, names: Sequence[str] | None = None) -> None:
        self.run("fetch", names)

    def train(self, names: Sequence[str] | None = None) -> None:
        self.run("train", names)

    def embed(self, names: Sequence[str] | None = None) -> None:
        self.run("embed", names)

    def project(self, names: Sequence[str] | None = None) -> None:
        self.run("project", names)


def with_status(step: Callable[[int, int], None] | None, status: Callable, name: str,
                model: str) -> Callable[[int, int], None]:
    """A (done, total) callback that also tells a running explorer how far a long step got."""
    def report(done: int, total: int) -> None:
        status(name, "issues", f"suspected label errors seen by {model}: fold {min(done + 1, total)} of {total}")
        if step:
            step(done, total)

    return report

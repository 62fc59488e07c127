"""The stages in order, each cached: fetch -> train -> embed -> project -> dynamics -> report.

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
from pipeline.config import RunConfig

log = logging.getLogger(__name__)

PROGRESS_FILE = "progress.json"


@dataclasses.dataclass
class Timings:
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


class Pipeline:
    """Runs the stages for the chosen datasets, reusing every cached artifact it can.

    Each stage method takes the dataset names to work on (default: all) and runs the
    stages before it first; all of them are cheap when their artifacts are cached.
    Each stage reads its own section of the :class:`~pipeline.config.RunConfig`.
    """

    def __init__(self, config: RunConfig):
        self.config = config
        self.store = ArtifactStore(config.where.cache_dir)
        self.data_dir = Path(config.data.data_dir) if config.data.data_dir else self.store.root / "data"
        self.timings = Timings()
        self._arrays: dict[str, dict] = {}
        self.results: dict[str, dict] = {name: {} for name in config.datasets}
        self.report_path: Path | None = None

    def _names(self, names: Sequence[str] | None) -> tuple[str, ...]:
        return tuple(names) if names is not None else self.config.datasets

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

        with self.timings.stage("fetch"):
            for name in self._names(names):
                if name not in self._arrays:
                    self._arrays[name] = datasets.load(name, self.data_dir)
                    log.info("%s: data ready in %s", name, self.data_dir / f"{name}.npz")

    def train(self, names: Sequence[str] | None = None) -> None:
        from training.train import train

        self.fetch(names)
        with self.timings.stage("train"):
            for name in self._names(names):
                if "model" in self.results[name]:
                    continue
                cfg = self.config.train_config(name)
                self._status(name, "train", f"{cfg.epochs} epochs")
                folder = train(cfg, self._arrays[name], self.store, progress=self.config.progress)
                self.results[name].update(model=folder, model_key=folder.name)  # a folder's name is its key

    def embed(self, names: Sequence[str] | None = None) -> None:
        from embeddings.extract import embed

        self.train(names)
        with self.timings.stage("embed"):
            for name in self._names(names):
                r = self.results[name]
                if "embed" in r:
                    continue
                self._status(name, "embed")
                folder, key = embed(name, r["model"], r["model_key"], self._arrays[name],
                                    self.config.embed, self.store)
                r.update(embed=folder, embed_key=key)

    def project(self, names: Sequence[str] | None = None) -> None:
        from tqdm.auto import tqdm

        from embeddings.project import project

        self.embed(names)
        cfg, progress = self.config.project, self.config.progress
        tasks = [(n, s, m) for n in self._names(names) for s in cfg.spaces for m in cfg.methods
                 if m not in self.results[n].get("projections", {}).get(s, {})]
        if not tasks:
            return
        with self.timings.stage("project"):
            bar = tqdm(tasks, desc="project", unit="layout", disable=not progress, dynamic_ncols=True)
            for name, space, method in bar:
                bar.set_postfix_str(f"{name} {space} {method}")
                self._status(name, "project", f"{method} of {space}")
                r = self.results[name]
                folder = project(name, r["embed"], r["embed_key"], space, method, cfg,
                                 self.store, progress=_bar_updater(progress, f"  {method} {space}"))
                r.setdefault("projections", {}).setdefault(space, {})[method] = folder
            bar.close()

    def dynamics(self, names: Sequence[str] | None = None) -> None:
        """Aligned per-epoch frames for the training-dynamics view (models trained with snapshots)."""
        from embeddings.dynamics import build_dynamics

        self.train(names)
        config = self.config.dynamics
        with self.timings.stage("dynamics"):
            for name in self._names(names):
                r = self.results[name]
                if "dynamics" in r:
                    continue
                self._status(name, "dynamics", "aligning per-epoch frames")
                r["dynamics"] = build_dynamics(name, r["model"], r["model_key"], config, self.store,
                                               _bar_updater(self.config.progress, f"dynamics {name}"))

    def report(self, names: Sequence[str] | None = None) -> Path:
        from embeddings.report import combine, dataset_part

        self.project(names)
        self.dynamics(names)
        parts = {}
        with self.timings.stage("report"):
            for name in self._names(names):
                r, info = self.results[name], facts.get(name)
                if "report" not in r:
                    self._status(name, "report", "separability metrics")
                    upstream = [r["embed_key"], *sorted(p.name for s in r.get("projections", {}).values()
                                                        for p in s.values())]
                    if r.get("dynamics"):
                        upstream.append(Path(r["dynamics"]).name)
                    r["report"] = dataset_part(name, dict(
                        title=info.title, class_names=list(info.class_names), model_dir=r["model"],
                        embed_dir=r["embed"], projections=r.get("projections", {}),
                        dynamics_dir=r.get("dynamics")), self.store, upstream, self.config.report)
                parts[name] = r["report"]
            self.report_path = combine(parts, self.store, self.config.report.k)
        return self.report_path

    def publish(self, names: Sequence[str] | None = None) -> Path:
        """Point ``current.json`` at the finished datasets' artifacts (atomically), for the explorer."""
        from embeddings.report import combine

        rel = self.store.relative
        datasets = {}
        for name in self._names(names):
            r = self.results[name]
            datasets[name] = {
                **facts.get(name).to_json(),
                "sample_set": self.config.embed.sample_set,
                "n": len(self.store.load_array(Path(r["embed"]) / "labels.npy", mmap=True)),
                "model": rel(r["model"]), "embed": rel(r["embed"]),
                "projections": {s: {m: rel(p) for m, p in ms.items()} for s, ms in r.get("projections", {}).items()},
                "dynamics": rel(r["dynamics"]) if r.get("dynamics") else None,
            }
            self._status(name, "ready")
        report = combine({n: self.results[n]["report"] for n in datasets}, self.store, self.config.report.k)
        # the run's settings, so `verify --repair` can rebuild exactly what this view shows
        run = self.config.settable(("data", "seed", "train", "embed", "project", "dynamics", "report"))
        run["data"].pop("data_dir", None)
        self.store.write_current({"datasets": datasets, "report": rel(report), "run": run})
        return self.store.root / "current.json"

    def run_all(self, on_first_ready: Callable[[], None] | None = None) -> Path:
        """Every stage, dataset by dataset; ``on_first_ready`` runs once the first one is published."""
        self.fetch()
        for name in self.config.datasets:
            self._status(name, "waiting")
        done: list[str] = []
        for name in self.config.datasets:
            self.report([name])
            done.append(name)
            self.publish(done)
            if on_first_ready and len(done) == 1 and len(self.config.datasets) > 1:
                on_first_ready()
        self.report_path = self.report()
        current = self.publish()
        (self.store.root / PROGRESS_FILE).unlink(missing_ok=True)
        return current


def _bar_updater(enabled: bool, desc: str) -> Callable[[int, int], None] | None:
    """A (done, total) callback drawing a transient progress bar."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    bar = tqdm(total=1, desc=desc, leave=False, dynamic_ncols=True)

    def step(done: int, total: int) -> None:
        bar.total, bar.n = total, done
        bar.refresh()
        if done >= total:
            bar.close()

    return step

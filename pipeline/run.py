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

from pipeline.cache import ArtifactStore, load_array, write_json_atomic

log = logging.getLogger(__name__)

DATASET_NAMES = ("mnist", "fashion-mnist")
METHOD_NAMES = ("pca", "tsne", "umap")
SPACE_NAMES = ("cnn", "pixels")
PROGRESS_FILE = "progress.json"


@dataclasses.dataclass
class RunOptions:
    """Everything the command line can set; each stage takes its own part."""

    datasets: tuple[str, ...] = DATASET_NAMES
    cache_dir: Path | None = None
    data_dir: Path | None = None          # default: <cache>/data
    profile: str = "default"
    epochs: int | None = None
    seed: int = 0
    train_subset: int | None = None
    snapshot_samples: int | None = None
    sample_set: str = "test"
    embed_subset: int | None = None
    methods: tuple[str, ...] = METHOD_NAMES
    spaces: tuple[str, ...] = SPACE_NAMES
    n_components: int = 2
    perplexity: float = 30.0
    tsne_n_iter: int = 500
    umap_n_neighbors: int = 15
    umap_min_dist: float = 0.1
    progress: bool = True


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
    """

    def __init__(self, options: RunOptions):
        from embeddings.extract import EmbedConfig
        from embeddings.project import ProjectConfig
        from pipeline.errors import ConfigError
        from training.config import make_config
        from training.datasets import get_info

        self.options = o = options
        for name in o.datasets:
            get_info(name)
        for m in o.methods:
            if m not in METHOD_NAMES:
                raise ConfigError(f"unknown projection {m!r}; choose from {', '.join(METHOD_NAMES)}")
        for s in o.spaces:
            if s not in SPACE_NAMES:
                raise ConfigError(f"unknown embedding space {s!r}; choose from {', '.join(SPACE_NAMES)}")
        self.store = ArtifactStore(o.cache_dir)
        self.data_dir = Path(o.data_dir) if o.data_dir else self.store.root / "data"
        self.train_configs = {name: make_config(name, o.profile, epochs=o.epochs, seed=o.seed,
                                                train_subset=o.train_subset,
                                                snapshot_samples=o.snapshot_samples)
                              for name in o.datasets}
        self.embed_config = EmbedConfig(sample_set=o.sample_set, subset=o.embed_subset, seed=o.seed)
        self.project_config = ProjectConfig(n_components=o.n_components, seed=o.seed,
                                            tsne_perplexity=o.perplexity, tsne_n_iter=o.tsne_n_iter,
                                            umap_n_neighbors=o.umap_n_neighbors, umap_min_dist=o.umap_min_dist)
        self.timings = Timings()
        self._arrays: dict[str, dict] = {}
        self.results: dict[str, dict] = {name: {} for name in o.datasets}
        self.report_path: Path | None = None

    def _names(self, names: Sequence[str] | None) -> tuple[str, ...]:
        return tuple(names) if names is not None else self.options.datasets

    def _status(self, name: str, stage: str, detail: str = "") -> None:
        """Tell a running explorer what is being prepared (``<cache>/progress.json``)."""
        status = getattr(self, "_progress", {})
        status[name] = {"stage": stage, "detail": detail}
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
        from training.train import model_key, train

        self.fetch(names)
        with self.timings.stage("train"):
            for name in self._names(names):
                if "model" in self.results[name]:
                    continue
                cfg = self.train_configs[name]
                self._status(name, "train", f"{cfg.epochs} epochs")
                folder = train(cfg, self._arrays[name], self.store, progress=self.options.progress)
                self.results[name].update(model=folder, model_key=model_key(cfg))

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
                                    self.embed_config, self.store)
                r.update(embed=folder, embed_key=key)

    def project(self, names: Sequence[str] | None = None) -> None:
        from tqdm.auto import tqdm

        from embeddings.project import project

        self.embed(names)
        o = self.options
        tasks = [(n, s, m) for n in self._names(names) for s in o.spaces for m in o.methods
                 if m not in self.results[n].get("projections", {}).get(s, {})]
        if not tasks:
            return
        with self.timings.stage("project"):
            bar = tqdm(tasks, desc="project", unit="layout", disable=not o.progress, dynamic_ncols=True)
            for name, space, method in bar:
                bar.set_postfix_str(f"{name} {space} {method}")
                self._status(name, "project", f"{method} of {space}")
                r = self.results[name]
                folder = project(name, r["embed"], r["embed_key"], space, method, self.project_config,
                                 self.store, progress=_bar_updater(o.progress, f"  {method} {space}"))
                r.setdefault("projections", {}).setdefault(space, {})[method] = folder
            bar.close()

    def dynamics(self, names: Sequence[str] | None = None) -> None:
        """Aligned per-epoch frames for the training-dynamics view (models trained with snapshots)."""
        from embeddings.dynamics import DynamicsConfig, build_dynamics

        self.train(names)
        config = DynamicsConfig(seed=self.options.seed)
        with self.timings.stage("dynamics"):
            for name in self._names(names):
                r = self.results[name]
                if "dynamics" in r:
                    continue
                self._status(name, "dynamics", "aligning per-epoch frames")
                r["dynamics"] = build_dynamics(name, r["model"], r["model_key"], config, self.store,
                                               _bar_updater(self.options.progress, f"dynamics {name}"))

    def report(self, names: Sequence[str] | None = None) -> Path:
        from embeddings.report import combine, dataset_part
        from training.datasets import get_info

        self.project(names)
        self.dynamics(names)
        parts = {}
        with self.timings.stage("report"):
            for name in self._names(names):
                r, info = self.results[name], get_info(name)
                if "report" not in r:
                    self._status(name, "report", "separability metrics")
                    upstream = [r["embed_key"], *sorted(p.name for s in r.get("projections", {}).values()
                                                        for p in s.values())]
                    if r.get("dynamics"):
                        upstream.append(Path(r["dynamics"]).name)
                    r["report"] = dataset_part(name, dict(
                        title=info.title, class_names=list(info.class_names), model_dir=r["model"],
                        embed_dir=r["embed"], projections=r.get("projections", {}),
                        dynamics_dir=r.get("dynamics")), self.store, upstream, seed=self.options.seed)
                parts[name] = r["report"]
            self.report_path = combine(parts, self.store)
        return self.report_path

    def publish(self, names: Sequence[str] | None = None) -> Path:
        """Point ``current.json`` at the finished datasets' artifacts (atomically), for the explorer."""
        from embeddings.report import combine
        from training.datasets import get_info

        rel = self.store.relative
        datasets = {}
        for name in self._names(names):
            r, info = self.results[name], get_info(name)
            datasets[name] = {
                "title": info.title, "class_names": list(info.class_names),
                "sample_set": self.embed_config.sample_set,
                "n": len(load_array(Path(r["embed"]) / "labels.npy", mmap=True)),
                "model": rel(r["model"]), "embed": rel(r["embed"]),
                "projections": {s: {m: rel(p) for m, p in ms.items()} for s, ms in r.get("projections", {}).items()},
                "dynamics": rel(r["dynamics"]) if r.get("dynamics") else None,
            }
            self._status(name, "ready")
        report = combine({n: self.results[n]["report"] for n in datasets}, self.store)
        self.store.write_current({"datasets": datasets, "report": rel(report)})
        return self.store.root / "current.json"

    def run_all(self, on_first_ready: Callable[[], None] | None = None) -> Path:
        """Every stage, dataset by dataset; ``on_first_ready`` runs once the first one is published."""
        self.fetch()
        for name in self.options.datasets:
            self._status(name, "waiting")
        done: list[str] = []
        for name in self.options.datasets:
            self.report([name])
            done.append(name)
            self.publish(done)
            if on_first_ready and len(done) == 1 and len(self.options.datasets) > 1:
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

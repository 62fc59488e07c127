"""The stages in order, each cached: fetch -> train -> embed -> project -> report -> current.json."""
from __future__ import annotations

import dataclasses
import logging
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pipeline.cache import ArtifactStore, load_array

log = logging.getLogger(__name__)

DATASET_NAMES = ("mnist", "fashion-mnist")
METHOD_NAMES = ("pca", "tsne", "umap")
SPACE_NAMES = ("cnn", "pixels")


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
    """Runs the stages for the chosen datasets, reusing every cached artifact it can."""

    def __init__(self, options: RunOptions):
        from embeddings.project import ProjectConfig
        from pipeline.errors import ConfigError
        from training.config import make_config
        from training.datasets import get_info
        from embeddings.extract import EmbedConfig

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

    # -- stages -----------------------------------------------------------------------
    def fetch(self) -> None:
        from training import datasets

        with self.timings.stage("fetch"):
            for name in self.options.datasets:
                if name not in self._arrays:
                    self._arrays[name] = datasets.load(name, self.data_dir)
                    log.info("%s: data ready in %s", name, self.data_dir / f"{name}.npz")

    def train(self) -> None:
        from training.train import model_key, train

        self.fetch()
        with self.timings.stage("train"):
            for name in self.options.datasets:
                cfg = self.train_configs[name]
                folder = train(cfg, self._arrays[name], self.store, progress=self.options.progress)
                self.results[name].update(model=folder, model_key=model_key(cfg))

    def embed(self) -> None:
        from embeddings.extract import embed

        self.train()
        with self.timings.stage("embed"):
            for name in self.options.datasets:
                r = self.results[name]
                folder, key = embed(name, r["model"], r["model_key"], self._arrays[name],
                                    self.embed_config, self.store)
                r.update(embed=folder, embed_key=key)

    def project(self) -> None:
        from tqdm.auto import tqdm

        from embeddings.project import project

        self.embed()
        o = self.options
        tasks = [(n, s, m) for n in o.datasets for s in o.spaces for m in o.methods]
        with self.timings.stage("project"):
            bar = tqdm(tasks, desc="project", unit="layout", disable=not o.progress, dynamic_ncols=True)
            for name, space, method in bar:
                bar.set_postfix_str(f"{name} {space} {method}")
                inner = tqdm(total=1, desc=f"  {method} {space}", leave=False, disable=not o.progress)

                def step(done: int, total: int, inner=inner) -> None:
                    inner.total = total
                    inner.n = done
                    inner.refresh()

                r = self.results[name]
                folder = project(name, r["embed"], r["embed_key"], space, method, self.project_config,
                                 self.store, progress=step if o.progress else None)
                inner.close()
                r.setdefault("projections", {}).setdefault(space, {})[method] = folder

    def dynamics(self) -> None:
        """Aligned per-epoch frames for the training-dynamics view (models trained with snapshots)."""
        from tqdm.auto import tqdm

        from embeddings.dynamics import DynamicsConfig, build_dynamics

        self.train()
        config = DynamicsConfig(seed=self.options.seed)
        with self.timings.stage("dynamics"):
            for name in self.options.datasets:
                r = self.results[name]
                bar = tqdm(total=1, desc=f"dynamics {name}", unit="frame", disable=not self.options.progress,
                           leave=False)

                def step(done: int, total: int, bar=bar) -> None:
                    bar.total, bar.n = total, done
                    bar.refresh()

                r["dynamics"] = build_dynamics(name, r["model"], r["model_key"], config, self.store, step)
                bar.close()

    def report(self) -> Path:
        from embeddings.report import build_report
        from training.datasets import get_info

        self.project()
        self.dynamics()
        with self.timings.stage("report"):
            entries, upstream = {}, []
            for name in self.options.datasets:
                r, info = self.results[name], get_info(name)
                entries[name] = dict(title=info.title, class_names=list(info.class_names),
                                     model_dir=r["model"], embed_dir=r["embed"],
                                     projections=r.get("projections", {}), dynamics_dir=r.get("dynamics"))
                upstream += [r["embed_key"]] + sorted(str(p.name) for s in r.get("projections", {}).values()
                                                       for p in s.values())
                if r.get("dynamics"):
                    upstream.append(Path(r["dynamics"]).name)
            path = build_report(entries, self.store, upstream, seed=self.options.seed)
        self.report_path = path
        return path

    def publish(self) -> Path:
        """Point ``current.json`` at this run's artifacts (atomically), for the explorer."""
        from training.datasets import get_info

        rel = self.store.relative
        datasets = {}
        for name in self.options.datasets:
            r, info = self.results[name], get_info(name)
            n = len(load_array(Path(r["embed"]) / "labels.npy", mmap=True))
            datasets[name] = {
                "title": info.title, "class_names": list(info.class_names),
                "sample_set": self.embed_config.sample_set, "n": n,
                "model": rel(r["model"]), "embed": rel(r["embed"]),
                "projections": {s: {m: rel(p) for m, p in ms.items()} for s, ms in r.get("projections", {}).items()},
                "dynamics": rel(r["dynamics"]) if r.get("dynamics") else None,
            }
        current = {"datasets": datasets, "report": rel(self.report_path)}
        self.store.write_current(current)
        return self.store.root / "current.json"

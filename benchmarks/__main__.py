"""``python -m benchmarks``: measure every stage against the tools a user would pick instead.

Writes ``benchmarks/RESULTS.md`` (a markdown table per section with the machine's
description). Sections: ``training``, ``models`` (the ladder's accuracy and time), ``pipeline``,
``live_load`` (50 clients on the explorer for a minute while a cold run computes), ``full`` (``--sample-set all`` on the default run in ``--cold-cache`` if given, else in ``--cache-dir``:
every stage per dataset at 70,000 points; leaves that cache showing it), ``projections`` (t-SNE and UMAP at
70,000 points), ``dynamics`` (alignment of training frames), ``app`` (headless Chromium),
``verify`` (the cost of checking artifacts against their recorded hashes), ``label_issues``
(planted label flips found by the ranking against the model's own doubt, and the faith
stage's cost against t-SNE and UMAP at 70,000 points), ``report`` (the report stage at 70,000 points:
each metric's cost, sampled estimates against exact ones), ``umap`` (ours on the shared graph against
plain umap-learn, each in a fresh process), ``view3d`` (Explore's 3-D view: opening it, its hovers, against
the 2-D page in the same run), ``duplicates`` (the near-duplicate stage at 70,000 points against the shared
k-NN graph build, with the counts found), ``review`` (label suspects reviewed with the keyboard, against the
Label issues tab's load; on a hard-linked copy of the cache).
Needs the default run's cache (``./run.sh --no-serve`` first); the 70k sections embed
all 70,000 Fashion-MNIST images with the cached model.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import time
from pathlib import Path

from benchmarks.common import Row, machine, to_markdown

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SECTIONS = ("training", "models", "pipeline", "live_load", "full", "projections", "dynamics", "app", "verify",
            "label_issues", "report", "umap", "view3d", "imagemap", "semzoom", "faith", "depth", "duplicates", "review")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated subset of {', '.join(SECTIONS)}")
    p.add_argument("--cache-dir", type=Path, default=ROOT / "cache")
    p.add_argument("--quick", action="store_true", help="skip the slow scikit-learn t-SNE reference")
    p.add_argument("--cold-cache", type=Path, default=None,
                   help="pipeline section: make the cold run's cache here (an empty folder) and keep it; "
                        "the full section then runs on it")
    p.add_argument("--faith-n", type=int, default=70_000,
                   help="label_issues section: points of the synthetic faith-stage timing (default 70,000)")
    p.add_argument("--cache-70k", type=Path, default=None,
                   help="app section: a cache of 70,000 points per dataset (./run.sh --sample-set all); "
                        "default: a synthetic one")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")

    from core.store import ArtifactStore

    store = ArtifactStore(args.cache_dir)
    # the verify section writes a synthetic cache of its own; the pipeline section makes its own run
    current = store.read_current() if set(sections) - {"verify", "pipeline", "live_load", "full", "report", "umap",
                                                        "view3d", "semzoom", "duplicates"} else {}
    store_file = args.out.with_suffix(".json")
    saved = json.loads(store_file.read_text()) if store_file.is_file() else {}
    for section in sections:
        t0 = time.perf_counter()
        print(f"== {section}", flush=True)
        new = globals()[f"section_{section}"](store, current, args)
        seconds = time.perf_counter() - t0
        print(to_markdown(new), flush=True)
        print(f"   ({seconds:.0f} s)", flush=True)
        # Each section keeps its latest run, so sections can be rerun one at a time.
        saved[section] = {"rows": [dataclasses.asdict(r) for r in new], "date": time.strftime("%Y-%m-%d %H:%M"),
                          "seconds": round(seconds), "quick": args.quick, "machine": machine()}
        store_file.write_text(json.dumps(saved, indent=1))
        args.out.write_text(render(saved))
    print(f"results written to {args.out}")
    return 0


def render(saved: dict) -> str:
    """RESULTS.md from every section's latest run, in a fixed order."""
    text = ["# Benchmark results", "",
            "Written by `python -m benchmarks` (see the README). Every comparison is a ratio of two things "
            "measured in the same run; absolute times on this shared 2-core machine vary by tens of percent "
            "from run to run.", ""]
    for section in SECTIONS:
        if section not in saved:
            continue
        s = saved[section]
        text += [f"## {section}", "", f"Run {s['date']}, {s['seconds']} s{' (--quick)' if s['quick'] else ''}, "
                 f"on {s['machine']}.", to_markdown([Row(**r) for r in s["rows"]]), ""]
    return "\n".join(text)


def section_training(store, current, args) -> list[Row]:
    """Train both datasets afresh (default profile) in a temporary cache and time every epoch."""
    import shutil
    import statistics
    import tempfile

    from core.store import ArtifactStore, read_json
    from training import datasets
    from training.config import make_config
    from training.train import train

    targets = {"mnist": 0.992, "fashion-mnist": 0.920}
    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    rows = []
    try:
        for name, d in current["datasets"].items():
            arrays = datasets.load(name, store.root / "data", allow_download=False)
            cfg = make_config(name, "default")
            folder = train(cfg, arrays, ArtifactStore(tmp), progress=False)
            hist = read_json(folder / "history.json")
            ips = hist["images_per_second"]
            cum, reached = 0.0, None
            for e, (acc, sec) in enumerate(zip(hist["val_accuracy"], hist["seconds"])):
                cum += sec
                if reached is None and acc >= targets[name]:
                    reached = (e + 1, cum)
            total, final = sum(hist["seconds"]), hist["val_accuracy"][-1]
            section = "training, default profile (trained afresh in this run)"
            rows += [
                Row(section, f"{d['title']}: test accuracy after {cfg.epochs} epochs", f"{final:.4f}",
                    target=f">= {targets[name]}", met=final >= targets[name]),
                Row(section, f"{d['title']}: training time (s)", f"{total:.0f}", target="<= 90", met=total <= 90,
                    note="includes the per-epoch test evaluation and dynamics snapshots"),
                Row(section, f"{d['title']}: images/s, median epoch (min-max)",
                    f"{statistics.median(ips):.0f} ({min(ips):.0f}-{max(ips):.0f})"),
                Row(section, f"{d['title']}: time to reach {targets[name]}",
                    f"epoch {reached[0]}, {reached[1]:.0f} s" if reached else "not reached"),
            ]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def section_models(store, current, args) -> list[Row]:
    from benchmarks.models import bench_models

    return bench_models(store, current)


def section_pipeline(store, current, args) -> list[Row]:
    from benchmarks.pipeline_bench import bench_pipeline

    return bench_pipeline(store, keep=args.cold_cache)


def section_live_load(store, current, args) -> list[Row]:
    from benchmarks.live_load import bench_live_load

    return bench_live_load(store)


def _fashion_70k(store):
    """CNN embeddings of all 70,000 Fashion-MNIST images, embedded with the cached default model."""
    import numpy as np

    from embeddings.extract import EmbedConfig
    from pipeline.config import DataOptions, RunConfig, WhereOptions
    from pipeline.run import Pipeline
    from training.ladder import ModelOptions

    pipe = Pipeline(RunConfig(where=WhereOptions(cache_dir=store.root),
                              data=DataOptions(dataset=("fashion-mnist",), quiet=True),
                              models=ModelOptions(models=("cnn",)), embed=EmbedConfig(sample_set="all")))
    pipe.embed()
    r = pipe.results["fashion-mnist"]
    return (np.load(r.models["cnn"].embed / "space.npy"),
            np.load(r.samples / "labels.npy").astype(np.int64))


def section_full(store, current, args) -> list[Row]:
    from benchmarks.pipeline_bench import bench_full

    return bench_full(args.cold_cache or store.root, store.root / "data")


def section_projections(store, current, args) -> list[Row]:
    from benchmarks.projections import bench_shared_graph, bench_tsne, bench_umap

    X, labels = _fashion_70k(store)
    graph, seconds, rows = bench_shared_graph(X)
    rows += bench_tsne(X, labels, graph, seconds, run_sklearn=not args.quick)
    rows += bench_umap(X, labels, graph, seconds)
    return rows


def section_dynamics(store, current, args) -> list[Row]:
    from benchmarks.dynamics import bench_alignments

    dirs = {d["title"]: store.resolve(d["models"]["cnn"]["model"]) / "dynamics" for d in current["datasets"].values()
            if "cnn" in d["models"]}
    return bench_alignments({k: v for k, v in dirs.items() if (v / "embeddings.npy").is_file()})


def section_verify(store, current, args) -> list[Row]:
    from benchmarks.verify import bench_verify

    return bench_verify()


def section_label_issues(store, current, args) -> list[Row]:
    from benchmarks.label_issues import bench_label_issues

    return bench_label_issues(store, current, faith_n=args.faith_n)


def section_report(store, current, args) -> list[Row]:
    from benchmarks.report_bench import bench_report

    return bench_report(store.root / "data")


def section_umap(store, current, args) -> list[Row]:
    from benchmarks.umap_bench import bench_umap_processes

    return bench_umap_processes(store.root / "data")


def section_app(store, current, args) -> list[Row]:
    from benchmarks.app import bench_app

    return bench_app(store, cache_70k=args.cache_70k)


def section_view3d(store, current, args) -> list[Row]:
    from benchmarks.view3d_bench import bench_view3d

    # a synthetic 70,000-point cache (its CNN has a 3-D UMAP), then the real cache where it has 3-D layouts
    rows = bench_view3d(None, 70_000)
    if (store.root / "current.json").is_file():
        first = next(iter(store.read_current()["datasets"].values()))
        if "umap" in (first["models"].get("cnn", {}).get("projections3d") or {}):
            rows += bench_view3d(store.root)
    return rows


def section_imagemap(store, current, args) -> list[Row]:
    from benchmarks.imagemap import bench_imagemap, bench_layers

    # sub-clusters and atypicality also at 70,000 images where such a cache is given
    return bench_imagemap(store.root) + bench_layers(store.root) + (bench_layers(args.cache_70k) if args.cache_70k else [])


def section_semzoom(store, current, args) -> list[Row]:
    from benchmarks.semzoom_bench import bench_semzoom

    return bench_semzoom(args.cache_70k)  # a real 70,000-point cache where given, else a synthetic one


def section_faith(store, current, args) -> list[Row]:
    from benchmarks.faith_planted import bench_planted

    return bench_planted(store.root)


def section_depth(store, current, args) -> list[Row]:
    from benchmarks.depth_bench import bench_depth

    return bench_depth(store.root)


def section_review(store, current, args) -> list[Row]:
    from benchmarks.review_bench import bench_review

    return bench_review(store.root)  # the default run's cache, copied: the review writes a corrections log


def section_duplicates(store, current, args) -> list[Row]:
    from benchmarks.duplicates_bench import bench_duplicates

    return bench_duplicates(args.cache_70k or store.root)  # the stage at 70,000 points: a --sample-set all cache


if __name__ == "__main__":
    sys.exit(main())

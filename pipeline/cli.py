"""Command line: ``python -m pipeline {fetch,train,embed,project,report,serve,all}``.

Every stage runs the ones before it, and each reuses what is already cached, so
``all`` on a warm cache goes straight to serving the explorer.
"""
from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from pathlib import Path

from pipeline.errors import ProjectError
from pipeline.run import DATASET_NAMES, METHOD_NAMES, SPACE_NAMES, Pipeline, RunOptions

log = logging.getLogger("pipeline")

STAGES = ("fetch", "train", "embed", "project", "report", "all")


def _csv(choices: tuple[str, ...]):
    def parse(text: str) -> tuple[str, ...]:
        items = tuple(t.strip() for t in text.split(",") if t.strip())
        bad = [t for t in items if t not in choices]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"{text!r}: choose from {', '.join(choices)} (comma-separated)")
        return items
    return parse


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("what and where")
    g.add_argument("--dataset", dest="datasets", type=_csv(DATASET_NAMES), default=DATASET_NAMES,
                   help="comma-separated: mnist,fashion-mnist (default: both)")
    g.add_argument("--cache-dir", type=Path, default=None,
                   help="artifact cache (default: ./cache or $MNIST_EXPLORER_CACHE)")
    g.add_argument("--data-dir", type=Path, default=None, help="local data folder (default: <cache>/data)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    t = common.add_argument_group("training")
    t.add_argument("--profile", choices=("default", "strong"), default="default",
                   help="default: ~3 min per dataset on 2 cores; strong: augmented, deeper, longer")
    t.add_argument("--epochs", type=int, default=None, help="override the profile's epochs")
    t.add_argument("--train-subset", type=int, default=None, help="train on the first N images only")
    t.add_argument("--snapshot-samples", type=int, default=None,
                   help="test images embedded after every epoch for the training-dynamics view (0 = off)")
    e = common.add_argument_group("embeddings and projections")
    e.add_argument("--sample-set", choices=("test", "all"), default="test",
                   help="project the 10,000 test images (default) or all 70,000")
    e.add_argument("--embed-subset", type=int, default=None, help="only the first N samples of the set")
    e.add_argument("--methods", type=_csv(METHOD_NAMES), default=METHOD_NAMES, help="pca,tsne,umap")
    e.add_argument("--spaces", type=_csv(SPACE_NAMES), default=SPACE_NAMES, help="cnn,pixels")
    e.add_argument("--dims", dest="n_components", type=int, choices=(2, 3), default=2)
    e.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity")
    e.add_argument("--tsne-iter", dest="tsne_n_iter", type=int, default=500, help="t-SNE iterations after exaggeration")
    e.add_argument("--umap-neighbors", dest="umap_n_neighbors", type=int, default=15)
    e.add_argument("--umap-min-dist", type=float, default=0.1)
    s = common.add_argument_group("explorer")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, default=8050)
    s.add_argument("--debug", action="store_true", help="Dash debug mode (never on a shared network)")

    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    helps = {"fetch": "download and verify the datasets", "train": "train the CNNs",
             "embed": "extract embeddings and k-NN graphs", "project": "PCA, t-SNE and UMAP layouts",
             "report": "separability report (JSON + table)", "serve": "serve the explorer on the cache",
             "all": "every stage, then serve the explorer"}
    for name, text in helps.items():
        p = sub.add_parser(name, parents=[common], help=text, description=text)
        if name == "all":
            p.add_argument("--no-serve", action="store_true", help="stop after the report")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("tensorflow", "absl", "h5py", "numba", "matplotlib", "PIL", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # openTSNE warns that precomputed affinities make it ignore perplexity: intended here.
    logging.getLogger("openTSNE").setLevel(logging.ERROR)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF prints version-skew noise at ERROR level
    try:
        return _dispatch(args)
    except ProjectError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; completed artifacts are kept, partial ones are discarded", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "serve":
        from explorer.server import serve

        serve(cache_root=args.cache_dir, host=args.host, port=args.port, debug=args.debug)
        return 0
    fields = {f for f in RunOptions.__dataclass_fields__}
    options = RunOptions(**{k: v for k, v in vars(args).items() if k in fields}, progress=not args.quiet)
    pipe = Pipeline(options)
    if args.command != "all":
        stage = "report" if args.command == "report" else args.command
        getattr(pipe, stage)()
        _summary(pipe, stage)
        return 0
    server = _ExplorerProcess(args) if not args.no_serve else None
    try:
        current = pipe.run_all(on_first_ready=server.start if server else None)
        _summary(pipe, "report")
        print(f"explorer data: {current}", flush=True)
        if server:
            server.start()
            return server.wait()
        return 0
    finally:
        if server:
            server.stop()


class _ExplorerProcess:
    """The explorer in a child process, so it serves finished datasets while the rest are prepared."""

    def __init__(self, args: argparse.Namespace):
        self.cmd = [sys.executable, "-m", "explorer", "--host", args.host, "--port", str(args.port)]
        if args.cache_dir:
            self.cmd += ["--cache-dir", str(args.cache_dir)]
        if args.debug:
            self.cmd.append("--debug")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        if self.proc is None:
            self.proc = subprocess.Popen(self.cmd)

    def wait(self) -> int:
        assert self.proc is not None
        return self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _summary(pipe: Pipeline, stage: str) -> None:
    store = pipe.store
    lines = [f"\nresults in {store.root}:"]
    for name, r in pipe.results.items():
        for what in ("model", "embed"):
            if what in r:
                lines.append(f"  {name:14s} {what:7s} {r[what]}")
        if "model" in r:
            import json

            acc = json.loads((Path(r["model"]) / "metrics.json").read_text())["test_accuracy"]
            lines.append(f"  {name:14s} test accuracy {acc:.4f}")
        for space, ms in r.get("projections", {}).items():
            for method, folder in ms.items():
                lines.append(f"  {name:14s} {method:5s} of {space:6s} {folder / 'coords.npy'}")
    if stage == "report":
        from embeddings.report import format_table
        from pipeline.cache import read_json

        lines.append(f"  report {pipe.report_path}\n")
        lines.append(format_table(read_json(pipe.report_path)))
    lines.append("\nstage times: " + ", ".join(f"{k} {v:.1f} s" for k, v in pipe.timings.seconds.items()))
    print("\n".join(lines), flush=True)

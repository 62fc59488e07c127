"""What each command does with its run config: run stages, serve, verify, and say where results went."""
from __future__ import annotations

import argparse
import ctypes
import json
import signal
import subprocess
import sys
from pathlib import Path

from core import schema
from core.errors import CacheError, DataError
from core.store import ArtifactStore, read_json
from pipeline.config import RunConfig, SECTIONS
from pipeline.run import Pipeline


def dispatch(command: str, config: RunConfig, args: argparse.Namespace) -> int:
    if command == "serve":
        from explorer.server import serve

        s = config.serve
        serve(cache_root=config.where.cache_dir, host=s.host, port=s.port, debug=s.debug, threads=s.threads)
        return 0
    if command == "verify":
        return verify(ArtifactStore(config.where.cache_dir), repair=args.repair, quiet=config.data.quiet)
    if command == "import" and config.corrections.corrections and config.imported.images is None:
        return import_corrections(config)
    if command == "import":
        from pipeline.own_data import add
        from training.import_files import read

        options = config.imported
        try:
            pipe = add(read(options), config, name=options.name, title=options.title)
        except DataError as e:
            raise _named_file(e, options) from None
        summary(pipe, "import")
        return 0
    pipe = Pipeline(config)
    if config.corrections.corrections:  # added to the logs first: the models learn from the corrected labels
        from pipeline.corrections import import_files

        pipe.run("fetch")
        print("\n".join(import_files(pipe.store, config.corrections.corrections, pipe.names, pipe._arrays)), flush=True)
    if command != "all":
        pipe.run(command)
        if command == "report":
            pipe.publish()  # everything the explorer reads exists now: show it
        summary(pipe, command)
        return 0
    server = None if args.no_serve else ExplorerProcess(config)
    try:
        current = pipe.run_all(on_start=server.start if server else None)
        summary(pipe, "all")
        print(f"explorer data: {current}", flush=True)
        if server:
            server.start()
            return server.wait()
        return 0
    finally:
        if server:
            server.stop()


def import_corrections(config: RunConfig) -> int:
    """``import [NAME] --corrections FILE ...``: each file added to its built-in dataset's log, all of it or none."""
    from pipeline.corrections import dataset_of, import_files
    from training import datasets as facts

    store = ArtifactStore(config.where.cache_dir)
    names = list(facts.NAMES)
    arrays = {}
    for path in config.corrections.corrections:
        name = config.imported.name or dataset_of(path, names)
        if name not in facts.NAMES:
            raise DataError(f"--corrections {path}: {name!r} is not a built-in dataset ({', '.join(facts.NAMES)}); "
                            "correct a dataset of your own in the explorer, whose exports re-import there")
        if name not in arrays:
            arrays[name] = facts.open_dataset(name, store.root / "data", store)[1]
    print("\n".join(import_files(store, config.corrections.corrections, list(arrays), arrays)))
    print("the explorer shows them at once; `./run.sh` retrains on them where they correct training images")
    return 0


def _named_file(error: Exception, options) -> Exception:
    """An array's refusal (``"labels: expected ..."``) said of the file it came from."""
    from core.errors import DataError

    arg, _, rest = str(error).partition(": ")
    if arg not in ("images", "labels", "embeddings", "proba", "pred", "class_names", "name"):
        return error
    if arg == "name":
        return DataError(f"NAME {options.name!r}: {rest.split(': ', 1)[-1]}")
    path = getattr(options, arg)
    # an array no flag gave came from the --images file (an .npz's key, a folder's labels): name that
    where = f"--{arg.replace('_', '-')} {path}" if path is not None else f"--images {options.images} (its {arg!r})"
    return DataError(f"{where}: {rest}")


def _die_with_parent() -> None:
    """In the explorer child: get SIGTERM when the runner dies, even by SIGKILL (Linux prctl)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the runner's signal handlers still stop it


class ExplorerProcess:
    """The explorer in a child process, so it serves finished datasets while the rest are prepared.

    The runner stops it on exit, on Ctrl+C, SIGTERM and SIGHUP (``pipeline.cli``), and the
    kernel stops it if the runner is killed outright.
    """

    def __init__(self, config: RunConfig):
        s = config.serve
        self.cmd = [sys.executable, "-m", "explorer", "--host", s.host, "--port", str(s.port),
                    "--threads", str(s.threads)]
        if config.where.cache_dir:
            self.cmd += ["--cache-dir", str(config.where.cache_dir)]
        if s.debug:
            self.cmd.append("--debug")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it (again, if it has stopped: the run's end leaves the page serving)."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(self.cmd, preexec_fn=_die_with_parent)

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
                self.proc.wait()


def summary(pipe: Pipeline, command: str) -> None:
    """Where every result went, the report table, stage times, and how to see the results."""
    store = pipe.store
    lines = [f"\nresults in {store.root}:"]
    for name, r in pipe.results.items():
        if r.samples is not None:
            lines.append(f"  {name:14s} samples {r.samples}")
        for model, m in r.models.items():
            acc = json.loads(schema.MODEL.path(m.model, "metrics").read_text())["test_accuracy"]
            lines.append(f"  {name:14s} {model:10s} test accuracy {acc:.4f}  model {m.model}")
            if m.embed is not None:
                lines.append(f"  {name:14s} {model:10s} embed {m.embed}")
            for method, folder in m.projections.items():
                lines.append(f"  {name:14s} {model:10s} {method:5s} {schema.PROJ.path(folder, 'coords')}")
            for method, folder in m.projections3d.items():
                lines.append(f"  {name:14s} {model:10s} {method + ' 3-D':9s} {schema.PROJ.path(folder, 'coords')}")
    if command in ("report", "all", "import"):
        from embeddings.report import format_table

        lines.append(f"  report {pipe.report_path}\n")
        lines.append(format_table(read_json(pipe.report_path)))
    lines.append("\nstage times: " + ", ".join(f"{k} {v:.1f} s" for k, v in pipe.timings.seconds.items()))
    if len(pipe.timings.per_dataset) > 1:
        lines.append("stage times per dataset: " + "; ".join(
            f"{name}: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items())
            for name, stages in pipe.timings.per_dataset.items()))
    if command in ("report", "import"):
        lines.append(f"explorer: {store.root / 'current.json'} now shows these results; "
                     f"`python -m pipeline serve{_cache_flag(store)}` to open it")
    elif command in ("train", "embed", "project"):
        lines.append(f"explorer: not updated by `{command}` (it shows what {store.root / 'current.json'} names); "
                     f"to see these results run `python -m pipeline all` with the same options "
                     f"(it reuses what was just computed)")
    print("\n".join(lines), flush=True)


def _cache_flag(store: ArtifactStore) -> str:
    from core.store import DEFAULT_ROOT

    return "" if store.root.resolve() == DEFAULT_ROOT.resolve() else f" --cache-dir {store.root}"


def verify(store: ArtifactStore, repair: bool = False, quiet: bool = False) -> int:
    """Check every published folder; say what is damaged and what a run would rebuild.

    Returns 0 when everything is intact (or was repaired), 1 when damage remains.
    """
    if not store.root.is_dir():
        raise CacheError(f"{store.root} does not exist; run `python -m pipeline all` first (or pass --cache-dir)")
    folders = store.published()
    damaged = {}
    for folder in folders:
        problems = store.verify(folder) or _undeclared(store, folder)
        if problems:
            damaged[folder] = problems
    try:
        current = store.read_current()
    except CacheError:
        current = None
    shown = _folders_in(store, current) if current else set()
    print(f"verified {len(folders)} artifact folders in {store.root}: "
          f"{len(damaged)} damaged" + ("" if damaged else ", all intact"), flush=True)
    for folder, problems in damaged.items():
        where = "used by the explorer's current view" if folder.resolve() in shown else "not in the current view"
        print(f"  {store.relative(folder)} ({where}):")
        for p in problems:
            print(f"    {p}")
    if not damaged:
        return 0
    if not repair:
        print("a run rebuilds each damaged folder when it needs it; "
              "`python -m pipeline verify --repair` rebuilds them now", flush=True)
        return 1
    for folder in damaged:
        store.discard(folder)
    runs = recorded_runs(current) if current else []
    if not runs:
        print("removed the damaged folders; current.json records no run to repeat, so run "
              "`python -m pipeline all` with your options to rebuild them", flush=True)
        return 0
    for run in runs:
        config = recorded_run(run, store, quiet)
        imported = {n: store.resolve(run["import_folder"]) for n in run["data"]["dataset"]} if run.get("import_folder") else None
        if imported and any(store.verify(f) or not f.is_dir() for f in imported.values()):
            print(f"cannot repair {', '.join(imported)}: its imported arrays are damaged or gone; import it "
                  "again (python -m pipeline import, or explorer.from_arrays)", flush=True)
            continue
        print(f"repairing: rerunning the recorded run for {', '.join(imported or config.datasets)}", flush=True)
        pipe = Pipeline(config, imported=imported)
        pipe.report()
        pipe.publish()
    left = [f for f in damaged if f.resolve() in shown and store.verify(f)]
    print(f"repaired: {len(damaged) - len(left)} of {len(damaged)} damaged folders rebuilt"
          + ("" if not left else f"; still damaged: {', '.join(map(str, left))}"), flush=True)
    return 1 if left else 0


def _undeclared(store: ArtifactStore, folder: Path) -> list[str]:
    """What in an intact folder its stage's declaration (``core/schema.py``) does not allow."""
    record = store.recorded(folder)
    return schema.conformance(folder, record.get("stage") or folder.parent.name, list(record.get("files") or {}))


def recorded_runs(current: dict) -> list[dict]:
    """The runs that made the current view: each dataset's own record (else the file's), its
    datasets grouped, so one repair reruns each set of settings once for its datasets."""
    groups: dict[str, dict] = {}
    for name, entry in (current.get("datasets") or {}).items():
        run = entry.get("run") if isinstance(entry, dict) else None
        run = run if isinstance(run, dict) else current.get("run")
        if not isinstance(run, dict):
            continue
        key = json.dumps({k: v for k, v in run.items() if k != "data"}, sort_keys=True, default=str)
        group = groups.setdefault(key, {**run, "data": {**(run.get("data") or {}), "dataset": []}})
        group["data"]["dataset"].append(name)
    return list(groups.values())


def recorded_run(run: dict, store: ArtifactStore, quiet: bool) -> RunConfig:
    """The run config ``current.json`` recorded, for this cache."""
    sections = {}
    for name, fields in run.items():
        if name not in SECTIONS or not isinstance(fields, dict):
            continue
        sections[name] = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    sections["where"] = {"cache_dir": store.root}
    sections.setdefault("data", {})["quiet"] = quiet
    if run.get("import_folder"):  # the user's dataset: named by its import, not by --dataset
        sections["data"].pop("dataset", None)
    return RunConfig.from_sections(sections)


def _folders_in(store: ArtifactStore, current: dict) -> set[Path]:
    """Artifact folders ``current.json`` names (and the model folders behind them)."""
    out = set()
    for entry in (current.get("datasets") or {}).values():
        if entry.get("samples"):
            out.add(store.resolve(entry["samples"]))
        for model in (entry.get("models") or {}).values():
            for key in ("model", "embed", "dynamics", "layers"):
                if model.get(key):
                    out.add(store.resolve(model[key]))
            for key in ("projections", "projections3d"):
                out.update(store.resolve(rel) for rel in (model.get(key) or {}).values())
    return out

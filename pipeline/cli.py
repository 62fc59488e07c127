"""Command line: ``python -m pipeline {fetch,train,embed,project,report,serve,all,verify,import}``.

Every stage runs the ones before it, and each reuses what is already cached, so
``all`` on a warm cache goes straight to serving the explorer.  The options are
generated from the run config's fields (``pipeline/config.py``): each command takes the
options of the stages it runs, with the defaults, choices and bounds those fields carry.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from core.errors import ProjectError
from core.options import add_arguments
from pipeline.config import COMMANDS, SECTIONS, TITLES, RunConfig
from pipeline.stages import STAGES

log = logging.getLogger("pipeline")

#: Tests set this to a stage name to SIGKILL the run with that stage's files written but not renamed.
CRASH_ENV = "MNIST_EXPLORER_CRASH_BEFORE_RENAME"

#: Each command's line in ``--help``: a stage's from its declaration (``pipeline/stages.py``).
HELPS = {**{name: s.help for name, s in STAGES.items() if s.help},
         "serve": "serve the explorer on the cache",
         "all": "every stage, then serve the explorer",
         "verify": "check every cached artifact against the hashes recorded when it was published",
         "import": "add your own dataset (images, labels, optional embeddings) to the cache and the explorer"}
_SEP = "__"  # argparse dest: <section>__<field>, so two sections may share a field name


def add_section(parser: argparse.ArgumentParser, section: str) -> None:
    """One argument group: an option per settable field of the section's dataclass."""
    add_arguments(parser.add_argument_group(TITLES[section]), SECTIONS[section],
                  dest=lambda field: f"{section}{_SEP}{field}")


def _spaces(text: str) -> tuple[str, ...]:
    """``--spaces cnn,pixels`` (before models existed) = ``--models cnn,pixels``."""
    items = tuple(s.strip() for s in text.split(",") if s.strip())
    if not items or any(s not in ("cnn", "pixels") for s in items):
        raise argparse.ArgumentTypeError(f"{text!r}: choose from cnn, pixels (comma-separated); "
                                         "or use --models")
    return items


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for command, sections in COMMANDS.items():
        p = sub.add_parser(command, help=HELPS[command], description=HELPS[command])
        for section in sections:
            add_section(p, section)
        if "models" in sections:  # the option of before the ladder: its spaces are now models
            p.add_argument("--spaces", dest=f"models{_SEP}models", type=_spaces, default=argparse.SUPPRESS,
                           help=argparse.SUPPRESS)
        if command == "all":
            p.add_argument("--no-serve", action="store_true", help="stop after the report")
        if command == "verify":
            p.add_argument("--repair", action="store_true",
                           help="rebuild what is damaged (reruns the stages of the recorded run)")
    return parser


def config_of(args: argparse.Namespace) -> RunConfig:
    """The run config of parsed arguments: given options over each section's defaults."""
    sections: dict[str, dict] = {s: {} for s in COMMANDS[args.command]}
    for dest, value in vars(args).items():
        if _SEP in dest:
            section, field = dest.split(_SEP, 1)
            sections[section][field] = value
    return RunConfig.from_sections(sections)


def _stop_on_signals() -> None:
    """SIGTERM, SIGHUP and SIGINT end the run like Ctrl+C, so ``finally`` blocks stop every child.

    SIGINT too: a job started in the background of a non-interactive shell inherits SIGINT
    ignored, and Python then installs no handler of its own.
    """
    def raise_interrupt(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, raise_interrupt)


def _inject_faults() -> None:
    """The interruption tests' crash: the store calls this before publishing each folder."""
    crash = os.environ.get(CRASH_ENV)
    if not crash:
        return
    from core.store import ArtifactStore

    def kill(stage: str) -> None:
        if stage == crash:
            os.kill(os.getpid(), signal.SIGKILL)

    ArtifactStore.before_publish = staticmethod(kill)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse ``argv``; an option of another command is named as such (``serve --perplexity``)."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        owners = {}
        for command, sub in parser._subparsers._group_actions[0].choices.items():  # noqa: SLF001
            for action in sub._actions:  # noqa: SLF001
                for flag in action.option_strings:
                    owners.setdefault(flag, []).append(command)
        flag = next((e.split("=")[0] for e in extra if e.startswith("-")), extra[0])
        if flag in owners:
            parser.error(f"`{args.command}` takes no {flag} (an option of {', '.join(owners[flag])}); "
                         + ("`serve` shows what the last `report` or `all` published: rerun `all` with it"
                            if args.command == "serve" else f"see `python -m pipeline {args.command} --help`"))
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    quiet = getattr(args, f"data{_SEP}quiet", False) or getattr(args, f"imported{_SEP}quiet", False)
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO,
                        format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("tensorflow", "absl", "h5py", "numba", "matplotlib", "PIL", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # openTSNE warns that precomputed affinities make it ignore perplexity: intended here.
    logging.getLogger("openTSNE").setLevel(logging.ERROR)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF prints version-skew noise at ERROR level
    _stop_on_signals()
    _inject_faults()
    try:
        from pipeline.commands import dispatch

        return dispatch(args.command, config_of(args), args)
    except ProjectError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        why = f" ({e.args[0]})" if e.args else ""
        print(f"\ninterrupted{why}: finished artifacts are kept, partial ones are discarded", file=sys.stderr)
        return 130

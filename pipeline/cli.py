"""Command line: ``python -m pipeline {fetch,train,embed,project,report,serve,all,verify}``.

Every stage runs the ones before it, and each reuses what is already cached, so
``all`` on a warm cache goes straight to serving the explorer.  The options are
generated from the run config's fields (``pipeline/config.py``): each command takes the
options of the stages it runs, with the defaults, choices and bounds those fields carry.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys

from core.errors import ProjectError
from core.options import bound_text, meta
from pipeline.config import COMMANDS, SECTIONS, TITLES, RunConfig

log = logging.getLogger("pipeline")

HELPS = {"fetch": "download and verify the datasets", "train": "train the CNNs",
         "embed": "extract embeddings and k-NN graphs", "project": "PCA, t-SNE and UMAP layouts",
         "report": "separability report (JSON + table); updates what the explorer shows",
         "serve": "serve the explorer on the cache",
         "all": "every stage, then serve the explorer",
         "verify": "check every cached artifact against the hashes recorded when it was published"}
_SEP = "__"  # argparse dest: <section>__<field>, so two sections may share a field name


def _parser_of(m: dict, default):
    """The argparse ``type`` of an option: its own, or that of its default, split on commas if ``many``."""
    base = m["type"] or (type(default[0]) if m["many"] and default else type(default))
    if default is None and m["type"] is None:
        base = int
    choices = m["choices"]

    def parse_one(text: str):
        try:
            value = base(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {base.__name__}") from None
        if choices is not None and value not in choices:
            raise argparse.ArgumentTypeError(
                f"{text!r}: choose from {', '.join(map(str, choices))}" + (" (comma-separated)" if m["many"] else ""))
        return value

    if not m["many"]:
        return parse_one

    def parse_many(text: str) -> tuple:
        items = tuple(parse_one(t.strip()) for t in text.split(",") if t.strip())
        if not items:
            raise argparse.ArgumentTypeError(f"{text!r}: give at least one of {', '.join(map(str, choices))}")
        return items

    return parse_many


def add_section(parser: argparse.ArgumentParser, section: str) -> None:
    """One argument group: an option per settable field of the section's dataclass."""
    group = parser.add_argument_group(TITLES[section])
    for f in dataclasses.fields(SECTIONS[section]):
        m = meta(f)
        if m is None or m["derived"]:
            continue
        flag = m["flag"] or "--" + f.name.replace("_", "-")
        names = [m["short"], flag] if m["short"] else [flag]
        dest = f"{section}{_SEP}{f.name}"
        default = f.default
        shown = ",".join(map(str, default)) if m["many"] else default
        extra = [f"default {shown}" if default is not None and default is not False else ""]
        if bound_text(m):
            extra.append(bound_text(m))
        text = m["help"] + "".join(f"; {e}" for e in extra if e)
        if isinstance(default, bool):
            group.add_argument(*names, dest=dest, action="store_true", default=argparse.SUPPRESS, help=text)
        else:
            metavar = f.name.upper()
            if m["choices"] is not None:
                metavar = "{" + ",".join(map(str, m["choices"])) + "}" + (",..." if m["many"] else "")
            group.add_argument(*names, dest=dest, type=_parser_of(m, default), default=argparse.SUPPRESS,
                               help=text, metavar=metavar)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for command, sections in COMMANDS.items():
        p = sub.add_parser(command, help=HELPS[command], description=HELPS[command])
        for section in sections:
            add_section(p, section)
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
    """SIGTERM and SIGHUP end the run like Ctrl+C, so ``finally`` blocks stop every child."""
    def raise_interrupt(signum, _frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, raise_interrupt)


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
    quiet = getattr(args, f"data{_SEP}quiet", False)
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO,
                        format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("tensorflow", "absl", "h5py", "numba", "matplotlib", "PIL", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # openTSNE warns that precomputed affinities make it ignore perplexity: intended here.
    logging.getLogger("openTSNE").setLevel(logging.ERROR)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF prints version-skew noise at ERROR level
    _stop_on_signals()
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

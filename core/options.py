"""Config fields that carry their own help, choices and bounds, so each exists once.

A stage's config is a frozen dataclass whose fields are made with :func:`option`; the
command line (``pipeline/cli.py``) is generated from that metadata, and
:func:`validate` checks the same bounds when a config is built from Python::

    @dataclasses.dataclass(frozen=True)
    class ProjectConfig:
        perplexity: float = option(30.0, "t-SNE perplexity", lo=0, lo_open=True)

        def __post_init__(self):
            validate(self, "projection")

Fields made with ``derived=True`` are set by a cross-field rule (the run config's
``__post_init__``), never from the command line.
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import Any, Callable

from core.errors import ConfigError


def option(default: Any, help: str, *, flag: str | None = None, choices: tuple | None = None,
           many: bool = False, lo: float | None = None, hi: float | None = None, lo_open: bool = False,
           type: Any = None, derived: bool = False, short: str | None = None, repeat: bool = False,
           positional: bool = False) -> Any:
    """A dataclass field with command-line metadata.

    Parameters
    ----------
    default : the default value (a tuple for ``many`` options)
    help : one line for ``--help``
    flag : str, optional
        The option's name on the command line; default ``--`` + the field name with dashes.
    choices : tuple or callable, optional
        Allowed values (of each item when ``many``); a callable returning them is asked each
        time they are needed, for a registry that may grow after this field is made.
    many : bool
        A comma-separated list on the command line, a tuple in the config.
    repeat : bool
        Given once per value (``--model a.keras --model b.keras``), a tuple in the config;
        for values that may hold commas, such as paths.
    lo, hi : float, optional
        Inclusive bounds (``lo`` exclusive with ``lo_open``); ``None`` values skip them.
    type : callable, optional
        Parser of the command-line text; default the type of ``default`` (int, float, str).
    derived : bool
        Set by a rule of the composed config, not on the command line.
    short : str, optional
        A one-letter alias such as ``-q``.
    positional : bool
        An argument without a flag (``import NAME``), optional on the command line.
    """
    meta = {"help": help, "flag": flag, "choices": choices, "many": many, "lo": lo, "hi": hi,
            "lo_open": lo_open, "type": type, "derived": derived, "short": short, "repeat": repeat,
            "positional": positional}
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple default for list options")
    return dataclasses.field(default=default, metadata={"option": meta})


def meta(field: dataclasses.Field) -> dict | None:
    """The :func:`option` metadata of a field, or None for plain fields."""
    return field.metadata.get("option")


def choices_of(m: dict) -> tuple | None:
    """The allowed values of metadata ``m`` now (``None``: any)."""
    choices = m.get("choices")
    return tuple(choices()) if callable(choices) else choices


def bound_text(m: dict) -> str:
    """``"> 0"``, ``">= 1"``, ``"in [0, 1]"``: the bound as the help and the errors say it."""
    lo, hi = m.get("lo"), m.get("hi")
    if lo is not None and hi is not None:
        return f"in {'(' if m.get('lo_open') else '['}{lo:g}, {hi:g}]"
    if lo is not None:
        return f"{'>' if m.get('lo_open') else '>='} {lo:g}"
    if hi is not None:
        return f"<= {hi:g}"
    return ""


def within(m: dict, value: Any) -> bool:
    """Whether ``value`` meets the bounds of metadata ``m`` (``lo``, ``hi``, ``lo_open``; missing ones pass).

    The one bound check: :func:`validate` uses it for config fields and the projection
    estimators (``embeddings.methods``) for their parameters.
    """
    lo, hi = m.get("lo"), m.get("hi")
    low_ok = lo is None or (value > lo if m.get("lo_open") else value >= lo)
    return low_ok and (hi is None or value <= hi)


def validate(config: Any, section: str) -> None:
    """Check every :func:`option` field of ``config`` against its choices and bounds.

    Raises
    ------
    ConfigError
        ``"<section> <field> must be <bound> (got <value>)"``, or the list of choices.
    """
    for f in dataclasses.fields(config):
        m = meta(f)
        if m is None:
            continue
        value = getattr(config, f.name)
        if value is None:
            continue
        items = value if m["many"] or m.get("repeat") else (value,)
        if m["many"] and not items:
            raise ConfigError(f"{section} {f.name} needs at least one value")
        choices = choices_of(m)
        for v in items:
            if choices is not None and v not in choices:
                raise ConfigError(f"{section} {f.name} must be one of {', '.join(map(str, choices))} "
                                  f"(got {v!r})")
            if not within(m, v):
                raise ConfigError(f"{section} {f.name} must be {bound_text(m)} (got {v!r})")


def _parser_of(m: dict, default) -> Callable[[str], Any]:
    """The argparse ``type`` of an option: its own, or that of its default, split on commas if ``many``."""
    base = m["type"] or (type(default[0]) if m["many"] and default else type(default))
    if default is None and m["type"] is None:
        base = int

    def parse_one(text: str):
        try:
            value = base(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {base.__name__}") from None
        choices = choices_of(m)
        if choices is not None and value not in choices:
            raise argparse.ArgumentTypeError(
                f"{text!r}: choose from {', '.join(map(str, choices))}" + (" (comma-separated)" if m["many"] else ""))
        return value

    if not m["many"]:
        return parse_one

    def parse_many(text: str) -> tuple:
        items = tuple(parse_one(t.strip()) for t in text.split(",") if t.strip())
        if not items:
            raise argparse.ArgumentTypeError(f"{text!r}: give at least one of {', '.join(map(str, choices_of(m)))}")
        return items

    return parse_many


def add_arguments(group, klass: type, dest: Callable[[str], str] = str) -> None:
    """Add an argparse option for every settable :func:`option` field of ``klass`` to ``group``.

    Options not given on the command line are absent from the namespace
    (``argparse.SUPPRESS``), so the dataclass's own defaults apply, written once.
    ``dest`` maps a field name to its namespace attribute.
    """
    for f in dataclasses.fields(klass):
        m = meta(f)
        if m is None or m["derived"]:
            continue
        flag = m["flag"] or "--" + f.name.replace("_", "-")
        names = [m["short"], flag] if m["short"] else [flag]
        default = f.default
        shown = ",".join(map(str, default)) if m["many"] or m.get("repeat") else default
        extra = [f"default {shown}" if default not in (None, False, ()) else "", bound_text(m)]
        text = m["help"] + "".join(f"; {e}" for e in extra if e)
        if isinstance(default, bool):
            group.add_argument(*names, dest=dest(f.name), action="store_true", default=argparse.SUPPRESS,
                               help=text)
            continue
        metavar = f.name.upper()
        if m.get("positional"):
            group.add_argument(dest(f.name), type=_parser_of(m, default), nargs="?", default=argparse.SUPPRESS,
                               help=text, metavar=metavar)
            continue
        if m.get("repeat"):
            group.add_argument(*names, dest=dest(f.name), type=_parser_of({**m, "many": False}, default[0] if default else ""),
                               action="append", default=argparse.SUPPRESS, help=text + "; repeatable",
                               metavar=metavar)
            continue
        if m["choices"] is not None:
            metavar = "{" + ",".join(map(str, choices_of(m))) + "}" + (",..." if m["many"] else "")
        group.add_argument(*names, dest=dest(f.name), type=_parser_of(m, default), default=argparse.SUPPRESS,
                           help=text, metavar=metavar)

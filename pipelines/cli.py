"""The ``nvc`` command: ``nvc <command> ...``.

Commands: ``run`` (analyse one patient), ``report`` (report of a results folder),
``phantom`` (write a phantom cohort), ``demo`` (the main job on the built-in phantom),
``batch`` (a BIDS dataset on Dask), ``view`` (napari on a results folder), ``recompute``
(a review revision from an edited label map).
Exit codes: 0 success, 2 usage, 3 unreadable input, 4 analysis impossible, 5 output not writable.

Only the chosen command's module is imported (``nvc --help`` imports none, so it
answers at once and works without the optional extras); a command whose extra is
not installed says in one line which one to install (``nvc_pipelines.extras``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType

from nvc import DISCLAIMER, __version__
from nvc_pipelines.extras import install_hint, missing_extra


@dataclass(frozen=True)
class Command:
    """One subcommand: the module holding its ``add_arguments`` and ``run``, and its help."""

    module: str
    help: str


#: The subcommands, in the order ``nvc --help`` lists them.
COMMANDS = {
    "phantom": Command(
        "nvc_pipelines.phantom_cohort", "write a phantom cohort (BIDS) with its truth"
    ),
    "run": Command("nvc_pipelines.run", "analyse one patient (T2 + TOF)"),
    "report": Command(
        "nvc_pipelines.report", "build the report, QC figures and exports of a results folder"
    ),
    "demo": Command("nvc_pipelines.demo", "run the main job on the built-in phantom"),
    "batch": Command(
        "nvc_pipelines.batch", "analyse a BIDS dataset on Dask (participant / group level)"
    ),
    "view": Command("nvc_pipelines.view", "open a results folder in napari (needs nvc[napari])"),
    "recompute": Command(
        "nvc_pipelines.review",
        "recompute contacts and verdict from an edited label map; save a review revision",
    ),
}


class MissingExtra(Exception):
    """A command's module needs an optional dependency that is not installed."""


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser of ``nvc`` and its subcommands.

    Parameters
    ----------
    commands : iterable of str, optional
        Subcommands whose arguments are added (their modules are imported). The
        others are listed with their help only. Default: all of them (the
        documentation's CLI reference uses this).

    Returns
    -------
    argparse.ArgumentParser

    Raises
    ------
    MissingExtra
        A chosen command's module needs an extra that is not installed.
    """
    chosen = set(COMMANDS if commands is None else commands)
    parser = argparse.ArgumentParser(
        prog="nvc",
        description=f"Neurovascular compression analysis of the facial nerve. {DISCLAIMER}",
    )
    parser.add_argument("--version", action="version", version=f"nvc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help, description=command.help)
        if name in chosen:
            module = _import_command(name, command)
            module.add_arguments(p)
            p.set_defaults(run=module.run)
    return parser


def _import_command(name: str, command: Command) -> ModuleType:
    # Imported here, not at the top: processes that re-import the ``nvc`` script as their
    # main module (Dask's local worker processes are spawned) then stay free of image
    # libraries, and ``nvc --help`` imports none of them.
    try:
        return importlib.import_module(command.module)
    except ImportError as exc:
        extra = missing_extra(exc)
        if extra is None:
            raise
        raise MissingExtra(f"nvc {name} {install_hint(extra, exc.name)}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nvc`` console script.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``nvc`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code (0 success, 2 usage, 3 unreadable input, 4 analysis
        impossible, 5 output not writable, 130 interrupted).
    """
    args_in = list(sys.argv[1:] if argv is None else argv)
    # the top-level options (--help, --version) take no value: the first word is the command
    first = next((a for a in args_in if not a.startswith("-")), None)
    try:
        parser = build_parser([first] if first in COMMANDS else [])
    except MissingExtra as exc:
        from nvc_pipelines.errors import EXIT_USAGE

        print(f"nvc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(args_in)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``nvc`` command: ``nvc <command> ...``.

Commands: ``run`` (analyse one patient), ``report`` (report of a results folder),
``phantom`` (write a phantom cohort), ``demo`` (the main job on the built-in phantom),
``batch`` (a BIDS dataset on Dask), ``view`` (napari), ``recompute`` (a review revision
from an edited label map).
Exit codes: 0 success, 2 usage, 3 unreadable input, 4 analysis impossible, 5 output not writable.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from nvc import DISCLAIMER, __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``nvc`` and its subcommands."""
    # Imported here, not at the top: processes that re-import the ``nvc`` script as their
    # main module (Dask's local worker processes are spawned) then stay free of image libraries.
    from pipelines import batch, demo, phantom_cohort, report, review, run, view

    parser = argparse.ArgumentParser(
        prog="nvc",
        description=f"Neurovascular compression analysis of the facial nerve. {DISCLAIMER}",
    )
    parser.add_argument("--version", action="version", version=f"nvc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module, text in (
        ("phantom", phantom_cohort, "write a phantom cohort (BIDS) with its ground truth"),
        ("run", run, "analyse one patient (T2 + TOF)"),
        ("report", report, "build the report, QC figures and exports of a results folder"),
        ("demo", demo, "run the main job on the built-in phantom"),
        ("batch", batch, "analyse a BIDS dataset on Dask (participant / group level)"),
        ("view", view, "open a results folder in napari (needs nvc[napari])"),
        (
            "recompute",
            review,
            "recompute contacts and verdict from an edited label map; save a review revision",
        ),
    ):
        p = sub.add_parser(name, help=text, description=text)
        module.add_arguments(p)
        p.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nvc`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())

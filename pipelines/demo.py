"""``nvc demo``: the main job on the built-in phantom."""

from __future__ import annotations

import argparse
from pathlib import Path

from nvc import DISCLAIMER
from pipelines.errors import EXIT_OK, run_guarded
from pipelines.phantom_cohort import generate, truth_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nvc demo``."""
    parser.add_argument("--out", type=Path, default=Path("demo_out"), help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="phantom cohort seed")


def run(args: argparse.Namespace) -> int:
    """Body of ``nvc demo``."""

    def body() -> int:
        print(f"nvc demo: {DISCLAIMER}")
        data = args.out / "phantom"
        print(f"Phantom case (truth), written as BIDS to {data}:")
        generate(data, 1, args.seed)
        print(f"truth: {truth_dir(data)}")
        return EXIT_OK

    return run_guarded(body)

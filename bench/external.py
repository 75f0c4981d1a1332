"""Accuracy on a cohort from an independent phantom generator, scored by that cohort's own scorer.

Run: ``python -m bench.external [COHORT] [--out DIR] [--workers 2]``. COHORT is a
BIDS raw dataset whose truth sits beside it in ``COHORT_truth/`` and whose
scorer is ``score.py`` in the folder above (the layout of
``../shared/data/external/``, the default). Every case is analysed with
``nvc batch``'s per-case pipeline and default parameters (``nvc batch COHORT
OUT participant --no-report`` does the same), then the scorer prints its
table; the table is the cohort owner's definitions, not nvc's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nvc_pipelines.cli import main as nvc_main

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "cases"


def main(argv: list[str] | None = None) -> int:
    """Analyse every case of COHORT into OUT, then print the cohort scorer's table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cohort", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--out", type=Path, default=None, help="results folder (default: temp)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    cohort = args.cohort.resolve()
    scorer = cohort.parent / "score.py"
    if not cohort.is_dir() or not scorer.is_file():
        print(f"no cohort with a scorer at {cohort} (expected {scorer})", file=sys.stderr)
        return 2
    out = args.out or Path(tempfile.mkdtemp(prefix="nvc-external-"))
    t0 = time.perf_counter()
    batch = ["batch", str(cohort), str(out), "participant", "--no-report"]
    code = nvc_main([*batch, "--workers", str(args.workers)])
    print(f"analysed in {time.perf_counter() - t0:.0f} s (batch exit {code}); results in {out}")
    return subprocess.call([sys.executable, str(scorer), str(cohort), str(out), "--per-side"])


if __name__ == "__main__":
    raise SystemExit(main())

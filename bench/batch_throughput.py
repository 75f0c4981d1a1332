"""Batch throughput with 1 and 2 Dask workers on the same phantom cohort.

Run: ``python -m bench.batch_throughput [--cases 4] [--seed 7] [--workers 1 2]``.
Generates a phantom BIDS cohort (realistic voxel sizes) once, then runs the
participant level of ``nvc batch`` (the same engine: a local Dask cluster,
each case in its own process) into a fresh output folder per worker count.
Prints a table (markdown): wall time, cases per minute, median time per case,
peak resident memory of a case process and of a worker process, and the peak
of a worker together with the case it ran. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    # Imported here: the spawned Dask workers re-import this script as their main
    # module, and should stay as small as under ``nvc batch``.
    from nvc_pipelines.batch import run_cases
    from nvc_pipelines.config import PipelineConfig
    from nvc_pipelines.discovery import discover
    from nvc_pipelines.engine import EngineOptions
    from nvc_pipelines.phantom_cohort import generate

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nvc-bench-") as tmp:
        bids = Path(tmp) / "bids"
        t0 = time.perf_counter()
        generate(bids, args.cases, args.seed, quiet=True)
        print(f"cohort: {args.cases} phantom cases (seed {args.seed}) in "
              f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
        cases = list(discover(bids).cases)
        rows = []
        for n in args.workers:
            out = Path(tmp) / f"out{n}"
            t0 = time.perf_counter()
            outcomes = run_cases(cases, bids, out, PipelineConfig(), EngineOptions(workers=n))
            wall = time.perf_counter() - t0
            done = [o for o in outcomes if o.status == "done"]
            case_peak = max((o.peak_rss_mb or 0.0) for o in outcomes)
            worker_peak = max((o.worker_peak_rss_mb or 0.0) for o in outcomes)
            both = max((o.peak_rss_mb or 0.0) + (o.worker_peak_rss_mb or 0.0) for o in outcomes)
            rows.append(
                f"| {n} | {len(done)}/{len(outcomes)} | {wall:.0f} | "
                f"{60.0 * len(done) / wall:.2f} | "
                f"{statistics.median(o.seconds for o in outcomes):.1f} | "
                f"{case_peak:.0f} | {worker_peak:.0f} | {both:.0f} |"
            )
        print()
        print(
            "| workers | cases done | wall (s) | cases per minute | median case (s) | "
            "peak RSS case process (MB) | peak RSS worker process (MB) | "
            "peak RSS per worker, both (MB) |"
        )
        print("|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

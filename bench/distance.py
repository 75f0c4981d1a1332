"""Vessel-nerve distance accuracy against phantoms with a known gap.

Run: ``python -m bench.distance [--seeds 7000 7001 7002 7003] [--gaps 0 0.25 0.5 0.75 1 1.5]``.

Each seed's phantom is redrawn with its symptomatic side's offender (an AICA)
routed to CN VII at each requested surface gap, on the cisternal segment for
even seeds and the attached segment for odd ones. The pipeline runs on every
case and the offender's measured minimal distance is compared with the gap.
Prints a table (markdown), one row per gap, and the pooled error. Not a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from nvc.phantom import draw_params, make_case
from nvc_pipelines.case import run_case


def evaluate(seed: int, gap: float) -> dict[str, Any]:
    """One phantom with the offender at ``gap`` mm: truth and measured distance."""
    params = draw_params(seed)
    side = params.hfs_side
    segment = "cisternal" if seed % 2 == 0 else "AS"
    routed = dataclasses.replace(
        params.side(side), offender="AICA", segment=segment, gap_mm=gap, indentation_mm=0.0
    )
    params = dataclasses.replace(params, **{side: routed})
    case = make_case(params)
    truth = [c for c in case.truth.sides[side].contacts if c.vessel_name == "AICA"]
    row: dict[str, Any] = {"seed": seed, "gap": gap, "segment": segment, "side": side}
    if not truth:
        return {**row, "error": "phantom: offender not within 2 mm"}
    tc = min(truth, key=lambda c: c.gap_mm)
    t0 = time.perf_counter()
    result = run_case(case.t2, case.mra, symptomatic_side=side)
    row["seconds"] = time.perf_counter() - t0
    row["truth_gap"] = tc.gap_mm
    found = result.findings.sides[side].contacts
    best = None
    for pc in found:
        d = float(np.linalg.norm(np.subtract(pc.location_ras_mm, tc.location_ras_mm)))
        if d <= 3.0 and (best is None or d < best[0]):
            best = (d, pc)
    row["measured"] = None if best is None else best[1].min_distance_mm
    row["graded_contact"] = best is not None and best[1].grade is not None
    return row


def summarize(rows: list[dict[str, Any]]) -> str:
    """Markdown table: one row per requested gap, then all gaps pooled."""
    ok = [r for r in rows if "error" not in r]
    lines = [
        "| gap (mm) | cases | located | measured, median (mm) | abs error, median (max) |"
        " graded as contact |",
        "|---|---|---|---|---|---|",
    ]
    for gap in sorted({r["gap"] for r in ok}):
        sel = [r for r in ok if r["gap"] == gap]
        hit = [r for r in sel if r["measured"] is not None]
        err = [abs(r["measured"] - r["truth_gap"]) for r in hit]
        lines.append(
            f"| {gap:.2f} | {len(sel)} | {len(hit)}/{len(sel)} | "
            + (f"{np.median([r['measured'] for r in hit]):.2f}" if hit else "n/a")
            + " | "
            + (f"{np.median(err):.2f} ({np.max(err):.2f})" if err else "n/a")
            + f" | {sum(r['graded_contact'] for r in sel)}/{len(sel)} |"
        )
    err = [abs(r["measured"] - r["truth_gap"]) for r in ok if r["measured"] is not None]
    if err:
        lines.append(
            f"| all | {len(ok)} | {len(err)}/{len(ok)} | | "
            f"{np.median(err):.2f} ({np.max(err):.2f}) | |"
        )
    failed = [r for r in rows if "error" in r]
    if failed:
        lines.append(
            f"\n{len(failed)} case(s) not run: "
            + "; ".join(f"{r['seed']} gap {r['gap']}: {r['error']}" for r in failed)
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7000, 7001, 7002, 7003])
    parser.add_argument("--gaps", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0, 1.5])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="print every case")
    args = parser.parse_args(argv)
    jobs = [(s, g) for s in args.seeds for g in args.gaps]
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(evaluate, *zip(*jobs, strict=True)))
    if args.verbose:
        for r in rows:
            print(r)
    print(f"phantom seeds {args.seeds}, AICA offender at a set gap on the symptomatic side")
    print(summarize(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

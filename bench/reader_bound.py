"""The reader's upper bound: verdicts when a reader redraws CN VII where the automated trace failed.

``python -m bench.reader_bound [--cases N] [--seed S] [--variety standard|wide]``

For each phantom case: ``run_case``, save, and judge each side's verdict
against the truth (NVC yes/no and MVD candidate). Then, as a reader would in
the review step, replace the traced CN VII by the true course (the truth
centerline from the root exit point to the porus, and the true root
detachment point) on the sides whose trace failed, and recompute
(``nvc_pipelines.review.recompute``; no other edit: vessels and their names stay
as segmented). A trace fails when the nerve was not found or its centerline
lies on average more than 1.5 mm from the true one. Prints a table of verdict
accuracy before and after, over the failed sides and over all sides.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from nvc.phantom.truth import PhantomTruth
from nvc.vocabulary import Side

#: A traced centerline farther than this (mean, mm) from the true one failed.
FAILED_TRACE_MM = 1.5


def _true_course(truth: PhantomTruth, side: Side) -> np.ndarray:
    line = np.asarray(truth.cn7_centerlines[side], float)
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(line, axis=0), axis=1))])
    return line[s <= truth.sides[side].porus_mm + 1e-6]


def main(argv: list[str] | None = None) -> int:
    """Print the table."""
    from nvc.io import load_volume, save_nifti
    from nvc.phantom import make_case
    from nvc_pipelines.case import run_case
    from nvc_pipelines.config import PipelineConfig
    from nvc_pipelines.outputs import save_case
    from nvc_pipelines.review import Edits, course_edit, landmark_edit, open_review, recompute

    parser = argparse.ArgumentParser(prog="python -m bench.reader_bound", description=__doc__)
    parser.add_argument("--cases", type=int, default=6)
    parser.add_argument("--seed", type=int, default=6000)
    parser.add_argument("--variety", choices=("standard", "wide"), default="wide")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "nvc-bound")
    args = parser.parse_args(argv)
    rows = []
    for n in range(args.cases):
        seed = args.seed + n
        case = make_case(seed, variety=args.variety)
        folder = args.out / f"seed{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        t2 = save_nifti(case.t2, folder / "t2.nii.gz")
        mra = save_nifti(case.mra, folder / "mra.nii.gz")
        try:
            result = run_case(
                load_volume(t2), load_volume(mra), symptomatic_side=case.truth.hfs_side
            )
        except Exception as exc:  # a refused case counts as failed, with its reason
            print(f"seed {seed}: refused ({str(exc).splitlines()[0][:80]})")
            continue
        save_case(result, folder / "results", PipelineConfig(), inputs={"t2": t2, "mra": mra})
        log = []
        failed = {}
        for side in case.truth.sides:
            true = _true_course(case.truth, side)
            geom = result.centerlines.get(side)
            off = np.inf if geom is None else float(cKDTree(true).query(geom.points_ras)[0].mean())
            failed[side] = off > FAILED_TRACE_MM
            if failed[side]:
                log.append(course_edit(side, true, "CN VII redrawn on its true course"))
                log.append(landmark_edit(side, "RDP", case.truth.landmarks[side]["RDP"]))
        reviewed = result.findings
        if log:
            context = open_review(folder / "results")
            reviewed = recompute(
                folder / "results", Edits(log=tuple(log)), context=context
            ).findings
        for side, truth in case.truth.sides.items():
            a, r = result.findings.sides[side], reviewed.sides[side]
            rows.append(
                (
                    seed,
                    side,
                    failed[side],
                    a.nvc == truth.nvc,
                    r.nvc == truth.nvc,
                    a.mvd_candidate == truth.mvd_candidate,
                    r.mvd_candidate == truth.mvd_candidate,
                )
            )
            print(
                f"seed {seed} {side:>5}: trace {'failed' if failed[side] else 'ok'}; "
                f"truth NVC {truth.nvc}, automated {a.nvc}, reviewed {r.nvc}"
            )
    print()
    print(
        "| sides | n | NVC right, automated | NVC right, reader's course "
        "| MVD right, automated | MVD right, reader's course |"
    )
    print("|---|---|---|---|---|---|")
    for name, pick in (("trace failed", lambda r: r[2]), ("all", lambda r: True)):
        sel = [r for r in rows if pick(r)]
        if not sel:
            print(f"| {name} | 0 | | | | |")
            continue
        cells = [
            f"{sum(r[k] for r in sel) / len(sel):.2f} ({sum(r[k] for r in sel)}/{len(sel)})"
            for k in (3, 4, 5, 6)
        ]
        print(f"| {name} | {len(sel)} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

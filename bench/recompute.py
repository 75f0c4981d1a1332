"""How long the review's Recompute takes, per kind of edit, on a clinical-size phantom case.

``python -m bench.recompute [--size clinical|small] [--seed S] [--repeats N] [--cache DIR]``

Builds (once, cached) a phantom case on the grid of ``bench.speed`` (clinical:
T2 0.5 mm, 320 x 320 x 100 voxels), analyses it with ``run_case`` and saves
its results folder, then times ``nvc_pipelines.review.open_review`` (once per case:
the T2 normalised and the brainstem's frame found again) and
``nvc_pipelines.review.recompute`` for each kind of edit a reader makes, and
prints a table (median and range of ``--repeats`` runs). The target is
<= 1 s per recompute.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.speed import SIZES, case_params
from nvc_pipelines.review import Edits, ReviewContext


def results_folder(cache: Path, seed: int, size: str) -> Path:
    """The analysed case's results folder (built and cached on first use)."""
    from nvc.io import load_volume, save_nifti
    from nvc.phantom import make_case
    from nvc_pipelines.case import run_case
    from nvc_pipelines.config import PipelineConfig
    from nvc_pipelines.outputs import save_case

    out = cache / f"recompute-{size}-seed{seed}"
    if (out / "results" / "findings.json").is_file():
        return out / "results"
    case = make_case(case_params(seed, size))
    out.mkdir(parents=True, exist_ok=True)
    t2 = save_nifti(case.t2, out / "t2.nii.gz")
    mra = save_nifti(case.mra, out / "mra.nii.gz")
    result = run_case(load_volume(t2), load_volume(mra), symptomatic_side=case.truth.hfs_side)
    save_case(result, out / "results", PipelineConfig(), inputs={"t2": t2, "mra": mra})
    return out / "results"


def edits(context: ReviewContext) -> dict[str, Edits]:
    """One ``Edits`` per kind of reader edit on this case."""
    from nvc.labels import Label
    from nvc.review import control_points, point_at, vessel_piece
    from nvc_pipelines.review import course_edit, landmark_edit, vessel_name_edit

    case = context.case
    side = next(iter(case.centerlines))
    course = case.centerlines[side].points_ras
    rdp = case.findings.sides[side].rdp_mm or 0.0
    labels = np.asarray(case.labels.array)
    sp = case.labels.spacing
    art = np.argwhere(labels == Label.ARTERY)
    target = point_at(course, 3.0)
    near = art[np.argmin(np.linalg.norm((art - case.labels.world_to_voxel(target)) * sp, axis=1))]
    deleted = labels.copy()
    deleted[vessel_piece(labels, tuple(int(v) for v in near), sp)] = 0
    painted = labels.copy()
    ijk = np.round(case.labels.world_to_voxel(target)).astype(int)
    lo, hi = np.maximum(ijk - 3, 0), np.minimum(ijk + 4, labels.shape)
    box = painted[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    box[box != Label.CN7] = Label.ARTERY
    moved = control_points(course)
    moved[len(moved) // 2] += np.array([0.0, 1.0, 0.0])
    return {
        "no edit": Edits(),
        "RDP moved 3 mm": Edits(log=(landmark_edit(side, "RDP", point_at(course, rdp - 3.0)),)),
        "vessel deleted": Edits(labels=case.labels.with_array(deleted)),
        "artery painted on CN VII (naming rebuilt)": Edits(labels=case.labels.with_array(painted)),
        "vessel named by hand": Edits(
            log=(vessel_name_edit(case.labels.voxel_to_world(near), "PICA"),)
        ),
        "course point moved 1 mm (nerve rebuilt)": Edits(log=(course_edit(side, moved),)),
    }


def _timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the recompute timing table."""
    from nvc_pipelines.review import open_review, recompute

    parser = argparse.ArgumentParser(prog="python -m bench.recompute", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="clinical")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "nvc-bench")
    args = parser.parse_args(argv)
    folder = results_folder(args.cache, args.seed, args.size)
    t0 = time.perf_counter()
    context = open_review(folder)
    open_s = time.perf_counter() - t0
    shape = "x".join(str(n) for n in context.case.t2.shape)
    crop = "x".join(str(n) for n in context.norm.shape)
    print(f"case: {args.size} phantom seed {args.seed}, T2 {shape} voxels (analysed box {crop})")
    print()
    print("| step | seconds, median (min-max) |")
    print("|---|---|")
    print(f"| open_review (once per case) | {open_s:.2f} |")
    for name, e in edits(context).items():

        def once(e=e) -> None:
            # every run as the first after its edit: an edited artery tree is built anew
            context.forget_edited_trees()
            recompute(folder, e, context=context)

        times = _timed(once, args.repeats)
        med = statistics.median(times)
        print(f"| recompute: {name} | {med:.2f} ({min(times):.2f}-{max(times):.2f}) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

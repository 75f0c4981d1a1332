"""``nvc phantom OUT --cases N --seed S [--variety wide]``: a phantom cohort as BIDS plus truth."""

from __future__ import annotations

import argparse
from pathlib import Path

from nvc import DISCLAIMER
from nvc.io.bids import (
    write_bids_anat,
    write_dataset_description,
    write_participants,
)
from nvc.io.jsonfile import write_json
from nvc.io.labels import save_label_map
from nvc.phantom import VARIETIES, PhantomCase, Variety, make_case
from nvc_pipelines.errors import EXIT_OK, run_guarded
from nvc_pipelines.progress import TerminalProgress


def case_seed(cohort_seed: int, index: int) -> int:
    """Seed of case ``index`` of a cohort: cohorts with different seeds never share a case."""
    return cohort_seed * 100_000 + index


def truth_dir(out: Path) -> Path:
    """Truth of a cohort lives beside it: ``OUT`` -> ``OUT_truth``."""
    return out.with_name(out.name + "_truth")


def write_case(out: Path, label: str, case: PhantomCase) -> None:
    """Write one case's images (BIDS) and its truth (beside the dataset)."""
    params = case.truth.params
    im = params.imaging
    tesla = params.field_strength_t
    field_t = int(tesla) if tesla.is_integer() else tesla
    write_bids_anat(
        out,
        label,
        "T2w",
        case.t2,
        {
            "Modality": "MR",
            "MRAcquisitionType": "3D",
            "SeriesDescription": f"{params.contrast} (nvc phantom)",
            "MagneticFieldStrength": field_t,
            "PhantomSeed": case.truth.seed,
            "VoxelSizeMm": list(im.t2_spacing_mm),
        },
    )
    write_bids_anat(
        out,
        label,
        "angio",
        case.mra,
        {
            "Modality": "MR",
            "MRAcquisitionType": "3D",
            "SeriesDescription": "3D TOF (nvc phantom)",
            "MagneticFieldStrength": field_t,
            "PhantomSeed": case.truth.seed,
            "VoxelSizeMm": list(im.mra_spacing_mm),
        },
    )
    tdir = truth_dir(out) / f"sub-{label}"
    save_label_map(case.labels, tdir / f"sub-{label}_labels.nii.gz")
    write_json(tdir / f"sub-{label}_truth.json", case.truth.to_dict())


def summary_lines(label: str, case: PhantomCase) -> list[str]:
    """Human-readable truth of a case, one line per side."""
    lines = []
    for side, t in case.truth.sides.items():
        where = (
            f"{t.offender} ({t.vessel_class}) at {t.segment}, gap {t.gap_mm:.2f} mm"
            if t.offender != "none" and t.gap_mm is not None
            else "no offender"
        )
        mark = "symptomatic" if t.symptomatic else "asymptomatic"
        lines.append(
            f"sub-{label} {side:>5} ({mark:>12}): {t.scenario:<6} {where}; "
            f"NVC={'yes' if t.nvc else 'no'} MVD candidate={'yes' if t.mvd_candidate else 'no'}"
        )
    return lines


def generate(
    out: Path,
    cases: int,
    seed: int,
    *,
    quiet: bool = False,
    variety: Variety = "standard",
    progress: TerminalProgress | None = None,
) -> list[str]:
    """Generate ``cases`` phantom cases of a variety into ``out``; returns the participant labels.

    Case *i* has seed ``case_seed(seed, i)`` in either variety; the wide variety
    (``nvc.phantom.draw_params``) draws its own case from that seed.
    ``progress`` (when given) is told which case is being made and prints the
    summary lines above its bar.
    """
    rows = []
    labels = []
    for i in range(cases):
        label = f"{i + 1:02d}"
        if progress is not None:
            progress(f"case {label}/{cases:02d}", i / cases)
        case = make_case(case_seed(seed, i), variety)
        write_case(out, label, case)
        rows.append({"participant_id": f"sub-{label}", "hfs_side": case.truth.hfs_side})
        labels.append(label)
        if not quiet:
            text = "\n".join(summary_lines(label, case))
            if progress is not None:
                progress.write(text)
            else:
                print(text, flush=True)
    if progress is not None:
        progress("written", 1.0)
    write_participants(out, rows)
    extra = {} if variety == "standard" else {"PhantomVariety": variety}
    write_dataset_description(
        out,
        "nvc phantom cohort",
        GeneratedBy=[{"Name": "nvc phantom", "Description": DISCLAIMER}],
        PhantomCohortSeed=seed,
        **extra,
    )
    return labels


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nvc phantom``."""
    parser.add_argument("out", type=Path, help="BIDS dataset folder to write")
    parser.add_argument("--cases", type=int, default=1, help="number of cases (default 1)")
    parser.add_argument("--seed", type=int, default=0, help="cohort seed (default 0)")
    parser.add_argument(
        "--quiet", action="store_true", help="print nothing per case, draw no progress bar"
    )
    parser.add_argument(
        "--variety",
        choices=VARIETIES,
        default="standard",
        help="standard (the development ranges, default) or wide (anatomy and imaging "
        "families, decoy cranial nerves VI, IX, X)",
    )


def run(args: argparse.Namespace) -> int:
    """Body of ``nvc phantom``."""

    def body() -> int:
        if args.cases < 1:
            raise SystemExit("nvc phantom: error: --cases must be at least 1")
        with TerminalProgress(quiet=args.quiet) as progress:
            generate(
                args.out,
                args.cases,
                args.seed,
                quiet=args.quiet,
                variety=args.variety,
                progress=progress,
            )
        kind = "" if args.variety == "standard" else f" {args.variety}"
        print(f"wrote {args.cases}{kind} case(s) to {args.out}; truth in {truth_dir(args.out)}")
        return EXIT_OK

    return run_guarded(body)

"""``nvc run --t2 T2 --mra MRA --out DIR [--side S] [--config FILE]``: analyse one patient.

The report (``nvc report``) is built afterwards unless ``--no-report``. Patient
identifiers are stored in findings.json only with ``--include-identifiers``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nvc import DISCLAIMER
from nvc.findings import Findings, SideFindings
from nvc.io import load_volume
from nvc.volume import Volume
from nvc_pipelines.case import run_case
from nvc_pipelines.config import load_config
from nvc_pipelines.discovery import SIDE_NAMES
from nvc_pipelines.errors import EXIT_OK, AnalysisError, UsageError, run_guarded
from nvc_pipelines.extras import install_hint, missing_extra
from nvc_pipelines.outputs import OUTPUT_NAMES, save_case
from nvc_pipelines.progress import TerminalProgress, scaled


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nvc run``."""
    parser.add_argument(
        "--t2", type=Path, required=True, help="CISS/FIESTA/SPACE image (file or DICOM folder)"
    )
    parser.add_argument(
        "--mra", type=Path, required=True, help="3D TOF angiogram (file or DICOM folder)"
    )
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    parser.add_argument(
        "--side",
        type=side_name,
        metavar="{left,right,L,R}",
        help="symptomatic side (as in participants.tsv: left, right, L, R; any case)",
    )
    parser.add_argument(
        "--config", help="TOML config file or preset name (default: built-in defaults)"
    )
    parser.add_argument(
        "--no-report", action="store_true", help="skip the report (nvc report can build it later)"
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar (it is drawn only when the output is a terminal)",
    )
    parser.add_argument(
        "--include-identifiers",
        action="store_true",
        help="store patient identifiers (DICOM name, ID, dates, input file names) in "
        "findings.json and show them in the report (default: neither)",
    )


def run(args: argparse.Namespace) -> int:
    """Body of ``nvc run``: parse -> load -> core -> save."""

    def body() -> int:
        config = load_config(args.config)
        _refuse_overwriting_inputs(args.out, [args.t2, args.mra])
        write_report = None if args.no_report else _report_writer()
        with TerminalProgress(quiet=args.quiet) as progress:
            progress("loading", 0.0)
            t2 = load_volume(args.t2)
            mra = load_volume(args.mra)
            inputs = {"t2": args.t2, "mra": args.mra}
            try:
                result = run_case(
                    t2,
                    mra,
                    symptomatic_side=args.side,
                    config=config,
                    progress=scaled(progress, 0.02, 0.95),
                )
            except AnalysisError as exc:
                raise AnalysisError(_naming_inputs(str(exc), args.t2, args.mra)) from None
            identifiers = None
            if args.include_identifiers:
                identifiers = {
                    "t2": identifiers_of(t2, args.t2),
                    "mra": identifiers_of(mra, args.mra),
                }
            progress("saving", 0.95)
            path = save_case(result, args.out, config, inputs=inputs, identifiers=identifiers)
            progress("analysed", 1.0)
        print(f"{DISCLAIMER}")
        print("\n".join(findings_lines(result.findings)))
        print(f"wrote {path.parent}")
        if write_report is not None:
            with TerminalProgress(quiet=args.quiet) as progress:
                html = write_report(
                    args.out, include_identifiers=args.include_identifiers, progress=progress
                )
            print(f"report: {html} and {html.with_suffix('.pdf')}")
        return EXIT_OK

    return run_guarded(body)


def _report_writer() -> Any:
    """``nvc_pipelines.report.write_report``, or a usage error naming the extra it needs."""
    try:
        from nvc_pipelines.report import write_report
    except ImportError as exc:
        extra = missing_extra(exc)
        if extra is None:
            raise
        hint = install_hint(extra, exc.name)
        raise UsageError(f"the report {hint} (or pass --no-report)") from None
    return write_report


def identifiers_of(volume: Volume, path: Path) -> dict[str, str]:
    """What identifies the patient in an input: its file or folder name and DICOM identifiers."""
    ids = {"source_name": path.name}
    ids.update({k: str(v) for k, v in volume.metadata.get("identifiers", {}).items() if v})
    return ids


def side_name(text: str) -> str:
    """``--side`` as ``participants.tsv`` writes it: left, right, L or R (any case)."""
    side = SIDE_NAMES.get(text.strip().lower())
    if side is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not left, right, L or R")
    return side


def verdict_line(side: SideFindings) -> str:
    """One line per side: needs review first, then NVC / MVD candidate, with the leading reason."""
    prefix = f"NEEDS REVIEW ({'; '.join(side.review_reasons)}); " if side.needs_review else ""
    if not side.nerve_found:
        reason = side.reasons[0] if side.reasons else "no reason given"
        return f"{prefix}facial nerve not found ({reason})"
    reason = side.reasons[0] if side.reasons else ""
    return f"{prefix}{_verdict(side)}: {reason}"


def findings_lines(findings: Findings) -> list[str]:
    """What ``nvc run`` prints: per side its verdict and every reason, then every warning.

    A side that needs review says so on its first line, with why. The
    registration's quality, and any ``warnings`` the findings, their
    registration or a side carry, are printed as ``warning:`` lines.
    """
    lines = []
    for name, side in findings.sides.items():
        why = side.review_reasons
        head = f"{name:>5}: "
        if side.needs_review:
            lines.append(f"{head}NEEDS REVIEW: {'; '.join(why) or 'see the report'}")
            head = " " * len(head)
        if not side.nerve_found:
            lines.append(f"{head}facial nerve not found")
        else:
            lines.append(f"{head}{_verdict(side)}")
        lines += [f"         - {r}" for r in side.reasons if r not in why]
        lines += [f"warning: {name}: {w}" for w in side.extra.get("warnings", ())]
    registration = findings.registration
    if registration.get("quality") not in (None, "good"):
        agreement = registration.get("vessel_void_agreement")
        detail = "" if agreement is None else f" (vessel-void agreement {agreement:.2f})"
        lines.append(
            f"warning: registration of the TOF onto the T2 is {registration['quality']}{detail}:"
            " check the registration checkerboard in the report"
        )
    lines += [f"warning: registration: {w}" for w in registration.get("warnings", ())]
    lines += [f"warning: {w}" for w in findings.extra.get("warnings", ())]
    return lines


def _verdict(side: SideFindings) -> str:
    nvc = "NVC" if side.nvc else "no NVC"
    mvd = "MVD candidate" if side.mvd_candidate else "not an MVD candidate"
    return f"{nvc}, {mvd} (confidence {side.confidence:.2f})"


def _naming_inputs(message: str, t2: Path, mra: Path) -> str:
    """An analysis error that names the input files (when it does not already)."""
    if t2.name in message or mra.name in message:
        return message
    return f"{message} (T2 {t2.name}, MRA {mra.name})"


def _refuse_overwriting_inputs(out: Path, inputs: list[Path]) -> None:
    """Refuse an output folder that is an input, lies inside an input DICOM folder, or
    holds an input file under a name the results would take (e.g. ``t2.nii.gz``)."""
    out_r = out.resolve()
    for p in inputs:
        pr = p.resolve()
        folder = pr.parent if pr.suffix.lower() == ".dcm" else pr
        if pr == out_r or (folder.is_dir() and out_r.is_relative_to(folder)):
            raise UsageError(f"output folder {out} would overwrite the input {p}")
        if pr.parent == out_r and pr.name in OUTPUT_NAMES:
            raise UsageError(
                f"output folder {out} would overwrite the input {p} (a result has its name)"
            )

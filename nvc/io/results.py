"""Reading a case's results folder (README "Outputs") for the report."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from nvc.io.errors import VolumeLoadError
from nvc.io.jsonfile import read_json
from nvc.io.nifti import load_nifti
from nvc.report.case import SIDES, Centerline, ReportCase

REQUIRED = ("findings.json", "t2.nii.gz", "labels.nii.gz", "mra_registered.nii.gz")


def load_centerline(path: str | Path) -> Centerline:
    """Read ``cn7_centerline_<side>.tsv`` (x_mm, y_mm, z_mm, arc_mm, segment, ...)."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if not rows:
        raise VolumeLoadError(path, "centerline table has no rows")
    try:
        pts = np.array([[float(r["x_mm"]), float(r["y_mm"]), float(r["z_mm"])] for r in rows])
        arc = np.array([float(r["arc_mm"]) for r in rows])
    except (KeyError, ValueError) as exc:
        raise VolumeLoadError(path, f"not a centerline table ({exc})") from None
    return Centerline(pts, arc, tuple(r["segment"] for r in rows))


def load_results(folder: str | Path) -> ReportCase:
    """Load findings, T2, labels, registered TOF and centerlines of one case.

    Raises
    ------
    VolumeLoadError
        When a required file is missing or unreadable.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise VolumeLoadError(folder, "results folder not found")
    for name in REQUIRED:
        if not (folder / name).is_file():
            raise VolumeLoadError(folder / name, "missing: not a finished nvc results folder")
    try:
        findings = read_json(folder / "findings.json")
    except ValueError as exc:
        raise VolumeLoadError(folder / "findings.json", f"not valid JSON ({exc})") from None
    if not isinstance(findings, dict) or "sides" not in findings:
        raise VolumeLoadError(folder / "findings.json", "not an nvc findings file")
    centerlines = {}
    for side in SIDES:
        p = folder / f"cn7_centerline_{side}.tsv"
        if p.is_file():
            centerlines[side] = load_centerline(p)
    return ReportCase(
        findings=findings,
        t2=load_nifti(folder / "t2.nii.gz"),
        labels=load_nifti(folder / "labels.nii.gz"),
        mra=load_nifti(folder / "mra_registered.nii.gz"),
        centerlines=centerlines,
    )

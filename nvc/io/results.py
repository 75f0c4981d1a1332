"""Reading a case's results folder (README "Outputs"): the one loader.

A folder holding a saved review (``findings_reviewed.json``, written last by
``nvc.io.review.save_review``) opens in its reviewed state: the reviewed
findings, ``labels_reviewed.nii.gz`` and the reviewed centerlines, with the
automated findings kept in ``SavedCase.automated``. ``reviewed=False`` opens
the automated outputs only.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from nvc.findings import Findings, FindingsError
from nvc.io.errors import VolumeLoadError
from nvc.io.labels import read_label_table
from nvc.io.loader import load_volume
from nvc.labels import LABEL_TABLE
from nvc.nerve_geometry import NerveGeometry
from nvc.results import Centerline, SavedCase
from nvc.segments import SEGMENTS
from nvc.vocabulary import SIDES, closed
from nvc.volume import Volume

FINDINGS = "findings.json"
REVIEWED_FINDINGS = "findings_reviewed.json"
REVIEWED_LABELS = "labels_reviewed.nii.gz"
REQUIRED = (FINDINGS, "t2.nii.gz", "labels.nii.gz")


def centerline_name(side: str, *, reviewed: bool = False) -> str:
    """File name of a side's CN VII centerline table (automated or reviewed)."""
    return f"cn7_centerline_{'reviewed_' if reviewed else ''}{side}.tsv"


def is_results_folder(path: str | Path) -> bool:
    """True for a folder holding a finished case (``findings.json`` is written last)."""
    p = Path(path)
    return p.is_dir() and (p / FINDINGS).is_file()


def has_review(path: str | Path) -> bool:
    """True when the folder holds a saved review (``findings_reviewed.json`` is written last)."""
    return (Path(path) / REVIEWED_FINDINGS).is_file()


def centerline_tsv(geom: NerveGeometry) -> str:
    """CN VII centerline as TSV: RAS mm, arc length from the RExP, segment, distance to BS."""
    rows = ["x_mm\ty_mm\tz_mm\tarc_mm\tsegment\tdistance_to_brainstem_mm"]
    for p, s, seg, d in zip(
        geom.points_ras, geom.arc_mm, geom.segments, geom.distance_to_brainstem_mm, strict=True
    ):
        rows.append(f"{p[0]:.3f}\t{p[1]:.3f}\t{p[2]:.3f}\t{s:.3f}\t{seg}\t{d:.3f}")
    return "\n".join(rows) + "\n"


def load_centerline(path: str | Path) -> Centerline:
    """Read ``cn7_centerline_<side>.tsv`` (x_mm, y_mm, z_mm, arc_mm, segment, ...).

    Raises
    ------
    VolumeLoadError
        Not a centerline table.
    """
    with Path(path).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if not rows:
        raise VolumeLoadError(path, "centerline table has no rows")
    try:
        pts = np.array([[float(r["x_mm"]), float(r["y_mm"]), float(r["z_mm"])] for r in rows])
        arc = np.array([float(r["arc_mm"]) for r in rows])
        segments = tuple(closed(r["segment"], SEGMENTS, "segment") for r in rows)
    except (KeyError, ValueError) as exc:
        raise VolumeLoadError(path, f"not a centerline table ({exc})") from None
    return Centerline(pts, arc, segments)


def load_findings(path: str | Path) -> Findings:
    """Read a findings file (``findings.json`` or ``findings_reviewed.json``).

    Raises
    ------
    VolumeLoadError
        Unreadable, not JSON, or not the nvc layout (one line).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VolumeLoadError(path, f"unreadable findings ({exc})") from None
    try:
        return Findings.from_json(text)
    except FindingsError as exc:
        raise VolumeLoadError(path, str(exc)) from None


def load_results(folder: str | Path, *, reviewed: bool = True) -> SavedCase:
    """Read a results folder written by ``nvc run`` (and, if saved, its review).

    Parameters
    ----------
    folder : str or Path
        The results folder.
    reviewed : bool
        Open the saved review when there is one (default); False opens the
        automated outputs only.

    Raises
    ------
    VolumeLoadError
        When the folder is not a finished case, or a file is missing or unreadable.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise VolumeLoadError(folder, "results folder not found")
    for name in REQUIRED:
        if not (folder / name).is_file():
            raise VolumeLoadError(folder / name, "missing: not a finished nvc results folder")
    automated = load_findings(folder / FINDINGS)
    review = reviewed and has_review(folder)
    findings = load_findings(folder / REVIEWED_FINDINGS) if review else automated
    labels_path = folder / (REVIEWED_LABELS if review else "labels.nii.gz")
    labels = load_volume(labels_path)
    try:
        table = read_label_table(labels_path)
    except (OSError, ValueError):
        table = LABEL_TABLE
    optional = {
        name: load_volume(folder / f"{name}.nii.gz")
        if (folder / f"{name}.nii.gz").is_file()
        else None
        for name in ("mra_registered", "distance_mm")
    }
    centerlines = {}
    for side in SIDES:
        path = folder / centerline_name(side, reviewed=review)
        if path.is_file():
            centerlines[side] = load_centerline(path)
    return SavedCase(
        findings=findings,
        t2=load_volume(folder / "t2.nii.gz"),
        labels=Volume(np.asarray(labels.array).astype(np.uint16), labels.affine, labels.metadata),
        mra_registered=optional["mra_registered"],
        distance=optional["distance_mm"],
        centerlines=centerlines,
        label_table=table,
        folder=folder,
        automated=automated if review else None,
    )

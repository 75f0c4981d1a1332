"""Reading a case's results folder back (the contract written by ``pipelines.outputs``).

The viewer, and anything else that shows a finished case, starts here; a case
analysed in memory (``run_case``) becomes the same object through
``SavedCase.from_result``, so both are shown by the same code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nvc.io import VolumeLoadError, load_volume, read_label_table
from nvc.io.jsonfile import read_json
from nvc.io.results import load_centerline
from nvc.labels import LABEL_TABLE, LabelInfo
from nvc.report.case import Centerline
from nvc.volume import Volume
from pipelines.case import SIDES, CaseResult
from pipelines.outputs import FINDINGS


@dataclass(frozen=True)
class SavedCase:
    """A finished case: volumes on the T2 grid, findings (``findings.json`` form), centerlines.

    Attributes
    ----------
    t2, labels, mra_registered, distance : Volume
        On the T2 grid (same shape and affine); ``mra_registered`` and
        ``distance`` are None when absent.
    findings : dict
        As in ``findings.json`` (README, "Outputs").
    centerlines : dict
        Per side with a traced nerve, its ``Centerline``.
    label_table : tuple of LabelInfo
        Names and colours of the label values.
    folder : Path or None
        Where the case was read from (None for a case analysed in memory).
    """

    t2: Volume
    labels: Volume
    mra_registered: Volume | None
    distance: Volume | None
    findings: dict[str, Any]
    centerlines: dict[str, Centerline]
    label_table: tuple[LabelInfo, ...] = LABEL_TABLE
    folder: Path | None = None

    @classmethod
    def from_result(cls, result: CaseResult) -> SavedCase:
        """The in-memory result of ``run_case`` in the same form as a folder read back."""
        centerlines = {
            side: Centerline(
                points_ras=np.asarray(g.points_ras, float),
                arc_mm=np.asarray(g.arc_mm, float),
                segments=tuple(str(s) for s in g.segments),
            )
            for side, g in result.centerlines.items()
        }
        return cls(
            t2=result.t2,
            labels=result.labels,
            mra_registered=result.mra_registered,
            distance=result.distance,
            findings=result.findings.to_dict(),
            centerlines=centerlines,
        )


def is_results_folder(path: str | Path) -> bool:
    """True for a folder holding a finished case (``findings.json`` is written last)."""
    p = Path(path)
    return p.is_dir() and (p / FINDINGS).is_file()


def load_results(folder: str | Path) -> SavedCase:
    """Read a results folder written by ``nvc run``.

    Raises
    ------
    VolumeLoadError
        When the folder is not a finished case, or a file is missing or unreadable.
    """
    folder = Path(folder)
    if not is_results_folder(folder):
        raise VolumeLoadError(folder, f"not an nvc results folder (no {FINDINGS})")
    try:
        findings = read_json(folder / FINDINGS)
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        raise VolumeLoadError(folder / FINDINGS, f"unreadable findings ({exc})") from None
    if not isinstance(findings, dict) or "sides" not in findings:
        raise VolumeLoadError(folder / FINDINGS, "not an nvc findings file (no 'sides')")
    t2 = load_volume(folder / "t2.nii.gz")
    labels = load_volume(folder / "labels.nii.gz")
    optional = {
        name: load_volume(folder / f"{name}.nii.gz")
        if (folder / f"{name}.nii.gz").is_file()
        else None
        for name in ("mra_registered", "distance_mm")
    }
    try:
        table = read_label_table(folder / "labels.nii.gz")
    except (OSError, ValueError):
        table = LABEL_TABLE
    centerlines = {}
    for side in SIDES:
        path = folder / f"cn7_centerline_{side}.tsv"
        if path.is_file():
            centerlines[side] = load_centerline(path)
    return SavedCase(
        t2=t2,
        labels=Volume(np.asarray(labels.array).astype(np.uint16), labels.affine, labels.metadata),
        mra_registered=optional["mra_registered"],
        distance=optional["distance_mm"],
        findings=findings,
        centerlines=centerlines,
        label_table=table,
        folder=folder,
    )

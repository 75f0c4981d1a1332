"""A review revision in a results folder: written beside the automated outputs, never over them.

Files (README "Review"): ``labels_reviewed.nii.gz`` + ``labels_reviewed.tsv``,
``cn7_centerline_reviewed_<side>.tsv`` and ``findings_reviewed.json``, the
reviewed findings with their ``review`` block. Each file is written
atomically and ``findings_reviewed.json`` last, so its presence means a
complete revision (``nvc.io.results.load_results`` then opens it); it is
removed first on discarding, so a half-discarded revision is never opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from nvc.findings import Findings
from nvc.io.atomic import write_text
from nvc.io.labels import label_table_path, save_label_map
from nvc.io.results import REVIEWED_FINDINGS, REVIEWED_LABELS, centerline_name, centerline_tsv
from nvc.nerve_geometry import NerveGeometry
from nvc.vocabulary import SIDES, Side
from nvc.volume import Volume


def review_files(folder: str | Path) -> list[Path]:
    """Every file a review revision may hold in ``folder`` (findings first)."""
    folder = Path(folder)
    names = [REVIEWED_FINDINGS, REVIEWED_LABELS]
    names.append(label_table_path(folder / REVIEWED_LABELS).name)
    names += [centerline_name(s, reviewed=True) for s in SIDES]
    return [folder / n for n in names]


def save_review(
    folder: str | Path,
    findings: Findings,
    labels: Volume,
    centerlines: Mapping[Side, NerveGeometry],
) -> Path:
    """Write a review revision into a results folder; the automated outputs stay as they are.

    Parameters
    ----------
    folder : str or Path
        The results folder (it holds ``findings.json``).
    findings : Findings
        The reviewed findings (with their ``review`` block).
    labels : Volume
        The reviewed label map on the T2 grid.
    centerlines : mapping
        Per side, the reviewed CN VII geometry.

    Returns
    -------
    Path
        ``findings_reviewed.json``.

    Raises
    ------
    ValueError
        When ``findings`` carries no ``review`` block.
    OSError
        When a file cannot be written (the previous revision, if any, stays whole
        unless its findings file was already replaced).
    """
    if findings.review is None:
        raise ValueError("reviewed findings need their review block")
    folder = Path(folder)
    stale = [folder / centerline_name(s, reviewed=True) for s in SIDES if s not in centerlines]
    (folder / REVIEWED_FINDINGS).unlink(missing_ok=True)  # no revision is half-written
    save_label_map(
        Volume(np.asarray(labels.array), labels.affine, labels.metadata), folder / REVIEWED_LABELS
    )
    for side, geom in centerlines.items():
        write_text(folder / centerline_name(side, reviewed=True), centerline_tsv(geom))
    for path in stale:
        path.unlink(missing_ok=True)
    return write_text(folder / REVIEWED_FINDINGS, findings.to_json())


def discard_review(folder: str | Path) -> list[Path]:
    """Remove a review revision (findings first); the automated outputs stay.

    Returns
    -------
    list of Path
        The files removed.
    """
    removed = []
    for path in review_files(folder):
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed

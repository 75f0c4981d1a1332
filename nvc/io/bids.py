"""Writing phantom cohorts as BIDS raw datasets (and reading their participants table)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from nvc.io.atomic import write_text
from nvc.io.jsonfile import write_json
from nvc.io.nifti import save_nifti
from nvc.volume import Volume


def subject_dir(root: Path, label: str) -> Path:
    """``root/sub-<label>/anat``.

    Parameters
    ----------
    root : Path
        The dataset's folder.
    label : str
        Subject label without ``sub-``.

    Returns
    -------
    Path
    """
    return root / f"sub-{label}" / "anat"


def write_bids_anat(
    root: str | Path, label: str, suffix: str, volume: Volume, sidecar: dict[str, Any]
) -> Path:
    """Write ``sub-<label>/anat/sub-<label>_<suffix>.nii.gz`` and its JSON sidecar.

    Parameters
    ----------
    root : str or Path
        The dataset's folder.
    label : str
        Subject label without ``sub-``.
    suffix : str
        BIDS suffix, e.g. ``T2w`` or ``angio``.
    volume : Volume
        The image (RAS+ affine, written as NIfTI).
    sidecar : dict
        JSON sidecar content (acquisition facts).

    Returns
    -------
    Path
        The NIfTI file written.
    """
    folder = subject_dir(Path(root), label)
    path = folder / f"sub-{label}_{suffix}.nii.gz"
    save_nifti(volume, path)
    write_json(folder / f"sub-{label}_{suffix}.json", sidecar)
    return path


def write_dataset_description(root: str | Path, name: str, **extra: Any) -> Path:
    """Write ``dataset_description.json`` of a raw BIDS dataset.

    Parameters
    ----------
    root : str or Path
        The dataset's folder.
    name : str
        The dataset's ``Name``.
    **extra
        Further keys of the description.

    Returns
    -------
    Path
        The file written.
    """
    return write_json(
        Path(root) / "dataset_description.json",
        {"Name": name, "BIDSVersion": "1.9.0", "DatasetType": "raw", **extra},
    )


def write_participants(root: str | Path, rows: list[dict[str, str]]) -> Path:
    """Write ``participants.tsv`` (first column ``participant_id``).

    Parameters
    ----------
    root : str or Path
        The dataset's folder.
    rows : list of dict of str to str
        One row per subject, each with ``participant_id`` and the same keys.

    Returns
    -------
    Path
        The file written.
    """
    buf = io.StringIO()
    fields = list(rows[0]) if rows else ["participant_id"]
    writer = csv.DictWriter(buf, fieldnames=fields, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_text(Path(root) / "participants.tsv", buf.getvalue())


def read_participants(root: str | Path) -> dict[str, dict[str, str]]:
    """``participants.tsv`` as {participant_id: row}; empty when the file is absent.

    Parameters
    ----------
    root : str or Path
        The dataset's folder.

    Returns
    -------
    dict of str to dict of str to str
        Rows by ``participant_id`` (with its ``sub-`` prefix as written).
    """
    path = Path(root) / "participants.tsv"
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["participant_id"]: row for row in csv.DictReader(fh, delimiter="\t")}

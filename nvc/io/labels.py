"""Label maps on disk: unsigned-integer NIfTI plus a label table beside it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nvc.io.atomic import write_text
from nvc.io.nifti import save_nifti
from nvc.io.tables import read_tsv
from nvc.labels import LABEL_TABLE, LabelInfo
from nvc.volume import Volume


def label_table_path(path: str | Path) -> Path:
    """``labels.nii.gz`` -> ``labels.tsv`` (BIDS dseg style table).

    Parameters
    ----------
    path : str or Path
        A label map (``.nii`` or ``.nii.gz``).

    Returns
    -------
    Path
        The ``.tsv`` beside it, same stem.
    """
    path = Path(path)
    stem = path.name
    for suffix in (".nii.gz", ".nii"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    return path.with_name(stem + ".tsv")


def save_label_map(
    volume: Volume, path: str | Path, *, table: tuple[LabelInfo, ...] = LABEL_TABLE
) -> Path:
    """Write a label map as uint8/uint16 NIfTI and its table (index, name, abbreviation, color).

    Parameters
    ----------
    volume : Volume
        Integer labels (0 background) on any grid.
    path : str or Path
        The NIfTI file to write.
    table : tuple of LabelInfo
        Names and colours of the labels.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        If the labels are negative or non-integer.
    """
    data = np.asarray(volume.array)
    if data.dtype.kind == "f" and not np.array_equal(data, np.round(data)):
        raise ValueError("label maps must hold integers")
    if data.size and data.min() < 0:
        raise ValueError("label maps must not hold negative values")
    dtype = np.uint8 if data.size == 0 or data.max() < 256 else np.uint16
    save_nifti(volume, path, dtype=dtype)
    rows = ["index\tname\tabbreviation\tcolor"]
    rows += [f"{t.value}\t{t.name}\t{t.abbreviation}\t{t.hex}" for t in table]
    write_text(label_table_path(path), "\n".join(rows) + "\n")
    return Path(path)


def read_label_table(path: str | Path) -> tuple[LabelInfo, ...]:
    """Read a label table (index, name, abbreviation, color ``#rrggbb``) written by
    ``save_label_map``; ``path`` is the table or the label map beside it.

    Parameters
    ----------
    path : str or Path
        The table, or the label map beside it.

    Returns
    -------
    tuple of LabelInfo
        One per row, in file order.

    Raises
    ------
    ValueError
        If a row lacks a column or holds a malformed index or colour.
    OSError
        If the table cannot be read.
    """
    path = Path(path)
    table = path if path.suffix == ".tsv" else label_table_path(path)
    infos = []
    for row in read_tsv(table):
        try:
            color = row["color"].lstrip("#")
            rgb = (int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16))
            infos.append(
                LabelInfo(int(row["index"]), row["name"], row.get("abbreviation", ""), rgb)
            )
        except (KeyError, ValueError, IndexError) as exc:
            raise ValueError(f"{table}: malformed label table row {row} ({exc})") from None
    return tuple(infos)

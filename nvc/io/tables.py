"""Tab-separated tables (BIDS style): a header line, then one row per line."""

from __future__ import annotations

import csv
from pathlib import Path


def read_tsv(path: str | Path) -> list[dict[str, str]]:
    """Rows of a TSV file as dictionaries keyed by the header's column names.

    Parameters
    ----------
    path : str or Path
        A tab-separated file with a header row.

    Returns
    -------
    list of dict of str to str
        One dict per row, keyed by the header.

    Raises
    ------
    ValueError
        If a row has a different number of fields than the header.
    OSError
        If the file cannot be read.
    """
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader, None)
        if header is None:
            return []
        rows = []
        for n, fields in enumerate(reader, start=2):
            if not fields:
                continue
            if len(fields) != len(header):
                raise ValueError(f"{path}: line {n} has {len(fields)} fields, header {len(header)}")
            rows.append(dict(zip(header, fields, strict=True)))
    return rows

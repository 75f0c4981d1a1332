"""JSON files written atomically, with numpy values converted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from nvc.io.atomic import write_text


def _default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON (atomically).

    Parameters
    ----------
    path : str or Path
        The file to write.
    data : object
        JSON-serialisable data.

    Returns
    -------
    Path
        ``path``.
    """
    return write_text(path, json.dumps(data, indent=2, default=_default, allow_nan=False) + "\n")


def read_json(path: str | Path) -> Any:
    """Read a JSON file.

    Parameters
    ----------
    path : str or Path
        A UTF-8 JSON file.

    Returns
    -------
    object
        The parsed data.
    """
    return json.loads(Path(path).read_text(encoding="utf-8"))

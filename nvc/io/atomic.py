"""Atomic file writes: write beside the target under a temporary name, then rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``path`` on success.

    The temporary name keeps the target's suffixes (``.nii.gz`` stays
    ``.nii.gz``) so writers that pick a format from the name still work. On
    any error the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Atomically write a UTF-8 text file."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


@contextlib.contextmanager
def staged_folder(path: str | Path, *, last: Sequence[str] = ()) -> Iterator[Path]:
    """Yield an empty staging folder beside ``path``; on success move its entries into ``path``.

    Everything is written (and may fail, e.g. on a full disk) in the staging
    folder first, so a failure leaves ``path`` exactly as it was: an earlier
    complete results folder stays complete, a new one is not created. On
    success the entries are renamed into ``path`` (same file system: no new
    space needed); the names in ``last`` are removed from ``path`` first and
    moved in last, so their presence means the rest is there. Other files
    already in ``path`` are kept.

    Raises
    ------
    OSError
        Naming ``path`` (not the staging folder) when anything cannot be written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
    try:
        yield stage
        path.mkdir(exist_ok=True)
        for name in last:
            (path / name).unlink(missing_ok=True)
        for entry in sorted(stage.iterdir(), key=lambda e: (e.name in last, e.name)):
            target = path / entry.name
            if entry.is_dir() and target.is_dir():
                shutil.rmtree(target)
            entry.replace(target)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Atomically write a binary file."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path

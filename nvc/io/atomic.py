"""Atomic file writes: write beside the target under a temporary name, then rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
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


#: Marker in the names of temporary files and folders (``.<name>.<random>.tmp...``).
TEMP_MARK = ".tmp"


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it is renamed onto ``path``.

    A folder that exists at ``path`` is replaced: it is renamed aside, the new
    folder renamed in, then the old one removed, so ``path`` is at any moment
    either absent, the old complete folder or the new complete folder, never a
    half-written one. On any error the temporary folder is removed and ``path``
    is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_dir(path.parent, f".{path.name}.")
    try:
        yield tmp
        if path.exists():
            old = _new_dir(path.parent, f".{path.name}.old.")
            path.replace(old / path.name)
            tmp.replace(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.replace(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _new_dir(parent: Path, prefix: str) -> Path:
    """A new uniquely named folder (permissions from the umask, unlike ``mkdtemp``'s 0700)."""
    while True:
        candidate = parent / f"{prefix}{uuid.uuid4().hex[:12]}{TEMP_MARK}"
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate


def remove_temporaries(root: str | Path, *, depth: int = 2) -> list[Path]:
    """Remove what interrupted atomic writes left in ``root`` (down to ``depth`` levels).

    Only hidden entries whose name carries the temporary marker (``.name.*.tmp*``)
    are removed. Returns what was removed.
    """
    removed: list[Path] = []
    folders = [Path(root)]
    for _ in range(depth):
        nxt = []
        for folder in folders:
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if entry.name.startswith(".") and TEMP_MARK in entry.name:
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink(missing_ok=True)
                    removed.append(entry)
                elif entry.is_dir() and not entry.is_symlink():
                    nxt.append(entry)
        folders = nxt
    return removed

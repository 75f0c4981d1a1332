"""Atomic, durable file writes: write beside the target under a temporary name, then rename.

Outputs get the permissions a plain ``open()`` or ``mkdir()`` gives under the
process umask (0644 and 0755 under umask 022), not ``tempfile``'s owner-only
0600 and 0700, so a colleague can read a shared derivatives folder.

Durability: every file is fsynced before it is renamed into place and its
folder is fsynced after the rename, so after a power cut a target is either
the old complete file or the new complete one (a folder: old or new, whole);
a completion marker (``last`` of ``staged_folder``) is made durable only after
everything it vouches for.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

#: Marker in the names of temporary files and folders (``.<name>.<random>.tmp...``).
TEMP_MARK = ".tmp"
#: Errors of fsync on a folder from file systems that cannot sync folders (nothing to do there).
_NO_DIR_SYNC = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF}


def fsync_file(path: str | Path) -> None:
    """Flush a file's data and metadata to the disk (``fsync``).

    Parameters
    ----------
    path : str or Path
        An existing file.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | Path) -> None:
    """Make the entries of a folder (creations, renames, removals) durable.

    A no-op where folders cannot be opened (Windows) or synced (some network
    and FUSE file systems answer EINVAL).

    Parameters
    ----------
    path : str or Path
        An existing folder.
    """
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _NO_DIR_SYNC:
            raise
    finally:
        os.close(fd)


def fsync_tree(root: str | Path) -> None:
    """fsync every file and folder under ``root`` (folders after their entries); links skipped.

    Parameters
    ----------
    root : str or Path
        A file or folder.
    """
    for folder, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                fsync_file(path)
        fsync_dir(folder)


def make_dirs(path: str | Path) -> None:
    """``mkdir -p`` whose new folders are durable (each one's parent fsynced after it).

    Parameters
    ----------
    path : str or Path
        The folder to create, with its missing parents.
    """
    path = Path(path)
    missing = []
    while not path.is_dir():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    if not missing:
        return
    missing[0].mkdir(parents=True, exist_ok=True)
    for folder in reversed(missing):
        fsync_dir(folder.parent)


def _new_file(parent: Path, prefix: str, suffix: str) -> Path:
    """A new, empty, uniquely named file with the mode ``open()`` gives (0666 minus the umask).

    ``tempfile.mkstemp`` would make it 0600, and the mode survives the rename.
    """
    while True:
        candidate = parent / f"{prefix}{uuid.uuid4().hex[:12]}{suffix}"
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``path`` on success.

    The temporary name keeps the target's suffixes (``.nii.gz`` stays
    ``.nii.gz``) so writers that pick a format from the name still work. On
    success the file is fsynced, renamed onto ``path`` and the folder fsynced.
    On any error the temporary file is removed and ``path`` is left untouched.

    Parameters
    ----------
    path : str or Path
        The file to write.

    Yields
    ------
    Path
        The temporary path to write to (same folder, same suffixes).
    """
    path = Path(path)
    make_dirs(path.parent)
    tmp = _new_file(path.parent, f".{path.name}.", TEMP_MARK + "".join(path.suffixes))
    try:
        yield tmp
        fsync_file(tmp)
        tmp.replace(path)
        fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Atomically write a UTF-8 text file.

    Parameters
    ----------
    path : str or Path
        The file to write.
    text : str
        Its content.

    Returns
    -------
    Path
        ``path``.
    """
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
    moved in last, so their presence means the rest is there, also after a
    power cut (everything is fsynced first, the folder again between the rest
    and the markers). Other files already in ``path`` are kept.

    Parameters
    ----------
    path : str or Path
        The results folder to fill (created when absent).
    last : sequence of str
        Entry names moved in last (e.g. ``findings.json``).

    Yields
    ------
    Path
        The staging folder to write into.

    Raises
    ------
    OSError
        Naming ``path`` (not the staging folder) when anything cannot be written.
    """
    path = Path(path)
    try:
        make_dirs(path.parent)
        stage = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
    try:
        yield stage
        fsync_tree(stage)  # all data on disk before any of it shows up in ``path``
        make_dirs(path)
        for name in last:
            (path / name).unlink(missing_ok=True)
        fsync_dir(path)  # the old markers are gone before new files arrive beside them
        entries = sorted(stage.iterdir(), key=lambda e: e.name)
        firsts = [e for e in entries if e.name not in last]
        markers = [e for e in entries if e.name in last]
        for batch in (firsts, markers):
            for entry in batch:
                target = path / entry.name
                if entry.is_dir() and target.is_dir():
                    shutil.rmtree(target)
                entry.replace(target)
            fsync_dir(path)  # the rest is durable before the markers, the markers after it
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Atomically write a binary file.

    Parameters
    ----------
    path : str or Path
        The file to write.
    data : bytes
        Its content.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it is renamed onto ``path``.

    A folder that exists at ``path`` is replaced: it is renamed aside, the new
    folder renamed in, then the old one removed, so ``path`` is at any moment
    either absent, the old complete folder or the new complete folder, never a
    half-written one, also after a power cut (the new folder's files and
    folders are fsynced before the rename, the parent folder after it). On any
    error the temporary folder is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str or Path
        The folder to create or replace.

    Yields
    ------
    Path
        The temporary folder to fill.
    """
    path = Path(path)
    make_dirs(path.parent)
    tmp = _new_dir(path.parent, f".{path.name}.")
    try:
        yield tmp
        fsync_tree(tmp)  # the whole folder is on disk before it is renamed into place
        if path.exists():
            old = _new_dir(path.parent, f".{path.name}.old.")
            path.replace(old / path.name)
            tmp.replace(path)
            fsync_dir(path.parent)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.replace(path)
            fsync_dir(path.parent)
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

    Parameters
    ----------
    root : str or Path
        Folder to clean (absent: nothing to do).
    depth : int
        Levels of subfolders searched.

    Returns
    -------
    list of Path
        The removed entries.
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

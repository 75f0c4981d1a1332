"""An exclusive lock file that names its holder (host, pid, start time).

Used by ``nvc batch`` so that two runs never write one output folder at once.

The lock is ``fcntl.flock`` on the file, not the file's existence
(``os.open(O_CREAT | O_EXCL)``): the kernel releases a flock when its process
ends however it ends (SIGKILL, out-of-memory killer, a crash), so a killed run
never leaves a lock that is still held, and nothing has to guess whether a
recorded pid is still the same process (pids are reused) or is alive on
another host (which cannot be checked from here). The record written into the
file only serves to name the holder to whoever is refused. A record found in
a file whose flock is free is what a killed run left: its pid is no longer
alive (it would still hold the flock), and the lock is taken over.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from nvc.io.atomic import make_dirs

_MAX_RECORD = 4096


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) a lock.

    Attributes
    ----------
    host : str
        Host name of the holding process.
    pid : int
        Its process id on that host.
    started_utc : str
        When it took the lock (ISO 8601, UTC).
    """

    host: str
    pid: int
    started_utc: str

    def describe(self) -> str:
        """``host H, pid P, started T``.

        Returns
        -------
        str
            ``host H, pid P, started T``.
        """
        return f"host {self.host}, pid {self.pid}, started {self.started_utc}"


class LockHeld(RuntimeError):
    """The lock is held by another process (``holder`` is None while it has not said who)."""

    def __init__(self, path: str | Path, holder: Holder | None) -> None:
        self.path = Path(path)
        self.holder = holder
        who = holder.describe() if holder is not None else "holder not recorded yet"
        super().__init__(f"{self.path} is held by another process ({who})")


class ExclusiveLock:
    """An exclusive, non-blocking lock on the file ``path`` (created with its folders).

    ``acquire`` raises ``LockHeld`` when another process holds it; ``release``
    removes the file.

    Examples
    --------
    >>> lock = ExclusiveLock(out / ".nvc-batch.lock")  # doctest: +SKIP
    >>> stale = lock.acquire()  # doctest: +SKIP
    >>> lock.release()  # doctest: +SKIP
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> Holder | None:
        """Take the lock and record this process as its holder.

        Returns
        -------
        Holder or None
            The holder recorded by a process that ended without releasing the
            lock (killed), whose lock was taken over; None when the lock was free.

        Raises
        ------
        LockHeld
            When another process holds the lock.
        OSError
            When the lock file cannot be created or locked.
        """
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this lock")
        make_dirs(self.path.parent)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_record(fd)
                os.close(fd)
                raise LockHeld(self.path, holder) from None
            except BaseException:
                os.close(fd)
                raise
            # The previous holder removes the file on release: when it did so between our
            # open and our flock, we locked a file that no longer has this name; try again.
            if _same_file(fd, self.path):
                break
            os.close(fd)
        try:
            stale = _read_record(fd)
            me = Holder(
                socket.gethostname(), os.getpid(), datetime.now(UTC).isoformat(timespec="seconds")
            )
            data = json.dumps(
                {"host": me.host, "pid": me.pid, "started_utc": me.started_utc}
            ).encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, data + b"\n", 0)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return stale

    def release(self) -> None:
        """Remove the lock file and release the lock (nothing when not held)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            self.path.unlink(missing_ok=True)  # while still locked: see acquire()
        finally:
            os.close(fd)

    def __enter__(self) -> Holder | None:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _read_record(fd: int) -> Holder | None:
    """The holder recorded in the lock file, or None (empty: its holder is just starting)."""
    raw = os.pread(fd, _MAX_RECORD, 0)
    with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
        data = json.loads(raw.decode("utf-8", "replace"))
        return Holder(str(data["host"]), int(data["pid"]), str(data["started_utc"]))
    return None

"""One ``nvc batch`` per output folder: a second is refused naming the holder; a killed one's
lock is taken over.

The holder is a separate process taking the same lock as ``nvc batch`` does
(``nvc.io.lock.ExclusiveLock`` on ``OUT_DIR/.nvc-batch.lock``); a whole batch
killed with SIGKILL and rerun is also covered by
``tests/pipelines/test_batch.py::test_killed_batch_resumes_without_recomputing``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from nvc.io.lock import ExclusiveLock, Holder, LockHeld
from nvc_pipelines.batch import LOCK
from nvc_pipelines.cli import main

HOLD = (
    "import sys, time\n"
    "from nvc.io.lock import ExclusiveLock\n"
    "ExclusiveLock(sys.argv[1]).acquire()\n"
    "print('held', flush=True)\n"
    "time.sleep(120)\n"
)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A BIDS tree with one case of empty image files (discovery reads names only)."""
    root = tmp_path / "bids"
    anat = root / "sub-01" / "anat"
    anat.mkdir(parents=True)
    (anat / "sub-01_T2w.nii.gz").write_bytes(b"")
    (anat / "sub-01_angio.nii.gz").write_bytes(b"")
    (root / "dataset_description.json").write_text('{"Name": "t", "BIDSVersion": "1.9.0"}')
    return root


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A process holding the lock of ``tmp_path / "out"`` (the output folder) until killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path / "out" / LOCK)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _description(out: Path) -> None:
    """Make ``out`` an nvc derivatives dataset (what a first participant run writes)."""
    desc = {"DatasetType": "derivative", "GeneratedBy": [{"Name": "nvc"}], "Name": "x"}
    (out / "dataset_description.json").write_text(json.dumps(desc))


def test_a_second_batch_on_the_same_output_is_refused_naming_the_holder(
    dataset, tmp_path, holder, capsys
):
    out = tmp_path / "out"
    assert main(["batch", str(dataset), str(out), "participant"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"nvc: error: output folder {out} is in use by another nvc batch")
    host, started = socket.gethostname(), "started 20"
    assert f"host {host}, pid {holder.pid}, {started}" in err[0]
    assert sorted(p.name for p in out.iterdir()) == [LOCK], "the refused run wrote nothing"
    _description(out)
    assert main(["batch", str(dataset), str(out), "group"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and f"pid {holder.pid}" in err[0], err
    assert not (out / "group_summary.tsv").exists()


def test_a_stale_lock_of_a_killed_batch_is_taken_over(dataset, tmp_path, holder, capsys):
    out = tmp_path / "out"
    lock_file = out / LOCK
    recorded = json.loads(lock_file.read_text())
    assert recorded["pid"] == holder.pid and recorded["host"] == socket.gethostname()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert not psutil.pid_exists(holder.pid)
    assert lock_file.is_file(), "a killed holder leaves its lock file"
    _description(out)
    assert main(["batch", str(dataset), str(out), "group"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    took = f"taking over the lock left by a batch that was killed (host {socket.gethostname()}"
    assert f"{took}, pid {holder.pid}, started 20" in captured.out
    assert (out / "group_summary.tsv").is_file()
    assert not lock_file.exists(), "released at the end"


def test_the_lock_names_its_holder_and_is_released(tmp_path):
    path = tmp_path / "deep" / "out" / LOCK
    first = ExclusiveLock(path)
    assert first.acquire() is None
    with pytest.raises(LockHeld) as info:
        ExclusiveLock(path).acquire()  # another open file description: refused, even in-process
    held = info.value.holder
    assert isinstance(held, Holder) and held.pid == os.getpid()
    assert held.host == socket.gethostname() and held.started_utc.endswith("+00:00")
    first.release()
    assert not path.exists()
    with ExclusiveLock(path) as stale:
        assert stale is None and path.is_file()
    assert not path.exists()

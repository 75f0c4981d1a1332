"""Atomic writes survive a power cut: each file is fsynced before its rename, its folder after.

``os.fsync`` and ``os.replace`` are wrapped to keep a journal of which inode was
synced or renamed when; the order in that journal is what a power cut could
expose.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nvc.io import save_nifti, staged_folder, write_text
from nvc.io.atomic import atomic_dir
from nvc.volume import Volume

Inode = tuple[int, int]


def _inode(path: str | Path) -> Inode:
    st = os.lstat(path)
    return st.st_dev, st.st_ino


class Journal:
    """The fsyncs and renames done while it is installed, in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[str, Inode]] = []
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd: Any) -> None:
            st = os.fstat(fd)
            self.events.append(("fsync", (st.st_dev, st.st_ino)))
            real_fsync(fd)

        def replace(src: Any, dst: Any, **kwargs: Any) -> None:
            moved = _inode(src)
            real_replace(src, dst, **kwargs)
            self.events.append(("rename", moved))

        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)

    def index(self, kind: str, inode: Inode, *, last: bool = False) -> int:
        hits = [i for i, e in enumerate(self.events) if e == (kind, inode)]
        assert hits, f"no {kind} of {inode}"
        return hits[-1] if last else hits[0]

    def synced_between(self, inode: Inode, start: int, end: int) -> bool:
        return ("fsync", inode) in self.events[start + 1 : end]


def test_a_file_is_synced_before_its_rename_and_its_folder_after(tmp_path, monkeypatch):
    journal = Journal(monkeypatch)
    target = write_text(tmp_path / "findings.json", "{}")
    vol = Volume(np.zeros((4, 4, 4), np.float32), np.eye(4))
    image = save_nifti(vol, tmp_path / "t2.nii.gz")
    for path in (target, image):
        renamed = journal.index("rename", _inode(path))
        assert journal.synced_between(_inode(path), -1, renamed), path
        assert journal.synced_between(_inode(tmp_path), renamed, len(journal.events)), path


def test_a_staged_folder_is_on_disk_before_its_marker_is(tmp_path, monkeypatch):
    out = tmp_path / "case"
    with staged_folder(out, last=("findings.json",)) as stage:
        write_text(stage / "t2.tsv", "x")
        write_text(stage / "report" / "report.html", "x")
        write_text(stage / "findings.json", "{}")
        journal = Journal(monkeypatch)  # what the writers synced does not count
    marker = journal.index("rename", _inode(out / "findings.json"))
    others = [out / "t2.tsv", out / "report", out / "report" / "report.html"]
    for path in others:
        assert journal.synced_between(_inode(path), -1, marker), path
    last_other = max(journal.index("rename", _inode(p)) for p in (out / "t2.tsv", out / "report"))
    assert journal.synced_between(_inode(out), last_other, marker), "entries durable first"
    assert journal.synced_between(_inode(out), marker, len(journal.events)), "marker durable"
    assert journal.synced_between(_inode(tmp_path), -1, last_other), "new folder durable"


def test_a_case_folder_is_on_disk_before_it_is_renamed_into_place(tmp_path, monkeypatch):
    target = tmp_path / "sub-01"
    for _ in range(2):  # a new folder, then one replacing the old
        with atomic_dir(target) as tmp:
            write_text(tmp / "findings.json", "{}")
            write_text(tmp / "report" / "report.html", "x")
            journal = Journal(monkeypatch)
        renamed = journal.index("rename", _inode(target))
        for path in (target / "findings.json", target / "report", target / "report/report.html"):
            assert journal.synced_between(_inode(path), -1, renamed), path
        assert journal.synced_between(_inode(target), -1, renamed)
        assert journal.synced_between(_inode(tmp_path), renamed, len(journal.events))
        monkeypatch.undo()

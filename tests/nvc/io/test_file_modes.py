"""Outputs get the permissions a plain ``open()`` / ``mkdir()`` would give under the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nvc.io import save_nifti, staged_folder, write_text
from nvc.io.atomic import atomic_dir, write_bytes
from nvc.io.jsonfile import write_json
from nvc.io.mesh import save_obj
from nvc.volume import Volume


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _write_everything(root: Path) -> None:
    vol = Volume(np.zeros((4, 4, 4), np.float32), np.eye(4))
    write_text(root / "new_folder" / "text.txt", "x")
    write_bytes(root / "bytes.bin", b"x")
    write_json(root / "data.json", {"a": 1})
    save_nifti(vol, root / "image.nii.gz")
    save_nifti(vol, root / "image.nii")
    save_obj(root / "mesh.obj", np.eye(3), np.array([[0, 1, 2]]), name="m")
    with staged_folder(root / "case", last=("findings.json",)) as stage:
        write_text(stage / "t2.tsv", "x")
        write_text(stage / "report" / "report.html", "x")
        write_text(stage / "findings.json", "{}")
    with atomic_dir(root / "sub-01") as tmp:
        write_text(tmp / "findings.json", "{}")
        write_text(tmp / "report" / "report.html", "x")


def test_outputs_get_the_modes_a_plain_open_gives(tmp_path: Path, umask: int):
    with (tmp_path / "plain.txt").open("w", encoding="utf-8"):
        pass
    (tmp_path / "plain_dir").mkdir()
    file_mode, dir_mode = _mode(tmp_path / "plain.txt"), _mode(tmp_path / "plain_dir")
    assert (file_mode, dir_mode) == (0o666 & ~umask, 0o777 & ~umask)
    root = tmp_path / "out"
    root.mkdir()
    _write_everything(root)
    seen = {p.relative_to(root).as_posix(): oct(_mode(p)) for p in sorted(root.rglob("*"))}
    assert len(seen) == 16, seen
    want = {name: oct(dir_mode if (root / name).is_dir() else file_mode) for name in seen}
    assert seen == want

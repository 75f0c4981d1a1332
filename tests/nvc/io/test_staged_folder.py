"""``staged_folder``: all or nothing into a results folder, the completion marker last."""

from __future__ import annotations

import pytest

from nvc.io import staged_folder, write_text


def test_success_moves_everything_in_and_keeps_other_files(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    write_text(out / "done.json", "old")
    write_text(out / "user.txt", "mine")
    moved = []
    with staged_folder(out, last=("done.json",)) as stage:
        write_text(stage / "a.tsv", "a")
        write_text(stage / "done.json", "new")
        (stage / "sub").mkdir()
        write_text(stage / "sub" / "b.txt", "b")
        moved = sorted(p.name for p in stage.iterdir())
    assert moved == ["a.tsv", "done.json", "sub"]
    assert (out / "done.json").read_text() == "new" and (out / "a.tsv").read_text() == "a"
    assert (out / "sub" / "b.txt").read_text() == "b"
    assert (out / "user.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_failure_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    write_text(out / "done.json", "old")
    with pytest.raises(OSError) as info, staged_folder(out, last=("done.json",)) as stage:
        write_text(stage / "a.tsv", "a")
        raise OSError(28, "No space left on device", str(stage / "b.nii.gz"))
    assert info.value.filename == str(out)  # names the results folder, not the staging one
    assert sorted(p.name for p in out.iterdir()) == ["done.json"]
    assert (out / "done.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]
    with pytest.raises(RuntimeError), staged_folder(tmp_path / "new") as stage:
        write_text(stage / "a.tsv", "a")
        raise RuntimeError("stop")
    assert not (tmp_path / "new").exists()

"""A small run of ``bench/recompute.py`` (the clinical-size command is in its docstring)."""

from __future__ import annotations

from bench.recompute import main


def test_recompute_bench_prints_a_row_per_edit(tmp_path, capsys):
    assert main(["--size", "small", "--repeats", "1", "--cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| open_review (once per case) |" in out
    for edit in ("no edit", "RDP moved 3 mm", "vessel deleted", "artery painted", "course point"):
        assert f"| recompute: {edit}" in out

"""A small run of ``bench/speed.py`` (the README gives the clinical-size command)."""

from __future__ import annotations

from bench.speed import main


def test_speed_bench_prints_the_stage_and_route_tables(tmp_path, capsys):
    assert main(["--size", "small", "--repeats", "1", "--cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for stage in ("load", "registration", "brainstem", "vessels", "nerves", "contacts", "write"):
        assert f"| {stage} |" in out
    assert "**whole case**" in out
    for route in ("skimage frangi", "scipy distance_transform_edt", "plain SimpleITK rigid MI"):
        assert route in out
    assert (tmp_path / "small-seed7" / "t2.nii.gz").exists()

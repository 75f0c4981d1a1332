"""``nvc view`` refuses what it cannot open, in one line, without napari too."""

from __future__ import annotations

import sys

from nvc_pipelines.cli import main


def test_view_refuses_a_folder_without_findings(tmp_path, capsys):
    assert main(["view", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not an nvc results folder" in err and len(err.strip().splitlines()) == 1


def test_view_without_napari_is_a_clear_usage_error(tmp_path, monkeypatch, capsys):
    (tmp_path / "findings.json").write_text("{}")
    monkeypatch.setitem(sys.modules, "napari", None)  # import napari -> ImportError
    assert main(["view", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "nvc: error: napari is not installed (pip install 'nvc[napari]')"

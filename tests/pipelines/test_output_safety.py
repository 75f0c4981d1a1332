"""Output safety of ``nvc run``: identifiers stay out, a full disk loses nothing, inputs are
never overwritten, no input is unpickled or evaluated; and int8 / float64 / DICOM inputs analyse.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import nvc.io.nifti
import nvc_pipelines.run
from nvc.io import save_nifti
from nvc.volume import Volume, crop_world
from nvc_pipelines.cli import main
from nvc_pipelines.outputs import OUTPUT_NAMES
from tests.helpers import write_dicom_series

REPO = Path(__file__).resolve().parents[2]
#: The source folders (their names, not import names).
SOURCE_FOLDERS = (REPO / "nvc", REPO / "pipelines", REPO / "viewer_plugins")
IDENTIFIERS = {
    "0010|0010": "Doe^Janet7Q",
    "0010|0020": "PID-93571",
    "0010|0030": "19450312",
    "0008|0080": "St Elsewhere Clinic",
}


@pytest.fixture(scope="module")
def full_run(phantom_case, tmp_path_factory):
    """One whole analysis: T2 as a DICOM series with identifiers, TOF as int8 NIfTI.

    Returns the results folder and the CaseResult (captured for the disk-full test).
    """
    root = tmp_path_factory.mktemp("dicom_case")
    t2_dir = write_dicom_series(phantom_case.t2, root / "t2_dicom", **IDENTIFIERS)
    a = phantom_case.mra.array.astype(np.float64)
    mra = save_nifti(
        phantom_case.mra.with_array(np.round(a / a.max() * 127).astype(np.int8)),
        root / "tof_int8.nii.gz",
    )
    captured = {}
    real_run_case = nvc_pipelines.run.run_case

    def capturing(*args, **kwargs):
        captured["result"] = real_run_case(*args, **kwargs)
        return captured["result"]

    mp = pytest.MonkeyPatch()
    mp.setattr(nvc_pipelines.run, "run_case", capturing)
    out = root / "results"
    try:
        code = main(["run", "--t2", str(t2_dir), "--mra", str(mra), "--out", str(out)])
    finally:
        mp.undo()
    assert code == 0
    return out, captured["result"], t2_dir, mra


def _contents(folder: Path) -> dict[str, bytes]:
    files = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            raw = p.read_bytes()
            files[p.relative_to(folder).as_posix()] = (
                gzip.decompress(raw) if p.suffix == ".gz" else raw
            )
    return files


@pytest.mark.slow
def test_dicom_int8_case_analyses_and_outputs_hold_no_identifiers(full_run):
    out, result, _, _ = full_run
    assert result.t2.metadata["identifiers"]["patient_id"] == "PID-93571"  # they were read
    files = _contents(out)
    results = {n for n in files if not n.startswith("report/")}
    assert results <= set(OUTPUT_NAMES) and "findings.json" in results
    assert "report/report.html" in files  # the surgeon report is checked too
    for name, data in files.items():
        # embedded and binary images (base64 PNG, PNG, PDF streams, meshes) hold random bytes
        # where a 3-letter name turns up by chance: check their text only, and voxel files'
        # headers and extensions (the first 64 kB)
        data = re.sub(rb"data:image/png;base64,[A-Za-z0-9+/=]+", b"", data)
        if name.endswith((".png", ".pdf", ".stl", ".obj")):
            continue
        if name.endswith(".nii.gz"):
            data = data[:65536]
        for value in (*IDENTIFIERS.values(), "Doe", "Janet", "t2_dicom"):
            assert value.encode() not in data, (name, value)


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_full_disk_exits_5_and_leaves_the_earlier_results_intact(
    full_run, tmp_path, monkeypatch, capsys
):
    out, result, t2_dir, mra = full_run
    earlier = tmp_path / "res"
    shutil.copytree(out, earlier)
    before = _digests(earlier)
    calls = []
    real_save = nvc.io.nifti._save_image

    def disk_fills_up(img, filename, **kwargs):
        calls.append(filename)
        if len(calls) == 1:
            return real_save(img, filename, **kwargs)
        Path(filename).write_bytes(b"\0" * 4096)  # half written, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(filename))

    monkeypatch.setattr(nvc_pipelines.run, "run_case", lambda *a, **k: result)
    monkeypatch.setattr(nvc.io.nifti, "_save_image", disk_fills_up)
    fresh = tmp_path / "fresh"
    for target in (earlier, fresh):
        code = main(["run", "--t2", str(t2_dir), "--mra", str(mra), "--out", str(target)])
        err = capsys.readouterr().err
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 5, err
        assert len(lines) == 1 and "No space left on device" in lines[0], err
        assert str(target) in lines[0] and "Traceback" not in err
        calls.clear()
    assert _digests(earlier) == before  # the earlier complete folder is untouched
    assert not fresh.exists()  # no half-written new folder, so no findings.json
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]  # no staging leftovers


@pytest.mark.slow
@pytest.mark.parametrize(("raised", "code"), [(KeyboardInterrupt, 130), (MemoryError, 4)])
def test_interrupted_or_out_of_memory_run_is_one_line(
    full_run, tmp_path, monkeypatch, capsys, raised, code
):
    out, result, t2_dir, mra = full_run
    earlier = tmp_path / "res"
    shutil.copytree(out, earlier)
    before = _digests(earlier)
    real_save = nvc.io.nifti._save_image

    def stops(img, filename, **kwargs):
        real_save(img, filename, **kwargs)
        raise raised()

    monkeypatch.setattr(nvc_pipelines.run, "run_case", lambda *a, **k: result)
    monkeypatch.setattr(nvc.io.nifti, "_save_image", stops)
    got = main(["run", "--t2", str(t2_dir), "--mra", str(mra), "--out", str(earlier)])
    err = capsys.readouterr().err
    assert got == code and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert _digests(earlier) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


@pytest.mark.slow
def test_float64_case_replaces_an_earlier_result_in_place(phantom_case, full_run, tmp_path):
    out, _, _, _ = full_run
    res = tmp_path / "res"
    shutil.copytree(out, res)
    (res / "notes.txt").write_text("user file")
    t2 = save_nifti(
        phantom_case.t2.with_array(phantom_case.t2.array.astype(np.float64)), tmp_path / "a.nii"
    )
    mra = save_nifti(
        phantom_case.mra.with_array(phantom_case.mra.array.astype(np.float64)), tmp_path / "b.nii"
    )
    assert main(["run", "--t2", str(t2), "--mra", str(mra), "--out", str(res)]) == 0
    assert (res / "notes.txt").read_text() == "user file"
    assert (res / "findings.json").is_file()
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())


def test_field_of_view_without_the_brainstem_is_refused(phantom_case, tmp_path, capsys):
    """A lateral block (x < -20 mm: no midline, one side only) is refused before the analysis."""
    t2 = phantom_case.t2
    lo, hi = t2.world_bounds()
    lateral = crop_world(t2, lo, np.array([-20.0, hi[1], hi[2]]))
    x = lateral.voxel_to_world(np.indices(lateral.shape).reshape(3, -1).T)[:, 0]
    lateral = lateral.with_array(np.where(x.reshape(lateral.shape) > -20.0, 0, lateral.array))
    t2_path = save_nifti(lateral, tmp_path / "t2_lateral.nii.gz")
    mra_path = save_nifti(phantom_case.mra, tmp_path / "tof.nii.gz")
    out = tmp_path / "out"
    code = main(["run", "--t2", str(t2_path), "--mra", str(mra_path), "--out", str(out)])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 4 and len(lines) == 1, err
    assert "t2_lateral.nii.gz" in lines[0] and "from right to left" in lines[0], err
    assert "compression" not in lines[0]
    assert not out.exists()


def test_output_folder_over_an_input_is_refused(tmp_path, capsys):
    vol = Volume(np.zeros((8, 8, 8), np.int16), np.eye(4))
    folder = tmp_path / "case"
    t2 = save_nifti(vol, folder / "t2.nii.gz")  # the name of a result
    mra = save_nifti(vol, folder / "tof.nii.gz")
    dicom = write_dicom_series(vol, tmp_path / "dicom")
    one_slice = sorted(dicom.iterdir())[0]
    for t2_arg, out in (
        (t2, folder),  # would replace t2.nii.gz
        (t2, t2),  # the output is the input file
        (dicom, dicom / "results"),  # inside the input DICOM folder
        (one_slice, dicom),  # a .dcm file names its folder
    ):
        before = _digests(tmp_path)
        code = main(["run", "--t2", str(t2_arg), "--mra", str(mra), "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2 and "would overwrite the input" in err and len(err.splitlines()) == 1
        assert _digests(tmp_path) == before


def test_no_pickle_eval_or_exec_of_inputs():
    """No module of the package unpickles, evaluates or executes anything it reads."""
    pattern = re.compile(
        r"\b(pickle|cPickle|dill|joblib|shelve|marshal)\b|\beval\(|\bexec\(|allow_pickle\s*=\s*True"
        r"|yaml\.load\(|np\.load\(|numpy\.load\(|torch\.load\("
    )
    hits = []
    for folder in SOURCE_FOLDERS:
        for path in folder.rglob("*.py"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    hits.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not hits, hits


def test_every_write_goes_through_nvc_io():
    """Only nvc/io writes files (atomically); orchestration and plugin code call it.

    Figures rendered into an in-memory buffer (``savefig(buf, ...)``) write no file.
    Batch logs are opened for appending (mode "a"): a log is never rewritten, so
    an interrupted run loses at most its last line and no earlier result.
    """
    pattern = re.compile(
        r"\.write_text\(|\.write_bytes\(|open\([^)]*[\"'][wx]b?\+?[\"']|\.savefig\((?!buf\b)|"
        r"nib\.save\(|sitk\.WriteImage\(|\.to_filename\("
    )
    hits = []
    for folder in SOURCE_FOLDERS:
        for path in folder.rglob("*.py"):
            if path.parent.name == "io" and path.parent.parent.name == "nvc":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    hits.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not hits, hits

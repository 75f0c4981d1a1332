"""Bad inputs end to end through ``nvc run``: exit code, one line naming the input, no traceback.

Every case here is refused before the heavy analysis (by the loader: exit 3, or by
``nvc_pipelines.case.check_inputs``: exit 4), so each takes about a second.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from nvc.io import load_volume, save_nifti
from nvc.volume import Volume, crop_world, to_sitk
from nvc_pipelines.case import check_inputs
from nvc_pipelines.cli import main
from tests.helpers import marker_volume, with_slices, write_dicom_series


@pytest.fixture(scope="module")
def good(phantom_case, tmp_path_factory):
    """The session phantom's T2 and TOF as NIfTI files."""
    root = tmp_path_factory.mktemp("good")
    return (
        save_nifti(phantom_case.t2, root / "t2.nii.gz"),
        save_nifti(phantom_case.mra, root / "tof.nii.gz"),
    )


def _run(t2: Path, mra: Path, out: Path, capsys) -> tuple[int, str]:
    code = main(["run", "--t2", str(t2), "--mra", str(mra), "--out", str(out)])
    captured = capsys.readouterr()
    return code, captured.err


def _expect_refusal(code: int, err: str, exit_code: int, names: list[str], fragment: str, out):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == exit_code, err
    assert len(lines) == 1, err
    assert lines[0].startswith("nvc: error:"), err
    assert "Traceback" not in err
    assert fragment in lines[0].lower(), lines[0]
    for name in names:
        assert name in lines[0], lines[0]
    assert not (out / "findings.json").exists()


def _sheared(vol: Volume) -> Volume:
    shear = np.eye(4)
    shear[0, 1] = 0.2
    return Volume(vol.array, vol.affine @ shear)


def _qform_sform_apart(vol: Volume, path: Path, mm: float) -> Path:
    img = nib.Nifti1Image(np.asarray(vol.array), vol.affine)
    sform = vol.affine.copy()
    sform[0, 3] += mm
    img.set_qform(vol.affine, code=1)
    img.set_sform(sform, code=2)
    nib.save(img, path)
    return path


def _other_region(t2: Volume, mra: Volume) -> Volume:
    """The TOF moved up so that it overlaps the T2 over 10 mm only."""
    t2_top = t2.world_bounds()[1][2]
    mra_bottom = mra.world_bounds()[0][2]
    moved = mra.affine.copy()
    moved[2, 3] += t2_top - mra_bottom - 10.0
    return Volume(mra.array, moved)


def _hostile_nrrd(path: Path) -> Path:
    vol = Volume(np.zeros((8, 8, 8), np.int16), np.eye(4))
    sitk.WriteImage(to_sitk(vol, np.int16), str(path))
    raw = path.read_bytes().replace(b"sizes: 8 8 8", b"sizes: 1000 1000 1000")
    path.write_bytes(raw)
    return path


def _four_d(vol: Volume, path: Path) -> Path:
    nib.save(nib.Nifti1Image(np.stack([np.asarray(vol.array)] * 2, axis=-1), vol.affine), path)
    return path


def _mixed_dicom(folder: Path) -> Path:
    vol = marker_volume(np.diag([0.5, 0.5, 1.0, 1.0]))
    write_dicom_series(vol, folder, series_uid="1.2.3.4.200")
    return write_dicom_series(vol, folder, series_uid="1.2.3.4.100")


# (id, which input is bad, how to make it, exit code, fragment of the message)
CASES = [
    ("sheared", "t2", lambda c, d: save_nifti(_sheared(c.t2), d / "t2_sheared.nii.gz"), 3, "shear"),
    (
        "qform_sform",
        "t2",
        lambda c, d: _qform_sform_apart(c.t2, d / "t2_qs.nii.gz", 5.0),
        3,
        "qform and sform disagree",
    ),
    (
        "all_zero",
        "t2",
        lambda c, d: save_nifti(c.t2.with_array(np.zeros(c.t2.shape, np.int16)), d / "z.nii.gz"),
        4,
        "empty or constant",
    ),
    (
        "noise_only",
        "mra",
        lambda c, d: save_nifti(
            c.mra.with_array(
                np.random.default_rng(1).normal(300, 80, c.mra.shape).astype(np.int16)
            ),
            d / "noise.nii.gz",
        ),
        4,
        "noise",
    ),
    (
        "other_region",
        "mra",
        lambda c, d: save_nifti(_other_region(c.t2, c.mra), d / "tof_neck.nii.gz"),
        4,
        "overlap over only",
    ),
    (
        "no_overlap",
        "mra",
        lambda c, d: save_nifti(
            Volume(c.mra.array, c.mra.affine + np.array([[0, 0, 0, 400.0]] * 3 + [[0, 0, 0, 0]])),
            d / "tof_far.nii.gz",
        ),
        4,
        "do not overlap",
    ),
    (
        "tiny_fov",
        "t2",
        lambda c, d: save_nifti(
            crop_world(c.t2, c.t2.world_bounds()[0] + 30, c.t2.world_bounds()[0] + 44),
            d / "t2_tiny.nii.gz",
        ),
        4,
        "field of view",
    ),
    (
        "thick_t2_slices",
        "t2",
        lambda c, d: save_nifti(with_slices(c.t2, 2.4), d / "t2_thick.nii.gz"),
        4,
        "mm slices",
    ),
    (
        "no_vessels",
        "mra",
        lambda c, d: save_nifti(
            c.mra.with_array(np.minimum(c.mra.array, np.percentile(c.mra.array, 90))),
            d / "tof_flat.nii.gz",
        ),
        4,
        "no bright vessels",
    ),
    ("huge_header", "mra", lambda c, d: _hostile_nrrd(d / "huge.nrrd"), 3, "truncated"),
    ("four_d", "t2", lambda c, d: _four_d(c.t2, d / "t4.nii"), 3, "4d"),
    ("mixed_dicom", "t2", lambda c, d: _mixed_dicom(d / "dcm"), 3, "mixed"),
]


@pytest.mark.parametrize(
    ("bad", "make", "exit_code", "fragment"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_is_one_line_with_its_exit_code(
    bad, make, exit_code, fragment, phantom_case, good, tmp_path, capsys
):
    path = Path(make(phantom_case, tmp_path))
    t2, mra = good
    args = (path, mra) if bad == "t2" else (t2, path)
    out = tmp_path / "out"
    code, err = _run(*args, out, capsys)
    _expect_refusal(code, err, exit_code, [path.name], fragment, out)


def test_swapped_inputs_are_refused_naming_both(good, tmp_path, capsys):
    t2, mra = good
    code, err = _run(mra, t2, tmp_path / "out", capsys)
    _expect_refusal(code, err, 4, ["tof.nii.gz", "t2.nii.gz"], "swapped", tmp_path / "out")


def test_the_same_t2_chosen_twice_is_refused(good, tmp_path, capsys):
    t2, _ = good
    code, err = _run(t2, t2, tmp_path / "out", capsys)
    _expect_refusal(code, err, 4, ["t2.nii.gz"], "same image", tmp_path / "out")


def test_small_qform_sform_gap_is_recorded(phantom_case, tmp_path):
    vol = load_volume(_qform_sform_apart(phantom_case.t2, tmp_path / "t2.nii.gz", 0.3))
    assert vol.metadata["qform_sform_gap_mm"] == pytest.approx(0.3, abs=1e-3)
    np.testing.assert_allclose(vol.affine[0, 3], phantom_case.t2.affine[0, 3] + 0.3, atol=1e-3)


@pytest.mark.parametrize(("t2_dtype", "mra_dtype"), [(np.float64, np.int8), (np.int8, np.float64)])
def test_int8_and_float64_inputs_load_and_pass_the_checks(
    phantom_case, tmp_path, t2_dtype, mra_dtype
):
    def convert(vol: Volume, dtype) -> Volume:
        a = vol.array.astype(np.float64)
        if np.dtype(dtype).kind == "i":
            a = np.round(a / a.max() * 127)
        return vol.with_array(a.astype(dtype))

    t2 = load_volume(save_nifti(convert(phantom_case.t2, t2_dtype), tmp_path / "t2.nii.gz"))
    mra = load_volume(save_nifti(convert(phantom_case.mra, mra_dtype), tmp_path / "tof.nii"))
    assert t2.array.dtype == t2_dtype and mra.array.dtype == mra_dtype
    check_inputs(t2, mra)  # raises AnalysisError when refused


def test_itk_complaints_stay_off_stderr(good, tmp_path, capfd):
    """ITK's C++ readers print to fd 2; nvc run still prints one line."""
    _, mra = good
    bad = tmp_path / "broken.mha"
    bad.write_bytes(b"ObjectType = Image\nNDims = 3\nDimSize = 4 4 4\nElementDataFile = LOCAL\n")
    code = main(["run", "--t2", str(bad), "--mra", str(mra), "--out", str(tmp_path / "o")])
    err = capfd.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 3 and len(lines) == 1 and "broken.mha" in lines[0], err


def test_analysis_errors_after_the_checks_name_the_inputs(good, tmp_path, capsys, monkeypatch):
    """An AnalysisError raised inside the analysis (not by check_inputs) gets the file names."""
    import nvc_pipelines.run
    from nvc_pipelines.errors import AnalysisError

    def fails(*args, **kwargs):
        raise AnalysisError("T2: no brainstem found (no tissue column on the midline)")

    monkeypatch.setattr(nvc_pipelines.run, "run_case", fails)
    t2, mra = good
    code, err = _run(t2, mra, tmp_path / "out", capsys)
    _expect_refusal(code, err, 4, ["t2.nii.gz", "tof.nii.gz"], "no brainstem", tmp_path / "out")

"""Every class of bad input raises VolumeLoadError naming the file and the problem."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from nvc.io import VolumeLoadError, load_volume, save_nifti
from nvc.volume import Volume
from tests.helpers import marker_volume, oblique_affine, write_dicom_series


def _nifti(tmp_path: Path, data, affine=None, name="img.nii.gz") -> Path:
    img = nib.Nifti1Image(data, np.eye(4) if affine is None else affine)
    path = tmp_path / name
    nib.save(img, path)
    return path


def _expect(path: Path, fragment: str) -> VolumeLoadError:
    with pytest.raises(VolumeLoadError) as info:
        load_volume(path)
    err = info.value
    assert path.name in str(err), str(err)
    assert fragment in str(err).lower(), str(err)
    assert "\n" not in str(err)
    return err


def test_not_found(tmp_path):
    _expect(tmp_path / "missing.nii.gz", "not found")


def test_random_bytes(tmp_path):
    path = tmp_path / "noise.nii.gz"
    path.write_bytes(np.random.default_rng(0).bytes(4000))
    _expect(path, "not a readable nifti")


def test_wrong_magic(tmp_path):
    path = _nifti(tmp_path, np.zeros((4, 4, 4), np.int16), name="img.nii")
    raw = bytearray(path.read_bytes())
    raw[344:348] = b"abc\x00"
    path.write_bytes(bytes(raw))
    _expect(path, "nifti")


def test_truncated_gzip(tmp_path):
    path = _nifti(tmp_path, np.arange(64 * 64 * 32, dtype=np.int16).reshape(64, 64, 32))
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    _expect(path, "truncated or corrupt")


def test_corrupt_gzip(tmp_path):
    path = _nifti(tmp_path, np.arange(64 * 64 * 32, dtype=np.int16).reshape(64, 64, 32))
    raw = bytearray(path.read_bytes())
    for i in range(len(raw) // 2, len(raw) // 2 + 200):
        raw[i] ^= 0x5A
    path.write_bytes(bytes(raw))
    _expect(path, "corrupt")


def test_truncated_uncompressed(tmp_path):
    path = _nifti(tmp_path, np.ones((32, 32, 32), np.float32), name="img.nii")
    raw = path.read_bytes()
    path.write_bytes(raw[:2000])
    _expect(path, "truncated or corrupt")


def test_2d(tmp_path):
    _expect(_nifti(tmp_path, np.zeros((32, 32), np.int16)), "2d")
    _expect(_nifti(tmp_path, np.zeros((32, 32, 1), np.int16), name="slab.nii.gz"), "2d")


def test_4d(tmp_path):
    _expect(_nifti(tmp_path, np.zeros((8, 8, 8, 3), np.int16)), "4d")


def test_4d_with_one_volume_is_accepted(tmp_path):
    vol = load_volume(_nifti(tmp_path, np.ones((8, 8, 8, 1), np.int16)))
    assert vol.shape == (8, 8, 8)


def test_non_finite(tmp_path):
    data = np.ones((8, 8, 8), np.float32)
    data[1, 2, 3] = np.nan
    data[2, 2, 2] = np.inf
    _expect(_nifti(tmp_path, data), "2 voxels are nan or infinite")


def _patch(path: Path, fmt: str, offset: int, *values) -> Path:
    """Overwrite raw header bytes (nibabel would repair these fields on save)."""
    raw = bytearray(path.read_bytes())
    struct.pack_into(fmt, raw, offset, *values)
    path.write_bytes(bytes(raw))
    return path


def test_zero_spacing(tmp_path):
    path = _nifti(tmp_path, np.zeros((8, 8, 8), np.int16), name="zero.nii")
    _patch(path, "<4f", 76, 1.0, 1.0, 0.0, 1.0)  # pixdim[0:4]
    _expect(path, "voxel size")


def test_negative_pixdim(tmp_path):
    path = _nifti(tmp_path, np.zeros((8, 8, 8), np.int16), name="neg.nii")
    _patch(path, "<4f", 76, 1.0, 1.0, -2.0, 1.0)
    _expect(path, "voxel size")


def test_singular_sform(tmp_path):
    path = _nifti(tmp_path, np.zeros((8, 8, 8), np.int16), name="sform.nii")
    _patch(path, "<hh", 252, 0, 2)  # qform_code 0, sform_code 2
    _patch(path, "<12f", 280, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0)  # srow_x, srow_y (zero), srow_z
    _expect(path, "degenerate")


def test_degenerate_affine(tmp_path):
    affine = np.array([[1.0, 1.0, 0, 0], [1.0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1]])
    _expect(_nifti(tmp_path, np.zeros((8, 8, 8), np.int16), affine=affine), "degenerate")


def test_huge_declared_dimensions_refused_before_allocating(tmp_path):
    path = _nifti(tmp_path, np.zeros((8, 8, 8), np.int16), name="huge.nii")
    _patch(path, "<8h", 40, 3, 30000, 30000, 30000, 1, 1, 1, 1)
    _expect(path, "voxel limit")


def test_zero_dimension(tmp_path):
    path = _nifti(tmp_path, np.zeros((8, 8, 8), np.int16), name="zero.nii")
    _patch(path, "<8h", 40, 3, 8, 0, 8, 1, 1, 1, 1)
    _expect(path, "zero")


def test_rgb(tmp_path):
    rgb = np.zeros((8, 8, 8), dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    _expect(_nifti(tmp_path, rgb), "rgb")


def test_unknown_format(tmp_path):
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG....")
    _expect(path, "unknown image format")


def test_empty_gzip(tmp_path):
    path = tmp_path / "empty.nii.gz"
    with gzip.open(path, "wb"):
        pass
    _expect(path, "nifti")


@pytest.mark.parametrize("suffix", [".nrrd", ".mha"])
def test_itk_garbage(tmp_path, suffix):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(
        b"NRRD0004\ntype: short\ndimension: 3\nsizes: 4 4\n\n" if suffix == ".nrrd" else b"junk"
    )
    _expect(path, "not a readable image")


def test_dicom_folder_with_mixed_series(tmp_path):
    vol = marker_volume(np.diag([0.5, 0.5, 1.0, 1.0]))
    write_dicom_series(vol, tmp_path / "mixed", series_uid="1.2.3.4.100")
    write_dicom_series(vol, tmp_path / "mixed", series_uid="1.2.3.4.200")
    _expect(tmp_path / "mixed", "2 dicom series are mixed")


def test_dicom_folder_with_a_missing_slice(tmp_path):
    folder = write_dicom_series(marker_volume(oblique_affine()), tmp_path / "gap")
    sorted(folder.iterdir())[7].unlink()
    _expect(folder, "slice spacing varies")


def test_empty_folder(tmp_path):
    (tmp_path / "nothing").mkdir()
    _expect(tmp_path / "nothing", "no dicom series")


def test_writer_is_atomic_and_leaves_no_temporaries(tmp_path):
    vol = Volume(np.zeros((4, 4, 4), np.float32), np.eye(4))
    save_nifti(vol, tmp_path / "out.nii.gz")
    assert [p.name for p in tmp_path.iterdir()] == ["out.nii.gz"]

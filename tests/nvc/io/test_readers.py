"""Readers and writers: round trips and one physical point through every format."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from nvc.io import load_volume, save_label_map, save_nifti
from nvc.io.labels import label_table_path
from nvc.labels import LABEL_TABLE
from nvc.volume import Volume, to_sitk
from tests.conftest import TEST_DATA
from tests.helpers import marker_volume, oblique_affine, write_dicom_series

AFFINES = {
    "RAS": np.diag([0.5, 0.6, 0.7, 1.0]),
    "LPS-flipped": np.array(
        [[-0.5, 0, 0, 40.0], [0, -0.6, 0, 30.0], [0, 0, 0.7, -10.0], [0, 0, 0, 1.0]]
    ),
    "oblique": oblique_affine(),
}
MARKER = (5, 7, 9)


def _marker_world(vol: Volume) -> np.ndarray:
    return vol.voxel_to_world(np.argwhere(vol.array == 1000)[0])


@pytest.mark.parametrize("name", list(AFFINES))
@pytest.mark.parametrize("suffix", [".nii", ".nii.gz"])
def test_nifti_round_trip(tmp_path, name, suffix):
    vol = marker_volume(AFFINES[name], marker=MARKER)
    path = save_nifti(vol, tmp_path / f"img{suffix}")
    back = load_volume(path)
    np.testing.assert_allclose(back.affine, vol.affine, atol=1e-5)
    np.testing.assert_array_equal(back.array, vol.array)
    np.testing.assert_allclose(_marker_world(back), vol.voxel_to_world(MARKER), atol=1e-4)


@pytest.mark.parametrize("name", list(AFFINES))
@pytest.mark.parametrize("suffix", [".nrrd", ".mha", ".mhd"])
def test_itk_formats_put_the_marker_at_the_same_world_point(tmp_path, name, suffix):
    vol = marker_volume(AFFINES[name], marker=MARKER)
    path = tmp_path / f"img{suffix}"
    sitk.WriteImage(to_sitk(vol, np.int16), str(path))
    back = load_volume(path)
    np.testing.assert_allclose(_marker_world(back), vol.voxel_to_world(MARKER), atol=1e-4)
    np.testing.assert_allclose(back.spacing, vol.spacing, atol=1e-6)


@pytest.mark.parametrize("name", list(AFFINES))
def test_dicom_series_puts_the_marker_at_the_same_world_point(tmp_path, name):
    vol = marker_volume(AFFINES[name], marker=MARKER)
    folder = write_dicom_series(vol, tmp_path / "dicom")
    back = load_volume(folder)
    assert back.metadata["format"] == "DICOM"
    np.testing.assert_allclose(_marker_world(back), vol.voxel_to_world(MARKER), atol=1e-3)
    nifti = load_volume(save_nifti(vol, tmp_path / "same.nii.gz"))
    np.testing.assert_allclose(_marker_world(back), _marker_world(nifti), atol=1e-3)


def test_dicom_identifiers_are_kept_apart_from_facts(tmp_path):
    vol = marker_volume(AFFINES["RAS"])
    folder = write_dicom_series(
        vol, tmp_path / "d", **{"0010|0010": "DOE^JANE", "0008|103e": "t2_ciss <b>"}
    )
    back = load_volume(folder)
    assert back.metadata["identifiers"]["patient_name"] == "DOE^JANE"
    assert "DOE" not in json.dumps({k: v for k, v in back.metadata.items() if k != "identifiers"})
    assert back.metadata["series_description"] == "t2_ciss <b>"


NIBABEL_DATA = Path(nib.__file__).parent / "tests" / "data"


@pytest.mark.parametrize(
    "name", ["anatomical.nii", "standard.nii.gz", "example_nifti2.nii.gz", "functional.nii"]
)
def test_nibabel_shipped_files_agree_with_nibabel(name):
    path = NIBABEL_DATA / name
    if not path.exists():
        pytest.skip(f"nibabel does not ship {name} here")
    img = nib.load(path)
    shape = img.shape
    if len(shape) > 3 and shape[3] > 1:
        from nvc.io import VolumeLoadError

        with pytest.raises(VolumeLoadError, match="4D"):
            load_volume(path)
        return
    vol = load_volume(path)
    np.testing.assert_allclose(vol.affine, img.affine)
    np.testing.assert_array_equal(vol.array, np.asanyarray(img.dataobj).reshape(vol.shape))


def test_label_map_written_with_its_table(tmp_path):
    labels = Volume(np.array([[[0, 1], [2, 6]], [[4, 5], [3, 7]]], np.int32), np.eye(4))
    path = save_label_map(labels, tmp_path / "labels.nii.gz")
    img = nib.load(path)
    assert img.get_data_dtype() == np.uint8
    rows = label_table_path(path).read_text().splitlines()
    assert rows[0].split("\t") == ["index", "name", "abbreviation", "color"]
    assert len(rows) == len(LABEL_TABLE) + 1
    assert rows[1].startswith("1\tbrainstem\t")
    with pytest.raises(ValueError):
        save_label_map(labels.with_array(labels.array - 1), tmp_path / "neg.nii.gz")


def test_real_t2_nifti_loads_like_nibabel(shared_real):
    path = shared_real / "stroke_T2.nii.gz"
    vol = load_volume(path)
    img = nib.load(path)
    np.testing.assert_allclose(vol.affine, img.affine)
    assert vol.shape == img.shape
    np.testing.assert_allclose(vol.spacing, [1.0, 1.0, 1.0], atol=1e-4)


def _corners(vol: Volume) -> np.ndarray:
    c = np.array(np.meshgrid(*[[0, n - 1] for n in vol.shape], indexing="ij")).reshape(3, -1).T
    return np.sort(vol.voxel_to_world(c), axis=0)


def test_real_dicom_series_matches_dcm2niix_geometry(shared_real):
    """Corners agree within 0.1 mm with dcm2niix's NIfTI (stored header, or run live)."""
    vol = load_volume(shared_real / "vs-seg-001_t1_dicom")
    ref = json.loads((TEST_DATA / "real" / "vs-seg-001_dcm2niix_geometry.json").read_text())
    ref_vol = Volume(np.zeros(ref["shape"], np.uint8), np.array(ref["affine"]))
    assert vol.shape == tuple(ref["shape"])
    assert np.abs(_corners(vol) - _corners(ref_vol)).max() < 0.1
    # voxel values agree at the same world points
    for ijk, value in ref["samples"]:
        world = ref_vol.voxel_to_world(np.array(ijk))
        mine = np.round(vol.world_to_voxel(world)).astype(int)
        assert int(vol.array[tuple(mine)]) == value


@pytest.mark.skipif(shutil.which("dcm2niix") is None, reason="dcm2niix not installed")
def test_real_dicom_series_matches_live_dcm2niix(shared_real, tmp_path):
    subprocess.run(
        [
            "dcm2niix",
            "-z",
            "n",
            "-o",
            str(tmp_path),
            "-f",
            "ref",
            str(shared_real / "vs-seg-001_t1_dicom"),
        ],
        check=True,
        capture_output=True,
    )
    ref = load_volume(tmp_path / "ref.nii")
    vol = load_volume(shared_real / "vs-seg-001_t1_dicom")
    assert np.abs(_corners(vol) - _corners(ref)).max() < 0.1
    world = ref.voxel_to_world(np.array([256, 200, 60]))
    mine = np.round(vol.world_to_voxel(world)).astype(int)
    assert vol.array[tuple(mine)] == ref.array[256, 200, 60]

"""Property-based tests (hypothesis) of the readers on random affines and corrupted headers."""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import SimpleITK as sitk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from nvc.io import VolumeLoadError, load_volume, save_nifti
from nvc.volume import Volume, to_sitk

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SHAPE = (5, 6, 7)
DATA = np.arange(np.prod(SHAPE), dtype=np.int16).reshape(SHAPE)


@st.composite
def affines(draw) -> np.ndarray:
    """Valid voxel-to-RAS affines: any rotation (flips too), positive spacing, any origin."""
    quat = draw(
        st.lists(st.floats(-1, 1), min_size=4, max_size=4).filter(lambda q: np.linalg.norm(q) > 0.1)
    )
    rot = Rotation.from_quat(quat).as_matrix()
    if draw(st.booleans()):
        rot = rot @ np.diag([1.0, 1.0, -1.0])  # a left-handed voxel grid
    spacing = np.array(draw(st.lists(st.floats(0.1, 5.0), min_size=3, max_size=3)))
    origin = draw(st.lists(st.floats(-300, 300), min_size=3, max_size=3))
    a = np.eye(4)
    a[:3, :3] = rot * spacing
    a[:3, 3] = origin
    return a


def _corners(affine: np.ndarray) -> np.ndarray:
    ijk = np.array(np.meshgrid(*[[0, n - 1] for n in SHAPE], indexing="ij")).reshape(3, -1).T
    return ijk @ affine[:3, :3].T + affine[:3, 3]


@SETTINGS
@given(affine=affines(), suffix=st.sampled_from([".nii", ".nii.gz", ".nrrd", ".mha"]))
def test_random_affines_round_trip_to_the_same_world(tmp_path, affine, suffix):
    vol = Volume(DATA, affine)
    path = tmp_path / f"img{suffix}"
    if suffix.startswith(".nii"):
        save_nifti(vol, path)
    else:
        sitk.WriteImage(to_sitk(vol, np.int16), str(path))
    back = load_volume(path)
    # every voxel value lands at the same world position (within float32 header precision)
    np.testing.assert_allclose(_corners(back.affine), _corners(affine), atol=1e-3)
    np.testing.assert_array_equal(back.array, DATA)


def _valid_nifti(tmp_path: Path) -> bytes:
    return save_nifti(Volume(DATA, np.diag([0.5, 0.6, 0.7, 1.0])), tmp_path / "v.nii").read_bytes()


FIELDS = [
    (name, nib.Nifti1Header.template_dtype.fields[name][1], nib.Nifti1Header.template_dtype[name])
    for name in nib.Nifti1Header.template_dtype.names
]


@SETTINGS
@given(
    field=st.sampled_from(FIELDS),
    payload=st.binary(min_size=1, max_size=80),
    as_number=st.one_of(
        st.none(),
        st.floats(allow_nan=True, allow_infinity=True, width=32),
        st.integers(-(2**31), 2**31 - 1),
    ),
)
def test_corrupted_header_fields_load_or_raise_volume_load_error(
    tmp_path, field, payload, as_number
):
    _name, offset, dtype = field
    raw = bytearray(_valid_nifti(tmp_path))
    size = dtype.itemsize
    if as_number is None:
        raw[offset : offset + size] = (payload * size)[:size]
    elif dtype.base.kind == "f":
        struct.pack_into("<f", raw, offset, float(as_number))
    else:
        value = int(as_number) if isinstance(as_number, int) else 0
        width = dtype.base.itemsize
        raw[offset : offset + width] = (value % (1 << (8 * width))).to_bytes(width, "little")
    path = tmp_path / "bad.nii"
    path.write_bytes(bytes(raw))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            vol = load_volume(path)
        except VolumeLoadError as err:
            assert "\n" not in str(err) and "bad.nii" in str(err)
            return
    assert vol.array.ndim == 3 and np.all(np.isfinite(vol.affine))
    assert np.all(vol.spacing > 0)


@SETTINGS
@given(
    affine=affines(),
    degrees=st.floats(0.05, 30.0),
    axes=st.sampled_from([(0, 1), (0, 2), (1, 2)]),
)
def test_sheared_affines_are_refused_naming_the_problem(tmp_path, affine, degrees, axes):
    """Two voxel axes leaning ``degrees`` away from perpendicular are refused (tolerance 0.006°)."""
    a, b = axes
    spacing = np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    unit = affine[:3, :3] / spacing
    t = np.radians(degrees)
    unit[:, b] = np.sin(t) * unit[:, a] + np.cos(t) * unit[:, b]
    sheared = affine.copy()
    sheared[:3, :3] = unit * spacing
    path = save_nifti(Volume(DATA, sheared), tmp_path / "sheared.nii")
    try:
        load_volume(path)
    except VolumeLoadError as err:
        assert "sheared" in str(err) and "sheared.nii" in str(err)
    else:
        raise AssertionError(f"a shear of {degrees} degrees was accepted")


def _itk_header_file(tmp_path: Path, suffix: str, compress: bool) -> bytes:
    path = tmp_path / f"v{suffix}"
    sitk.WriteImage(
        to_sitk(Volume(DATA, np.diag([0.5, 0.6, 0.7, 1.0])), np.int16), str(path), compress
    )
    return path.read_bytes()


@SETTINGS
@given(
    suffix=st.sampled_from([".nrrd", ".mha"]),
    compress=st.booleans(),
    line=st.integers(0, 20),
    value=st.one_of(
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
        st.integers(-(2**40), 2**40).map(str),
        st.lists(st.integers(-5, 2**20), min_size=0, max_size=5).map(
            lambda v: " ".join(map(str, v))
        ),
    ),
)
def test_corrupted_itk_header_values_load_or_raise_volume_load_error(
    tmp_path, suffix, compress, line, value
):
    raw = _itk_header_file(tmp_path, suffix, compress)
    end = raw.find(b"\n\n") if suffix == ".nrrd" else raw.find(b"\n", raw.find(b"ElementDataFile"))
    lines = raw[:end].split(b"\n")
    i = 1 + line % (len(lines) - 1)
    sep = b": " if suffix == ".nrrd" else b" = "
    if sep in lines[i]:
        lines[i] = lines[i].split(sep, 1)[0] + sep + value.encode()
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(b"\n".join(lines) + raw[end:])
    try:
        vol = load_volume(path)
    except VolumeLoadError as err:
        assert "\n" not in str(err) and path.name in str(err)
        return
    assert vol.array.ndim == 3 and np.all(np.isfinite(vol.affine)) and np.all(vol.spacing > 0)

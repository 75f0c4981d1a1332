"""Volume geometry: spacing, world mapping, reorientation, resampling, cropping."""

from __future__ import annotations

import numpy as np
import pytest

from nvc.volume import (
    Volume,
    crop_world,
    from_sitk,
    reorient_canonical,
    reorient_like,
    resample_to,
    to_sitk,
)
from tests.helpers import marker_volume, oblique_affine


def test_spacing_and_world_round_trip():
    vol = marker_volume(oblique_affine(spacing=(0.4, 0.5, 1.2)))
    np.testing.assert_allclose(vol.spacing, [0.4, 0.5, 1.2])
    ijk = np.array([[1.5, 2.0, 3.25], [0, 0, 0]])
    np.testing.assert_allclose(vol.world_to_voxel(vol.voxel_to_world(ijk)), ijk, atol=1e-9)


@pytest.mark.parametrize("bad", [np.zeros((4, 4)), np.full((4, 4), np.nan)])
def test_volume_refuses_degenerate_affines(bad):
    with pytest.raises(ValueError):
        Volume(np.zeros((3, 3, 3)), bad)


def test_volume_refuses_non_3d():
    with pytest.raises(ValueError, match="3D"):
        Volume(np.zeros((3, 3)), np.eye(4))


@pytest.mark.parametrize(
    "affine",
    [np.diag([-0.5, -0.6, 0.7, 1.0]), oblique_affine(), oblique_affine(angles=(170.0, 5.0, 80.0))],
)
def test_reorient_canonical_keeps_every_voxel_in_place(affine):
    vol = marker_volume(affine)
    can = reorient_canonical(vol)
    marker_world = vol.voxel_to_world(np.argwhere(vol.array == 1000)[0])
    new_marker = np.argwhere(can.array == 1000)[0]
    np.testing.assert_allclose(can.voxel_to_world(new_marker), marker_world, atol=1e-6)
    # axes now point closest to R, A, S
    assert np.all(np.argmax(np.abs(can.affine[:3, :3]), axis=0) == [0, 1, 2])
    assert np.all(np.diag(can.affine[:3, :3]) > 0)


def test_resample_identity_and_nearest_labels():
    vol = marker_volume(oblique_affine())
    same = resample_to(vol, vol, interpolation="nearest")
    np.testing.assert_array_equal(same.array, vol.array)


def test_resample_onto_other_grid_puts_the_marker_at_its_world_position():
    src = marker_volume(
        oblique_affine(spacing=(0.5, 0.5, 0.5)), shape=(40, 40, 40), marker=(20, 21, 22)
    )
    world = src.voxel_to_world(np.array([20, 21, 22]))
    ref_affine = np.diag([0.25, 0.25, 0.25, 1.0])
    ref_affine[:3, 3] = world - 0.25 * np.array([10, 10, 10])
    ref = Volume(np.zeros((21, 21, 21)), ref_affine)
    out = resample_to(src, ref, interpolation="linear")
    peak = np.unravel_index(np.argmax(out.array), out.shape)
    np.testing.assert_allclose(out.voxel_to_world(np.array(peak)), world, atol=0.25)


def test_resample_with_world_transform_follows_the_motion():
    src = marker_volume(np.diag([1.0, 1.0, 1.0, 1.0]), shape=(30, 30, 30), marker=(15, 15, 15))
    shift = np.eye(4)
    shift[:3, 3] = [3.0, -2.0, 1.0]  # reference world -> source world
    out = resample_to(src, src, interpolation="nearest", world_transform=shift)
    peak = np.argwhere(out.array == 1000)[0]
    np.testing.assert_array_equal(peak, [12, 17, 14])


def test_crop_world_keeps_world_positions():
    vol = marker_volume(oblique_affine(), shape=(30, 30, 30), marker=(12, 13, 14))
    world = vol.voxel_to_world(np.array([12, 13, 14]))
    cropped = crop_world(vol, world - 3.0, world + 3.0)
    assert cropped.array.size < vol.array.size
    m = np.argwhere(cropped.array == 1000)[0]
    np.testing.assert_allclose(cropped.voxel_to_world(m), world, atol=1e-9)
    with pytest.raises(ValueError, match="overlap"):
        crop_world(vol, world + 500.0, world + 510.0)


def test_sitk_round_trip_is_lossless():
    vol = marker_volume(oblique_affine())
    back = from_sitk(to_sitk(vol, np.int16))
    np.testing.assert_allclose(back.affine, vol.affine, atol=1e-6)
    np.testing.assert_array_equal(back.array, vol.array)


@pytest.mark.parametrize(
    "affine",
    [np.diag([-0.5, -0.6, 0.7, 1.0]), oblique_affine(), oblique_affine(angles=(170.0, 5.0, 80.0))],
)
def test_reorient_like_undoes_reorient_canonical_as_nearest_resampling_would(affine):
    vol = marker_volume(affine)
    can = reorient_canonical(vol)
    back = reorient_like(can, vol)
    np.testing.assert_array_equal(back.array, vol.array)
    np.testing.assert_allclose(back.affine, vol.affine)
    nearest = resample_to(can, vol, interpolation="nearest")
    np.testing.assert_array_equal(back.array, nearest.array)
    with pytest.raises(ValueError, match="closest-canonical"):
        reorient_like(vol.with_array(vol.array[1:]), vol)


@pytest.mark.parametrize("interpolation", ["linear", "nearest", "bspline"])
def test_resample_from_a_large_volume_reads_only_the_reachable_block(interpolation):
    """Resampling a small grid out of a large volume: as if ITK were given the whole volume."""
    import SimpleITK as sitk

    rng = np.random.default_rng(0)
    big = Volume(rng.normal(size=(60, 50, 40)).astype(np.float32), oblique_affine())
    shift = np.eye(4)
    shift[:3, 3] = [12.3, 10.1, 8.7]
    small = Volume(np.zeros((9, 8, 7)), big.affine @ shift @ np.diag([1.3, 1.4, 1.2, 1.0]))
    out = resample_to(big, small, interpolation=interpolation)
    index = np.linalg.inv(big.affine) @ small.affine
    transform = sitk.AffineTransform(3)
    transform.SetMatrix(index[:3, :3].ravel().tolist())
    transform.SetTranslation(index[:3, 3].tolist())
    whole = sitk.Resample(
        sitk.GetImageFromArray(np.ascontiguousarray(big.array.T)),
        list(small.shape),
        transform,
        {"linear": sitk.sitkLinear, "nearest": sitk.sitkNearestNeighbor}.get(
            interpolation, sitk.sitkBSpline
        ),
    )
    expected = sitk.GetArrayFromImage(whole).T
    # B-spline coefficients depend (weakly, decaying by 0.27 per voxel) on the whole image
    np.testing.assert_allclose(out.array, expected, atol=1e-5)

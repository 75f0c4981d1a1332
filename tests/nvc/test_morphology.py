"""Footprints and distance maps in physical units."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from nvc.morphology import (
    dilate_ellipsoid,
    distance_to_mask,
    ellipsoid_footprint,
    erode_ellipsoid,
)


@pytest.mark.parametrize("spacing", [(0.5, 0.5, 0.5), (0.35, 0.9, 0.7)])
def test_distance_to_mask_is_scipys_exact_edt(spacing):
    rng = np.random.default_rng(3)
    mask = rng.random((31, 24, 19)) < 0.003
    expected = ndimage.distance_transform_edt(~mask, sampling=spacing)
    got = distance_to_mask(mask, np.array(spacing))
    assert got.dtype == np.float32 and got.shape == mask.shape
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert np.all(got[mask] == 0)


@pytest.mark.parametrize("fill", [False, True])
def test_distance_to_mask_of_an_empty_or_full_mask_is_scipys(fill):
    mask = np.full((5, 6, 7), fill)
    expected = ndimage.distance_transform_edt(~mask, sampling=(1.0, 2.0, 0.5))
    np.testing.assert_allclose(distance_to_mask(mask, np.array([1.0, 2.0, 0.5])), expected)


@pytest.mark.parametrize(
    ("radius_mm", "spacing"),
    [
        (3.6, (0.5, 0.5, 0.5)),
        (1.5, (0.35, 0.9, 0.7)),
        (2.5, (0.4, 0.4, 0.6)),
        (0.6, (1.0, 0.5, 0.7)),
    ],
)
def test_ellipsoid_dilation_and_erosion_are_scipys(radius_mm, spacing):
    rng = np.random.default_rng(5)
    sp = np.array(spacing)
    mask = ndimage.gaussian_filter(rng.random((29, 23, 17)), 1.5) > 0.5
    ball = ellipsoid_footprint(radius_mm, sp)
    np.testing.assert_array_equal(
        dilate_ellipsoid(mask, radius_mm, sp), ndimage.binary_dilation(mask, structure=ball)
    )
    for border in (False, True):
        np.testing.assert_array_equal(
            erode_ellipsoid(mask, radius_mm, sp, border_value=border),
            ndimage.binary_erosion(mask, structure=ball, border_value=border),
        )


@pytest.mark.parametrize("fill", [False, True])
def test_ellipsoid_morphology_of_an_empty_or_full_mask_is_scipys(fill):
    mask = np.full((9, 8, 7), fill)
    sp = np.array([0.5, 0.7, 0.5])
    ball = ellipsoid_footprint(1.2, sp)
    np.testing.assert_array_equal(
        dilate_ellipsoid(mask, 1.2, sp), ndimage.binary_dilation(mask, structure=ball)
    )
    for border in (False, True):
        np.testing.assert_array_equal(
            erode_ellipsoid(mask, 1.2, sp, border_value=border),
            ndimage.binary_erosion(mask, structure=ball, border_value=border),
        )

"""Footprints and distance maps in physical units."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from nvc.morphology import distance_to_mask


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

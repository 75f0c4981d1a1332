"""T2 normalisation helpers."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from nvc.intensity import smooth_field


def test_smooth_field_is_the_wide_gaussian_within_a_fraction_of_a_percent():
    rng = np.random.default_rng(0)
    shape = (120, 110, 60)
    ii, jj, kk = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    # a bias-scaled "CSF" mask of blobs, as normalize_t2 smooths it
    blobs = ndimage.gaussian_filter(rng.normal(size=shape), 3.0) > 0.02
    image = (1000 * (1 + 0.3 * ii - 0.2 * jj * kk) * blobs).astype(np.float32)
    sigma = np.array([24.0, 24.0, 17.0])
    expected = ndimage.gaussian_filter(image, sigma, mode="nearest")
    got = smooth_field(image, sigma)
    assert got.dtype == np.float32 and got.shape == shape
    rel = np.abs(got - expected) / expected.max()
    assert np.percentile(rel, 99) < 5e-3 and rel.max() < 2e-2


def test_smooth_field_of_narrow_sigma_is_the_direct_filter():
    image = np.random.default_rng(1).random((20, 21, 22)).astype(np.float32)
    np.testing.assert_allclose(
        smooth_field(image, np.array([2.0, 2.0, 2.0])),
        ndimage.gaussian_filter(image, 2.0, mode="nearest"),
    )

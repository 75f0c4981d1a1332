"""T2 normalisation helpers."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from nvc.intensity import dark_tube_roundness, normalize_t2, smooth_field, smoothed_levels


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


def _scene(tissue: float, snr: float, bone_fraction: float, seed: int) -> np.ndarray:
    """Slabs of bone, tissue and CSF (0.03, ``tissue``, 1 of CSF) with Rician noise."""
    rng = np.random.default_rng(seed)
    shape = (80, 80, 60)
    clean = np.ones(shape, np.float32)
    n_bone = round(bone_fraction * shape[0])
    clean[:n_bone] = 0.03
    clean[n_bone : n_bone + 20] = tissue
    clean = ndimage.gaussian_filter(clean, 0.6)
    sigma = 1.0 / snr
    noisy = np.hypot(clean + rng.normal(0, sigma, shape), rng.normal(0, sigma, shape))
    return (1000.0 * noisy).astype(np.float32)


def test_the_second_tissue_reading_holds_at_low_snr_and_with_much_bone():
    # a FIESTA-like tissue (0.2-0.3 of CSF) at 1.5 T SNR 8: noise spreads bone to the tissue
    # level; on the raw histogram the darkest class took bone and tissue together
    sp = np.array([0.55, 0.55, 0.8])
    first = []
    for tissue, bone_fraction, seed in [(0.22, 0.3, 0), (0.3, 0.55, 1), (0.42, 0.3, 2)]:
        norm, levels = normalize_t2(_scene(tissue, 8.0, bone_fraction, seed), sp)
        first.append(levels.tissue - tissue)
        second = smoothed_levels(norm, sp).tissue
        assert abs(second - tissue) < 0.06, (tissue, second)
    assert max(first) > 0.3  # the first reading fails on one of them


def test_roundness_on_the_box_of_the_voxels_asked_equals_the_whole_image():
    rng = np.random.default_rng(3)
    image = ndimage.gaussian_filter(rng.random((60, 50, 40)), 1.5).astype(np.float32)
    where = np.zeros(image.shape, bool)
    where[20:24, 30:33, 5:8] = True  # near one face, far from the others
    where[40, 10, 20] = True
    sp = np.array([0.5, 0.6, 0.8])
    got = dark_tube_roundness(image, sp, where, scale_mm=0.9)
    # the same Hessian over the whole image
    sigma = 0.9 / sp
    h = np.zeros((int(where.sum()), 3, 3))
    for a in range(3):
        for b in range(a, 3):
            order = [0, 0, 0]
            order[a] += 1
            order[b] += 1
            d = ndimage.gaussian_filter(image, sigma, order=order)[where] / (sp[a] * sp[b])
            h[:, a, b] = h[:, b, a] = d
    ev = np.linalg.eigvalsh(h.astype(np.float32))
    expected = np.where(ev[:, 2] > 0, np.clip(ev[:, 1], 0, None) / np.maximum(ev[:, 2], 1e-12), 0)
    np.testing.assert_allclose(got[where], expected, rtol=1e-5, atol=1e-6)
    assert not got[~where].any()

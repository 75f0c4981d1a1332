"""T2 intensity normalisation: flatten the bias field on the CSF and find tissue levels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from skimage.filters import threshold_multiotsu


@dataclass(frozen=True)
class IntensityParams:
    """Parameters of the T2 normalisation.

    Attributes
    ----------
    bias_sigma_mm : float
        Smoothing of the CSF intensity used as the bias estimate.
    """

    bias_sigma_mm: float = 12.0


@dataclass(frozen=True)
class T2Levels:
    """Intensity levels of the normalised T2 (CSF = 1).

    Attributes
    ----------
    tissue : float
        Median brain tissue.
    dark : float
        Typical nerve or vessel core (half the tissue level).
    csf_threshold, tissue_threshold : float
        Brighter than ``csf_threshold`` is CSF; darker than ``tissue_threshold`` is
        darker than tissue.
    bone_threshold : float
        Darker than this is bone, air or a flow void (darker than any nerve).
    """

    tissue: float
    dark: float
    csf_threshold: float
    tissue_threshold: float
    bone_threshold: float


def normalize_t2(
    image: NDArray[np.floating],
    spacing: NDArray[np.float64],
    *,
    params: IntensityParams = IntensityParams(),
) -> tuple[NDArray[np.float32], T2Levels]:
    """Divide a CISS-like T2 by a smooth estimate of the CSF level.

    Parameters
    ----------
    image : ndarray, shape (I, J, K)
        T2 intensities in scanner units.
    spacing : ndarray, shape (3,)
        Voxel size in mm.

    Returns
    -------
    normalised : ndarray, float32
        CSF near 1.0 everywhere, tissue about 0.3-0.45, nerves and vessels darker.
    levels : T2Levels
        Tissue level and the thresholds between classes.

    Raises
    ------
    ValueError
        For a constant image or one without a bright CSF class.
    """
    img = np.asarray(image, dtype=np.float32)
    sample = img[
        :: max(1, img.shape[0] // 64), :: max(1, img.shape[1] // 64), :: max(1, img.shape[2] // 64)
    ]
    sample = sample[sample > np.percentile(sample, 1)]
    if sample.size < 100 or np.ptp(sample) <= 0:
        raise ValueError("the T2 image is empty or constant")
    t_low, t_high = threshold_multiotsu(sample, classes=3)
    csf = img > t_high
    if csf.mean() < 0.01:
        raise ValueError("the T2 image has no bright CSF; is it a heavily T2-weighted image?")
    sigma = params.bias_sigma_mm / np.asarray(spacing, float)
    num = ndimage.gaussian_filter(np.where(csf, img, 0.0).astype(np.float32), sigma, mode="nearest")
    den = ndimage.gaussian_filter(csf.astype(np.float32), sigma, mode="nearest")
    level = num / np.maximum(den, 1e-3)
    fallback = float(np.median(img[csf]))
    level = np.where(den > 0.02, level, fallback)
    norm = (img / np.maximum(level, 1e-6)).astype(np.float32)
    mid = (norm > t_low / fallback) & (norm < 0.75)
    tissue = float(np.median(norm[mid])) if mid.any() else 0.35
    levels = T2Levels(
        tissue=tissue,
        dark=0.5 * tissue,
        csf_threshold=0.5 * (tissue + 1.0),
        tissue_threshold=0.65 * tissue,
        bone_threshold=0.35 * tissue,
    )
    return norm, levels

"""T2 intensity normalisation: flatten the bias field on the CSF and find tissue levels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from skimage.filters import threshold_multiotsu

from nvc.morphology import mask_box


@dataclass(frozen=True)
class IntensityParams:
    """Parameters of the T2 normalisation.

    Attributes
    ----------
    bias_sigma_mm : float
        Smoothing of the CSF intensity used as the bias estimate.
    class_sigma_mm : float
        Smoothing before the second reading of the tissue level
        (``smoothed_levels``). At 1.5 T (SNR 8-15) Rician noise spreads bone
        to the tissue level of a FIESTA (tissue 0.2-0.3 of CSF) and the two
        classes merge in the histogram; brain tissue and bone are centimetres
        thick, so half a millimetre of smoothing separates them again without
        blurring them together.
    """

    bias_sigma_mm: float = 12.0
    class_sigma_mm: float = 0.5


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
    sample = _subsample(img)
    if sample.size < 100 or np.ptp(sample) <= 0:
        raise ValueError("the T2 image is empty or constant")
    t_low, t_high = threshold_multiotsu(sample, classes=3)
    csf = img > t_high
    if csf.mean() < 0.01:
        raise ValueError("the T2 image has no bright CSF; is it a heavily T2-weighted image?")
    sigma = params.bias_sigma_mm / np.asarray(spacing, float)
    num = smooth_field(np.where(csf, img, np.float32(0.0)), sigma)
    den = smooth_field(csf.astype(np.float32), sigma)
    level = num / np.maximum(den, 1e-3)
    fallback = float(np.median(img[csf]))
    level = np.where(den > 0.02, level, fallback)
    norm = (img / np.maximum(level, 1e-6)).astype(np.float32)
    mid = (norm > t_low / fallback) & (norm < 0.75)
    return norm, levels_of(_tissue_median(norm, mid))


def smoothed_levels(
    norm: NDArray[np.float32],
    spacing: NDArray[np.float64],
    *,
    params: IntensityParams = IntensityParams(),
) -> T2Levels:
    """A second reading of the tissue level, robust to 1.5 T noise.

    ``normalize_t2`` takes the tissue level from three classes of the raw
    histogram (bone and air, tissue, CSF). At 1.5 T SNR and a FIESTA's dark
    tissue (0.2-0.3 of CSF), noise merges bone and tissue there and the darker
    class boundary lands above the tissue (0.68 where a brainstem lay at 0.26,
    on one case). Here the normalised image is smoothed by ``class_sigma_mm``
    and split into four classes (bone and air, tissue, the partial volume of
    thin structures and cistern edges, CSF); the tissue level is the median of
    the voxels of the second class.

    Parameters
    ----------
    norm : ndarray, float32, shape (I, J, K)
        T2 normalised by ``normalize_t2`` (CSF = 1).
    spacing : ndarray, shape (3,)
        Voxel size (mm) along i, j, k.

    Returns
    -------
    T2Levels
    """
    smooth = ndimage.gaussian_filter(norm, params.class_sigma_mm / np.asarray(spacing, float))
    t_bone, t_partial = threshold_multiotsu(_subsample(smooth), classes=4)[:2]
    mid = (smooth > t_bone) & (smooth < t_partial)
    return levels_of(_tissue_median(norm, mid))


def _tissue_median(norm: NDArray[np.float32], tissue: NDArray[np.bool_]) -> float:
    """The median of ``norm`` over the tissue class; 0.35 (a CISS's usual) where it is empty."""
    return float(np.median(norm[tissue])) if tissue.any() else 0.35


def levels_of(tissue: float) -> T2Levels:
    """The class thresholds of a normalised T2 (CSF = 1) whose brain tissue lies at ``tissue``."""
    return T2Levels(
        tissue=tissue,
        dark=0.5 * tissue,
        csf_threshold=0.5 * (tissue + 1.0),
        tissue_threshold=0.65 * tissue,
        bone_threshold=0.35 * tissue,
    )


def _subsample(image: NDArray[np.float32]) -> NDArray[np.float32]:
    """About 64 voxels along each axis, without the darkest 1 % (air outside the head)."""
    sample = image[tuple(slice(None, None, max(1, n // 64)) for n in image.shape)]
    return sample[sample > np.percentile(sample, 1)]


def tube_darkness(
    norm: NDArray[np.float32],
    levels: T2Levels,
    spacing: NDArray[np.float64],
    *,
    radius_mm: float | None,
) -> NDArray[np.float32]:
    """How dark each voxel is against its surroundings: 0 (CSF) to 1 (a nerve's or vessel's core).

    Darkness alone does not tell a nerve or a vein from the edge of the
    cerebellum or the flocculus (tissue is darker than CSF too): a nerve is a
    *tube* darker than what surrounds it. With ``radius_mm`` its darkness is
    a black top-hat (the grey closing by a box of that half-width, wider than
    the tube, minus the image), about 0 on the border of any bulky tissue;
    with None, the plain darkness below the CSF threshold. Both are scaled so
    that a core at half the tissue level is 1.

    Parameters
    ----------
    norm : ndarray, float32, shape (I, J, K)
        Normalised T2 (CSF = 1).
    spacing : ndarray, shape (3,)
        Voxel size (mm) along i, j, k.
    radius_mm : float or None
        Half-width (mm) of the closing box.

    Returns
    -------
    ndarray, float32, shape (I, J, K), values in [0, 1]
    """
    lo, hi = 0.5 * levels.tissue, levels.csf_threshold
    if radius_mm is None:
        return np.clip((hi - norm) / (hi - lo), 0.0, 1.0).astype(np.float32)
    size = tuple(int(v) for v in 2 * np.ceil(radius_mm / np.asarray(spacing, float)) + 1)
    # a box, not a ball: ndimage's box closing is separable (fast); a tube thinner than either
    # is filled by both
    tophat = ndimage.grey_closing(norm, size=size) - norm
    return np.clip(tophat / (hi - lo), 0.0, 1.0).astype(np.float32)


def smooth_field(
    image: NDArray[np.float32], sigma: NDArray[np.float64], *, min_coarse_sigma: float = 8.0
) -> NDArray[np.float32]:
    """Wide Gaussian smoothing (``mode="nearest"``, truncated at 4 sigma) on a coarser grid.

    Along each axis the image is extended by its edge values over the
    kernel's reach (as ``mode="nearest"`` does), averaged in blocks of ``f``
    voxels (``f`` the largest whole factor leaving at least
    ``min_coarse_sigma`` coarse voxels of sigma), smoothed there, and
    interpolated back (linear) onto the voxel grid. For the smooth fields it
    is meant for (bias estimates, sigma of tens of voxels) the result is the
    direct filter's to a fraction of a percent, at a small fraction of its cost.

    Parameters
    ----------
    image : ndarray, float32, shape (I, J, K)
    sigma : ndarray, shape (3,)
        Gaussian standard deviation along each axis, voxels.

    Returns
    -------
    ndarray, float32, shape (I, J, K)
    """
    out = np.asarray(image, np.float32)
    sigma = np.asarray(sigma, float)
    factors = [max(int(s // min_coarse_sigma), 1) for s in sigma]
    pads = []
    for axis, f in enumerate(factors):  # edge extension and block averaging, axis by axis
        if f == 1:
            pads.append(0)
            continue
        n = out.shape[axis]
        pad = int(np.ceil(4.0 * sigma[axis] / f)) * f
        widths = [(0, 0)] * 3
        widths[axis] = (pad, pad + (-(n + 2 * pad)) % f)
        padded = np.pad(out, widths, mode="edge")
        shape = list(padded.shape)
        shape[axis : axis + 1] = [shape[axis] // f, f]
        out = padded.reshape(shape).mean(axis=axis + 1, dtype=np.float32)
        pads.append(pad)
    coarse_sigma = [s / f for s, f in zip(sigma, factors, strict=True)]
    out = ndimage.gaussian_filter(out, coarse_sigma, mode="nearest")
    for axis, (f, pad) in enumerate(zip(factors, pads, strict=True)):
        if f == 1:
            continue
        # coarse voxel c is centred on padded fine index c * f + (f - 1) / 2
        c = (np.arange(image.shape[axis]) + pad - (f - 1) / 2.0) / f
        out = _interp_axis(out, c, axis)
    return out.astype(np.float32, copy=False)


def _interp_axis(
    a: NDArray[np.floating], c: NDArray[np.float64], axis: int
) -> NDArray[np.floating]:
    """Linear interpolation of ``a`` along ``axis`` at fractional indices ``c``."""
    lo = np.minimum(np.floor(c).astype(int), a.shape[axis] - 1)
    hi = np.minimum(lo + 1, a.shape[axis] - 1)
    w = (c - lo).astype(np.float32)
    shape = [1, 1, 1]
    shape[axis] = len(c)
    w = w.reshape(shape)
    # a[lo] * (1 - w) + a[hi] * w, the same operations in place (no full-size temporaries)
    out = np.take(a, lo, axis=axis)
    out *= 1.0 - w
    upper = np.take(a, hi, axis=axis)
    upper *= w
    out += upper
    return out


def dark_tube_roundness(
    image: NDArray[np.floating],
    spacing: NDArray[np.float64],
    where: NDArray[np.bool_],
    *,
    scale_mm: float,
) -> NDArray[np.float32]:
    """How round the cross-section of a dark structure is: 1 for a tube, 0 for a sheet.

    From the Hessian of the image smoothed at ``scale_mm``: across a dark tube
    the intensity curves up in two directions equally, across a dark sheet
    (a bone edge, a dural fold) in one only. The value is the second largest
    eigenvalue over the largest, both taken positive (Frangi's R_A for dark
    structures; Frangi et al., MICCAI 1998). Written here because
    ``skimage.feature.hessian_matrix`` assumes isotropic voxels and computes
    eigenvalues everywhere; this works in mm on any spacing and only where asked.

    Parameters
    ----------
    image : ndarray, float, shape (I, J, K)
        The image (dark structures on a brighter background).
    spacing : ndarray, float, shape (3,)
        Voxel size (mm) along i, j, k.
    where : ndarray, bool, shape (I, J, K)
        Voxels at which to measure.
    scale_mm : float
        Gaussian scale (mm) of the derivatives: about the tube's radius.

    Returns
    -------
    ndarray, float32, shape (I, J, K)
        Roundness in [0, 1] at ``where``, 0 elsewhere.
    """
    out = np.zeros(image.shape, np.float32)
    if not where.any():
        return out
    spacing = np.asarray(spacing, float)
    sigma = scale_mm / spacing
    # the filters run on the box of ``where`` widened by the kernels' reach (scipy truncates
    # at 4 sigma): at every voxel of ``where`` the same values as over the whole image
    box = mask_box(where, float(np.max((sigma_reach(sigma) + 1) * spacing)), spacing)
    image = np.asarray(image[box], np.float32)
    inside = where[box]
    hessian = np.zeros((int(inside.sum()), 3, 3), np.float32)
    for a in range(3):
        for b in range(a, 3):
            order = [0, 0, 0]
            order[a] += 1
            order[b] += 1
            d = ndimage.gaussian_filter(image, sigma, order=order)[inside] / (
                spacing[a] * spacing[b]
            )
            hessian[:, a, b] = d
            hessian[:, b, a] = d
    ev = np.linalg.eigvalsh(hessian)  # ascending
    largest = np.maximum(ev[:, 2], 1e-12)
    out[where] = np.where(ev[:, 2] > 0, np.clip(ev[:, 1], 0.0, None) / largest, 0.0)
    return out


def sigma_reach(sigma: NDArray[np.float64]) -> NDArray[np.int_]:
    """Voxels reached along each axis by ``ndimage.gaussian_filter`` of ``sigma`` (truncate 4)."""
    return np.array([int(4.0 * float(v) + 0.5) for v in sigma])

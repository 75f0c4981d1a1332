"""Arteries (bright on TOF) and veins (dark on TOF and T2) on the T2 grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc.intensity import T2Levels
from nvc.morphology import dilate_ellipsoid, erode_ellipsoid


@dataclass(frozen=True)
class VesselParams:
    """Parameters of the vessel segmentation.

    Attributes
    ----------
    seed_fraction, grow_fraction : float
        Hysteresis thresholds for arteries as fractions of the way from the TOF
        background to the brightest arteries.
    half_max_window_mm : float
        Window for the local half-maximum that places each artery's wall.
    min_artery_mm3, min_vein_mm3 : float
        Smallest connected pieces kept.
    vein_tof_fraction : float
        Veins are darker on TOF than this fraction of the way from CSF to tissue.
    """

    seed_fraction: float = 0.55
    grow_fraction: float = 0.25
    half_max_window_mm: float = 1.6
    min_artery_mm3: float = 6.0
    min_vein_mm3: float = 4.0
    vein_tof_fraction: float = 0.5
    dark_core_fraction: float = 0.8
    max_tube_radius_mm: float = 2.5


@dataclass(frozen=True)
class TofLevels:
    """TOF levels on the T2 grid: stationary tissue, CSF and the brightest arteries."""

    tissue: float
    csf: float
    artery: float


def tof_levels(
    tof: NDArray[np.floating], brainstem: NDArray[np.bool_], csf: NDArray[np.bool_]
) -> TofLevels:
    """Median TOF in the brainstem and in the CSF, and the 99.9th percentile overall."""
    tissue = float(np.median(tof[brainstem])) if brainstem.any() else float(np.median(tof))
    csf_level = float(np.median(tof[csf])) if csf.any() else tissue
    artery = float(np.percentile(tof, 99.9))
    return TofLevels(tissue=tissue, csf=csf_level, artery=artery)


def segment_arteries(
    tof: NDArray[np.floating],
    spacing: NDArray[np.float64],
    levels: TofLevels,
    *,
    params: VesselParams = VesselParams(),
) -> NDArray[np.bool_]:
    """Arteries: TOF-bright structures, their walls at the local half maximum.

    Parameters
    ----------
    tof : ndarray, float, shape (I, J, K)
        Registered TOF on the analysis grid.
    spacing : ndarray, shape (3,)
        Voxel size in mm.

    Returns
    -------
    ndarray of bool, shape (I, J, K)
    """
    tof = np.asarray(tof, np.float32)
    span = max(levels.artery - levels.tissue, 1e-6)
    rel = (tof - levels.tissue) / span
    core = _hysteresis(rel, params.grow_fraction, params.seed_fraction)
    size = (
        np.maximum(np.round(params.half_max_window_mm / np.asarray(spacing)).astype(int), 1) * 2 + 1
    )
    local_peak = ndimage.maximum_filter(np.where(core, rel, 0.0), size=tuple(size))
    wall = rel >= 0.5 * local_peak
    mask = ndimage.binary_propagation(core & wall, mask=wall & (rel > 0.5 * params.grow_fraction))
    return _drop_small(mask, spacing, params.min_artery_mm3)


def segment_veins(
    t2: NDArray[np.floating],
    t2_levels: T2Levels,
    tof: NDArray[np.floating],
    tof_lv: TofLevels,
    spacing: NDArray[np.float64],
    *,
    exclude: NDArray[np.bool_],
    params: VesselParams = VesselParams(),
) -> NDArray[np.bool_]:
    """Veins: dark on T2 (in the CSF), dark on TOF, not arteries, nerves or brain.

    Parameters
    ----------
    t2 : ndarray, float
        Normalised T2 (CSF = 1).
    exclude : ndarray, bool
        Voxels that cannot be vein (arteries, nerves, brainstem).
    """
    t2 = np.asarray(t2, np.float32)
    dark = _dark_structures(t2, t2_levels, spacing, params)
    threshold = tof_lv.csf + params.vein_tof_fraction * (tof_lv.tissue - tof_lv.csf)
    labels, n = ndimage.label(dark & ~exclude)
    if n == 0:
        return np.zeros(t2.shape, bool)
    index = np.arange(1, n + 1)
    mean_tof = ndimage.mean(tof, labels, index=index)
    # what surrounds each piece: a vein floats in CSF; a bone edge has bone on one side
    shell_labels = ndimage.grey_dilation(labels, size=(3, 3, 3))
    shell_labels[labels > 0] = 0
    # voxel counts per piece (ndimage.sum_labels' values, without its sorting)
    shell_size = np.maximum(_counts(shell_labels, n), 1)
    csf_around = _counts(shell_labels[t2 > t2_levels.csf_threshold], n) / shell_size
    bone_around = _counts(shell_labels[t2 < t2_levels.bone_threshold], n) / shell_size
    veins = np.zeros(n + 1, bool)
    veins[1:] = (mean_tof < threshold) & (csf_around >= 0.5) & (bone_around < 0.15)
    return _drop_small(veins[labels], spacing, params.min_vein_mm3)


def _dark_structures(
    t2: NDArray[np.float32], lv: T2Levels, spacing: NDArray[np.float64], params: VesselParams
) -> NDArray[np.bool_]:
    """Thin dark tubes in CSF: cores darker than tissue, grown half-way towards CSF.

    Bone and other large dark regions are removed by a morphological opening
    wider than any vessel or nerve.
    """
    dark = t2 < params.dark_core_fraction * lv.tissue
    r = params.max_tube_radius_mm
    # bone continues beyond the field of view: erode with the outside counted as dark
    bulky = dilate_ellipsoid(erode_ellipsoid(dark, r, spacing, border_value=True), r, spacing)
    core = dark & ~ndimage.binary_dilation(bulky, iterations=2)
    core &= ndimage.binary_dilation(t2 > lv.csf_threshold, iterations=2)  # next to CSF
    halfway = 0.5 * (float(np.median(t2[core])) if core.any() else lv.dark) + 0.5
    return core | (ndimage.binary_dilation(core) & (t2 < halfway))


def _hysteresis(image: NDArray[np.float32], low: float, high: float) -> NDArray[np.bool_]:
    """``skimage.filters.apply_hysteresis_threshold`` (the same voxels), counting by bincount.

    Voxels above ``low`` whose face-connected piece holds a voxel above ``high``.
    """
    low = min(low, high)
    labels, n = ndimage.label(image > low)
    seeded = np.bincount(labels[image > high], minlength=n + 1) > 0
    return seeded[labels]


def _counts(labels: NDArray[np.integer], n: int) -> NDArray[np.int64]:
    """Number of voxels of each label 1..n, shape (n,)."""
    return np.bincount(labels.ravel(), minlength=n + 1)[1 : n + 1]


def _drop_small(
    mask: NDArray[np.bool_], spacing: NDArray[np.float64], min_mm3: float
) -> NDArray[np.bool_]:
    labels, n = ndimage.label(mask)
    if n == 0:
        return mask
    voxel = float(np.prod(spacing))
    sizes = _counts(labels, n) * voxel
    keep = np.zeros(n + 1, bool)
    keep[1:] = sizes >= min_mm3
    return keep[labels]

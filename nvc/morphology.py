"""Structuring elements and distance maps in physical units."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk
from numpy.typing import NDArray
from scipy import ndimage


def ellipsoid_footprint(radius_mm: float, spacing: NDArray[np.float64]) -> NDArray[np.bool_]:
    """A ball of ``radius_mm`` on a grid of voxel size ``spacing`` (an ellipsoid in voxels).

    Returns
    -------
    ndarray of bool, shape (2*ri+1, 2*rj+1, 2*rk+1)
        ``ri = max(1, round(radius_mm / spacing[0]))`` and so on.
    """
    radius = np.maximum(np.round(radius_mm / np.asarray(spacing, float)).astype(int), 1)
    grids = np.ogrid[tuple(slice(-int(r), int(r) + 1) for r in radius)]
    total = np.zeros([2 * int(r) + 1 for r in radius])
    for g, r in zip(grids, radius, strict=True):
        total = total + (g / int(r)) ** 2
    return np.asarray(total <= 1.0)


def distance_to_mask(mask: NDArray[np.bool_], spacing: NDArray[np.float64]) -> NDArray[np.float32]:
    """Euclidean distance (mm) from each voxel centre to the nearest voxel centre of ``mask``.

    0 on the mask. The values are those of
    ``scipy.ndimage.distance_transform_edt(~mask, sampling=spacing)`` (exact, to
    float32 precision), computed by ITK's Maurer transform on all threads in
    float32 (about half the time and a fraction of the memory on 2 cores).

    Parameters
    ----------
    mask : ndarray of bool, shape (I, J, K)
    spacing : ndarray, shape (3,)
        Voxel size along i, j, k in mm.

    Returns
    -------
    ndarray, float32, shape (I, J, K)
    """
    mask = np.asarray(mask, bool)
    if not mask.any() or mask.all():  # scipy's answer for these degenerate cases
        edt = ndimage.distance_transform_edt(~mask, sampling=spacing)
        return np.asarray(edt, np.float32)
    out = signed_distance(mask, spacing)
    return np.clip(out, 0.0, None, out=out)


def signed_distance(mask: NDArray[np.bool_], spacing: NDArray[np.float64]) -> NDArray[np.float32]:
    """Signed Euclidean distance (mm) to the surface of ``mask``: negative inside, positive outside.

    ITK's signed Maurer transform on all threads: distances between voxel
    centres, measured to the mask's outermost voxels (0 on them).

    Parameters
    ----------
    mask : ndarray of bool, shape (I, J, K)
    spacing : ndarray, shape (3,)
        Voxel size along i, j, k in mm.

    Returns
    -------
    ndarray, float32, shape (I, J, K)
        Outside the mask the value equals ``distance_to_mask``; an empty mask
        gives +inf everywhere, a full one -inf.
    """
    mask = np.asarray(mask, bool)
    if not mask.any() or mask.all():
        return np.full(mask.shape, np.inf if not mask.any() else -np.inf, np.float32)
    image = sitk.GetImageFromArray(np.ascontiguousarray(mask.T).view(np.uint8))
    image.SetSpacing([float(s) for s in spacing])
    signed = sitk.SignedMaurerDistanceMap(
        image, insideIsPositive=False, squaredDistance=False, useImageSpacing=True
    )
    return np.ascontiguousarray(sitk.GetArrayFromImage(signed).T.astype(np.float32))

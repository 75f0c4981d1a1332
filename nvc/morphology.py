"""Structuring elements and distance maps in physical units."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk
from numpy.typing import NDArray
from scipy import ndimage


def ellipsoid_footprint(radius_mm: float, spacing: NDArray[np.float64]) -> NDArray[np.bool_]:
    """A ball of ``radius_mm`` on a grid of voxel size ``spacing`` (an ellipsoid in voxels).

    Parameters
    ----------
    radius_mm : float
        Radius of the ball, mm.
    spacing : ndarray, shape (3,)
        Voxel size along i, j, k in mm.

    Returns
    -------
    ndarray of bool, shape (2*ri+1, 2*rj+1, 2*rk+1)
        ``ri = max(1, round(radius_mm / spacing[0]))`` and so on; True inside the ball.

    Examples
    --------
    >>> import numpy as np
    >>> ellipsoid_footprint(1.0, np.array([0.5, 0.5, 1.0])).shape
    (5, 5, 3)
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


def mask_box(
    mask: NDArray[np.bool_], margin_mm: float, spacing: NDArray[np.float64]
) -> tuple[slice, slice, slice]:
    """Index box of the True voxels of ``mask`` widened by ``margin_mm`` (clipped to the array).

    Every voxel within ``margin_mm`` of a mask voxel lies in the box, so a
    distance to the mask that matters only up to ``margin_mm`` can be
    computed on the box alone.

    Parameters
    ----------
    mask : ndarray of bool, shape (I, J, K)
        Not empty.
    margin_mm : float
    spacing : ndarray, shape (3,)
        Voxel size along i, j, k in mm.

    Returns
    -------
    tuple of three slices

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((10, 10, 10), bool)
    >>> mask[5, 5, 5] = True
    >>> mask_box(mask, 1.0, np.array([0.5, 0.5, 1.0]))
    (slice(3, 8, None), slice(3, 8, None), slice(4, 7, None))
    """
    idx = np.argwhere(mask)
    first, last = idx.min(axis=0), idx.max(axis=0)
    tight = tuple(slice(int(a), int(b) + 1) for a, b in zip(first, last, strict=True))
    i, j, k = widen_box(tight, np.ceil(margin_mm / np.asarray(spacing, float)), mask.shape)
    return i, j, k


def widen_box(
    box: tuple[slice, ...], reach: NDArray[np.floating] | NDArray[np.int_], shape: tuple[int, ...]
) -> tuple[slice, ...]:
    """``box`` widened by ``reach`` voxels along each axis, clipped to an array of ``shape``.

    Parameters
    ----------
    box : tuple of slices
        One slice per axis, with start and stop.
    reach : ndarray, shape (ndim,)
        Voxels added on both sides along each axis (whole numbers).
    shape : tuple of int

    Returns
    -------
    tuple of slices

    Examples
    --------
    >>> import numpy as np
    >>> widen_box((slice(2, 5), slice(0, 3)), np.array([1, 2]), (6, 4))
    (slice(1, 6, None), slice(0, 4, None))
    """
    return tuple(
        slice(max(int(b.start) - int(r), 0), min(int(b.stop) + int(r), n))
        for b, r, n in zip(box, reach, shape, strict=True)
    )


def dilate_ellipsoid(
    mask: NDArray[np.bool_], radius_mm: float, spacing: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Binary dilation of ``mask`` by ``ellipsoid_footprint(radius_mm, spacing)``.

    The same voxels as ``ndimage.binary_dilation(mask, structure=ball)``, from
    one exact distance transform instead of a pass of the whole ball over
    every voxel (for a ball of radius 7 voxels about 10 times faster).

    Parameters
    ----------
    mask : ndarray of bool, shape (I, J, K)
    radius_mm : float
    spacing : ndarray, shape (3,)
        Voxel size along i, j, k in mm.

    Returns
    -------
    ndarray of bool, shape (I, J, K)
    """
    mask = np.asarray(mask, bool)
    return _within_ellipsoid(mask, radius_mm, spacing)


def erode_ellipsoid(
    mask: NDArray[np.bool_],
    radius_mm: float,
    spacing: NDArray[np.float64],
    *,
    border_value: bool = False,
) -> NDArray[np.bool_]:
    """Binary erosion of ``mask`` by ``ellipsoid_footprint(radius_mm, spacing)``.

    The same voxels as ``ndimage.binary_erosion(mask, structure=ball,
    border_value=border_value)``, from one exact distance transform.

    Parameters
    ----------
    mask : ndarray of bool, shape (I, J, K)
    radius_mm : float
    spacing : ndarray, shape (3,)
        Voxel size along i, j, k in mm.
    border_value : bool
        Value of the voxels outside the array (False: the border erodes).

    Returns
    -------
    ndarray of bool, shape (I, J, K)
    """
    mask = np.asarray(mask, bool)
    if border_value:
        return ~_within_ellipsoid(~mask, radius_mm, spacing)
    # voxels outside the array are background: give them a one-ball-deep frame of it
    pad = [(int(r), int(r)) for r in _radii(radius_mm, spacing)]
    outside = np.pad(~mask, pad, constant_values=True)
    inner = tuple(slice(a, a + n) for (a, _), n in zip(pad, mask.shape, strict=True))
    return ~_within_ellipsoid(outside, radius_mm, spacing)[inner]


def _radii(radius_mm: float, spacing: NDArray[np.float64]) -> NDArray[np.int_]:
    """Semi-axes (voxels) of ``ellipsoid_footprint(radius_mm, spacing)``."""
    return np.maximum(np.round(radius_mm / np.asarray(spacing, float)).astype(int), 1)


def _within_ellipsoid(
    features: NDArray[np.bool_], radius_mm: float, spacing: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Voxels with a ``features`` voxel inside their ``ellipsoid_footprint`` (the dilation).

    The footprint holds the offsets ``g`` with ``sum((g / r) ** 2) <= 1``
    (``r`` its semi-axes in voxels), i.e. ``sum(w * g ** 2) <= m`` in whole
    numbers, ``m`` the least common multiple of the ``r ** 2`` and
    ``w = m / r ** 2``. The exact distance transform with voxel size
    ``sqrt(w)`` gives ``sqrt(sum(w * g ** 2))`` to the nearest feature, a whole
    number under the root: compared with ``m + 0.5`` it decides exactly.
    ITK's signed Maurer transform (exact, on all threads) gives the squared
    distance, a whole number stored in float32 (exact below 2**24, far above
    any ``m``; about twice as fast as ``scipy.ndimage.distance_transform_edt``).
    """
    if not features.any():
        return np.zeros(features.shape, bool)
    if features.all():
        return np.ones(features.shape, bool)
    r2 = [int(r) ** 2 for r in _radii(radius_mm, spacing)]
    m = int(np.lcm.reduce(r2))
    weights = np.sqrt([m // v for v in r2])
    image = sitk.GetImageFromArray(np.ascontiguousarray(features.T).view(np.uint8))
    image.SetSpacing([float(w) for w in weights])
    # squared distances, negative inside the features: all of them are within
    squared = sitk.SignedMaurerDistanceMap(
        image, insideIsPositive=False, squaredDistance=True, useImageSpacing=True
    )
    values = sitk.GetArrayViewFromImage(squared).T  # ITK arrays are (k, j, i)
    return np.ascontiguousarray(values < m + 0.5)

"""Structuring elements in physical units."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


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

"""Sanity checks applied by every reader before and after reading voxels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nvc.io.errors import VolumeLoadError

#: Refuse headers that declare more voxels than this before allocating (2**30 = 4 GiB as float32).
MAX_VOXELS = 2**30
#: Largest deviation of the voxel axes' Gram matrix from identity still taken as orthogonal
#: (1e-4 is about 0.006 degrees; ITK images, and so registration and resampling, need it).
MAX_SHEAR = 1e-4


def check_shape(path: Path, shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Return the 3D shape, squeezing trailing singleton dimensions.

    Raises VolumeLoadError for 2D, 4D and larger, zero-sized or absurdly large grids.

    Parameters
    ----------
    path : Path
        The file (named in the error).
    shape : tuple of int
        The header's grid shape.

    Returns
    -------
    tuple of int
        ``(I, J, K)``.
    """
    dims = [int(n) for n in shape]
    while len(dims) > 3 and dims[-1] == 1:
        dims.pop()
    if any(n <= 0 for n in dims):
        raise VolumeLoadError(path, f"header declares a zero or negative dimension {tuple(dims)}")
    if len(dims) < 3 or (len(dims) == 3 and min(dims) == 1):
        raise VolumeLoadError(path, f"image is 2D (shape {tuple(dims)}); a 3D volume is needed")
    if len(dims) > 3:
        raise VolumeLoadError(
            path, f"image is {len(dims)}D (shape {tuple(dims)}); a single 3D volume is needed"
        )
    if float(np.prod(np.asarray(dims, dtype=np.float64))) > MAX_VOXELS:
        raise VolumeLoadError(
            path, f"header declares {tuple(dims)} voxels, beyond the {MAX_VOXELS} voxel limit"
        )
    return dims[0], dims[1], dims[2]


def check_geometry(path: Path, affine: NDArray[np.float64], spacing: Any) -> None:
    """Refuse non-finite, zero or negative voxel sizes and degenerate affines.

    Parameters
    ----------
    path : Path
        The file (named in the error).
    affine : ndarray of float64, shape (4, 4)
        Voxel indices to RAS+ mm.
    spacing : array_like, shape (3,)
        Voxel size in mm along i, j, k.
    """
    sp = np.asarray(spacing, dtype=np.float64)[:3]
    if not np.all(np.isfinite(sp)) or np.any(sp <= 0):
        raise VolumeLoadError(path, f"voxel size {tuple(sp.tolist())} is zero, negative or invalid")
    a = np.asarray(affine, dtype=np.float64)
    if a.shape != (4, 4) or not np.all(np.isfinite(a)):
        raise VolumeLoadError(path, "voxel-to-world affine is not finite")
    if np.max(np.abs(a)) > 1e12:
        raise VolumeLoadError(path, "voxel-to-world affine has absurd values (beyond 1e12 mm)")
    cols = np.sqrt((a[:3, :3] ** 2).sum(axis=0))
    if np.any(cols < 1e-6):
        raise VolumeLoadError(path, "voxel-to-world affine is degenerate (a zero-length axis)")
    unit = a[:3, :3] / cols
    if abs(np.linalg.det(unit)) < 1e-3:
        raise VolumeLoadError(path, "voxel-to-world affine is degenerate (collapsed axes)")
    gram = unit.T @ unit
    if np.max(np.abs(gram - np.eye(3))) > MAX_SHEAR:
        off = np.abs(gram[np.triu_indices(3, 1)]).max()
        angle = float(np.degrees(np.arcsin(min(off, 1.0))))
        raise VolumeLoadError(
            path,
            f"voxel axes are sheared ({angle:.2f} degrees from perpendicular);"
            " resample onto an orthogonal grid first",
        )


def check_data_size(path: Path, needed: int, available: int | None) -> None:
    """Refuse a file that holds fewer voxel bytes than its header declares (before allocating).

    ``available`` is None when the format's storage cannot be measured cheaply.

    Parameters
    ----------
    path : Path
        The file (named in the error).
    needed : int
        Voxel bytes the header declares.
    available : int or None
        Voxel bytes the file holds (decompressed).
    """
    if available is not None and available < needed:
        raise VolumeLoadError(
            path,
            f"truncated or corrupt image data: the header declares {needed} bytes of voxels,"
            f" the file holds {max(available, 0)}",
        )


def check_values(path: Path, array: NDArray[Any]) -> NDArray[Any]:
    """Refuse non-numeric (RGB, complex) data and non-finite voxels.

    Parameters
    ----------
    path : Path
        The file (named in the error).
    array : ndarray, shape (I, J, K)
        The voxels read.

    Returns
    -------
    ndarray
        ``array`` unchanged (any real numeric dtype).
    """
    if array.dtype.names is not None or array.dtype.kind not in "biuf":
        raise VolumeLoadError(
            path, f"voxel type {array.dtype} is not a scalar real type (RGB or complex?)"
        )
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise VolumeLoadError(path, f"{bad} voxels are NaN or infinite")
    return array

"""The ``Volume``: a 3D array with its voxel-to-world affine (RAS+, mm).

Array axes are ``(i, j, k)`` voxel indices; ``affine`` maps homogeneous
``(i, j, k, 1)`` to RAS+ millimetres ``(x, y, z, 1)``: x increases to the
patient's right, y anteriorly, z superiorly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import SimpleITK as sitk
from nibabel import orientations
from numpy.typing import ArrayLike, NDArray

Interpolation = Literal["nearest", "linear", "bspline"]

_SITK_INTERPOLATORS = {
    "nearest": sitk.sitkNearestNeighbor,
    "linear": sitk.sitkLinear,
    "bspline": sitk.sitkBSpline,
}

#: RAS <-> LPS: both directions are the same flip.
RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass(frozen=True, eq=False)
class Volume:
    """A 3D image or label map on a grid placed in RAS+ millimetres.

    Parameters
    ----------
    array : ndarray, shape (I, J, K), any dtype
        Voxel values, axes ``(i, j, k)``.
    affine : ndarray of float64, shape (4, 4)
        Voxel indices ``(i, j, k, 1)`` to RAS+ mm ``(x, y, z, 1)``. Must be finite
        and non-singular.
    metadata : mapping
        Free-form acquisition facts (sequence, field strength, source name).

    Raises
    ------
    ValueError
        If the array is not 3D or the affine is not a finite, non-singular 4x4 matrix.

    Examples
    --------
    A 20 x 20 x 10 grid of 0.5 x 0.5 x 1 mm voxels whose first voxel is at
    (-5, -5, 0) mm:

    >>> import numpy as np
    >>> affine = np.diag([0.5, 0.5, 1.0, 1.0])
    >>> affine[:3, 3] = [-5.0, -5.0, 0.0]
    >>> vol = Volume(np.zeros((20, 20, 10), np.float32), affine)
    >>> vol.shape, vol.spacing.tolist()
    ((20, 20, 10), [0.5, 0.5, 1.0])
    >>> vol.voxel_to_world([10, 10, 5]).tolist()
    [0.0, 0.0, 5.0]
    >>> vol.world_to_voxel([1.0, -1.0, 2.0]).tolist()
    [12.0, 8.0, 2.0]
    """

    array: NDArray[Any]
    affine: NDArray[np.float64]
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        array = np.asarray(self.array)
        affine = np.asarray(self.affine, dtype=np.float64)
        if array.ndim != 3:
            raise ValueError(f"a Volume needs a 3D array, got shape {array.shape}")
        if affine.shape != (4, 4) or not np.all(np.isfinite(affine)):
            raise ValueError("affine must be a finite 4x4 matrix")
        if abs(np.linalg.det(affine[:3, :3])) < 1e-9:
            raise ValueError("affine is singular (zero voxel size or collapsed axes)")
        object.__setattr__(self, "array", array)
        object.__setattr__(self, "affine", affine)
        object.__setattr__(self, "metadata", dict(self.metadata))

    @property
    def shape(self) -> tuple[int, int, int]:
        """Grid shape ``(I, J, K)`` (voxels along i, j, k)."""
        i, j, k = self.array.shape
        return int(i), int(j), int(k)

    @property
    def spacing(self) -> NDArray[np.float64]:
        """Voxel size along i, j, k in mm: ndarray of float64, shape (3,)."""
        return spacing_of(self.affine)

    def with_array(self, array: ArrayLike, **metadata: Any) -> Volume:
        """Same grid, new voxel values (and extra metadata).

        Parameters
        ----------
        array : array_like, shape (I, J, K)
            The new voxel values (any dtype), on this volume's grid.
        **metadata
            Entries added to (or replacing) the metadata.

        Returns
        -------
        Volume
            Same affine, the new array.
        """
        return Volume(np.asarray(array), self.affine, {**self.metadata, **metadata})

    def voxel_to_world(self, ijk: ArrayLike) -> NDArray[np.float64]:
        """Voxel indices to RAS+ mm.

        Parameters
        ----------
        ijk : array_like, shape (..., 3)
            Voxel indices ``(i, j, k)`` (fractional allowed).

        Returns
        -------
        ndarray of float64, shape (..., 3)
            RAS+ mm ``(x, y, z)``.
        """
        return apply_affine(self.affine, ijk)

    def world_to_voxel(self, xyz: ArrayLike) -> NDArray[np.float64]:
        """RAS+ mm to fractional voxel indices.

        Parameters
        ----------
        xyz : array_like, shape (..., 3)
            RAS+ mm ``(x, y, z)``.

        Returns
        -------
        ndarray of float64, shape (..., 3)
            Fractional voxel indices ``(i, j, k)``.
        """
        return apply_affine(np.linalg.inv(self.affine), xyz)

    def world_bounds(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Axis-aligned RAS box enclosing all voxel centres.

        Returns
        -------
        lo, hi : ndarray of float64, shape (3,)
            Lowest and highest ``(x, y, z)`` of the voxel centres, RAS+ mm.
        """
        corners = np.array(np.meshgrid(*[[0, n - 1] for n in self.shape], indexing="ij"))
        xyz = self.voxel_to_world(corners.reshape(3, -1).T)
        return xyz.min(axis=0), xyz.max(axis=0)


def spacing_of(affine: NDArray[np.float64]) -> NDArray[np.float64]:
    """Voxel size in mm along each array axis.

    Parameters
    ----------
    affine : ndarray, shape (4, 4)
        Voxel indices to RAS+ mm.

    Returns
    -------
    ndarray of float64, shape (3,)
        Lengths of the affine's first three columns (mm along i, j, k).

    Examples
    --------
    >>> import numpy as np
    >>> spacing_of(np.diag([-0.5, 0.5, 2.0, 1.0])).tolist()
    [0.5, 0.5, 2.0]
    """
    return np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(axis=0))


def apply_affine(affine: ArrayLike, points: ArrayLike) -> NDArray[np.float64]:
    """Apply a 4x4 affine to points.

    Parameters
    ----------
    affine : array_like, shape (4, 4)
        Homogeneous transform (e.g. voxel indices to RAS+ mm).
    points : array_like, shape (..., 3)
        Points, last axis the three coordinates.

    Returns
    -------
    ndarray of float64, shape (..., 3)

    Examples
    --------
    >>> import numpy as np
    >>> affine = np.diag([2.0, 2.0, 2.0, 1.0])
    >>> affine[:3, 3] = [10.0, 0.0, -4.0]
    >>> apply_affine(affine, [[0, 0, 0], [1, 2, 3]]).tolist()
    [[10.0, 0.0, -4.0], [12.0, 4.0, 2.0]]
    """
    a = np.asarray(affine, dtype=np.float64)
    p = np.asarray(points, dtype=np.float64)
    return p @ a[:3, :3].T + a[:3, 3]


def reorient_canonical(volume: Volume) -> Volume:
    """Flip and permute axes so that i, j, k point closest to R, A, S.

    No interpolation: voxel values are only reordered, and every voxel keeps
    its world position.

    Parameters
    ----------
    volume : Volume
        Any orientation (LPS, coronal or sagittal storage, oblique).

    Returns
    -------
    Volume
        Array axes closest to (R, A, S); the same object when already so.

    Examples
    --------
    An LPS grid (i towards the patient's left, j posterior):

    >>> import numpy as np
    >>> lps = Volume(np.arange(8).reshape(2, 2, 2), np.diag([-1.0, -1.0, 1.0, 1.0]))
    >>> ras = reorient_canonical(lps)
    >>> np.diag(ras.affine).tolist()
    [1.0, 1.0, 1.0, 1.0]
    >>> ras.affine[:3, 3].tolist()
    [-1.0, -1.0, 0.0]
    >>> bool(ras.array[0, 0, 0] == lps.array[1, 1, 0])  # the same voxel, at (-1, -1, 0) mm
    True
    """
    ornt = orientations.io_orientation(volume.affine)
    if np.array_equal(ornt, [[0, 1], [1, 1], [2, 1]]):
        return volume
    array = orientations.apply_orientation(volume.array, ornt)
    return Volume(np.ascontiguousarray(array), _canonical_affine(volume), volume.metadata)


def resample_to(
    volume: Volume,
    reference: Volume,
    *,
    interpolation: Interpolation = "linear",
    world_transform: NDArray[np.float64] | None = None,
    fill: float = 0.0,
) -> Volume:
    """Resample ``volume`` onto the grid of ``reference``.

    Parameters
    ----------
    volume : Volume
        Image to sample.
    reference : Volume
        Supplies the output grid (shape and affine); its voxels are not read.
    interpolation : {"nearest", "linear", "bspline"}
        Use "nearest" for label maps.
    world_transform : ndarray, shape (4, 4), optional
        Maps a RAS point of the reference's world to the RAS point of
        ``volume``'s world that images the same tissue (for a registered
        pair). Identity when omitted.
    fill : float
        Value outside ``volume``'s field of view.

    Returns
    -------
    Volume
        On the reference grid, dtype float32 (or the input dtype for nearest).
    """
    world = np.eye(4) if world_transform is None else np.asarray(world_transform, float)
    # reference index -> reference world -> volume world -> volume index
    index_map = np.linalg.inv(volume.affine) @ world @ reference.affine
    # only the block of source voxels the reference grid can reach is converted and handed to
    # ITK (plus the interpolator's support): the result is the same, with no full-volume copies
    corners = np.array(np.meshgrid(*[[0, n - 1] for n in reference.shape], indexing="ij"))
    reach = apply_affine(index_map, corners.reshape(3, -1).T)
    margin = 12 if interpolation == "bspline" else 3  # B-spline coefficients reach further
    lo = np.clip(np.floor(reach.min(axis=0)).astype(int) - margin, 0, volume.shape)
    hi = np.clip(np.ceil(reach.max(axis=0)).astype(int) + margin + 1, 0, volume.shape)
    if np.any(hi <= lo):  # the reference grid lies outside the volume: all fill
        lo, hi = np.zeros(3, int), np.minimum(np.ones(3, int), volume.shape)
    block = volume.array[tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))]
    shift = np.eye(4)
    shift[:3, 3] = -lo
    index_map = shift @ index_map
    src = sitk.GetImageFromArray(np.ascontiguousarray(_sitk_dtype(block, interpolation).T))
    transform = sitk.AffineTransform(3)
    transform.SetMatrix(index_map[:3, :3].ravel().tolist())
    transform.SetTranslation(index_map[:3, 3].tolist())
    out = sitk.Resample(
        src,
        [int(n) for n in reference.shape],
        transform,
        _SITK_INTERPOLATORS[interpolation],
        (0.0, 0.0, 0.0),
        (1.0, 1.0, 1.0),
        (1, 0, 0, 0, 1, 0, 0, 0, 1),
        float(fill),
    )
    array = sitk.GetArrayViewFromImage(out).T.copy()
    return Volume(array, reference.affine, volume.metadata)


def reorient_like(volume: Volume, reference: Volume) -> Volume:
    """Undo ``reorient_canonical``: flip and permute ``volume`` onto the grid of ``reference``.

    ``volume`` must lie on ``reorient_canonical(reference)``'s grid. No
    interpolation (the same voxels as nearest-neighbour resampling, without
    its cost).

    Parameters
    ----------
    volume : Volume
        On the closest-canonical grid of ``reference``.
    reference : Volume
        Supplies the target grid (its voxels are not read).

    Returns
    -------
    Volume
        ``volume``'s voxels on ``reference``'s grid (same shape and affine).

    Raises
    ------
    ValueError
        If ``volume`` is not on the closest-canonical grid of ``reference``.
    """
    canonical_affine = _canonical_affine(reference)
    if volume.shape != _canonical_shape(reference) or not np.allclose(
        volume.affine, canonical_affine, atol=1e-6
    ):
        raise ValueError("the volume is not on the closest-canonical grid of the reference")
    ornt = orientations.io_orientation(reference.affine)
    back = orientations.ornt_transform(np.array([[0, 1], [1, 1], [2, 1]]), ornt)
    array = orientations.apply_orientation(volume.array, back)
    return Volume(np.ascontiguousarray(array), reference.affine, volume.metadata)


def _canonical_affine(volume: Volume) -> NDArray[np.float64]:
    ornt = orientations.io_orientation(volume.affine)
    return volume.affine @ orientations.inv_ornt_aff(ornt, volume.shape)


def _canonical_shape(volume: Volume) -> tuple[int, int, int]:
    ornt = orientations.io_orientation(volume.affine)
    shape = [0, 0, 0]
    for axis, (out_axis, _) in enumerate(ornt):
        shape[int(out_axis)] = volume.shape[axis]
    return shape[0], shape[1], shape[2]


def _sitk_dtype(array: NDArray[Any], interpolation: str) -> NDArray[Any]:
    if interpolation == "nearest" and array.dtype.kind in "biu":
        return array if array.dtype != bool else array.astype(np.uint8)
    return array.astype(np.float32, copy=False)


def crop_world(volume: Volume, lo: ArrayLike, hi: ArrayLike, *, margin_mm: float = 0.0) -> Volume:
    """Crop to the voxels whose centres fall in a RAS box (rounded outwards to whole voxels).

    Parameters
    ----------
    volume : Volume
        Any grid.
    lo, hi : array_like, shape (3,)
        Opposite corners of the box in RAS mm.
    margin_mm : float
        Extra margin added on every side, in mm.

    Returns
    -------
    Volume
        A view of the voxels in the box (no copy), with the affine shifted so that
        they keep their world positions.

    Raises
    ------
    ValueError
        If the box does not overlap the volume.

    Examples
    --------
    >>> import numpy as np
    >>> vol = Volume(np.zeros((10, 10, 10)), np.eye(4))
    >>> crop = crop_world(vol, [2, 2, 2], [4, 5, 3])
    >>> crop.shape, crop.affine[:3, 3].tolist()
    ((3, 4, 2), [2.0, 2.0, 2.0])
    >>> crop_world(vol, [2, 2, 2], [4.5, 5, 3]).shape  # the corner at 4.5 mm reaches voxel 5
    (4, 4, 2)
    """
    lo = np.asarray(lo, float) - margin_mm
    hi = np.asarray(hi, float) + margin_mm
    corners = np.array(np.meshgrid(*zip(lo, hi, strict=True), indexing="ij")).reshape(3, -1).T
    ijk = volume.world_to_voxel(corners)
    start = np.maximum(np.floor(ijk.min(axis=0) + 1e-6).astype(int), 0)
    stop = np.minimum(np.ceil(ijk.max(axis=0) - 1e-6).astype(int) + 1, volume.shape)
    if np.any(stop <= start):
        raise ValueError("the crop box does not overlap the volume")
    sl = tuple(slice(int(a), int(b)) for a, b in zip(start, stop, strict=True))
    shift = np.eye(4)
    shift[:3, 3] = start
    return Volume(volume.array[sl], volume.affine @ shift, volume.metadata)


def to_sitk(volume: Volume, dtype: type = np.float32) -> sitk.Image:
    """SimpleITK image (LPS physical space) of a Volume with an orthogonal affine.

    Parameters
    ----------
    volume : Volume
        Axes (i, j, k) become ITK's (x, y, z) index axes.
    dtype : numpy dtype
        Pixel type of the image (default float32).

    Returns
    -------
    SimpleITK.Image
        Spacing (mm), direction and origin in ITK's LPS convention.

    Raises
    ------
    ValueError
        If the affine has shear, which ITK images cannot represent.
    """
    lps = RAS_TO_LPS @ volume.affine
    spacing = spacing_of(volume.affine)
    direction = lps[:3, :3] / spacing
    if not np.allclose(direction.T @ direction, np.eye(3), atol=1e-4):
        raise ValueError("sheared affines cannot become ITK images; resample first")
    image = sitk.GetImageFromArray(np.ascontiguousarray(volume.array.astype(dtype).T))
    image.SetSpacing(spacing.tolist())
    image.SetDirection(direction.ravel().tolist())
    image.SetOrigin(lps[:3, 3].tolist())
    return image


def from_sitk(image: sitk.Image, metadata: Mapping[str, Any] | None = None) -> Volume:
    """Volume (RAS+ affine) of a 3D SimpleITK image (LPS physical space).

    Parameters
    ----------
    image : SimpleITK.Image
        3D, scalar pixels; ITK's index axes (x, y, z) become (i, j, k).
    metadata : mapping, optional
        Stored as the Volume's metadata.

    Returns
    -------
    Volume
        The pixel array (its dtype kept) with the RAS+ affine of the image's geometry.
    """
    return Volume(
        sitk.GetArrayFromImage(image).T.copy(), affine_of_sitk(image), dict(metadata or {})
    )


def affine_of_sitk(image: sitk.Image) -> NDArray[np.float64]:
    """RAS+ voxel-to-world affine of an ITK image's LPS geometry.

    Parameters
    ----------
    image : SimpleITK.Image
        3D image (spacing, direction, origin in LPS mm).

    Returns
    -------
    ndarray of float64, shape (4, 4)
        Voxel indices (i, j, k) to RAS+ mm.
    """
    direction = np.array(image.GetDirection(), float).reshape(3, 3)
    lps = np.eye(4)
    lps[:3, :3] = direction * np.array(image.GetSpacing(), float)
    lps[:3, 3] = image.GetOrigin()
    return RAS_TO_LPS @ lps

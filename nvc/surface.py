"""Surface meshes of labelled structures in world (RAS+ mm) coordinates.

One marching-cubes extraction, used by the report's 3D view and mesh export
(``nvc.report``, ``nvc_pipelines.report``) and by the napari plugin's 3D surfaces
(``nvc_napari.layers``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from skimage.measure import marching_cubes

from nvc.volume import apply_affine

#: Iso-level of the (smoothed) mask at which the surface is taken.
ISO_LEVEL = 0.5


@dataclass(frozen=True)
class Mesh:
    """A triangle mesh.

    Attributes
    ----------
    vertices : ndarray, shape (V, 3), float64
        RAS+ mm, columns (x, y, z).
    faces : ndarray, shape (F, 3), int64
        Vertex indices, counter-clockwise seen from outside (normals point outwards).
    """

    vertices: NDArray[np.float64]
    faces: NDArray[np.int64]


def label_surface(
    mask: NDArray[np.bool_],
    affine: NDArray[np.float64],
    *,
    smoothing_vox: float = 0.6,
    step: int = 1,
    level: float = ISO_LEVEL,
) -> Mesh:
    """Iso-surface of a binary mask, placed in the world through the affine.

    Parameters
    ----------
    mask : ndarray of bool, shape (I, J, K)
        The structure on the volume's grid (axes i, j, k).
    affine : ndarray of float64, shape (4, 4)
        Voxel indices (i, j, k) to RAS+ mm of that grid.
    smoothing_vox : float
        Gaussian sigma (voxels) applied to the mask before the 0.5 iso-surface
        (removes the voxel staircase; 0 keeps it). A structure too thin for the
        smoothed mask to reach 0.5 anywhere (a line one voxel wide) keeps its
        unsmoothed voxel surface instead of vanishing.
    step : int
        Marching-cubes step (1 = full resolution; 2 = about four times fewer triangles).
    level : float
        Iso-level of the smoothed mask (0.5: the voxels' boundary). A lower
        level joins voxels that touch only along an edge or at a corner (a
        thin vessel running obliquely stays one surface), widening the surface
        by a fraction of a voxel.

    Returns
    -------
    Mesh
        Vertices in RAS+ mm, faces wound so that normals point outwards, whatever
        the handedness of the affine. Empty (no faces) when the mask is empty.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros((12, 12, 12), bool)
    >>> mask[3:9, 3:9, 3:9] = True
    >>> mesh = label_surface(mask, np.diag([0.5, 0.5, 0.5, 1.0]))
    >>> mesh.faces.shape[1], mesh.faces.dtype
    (3, dtype('int64'))
    >>> mesh.vertices.min(axis=0), mesh.vertices.max(axis=0)  # voxel faces 2.5 and 8.5
    (array([1.25, 1.25, 1.25]), array([4.25, 4.25, 4.25]))
    """
    mask = np.asarray(mask, bool)
    if not mask.any():
        return Mesh(np.zeros((0, 3)), np.zeros((0, 3), np.int64))
    idx = np.argwhere(mask)
    lo = np.maximum(idx.min(axis=0) - 3, 0)
    hi = np.minimum(idx.max(axis=0) + 4, mask.shape)
    crop = mask[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    field = np.pad(crop.astype(np.float32), 1)
    if smoothing_vox > 0:
        smooth = ndimage.gaussian_filter(field, smoothing_vox)
        if smooth.max() > level:
            field = smooth
    verts, faces, _, _ = marching_cubes(field, level, step_size=step, allow_degenerate=False)
    ijk = verts - 1.0 + lo
    world = apply_affine(affine, ijk)
    faces = faces.astype(np.int64)
    # In index space marching_cubes' triangles face the low side (inwards here); reverse them,
    # unless the affine mirrors space (negative determinant), which reverses them already.
    if np.linalg.det(np.asarray(affine)[:3, :3]) > 0:
        faces = faces[:, ::-1]
    return Mesh(world, np.ascontiguousarray(faces))

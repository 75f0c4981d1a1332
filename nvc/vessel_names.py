"""Naming arteries from the artery tree's skeleton: BA, VA, AICA, PICA, SCA.

The basilar trunk is the thick skeleton at the midline, the vertebral arteries
the thick skeleton lateral to and below the confluence. A thinner branch is
named by where it joins a trunk: the vertebral artery (PICA), the lower
basilar artery (AICA) or the upper basilar artery (SCA).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, sparse
from scipy.sparse.csgraph import dijkstra
from skimage.morphology import skeletonize


@dataclass(frozen=True)
class NamingParams:
    """Parameters of artery naming (mm).

    Attributes
    ----------
    trunk_radius_mm : float
        Skeleton points at least this far inside the artery belong to a trunk (VA, BA).
    midline_mm : float
        Trunk points this close to the midline are basilar.
    sca_above_pmj_mm : float
        Branches joining the basilar artery this far above the pontomedullary
        junction are SCA, lower ones AICA.
    """

    trunk_radius_mm: float = 1.15
    midline_mm: float = 5.0
    sca_above_pmj_mm: float = 16.0


@dataclass(frozen=True)
class ArteryTree:
    """Skeleton of the artery mask with radii and a graph over its points."""

    points: NDArray[np.int_]  # (N, 3) voxel indices
    radius_mm: NDArray[np.float64]
    graph: sparse.csr_matrix
    spacing: NDArray[np.float64]
    midline_i: float
    pmj_k: float


def artery_tree(
    arteries: NDArray[np.bool_], spacing: NDArray[np.float64], *, midline_i: float, pmj_k: float
) -> ArteryTree:
    """Skeletonise the artery mask (closest-canonical grid) and link neighbouring points."""
    sp = np.asarray(spacing, float)
    skel = skeletonize(arteries) > 0
    points = np.argwhere(skel)
    edt = ndimage.distance_transform_edt(arteries, sampling=sp)
    radius = edt[tuple(points.T)] if len(points) else np.zeros(0)
    index = -np.ones(arteries.shape, np.int64)
    index[tuple(points.T)] = np.arange(len(points))
    rows, cols, weights = [], [], []
    for off in np.argwhere(np.ones((3, 3, 3))) - 1:
        if not off.any():
            continue
        nb = points + off
        ok = np.all((nb >= 0) & (nb < arteries.shape), axis=1)
        j = np.full(len(points), -1)
        j[ok] = index[tuple(nb[ok].T)]
        has = j >= 0
        rows.append(np.flatnonzero(has))
        cols.append(j[has])
        weights.append(np.full(int(has.sum()), float(np.linalg.norm(off * sp))))
    graph = (
        sparse.csr_matrix(
            (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
            shape=(len(points), len(points)),
        )
        if len(points)
        else sparse.csr_matrix((0, 0))
    )
    return ArteryTree(points, radius, graph, sp, midline_i, pmj_k)


def name_artery(
    tree: ArteryTree, near_voxels: NDArray[np.int_], *, params: NamingParams = NamingParams()
) -> str:
    """Name the artery that passes through ``near_voxels`` (voxel indices, shape (M, 3)).

    Returns one of ``"BA"``, ``"VA"``, ``"AICA"``, ``"PICA"``, ``"SCA"`` or ``"unknown"``.
    """
    if len(tree.points) == 0 or len(near_voxels) == 0:
        return "unknown"
    sp = tree.spacing
    d = np.linalg.norm((tree.points[:, None, :] - near_voxels[None, ::4, :]) * sp, axis=2).min(
        axis=1
    )
    local = np.flatnonzero(d <= 1.5)
    if local.size == 0:
        local = np.array([int(np.argmin(d))])
    trunk = tree.radius_mm >= params.trunk_radius_mm
    if np.median(tree.radius_mm[local]) >= params.trunk_radius_mm:
        return _trunk_name(tree, local, params)
    # walk the skeleton to the nearest trunk point
    dist = dijkstra(tree.graph, indices=local, min_only=True)
    reach = np.where(trunk, dist, np.inf)
    if not np.isfinite(reach).any():
        return _by_position(tree, local)
    join = int(np.argmin(reach))
    name = _trunk_name(tree, np.array([join]), params)
    if name == "VA":
        return "PICA"
    height = (tree.points[join, 2] - tree.pmj_k) * sp[2]
    return "SCA" if height >= params.sca_above_pmj_mm else "AICA"


def _trunk_name(tree: ArteryTree, idx: NDArray[np.int_], params: NamingParams) -> str:
    lateral = np.abs(tree.points[idx, 0] - tree.midline_i) * tree.spacing[0]
    return "BA" if float(np.median(lateral)) <= params.midline_mm else "VA"


def _by_position(tree: ArteryTree, idx: NDArray[np.int_]) -> str:
    """Fallback when the branch does not connect to a trunk: PICA from below, AICA otherwise."""
    height = (np.median(tree.points[idx, 2]) - tree.pmj_k) * tree.spacing[2]
    return "PICA" if height < -4.0 else "AICA"

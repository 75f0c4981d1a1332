"""Naming arteries from the artery tree's skeleton: BA, VA, AICA, PICA, SCA.

The basilar trunk is the thick skeleton at the midline, the vertebral arteries
the thick skeleton lateral to and below the confluence. A thinner branch is
named by where it joins a trunk: the vertebral artery (PICA), the lower
basilar artery (AICA) or the upper basilar artery (SCA).

Small arteries are often segmented with gaps, and a loop touching another
artery merges with it in the mask. So the skeleton graph bridges short gaps
between pieces (at a price per mm), and a walk pays for every junction it
passes before reaching a trunk: the cheapest walk follows one vessel to its
origin rather than hopping across a crossing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
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
    branch_calibre : float
        A vessel at least this fraction of the trunk's radius where it meets
        it is the trunk itself (a branch is markedly thinner than its parent).
    bridge_mm : float
        A skeleton piece whose end's wall lies this close to another piece's
        wall is linked to it (segmentation gaps in small arteries).
    bridge_cost : float
        Walk length charged per mm of gap bridged (a gap is less certain than vessel).
    bridge_detour_mm : float
        Only points that cannot be walked to within this length are bridged to.
    junction_mm : float
        Walk length charged for entering a skeleton junction (a crossing or a
        side branch) before the trunk is reached.
    pica_below_pmj_mm : float
        A branch that reaches no trunk is PICA where it lies at least this far
        below the pontomedullary junction, AICA otherwise.
    """

    trunk_radius_mm: float = 1.15
    midline_mm: float = 5.0
    sca_above_pmj_mm: float = 16.0
    branch_calibre: float = 0.8
    bridge_mm: float = 3.0
    bridge_cost: float = 3.0
    bridge_detour_mm: float = 10.0
    junction_mm: float = 8.0
    pica_below_pmj_mm: float = 4.0


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
    arteries: NDArray[np.bool_],
    spacing: NDArray[np.float64],
    *,
    midline_i: float,
    pmj_k: float,
    params: NamingParams = NamingParams(),
) -> ArteryTree:
    """Skeletonise the artery mask and link its points into a walkable graph.

    Parameters
    ----------
    arteries : ndarray of bool, shape (I, J, K)
        Artery mask on a closest-canonical grid (i, j, k closest to R, A, S).
    spacing : ndarray, shape (3,)
        Voxel size (mm) along i, j, k.
    midline_i, pmj_k : float
        Midline (index along i) and pontomedullary junction (index along k).

    Returns
    -------
    ArteryTree
        Skeleton points, their radii (mm), and a graph whose edge weights are
        mm of walk: neighbouring points, plus bridges of up to ``bridge_mm``
        from a piece's ends to other pieces, charged ``bridge_cost`` per mm.
    """
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
    if not len(points):
        return ArteryTree(points, radius, sparse.csr_matrix((0, 0)), sp, midline_i, pmj_k)
    rows_a, cols_a, weights_a = (np.concatenate(v) for v in (rows, cols, weights))
    degree = np.bincount(rows_a, minlength=len(points))
    bridges = _bridges(points, radius, degree, (rows_a, cols_a, weights_a), sp, params)
    rows_a = np.concatenate([rows_a, bridges[0], bridges[1]])
    cols_a = np.concatenate([cols_a, bridges[1], bridges[0]])
    weights_a = np.concatenate([weights_a, bridges[2], bridges[2]])
    # entering a junction costs extra: walks follow one vessel rather than cross to another
    junction = degree >= 3
    weights_a = weights_a + params.junction_mm * (junction[cols_a] & ~junction[rows_a])
    graph = sparse.csr_matrix((weights_a, (rows_a, cols_a)), shape=(len(points), len(points)))
    return ArteryTree(points, radius, graph, sp, midline_i, pmj_k)


def _bridges(points, radius, degree, edges, sp, params: NamingParams):
    """Links (from, to, weight) from each skeleton end across a short gap to another vessel.

    ``edges`` is (rows, cols, mm) of the skeleton's neighbour links. A gap is
    measured wall to wall (centre distance less both radii) and is
    bridged when it is at most ``bridge_mm`` and the far side cannot be
    walked to within ``bridge_detour_mm`` along the skeleton (another piece,
    or a far part of the same tree). A bridge weighs its centre distance plus
    ``bridge_cost`` per mm of gap.
    """
    n = len(points)
    ends = np.flatnonzero(degree <= 1)
    if len(ends) == 0 or params.bridge_mm <= 0:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    rows, cols, steps = edges
    walk = sparse.csr_matrix((steps, (rows, cols)), shape=(n, n))
    tree = cKDTree(points * sp)
    reach = params.bridge_mm + float(radius.max())
    src, dst, w = [], [], []
    for e in ends:
        near = np.array(tree.query_ball_point(points[e] * sp, reach + radius[e]), int)
        d = np.linalg.norm((points[near] - points[e]) * sp, axis=1)
        gap = np.clip(d - radius[near] - radius[e], 0.0, None)
        keep = gap <= params.bridge_mm
        near, d, gap = near[keep], d[keep], gap[keep]
        if near.size == 0:
            continue
        walked = dijkstra(walk, indices=int(e), limit=params.bridge_detour_mm)[near]
        far = ~np.isfinite(walked)
        if not far.any():
            continue
        best = np.flatnonzero(far)[np.argmin(gap[far])]
        src.append(int(e))
        dst.append(int(near[best]))
        w.append(float(d[best] + params.bridge_cost * gap[best]))
    return np.array(src, int), np.array(dst, int), np.array(w, float)


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
        return _by_height(tree, local, params)
    join = int(np.argmin(reach))
    name = _trunk_name(tree, np.array([join]), params)
    calibre = float(np.median(tree.radius_mm[local]))
    gap = float(np.linalg.norm((tree.points[local] - tree.points[join]) * sp, axis=1).min())
    if calibre >= params.branch_calibre * float(tree.radius_mm[join]) and gap <= 2.0:
        return name  # the trunk itself, thinned where the segmentation meets the nerve
    if name == "VA":
        return "PICA"
    height = (tree.points[join, 2] - tree.pmj_k) * sp[2]
    return "SCA" if height >= params.sca_above_pmj_mm else "AICA"


def _trunk_name(tree: ArteryTree, idx: NDArray[np.int_], params: NamingParams) -> str:
    lateral = np.abs(tree.points[idx, 0] - tree.midline_i) * tree.spacing[0]
    return "BA" if float(np.median(lateral)) <= params.midline_mm else "VA"


def _by_height(tree: ArteryTree, idx: NDArray[np.int_], params: NamingParams) -> str:
    """A branch that reaches no trunk: PICA when it lies well below the junction, else AICA.

    PICA reaches the root exit zone looping up from the vertebral artery
    beside the medulla; AICA comes laterally from the basilar artery at the
    level of the lower pons.
    """
    height = (np.median(tree.points[idx, 2]) - tree.pmj_k) * tree.spacing[2]
    return "PICA" if height <= -params.pica_below_pmj_mm else "AICA"

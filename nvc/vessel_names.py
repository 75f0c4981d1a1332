"""Naming arteries from the artery tree's skeleton: BA, VA, AICA, PICA, SCA.

The basilar trunk is the thick skeleton at the midline, the vertebral arteries
the thick skeleton lateral to and below the confluence. A thinner branch is
named by where it joins a trunk: the vertebral artery (PICA), the lower
basilar artery (AICA) or the upper basilar artery (SCA).

Small arteries are often segmented with gaps, and a loop touching or crossing
another artery merges with it in the mask. So the skeleton graph bridges short
gaps between pieces (at a price per mm), and a walk pays for turning at every
junction it passes before reaching a trunk: going straight through a crossing
is free, turning into the other vessel is dear, so the cheapest walk follows
one vessel to its origin. A branch cut off from every trunk is named by how
far down it reaches: PICA loops up from below the medulla's level; so is one
whose only walk to a trunk turns into another vessel while its own course,
followed without turning, runs down there.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree
from skimage.morphology import skeletonize

from nvc.brainstem import lateral_direction
from nvc.vocabulary import VesselName


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
        Walk length charged for passing a skeleton junction (a crossing or a
        side branch) before the trunk is reached, whatever the turn.
    turn_mm : float
        Walk length charged for turning at a junction: ``turn_mm * (1 + cos a)``
        for branches meeting at angle ``a`` (0 straight on, ``turn_mm`` at a
        right angle). A vessel keeps its course through a crossing; a walk
        that turns into another vessel has most likely left its own.
    direction_mm : float
        A branch's direction into a junction is taken over this length.
    pica_below_pmj_mm : float
        A branch that reaches no trunk is PICA where it descends at least this
        far below the pontomedullary junction, AICA otherwise.
    course_bend_deg : float
        A vessel's own course bends less than this through a junction; a
        walk that turns more has left its vessel for another. A branch whose
        only walk to a trunk turns so (into an AICA its loop touches, say),
        while its own course, short of any trunk, descends
        ``pica_below_pmj_mm`` below the junction, is PICA (its origin from the
        vertebral artery not segmented, or below the image).
    """

    trunk_radius_mm: float = 1.15
    midline_mm: float = 5.0
    sca_above_pmj_mm: float = 16.0
    branch_calibre: float = 0.8
    bridge_mm: float = 5.0
    bridge_cost: float = 3.0
    bridge_detour_mm: float = 10.0
    junction_mm: float = 0.0
    turn_mm: float = 30.0
    direction_mm: float = 3.0
    pica_below_pmj_mm: float = 10.0
    course_bend_deg: float = 45.0


@dataclass(frozen=True)
class ArteryTree:
    """Skeleton of the artery mask with radii and a graph over its points."""

    points: NDArray[np.int_]  # (N, 3) voxel indices
    radius_mm: NDArray[np.float64]
    graph: sparse.csr_matrix
    spacing: NDArray[np.float64]
    midline_i: float
    pmj_k: float
    axis: NDArray[np.float64] | None = None  # the brainstem's axis (unit, mm along i, j, k, up)
    pmj_j: float = 0.0
    #: ``graph`` without the links that turn more than ``course_bend_deg`` at a junction
    course: sparse.csr_matrix | None = None

    def frame_mm(self, idx: NDArray[np.int_]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Lateral offset and height (mm) of skeleton points ``idx`` in the brainstem's frame.

        Height runs along the brainstem's axis from the pontomedullary junction
        (grid axis k when the tree has no axis), the lateral offset across it
        from the midline (positive toward grid axis i, the patient's right on a
        closest-canonical grid): a head rolled or pitched in the scanner tilts
        the arteries with the brainstem, and measured along the grid's axes a
        basilar artery would read as lateral and a branch's origin as higher or
        lower than it is.
        """
        up = np.array([0.0, 0.0, 1.0]) if self.axis is None else np.asarray(self.axis, float)
        up = up / np.linalg.norm(up)
        across = lateral_direction(up)
        origin = np.array([self.midline_i, self.pmj_j, self.pmj_k])
        rel = (self.points[np.atleast_1d(idx)] - origin) * self.spacing
        return rel @ across, rel @ up


def artery_tree(
    arteries: NDArray[np.bool_],
    spacing: NDArray[np.float64],
    *,
    midline_i: float,
    pmj_k: float,
    axis: NDArray[np.float64] | None = None,
    pmj_j: float = 0.0,
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
    axis : ndarray, shape (3,), optional
        The brainstem's axis (``nvc.brainstem.Brainstem.axis``): heights and
        lateral offsets are taken in its frame (``ArteryTree.frame_mm``).
        Default: the grid's axis k.
    pmj_j : float
        The junction's index along j (its height is read along a tilted axis).

    Returns
    -------
    ArteryTree
        Skeleton points, their radii (mm), and a graph whose edge weights are
        mm of walk: neighbouring points, links across each junction away from
        the trunks charged for the turn they take (the junction's own points
        are left unlinked), plus bridges of up to ``bridge_mm`` from a
        piece's ends to other pieces, charged ``bridge_cost`` per mm; and the
        same graph without the links that turn more than ``course_bend_deg``
        (``ArteryTree.course``: each vessel's own course).
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
        return ArteryTree(
            points, radius, sparse.csr_matrix((0, 0)), sp, midline_i, pmj_k, axis, pmj_j
        )
    rows_a, cols_a, weights_a = (np.concatenate(v) for v in (rows, cols, weights))
    degree = np.bincount(rows_a, minlength=len(points))
    bridges = _bridges(points, radius, degree, (rows_a, cols_a, weights_a), sp, params)
    # walks pay for turning where vessels meet or cross: they follow one vessel
    rows_a, cols_a, weights_a, cluster, ports, straight = _through_junctions(
        points, radius, (rows_a, cols_a, weights_a), degree, sp, params
    )
    b_from, b_to, b_w = [], [], []
    for e, t, wt in zip(*bridges, strict=True):
        for q in ports.get(int(cluster[t]), []) if cluster[t] >= 0 else [t]:
            b_from.append(int(e))
            b_to.append(int(q))
            b_w.append(float(wt))
    bridges = (np.array(b_from, int), np.array(b_to, int), np.array(b_w, float))
    rows_a = np.concatenate([rows_a, bridges[0], bridges[1]])
    cols_a = np.concatenate([cols_a, bridges[1], bridges[0]])
    weights_a = np.concatenate([weights_a, bridges[2], bridges[2]])
    straight = np.concatenate([straight, np.ones(2 * len(bridges[0]), bool)])
    n = len(points)
    graph = sparse.csr_matrix((weights_a, (rows_a, cols_a)), shape=(n, n))
    course = sparse.csr_matrix(
        (weights_a[straight], (rows_a[straight], cols_a[straight])), shape=(n, n)
    )
    return ArteryTree(points, radius, graph, sp, midline_i, pmj_k, axis, pmj_j, course)


def _through_junctions(points, radius, edges, degree, sp, params: NamingParams):
    """Rewire junctions so that a walk pays for turning where vessels meet or cross.

    Every junction (a connected cluster of skeleton points with three or more
    neighbours) away from the trunks is replaced by links between its ports,
    the branch points that touch it. Passing from one port to another costs
    their distance, ``junction_mm``, and ``turn_mm * (1 + cos a)`` where ``a``
    is the angle between the two branches' directions into the junction:
    nothing for going straight on (a crossing, or a twig on the wall),
    ``turn_mm`` for a right-angle turn into a side branch, twice that for
    turning back. Junctions touching a trunk are left as they are: reaching
    the trunk ends the walk. Links to the cluster's own points are dropped;
    other links (bridges) into a cluster must go to all its ports: the
    returned ``cluster`` (-1 where not rewired) and ``ports`` (cluster -> port
    points) say where. The last value marks the links that bend less than
    ``course_bend_deg`` (all but the sharper turns across a junction).
    """
    rows, cols, w = edges
    n = len(points)
    junction = degree >= 3
    trunk = radius >= params.trunk_radius_mm
    jj = junction[rows] & junction[cols]
    n_cl, cluster = connected_components(
        sparse.csr_matrix((np.ones(int(jj.sum())), (rows[jj], cols[jj])), shape=(n, n)),
        directed=False,
    )
    cluster = np.where(junction, cluster, -1)
    # clusters at a trunk stay: they are where branches end their walk
    at_trunk = np.zeros(n_cl, bool)
    touch = (cluster[rows] >= 0) & (trunk[cols] | trunk[rows])
    at_trunk[cluster[rows[touch]]] = True
    rewired = (cluster >= 0) & ~at_trunk[np.maximum(cluster, 0)]
    # branches: what is left of the skeleton without its junctions
    plain = ~junction
    pp = plain[rows] & plain[cols]
    _, branch = connected_components(
        sparse.csr_matrix((np.ones(int(pp.sum())), (rows[pp], cols[pp])), shape=(n, n)),
        directed=False,
    )
    port_edge = rewired[rows] & plain[cols]
    pairs = np.unique(np.stack([cluster[rows[port_edge]], cols[port_edge]], axis=1), axis=0)
    ports_of = {int(c): pairs[pairs[:, 0] == c, 1] for c in np.unique(pairs[:, 0])}
    xyz = points * sp
    tree = cKDTree(xyz)
    new_rows: list[NDArray[np.int_]] = []
    new_cols: list[NDArray[np.int_]] = []
    new_w: list[NDArray[np.float64]] = []
    new_straight: list[NDArray[np.bool_]] = []
    # two branches meeting at angle a continue each other when a is within the bend of 180
    straight_cos = -np.cos(np.radians(params.course_bend_deg))
    for c, ports in ports_of.items():
        centre = xyz[cluster == c].mean(axis=0)
        dirs = []
        for p in ports:
            near = np.array(tree.query_ball_point(xyz[p], params.direction_mm), int)
            near = near[branch[near] == branch[p]]
            v = centre - xyz[near].mean(axis=0)
            if np.linalg.norm(v) < 1e-6:
                v = centre - xyz[p]
            dirs.append(v / max(float(np.linalg.norm(v)), 1e-9))
        at = xyz[ports]
        cos = np.array(dirs) @ np.array(dirs).T
        weight = (
            np.linalg.norm(at[:, None] - at[None], axis=2)
            + params.junction_mm
            + params.turn_mm * (1.0 + cos)
        )
        a, b = np.nonzero(~np.eye(len(ports), dtype=bool))
        new_rows.append(ports[a])
        new_cols.append(ports[b])
        new_w.append(weight[a, b])
        new_straight.append(cos[a, b] <= straight_cos)
    drop = rewired[rows] | rewired[cols]
    return (
        np.concatenate([rows[~drop], *new_rows]),
        np.concatenate([cols[~drop], *new_cols]),
        np.concatenate([w[~drop], *new_w]),
        np.where(rewired, cluster, -1),
        ports_of,
        np.concatenate([np.ones(int((~drop).sum()), bool), *new_straight]),
    )


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
) -> VesselName:
    """Name the artery that passes through some voxels.

    Parameters
    ----------
    tree : ArteryTree
        The artery skeleton graph (``artery_tree``).
    near_voxels : ndarray of int, shape (M, 3)
        Voxel indices (i, j, k) of the artery piece to name (e.g. where it comes
        near CN VII), on the grid ``tree`` was built on.
    params : NamingParams
        Trunk radius, midline and height rules (mm).

    Returns
    -------
    str
        One of ``"BA"``, ``"VA"``, ``"AICA"``, ``"PICA"``, ``"SCA"`` or ``"unknown"``.

    Examples
    --------
    A basilar artery (radius 1.5 mm) up the midline and a branch (radius 1 mm)
    leaving it laterally 5 mm above the pontomedullary junction, on 0.5 mm voxels:

    >>> import numpy as np
    >>> arteries = np.zeros((70, 30, 70), bool)
    >>> i, j, k = np.indices(arteries.shape)
    >>> arteries |= ((i - 30) ** 2 + (j - 15) ** 2 <= 9) & (k >= 10)
    >>> arteries |= ((j - 15) ** 2 + (k - 30) ** 2 <= 3) & (i >= 30) & (i < 65)
    >>> tree = artery_tree(arteries, np.array([0.5, 0.5, 0.5]), midline_i=30.0, pmj_k=20.0)
    >>> name_artery(tree, np.argwhere(arteries[:, :, 55:60]) + [0, 0, 55])
    'BA'
    >>> name_artery(tree, np.argwhere(arteries[50:60]) + [50, 0, 0])
    'AICA'
    """
    if len(tree.points) == 0 or len(near_voxels) == 0:
        return "unknown"
    sp = tree.spacing
    d = np.linalg.norm((tree.points[:, None, :] - near_voxels[None, ::4, :]) * sp, axis=2).min(
        axis=1
    )
    # points inside a junction rewired for turning have no links of their own: start from
    # the linked points around them (an isolated speck of skeleton only if nothing else is near)
    walkable = np.where(np.diff(tree.graph.indptr) > 0, d, np.inf)
    local = np.flatnonzero(walkable <= 1.5)
    if local.size == 0:
        local = np.array([int(np.argmin(walkable if walkable.min() <= 3.0 else d))])
    trunk = tree.radius_mm >= params.trunk_radius_mm
    if np.median(tree.radius_mm[local]) >= params.trunk_radius_mm:
        return _trunk_name(tree, local, params)
    # walk the skeleton to the nearest trunk point
    dist, pred, _ = dijkstra(tree.graph, indices=local, min_only=True, return_predecessors=True)
    reach = np.where(trunk, dist, np.inf)
    if not np.isfinite(reach).any():
        return _by_height(tree, np.flatnonzero(np.isfinite(dist)), params)
    join = int(np.argmin(reach))
    if _turns(tree, pred, join) and _own_course_is_pica(tree, local, trunk, params):
        return "PICA"
    name = _trunk_name(tree, np.array([join]), params)
    calibre = float(np.median(tree.radius_mm[local]))
    gap = float(np.linalg.norm((tree.points[local] - tree.points[join]) * sp, axis=1).min())
    if calibre >= params.branch_calibre * float(tree.radius_mm[join]) and gap <= 2.0:
        return name  # the trunk itself, thinned where the segmentation meets the nerve
    if name == "VA":
        return "PICA"
    height = float(tree.frame_mm(np.array([join]))[1][0])
    return "SCA" if height >= params.sca_above_pmj_mm else "AICA"


def _turns(tree: ArteryTree, pred, end: int) -> bool:
    """Whether the walk ending at ``end`` (``pred``: dijkstra's predecessors) leaves its vessel."""
    if tree.course is None:
        return False
    walk = [end]
    while pred[walk[-1]] >= 0:
        walk.append(int(pred[walk[-1]]))
    return any(tree.course[a, b] == 0 for a, b in itertools.pairwise(walk))


def _own_course_is_pica(tree: ArteryTree, local, trunk, params: NamingParams) -> bool:
    """Whether the branch's own course descends to where PICA comes from, short of any trunk.

    Where the cheapest walk to a trunk turns into another vessel (``_turns``:
    a PICA loop touching an AICA, say), the branch is followed without such
    turns (``ArteryTree.course``) and not through a trunk: a PICA whose origin
    from the vertebral artery is not segmented (or lies below the image)
    still runs down beside the medulla (``_by_height``); an AICA runs
    laterally from the basilar artery.
    """
    if tree.course is None:
        return False
    branch = sparse.diags((~trunk).astype(float))
    course = (branch @ tree.course @ branch).tocsr()
    course.eliminate_zeros()
    own = np.flatnonzero(np.isfinite(dijkstra(course, indices=local, min_only=True)))
    return _by_height(tree, own, params) == "PICA"


def _trunk_name(tree: ArteryTree, idx: NDArray[np.int_], params: NamingParams) -> VesselName:
    lateral = np.abs(tree.frame_mm(idx)[0])
    return "BA" if float(np.median(lateral)) <= params.midline_mm else "VA"


def _by_height(tree: ArteryTree, idx: NDArray[np.int_], params: NamingParams) -> VesselName:
    """A branch that reaches no trunk: PICA when it descends well below the junction, else AICA.

    ``idx`` are the skeleton points of the branch (all that a walk reaches).
    PICA reaches the root exit zone looping up from the vertebral artery
    beside the medulla; AICA comes laterally from the basilar artery at the
    level of the lower pons.
    """
    lowest = float(np.min(tree.frame_mm(idx)[1]))
    return "PICA" if lowest <= -params.pica_below_pmj_mm else "AICA"

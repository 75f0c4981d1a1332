"""Cheapest paths between voxel sets, and measures of a path (length, distance, radius)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.graph import MCP_Geometric


def cheapest_path(cost, sp, targets, seeds):
    """Cheapest path from any seed to any target; (path from seed to target, mean cost per mm)."""
    starts = np.argwhere(targets)
    if len(starts) == 0:
        return None, np.inf
    mcp = ToCheapestEnd(cost, seeds, sp)
    cum, _ = mcp.find_costs(starts)
    cand = np.where(seeds, cum, np.inf)
    end = np.unravel_index(int(np.argmin(cand)), cand.shape)
    if not np.isfinite(cand[end]):
        return None, np.inf
    path = np.array(mcp.traceback(end), float)  # from a target to the seed
    path = path[::-1]  # seed (brainstem) first
    return path, float(cand[end]) / max(length(path, sp), 1e-6)


class ToCheapestEnd(MCP_Geometric):
    """``MCP_Geometric`` whose front stops past the cheapest of the ``ends`` voxels.

    Dijkstra settles voxels in order of cumulative cost, so once a voxel
    dearer than the first settled end is popped, every voxel as cheap as the
    cheapest end (ties included) is settled with its final cost and
    traceback: ``argmin`` over the ends of the returned costs (unsettled
    voxels are inf) and the traceback from it are those of the full
    propagation, at the cost of the front inside that cost only.

    Parameters
    ----------
    costs : ndarray, shape (I, J, K)
        Cost per mm of each voxel.
    ends : ndarray of bool, shape (I, J, K)
    sampling : ndarray, shape (3,)
        Voxel size (mm).
    """

    def __init__(self, costs, ends, sampling):
        super().__init__(costs, sampling=tuple(float(s) for s in sampling))
        self._ends = np.asarray(ends, bool).ravel(order="F").tobytes()  # MCP's flat index order
        self._limit = np.inf

    def goal_reached(self, index, cumcost):
        if cumcost > self._limit:
            return 2
        if self._ends[index]:
            self._limit = cumcost
        return 0


def length(path, sp) -> float:
    """Length (mm) of a path of voxel coordinates."""
    return float(np.linalg.norm(np.diff(path, axis=0) * sp, axis=1).sum())


def core_level(sub, path) -> float:
    """A nerve's core level: the 20th percentile of ``sub`` at its (rounded) path's voxels."""
    return float(np.percentile(sub[tuple(np.round(path).astype(int).T)], 20))


def mean_radius(sub, sp, path, bs_sub, reach_mm: float) -> float:
    """Mean radius (mm) of the dark tube around a path: volume / (pi * length).

    Dark means below half-way between the path's own core intensity and CSF (1);
    only voxels within ``reach_mm`` of the path and outside the brainstem count.
    """
    core = core_level(sub, path)
    near = near_path(path, sub.shape, sp, reach_mm) & ~bs_sub
    volume = float(np.count_nonzero(near & (sub < 0.5 * (core + 1.0)))) * float(np.prod(sp))
    return float(np.sqrt(volume / (np.pi * max(length(path, sp), 1e-6))))


def across(direction):
    """Two unit vectors perpendicular to the unit vector ``direction`` and to each other.

    ``u`` is ``direction`` crossed with grid axis i (axis j when ``direction``
    lies within 30 degrees of axis i), normalised; ``v`` is ``direction`` crossed with ``u``.
    """
    u = np.cross(direction, [1.0, 0.0, 0.0])
    if np.linalg.norm(u) < 0.5:  # within 30 degrees of axis i
        u = np.cross(direction, [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    return u, np.cross(direction, u)


def edge_radius(sub, sp, path, bs_sub, threshold: float, reach_mm: float) -> float:
    """The nerve's radius (mm) where CSF shows its edge: median over cross-sections and rays.

    At points of the path outside the brainstem (about every half
    millimetre), rays leave the path across it in 16 directions; each ray's
    edge is where ``sub`` (trilinear) first rises half-way from that
    cross-section's core (its darkest sample within 0.5 mm of the path) to
    CSF, to a tenth of a millimetre. A cross-section whose core is not darker
    than ``threshold`` (half-way from the whole path's core to CSF) is not on
    the nerve and is skipped. A ray that meets
    no CSF within ``reach_mm`` runs into something else dark (CN VIII, the
    brainstem, bone, a vessel) and says nothing of the edge; a cross-section
    needs a quarter of its rays on CSF. The volume of dark voxels around the
    path (``mean_radius``) counts such neighbours as nerve; the edge seen
    against CSF does not. Written here because no library measures a tube's
    calibre from its own cross-sections; NaN when no cross-section shows CSF.
    """
    pts = np.asarray(path, float) * sp  # mm
    if len(pts) < 3:
        return float("nan")
    outside = ~bs_sub[tuple(np.round(path).astype(int).T)]
    # tangents over about a millimetre either side (a few voxel steps)
    k = max(1, round(1.0 / float(np.mean(sp))))
    ahead = pts[np.minimum(np.arange(len(pts)) + k, len(pts) - 1)]
    behind = pts[np.maximum(np.arange(len(pts)) - k, 0)]
    tangent = ahead - behind
    norm = np.linalg.norm(tangent, axis=1)
    tangent /= np.maximum(norm, 1e-6)[:, None]
    step = max(1, round(0.5 / float(np.mean(sp))))
    keep = np.flatnonzero(outside)[::step]
    if keep.size == 0:
        return float("nan")
    angles = np.linspace(0.0, 2.0 * np.pi, 16, endpoint=False)
    t = np.arange(0.0, reach_mm + 1e-9, 0.1)
    radii = []
    for i in keep:
        if norm[i] <= 1e-6:
            continue  # the path doubles back here (at the detachment point): no direction
        u, v = across(tangent[i])
        rays = np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * v  # (16, 3)
        xyz = pts[i] + t[None, :, None] * rays[:, None, :]  # (16, T, 3) mm
        values = ndimage.map_coordinates(
            sub, (xyz / sp).reshape(-1, 3).T, order=1, mode="nearest"
        ).reshape(len(angles), len(t))
        core = float(values[:, t <= 0.5].min())
        if core >= threshold:
            continue  # the path point is not on a dark core
        local = 0.5 * (core + 1.0)  # this cross-section's half-way to CSF
        above = (values >= local) & (t[None, :] > 0)
        hit = above.any(axis=1)
        if hit.sum() < len(angles) // 4:
            continue
        first = np.argmax(above[hit], axis=1)  # >= 1
        lo, hi = values[hit, first - 1], values[hit, first]
        frac = np.clip((local - lo) / np.maximum(hi - lo, 1e-9), 0.0, 1.0)
        radii.append(float(np.median(t[first - 1] + frac * 0.1)))
    return float(np.median(radii)) if radii else float("nan")


def nerve_radius(sub, sp, path, bs_sub, params) -> float:
    """A nerve's radius (mm): ``edge_radius``, else ``mean_radius``, in 0.5-``max_radius_mm``.

    The edge is where ``sub`` rises half-way from the path's core (its 20th
    percentile) to CSF; ``params`` is the stage's ``NerveParams``.
    """
    core = core_level(sub, path)
    radius = edge_radius(sub, sp, path, bs_sub, 0.5 * (core + 1.0), params.radius_reach_mm)
    if np.isnan(radius):  # no cross-section shows CSF: the dark volume around the path
        radius = mean_radius(sub, sp, path, bs_sub, params.radius_reach_mm)
    return float(np.clip(radius, 0.5, params.max_radius_mm))


def near_path(path, shape, sp, radius_mm):
    """Voxels within ``radius_mm`` of a path (``path_distance``)."""
    return path_distance(path, shape, sp, radius_mm) <= radius_mm


def path_distance(path, shape, sp, reach_mm: float):
    """Distance (mm) from each voxel to the nearest (rounded) path voxel, inf beyond ``reach_mm``.

    The exact transform runs on the path's bounding box widened by the reach
    (the same values there as on the whole grid); voxels outside that box are
    farther than ``reach_mm`` and get inf.
    """
    idx = np.round(path).astype(int)
    margin = np.ceil(reach_mm / np.asarray(sp, float)).astype(int) + 1
    lo = np.maximum(idx.min(axis=0) - margin, 0)
    hi = np.minimum(idx.max(axis=0) + margin + 1, shape)
    mark = np.zeros(hi - lo, bool)
    mark[tuple((idx - lo).T)] = True
    out = np.full(shape, np.inf)
    box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
    out[box] = ndimage.distance_transform_edt(~mark, sampling=sp)
    return out


def anterior_superior(path, sp) -> float:
    """Mean anterior + superior position (mm) of the middle half of a path."""
    n = len(path)
    mid = path[n // 4 : max(3 * n // 4, n // 4 + 1)]
    return float(np.mean(mid[:, 1] * sp[1] + mid[:, 2] * sp[2]))

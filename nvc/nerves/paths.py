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


def mean_radius(sub, sp, path, bs_sub, reach_mm: float) -> float:
    """Mean radius (mm) of the dark tube around a path: volume / (pi * length).

    Dark means below half-way between the path's own core intensity and CSF (1);
    only voxels within ``reach_mm`` of the path and outside the brainstem count.
    """
    idx = np.round(path).astype(int)
    core = float(np.percentile(sub[tuple(idx.T)], 20))
    near = near_path(path, sub.shape, sp, reach_mm) & ~bs_sub
    volume = float(np.count_nonzero(near & (sub < 0.5 * (core + 1.0)))) * float(np.prod(sp))
    return float(np.sqrt(volume / (np.pi * max(length(path, sp), 1e-6))))


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

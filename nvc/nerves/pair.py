"""The second nerve traced beside the first, and which of the two is CN VII."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from nvc.morphology import distance_to_mask
from nvc.nerves.cost import PathCosts, tube_of
from nvc.nerves.params import NerveParams
from nvc.nerves.paths import anterior_superior, cheapest_path, length, mean_radius, path_distance


@dataclass(frozen=True)
class NervePair:
    """CN VII's and CN VIII's paths of one side (voxel indices of the box).

    Attributes
    ----------
    cn7_path : ndarray, shape (N, 3)
        CN VII's path from the brainstem to the canal.
    cn8_path : ndarray, shape (M, 3) or None
        CN VIII's path; None when it was not traced apart from CN VII.
    separated : bool
        Whether CN VIII was traced apart from CN VII.
    exclusion_mm : float
        How far (mm) the second path kept off the first one's own voxels.
    """

    cn7_path: NDArray[np.float64]
    cn8_path: NDArray[np.float64] | None
    separated: bool
    exclusion_mm: float


def pair_paths(
    path_a,
    cost_a: float,
    sub,
    costs: PathCosts,
    canal,
    rez,
    bs_sub,
    bs_dist,
    sp,
    params: NerveParams,
    *,
    canal_axis,
) -> NervePair:
    """The second path beside the first (``path_a``, mean cost ``cost_a`` per mm), and CN VII.

    The second path runs from the root-exit-zone seeds ``rez`` to the
    ``canal`` on ``costs.free``, within ``pair_corridor_mm`` of the first and
    out of the first nerve's tube (``tube_of``), except within
    ``converge_mm`` of the brainstem (``bs_dist``, mm) or the canal. It counts
    as CN VIII apart from CN VII when it is not much dearer or longer than the
    first; of the two, CN VII is the anterior-superior one. Where one path
    reaches the canal on the other, it is traced there again apart
    (``apart_to_canal``; ``canal_axis`` is the canal's principal axis,
    ``CanalTube.axis``).
    """
    radius_a = mean_radius(sub, sp, path_a, bs_sub, params.radius_reach_mm)
    exclusion = float(
        np.clip(
            radius_a + params.separation_margin_mm, params.separation_mm, params.max_separation_mm
        )
    )
    # the second nerve runs beside the first (CN VII along CN VIII): within a corridor
    # around it, apart from it; the corridor, not the ceiling, keeps it off CN V
    d_a = path_distance(path_a, sub.shape, sp, params.pair_corridor_mm)
    # apart from the whole first nerve, not only from its path: CN VIII is up to 3 mm wide
    # and a second path inside it would be CN VIII again
    # (only away from both ends: at their roots the two nerves lie 1-3 mm apart, so only the
    # first path's own voxels are kept from; at the porus they touch, so nothing is)
    near_canal = distance_to_mask(canal, sp) <= params.converge_mm
    near_root = bs_dist <= params.converge_mm
    inside_a = tube_of(path_a, costs.tube_dark, d_a, sp, exclusion, params)
    inside_a = np.where(near_root, d_a <= exclusion, inside_a) & ~near_canal
    apart = ~inside_a & (d_a <= params.pair_corridor_mm)
    free_cost = costs.free
    path_b, cost_b = cheapest_path(
        np.where(apart, free_cost, free_cost + params.cost_barrier), sp, canal, rez
    )
    limit = max(2.5 * cost_a, params.second_path_cost)  # what a second nerve may cost
    separated = (
        path_b is not None and cost_b < limit and length(path_b, sp) <= 1.6 * length(path_a, sp)
    )
    if not separated or path_b is None:
        return NervePair(path_a, None, False, exclusion)
    cn7_path, cn8_path = path_a, path_b
    if anterior_superior(path_b, sp) > anterior_superior(path_a, sp):
        cn7_path, cn8_path = path_b, path_a
    cn7_path, cn8_path = apart_to_canal(
        cn7_path, cn8_path, free_cost, canal, sp, exclusion, limit, params, axis=canal_axis
    )
    return NervePair(cn7_path, cn8_path, True, exclusion)


def apart_to_canal(
    cn7_path,
    cn8_path,
    cost,
    canal,
    sp,
    exclusion_mm: float,
    limit: float,
    params: NerveParams,
    *,
    axis,
):
    """CN VII's and CN VIII's paths, kept apart from each other up to the internal auditory canal.

    Both paths may run together near the canal (``converge_mm``), where the
    nerves touch at the porus. A nerve that fades there by partial volume
    (a thin CN VII) lets its path cross onto the other one and reach the
    canal on it. The two are apart in the canal, running along it, so where
    one path ends on the other (within ``separation_mm``, less than two
    nerves' radii) the one that crossed is the one whose tail, from where it
    came within ``exclusion_mm`` of the other, moved farther across the
    canal's principal ``axis`` (unit, mm; ``CanalTube.axis``). That tail is
    traced again to the canal on ``cost`` (per mm), kept ``exclusion_mm``
    off the other path, and replaces the old one if its mean cost per mm is
    within ``limit`` (what a second nerve may cost); otherwise the nerves are
    not seen apart there and both paths are kept.

    Returns
    -------
    cn7_path, cn8_path : ndarray, shape (N, 3), (M, 3)
    """
    d7, d8 = (path_distance(p, cost.shape, sp, exclusion_mm) for p in (cn7_path, cn8_path))
    start7 = _joined_at(cn7_path, d8, exclusion_mm, params)
    start8 = _joined_at(cn8_path, d7, exclusion_mm, params)
    if start7 is None and start8 is None:
        return cn7_path, cn8_path
    shift7, shift8 = (
        -1.0 if start is None else _across(path[-1] - path[start], axis, sp)
        for path, start in ((cn7_path, start7), (cn8_path, start8))
    )
    crossed, d_other, start = (cn7_path, d8, start7) if shift7 >= shift8 else (cn8_path, d7, start8)
    barred = d_other <= exclusion_mm
    seed = np.zeros(cost.shape, bool)
    seed[tuple(np.round(crossed[start]).astype(int))] = True
    tail, tail_cost = cheapest_path(
        np.where(barred, cost + params.cost_barrier, cost), sp, canal & ~barred, seed
    )
    if tail is None or tail_cost > limit:
        return cn7_path, cn8_path
    apart = np.concatenate([crossed[:start], tail])
    return (apart, cn8_path) if crossed is cn7_path else (cn7_path, apart)


def _joined_at(path, d_other, exclusion_mm: float, params: NerveParams) -> int | None:
    """Where ``path``'s tail joins the other path: the last index farther than ``exclusion_mm``.

    ``d_other`` is the distance (mm) to the other path (``path_distance``).
    None unless ``path`` ends within ``separation_mm`` of it.
    """
    along = d_other[tuple(np.round(path).astype(int).T)]
    apart = np.flatnonzero(along > exclusion_mm)
    if along[-1] > params.separation_mm or apart.size == 0:
        return None
    return int(apart[-1])


def _across(step, axis, sp) -> float:
    """Length (mm) of a step in voxels across the unit ``axis`` (mm)."""
    mm = np.asarray(step, float) * sp
    return float(np.linalg.norm(mm - (mm @ axis) * axis))

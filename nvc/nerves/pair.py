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
) -> NervePair:
    """The second path beside the first (``path_a``, mean cost ``cost_a`` per mm), and CN VII.

    The second path runs from the root-exit-zone seeds ``rez`` to the
    ``canal`` on ``costs.free``, within ``pair_corridor_mm`` of the first and
    out of the first nerve's tube (``tube_of``), except within
    ``converge_mm`` of the brainstem (``bs_dist``, mm) or the canal. It counts
    as CN VIII apart from CN VII when it is not much dearer or longer than the
    first; of the two, CN VII is the anterior-superior one.
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
    separated = (
        path_b is not None
        and cost_b < max(2.5 * cost_a, params.second_path_cost)
        and length(path_b, sp) <= 1.6 * length(path_a, sp)
    )
    cn7_path, cn8_path = path_a, path_b if separated else None
    if (
        separated
        and path_b is not None
        and anterior_superior(path_b, sp) > anterior_superior(path_a, sp)
    ):
        cn7_path, cn8_path = path_b, path_a
    return NervePair(cn7_path, cn8_path, separated, exclusion)

"""CN VII's attached segment: down the brainstem surface from the RDP to the root exit point."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from nvc.intensity import T2Levels
from nvc.morphology import distance_to_mask, ellipsoid_footprint
from nvc.nerve_geometry import brainstem_surface_distance
from nvc.nerves.params import NerveParams
from nvc.nerves.paths import ToCheapestEnd, near_path


def trace_attached(
    sub,
    levels: T2Levels,
    sp,
    bs_sub,
    bs_dist,
    art_sub,
    *,
    surface_cost,
    height,
    cn7_path,
    cn8_path,
    exclusion_mm: float,
    params: NerveParams,
):
    """CN VII's attached segment, from its path's first voxel (the RDP) down the pons.

    Sets up ``attached_path``: the cost along the brainstem surface
    ``surface_cost``, barred within ``exclusion_mm`` of CN VIII's path
    (``cn8_path``, may be None) and dear below the brainstem's smooth
    surface; the thin dark ridges, TOF-bright voxels taken out; the distance
    to TOF-bright voxels. ``bs_dist`` is the distance (mm) to the brainstem.
    Returns ``attached_path``'s (path, from_anatomy).
    """
    # CN VII's attached segment runs up the pons from its own root, not CN VIII's
    attached_cost = surface_cost
    if cn8_path is not None:
        attached_cost = np.where(
            near_path(cn8_path, sub.shape, sp, exclusion_mm),
            surface_cost + params.cost_barrier,
            surface_cost,
        )
    # arteries touching the nerve are dark on T2 too: take TOF-bright voxels out, so that a
    # nerve with an artery on it is still a thin ridge
    dark = sub < levels.csf_threshold
    tof_bright_mm = np.full(sub.shape, np.inf, np.float32)
    if art_sub is not None:
        artery = art_sub >= params.tof_bright_fraction
        dark &= ~artery
        if artery.any():
            tof_bright_mm = distance_to_mask(artery, sp)
    ridge = ridges(dark, sp, params.ridge_width_mm)
    # the attached nerve lies on the pons, not in it: its centre is above the smooth surface
    above = brainstem_surface_distance(bs_sub, sp, radius_mm=params.surface_smoothing_mm)
    sunk = params.attached_lift_cost * np.clip(params.attached_lift_mm - above, 0.0, None)
    return attached_path(
        attached_cost + sunk,
        sp,
        bs_sub,
        bs_dist,
        ridge,
        tof_bright_mm,
        cn7_path[0],
        height,
        params,
    )


def ridges(dark, sp, width_mm: float):
    """Thin dark structures: dark voxels that an opening by a ball of ``width_mm`` removes.

    A nerve lying on the brainstem is a ridge on its surface; the smooth
    surface itself survives the opening.
    """
    ball = ellipsoid_footprint(0.5 * width_mm, sp)
    return dark & ~ndimage.binary_opening(dark, structure=ball)


def attached_path(
    cost, sp, bs_sub, d_out, ridge, tof_bright_mm, start, height, params: NerveParams
):
    """From where the complex leaves the brainstem, down its surface to the sulcus.

    ``cost`` is the cost per mm of the path (the nerve's own cost plus the
    penalty for sinking into the pons); ``d_out`` the distance (mm) outside
    the brainstem mask, 0 inside; ``ridge`` marks thin dark structures and
    ``tof_bright_mm`` is the distance (mm) to TOF-bright voxels: the attached
    nerve ends, at the root exit point, where the path stops running along a
    ridge (``attached_end``). The path runs down until ``height`` (mm above
    the pontomedullary junction along the brainstem's axis, shape of
    ``cost``) is at most ``attached_end_mm``.

    Where the ridge ends before ``min_seen_attached_mm`` (shorter than any
    attached segment measured in anatomy), or before ``typical_attached_mm``
    on a grid too coarse to resolve the groove beside the nerve
    (``ridge_resolving_mm``), the image does not show where the nerve leaves
    the brainstem: the path is kept down to ``typical_attached_mm``, and the
    second value returned is True so that the side is reviewed.

    Returns
    -------
    path : ndarray, float, shape (N, 3)
        Voxel indices, RDP first, root exit point last; (0, 3) when none.
    from_anatomy : bool
        Whether the length comes from anatomy rather than from the image.
    """
    # the attached nerve lies on the surface, partly inside a mask drawn at the tissue level
    d_in = ndimage.distance_transform_edt(bs_sub, sampling=sp)
    band = (d_out <= params.attached_band_mm) & (d_in <= params.attached_depth_mm)
    band_cost = np.where(band, cost, cost + params.cost_barrier)
    targets = band & (height <= params.attached_end_mm)
    if not targets.any():
        return np.zeros((0, 3)), False
    mcp = ToCheapestEnd(band_cost, targets, sp)
    start_idx = tuple(int(v) for v in np.round(start))
    cum, _ = mcp.find_costs([start_idx])
    cand = np.where(targets, cum, np.inf)
    end = np.unravel_index(int(np.argmin(cand)), cand.shape)
    if not np.isfinite(cand[end]):
        return np.zeros((0, 3)), False
    path = np.array(mcp.traceback(end), float)  # start (RDP side) ... end (sulcus)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0) * sp, axis=1))])
    rexp, from_anatomy = root_exit_index(
        arc,
        attached_end(path, sp, ridge, tof_bright_mm, params),
        params,
        resolved=float(np.max(sp)) <= params.ridge_resolving_mm,
    )
    return path[: rexp + 1], from_anatomy


def root_exit_index(
    arc, seen: int, params: NerveParams, *, resolved: bool = True
) -> tuple[int, bool]:
    """Index of the root exit point on the attached path, and whether anatomy placed it.

    ``arc`` is the arc length (mm) along the path from the RDP, ``seen`` the
    index where the image's ridge ends. A ridge shorter than
    ``min_seen_attached_mm`` is not taken as the nerve's end: the path is kept
    to ``typical_attached_mm`` (or its end, if shorter). On a grid that does
    not resolve the groove beside the attached nerve (``resolved`` False, see
    ``NerveParams.ridge_resolving_mm``) neither is one shorter than
    ``typical_attached_mm``.
    """
    shortest = params.min_seen_attached_mm if resolved else params.typical_attached_mm
    if arc[seen] >= shortest or arc[-1] <= arc[seen]:
        return seen, False
    typical = int(np.searchsorted(arc, params.typical_attached_mm))
    return min(typical, len(arc) - 1), True


def attached_end(path, sp, ridge, tof_bright_mm, params: NerveParams) -> int:
    """Index of the root exit point on the attached path (RDP side first).

    The nerve runs on from the RDP while the path follows a dark ridge (the
    ridge dilated by a voxel, for the path's own rounding) and ends at the
    last ridge voxel before a stretch off the ridge longer than
    ``attached_gap_mm``. An artery lying on the nerve is dark on T2 too and
    breaks its ridge: path voxels within ``attached_bridge_mm`` of a
    TOF-bright voxel do not count toward the gap, as long as the stretch stays
    shorter than ``attached_bridge_span_mm`` (an artery's width, not its length).
    """
    idx = tuple(np.round(path).astype(int).T)
    on_ridge = ndimage.binary_dilation(ridge)[idx]
    by_artery = tof_bright_mm[idx] <= params.attached_bridge_mm
    step = np.concatenate([[0.0], np.linalg.norm(np.diff(path, axis=0) * sp, axis=1)])
    last, span, gap = 0, 0.0, 0.0
    for i in range(1, len(path)):
        if on_ridge[i]:
            last, span, gap = i, 0.0, 0.0
            continue
        span += step[i]
        gap += 0.0 if by_artery[i] else step[i]
        if gap > params.attached_gap_mm or span > params.attached_bridge_span_mm:
            break
    return last

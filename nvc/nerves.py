"""CN VII and CN VIII from the brainstem into the internal auditory canal, on a normalised T2.

Per side: find the internal auditory canal (CSF surrounded by bone, lateral
to the brainstem), trace the cheapest path of dark-in-CSF voxels from the
root exit zone on the brainstem surface to the canal (the CN VII/VIII
complex), trace a second path in a corridor beside it and call the
anterior-superior one CN VII, follow CN VII's attached segment down the
brainstem surface to the pontomedullary sulcus, continue both nerves along
the canal's axis, and grow each nerve's cross-section around its course.

Works on a closest-canonical grid (axes i, j, k closest to R, A, S).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from skimage.graph import MCP_Geometric

from nvc.brainstem import Brainstem
from nvc.intensity import T2Levels, tube_darkness
from nvc.morphology import (
    dilate_ellipsoid,
    distance_to_mask,
    ellipsoid_footprint,
    erode_ellipsoid,
)
from nvc.nerve_geometry import brainstem_surface_distance

Side = str


@dataclass(frozen=True)
class NerveParams:
    """Parameters of the nerve tracing (mm unless stated).

    Attributes
    ----------
    rez_below_mm, rez_above_mm : float
        Root-exit-zone window around the pontomedullary junction.
    max_rise_mm : float
        Paths are kept from rising more than this above the root-exit-zone window.
    canal_above_mm : float
        The internal auditory canal is searched up to this height above the junction.
    min_canal_mm3 : float
        Smaller tunnels in the bone are not the canal (an IAC holds 100-250 mm3).
    min_canal_gap_mm : float
        The canal lies at least this far from the brainstem.
    canal_radius_mm : float
        Canals narrower than this radius are found (closing of the bone by a ball).
    max_radius_mm : float
        Largest distance from the traced path at which nerve voxels are grown.
    separation_mm : float
        The second path keeps at least this far from the first; farther when
        the first nerve is thick (its radius plus ``separation_margin_mm``, up
        to ``max_separation_mm``), so that both paths cannot run inside CN VIII.
    attached_end_mm : float
        The attached path runs down the pons at most to this height above the
        pontomedullary junction (along the brainstem's axis): 0, the junction
        itself, since the root exit point lies in the pontomedullary sulcus.
        Where the nerve leaves the brainstem is found on the image, by the
        ridge rule (``attached_gap_mm``), which ends the path higher. (Until
        version 0.1 this was 3 mm, fitted to nvc.phantom, where root exit
        points lie 2.9 mm above the waist; on an independent generator they
        lie 0-6 mm above it.)
    tube_radius_mm : float
        Half-width of the box whose grey closing fills any nerve (CN VIII is
        up to 3 mm wide): darkness is measured against it (``nvc.intensity.tube_darkness``).
    max_tube_mm : float
        The first nerve's tube, which the second path keeps out of, reaches
        this far from its path (the widest nerve's radius plus partial volume).
    converge_mm : float
        Within this distance of the brainstem or the canal, CN VII and VIII lie
        together (their roots 1-3 mm apart, in contact at the porus): there the
        second path keeps only ``separation_mm`` off the first, elsewhere off its
        whole tube.
    tof_bar_fraction : float
        Off the brainstem the paths pay for TOF signal from this fraction of the
        way from stationary tissue (0) to the brightest arteries (1) upward:
        nerves have no inflow and stay at or below tissue, while a small
        artery's flow void, as dark on T2 as a nerve, is only partly bright
        on TOF (partial volume).
    tof_bright_fraction : float
        TOF signal from this fraction of the way from stationary tissue to the
        brightest arteries is an artery's lumen (a 1 mm artery at half its
        peak, partial volume): never nerve, in the attached-segment ridge and
        in the grown nerve masks.
    cpa_lateral_mm, cpa_posterior_mm, cpa_anterior_mm : float
        The cerebellopontine angle searched: from the midline to this far
        lateral (the fundus of the internal auditory canal lies 30-40 mm from
        the midline), and this far behind and in front of the brainstem's
        centre at the junction (mm).
    cpa_below_mm, cpa_above_canal_mm : float
        It reaches this far below the pontomedullary junction (the root exit
        zone lies 0-6 mm above it; the flocculus and CN IX/X below), and this
        far above the highest canal searched (``canal_above_mm``), mm.
    canal_lateral_margin_mm : float
        The canal lies at least this far beyond the brainstem's half width (mm;
        the cisternal segment is 12-17 mm long).
    radius_reach_mm : float
        A path's dark tube is measured within this distance of it (mm; the
        widest nerve, CN VIII, is up to 3 mm across, plus partial volume).
    cost_floor, cost_light : float
        Cost per mm of the paths on the darkest tube voxels, and the added cost
        for a voxel as bright as CSF (``cost_light * (1 - darkness)**3``): a
        path prefers a long dark course to a short bright shortcut.
    cost_off_csf_per_mm : float
        Added cost per mm for every mm a voxel lies beyond 1 mm from CSF (the
        cisternal nerve floats in CSF; tissue is dark too).
    cost_bulky_bone, cost_bone : float
        Added cost in bulky bone (survives an opening by two voxels), and in any
        voxel darker than the bone level (thin bone and flow voids are darker
        than any nerve).
    cost_artery, artery_ramp_fraction : float
        Added cost in TOF-bright voxels, ramping from ``tof_bar_fraction`` over
        ``artery_ramp_fraction`` of the TOF span (soft at the arteries' walls).
    cost_brainstem_interior, cost_rise : float
        Added cost inside the brainstem (beyond its outer voxel layer) and above
        the root-exit-zone window plus ``max_rise_mm`` (CN V climbs there; CN
        VII/VIII do not).
    cost_barrier : float
        Added cost where a path may not go (outside the attached band, inside
        the first nerve for the second one): far above any nerve's whole cost.
    attached_gap_mm : float
        The attached segment, followed from the RDP down the pons, ends (at the
        root exit point) before the first stretch longer than this off a thin
        dark ridge.
    min_seen_attached_mm, typical_attached_mm : float
        Attached segments run 8-10 mm on the pons (Tomii et al., Neurosurgery
        2003; Campos-Benitez & Kaufmann, J Neurosurg 2008); none shorter than
        about 4 mm is reported. A ridge that ends sooner is taken as not seen on
        the image, and the root exit point is placed ``typical_attached_mm``
        down the pons from the detachment point (flagged for review).
    attached_bridge_mm, attached_bridge_span_mm : float
        An artery lying on the attached segment interrupts its ridge: path
        voxels within ``attached_bridge_mm`` of a TOF-bright voxel do not count
        toward the gap, over stretches up to ``attached_bridge_span_mm`` (a
        vertebral artery is up to 4 mm wide).
    canal_nerve_mm : float
        The nerves are followed into the internal auditory canal, along its
        axis, up to this far or to the canal's end (the canal is 8-12 mm deep;
        the nerves reach its fundus).
    ridge_width_mm : float
        Dark structures narrower than this are nerves or vessels, not brainstem.
    attached_band_mm, attached_depth_mm : float
        The attached segment is traced within this distance outside, and this
        depth inside, the brainstem mask.
    surface_smoothing_mm : float
        The brainstem's smooth surface is its mask opened by a ball of this
        radius (a nerve lying on the pons merges with its mask at clinical
        resolution; the opening takes it off again).
    attached_lift_mm, attached_lift_cost : float
        The attached nerve's centre lies on, not in, the pons: the attached
        path pays ``attached_lift_cost`` per mm of cost for every mm it runs
        lower than ``attached_lift_mm`` above the smooth surface.
    """

    rez_below_mm: float = 6.0
    rez_above_mm: float = 10.0
    max_rise_mm: float = 3.0
    canal_above_mm: float = 14.0
    min_canal_mm3: float = 60.0
    min_canal_gap_mm: float = 4.0
    canal_radius_mm: float = 3.6
    max_radius_mm: float = 1.4
    separation_mm: float = 1.1
    separation_margin_mm: float = 0.45
    max_separation_mm: float = 1.6
    pair_corridor_mm: float = 8.0
    ridge_width_mm: float = 3.0
    attached_band_mm: float = 1.6
    attached_depth_mm: float = 1.0
    surface_smoothing_mm: float = 2.0
    attached_lift_mm: float = 0.4
    attached_lift_cost: float = 10.0
    attached_gap_mm: float = 1.5
    attached_end_mm: float = 0.0
    min_seen_attached_mm: float = 4.0
    typical_attached_mm: float = 9.0
    attached_bridge_mm: float = 2.0
    attached_bridge_span_mm: float = 5.0
    canal_nerve_mm: float = 12.0
    tube_radius_mm: float = 2.0
    max_tube_mm: float = 2.0
    tof_bar_fraction: float = 0.15
    tof_bright_fraction: float = 0.35
    cpa_lateral_mm: float = 45.0
    cpa_posterior_mm: float = 22.0
    cpa_anterior_mm: float = 30.0
    cpa_below_mm: float = 14.0
    cpa_above_canal_mm: float = 6.0
    canal_lateral_margin_mm: float = 3.0
    radius_reach_mm: float = 2.5
    cost_floor: float = 0.05
    cost_light: float = 20.0
    cost_off_csf_per_mm: float = 50.0
    cost_bulky_bone: float = 200.0
    cost_bone: float = 30.0
    cost_artery: float = 300.0
    artery_ramp_fraction: float = 0.3
    cost_brainstem_interior: float = 200.0
    cost_rise: float = 100.0
    cost_barrier: float = 1000.0
    converge_mm: float = 3.0
    max_path_cost: float = 400.0
    second_path_cost: float = 9.0


@dataclass(frozen=True)
class NerveTrace:
    """The traced nerves of one side (voxel indices of the analysis grid).

    Attributes
    ----------
    found : bool
        False when no nerve could be traced; ``reason`` says why.
    cn7_path : ndarray, shape (N, 3)
        CN VII path from the root exit point to the porus, voxel indices.
    rdp_index : int
        Index in ``cn7_path`` where the attached part traced along the brainstem ends.
    cn8_path : ndarray, shape (M, 3) or None
    cn7, cn8 : ndarray of bool, shape (I, J, K)
        Grown nerve masks.
    path_cost : float
        Mean cost per mm of the CN VII/VIII complex path (lower = darker, clearer nerve).
    separated : bool
        Whether CN VIII was traced apart from CN VII.
    attached_from_anatomy : bool
        The attached segment could not be followed on the image (it ended
        before ``NerveParams.min_seen_attached_mm``): the root exit point was
        placed ``typical_attached_mm`` down the pons instead. A reader must check it.
    """

    side: Side
    found: bool
    reason: str
    cn7_path: NDArray[np.float64]
    rdp_index: int
    cn8_path: NDArray[np.float64] | None
    cn7: NDArray[np.bool_]
    cn8: NDArray[np.bool_]
    path_cost: float
    separated: bool
    attached_from_anatomy: bool = False


def trace_nerves(
    norm: NDArray[np.float32],
    levels: T2Levels,
    spacing: NDArray[np.float64],
    brainstem: Brainstem,
    side: Side,
    *,
    tof_relative: NDArray[np.floating] | None = None,
    params: NerveParams = NerveParams(),
) -> NerveTrace:
    """Trace CN VII and CN VIII of one side (``"left"`` or ``"right"``).

    Parameters
    ----------
    norm : ndarray, float32, shape (I, J, K)
        Normalised T2 on a closest-canonical grid.
    spacing : ndarray, shape (3,)
        Voxel size (mm) along i, j, k.
    tof_relative : ndarray, float, optional
        Registered TOF on the same grid, scaled so that stationary tissue is 0
        and the brightest arteries 1. Nerves are dark on T2 like arteries but
        never bright on TOF, so TOF-bright voxels are barred from the paths.
    """
    sp = np.asarray(spacing, float)
    sign = 1.0 if side == "right" else -1.0
    empty = np.zeros(norm.shape, bool)

    def fail(reason: str) -> NerveTrace:
        return NerveTrace(
            side, False, reason, np.zeros((0, 3)), 0, None, empty, empty, np.inf, False
        )

    smooth = ndimage.gaussian_filter(norm, 0.5)
    box = _cpa_box(norm.shape, sp, brainstem, sign, params)
    if box is None:
        return fail(f"the {side} cerebellopontine angle lies outside the image")
    sub = smooth[box]
    bs_sub = brainstem.mask[box]
    art_sub = None if tof_relative is None else np.asarray(tof_relative[box], np.float32)
    csf = sub > levels.csf_threshold
    bone = sub < levels.bone_threshold
    if csf.mean() < 0.02:
        return fail(f"no CSF in the {side} cerebellopontine angle")

    canal = _canal(csf, bone, sp, params)
    offset = np.array([s.start for s in box], float)
    lateral, height = _brainstem_frame(brainstem, sp, sub.shape, offset, sign)
    bs_half = _brainstem_half_width(brainstem, sp)
    canal &= lateral > bs_half + params.canal_lateral_margin_mm
    canal &= (height >= -params.rez_below_mm) & (height <= params.canal_above_mm)
    labels, n = ndimage.label(canal)
    if n == 0:
        return fail(f"no internal auditory canal found on the {side}")
    # the canal: the sizeable tunnel nearest the brainstem (within the search window; no
    # preferred height: the junction's estimate is not reliable enough to prefer one by)
    index = np.arange(1, n + 1)
    sizes = ndimage.sum_labels(canal, labels, index) * float(np.prod(sp))
    bs_dist = ndimage.distance_transform_edt(~bs_sub, sampling=sp)
    nearest = _label_minimum(bs_dist, labels, n)
    score = nearest
    ok = np.flatnonzero((sizes >= params.min_canal_mm3) & (nearest >= params.min_canal_gap_mm))
    if ok.size == 0:
        return fail(f"no internal auditory canal found on the {side}")
    canal = labels == (1 + int(ok[np.argmin(score[ok])]))

    # off the brainstem surface the paths avoid its interior; along it (attached segment) not
    surface_cost = _cost(
        tube_darkness(sub, levels, sp, radius_mm=None),
        csf,
        bone,
        art_sub,
        sp,
        params,
        tof_bar=params.tof_bright_fraction,
    )
    tube_dark = tube_darkness(sub, levels, sp, radius_mm=params.tube_radius_mm)
    tube_cost = _cost(tube_dark, csf, bone, art_sub, sp, params, tof_bar=params.tof_bar_fraction)
    free_cost = tube_cost + params.cost_brainstem_interior * ndimage.binary_erosion(
        bs_sub, iterations=1
    )
    # CN VII/VIII run laterally from the root exit zone: nothing climbs far above it (CN V does)
    cost = free_cost.copy()
    cost += params.cost_rise * (height > params.rez_above_mm + params.max_rise_mm)
    rez = _rez_seeds(bs_sub, height, lateral, bs_half, params)
    if not rez.any():
        return fail(f"no root exit zone on the {side} of the brainstem")

    path_a, cost_a = _cheapest_path(cost, sp, canal, rez)
    if path_a is None or cost_a > params.max_path_cost:
        return fail(f"no nerve reaches the {side} internal auditory canal")
    radius_a = _mean_radius(sub, sp, path_a, bs_sub, params.radius_reach_mm)
    exclusion = float(
        np.clip(
            radius_a + params.separation_margin_mm, params.separation_mm, params.max_separation_mm
        )
    )
    # the second nerve runs beside the first (CN VII along CN VIII): within a corridor
    # around it, apart from it; the corridor, not the ceiling, keeps it off CN V
    d_a = _path_distance(path_a, sub.shape, sp, params.pair_corridor_mm)
    # apart from the whole first nerve, not only from its path: CN VIII is up to 3 mm wide
    # and a second path inside it would be CN VIII again
    # (only away from both ends: at their roots the two nerves lie 1-3 mm apart, so only the
    # first path's own voxels are kept from; at the porus they touch, so nothing is)
    near_canal = distance_to_mask(canal, sp) <= params.converge_mm
    near_root = bs_dist <= params.converge_mm
    inside_a = _tube_of(path_a, tube_dark, d_a, sp, exclusion, params)
    inside_a = np.where(near_root, d_a <= exclusion, inside_a) & ~near_canal
    apart = ~inside_a & (d_a <= params.pair_corridor_mm)
    path_b, cost_b = _cheapest_path(
        np.where(apart, free_cost, free_cost + params.cost_barrier), sp, canal, rez
    )
    separated = (
        path_b is not None
        and cost_b < max(2.5 * cost_a, params.second_path_cost)
        and _length(path_b, sp) <= 1.6 * _length(path_a, sp)
    )
    cn7_path, cn8_path = path_a, path_b if separated else None
    if (
        separated
        and path_b is not None
        and _anterior_superior(path_b, sp) > _anterior_superior(path_a, sp)
    ):
        cn7_path, cn8_path = path_b, path_a

    # CN VII's attached segment runs up the pons from its own root, not CN VIII's
    attached_cost = surface_cost
    if cn8_path is not None:
        attached_cost = np.where(
            _near(cn8_path, sub.shape, sp, exclusion),
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
    ridge = _ridges(dark, sp, params.ridge_width_mm)
    # the attached nerve lies on the pons, not in it: its centre is above the smooth surface
    above = brainstem_surface_distance(bs_sub, sp, radius_mm=params.surface_smoothing_mm)
    sunk = params.attached_lift_cost * np.clip(params.attached_lift_mm - above, 0.0, None)
    attached, from_anatomy = _attached_path(
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
    full7 = np.concatenate([attached[::-1], cn7_path[1:]]) if len(attached) else cn7_path
    rdp_index = max(len(attached) - 1, 0)

    # both nerves go on along the internal auditory canal, beyond the traced paths
    tube = _CanalTube.of(canal, sp)
    in7 = _into_canal(full7, tube, sp, params.canal_nerve_mm)
    in8 = None if cn8_path is None else _into_canal(cn8_path, tube, sp, params.canal_nerve_mm)
    grown7, grown8 = _grow(sub, sp, (full7, in7), (cn8_path, in8), bs_sub, bone, art_sub, params)
    cn7 = empty.copy()
    cn8 = empty.copy()
    cn7[box] = grown7
    cn8[box] = grown8
    return NerveTrace(
        side=side,
        found=True,
        reason="",
        cn7_path=full7 + offset,
        rdp_index=rdp_index,
        cn8_path=None if cn8_path is None else cn8_path + offset,
        cn7=cn7,
        cn8=cn8,
        path_cost=cost_a,
        separated=separated,
        attached_from_anatomy=from_anatomy,
    )


def _label_minimum(values, labels, n: int):
    """``ndimage.minimum(values, labels, 1..n)`` (the same values), without sorting the grid."""
    inside = labels > 0
    out = np.full(n, np.inf)
    np.minimum.at(out, labels[inside] - 1, values[inside])
    return out


def _brainstem_half_width(bs: Brainstem, sp: NDArray[np.float64]) -> float:
    k = bs.pmj_k
    section = bs.mask[:, :, k]
    if not section.any():
        return 10.0
    i = np.flatnonzero(section.any(axis=1))
    return 0.5 * (i[-1] - i[0] + 1) * sp[0]


def _cpa_box(shape, sp, bs: Brainstem, sign: float, params: NerveParams):
    """Index box of one cerebellopontine angle: from the midline outward, around the PMJ."""
    mid = bs.midline_i
    i_lat = mid + sign * params.cpa_lateral_mm / sp[0]
    i0, i1 = sorted((mid, i_lat))
    jc = np.nanmean(bs.center_j[max(bs.pmj_k - 3, 0) : bs.pmj_k + 4])
    if np.isnan(jc):
        return None
    j0, j1 = jc - params.cpa_posterior_mm / sp[1], jc + params.cpa_anterior_mm / sp[1]
    k0 = bs.pmj_k - params.cpa_below_mm / sp[2]
    k1 = bs.pmj_k + (params.canal_above_mm + params.cpa_above_canal_mm) / sp[2]
    lo = np.maximum(np.floor([i0, j0, k0]).astype(int), 0)
    hi = np.minimum(np.ceil([i1, j1, k1]).astype(int) + 1, shape)
    if np.any(hi - lo < 8):
        return None
    return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))


def _canal(csf, bone, sp, params: NerveParams):
    """The canal: a tunnel in bone, filled by closing the bone with a ball wider than it."""
    del csf
    r = params.canal_radius_mm
    closed = erode_ellipsoid(dilate_ellipsoid(bone, r, sp), r, sp, border_value=True)
    return closed & ~bone


def _cost(dark, csf, bone, art_sub, sp, params: NerveParams, *, tof_bar: float):
    """Cost per mm: cheap on dark voxels (``tube_darkness``); dear far from CSF, bone, arteries.

    The weights are ``NerveParams.cost_*``; TOF signal costs from ``tof_bar``
    (fraction of the way from tissue to the brightest arteries) upward.
    """
    p = params
    d_csf = ndimage.distance_transform_edt(~csf, sampling=sp)
    cost = p.cost_floor + p.cost_light * (1.0 - dark) ** 3
    cost = cost + p.cost_off_csf_per_mm * np.clip(d_csf - 1.0, 0.0, None)
    cost += p.cost_bulky_bone * ndimage.binary_opening(bone, iterations=2)
    cost += p.cost_bone * bone  # thin bone and flow voids are darker than any nerve
    if art_sub is not None:
        # TOF-bright voxels are arteries (dark on T2 like nerves): bar them, softly at the walls
        ramp = np.clip((art_sub - tof_bar) / p.artery_ramp_fraction, 0.0, 1.0)
        cost += p.cost_artery * ramp
    return cost.astype(np.float64)


def _tube_of(path, dark, d_path, sp, exclusion_mm: float, params: NerveParams):
    """The dark tube a path runs in, widened by the separation margin.

    Voxels at least half dark (``nvc.intensity.tube_darkness``) within ``max_tube_mm`` of the path
    and connected to it, dilated by ``separation_margin_mm``, together with
    every voxel within ``exclusion_mm`` of the path.
    """
    near = d_path <= params.max_tube_mm
    idx = tuple(np.round(path).astype(int).T)
    seeds = np.zeros(dark.shape, bool)
    seeds[idx] = True
    tube = ndimage.binary_propagation(seeds, mask=near & (dark >= 0.5)) | seeds
    return dilate_ellipsoid(tube, params.separation_margin_mm, sp) | (d_path <= exclusion_mm)


def _rez_seeds(bs_sub, height, lateral, bs_half: float, params: NerveParams):
    shell = ndimage.binary_dilation(bs_sub, iterations=2) & ~bs_sub
    window = (height >= -params.rez_below_mm) & (height <= params.rez_above_mm)
    return shell & window & (lateral > 0.45 * bs_half)


def _brainstem_frame(bs: Brainstem, sp, shape, offset, sign: float):
    """Lateral and height (mm) of each voxel of a box, in the brainstem's own frame.

    The origin is the pontomedullary junction on the brainstem's axis
    (``bs.pmj_index``); height runs along that axis (``bs.axis``: a head
    rolled or pitched in the scanner tilts it), lateral along axis i made
    perpendicular to it, toward the side (``sign`` +1 right, -1 left).
    ``offset`` is the box's first voxel. Returns two arrays of shape ``shape``.
    """
    up = np.asarray(bs.axis, float)
    across = np.array([1.0, 0.0, 0.0]) - up[0] * up
    across /= np.linalg.norm(across)
    x, y, z = (
        (np.arange(n) + o - c) * s
        for n, o, c, s in zip(shape, offset, bs.pmj_index, sp, strict=True)
    )

    def along(u):
        return x[:, None, None] * u[0] + y[None, :, None] * u[1] + z[None, None, :] * u[2]

    return sign * along(across), along(up)


def _cheapest_path(cost, sp, targets, seeds):
    """Cheapest path from any seed to any target; (path from seed to target, mean cost per mm)."""
    starts = np.argwhere(targets)
    if len(starts) == 0:
        return None, np.inf
    mcp = _ToCheapestEnd(cost, seeds, sp)
    cum, _ = mcp.find_costs(starts)
    cand = np.where(seeds, cum, np.inf)
    end = np.unravel_index(int(np.argmin(cand)), cand.shape)
    if not np.isfinite(cand[end]):
        return None, np.inf
    path = np.array(mcp.traceback(end), float)  # from a target to the seed
    path = path[::-1]  # seed (brainstem) first
    return path, float(cand[end]) / max(_length(path, sp), 1e-6)


class _ToCheapestEnd(MCP_Geometric):
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


def _length(path, sp) -> float:
    return float(np.linalg.norm(np.diff(path, axis=0) * sp, axis=1).sum())


def _mean_radius(sub, sp, path, bs_sub, reach_mm: float) -> float:
    """Mean radius (mm) of the dark tube around a path: volume / (pi * length).

    Dark means below half-way between the path's own core intensity and CSF (1);
    only voxels within ``reach_mm`` of the path and outside the brainstem count.
    """
    idx = np.round(path).astype(int)
    core = float(np.percentile(sub[tuple(idx.T)], 20))
    near = _near(path, sub.shape, sp, reach_mm) & ~bs_sub
    volume = float(np.count_nonzero(near & (sub < 0.5 * (core + 1.0)))) * float(np.prod(sp))
    return float(np.sqrt(volume / (np.pi * max(_length(path, sp), 1e-6))))


def _near(path, shape, sp, radius_mm):
    return _path_distance(path, shape, sp, radius_mm) <= radius_mm


def _path_distance(path, shape, sp, reach_mm: float):
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


def _anterior_superior(path, sp) -> float:
    """Mean anterior + superior position (mm) of the middle half of a path."""
    n = len(path)
    mid = path[n // 4 : max(3 * n // 4, n // 4 + 1)]
    return float(np.mean(mid[:, 1] * sp[1] + mid[:, 2] * sp[2]))


def _ridges(dark, sp, width_mm: float):
    """Thin dark structures: dark voxels that an opening by a ball of ``width_mm`` removes.

    A nerve lying on the brainstem is a ridge on its surface; the smooth
    surface itself survives the opening.
    """
    ball = ellipsoid_footprint(0.5 * width_mm, sp)
    return dark & ~ndimage.binary_opening(dark, structure=ball)


def _attached_path(
    cost, sp, bs_sub, d_out, ridge, tof_bright_mm, start, height, params: NerveParams
):
    """From where the complex leaves the brainstem, down its surface to the sulcus.

    ``cost`` is the cost per mm of the path (the nerve's own cost plus the
    penalty for sinking into the pons); ``d_out`` the distance (mm) outside
    the brainstem mask, 0 inside; ``ridge`` marks thin dark structures and
    ``tof_bright_mm`` is the distance (mm) to TOF-bright voxels: the attached
    nerve ends, at the root exit point, where the path stops running along a
    ridge (``_attached_end``). The path runs down until ``height`` (mm above
    the pontomedullary junction along the brainstem's axis, shape of
    ``cost``) is at most ``attached_end_mm``.

    Where the ridge ends before ``min_seen_attached_mm`` (shorter than any
    attached segment measured in anatomy: on a coarse grid the nerve lying on
    the pons makes no ridge), the image does not show where the nerve leaves
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
    mcp = _ToCheapestEnd(band_cost, targets, sp)
    start_idx = tuple(int(v) for v in np.round(start))
    cum, _ = mcp.find_costs([start_idx])
    cand = np.where(targets, cum, np.inf)
    end = np.unravel_index(int(np.argmin(cand)), cand.shape)
    if not np.isfinite(cand[end]):
        return np.zeros((0, 3)), False
    path = np.array(mcp.traceback(end), float)  # start (RDP side) ... end (sulcus)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(path, axis=0) * sp, axis=1))])
    rexp, from_anatomy = _root_exit_index(
        arc, _attached_end(path, sp, ridge, tof_bright_mm, params), params
    )
    return path[: rexp + 1], from_anatomy


def _root_exit_index(arc, seen: int, params: NerveParams) -> tuple[int, bool]:
    """Index of the root exit point on the attached path, and whether anatomy placed it.

    ``arc`` is the arc length (mm) along the path from the RDP, ``seen`` the
    index where the image's ridge ends. A ridge shorter than
    ``min_seen_attached_mm`` is not taken as the nerve's end: the path is kept
    to ``typical_attached_mm`` (or its end, if shorter).
    """
    if arc[seen] >= params.min_seen_attached_mm or arc[-1] <= arc[seen]:
        return seen, False
    typical = int(np.searchsorted(arc, params.typical_attached_mm))
    return min(typical, len(arc) - 1), True


def _attached_end(path, sp, ridge, tof_bright_mm, params: NerveParams) -> int:
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


@dataclass(frozen=True)
class _CanalTube:
    """The canal as a straight tube: its voxels (mm), centre and principal axis."""

    points_mm: NDArray[np.float64]
    centre: NDArray[np.float64]
    axis: NDArray[np.float64]
    inside: NDArray[np.bool_]  # the canal dilated by a voxel

    @classmethod
    def of(cls, canal, sp) -> _CanalTube | None:
        pts = np.argwhere(canal) * sp
        if len(pts) < 3:
            return None
        centre = pts.mean(axis=0)
        axis = np.linalg.svd(pts - centre, full_matrices=False)[2][0]
        return cls(pts, centre, axis, ndimage.binary_dilation(canal))


def _into_canal(path, tube: _CanalTube | None, sp, max_mm: float):
    """Course of a nerve inside the internal auditory canal, from where its path enters it.

    The canal is a straight tube and its nerves run along it: the nerve goes
    on parallel to the canal's principal axis, while inside the canal, up to
    ``max_mm``. Returns voxel coordinates, shape (M, 3) (M may be 0).
    """
    if tube is None:
        return np.zeros((0, 3))
    start = path[-1] * sp
    axis = tube.axis if tube.axis @ (tube.centre - start) >= 0 else -tube.axis
    depth = min(float(((tube.points_mm - start) @ axis).max()), max_mm)
    step = 0.5 * float(sp.min())
    t = np.arange(step, depth + 0.5 * step, step)
    line = (start + t[:, None] * axis) / sp
    idx = np.round(line).astype(int)
    ok = np.all((idx >= 0) & (idx < tube.inside.shape), axis=1)
    ok[ok] &= tube.inside[tuple(idx[ok].T)]
    n = int(np.argmin(ok)) if not ok.all() else len(ok)
    return line[:n]


def _grow(sub, sp, nerve7, nerve8, bs_sub, bone, art_sub, params: NerveParams):
    """Nerve voxels: near a nerve's course and darker than half-way between the nerve and CSF.

    ``nerve7`` and ``nerve8`` are each (traced path, course in the canal), the
    latter from ``_into_canal``; CN VIII's path may be None. Inside the
    brainstem mask (where the attached segment lies on the pons, barely
    darker than it) the nerve is the tube of its own radius, measured in the
    cistern, around its path; in the canal, bone (darker than a nerve) is left out.
    """
    path7, in7 = nerve7
    path8, in8 = nerve8
    idx7 = np.round(path7).astype(int)
    core = np.percentile(sub[tuple(idx7.T)], 20)
    threshold = 0.5 * (core + 1.0)
    radius = _mean_radius(sub, sp, path7, bs_sub, params.radius_reach_mm)
    radius = float(np.clip(radius, 0.5, params.max_radius_mm))
    m7 = np.zeros(sub.shape, bool)
    m7[tuple(idx7.T)] = True

    def distance(path, in_canal):
        # only distances up to max_radius_mm decide (radius <= max_radius_mm): inf beyond is
        # the same
        out = np.full(sub.shape, np.inf)
        if path is not None:
            out = _path_distance(path, sub.shape, sp, params.max_radius_mm)
        if in_canal is not None and len(in_canal):
            canal_part = _path_distance(in_canal, sub.shape, sp, params.max_radius_mm)
            out = np.minimum(out, np.where(bone, np.inf, canal_part))
        return out

    d7 = distance(path7, in7)
    d8 = distance(path8, in8)
    dark = sub < threshold
    if art_sub is not None:
        dark &= art_sub < params.tof_bright_fraction  # an artery, never a nerve
    candidate = dark & ~bs_sub
    inside = dark & bs_sub & (d7 <= radius)
    cn7 = ((candidate & (d7 <= params.max_radius_mm)) | inside) & (d7 <= d8)
    cn8 = candidate & (d8 <= params.max_radius_mm) & (d8 < d7)
    return cn7 | m7, cn8

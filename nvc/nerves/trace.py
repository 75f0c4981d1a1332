"""Tracing CN VII and CN VIII of one side (``trace_nerves``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc.brainstem import Brainstem
from nvc.intensity import T2Levels, sigma_reach
from nvc.morphology import widen_box
from nvc.nerves.attached import trace_attached
from nvc.nerves.canal import CanalTube, find_canal, into_canal
from nvc.nerves.cost import path_costs
from nvc.nerves.frame import brainstem_frame, brainstem_half_width, cpa_box, rez_seeds
from nvc.nerves.growth import grow_nerves
from nvc.nerves.pair import pair_paths
from nvc.nerves.params import NerveParams
from nvc.nerves.paths import cheapest_path, nerve_radius
from nvc.vocabulary import Side


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

    box = cpa_box(norm.shape, sp, brainstem, sign, params)
    if box is None:
        return fail(f"the {side} cerebellopontine angle lies outside the image")
    sub = _smoothed_box(norm, box, sigma=0.5)
    bs_sub = brainstem.mask[box]
    art_sub = None if tof_relative is None else np.asarray(tof_relative[box], np.float32)
    csf = sub > levels.csf_threshold
    bone = sub < levels.bone_threshold
    if csf.mean() < 0.02:
        return fail(f"no CSF in the {side} cerebellopontine angle")

    offset = np.array([s.start for s in box], float)
    lateral, height = brainstem_frame(brainstem, sp, sub.shape, offset, sign)
    bs_half = brainstem_half_width(brainstem, sp)
    bs_dist = ndimage.distance_transform_edt(~bs_sub, sampling=sp)
    canal = find_canal(csf, bone, sp, lateral, height, bs_half, bs_dist, params)
    tube = None if canal is None else CanalTube.of(canal, sp)
    if canal is None or tube is None:
        return fail(f"no internal auditory canal found on the {side}")

    costs = path_costs(sub, levels, csf, bone, art_sub, bs_sub, height, sp, params)
    rez = rez_seeds(bs_sub, height, lateral, bs_half, params)
    if not rez.any():
        return fail(f"no root exit zone on the {side} of the brainstem")
    path_a, cost_a = cheapest_path(costs.first, sp, canal, rez)
    if path_a is None or cost_a > params.max_path_cost:
        return fail(f"no nerve reaches the {side} internal auditory canal")
    pair = pair_paths(
        path_a, cost_a, sub, costs, canal, rez, bs_sub, bs_dist, sp, params, canal_axis=tube.axis
    )

    attached, from_anatomy = trace_attached(
        sub,
        levels,
        sp,
        bs_sub,
        bs_dist,
        art_sub,
        surface_cost=costs.surface,
        height=height,
        cn7_path=pair.cn7_path,
        cn8_path=pair.cn8_path,
        exclusion_mm=pair.exclusion_mm,
        params=params,
    )
    cn7_path, cn8_path = pair.cn7_path, pair.cn8_path
    full7 = np.concatenate([attached[::-1], cn7_path[1:]]) if len(attached) else cn7_path
    rdp_index = max(len(attached) - 1, 0)

    # both nerves go on along the internal auditory canal, beyond the traced paths
    radius7 = nerve_radius(sub, sp, full7, bs_sub, params)
    in7 = into_canal(full7, tube, sp, params.canal_nerve_mm, sub=sub, window_mm=radius7)
    in8 = None
    if cn8_path is not None:
        radius8 = nerve_radius(sub, sp, cn8_path, bs_sub, params)
        in8 = into_canal(cn8_path, tube, sp, params.canal_nerve_mm, sub=sub, window_mm=radius8)
    grown7, grown8 = grow_nerves(
        sub, sp, (full7, in7), (cn8_path, in8), bs_sub, bone, art_sub, params, radius=radius7
    )
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
        separated=pair.separated,
        attached_from_anatomy=from_anatomy,
    )


def _smoothed_box(norm, box, *, sigma: float):
    """``ndimage.gaussian_filter(norm, sigma)[box]``, filtering only the box and the kernel's reach.

    The kernel reaches ``int(4 sigma + 0.5)`` voxels (scipy's truncation); the
    box widened by one voxel more (clipped to the array, whose edges keep their
    reflection) gives the same values inside it.
    """
    wide = widen_box(box, sigma_reach(np.full(norm.ndim, sigma)) + 1, norm.shape)
    inner = tuple(
        slice(b.start - w.start, b.stop - w.start) for b, w in zip(box, wide, strict=True)
    )
    return ndimage.gaussian_filter(norm[wide], sigma)[inner]

"""Cost per mm of the nerve paths, and the first nerve's tube the second path keeps out of."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc.intensity import T2Levels, tube_darkness
from nvc.morphology import dilate_ellipsoid
from nvc.nerves.params import NerveParams


@dataclass(frozen=True)
class PathCosts:
    """Cost per mm of one side's paths, on the box of its cerebellopontine angle.

    Attributes
    ----------
    surface : ndarray, float64
        Along the brainstem surface (the attached segment): its interior not dearer.
    tube_dark : ndarray
        Darkness against a box of ``tube_radius_mm`` (``nvc.intensity.tube_darkness``).
    free : ndarray, float64
        Off the brainstem surface: its interior is dear (the second path's cost).
    first : ndarray, float64
        ``free``, and dear above the root-exit-zone window (the first path's cost).
    """

    surface: NDArray[np.float64]
    tube_dark: NDArray[np.floating]
    free: NDArray[np.float64]
    first: NDArray[np.float64]


def path_costs(
    sub, levels: T2Levels, csf, bone, art_sub, bs_sub, height, sp, params: NerveParams
) -> PathCosts:
    """The cost maps of one side's paths (``cost_per_mm``), see ``PathCosts``.

    ``height`` is each voxel's height (mm) above the pontomedullary junction
    along the brainstem's axis.
    """
    # what both cost maps share, computed once
    shared = {
        "d_csf": ndimage.distance_transform_edt(~csf, sampling=sp),
        "bulky_bone": ndimage.binary_opening(bone, iterations=2),
    }
    # off the brainstem surface the paths avoid its interior; along it (attached segment) not
    surface_cost = cost_per_mm(
        tube_darkness(sub, levels, sp, radius_mm=None),
        csf,
        bone,
        art_sub,
        sp,
        params,
        tof_bar=params.tof_bright_fraction,
        **shared,
    )
    tube_dark = tube_darkness(sub, levels, sp, radius_mm=params.tube_radius_mm)
    tube_cost = cost_per_mm(
        tube_dark, csf, bone, art_sub, sp, params, tof_bar=params.tof_bar_fraction, **shared
    )
    free_cost = tube_cost + params.cost_brainstem_interior * ndimage.binary_erosion(
        bs_sub, iterations=1
    )
    # CN VII/VIII run laterally from the root exit zone: nothing climbs far above it (CN V does)
    cost = free_cost.copy()
    cost += params.cost_rise * (height > params.rez_above_mm + params.max_rise_mm)
    return PathCosts(surface_cost, tube_dark, free_cost, cost)


def cost_per_mm(
    dark,
    csf,
    bone,
    art_sub,
    sp,
    params: NerveParams,
    *,
    tof_bar: float,
    d_csf=None,
    bulky_bone=None,
):
    """Cost per mm: cheap on dark voxels (``tube_darkness``); dear far from CSF, bone, arteries.

    The weights are ``NerveParams.cost_*``; TOF signal costs from ``tof_bar``
    (fraction of the way from tissue to the brightest arteries) upward.
    ``d_csf`` (the distance, mm, to ``csf``) and ``bulky_bone`` (``bone``
    opened twice) are computed when not given.
    """
    p = params
    if d_csf is None:
        d_csf = ndimage.distance_transform_edt(~csf, sampling=sp)
    if bulky_bone is None:
        bulky_bone = ndimage.binary_opening(bone, iterations=2)
    cost = p.cost_floor + p.cost_light * (1.0 - dark) ** 3
    cost = cost + p.cost_off_csf_per_mm * np.clip(d_csf - 1.0, 0.0, None)
    cost += p.cost_bulky_bone * bulky_bone
    cost += p.cost_bone * bone  # thin bone and flow voids are darker than any nerve
    if art_sub is not None:
        # TOF-bright voxels are arteries (dark on T2 like nerves): bar them, softly at the walls
        ramp = np.clip((art_sub - tof_bar) / p.artery_ramp_fraction, 0.0, 1.0)
        cost += p.cost_artery * ramp
    return cost.astype(np.float64)


def tube_of(path, dark, d_path, sp, exclusion_mm: float, params: NerveParams):
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

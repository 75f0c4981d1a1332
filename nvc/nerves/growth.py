"""The nerve masks: each nerve's cross-section grown around its course."""

from __future__ import annotations

import numpy as np

from nvc.nerves.params import NerveParams
from nvc.nerves.paths import core_level, path_distance


def grow_nerves(
    sub, sp, nerve7, nerve8, bs_sub, bone, art_sub, params: NerveParams, *, radius: float
):
    """Nerve voxels: near a nerve's course and darker than half-way between the nerve and CSF.

    ``nerve7`` and ``nerve8`` are each (traced path, course in the canal), the
    latter from ``into_canal``; CN VIII's path may be None. CN VII is the tube
    of its own ``radius`` (mm; ``nerve_radius``: measured where CSF shows its
    edge, or the dark volume around the path when no cross-section shows
    CSF), plus half a voxel (a voxel centre within half a voxel of the
    rounded course), around its path: beyond it lie CN VIII, the pons or
    bone against the nerve, dark as well. Inside the brainstem mask the
    attached segment lies on the pons, barely darker than it; in the canal,
    bone (darker than a nerve) is left out. CN VIII, up to 3 mm across, keeps
    every dark voxel within ``max_radius_mm`` of its course.
    """
    path7, in7 = nerve7
    path8, in8 = nerve8
    threshold = 0.5 * (core_level(sub, path7) + 1.0)
    m7 = np.zeros(sub.shape, bool)
    m7[tuple(np.round(path7).astype(int).T)] = True

    def distance(path, in_canal):
        # only distances up to max_radius_mm decide (CN VII's reach is capped there too): inf
        # beyond is the same
        out = np.full(sub.shape, np.inf)
        if path is not None:
            out = path_distance(path, sub.shape, sp, params.max_radius_mm)
        if in_canal is not None and len(in_canal):
            canal_part = path_distance(in_canal, sub.shape, sp, params.max_radius_mm)
            out = np.minimum(out, np.where(bone, np.inf, canal_part))
        return out

    d7 = distance(path7, in7)
    d8 = distance(path8, in8)
    dark = sub < threshold
    if art_sub is not None:
        dark &= art_sub < params.tof_bright_fraction  # an artery, never a nerve
    candidate = dark & ~bs_sub
    reach = radius + 0.5 * float(np.mean(sp))
    inside = dark & bs_sub & (d7 <= reach)
    cn7 = ((candidate & (d7 <= reach)) | inside) & (d7 <= d8)
    cn8 = candidate & (d8 <= params.max_radius_mm) & (d8 < d7)
    return cn7 | m7, cn8

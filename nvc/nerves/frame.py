"""The brainstem's frame around one cerebellopontine angle: its box, heights, REZ seeds."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc.brainstem import Brainstem, lateral_direction
from nvc.nerves.params import NerveParams


def cpa_box(shape, sp, bs: Brainstem, sign: float, params: NerveParams):
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


def brainstem_frame(bs: Brainstem, sp, shape, offset, sign: float):
    """Lateral and height (mm) of each voxel of a box, in the brainstem's own frame.

    The origin is the pontomedullary junction on the brainstem's axis
    (``bs.pmj_index``); height runs along that axis (``bs.axis``: a head
    rolled or pitched in the scanner tilts it), lateral along axis i made
    perpendicular to it, toward the side (``sign`` +1 right, -1 left).
    ``offset`` is the box's first voxel. Returns two arrays of shape ``shape``.
    """
    up = np.asarray(bs.axis, float)
    across = lateral_direction(up)
    x, y, z = (
        (np.arange(n) + o - c) * s
        for n, o, c, s in zip(shape, offset, bs.pmj_index, sp, strict=True)
    )

    def along(u):
        return x[:, None, None] * u[0] + y[None, :, None] * u[1] + z[None, None, :] * u[2]

    return sign * along(across), along(up)


def brainstem_half_width(bs: Brainstem, sp: NDArray[np.float64]) -> float:
    """Half the brainstem's width (mm, along i) at the junction's slice; 10 mm if empty."""
    k = bs.pmj_k
    section = bs.mask[:, :, k]
    if not section.any():
        return 10.0
    i = np.flatnonzero(section.any(axis=1))
    return 0.5 * (i[-1] - i[0] + 1) * sp[0]


def rez_seeds(bs_sub, height, lateral, bs_half: float, params: NerveParams):
    """Root-exit-zone seeds: the shell around the brainstem, in the REZ window, on its side."""
    shell = ndimage.binary_dilation(bs_sub, iterations=2) & ~bs_sub
    window = (height >= -params.rez_below_mm) & (height <= params.rez_above_mm)
    return shell & window & (lateral > 0.45 * bs_half)

"""The internal auditory canal: found in the bone, as a straight tube, the nerves' course in it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc.morphology import dilate_ellipsoid, erode_ellipsoid
from nvc.nerves.params import NerveParams


def canal_tunnels(csf, bone, sp, params: NerveParams):
    """The canal: a tunnel in bone, filled by closing the bone with a ball wider than it."""
    del csf
    r = params.canal_radius_mm
    closed = erode_ellipsoid(dilate_ellipsoid(bone, r, sp), r, sp, border_value=True)
    return closed & ~bone


def find_canal(csf, bone, sp, lateral, height, bs_half: float, bs_dist, params: NerveParams):
    """One side's internal auditory canal: the sizeable tunnel in bone nearest the brainstem.

    Tunnels (``canal_tunnels``) count beyond the brainstem's half width
    ``bs_half`` plus ``canal_lateral_margin_mm`` and within the height window
    (``lateral`` and ``height``, mm, in the brainstem's frame); ``bs_dist`` is
    the distance (mm) to the brainstem. Returns the canal's mask, or None when
    no tunnel qualifies.
    """
    canal = canal_tunnels(csf, bone, sp, params)
    canal &= lateral > bs_half + params.canal_lateral_margin_mm
    canal &= (height >= -params.rez_below_mm) & (height <= params.canal_above_mm)
    labels, n = ndimage.label(canal)
    if n == 0:
        return None
    # the canal: the sizeable tunnel nearest the brainstem (within the search window; no
    # preferred height: the junction's estimate is not reliable enough to prefer one by)
    index = np.arange(1, n + 1)
    sizes = ndimage.sum_labels(canal, labels, index) * float(np.prod(sp))
    nearest = label_minimum(bs_dist, labels, n)
    score = nearest
    ok = np.flatnonzero((sizes >= params.min_canal_mm3) & (nearest >= params.min_canal_gap_mm))
    if ok.size == 0:
        return None
    return labels == (1 + int(ok[np.argmin(score[ok])]))


def label_minimum(values, labels, n: int):
    """``ndimage.minimum(values, labels, 1..n)`` (the same values), without sorting the grid."""
    inside = labels > 0
    out = np.full(n, np.inf)
    np.minimum.at(out, labels[inside] - 1, values[inside])
    return out


@dataclass(frozen=True)
class CanalTube:
    """The canal as a straight tube: its voxels (mm), centre and principal axis."""

    points_mm: NDArray[np.float64]
    centre: NDArray[np.float64]
    axis: NDArray[np.float64]
    inside: NDArray[np.bool_]  # the canal dilated by a voxel

    @classmethod
    def of(cls, canal, sp) -> CanalTube | None:
        pts = np.argwhere(canal) * sp
        if len(pts) < 3:
            return None
        centre = pts.mean(axis=0)
        axis = np.linalg.svd(pts - centre, full_matrices=False)[2][0]
        return cls(pts, centre, axis, ndimage.binary_dilation(canal))


def into_canal(path, tube: CanalTube | None, sp, max_mm: float):
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

"""The internal auditory canal: found in the bone, as a straight tube, the nerves' course in it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc.morphology import dilate_ellipsoid, erode_ellipsoid
from nvc.nerves.params import NerveParams
from nvc.nerves.paths import across, core_level


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


def into_canal(path, tube: CanalTube | None, sp, max_mm: float, *, sub, window_mm: float):
    """Course of a nerve inside the internal auditory canal, following its dark core.

    From where the nerve's path enters the canal, the course steps along the
    canal's principal axis (half the finest voxel at a time) and after each
    step moves half-way toward the centroid of what is dark across the axis
    within ``window_mm`` of it: the samples darker than half-way between the
    darkest of them and CSF (``sub`` is the normalised T2, CSF = 1), weighted
    by how much darker. The window is the nerve's own radius, so the course
    re-centres on its nerve and never reaches the neighbour lying 1.5-2 mm
    away; the nerves run along the canal but not exactly parallel to its axis
    (a straight course left the nerve 3.5-6 mm past the porus on the
    independent anatomy). The course ends at the fundus, where bone closes
    the canal: where the mean across the window is darker than the nerve's
    own core (``core_level`` of the path; a nerve's cross-section with the CSF
    around it is brighter, bone darker); or where it leaves the canal, or
    after ``max_mm`` along the axis. Written here because no library tracks a tube's
    centre inside a known corridor.

    Returns voxel coordinates, shape (M, 3) (M may be 0).
    """
    if tube is None:
        return np.zeros((0, 3))
    sp = np.asarray(sp, float)
    point = path[-1] * sp
    axis = tube.axis if tube.axis @ (tube.centre - point) >= 0 else -tube.axis
    depth = min(float(((tube.points_mm - point) @ axis).max()), max_mm)
    step = 0.5 * float(sp.min())
    offsets = _disc(axis, window_mm)  # (mm) across the axis within the window
    core = core_level(sub, path)
    out = []
    for _ in range(int(depth / step + 0.5)):
        point = point + step * axis
        values = ndimage.map_coordinates(sub, ((point + offsets) / sp).T, order=1, mode="nearest")
        if float(values.mean()) < core:
            break  # bone: the canal's end
        weight = np.clip(0.5 * (float(values.min()) + 1.0) - values, 0.0, None)
        if weight.sum() > 0:
            point = point + 0.5 * (weight @ offsets) / weight.sum()
        idx = np.round(point / sp).astype(int)
        if np.any(idx < 0) or np.any(idx >= tube.inside.shape) or not tube.inside[tuple(idx)]:
            break
        out.append(point / sp)
    return np.array(out) if out else np.zeros((0, 3))


def _disc(axis, radius_mm: float, spacing_mm: float = 0.1):
    """Offsets (mm), shape (M, 3): a grid filling the disc of ``radius_mm`` across ``axis``."""
    u, v = across(axis)
    g = np.arange(-radius_mm, radius_mm + 1e-9, spacing_mm)
    a, b = np.meshgrid(g, g)
    inside = a**2 + b**2 <= radius_mm**2
    return a[inside][:, None] * u + b[inside][:, None] * v

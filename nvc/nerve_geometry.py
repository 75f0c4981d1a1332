"""CN VII centerline geometry: arc length from the root exit point, RDP, segments.

The root detachment point is found on the profile of the centerline's signed
distance to the brainstem surface. The surface is the brainstem mask opened by
a ball (``brainstem_surface_distance``): a nerve lying on the pons has the
pons's T2 signal at clinical resolution and merges with its mask, and the
opening takes such thin bumps off again, so that the attached nerve runs at a
steady small height above the surface and then rises from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc.morphology import distance_to_mask, signed_distance
from nvc.segments import Segment, in_vulnerable_zone, segment_at
from nvc.volume import apply_affine


@dataclass(frozen=True)
class GeometryParams:
    """Parameters of the centerline geometry (mm).

    Attributes
    ----------
    step_mm : float
        Resampling step of the centerline.
    smoothing_mm : float
        Gaussian smoothing of the traced voxel path along its length (the
        centerline that arc lengths are measured on).
    profile_smoothing_mm : float
        Lighter smoothing of the path whose distance to the brainstem is
        profiled for the detachment point (heavier smoothing rounds the
        corner where the nerve leaves the surface and moves it distally).
    surface_smoothing_mm : float
        Radius of the ball that opens the brainstem mask before the distance
        to its surface is taken: bumps thinner than twice this (a nerve or
        vessel lying on the brainstem, merged with its mask) are taken off;
        0 keeps the mask as it is.
    attached_max_mm : float
        A centerline starting this close to the (opened) brainstem surface
        starts on it; otherwise the tracer's estimate of the RDP is kept.
    detach_rise_mm : float
        The nerve has detached once its centre lies this much farther from the
        surface than along its first 3 mm (the attached level), for 1 mm.
    detach_window_mm : float
        The detachment point is the corner of a hinge (flat, then rising
        linearly) fitted to the profile over this length before that rise.
    """

    step_mm: float = 0.2
    smoothing_mm: float = 1.5
    profile_smoothing_mm: float = 0.6
    surface_smoothing_mm: float = 2.0
    attached_max_mm: float = 2.0
    detach_rise_mm: float = 1.5
    detach_window_mm: float = 4.0


@dataclass(frozen=True)
class NerveGeometry:
    """CN VII centerline in world mm with its landmarks.

    Attributes
    ----------
    points_ras : ndarray, shape (N, 3)
        Centerline from the root exit point (index 0), RAS mm.
    arc_mm : ndarray, shape (N,)
        Arc length from the root exit point, mm.
    rdp_mm : float
        Arc length of the root detachment point.
    distance_to_brainstem_mm : ndarray, shape (N,)
        Signed distance (mm) of each point to the smoothed brainstem surface
        (``brainstem_surface_distance``): negative inside, positive outside.
    """

    points_ras: NDArray[np.float64]
    arc_mm: NDArray[np.float64]
    rdp_mm: float
    distance_to_brainstem_mm: NDArray[np.float64]

    def segment_at(self, s_mm: float) -> Segment:
        """Segment name at an arc length.

        Parameters
        ----------
        s_mm : float
            Arc length from the root exit point, mm.

        Returns
        -------
        {"RExP", "AS", "RDP", "TZ", "cisternal"}
        """
        return segment_at(s_mm, self.rdp_mm)

    def in_vulnerable_zone(self, s_mm: float) -> bool:
        """Whether an arc length lies in the vulnerable zone (RExP to RDP + 4 mm).

        Parameters
        ----------
        s_mm : float
            Arc length from the root exit point, mm.

        Returns
        -------
        bool
        """
        return in_vulnerable_zone(s_mm, self.rdp_mm)

    @property
    def segments(self) -> list[Segment]:
        """Segment name of every centerline point: list of N names, in order along ``arc_mm``."""
        return [self.segment_at(float(s)) for s in self.arc_mm]


def brainstem_surface_distance(
    mask: NDArray[np.bool_], spacing: NDArray[np.float64], *, radius_mm: float
) -> NDArray[np.float32]:
    """Signed distance (mm) to the brainstem surface with thin bumps taken off.

    Parameters
    ----------
    mask : ndarray of bool, shape (I, J, K)
        Brainstem mask.
    spacing : ndarray, shape (3,)
        Voxel size (mm) along i, j, k.
    radius_mm : float
        Radius of the ball that opens the mask, mm (0 keeps the mask).

    Returns
    -------
    ndarray, float32, shape (I, J, K)
        Distance (mm) to the surface of ``mask`` opened by a ball of radius
        ``radius_mm`` (bumps thinner than twice that taken off; 0 keeps the
        mask): positive outside, negative inside, 0 on the opened mask's
        outermost voxels.

    Examples
    --------
    A flat brainstem surface at i = 9 (0.5 mm voxels):

    >>> import numpy as np
    >>> brainstem = np.zeros((40, 20, 60), bool)
    >>> brainstem[:10] = True
    >>> distance = brainstem_surface_distance(brainstem, np.array([0.5, 0.5, 0.5]), radius_mm=2.0)
    >>> (distance[8:13, 10, 30] + 0.0).tolist()  # + 0.0 turns -0.0 into 0.0
    [-0.5, 0.0, 0.5, 1.0, 1.5]
    """
    sp = np.asarray(spacing, float)
    mask = np.asarray(mask, bool)
    # opening by a ball, exactly, from two distance maps: erode where the background lies
    # farther than the radius, dilate back to within the radius of what is left
    opened = mask
    if radius_mm > 0:
        core = distance_to_mask(~mask, sp) > radius_mm
        opened = distance_to_mask(core, sp) <= radius_mm if core.any() else mask
    return signed_distance(opened, sp)


def centerline_geometry(
    path_voxels: NDArray[np.float64],
    affine: NDArray[np.float64],
    brainstem_distance_mm: NDArray[np.floating],
    *,
    rdp_hint_index: int,
    params: GeometryParams = GeometryParams(),
) -> NerveGeometry:
    """Smooth a traced voxel path into a centerline and find its root detachment point.

    Parameters
    ----------
    path_voxels : ndarray, shape (N, 3)
        Path from the root exit point, voxel indices (i, j, k) of the grid of ``affine``.
    affine : ndarray, shape (4, 4)
        Voxel indices to RAS+ mm of that grid.
    brainstem_distance_mm : ndarray, shape (I, J, K)
        Signed distance (mm) from each voxel to the brainstem surface, as
        ``brainstem_surface_distance`` returns (negative inside).
    rdp_hint_index : int
        Path index where the trace along the brainstem surface ended.
    params : GeometryParams
        Resampling step and smoothing (mm), detachment rules.

    Returns
    -------
    NerveGeometry
        The centerline resampled every ``params.step_mm`` (RAS mm, from the root
        exit point), its arc lengths (mm), the RDP's arc length (mm) and each
        point's signed distance to the brainstem surface (mm).

    Examples
    --------
    A nerve lying on a flat brainstem surface for 8 mm, then leaving it at 45°:

    >>> import numpy as np
    >>> brainstem = np.zeros((40, 20, 60), bool)
    >>> brainstem[:10] = True
    >>> distance = brainstem_surface_distance(brainstem, np.array([0.5, 0.5, 0.5]), radius_mm=2.0)
    >>> on_surface = [(10, 10, k) for k in range(10, 26)]
    >>> leaving = [(10 + n, 10, 26 + n) for n in range(1, 25)]
    >>> path = np.array(on_surface + leaving, float)
    >>> geometry = centerline_geometry(path, np.diag([0.5, 0.5, 0.5, 1.0]), distance,
    ...                                rdp_hint_index=15)
    >>> round(geometry.rdp_mm, 1), geometry.segments[0], geometry.segment_at(geometry.rdp_mm)
    (7.5, 'RExP', 'RDP')
    """
    world = apply_affine(affine, path_voxels)
    s_raw = _arc(world)
    n = max(int(s_raw[-1] / params.step_mm) + 1, 2)
    s = np.linspace(0.0, s_raw[-1], n)
    pts = np.stack([np.interp(s, s_raw, world[:, i]) for i in range(3)], axis=1)
    smooth = _smoothed(pts, params.smoothing_mm / params.step_mm)
    arc = _arc(smooth)
    inverse = np.linalg.inv(affine)
    field = np.asarray(brainstem_distance_mm, np.float32)

    def profile(points: NDArray[np.float64]) -> NDArray[np.float64]:
        vox = apply_affine(inverse, points)
        return ndimage.map_coordinates(field, vox.T, order=1, mode="nearest").astype(float)

    dist = profile(smooth)
    light = _smoothed(pts, params.profile_smoothing_mm / params.step_mm)
    hint = float(s_raw[min(rdp_hint_index, len(s_raw) - 1)])
    i_rdp = _detachment(_arc(light), profile(light), params)
    rdp = hint if i_rdp is None else float(arc[i_rdp])
    return NerveGeometry(points_ras=smooth, arc_mm=arc, rdp_mm=rdp, distance_to_brainstem_mm=dist)


def _smoothed(points: NDArray[np.float64], sigma: float) -> NDArray[np.float64]:
    """Gaussian smoothing along a polyline (sigma in samples), its ends kept in place."""
    out = ndimage.gaussian_filter1d(points, sigma, axis=0, mode="nearest")
    out[0], out[-1] = points[0], points[-1]
    return out


def _arc(points: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])


def _detachment(
    arc: NDArray[np.float64], dist: NDArray[np.float64], params: GeometryParams
) -> int | None:
    """Index of the root detachment point on a distance-to-surface profile, or None.

    ``dist`` is the signed distance (mm) to the brainstem surface along the
    centerline, ``arc`` its arc length. The attached level is the median over
    the first 3 mm; the nerve has left once it stays ``detach_rise_mm`` above
    that level for 1 mm. Over ``detach_window_mm`` before that point the
    profile is fitted by a hinge (constant, then rising linearly) by least
    squares; its corner is the detachment point. A threshold alone would
    place it late by the rise divided by the slope.
    None when the centerline does not start on the brainstem or never leaves it.
    """
    step = max(float(np.median(np.diff(arc))), 1e-6)
    first = dist[: max(2, round(3.0 / step))]
    if float(first.min()) > params.attached_max_mm:
        return None
    level = float(np.median(first))
    run = max(1, round(1.0 / step))
    high = dist >= level + params.detach_rise_mm
    rises = np.flatnonzero(np.convolve(high, np.ones(run), "valid") >= run)
    if rises.size == 0:
        return None
    i = int(rises[0])
    lo = max(0, i - round(params.detach_window_mm / step))
    hi = min(len(dist), i + round(0.5 / step) + 1)
    s, y = arc[lo:hi], dist[lo:hi]
    best, corner = np.inf, None
    for h in range(1, len(s) - 2):
        x = np.stack([np.ones_like(s), np.clip(s - s[h], 0.0, None)], axis=1)
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        residual = float(np.sum((x @ coef - y) ** 2))
        if coef[1] > 0 and residual < best:
            best, corner = residual, lo + h
    return corner

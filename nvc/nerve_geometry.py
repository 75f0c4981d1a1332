"""CN VII centerline geometry: arc length from the root exit point, RDP, segments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

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
        Gaussian smoothing of the traced voxel path along its length.
    detach_margin_mm : float
        The nerve has detached where its centre lies this much farther from the
        brainstem surface than along its attached course.
    attached_max_mm : float
        A centerline this close to the brainstem lies on its surface.
    """

    step_mm: float = 0.2
    smoothing_mm: float = 1.5
    detach_margin_mm: float = 0.35
    attached_max_mm: float = 1.0


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
    """

    points_ras: NDArray[np.float64]
    arc_mm: NDArray[np.float64]
    rdp_mm: float
    distance_to_brainstem_mm: NDArray[np.float64]

    def segment_at(self, s_mm: float) -> Segment:
        """Segment name at an arc length."""
        return segment_at(s_mm, self.rdp_mm)

    def in_vulnerable_zone(self, s_mm: float) -> bool:
        """Whether an arc length lies in the vulnerable zone (RExP to RDP + 4 mm)."""
        return in_vulnerable_zone(s_mm, self.rdp_mm)

    @property
    def segments(self) -> list[Segment]:
        """Segment name of every centerline point."""
        return [self.segment_at(float(s)) for s in self.arc_mm]


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
        Path from the root exit point, voxel indices of the grid of ``affine``.
    brainstem_distance_mm : ndarray, shape (I, J, K)
        Distance (mm) from each voxel to the brainstem (0 inside).
    rdp_hint_index : int
        Path index where the trace along the brainstem surface ended.
    """
    world = apply_affine(affine, path_voxels)
    s_raw = _arc(world)
    n = max(int(s_raw[-1] / params.step_mm) + 1, 2)
    s = np.linspace(0.0, s_raw[-1], n)
    pts = np.stack([np.interp(s, s_raw, world[:, i]) for i in range(3)], axis=1)
    sigma = params.smoothing_mm / params.step_mm
    smooth = ndimage.gaussian_filter1d(pts, sigma, axis=0, mode="nearest")
    smooth[0], smooth[-1] = pts[0], pts[-1]
    arc = _arc(smooth)
    vox = apply_affine(np.linalg.inv(affine), smooth)
    dist = ndimage.map_coordinates(
        np.asarray(brainstem_distance_mm, np.float32), vox.T, order=1, mode="nearest"
    ).astype(float)
    hint = float(np.interp(s_raw[min(rdp_hint_index, len(s_raw) - 1)], s_raw, s_raw))
    rdp = _detachment(arc, dist, hint, params)
    return NerveGeometry(points_ras=smooth, arc_mm=arc, rdp_mm=rdp, distance_to_brainstem_mm=dist)


def _arc(points: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])


def _detachment(
    arc: NDArray[np.float64], dist: NDArray[np.float64], hint: float, params: GeometryParams
) -> float:
    """Arc length where the nerve leaves the brainstem surface for good.

    The attached course is the stretch from the root exit point along which the
    centerline stays within ``attached_max_mm`` of the brainstem (a nerve lying
    on the surface); the RDP is where the centerline then moves
    ``detach_margin_mm`` beyond its attached distance and stays away for 1.5 mm.
    """
    step = max(arc[1] - arc[0], 1e-6)
    run = max(1, round(1.5 / step))
    close = dist <= params.attached_max_mm
    if not close[: max(1, round(3.0 / step))].any():
        return float(hint)  # the trace does not start on the brainstem: keep the tracer's estimate
    first = int(np.argmax(close))
    base = float(np.median(dist[first : first + max(run, 1)][close[first : first + max(run, 1)]]))
    away = dist > max(base, 0.0) + params.detach_margin_mm
    for i in range(first, len(arc) - run + 1):
        if away[i : i + run].all():
            return float(arc[i])
    return float(hint)

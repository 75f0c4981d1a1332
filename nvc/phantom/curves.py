"""Centerline curves and tube distances for the phantom (all in mm)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import CubicSpline
from scipy.ndimage import gaussian_filter1d
from scipy.spatial import cKDTree

#: Sampling step of phantom centerlines in mm (fine enough for 0.01 mm distance truth).
STEP_MM = 0.05

Field = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def arc_length(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cumulative arc length in mm of a polyline, shape (N, 3) -> (N,)."""
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(seg)])


def resample_polyline(points: NDArray[np.float64], step: float = STEP_MM) -> NDArray[np.float64]:
    """Resample a polyline at (nearly) uniform arc-length steps."""
    s = arc_length(points)
    n = max(int(np.ceil(s[-1] / step)) + 1, 2)
    t = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(t, s, points[:, i]) for i in range(3)], axis=1)


def spline_through(control: NDArray[np.float64], step: float = STEP_MM) -> NDArray[np.float64]:
    """A smooth curve through control points (chord-length cubic spline), resampled."""
    control = np.asarray(control, float)
    keep = np.concatenate([[True], np.linalg.norm(np.diff(control, axis=0), axis=1) > 1e-6])
    control = control[keep]
    t = arc_length(control)
    spline = CubicSpline(t, control, axis=0, bc_type="natural")
    dense = spline(np.linspace(0.0, t[-1], max(int(t[-1] / step) * 4, 8)))
    return resample_polyline(dense, step)


def bezier(
    p0: NDArray[np.float64],
    p1: NDArray[np.float64],
    p2: NDArray[np.float64],
    p3: NDArray[np.float64],
    step: float = STEP_MM,
) -> NDArray[np.float64]:
    """Cubic Bezier curve from p0 to p3, resampled at ``step``."""
    t = np.linspace(0.0, 1.0, 4000)[:, None]
    pts = (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3
    return resample_polyline(pts, step)


def tangents(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unit tangents of a polyline, shape (N, 3)."""
    g = np.gradient(points, axis=0)
    return g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)


def gradient(field: Field, points: NDArray[np.float64], h: float = 1e-3) -> NDArray[np.float64]:
    """Unit gradient of a scalar field at points, shape (N, 3), by central differences."""
    g = np.empty_like(points)
    for axis in range(3):
        d = np.zeros(3)
        d[axis] = h
        g[:, axis] = (field(points + d) - field(points - d)) / (2 * h)
    return g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)


def project_to_surface(
    field: Field, points: NDArray[np.float64], iters: int = 8
) -> NDArray[np.float64]:
    """Move points onto the zero level set of a signed distance-like field (Newton steps)."""
    p = np.array(points, float)
    for _ in range(iters):
        p = p - field(p)[:, None] * gradient(field, p)
    return p


def keep_clear(
    curve: NDArray[np.float64],
    field: Field,
    clearance: float,
    *,
    frozen: NDArray[np.bool_] | None = None,
    iters: int = 6,
) -> NDArray[np.float64]:
    """Push curve points out along the field's gradient until ``field >= clearance``.

    Frozen points never move. A light smoothing after each push keeps the curve smooth.
    """
    p = np.array(curve, float)
    free = np.ones(len(p), bool) if frozen is None else ~frozen
    for _ in range(iters):
        f = field(p)
        bad = (f < clearance) & free
        if not bad.any():
            break
        p[bad] += (clearance - f[bad] + 0.05)[:, None] * gradient(field, p[bad])
        smooth = gaussian_filter1d(p, sigma=10, axis=0, mode="nearest")
        p[free] = smooth[free]
    return resample_polyline(p)


def polyline_distance(curve: NDArray[np.float64]) -> Field:
    """Distance field (mm) to a densely sampled polyline."""
    tree = cKDTree(curve)

    def field(points: NDArray[np.float64]) -> NDArray[np.float64]:
        d, _ = tree.query(points)
        return np.asarray(d, float)

    return field


def closest_approach(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[float, int, int]:
    """Minimum distance between two sampled curves and the indices where it occurs."""
    d, j = cKDTree(b).query(a)
    i = int(np.argmin(d))
    return float(d[i]), i, int(j[i])


def tube_sdf(
    curve: NDArray[np.float64],
    radius: float,
    *,
    index_to_mm: NDArray[np.float64],
    shape: tuple[int, int, int],
    reach: float,
    chunk_mm: float = 6.0,
) -> NDArray[np.float32]:
    """Signed distance (mm) from each voxel centre of a grid to a tube around a curve.

    Only voxels within ``reach`` mm of the tube's surface get a finite value; all
    others hold ``+inf``. The curve is cut into chunks and each chunk only
    visits the block of voxels around it, so the cost follows the tube's
    volume, not the grid's.

    Parameters
    ----------
    curve : ndarray, shape (N, 3)
        Centerline in the frame of ``index_to_mm``'s output (mm).
    index_to_mm : ndarray, shape (4, 4)
        Voxel indices (i, j, k) to that frame.
    shape : tuple of int
        Grid shape (I, J, K).

    Returns
    -------
    ndarray, shape (I, J, K), float32
    """
    out = np.full(shape, np.inf, dtype=np.float32)
    bound = radius + reach
    to_index = np.linalg.inv(index_to_mm)
    step = np.sqrt((index_to_mm[:3, :3] ** 2).sum(axis=0))
    n_chunk = max(int(np.ceil(arc_length(curve)[-1] / chunk_mm)), 1)
    for piece in np.array_split(np.arange(len(curve)), n_chunk):
        seg = curve[max(piece[0] - 1, 0) : piece[-1] + 2]
        ijk = seg @ to_index[:3, :3].T + to_index[:3, 3]
        pad = bound / step + 1
        lo = np.maximum(np.floor(ijk.min(axis=0) - pad).astype(int), 0)
        hi = np.minimum(np.ceil(ijk.max(axis=0) + pad).astype(int) + 1, shape)
        if np.any(hi <= lo):
            continue
        grids = np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi, strict=True)], indexing="ij")
        idx = np.stack([g.ravel() for g in grids], axis=1).astype(np.float64)
        pts = idx @ index_to_mm[:3, :3].T + index_to_mm[:3, 3]
        d, _ = cKDTree(seg).query(pts, distance_upper_bound=bound)
        block = (slice(lo[0], hi[0]), slice(lo[1], hi[1]), slice(lo[2], hi[2]))
        vals = (d - radius).astype(np.float32).reshape(hi - lo)
        out[block] = np.minimum(out[block], vals)
    return out

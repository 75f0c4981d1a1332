"""CN VII centerline geometry: the root detachment point on a drawn nerve leaving a flat pons."""

from __future__ import annotations

import numpy as np
import pytest

from nvc.nerve_geometry import GeometryParams, brainstem_surface_distance, centerline_geometry

SPACING = np.array([0.5, 0.5, 0.6])
SHAPE = (80, 40, 50)
AFFINE = np.diag([*SPACING, 1.0])
SURFACE_Z = 12.0  # mm: the pons fills z <= SURFACE_Z
RADIUS = 0.7  # nerve radius (mm)
RDP = 14.0  # arc length (mm) at which the nerve leaves the surface
X0 = 5.0  # mm: where the nerve's centerline starts (its root exit point)


def _nerve(angle_deg: float = 30.0) -> np.ndarray:
    """Centerline (mm): along the surface at 0.5 mm, then rising away from it at ``angle_deg``."""
    s = np.arange(0.0, 28.0, 0.1)
    rise = np.clip(s - RDP, 0.0, None)
    a = np.deg2rad(angle_deg)
    x = X0 + np.minimum(s, RDP) + rise * np.cos(a)
    z = SURFACE_Z + 0.5 + rise * np.sin(a)
    return np.stack([x, np.full_like(s, 10.0), z], axis=1)


def _brainstem(line: np.ndarray) -> np.ndarray:
    """The pons below SURFACE_Z, merged (as a T2 mask merges it) with the nerve's attached part."""
    grid = np.indices(SHAPE).reshape(3, -1).T * SPACING
    mask = grid[:, 2] <= SURFACE_Z
    attached = line[line[:, 0] <= X0 + RDP]
    for p in attached[::3]:
        mask |= np.linalg.norm(grid - p, axis=1) <= RADIUS
    return mask.reshape(SHAPE)


def _rdp(line: np.ndarray, mask: np.ndarray, params: GeometryParams) -> float:
    field = brainstem_surface_distance(mask, SPACING, radius_mm=params.surface_smoothing_mm)
    voxels = line / SPACING
    return centerline_geometry(voxels, AFFINE, field, rdp_hint_index=0, params=params).rdp_mm


def test_surface_distance_is_signed_and_takes_a_merged_vessel_off():
    grid = np.indices(SHAPE).reshape(3, -1).T * SPACING
    # a vessel of radius 1 mm lying on the pons along x, merged with it in the mask
    ridge = np.hypot(grid[:, 1] - 10.0, grid[:, 2] - (SURFACE_Z + 0.8)) <= 1.0
    mask = ((grid[:, 2] <= SURFACE_Z) | ridge).reshape(SHAPE)
    field = brainstem_surface_distance(mask, SPACING, radius_mm=2.0)
    k_surface = int(SURFACE_Z / SPACING[2])
    assert field[40, 10, k_surface - 5] < 0 < field[40, 10, k_surface + 5]
    assert np.all(field[~mask] > 0)
    # inside the vessel the distance is its height over the flat surface (to within a
    # voxel: a one-voxel step is as flat as the grid can draw), not 0 or less
    top = (40, 20, int(np.floor((SURFACE_Z + 1.6) / SPACING[2])))
    assert mask[top]
    height = top[2] * SPACING[2] - SURFACE_Z
    assert height - SPACING[2] - 1e-3 <= field[top] <= height + 1e-3
    raw = brainstem_surface_distance(mask, SPACING, radius_mm=0)
    assert raw[top] <= 0


@pytest.mark.parametrize("angle_deg", [20.0, 30.0, 45.0])
def test_detachment_point_is_found_where_the_nerve_leaves(angle_deg):
    line = _nerve(angle_deg)
    assert _rdp(line, _brainstem(line), GeometryParams()) == pytest.approx(RDP, abs=0.8)


def test_a_centerline_not_starting_on_the_brainstem_keeps_the_tracers_estimate():
    line = _nerve() + np.array([0.0, 0.0, 6.0])  # floats 6 mm above the pons all along
    mask = _brainstem(_nerve())
    field = brainstem_surface_distance(mask, SPACING, radius_mm=2.0)
    geom = centerline_geometry(line / SPACING, AFFINE, field, rdp_hint_index=40)
    assert geom.rdp_mm == pytest.approx(float(np.linalg.norm(line[40] - line[0])), abs=0.3)

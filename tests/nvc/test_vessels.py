"""Vessel segmentation on small synthetic volumes with known geometry (mm)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from nvc.intensity import T2Levels, dark_tube_roundness
from nvc.vessels import TofLevels, VesselParams, segment_arteries, segment_veins

SPACING = np.array([0.5, 0.5, 0.5])
SHAPE = (60, 60, 40)
T2_LEVELS = T2Levels(
    tissue=0.4, dark=0.2, csf_threshold=0.7, tissue_threshold=0.5, bone_threshold=0.14
)
TOF_LEVELS = TofLevels(tissue=0.0, csf=-0.2, artery=1.0)


def _grid_mm() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    i, j, k = np.indices(SHAPE)
    return i * SPACING[0], j * SPACING[1], k * SPACING[2]


def _tube(centre_xy: tuple[float, float], radius_mm: float) -> np.ndarray:
    """A straight tube along k through (x, y) mm."""
    x, y, _ = _grid_mm()
    return (x - centre_xy[0]) ** 2 + (y - centre_xy[1]) ** 2 <= radius_mm**2


def _sheet(x_mm: float, half_thickness_mm: float) -> np.ndarray:
    x, _, _ = _grid_mm()
    return np.abs(x - x_mm) <= half_thickness_mm


def test_roundness_tells_a_tube_from_a_sheet() -> None:
    image = np.ones(SHAPE, np.float32)
    tube = _tube((10.0, 15.0), 0.8)
    sheet = _sheet(22.0, 0.5)
    image[tube | sheet] = 0.2
    where = np.zeros(SHAPE, bool)
    where[20, 30, 20] = True  # tube axis
    where[44, 30, 20] = True  # middle of the sheet
    r = dark_tube_roundness(image, SPACING, where, scale_mm=0.7)
    assert r[20, 30, 20] > 0.8
    assert r[44, 30, 20] < 0.2
    assert r[~where].max() == 0.0


def _scene(*, tube_tof: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSF with bone on one side, a dark rim (sheet) on the bone and a dark tube in the CSF."""
    t2 = np.ones(SHAPE, np.float32)
    tof = np.full(SHAPE, TOF_LEVELS.csf, np.float32)
    x, _, _ = _grid_mm()
    bone = x >= 24.0
    rim = (x >= 22.5) & (x < 24.0)  # a thin sheet in front of the bone, 1.5 mm thick
    t2[bone] = 0.03
    tof[bone] = -0.3
    t2[rim] = 0.25
    tof[rim] = -0.28
    tube = _tube((10.0, 15.0), 1.0)
    t2[tube] = 0.2
    tof[tube] = tube_tof
    return t2, tof, tube, rim


def test_a_dark_tube_in_csf_that_is_dark_on_tof_is_a_vein_and_a_bone_rim_is_not() -> None:
    t2, tof, tube, rim = _scene(tube_tof=-0.25)
    veins = segment_veins(t2, T2_LEVELS, tof, TOF_LEVELS, SPACING, exclude=np.zeros(SHAPE, bool))
    dice = 2 * (veins & tube).sum() / (veins.sum() + tube.sum())
    assert dice > 0.7
    assert not (veins & rim).any()


def test_a_dark_tube_at_tissue_level_on_tof_is_a_nerve_not_a_vein() -> None:
    t2, tof, tube, _ = _scene(tube_tof=TOF_LEVELS.tissue)
    veins = segment_veins(t2, T2_LEVELS, tof, TOF_LEVELS, SPACING, exclude=np.zeros(SHAPE, bool))
    assert not (veins & tube).any()


def test_excluded_voxels_are_never_vein() -> None:
    t2, tof, tube, _ = _scene(tube_tof=-0.25)
    veins = segment_veins(t2, T2_LEVELS, tof, TOF_LEVELS, SPACING, exclude=tube)
    assert not (veins & tube).any()


@pytest.mark.parametrize("offset_mm", [0.5, 0.8, 1.2])
def test_a_vein_lying_on_the_brainstem_is_found_outside_it(offset_mm: float) -> None:
    """A vein on the pons, its axis ``offset_mm`` in front of the surface (partial volume blurred).

    On T2 the vein is as dark as the pons; together they curve like a sheet,
    and the roundness test rejected the vein's free part where it touches
    the surface. With the brainstem taken as CSF for that test, the part
    outside the brainstem is found; the brainstem's own surface is not vein.
    """
    t2 = np.ones(SHAPE, np.float32)
    tof = np.full(SHAPE, TOF_LEVELS.csf, np.float32)
    x, _, _ = _grid_mm()
    pons = x >= 20.0
    t2[pons] = T2_LEVELS.tissue
    tof[pons] = TOF_LEVELS.tissue
    vein = _tube((20.0 - offset_mm, 15.0), 1.0)
    t2[vein] = T2_LEVELS.dark
    tof[vein] = -0.25
    t2, tof = (ndimage.gaussian_filter(a, 1.0) for a in (t2, tof))
    found = segment_veins(t2, T2_LEVELS, tof, TOF_LEVELS, SPACING, exclude=pons, peel=pons)
    outside = vein & ~pons
    assert (found & outside).sum() >= 0.6 * outside.sum()
    assert not (found & ~vein).any()


@pytest.mark.parametrize("radius_mm", [0.8, 1.5])
def test_arteries_follow_the_bright_tof_tube(radius_mm: float) -> None:
    tof = np.zeros(SHAPE, np.float32)
    tube = _tube((15.0, 15.0), radius_mm)
    tof[tube] = 1.0
    arteries = segment_arteries(tof, SPACING, TOF_LEVELS, params=VesselParams())
    dice = 2 * (arteries & tube).sum() / (arteries.sum() + tube.sum())
    assert dice > 0.8


def _ball(centre_mm: tuple[float, float, float], radius_mm: float) -> np.ndarray:
    x, y, z = _grid_mm()
    cx, cy, cz = centre_mm
    return (x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 <= radius_mm**2


def test_a_faint_thin_artery_is_kept_and_a_faint_blob_or_sheet_is_not() -> None:
    # a thin artery on a TOF of thick slices keeps under half of the brightest arteries'
    # brightness (below seed_fraction); so do a blob of bright tissue and a layer of fat
    params = VesselParams()
    faint = 0.5 * (params.grow_fraction + params.seed_fraction)
    tof = np.zeros(SHAPE, np.float32)
    tube = _tube((8.0, 8.0), 1.0)
    blob = _ball((22.0, 10.0, 10.0), 3.0)
    sheet = _sheet(22.0, 0.6) & (_grid_mm()[2] > 12.0)
    for shape in (tube, blob, sheet):
        tof[shape] = faint
    tof = ndimage.gaussian_filter(tof, 0.5)
    arteries = segment_arteries(tof, SPACING, TOF_LEVELS, params=params)
    assert (arteries & tube).sum() >= 0.7 * tube.sum()
    assert not (arteries & (blob | sheet)).any()
    # the same tube within bright tissue (a layer of fat) does not stand out from it
    within = np.where(tube, faint, np.where(_sheet(8.0, 3.0), 0.8 * params.grow_fraction, 0.0))
    within = ndimage.gaussian_filter(within.astype(np.float32), 0.5)
    assert not segment_arteries(within, SPACING, TOF_LEVELS, params=params).any()
    # the same tube, darker than grow_fraction, is not an artery
    dim = np.where(tube, params.grow_fraction * 0.8, 0.0).astype(np.float32)
    assert not segment_arteries(dim, SPACING, TOF_LEVELS, params=params).any()


def test_a_thin_artery_whose_brightness_dips_is_kept_whole_and_a_speck_is_not() -> None:
    # bright for 1 mm every 6 mm, at 0.35 of the brightest arteries between: the half-maximum
    # wall cuts it into pieces smaller than min_artery_mm3, yet it is one bright piece
    params = VesselParams()
    _, _, z = _grid_mm()
    tube = _tube((8.0, 8.0), 0.8)
    bright = (z % 6.0) < 1.0
    tof = np.where(tube, np.where(bright, 0.9, 0.35), 0.0).astype(np.float32)
    speck = _ball((20.0, 20.0, 10.0), 0.6)
    tof[speck] = 0.9
    arteries = segment_arteries(tof, SPACING, TOF_LEVELS, params=params)
    assert (arteries & tube).sum() >= 0.5 * tube.sum()
    assert not (arteries & speck).any()


def test_an_oblique_artery_thinner_than_a_voxel_is_one_piece() -> None:
    # a thin artery on an oblique course runs through voxels that touch at their edges and
    # corners only: counted face by face it is specks, each under min_artery_mm3
    tof = np.zeros(SHAPE, np.float32)
    steps = np.arange(2, 38)
    for di in (0, 1):  # two voxels across, one voxel further along each axis at every step
        tof[steps + di, steps, steps] = 0.8
    line = tof > 0
    assert line.sum() * np.prod(SPACING) >= VesselParams().min_artery_mm3
    arteries = segment_arteries(tof, SPACING, TOF_LEVELS, params=VesselParams())
    assert (arteries & line).sum() >= 0.9 * line.sum()

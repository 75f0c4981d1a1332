"""Brainstem segmentation on phantoms (against truth) and on a real T2 (where it must be)."""

from __future__ import annotations

import numpy as np
import pytest

from nvc.brainstem import (
    BrainstemParams,
    _pontomedullary_junction,
    _track_from_below,
    _trim_fused_back,
    segment_brainstem,
)
from nvc.intensity import normalize_t2
from nvc.io import load_volume
from nvc.labels import Label
from nvc.volume import Volume, reorient_canonical


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * float((a & b).sum()) / float(a.sum() + b.sum())


def test_brainstem_on_a_phantom_matches_truth(phantom_case):
    t2 = reorient_canonical(phantom_case.t2)
    truth = reorient_canonical(phantom_case.labels).array == Label.BRAINSTEM
    norm, levels = normalize_t2(t2.array, t2.spacing)
    bs = segment_brainstem(norm, levels, t2.spacing)
    assert _dice(bs.mask, truth) > 0.95
    # the pontomedullary junction lies within 5 mm below the root exit points
    rexp_k = [t2.world_to_voxel(line[0])[2] for line in phantom_case.truth.cn7_centerlines.values()]
    assert 0 <= (np.mean(rexp_k) - bs.pmj_k) * t2.spacing[2] <= 5.0


def _rotation(roll_deg: float, pitch_deg: float) -> np.ndarray:
    """Rotation tilting axis k toward i by the roll, then toward j by the pitch."""
    r, p = np.deg2rad(roll_deg), np.deg2rad(pitch_deg)
    roll = np.array([[np.cos(r), 0, np.sin(r)], [0, 1, 0], [-np.sin(r), 0, np.cos(r)]])
    pitch = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
    return pitch @ roll


@pytest.mark.parametrize(
    ("roll_deg", "pitch_deg", "bulge_mm"),
    [(0.0, 0.0, 0.0), (10.0, 0.0, 0.0), (0.0, 14.0, 0.0), (-8.0, -12.0, 0.0), (0.0, 14.0, 4.0)],
)
def test_junction_is_found_on_a_tilted_brainstem(roll_deg, pitch_deg, bulge_mm):
    """The waist between a wide pons and the medulla, and the axis, whatever the head's tilt.

    A body of revolution: medulla (radius 8 mm) narrowing to a waist (7 mm),
    widening into the pons (12 mm, 10 mm above the waist) and narrowing again
    to the midbrain; the pons may bulge forward by ``bulge_mm``. Axial slices
    of a pitched brainstem smear its waist; cross-sections across its axis do not.
    """
    sp = np.array([0.5, 0.5, 0.6])
    shape = (120, 120, 110)
    waist = np.array([30.0, 30.0, 30.0])  # mm
    rot = _rotation(roll_deg, pitch_deg)
    up, anterior = rot @ np.array([0.0, 0.0, 1.0]), rot @ np.array([0.0, 1.0, 0.0])
    pts = np.indices(shape).reshape(3, -1).T * sp - waist
    h = pts @ up
    bulge = np.where((h > 0) & (h < 20.0), bulge_mm * np.sin(np.pi * h / 20.0) ** 2, 0.0)
    pts -= bulge[:, None] * anterior
    radial = np.linalg.norm(pts - h[:, None] * up, axis=1)
    radius = np.where(
        h >= 0, 7.0 + 5.0 * np.sin(np.pi * h / 20.0) ** 2, 8.0 - np.exp(-((h / 4.0) ** 2))
    )
    mask = ((radial <= radius) & (h > -22.0) & (h < 24.0)).reshape(shape)
    point, axis = _pontomedullary_junction(mask, sp)
    # the axis leans toward the pons' bulge (its centres run forward), else it is the true one
    assert np.degrees(np.arccos(np.clip(axis @ up, -1, 1))) < (12.0 if bulge_mm else 3.0)
    assert abs((point * sp - waist) @ up) < 1.0  # the waist's height along the axis
    assert np.linalg.norm(point * sp - waist) < 2.0  # and on the axis


def test_constant_image_is_refused():
    with pytest.raises(ValueError, match="constant"):
        normalize_t2(np.full((20, 20, 20), 7.0, np.float32), np.ones(3))


def test_image_without_brainstem_is_refused():
    rng = np.random.default_rng(0)
    noise = rng.normal(100, 30, (40, 40, 40)).astype(np.float32)
    with pytest.raises(ValueError):
        norm, levels = normalize_t2(noise, np.ones(3))
        segment_brainstem(norm, levels, np.ones(3))


def test_brainstem_on_the_real_t2_is_where_the_brainstem_is(shared_real):
    """stroke_T2 (1 mm, brain-extracted): the mask sits on the medulla and pons at the midline.

    Reference positions read off the image (closest-canonical voxel indices): the
    mid-sagittal plane at i = 60-61, the fourth ventricle at j < 66 behind the
    brainstem, the medulla and pons between k = 5 and k = 55.
    """
    vol: Volume = reorient_canonical(load_volume(shared_real / "stroke_T2.nii.gz"))
    norm, levels = normalize_t2(vol.array, vol.spacing)
    bs = segment_brainstem(norm, levels, vol.spacing)
    idx = np.argwhere(bs.mask)
    centroid = idx.mean(axis=0)
    assert abs(bs.midline_i - 60.5) < 3
    assert abs(centroid[0] - 60.5) < 4
    assert 72 <= centroid[1] <= 92
    assert 10 <= centroid[2] <= 45
    assert idx[:, 1].min() >= 62  # nothing of the cerebellum behind the fourth ventricle
    assert idx[:, 2].max() - idx[:, 2].min() >= 30  # medulla and pons, not one slab
    assert 2000 <= len(idx) <= 40000


SP = np.array([0.5, 0.5, 1.0])


def _column(runs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Centre (j) and AP half-length (mm) tracked through one run (j0, j1) per 1 mm level."""
    return _track_from_below([[r] for r in runs], SP, BrainstemParams())


def _depth(half: np.ndarray) -> np.ndarray:
    return 2 * half / SP[1]  # voxels


def test_pons_bulging_forward_keeps_its_depth():
    """Above the sulcus the front steps forward while the back stays: the pons, not a fusion."""
    medulla = [(100, 113)] * 8  # 7 mm deep
    pons = [(100, 119 + n) for n in range(8)]  # a 3 mm step forward, then 0.5 mm per mm
    _, half = _column(medulla + pons)
    assert np.allclose(_depth(half[8:]), [b - a + 1 for a, b in pons])


def test_back_seen_again_after_a_fusion_with_the_whole_cerebellum():
    """Levels with no posterior boundary are cut; the pons above them is taken as it is."""
    medulla = [(60, 80)] * 8
    # 40 mm and more: the whole cerebellum behind, no fourth ventricle; the pons bulges forward
    fused = [(2, 81 + 3 * n) for n in range(4)]
    pons = [(60, 92 + n) for n in range(8)]  # the ventricle's floor where the medulla's back was
    centre, half = _column(medulla + fused + pons)
    assert np.all(_depth(half[8:12]) <= 22)  # the fused levels keep the medulla's depth
    assert np.allclose(_depth(half[12:]), [b - a + 1 for a, b in pons])
    assert np.allclose(centre[12:], [0.5 * (a + b) for a, b in pons])


def test_tonsils_fused_behind_the_medulla_are_cut():
    """A run that lengthens suddenly with its end jumping backward is cut to the length below."""
    medulla = [(60, 80)] * 6
    tonsils = [(40, 81)] * 6  # 21 mm: fused behind, yet within a brainstem's length
    _, half = _column(medulla + tonsils)
    assert np.allclose(_depth(half[6:]), 21)


def test_cerebellum_fused_from_the_lowest_level_up_is_cut_to_the_dorsal_surface():
    """Tracking from below cannot see a fusion present from its first level: the back line can.

    The medulla's back drifts 0.3 mm back per mm down (a tilted brainstem);
    at the six lowest levels the tonsils lie against it with no cisterna
    magna resolved, the run reaching 12-15 mm further back.
    """
    n = 30
    back = np.array([40 + 0.3 * k for k in range(n)])  # mm along j
    front = back + 14.0
    fused = np.arange(n) < 6
    seen_back = np.where(fused, back - 12.0 - 0.5 * np.arange(n), back)
    centre = 0.5 * (front + seen_back) / SP[1]
    half = 0.5 * (front - seen_back)
    new_centre, new_half = _trim_fused_back(centre, half, SP, BrainstemParams())
    new_back = new_centre * SP[1] - new_half
    assert np.allclose(new_back[fused], back[fused], atol=0.5)  # cut to the dorsal surface
    assert np.allclose(new_centre[~fused], centre[~fused])  # the rest as it was
    assert np.allclose(new_centre * SP[1] + new_half, front)  # the front never moves

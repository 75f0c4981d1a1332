"""Self-checks: a traced nerve outside anatomy, unlabelled TOF signal, a failed registration."""

from __future__ import annotations

import numpy as np

from nvc.brainstem import Brainstem
from nvc.intensity import T2Levels
from nvc.nerve_geometry import NerveGeometry
from nvc.quality import (
    CASE_CHECKS,
    SelfCheckParams,
    SideQuality,
    brainstem_check,
    brainstem_position_check,
    brainstem_size_check,
    nerve_checks,
    registration_check,
    separation_check,
    symptomatic_check,
    unlabelled_tof_check,
)

SP = np.array([0.5, 0.5, 0.5])


def _straight(length_mm: float, rdp_mm: float, start_off_mm: float = 0.2) -> NerveGeometry:
    arc = np.arange(0.0, length_mm + 1e-9, 0.2)
    pts = np.stack([arc, np.zeros_like(arc), np.zeros_like(arc)], axis=1)
    dist = np.full(arc.shape, 1.0)
    dist[0] = start_off_mm
    return NerveGeometry(pts, arc, rdp_mm, dist)


def _tube(radius_mm: float, length_mm: float) -> np.ndarray:
    shape = (int(length_mm / SP[0]) + 1, 20, 20)
    j, k = np.meshgrid(np.arange(20) * SP[1], np.arange(20) * SP[2], indexing="ij")
    disc = (j - 5.0) ** 2 + (k - 5.0) ** 2 <= radius_mm**2
    return np.broadcast_to(disc, shape).copy()


def test_an_anatomical_nerve_passes_every_check():
    checks = SideQuality(
        tuple(nerve_checks(_straight(22.0, 8.0), nerve_mask=_tube(0.8, 22.0), spacing=SP))
    )
    assert not checks.needs_review
    assert checks.review_reasons == ()
    assert checks.capped(0.9) == 0.9


def test_an_untraced_attached_segment_needs_review():
    checks = SideQuality(
        tuple(nerve_checks(_straight(22.0, 0.0), nerve_mask=_tube(0.8, 22.0), spacing=SP))
    )
    assert checks.needs_review
    assert any("attached segment" in r for r in checks.review_reasons)
    assert checks.capped(0.95) <= SelfCheckParams().review_confidence


def test_an_attached_segment_placed_from_anatomy_needs_review_whatever_its_length():
    checks = nerve_checks(
        _straight(22.0, 9.0), nerve_mask=_tube(0.8, 22.0), spacing=SP, attached_from_anatomy=True
    )
    failed = [c for c in checks if not c.passed]
    assert [c.name for c in failed] == ["attached_segment_seen"]
    assert "not visible on the image" in failed[0].reason
    assert SideQuality(tuple(checks)).needs_review


def test_a_root_exit_point_off_the_brainstem_and_a_short_nerve_are_reported():
    geom = _straight(8.0, 6.0, start_off_mm=3.0)
    failed = {
        c.name for c in nerve_checks(geom, nerve_mask=_tube(0.8, 8.0), spacing=SP) if not c.passed
    }
    assert failed == {"nerve_length", "rexp_on_brainstem"}


def test_a_nerve_thicker_than_anatomy_is_reported():
    failed = {
        c.name
        for c in nerve_checks(_straight(22.0, 8.0), nerve_mask=_tube(2.5, 22.0), spacing=SP)
        if not c.passed
    }
    assert failed == {"nerve_radius"}


def test_unlabelled_tof_signal_beside_the_nerve_is_reported_and_labelled_signal_is_not():
    nerve = np.zeros((40, 40, 40), bool)
    nerve[5:35, 20, 20] = True
    bright = np.zeros_like(nerve)
    bright[10:20, 22:24, 20:22] = True  # 1 mm beside the nerve, 5 mm3
    check = unlabelled_tof_check(bright, np.zeros_like(nerve), nerve, SP)
    assert not check.passed and check.value >= 4.0
    assert unlabelled_tof_check(bright, bright, nerve, SP).passed
    far = np.zeros_like(nerve)
    far[10:20, 32:34, 20:22] = True  # 6 mm away
    assert unlabelled_tof_check(far, np.zeros_like(nerve), nerve, SP).passed


def test_symptomatic_side_without_vessel_and_failed_registration_need_review():
    free = {"compression": False}
    assert not symptomatic_check(symptomatic=True, any_vessel_near=False, **free).passed
    near_apart = symptomatic_check(symptomatic=True, any_vessel_near=True, **free)
    assert not near_apart.passed and "near but apart" in near_apart.reason
    assert symptomatic_check(symptomatic=True, any_vessel_near=True, compression=True).passed
    assert symptomatic_check(symptomatic=None, any_vessel_near=False, **free).passed
    assert symptomatic_check(symptomatic=False, any_vessel_near=True, **free).passed
    failed = registration_check(registration_ok=False, agreement=0.1, minimum=0.6)
    quality = SideQuality((failed,))
    assert quality.needs_review and "registration failed" in quality.review_reasons[0]
    block = quality.to_dict()
    assert block["needs_review"] is True
    assert block["checks"]["registration"] == {
        "passed": False,
        "value": 0.1,
        "allowed": failed.allowed,
    }


def _column_scene(front: list[tuple[float, int]]) -> np.ndarray:
    """A (5, 80, 3) T2 whose midline column i=2, k=1 holds ``front`` (value, voxels) from j=20."""
    norm = np.full((5, 80, 3), 0.4, np.float32)
    j = 20
    for value, n in front:
        norm[2, j : j + n, 1] = value
        j += n
    return norm


def test_a_brainstem_with_cistern_then_clivus_in_front_passes():
    sp = np.array([0.5, 0.5, 0.5])
    norm = _column_scene([(1.0, 10), (0.05, 20)])  # 5 mm of CSF, then 10 mm of bone
    noisy = norm.copy()
    noisy[2, 30:50:3, 1] = 0.3  # bone noise reaching the tissue level every third voxel
    kw = dict(midline_i=2.0, anterior_j=20, level_k=1, spacing=sp)
    assert brainstem_check(norm, 0.7, 0.26, **kw).passed
    assert brainstem_check(noisy, 0.7, 0.26, **kw).passed


def test_a_basilar_flow_void_is_not_the_clivus_and_tissue_in_front_fails():
    sp = np.array([0.5, 0.5, 0.5])
    kw = dict(midline_i=2.0, anterior_j=20, level_k=1, spacing=sp)
    # CSF with a 3 mm flow void in it, then only tissue: no clivus
    void_only = _column_scene([(1.0, 4), (0.05, 6), (1.0, 4), (0.4, 40)])
    assert not brainstem_check(void_only, 0.7, 0.26, **kw).passed
    # tissue straight in front (what was taken for the brainstem lies in the temporal lobe)
    assert not brainstem_check(_column_scene([(0.4, 60)]), 0.7, 0.26, **kw).passed


def test_cn8_not_traced_apart_needs_review():
    assert separation_check(separated=True).passed
    failed = separation_check(separated=False)
    assert not failed.passed and "CN VIII" in failed.reason


LEVELS = T2Levels(
    tissue=0.4, dark=0.2, csf_threshold=0.7, tissue_threshold=0.26, bone_threshold=0.1
)


def _brainstem(mask: np.ndarray, center_j: float = 10.0) -> Brainstem:
    k = mask.shape[2]
    return Brainstem(
        mask=mask,
        midline_i=2.0,
        center_j=np.full(k, center_j),
        half_ap_mm=np.full(k, 5.0),
        pmj_index=np.array([2.0, center_j, 1.0]),
        axis=np.array([0.0, 0.0, 1.0]),
    )


def test_the_brainstem_position_is_checked_in_front_of_the_mask_at_the_junction():
    sp = np.array([0.5, 0.5, 0.5])
    # tissue (the brainstem) up to j = 19, then 5 mm of CSF and 10 mm of bone
    norm = _column_scene([(1.0, 10), (0.05, 20)])
    mask = np.zeros(norm.shape, bool)
    mask[:, 5:20, :] = True
    check = brainstem_position_check(norm, LEVELS, _brainstem(mask), sp)
    assert check.name == "brainstem_behind_clivus" and check.passed
    assert str(check.value).startswith("cistern at 0 mm")  # measured from the mask's front
    # a mask reaching into the bone (taken for brainstem): no cistern in front of it
    into_bone = np.zeros(norm.shape, bool)
    into_bone[:, 5:35, :] = True
    assert not brainstem_position_check(norm, LEVELS, _brainstem(into_bone), sp).passed


def test_a_midline_column_missing_the_mask_is_checked_from_the_levels_centre():
    sp = np.array([0.5, 0.5, 0.5])
    norm = _column_scene([(1.0, 10), (0.05, 20)])
    off_midline = np.zeros(norm.shape, bool)
    off_midline[0, 5:20, :] = True  # the column i = 2 holds none of it
    assert brainstem_position_check(norm, LEVELS, _brainstem(off_midline, 20.0), sp).passed
    assert not brainstem_position_check(norm, LEVELS, _brainstem(off_midline, 35.0), sp).passed


def test_a_brainstem_of_a_brainstems_size_passes_and_a_speck_or_a_block_fails():
    sp = np.array([0.5, 0.5, 0.5])
    mask = np.zeros((80, 80, 80), bool)
    ii, jj = np.meshgrid(np.arange(80), np.arange(80), indexing="ij")
    mask[((ii - 40) / 18) ** 2 + ((jj - 40) / 14) ** 2 <= 1] = True  # 18 x 14 mm section
    check = brainstem_size_check(_brainstem(mask), sp)
    assert check.name == "brainstem_size" and check.passed
    assert abs(float(check.value) - np.pi * 9 * 7) < 10  # mm2
    speck = np.zeros_like(mask)
    speck[38:42, 38:42, 30:50] = True  # 2 x 2 mm over 10 mm (a misread tissue level)
    failed = brainstem_size_check(_brainstem(speck), sp)
    assert not failed.passed and "not a brainstem's" in failed.reason
    short = np.zeros_like(mask)
    short[:, :, 30:60] = mask[:, :, 30:60]  # the right section over 15 mm only
    assert not brainstem_size_check(_brainstem(short), sp).passed
    block = np.ones_like(mask)  # 40 x 40 mm of section: more than a pons
    assert not brainstem_size_check(_brainstem(block), sp).passed


def test_the_case_checks_a_review_keeps_are_named_as_the_case_measures_them():
    sp = np.array([0.5, 0.5, 0.5])
    mask = np.zeros((40, 40, 60), bool)
    mask[10:30, 10:30, :] = True
    norm = np.where(mask, LEVELS.tissue, 1.0).astype(np.float32)
    checks = (
        registration_check(registration_ok=True, agreement=0.9, minimum=0.6),
        brainstem_position_check(norm, LEVELS, _brainstem(mask), sp),
        brainstem_size_check(_brainstem(mask), sp),
    )
    assert tuple(c.name for c in checks) == CASE_CHECKS

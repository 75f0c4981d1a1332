"""Self-checks: a traced nerve outside anatomy, unlabelled TOF signal, a failed registration."""

from __future__ import annotations

import numpy as np

from nvc.nerve_geometry import NerveGeometry
from nvc.quality import (
    SelfCheckParams,
    SideQuality,
    nerve_checks,
    registration_check,
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
    assert not symptomatic_check(symptomatic=True, any_vessel_near=False).passed
    assert symptomatic_check(symptomatic=True, any_vessel_near=True).passed
    assert symptomatic_check(symptomatic=None, any_vessel_near=False).passed
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

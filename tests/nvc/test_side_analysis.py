"""One side's analysis on a synthetic scene: a nerve leaving a flat brainstem, an artery on it."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from nvc.nerve_geometry import brainstem_surface_distance
from nvc.nerves import NerveTrace
from nvc.quality import SelfCheckParams, registration_check
from nvc.side_analysis import CaseAnatomy, analyse_side
from nvc.vessel_names import artery_tree

SP = np.array([0.5, 0.5, 0.5])
SHAPE = (40, 30, 60)
#: CN VII on the brainstem's surface (i = 10) for 7.5 mm, then leaving it at 45 degrees.
PATH = np.array(
    [(10, 15, k) for k in range(10, 26)] + [(10 + n, 15, 26 + n) for n in range(1, 25)], float
)
GOOD = registration_check(registration_ok=True, agreement=0.9, minimum=0.6)
POOR = registration_check(registration_ok=False, agreement=0.2, minimum=0.6)


def _tube(points, radius_mm: float) -> np.ndarray:
    """Voxels within ``radius_mm`` of a polyline (voxel indices)."""
    idx = np.indices(SHAPE).reshape(3, -1).T.astype(float)
    mask = np.zeros(SHAPE, bool)
    for a, b in itertools.pairwise(np.asarray(points, float)):
        ab = b - a
        t = np.clip(((idx - a) @ ab) / (ab @ ab), 0, 1)
        d = np.linalg.norm((idx - a - t[:, None] * ab) * SP, axis=1)
        mask.reshape(-1)[d <= radius_mm] = True
    return mask


def _scene(with_artery: bool = True) -> tuple[NerveTrace, CaseAnatomy]:
    """The right CN VII (radius 0.75 mm) and, when asked, an artery touching its attached
    segment 5 mm from the root exit point (an AICA crossing it on its lateral side)."""
    brainstem = np.zeros(SHAPE, bool)
    brainstem[:10] = True
    nerve = _tube(PATH, 0.75)
    artery = _tube([(13.5, 0, 20), (13.5, 29, 20)], 0.8) if with_artery else np.zeros(SHAPE, bool)
    norm = np.ones(SHAPE, np.float32)
    norm[brainstem] = 0.4
    norm[nerve | artery] = 0.1
    anatomy = CaseAnatomy(
        norm=norm,
        arteries=artery,
        veins=np.zeros(SHAPE, bool),
        tof_bright=artery.copy(),
        brainstem_distance_mm=brainstem_surface_distance(brainstem, SP, radius_mm=2.0),
        tree=artery_tree(artery, SP, midline_i=0.0, pmj_k=0),
        affine=np.diag([*SP, 1.0]),
        spacing=SP,
    )
    trace = NerveTrace(
        side="right",
        found=True,
        reason="",
        cn7_path=PATH,
        rdp_index=15,
        cn8_path=None,
        cn7=nerve,
        cn8=np.zeros(SHAPE, bool),
        path_cost=2.0,
        separated=True,
    )
    return trace, anatomy


@pytest.fixture(scope="module")
def scene() -> tuple[NerveTrace, CaseAnatomy]:
    return _scene()


def _analyse(trace, anatomy, *, symptomatic=True, registration_ok=True, case_checks=(GOOD,)):
    return analyse_side(
        trace,
        anatomy,
        symptomatic=symptomatic,
        registration_ok=registration_ok,
        voxel_mm=0.5,
        case_checks=case_checks,
    )


def test_an_artery_on_the_attached_segment_of_the_symptomatic_side_is_an_mvd_candidate(scene):
    result = _analyse(*scene)
    f = result.findings
    assert result.geometry is not None
    assert result.geometry.rdp_mm == pytest.approx(7.5, abs=0.5)
    assert f.side == "right" and f.nerve_found and f.nvc and f.mvd_candidate
    assert not f.needs_review and f.confidence > SelfCheckParams().review_confidence
    assert f.rdp_mm == pytest.approx(7.5, abs=0.5)
    assert f.nerve_length_mm == pytest.approx(7.5 + 12 * np.sqrt(2), abs=1.0)
    (contact,) = f.contacts
    assert contact.vessel_class == "artery" and contact.segment == "AS"
    assert contact.in_vulnerable_zone and contact.grade is not None
    assert contact.distance_from_rexp_mm == pytest.approx(5.0, abs=0.5)
    # the MVD plan: the same artery is the nearest and the primary offender
    assert f.offender is not None and f.offender.vessel_name == contact.vessel_name
    assert f.nearest_arteries[0].vessel_name == contact.vessel_name
    # the case's checks come first, then the side's own
    assert list(f.quality["checks"])[:2] == ["registration", "cn8_traced_apart"]


def test_a_poor_registration_gives_no_mvd_candidate_and_needs_review(scene):
    f = _analyse(*scene, registration_ok=False, case_checks=(POOR,)).findings
    assert f.nvc and not f.mvd_candidate
    assert f.needs_review and f.review_reasons == (POOR.reason,)
    assert f.reasons[0] == POOR.reason
    assert f.confidence <= SelfCheckParams().review_confidence


def test_the_side_without_spasm_has_compression_but_is_no_candidate(scene):
    f = _analyse(*scene, symptomatic=False).findings
    assert f.nvc and not f.mvd_candidate and not f.needs_review


def test_no_artery_near_the_nerve_is_no_compression_and_a_symptomatic_side_needs_review():
    trace, anatomy = _scene(with_artery=False)
    symptomatic = _analyse(trace, anatomy).findings
    assert not symptomatic.nvc and not symptomatic.mvd_candidate
    assert symptomatic.contacts == () and symptomatic.offender is None
    assert symptomatic.nearest_arteries == ()
    assert symptomatic.needs_review
    assert not symptomatic.quality["checks"]["vessel_on_symptomatic_side"]["passed"]
    assert not _analyse(trace, anatomy, symptomatic=None).findings.needs_review


def test_unlabelled_tof_signal_beside_the_nerve_makes_the_side_need_review(scene):
    trace, anatomy = scene
    blob = np.zeros(SHAPE, bool)
    blob[30:34, 13:17, 44:48] = True  # 8 mm3 of TOF signal on the cisternal nerve, unlabelled
    f = _analyse(trace, replace(anatomy, tof_bright=anatomy.tof_bright | blob)).findings
    assert f.needs_review
    assert not f.quality["checks"]["unlabelled_tof_near_nerve"]["passed"]


def test_a_nerve_not_found_needs_review_with_the_reason_and_has_no_geometry(scene):
    trace, anatomy = scene
    lost = replace(trace, found=False, reason="no dark tube enters the canal")
    result = _analyse(lost, anatomy)
    f = result.findings
    assert result.geometry is None
    assert not f.nerve_found and not f.nvc and not f.mvd_candidate and f.confidence == 0.0
    assert f.needs_review
    reason = "facial nerve not found: no dark tube enters the canal"
    assert f.reasons == f.review_reasons == (reason,)
    assert list(f.quality["checks"]) == ["registration"]

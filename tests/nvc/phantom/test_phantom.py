"""The phantom: truth measured on the geometry agrees with what was asked and what is rendered."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from nvc.labels import Label
from nvc.phantom import PhantomParams, SideParams, draw_params
from nvc.phantom.anatomy import build_anatomy
from nvc.phantom.curves import arc_length
from nvc.phantom.params import ImagingParams
from nvc.phantom.render import render
from nvc.phantom.truth import measure_truth
from nvc.volume import resample_to

SIDE_CASES = [
    SideParams(scenario="nvc", offender="AICA", segment="AS", gap_mm=0.0),
    SideParams(scenario="near", offender="PICA", segment="RDP", gap_mm=1.5, exit_azimuth_deg=30.0),
    SideParams(scenario="nvc", offender="VA", segment="RExP", indentation_mm=0.5, approach_deg=-30),
    SideParams(scenario="vein", offender="vein", segment="TZ", attached_length_mm=6.5),
    SideParams(scenario="distal", offender="AICA", segment="cisternal", indentation_mm=0.4),
    SideParams(scenario="near", offender="AICA", segment="AS", gap_mm=2.6, attached_length_mm=9.5),
]


def _truth(params: PhantomParams):
    anatomy = build_anatomy(params)
    return anatomy, measure_truth(anatomy, params, np.eye(4), np.eye(4))


@pytest.mark.parametrize(
    "side_params", SIDE_CASES, ids=lambda p: f"{p.offender}-{p.segment}-{p.gap_mm}"
)
def test_offender_lands_where_asked(side_params):
    params = PhantomParams(seed=1, hfs_side="right", right=side_params)
    _, truth = _truth(params)
    t = truth.sides["right"]
    assert t.offender == side_params.offender
    assert t.gap_mm == pytest.approx(side_params.gap_mm, abs=0.01)
    assert t.segment == side_params.segment
    assert t.vessel_class == ("vein" if side_params.offender == "vein" else "artery")
    # the nerve's attached length is the one asked for
    assert t.rdp_mm == pytest.approx(side_params.attached_length_mm, abs=0.1)
    # no other vessel comes within 2 mm of CN VII
    listed = [c.vessel_name for c in t.contacts]
    assert listed == ([side_params.offender] if side_params.gap_mm <= 2.0 else [])


@pytest.mark.parametrize("side_params", SIDE_CASES[:4], ids=lambda p: f"{p.offender}-{p.segment}")
def test_rendered_gap_on_a_fine_grid_matches_the_request(side_params):
    params = PhantomParams(seed=1, hfs_side="right", right=side_params)
    anatomy, truth = _truth(params)
    contact = truth.sides["right"].contacts[0]
    h = 0.05
    n = 100
    affine = np.diag([h, h, h, 1.0])
    affine[:3, 3] = np.array(contact.location_ras_mm) - h * (n - 1) / 2
    labels = render(anatomy, affine, (n, n, n), np.eye(4), ImagingParams()).labels
    nerve = labels == Label.CN7
    vessel = labels == (Label.VEIN if side_params.offender == "vein" else Label.ARTERY)
    assert nerve.any() and vessel.any()
    dist = ndimage.distance_transform_edt(~vessel, sampling=h)
    measured = float(dist[nerve].min()) - h  # centre-to-centre minus one voxel = surface gap
    assert measured == pytest.approx(side_params.gap_mm, abs=0.1)


def test_indentation_displaces_the_nerve_by_the_requested_depth():
    base = SideParams(scenario="nvc", offender="AICA", segment="AS")
    plain = build_anatomy(PhantomParams(right=base)).cn7["right"].centerline
    bent = (
        build_anatomy(PhantomParams(right=replace(base, indentation_mm=0.6)))
        .cn7["right"]
        .centerline
    )
    shift = np.linalg.norm(bent - plain, axis=1)
    assert shift.max() == pytest.approx(0.6, abs=0.02)
    # the displacement is local: the two ends have not moved
    assert shift[0] < 0.01 and shift[-1] < 0.01


def test_scenarios_set_nvc_and_mvd_truth():
    cases = {
        "nvc": SideParams(scenario="nvc", offender="PICA", segment="AS"),
        "near": SideParams(scenario="near", offender="AICA", segment="AS", gap_mm=2.0),
        "distal": SideParams(scenario="distal", offender="AICA", segment="cisternal"),
        "vein": SideParams(scenario="vein", offender="vein", segment="AS"),
    }
    for name, sp in cases.items():
        _, truth = _truth(PhantomParams(hfs_side="right", right=sp))
        t = truth.sides["right"]
        assert t.nvc == (name in ("nvc", "vein")), name
        assert t.mvd_candidate == (name == "nvc"), name
    _, truth = _truth(PhantomParams(hfs_side="left", right=cases["nvc"]))
    assert truth.sides["right"].nvc and not truth.sides["right"].mvd_candidate


def test_draw_params_is_reproducible_and_varied():
    assert draw_params(5) == draw_params(5)
    drawn = [draw_params(s) for s in range(60)]
    assert {p.hfs_side for p in drawn} == {"left", "right"}
    offenders = {p.side(p.hfs_side).offender for p in drawn}
    assert offenders == {"AICA", "PICA", "VA"}
    assert {p.imaging.t2_orientation for p in drawn} >= {"RAS", "LPS", "coronal", "sagittal"}
    spacing = np.array([p.imaging.t2_spacing_mm[0] for p in drawn])
    assert spacing.min() >= 0.4 and spacing.max() <= 0.7 and np.ptp(spacing) > 0.2
    for p in drawn:
        sym = p.side(p.hfs_side)
        assert sym.scenario == "nvc" and sym.segment in ("RExP", "AS", "RDP", "TZ")
        assert 10 <= p.imaging.t2_snr <= 30


def test_anatomy_is_deterministic():
    a = build_anatomy(draw_params(3))
    b = build_anatomy(draw_params(3))
    for ta, tb in zip(a.tubes, b.tubes, strict=True):
        np.testing.assert_array_equal(ta.curve, tb.curve)


def test_cn7_course_lengths():
    anatomy = build_anatomy(draw_params(8))
    for side, course in anatomy.cn7.items():
        cisternal = course.porus_mm - course.rdp_mm
        assert 11.0 <= cisternal <= 17.0, side
        assert 6.0 <= course.rdp_mm <= 10.0
        assert arc_length(course.centerline)[-1] > course.porus_mm


def test_case_images_look_like_ciss_and_tof(phantom_case):
    case = phantom_case
    labels = case.labels.array
    t2 = case.t2.array.astype(float)
    med = {
        lab: np.median(t2[labels == lab])
        for lab in (Label.CSF, Label.BRAINSTEM, Label.CN7, Label.ARTERY)
    }
    # thin nerves and vessels (2-4 voxels across) are darkened by partial volume, not black
    assert med[Label.BRAINSTEM] < 0.45 * med[Label.CSF]
    assert med[Label.CN7] < 0.6 * med[Label.CSF]
    assert np.percentile(t2[labels == Label.ARTERY], 25) < med[Label.BRAINSTEM]
    # the TOF, brought onto the T2 grid with the truth transform: arteries bright, veins dark
    tof = resample_to(case.mra, case.t2, world_transform=case.truth.t2_to_mra).array
    core = ndimage.binary_erosion(labels == Label.ARTERY)
    assert np.median(tof[core]) > 2.5 * np.median(tof[labels == Label.BRAINSTEM])
    assert np.median(tof[labels == Label.VEIN]) < np.median(tof[labels == Label.BRAINSTEM])


def test_case_grids_differ_and_are_integer(phantom_case):
    case = phantom_case
    assert case.t2.array.dtype == np.int16 and case.mra.array.dtype == np.int16
    assert not np.allclose(case.t2.affine, case.mra.affine)
    assert case.mra.spacing[2] > 1.4 * case.mra.spacing[0]
    assert case.labels.shape == case.t2.shape
    rot = case.truth.t2_to_mra[:3, :3]
    np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-9)

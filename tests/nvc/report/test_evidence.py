"""The report shows the evidence: verdict colours and words, nearest arteries, planes, 3D."""

from __future__ import annotations

import itertools
import subprocess

import numpy as np
import pytest

from nvc.findings import Findings
from nvc.io.resources import package_text
from nvc.labels import Label
from nvc.report.case import Centerline, ReportCase
from nvc.report.content import build_report
from nvc.report.cpr import brainstem_surface_mm, straightened
from nvc.report.html import render_html
from nvc.report.layout import parse_layout
from nvc.report.pdf import render_pdf
from nvc.report.render3d import THIN_LEVEL, crop_box, mesh_components
from nvc.report.slices import oblique_plane, plane_grid, sample
from nvc.report.surfaces import label_surface
from nvc.volume import Volume

SP = 0.5
SHAPE = (80, 60, 60)
AFFINE = np.diag([SP, SP, SP, 1.0])
VERDICTS_ONLY = """
title = "t"
[[sections]]
id = "summary"
title = "Verdict per side"
blocks = ["verdicts", "vertebrobasilar"]
"""


def _tube(points_vox, radius_mm, shape=SHAPE):
    mask = np.zeros(shape, bool)
    idx = np.indices(shape).reshape(3, -1).T
    for a, b in itertools.pairwise(np.asarray(points_vox, float)):
        ab = b - a
        t = np.clip(((idx - a) @ ab) / max(ab @ ab, 1e-9), 0, 1)
        d = np.linalg.norm((idx - a - t[:, None] * ab) * SP, axis=1)
        mask.reshape(-1)[d <= radius_mm] = True
    return mask


def _side(contacts=(), nearest=(), tof_mm3=0.0, nvc=False, review=False):
    return {
        "nerve_found": True,
        "nvc": nvc,
        "mvd_candidate": False,
        "confidence": 0.8,
        "reasons": ["a reason"],
        "contacts": list(contacts),
        "rdp_mm": 7.0,
        "needs_review": review,
        "nearest_arteries": list(nearest),
        "quality": {
            "checks": {
                "unlabelled_tof_near_nerve": {
                    "passed": tof_mm3 < 0.8,
                    "value": tof_mm3,
                    "allowed": "< 0.8 mm3 within 2 mm of CN VII",
                }
            }
        },
    }


def _case(sides, *, centerlines=None, labels=None, symptomatic="right", **extra):
    labels = np.zeros(SHAPE, np.uint8) if labels is None else labels
    t2 = Volume(np.where(labels > 0, 0.2, 1.0).astype(np.float32), AFFINE)
    findings = {
        "schema_version": "1.0",
        "symptomatic_side": symptomatic,
        "sides": {side: {"side": side} | s for side, s in sides.items()},
    }
    findings |= extra
    return ReportCase(
        findings=Findings.from_dict(findings),
        t2=t2,
        labels=Volume(labels, AFFINE),
        mra_registered=t2,
        centerlines=centerlines or {},
    )


def _verdicts_report(case):
    layout = parse_layout(VERDICTS_ONLY)
    report = build_report(case, layout)
    html = render_html(report, package_text("nvc.report", "report.html.j2"))
    return report, html


NEAREST = {
    "vessel_name": "PICA",
    "distance_mm": 3.4,
    "segment": "AS",
    "distance_from_rexp_mm": 4.0,
    "location_ras_mm": [1.0, 2.0, 3.0],
}


def test_symptomatic_side_without_offender_is_amber_and_says_review_the_images():
    case = _case({"right": _side(nearest=[NEAREST]), "left": _side()})
    report, html = _verdicts_report(case)
    right, left = report.sections[0].blocks[:2]
    assert right.side == "right" and right.status == "review"
    assert "no offender found" in right.finding and "review the images" in right.finding
    assert left.status == "negative"  # not symptomatic: a plain green no
    assert 'data-side="right" data-status="review"' in html
    assert "status-negative" in html and html.count("status-review") >= 1
    assert "MVD candidate" not in html  # the finding, not advice
    pdf = render_pdf(report)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "review the images" in " ".join(text.split())


def test_a_negative_side_lists_its_nearest_artery_with_distance_and_segment():
    case = _case({"right": _side(), "left": _side(nearest=[NEAREST])})
    report, html = _verdicts_report(case)
    left = next(b for b in report.sections[0].blocks if getattr(b, "side", "") == "left")
    line = next(e for e in left.evidence if e.startswith("Nearest artery"))
    assert "PICA 3.4 mm" in line and "attached segment" in line
    assert "Nearest artery: PICA 3.4 mm" in html


def test_unsegmented_tof_signal_is_its_own_line_and_confidence_is_explained():
    case = _case({"right": _side(tof_mm3=2.5, review=True), "left": _side()})
    report, _ = _verdicts_report(case)
    right = report.sections[0].blocks[0]
    tof = [e for e in right.evidence if e.startswith("Unsegmented TOF signal near the nerve")]
    assert len(tof) == 1 and "2.5 mm³" in tof[0] and "may be the offender" in tof[0]
    assert right.status == "review"
    assert "not a probability" in right.confidence_note
    assert "0.5 mm contact threshold" in right.confidence_note


def test_arterial_compression_is_red_on_either_side_and_the_offender_is_described():
    contact = {
        "vessel_class": "artery",
        "vessel_name": "AICA",
        "min_distance_mm": 0.1,
        "segment": "AS",
        "distance_from_rexp_mm": 4.0,
        "in_vulnerable_zone": True,
        "grade": "contact",
        "indentation_mm": 0.4,
        "position": "anterior",
        "contact_length_mm": 2.0,
        "location_ras_mm": [1.0, 2.0, 3.0],
    }
    offender = {
        "contact_index": 0,
        "description": "AICA from the BA, caudal loop, anterior to the attached segment",
        "indentation_mm": 0.4,
        "to_porus_mm": 12.0,
        "to_porus_along_nerve_mm": 14.0,
        "why_primary": "the only artery touching the vulnerable zone",
    }
    side = _side(contacts=[contact], nvc=True) | {"offender": offender}
    vb = {"summary": "basilar artery deviated to the right (3.0 mm from the midline)"}
    vb |= {"basilar_deviation": "right", "vertebral_deviation": "midline"}
    case = _case({"right": side, "left": _side()}, vertebrobasilar=vb)
    report, html = _verdicts_report(case)
    right = report.sections[0].blocks[0]
    assert right.status == "positive" and right.finding.endswith("YES")
    assert any("Primary offender: AICA from the BA, caudal loop" in e for e in right.evidence)
    assert "toward the symptomatic (right) side" in html


def _nerve_case():
    """CN VII along i at j=30, k=30; an artery touching its superior surface at i=40."""
    labels = np.zeros(SHAPE, np.uint8)
    labels[_tube([(10, 30, 30), (70, 30, 30)], 0.8)] = Label.CN7
    labels[_tube([(40, 15, 33), (40, 45, 33)], 0.8)] = Label.ARTERY
    labels[:10, :, :] = Label.BRAINSTEM
    pts = np.array([(i, 30, 30) for i in np.arange(10, 70.1, 0.5)]) * SP
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    line = Centerline(pts, arc, tuple("AS" for _ in arc))
    return labels, line


def test_oblique_plane_through_a_superior_contact_shows_the_nerve_and_the_vessel():
    labels, line = _nerve_case()
    case = _case({"right": _side()}, centerlines={"right": line}, labels=labels)
    contact = np.array([40, 30, 31.6]) * SP  # on the nerve's superior surface
    vessel = np.array([40, 30, 33]) * SP
    plane = oblique_plane(line, contact, vessel)
    grid = plane_grid(plane.centre, plane.right, plane.up, half_width_mm=6.0, pixel_mm=0.2)
    lab = sample(case.labels, grid.points, order=0)
    assert (lab == Label.CN7).sum() > 100 and (lab == Label.ARTERY).sum() > 20
    assert plane.up[2] > 0.99  # the vessel above, superior up
    assert plane.right[0] < 0  # radiological: the screen's right toward the patient's left
    # an axial plane through the same contact, above the nerve's axis, misses the nerve
    axial = plane_grid(contact, (-1, 0, 0), (0, 1, 0), half_width_mm=6.0, pixel_mm=0.2)
    assert (sample(case.labels, axial.points, order=0) == Label.CN7).sum() == 0


def test_cpr_starts_inside_the_brainstem_and_finds_its_surface():
    labels, line = _nerve_case()
    case = _case({"right": _side()}, centerlines={"right": line}, labels=labels)
    inward = np.array([-1.0, 0.0, 0.0])
    _, lab, extent = straightened(
        case,
        line,
        np.array([0.0, 0.0, 1.0]),
        half_height_mm=3.0,
        step_mm=0.1,
        inside_mm=5.0,
        inward=inward,
    )
    assert extent[0] == pytest.approx(-5.0)
    # the brainstem fills i < 10 (x < 5 mm); the nerve starts at x = 5 mm
    assert brainstem_surface_mm(lab, extent) == pytest.approx(-0.25, abs=0.35)


def test_a_thin_oblique_vessel_is_one_surface_and_the_crop_keeps_it_whole():
    vessel = _tube([(5, 5, 5), (70, 50, 55)], 0.45)  # about one voxel across, oblique
    mesh = label_surface(vessel, AFFINE, smoothing_vox=0.5, level=THIN_LEVEL)
    assert mesh_components(mesh) == 1
    labels, line = _nerve_case()
    # an artery running from beside the nerve to far outside the nerve's box
    labels[_tube([(45, 30, 35), (45, 30, 58), (78, 55, 58)], 0.8)] = Label.ARTERY
    case = _case({"right": _side()}, centerlines={"right": line}, labels=labels)
    box = crop_box(case, margin_mm=2.0, vessel_reach_mm=30.0)
    assert box[2].stop >= 58 and box[0].stop >= 78

"""Recompute from a reader's corrections; the review revision beside the automated outputs."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest

from nvc.findings import Findings
from nvc.io import load_volume, save_label_map
from nvc.io.markups import slicer_markups, write_markups
from nvc.io.results import load_results
from nvc.labels import Label
from nvc.review import point_at, vessel_piece
from nvc_pipelines.cli import main
from nvc_pipelines.review import Edits, landmark_edit, open_review, recompute, save

AUTOMATED = (
    "findings.json",
    "labels.nii.gz",
    "labels.tsv",
    "cn7_centerline_left.tsv",
    "cn7_centerline_right.tsv",
)


def _hashes(folder):
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in AUTOMATED}


@pytest.fixture(scope="module")
def context(analysed_phantom):
    return open_review(analysed_phantom.results)


@pytest.fixture
def folder(analysed_phantom, tmp_path):
    out = tmp_path / "results"
    shutil.copytree(analysed_phantom.results, out, ignore=shutil.ignore_patterns("report"))
    return out


def _offender_piece(case):
    """The artery voxels of the right side's contact (its piece within 10 mm)."""
    labels = np.asarray(case.labels.array)
    loc = np.asarray(case.findings.sides["right"].contacts[0].location_ras_mm)
    ijk = case.labels.world_to_voxel(loc)
    art = np.argwhere(labels == Label.ARTERY)
    seed = tuple(art[np.argmin(np.linalg.norm((art - ijk) * case.labels.spacing, axis=1))])
    return vessel_piece(labels, seed, case.labels.spacing)


def test_recompute_without_edits_gives_the_automated_findings(analysed_phantom, context):
    reviewed = recompute(analysed_phantom.results, Edits(), context=context)
    auto = context.automated
    for side in ("left", "right"):
        a, r = auto.sides[side], reviewed.findings.sides[side]
        assert (r.nvc, r.mvd_candidate, r.rdp_mm, r.nerve_length_mm) == (
            a.nvc,
            a.mvd_candidate,
            a.rdp_mm,
            a.nerve_length_mm,
        )
        assert r.contacts == a.contacts
        # the MVD-plan content is described again from the (unedited) anatomy
        assert r.nearest_arteries == a.nearest_arteries
        assert r.offender == a.offender
    assert np.array_equal(reviewed.labels.array, analysed_phantom.result.labels.array)
    assert reviewed.findings.review is not None and reviewed.findings.review.edits == ()
    assert reviewed.findings.review.automated["right"].nvc


def test_a_deleted_offender_is_no_longer_described(analysed_phantom, context):
    auto = context.automated.sides["right"]
    assert auto.offender is not None
    labels = np.asarray(analysed_phantom.result.labels.array).copy()
    labels[labels == Label.ARTERY] = 0  # the reader removes every artery
    edited = analysed_phantom.result.labels.with_array(labels)
    reviewed = recompute(analysed_phantom.results, Edits(labels=edited), context=context)
    side = reviewed.findings.sides["right"]
    assert side.offender is None and side.nearest_arteries == ()


def test_moving_the_rdp_changes_the_contact_segment(analysed_phantom, context):
    auto = context.automated.sides["right"]
    assert auto.contacts[0].segment == "AS"
    course = context.case.centerlines["right"].points_ras
    moved = point_at(course, auto.rdp_mm - 3.0)  # 3 mm towards the root exit point
    edits = Edits(log=(landmark_edit("right", "RDP", moved),))
    reviewed = recompute(analysed_phantom.results, edits, context=context)
    side = reviewed.findings.sides["right"]
    assert side.rdp_mm == pytest.approx(auto.rdp_mm - 3.0, abs=0.05)
    assert side.contacts[0].segment == "RDP"
    assert side.contacts[0].distance_from_rexp_mm == auto.contacts[0].distance_from_rexp_mm


def test_moving_the_rexp_along_the_course_shortens_it(analysed_phantom, context):
    course = context.case.centerlines["right"].points_ras
    auto = context.automated.sides["right"]
    edits = Edits(log=(landmark_edit("right", "RExP", point_at(course, 2.0), course),))
    side = recompute(analysed_phantom.results, edits, context=context).findings.sides["right"]
    assert side.nerve_length_mm == pytest.approx(auto.nerve_length_mm - 2.0, abs=0.3)
    # the detachment point stays where it was on the brainstem
    assert side.rdp_mm == pytest.approx(auto.rdp_mm - 2.0, abs=0.3)


def test_nvc_recompute_from_an_edited_label_map(analysed_phantom, folder, context, capsys):
    before = _hashes(folder)
    case = load_results(folder)
    labels = np.asarray(case.labels.array).copy()
    labels[_offender_piece(case)] = 0  # the reader deletes the offender in ITK-SNAP
    edited = save_label_map(case.labels.with_array(labels), folder.parent / "edited.nii.gz")
    assert main(["recompute", str(folder), "--labels", str(edited), "--reader", "AB"]) == 0
    out = capsys.readouterr().out
    assert "right: no NVC (automated: NVC)" in out
    assert _hashes(folder) == before  # the automated outputs are untouched
    saved = Findings.from_json((folder / "findings_reviewed.json").read_text())
    assert saved.review is not None and saved.review.reader == "AB"
    assert saved.review.automated["right"].nvc and not saved.sides["right"].nvc
    assert "artery -> background" in saved.review.edits[-1].description
    # the same edit through the function the widget calls gives the same findings
    direct = recompute(analysed_phantom.results, Edits(labels=load_volume(edited)), context=context)
    assert direct.findings.sides == saved.sides
    # reopening shows the reviewed state, the automated one kept beside
    again = load_results(folder)
    assert again.reviewed and again.automated is not None and again.automated.sides["right"].nvc
    assert not np.any(np.asarray(again.labels.array)[_offender_piece(case)] == Label.ARTERY)
    assert (folder / "cn7_centerline_reviewed_right.tsv").is_file()
    # discarding leaves the automated outputs as they were
    assert main(["recompute", str(folder), "--discard"]) == 0
    assert not (folder / "findings_reviewed.json").exists()
    assert not (folder / "labels_reviewed.nii.gz").exists()
    assert _hashes(folder) == before and not load_results(folder).reviewed


def test_nvc_recompute_refuses_bad_input_in_one_line(folder, tmp_path, capsys):
    assert main(["recompute", str(tmp_path / "nowhere")]) == 2
    bad = tmp_path / "bad.nii.gz"
    bad.write_bytes(b"not an image")
    assert main(["recompute", str(folder), "--labels", str(bad)]) == 3
    other = load_volume(folder / "t2.nii.gz")
    small = type(other)(np.zeros((5, 5, 5), np.uint8), other.affine)
    save_label_map(small, tmp_path / "small.nii.gz")
    assert main(["recompute", str(folder), "--labels", str(tmp_path / "small.nii.gz")]) == 3
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln]
    assert len(lines) == 3 and all(ln.startswith("nvc: error:") for ln in lines)
    assert "Traceback" not in err


def test_markups_state_their_coordinate_system(analysed_phantom, tmp_path):
    case = load_results(analysed_phantom.results)
    docs = slicer_markups(case.findings, case.centerlines)
    assert set(docs) == {
        "cn7_left.mrk.json",
        "cn7_right.mrk.json",
        "landmarks.mrk.json",
        "contacts.mrk.json",
    }
    curve = docs["cn7_right.mrk.json"]["markups"][0]
    assert curve["type"] == "Curve" and curve["coordinateSystem"] == "LPS"
    first = np.asarray(curve["controlPoints"][0]["position"])
    rexp = case.centerlines["right"].points_ras[0]
    np.testing.assert_allclose(first, [-rexp[0], -rexp[1], rexp[2]], atol=1e-3)
    contact = docs["contacts.mrk.json"]["markups"][0]["controlPoints"][0]
    loc = case.findings.sides["right"].contacts[0].location_ras_mm
    np.testing.assert_allclose(contact["position"], [-loc[0], -loc[1], loc[2]], atol=1e-3)
    assert contact["label"].startswith("R1 AICA")
    names = [p["label"] for p in docs["landmarks.mrk.json"]["markups"][0]["controlPoints"]]
    assert names[:3] == ["left RExP", "left RDP", "left porus"]
    written = write_markups(tmp_path, case.findings, case.centerlines, reference=case.t2)
    assert json.loads(written[0].read_text())["markups"]
    lab = load_volume(tmp_path / "landmarks_itksnap.nii.gz")
    ijk = np.round(lab.world_to_voxel(loc)).astype(int)
    value = int(np.asarray(lab.array)[tuple(ijk)])
    table = (tmp_path / "landmarks_itksnap.txt").read_text()
    assert value > 0 and f'"{contact["label"]}"' in table.splitlines()[5 + value]


def test_the_report_marks_every_page_reviewed_or_not(folder, context):
    from nvc.io.resources import package_text
    from nvc.report.content import BLOCKS, build_report
    from nvc.report.layout import parse_layout

    layout = parse_layout(package_text("nvc.report", "layout.toml"), known_blocks=frozenset(BLOCKS))
    layout = type(layout)(
        layout.title, tuple(s for s in layout.sections if s.id == "summary"), layout.captions
    )
    automated = build_report(load_results(folder), layout)
    assert automated.review_status == "automated, not reviewed"
    course = context.case.centerlines["right"].points_ras
    rdp = point_at(course, context.automated.sides["right"].rdp_mm - 3.0)
    edits = Edits(log=(landmark_edit("right", "RDP", rdp),), reader="<b>AB</b>")
    save(folder, recompute(folder, edits, context=context))
    report = build_report(load_results(folder), layout)
    assert report.review_status.startswith("reviewed by reader <b>AB</b>")
    facts = [b for s in report.sections for b in s.blocks if hasattr(b, "rows")]
    text = json.dumps([list(map(list, b.rows)) for b in facts])
    assert "right RDP moved to" in text
    assert (folder / "review_markups" / "landmarks.mrk.json").is_file()


def test_a_redrawn_course_rebuilds_the_nerve_around_it(analysed_phantom, context):
    from scipy.spatial import cKDTree

    from nvc.review import control_points
    from nvc_pipelines.review import course_edit

    course = context.case.centerlines["left"].points_ras
    moved = control_points(course) + np.array([0.0, 1.5, 0.0])  # 1.5 mm anterior
    moved[0] = course[0]  # from the same root exit point
    cn8 = context.cn8_courses()["left"] + np.array([0.0, -1.0, 0.0])
    log = (course_edit("left", moved), course_edit("left", cn8, nerve="CN8"))
    reviewed = recompute(analysed_phantom.results, Edits(log=log), context=context)
    labels = reviewed.labels
    left = reviewed.centerlines["left"]
    assert np.linalg.norm(left.points_ras[-1] - moved[-1]) < 1e-6
    world = labels.voxel_to_world(np.argwhere(np.asarray(labels.array) == Label.CN7))
    near_new = cKDTree(left.points_ras).query(world)[0] <= 1.5
    near_old = cKDTree(course).query(world)[0] <= 0.3
    right = cKDTree(context.case.centerlines["right"].points_ras).query(world)[0] <= 3.0
    # the left CN VII lies around its new course (the canal part beyond the porus stays)
    assert near_new.sum() > 0.5 * (~right).sum() and (near_old & ~near_new).sum() < 10
    cn8_world = labels.voxel_to_world(np.argwhere(np.asarray(labels.array) == Label.CN8))
    assert (cKDTree(cn8).query(cn8_world)[0] <= 1.6).sum() > 50
    side = reviewed.findings.sides["left"]
    assert side.cn8_separated and side.quality["checks"]["cn8_traced_apart"]["passed"]
    assert [e.kind for e in reviewed.findings.review.edits][:2] == ["course", "course"]


def test_label_edits_outside_the_analysed_box_are_kept(analysed_phantom, context):
    from nvc.volume import reorient_canonical, reorient_like

    canon = np.asarray(reorient_canonical(context.case.labels).array).copy()
    inside = np.zeros(canon.shape, bool)
    inside[context.roi] = True
    assert not inside.all(), "the test phantom's analysed box is smaller than its grid"
    ijk = tuple(np.argwhere(~inside)[0])
    canon[ijk] = Label.VEIN
    edited = reorient_like(context.t2c.with_array(canon), context.case.t2)
    reviewed = recompute(analysed_phantom.results, Edits(labels=edited), context=context)
    assert np.array_equal(reviewed.labels.array, edited.array)
    assert "-> vein: 1 voxels" in reviewed.findings.review.edits[-1].description

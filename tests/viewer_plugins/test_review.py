"""The Review step driven as a reader would, in a real napari viewer (under xvfb-run)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys

import numpy as np
import pytest

from nvc.findings import Findings
from nvc.io import load_volume, save_label_map
from nvc.review import point_at
from nvc_napari.layers import axial_outlines, display_volume, napari_volume, to_world
from nvc_pipelines.cli import main

napari = pytest.importorskip("napari")
pytestmark = [
    pytest.mark.napari,
    pytest.mark.skipif(
        sys.platform.startswith("linux") and not os.environ.get("DISPLAY"),
        reason="no X display: run under xvfb-run (make test does)",
    ),
]

AUTOMATED = (
    "findings.json",
    "labels.nii.gz",
    "cn7_centerline_left.tsv",
    "cn7_centerline_right.tsv",
)


def _hashes(folder):
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in AUTOMATED}


def _open(viewer, qtbot, folder):
    _, widget = viewer.window.add_plugin_dock_widget("nvc", "nvc analysis")
    viewer.open(str(folder), plugin="nvc")
    qtbot.waitUntil(lambda: widget.findings is not None, timeout=20_000)
    return widget


def _verdict(widget, side):
    return widget.verdicts[side].text()


def test_a_reader_corrects_the_anatomy_and_the_verdict_follows(
    make_napari_viewer, qtbot, analysed_phantom, tmp_path
):
    folder = tmp_path / "results"
    shutil.copytree(analysed_phantom.results, folder, ignore=shutil.ignore_patterns("report"))
    before = _hashes(folder)
    viewer = make_napari_viewer()
    widget = _open(viewer, qtbot, folder)
    review = widget.review
    assert "Automated, not reviewed" in review.status.text()
    review.start()
    qtbot.waitUntil(lambda: review.active or "cannot" in review.status.text(), timeout=60_000)
    assert review.active, review.status.text()
    assert {"review landmarks", "CN VII course (right)", "vessel pick"} <= {
        layer.name for layer in viewer.layers
    }
    auto = widget.findings.sides["right"]
    assert auto.nvc and auto.contacts[0].segment == "AS"

    # 1. the offending vessel deleted: the side's verdict flips
    loc = auto.contacts[0].location_ras_mm
    review.pick_vessel(loc)
    review.delete_vessel()
    reviewed = review.recompute()
    assert reviewed is not None, review.status.text()
    assert reviewed.seconds < 5.0
    assert not reviewed.findings.sides["right"].nvc
    # the symptomatic side without an offender: the finding worded as the report words it
    assert "no offender found" in _verdict(widget, "right")
    assert "automated: NVC" in _verdict(widget, "right")
    assert len(viewer.layers["contact sites"].data) == len(reviewed.findings.sides["left"].contacts)
    # the same edit made outside napari (the label map saved and given to nvc recompute)
    other = tmp_path / "other"
    shutil.copytree(analysed_phantom.results, other, ignore=shutil.ignore_patterns("report"))
    edited = save_label_map(review._labels_volume(), tmp_path / "edited.nii.gz")
    assert main(["recompute", str(other), "--labels", str(edited)]) == 0
    outside = Findings.from_json((other / "findings_reviewed.json").read_text())
    assert outside.sides == reviewed.findings.sides

    # 2. undo (napari's) restores the previous verdict
    labels = viewer.layers["labels"]
    labels.undo()
    undone = review.recompute()
    assert undone is not None and undone.findings.sides["right"].nvc
    assert undone.findings.sides["right"].contacts == auto.contacts
    assert all(e.kind != "vessel_deleted" for e in review.log)

    # 3. the RDP dragged 3 mm towards the root exit point: the contact is now at the RDP
    course = review.courses["right"]
    review.move_landmark("right", "RDP", point_at(course, auto.rdp_mm - 3.0))
    reviewed = review.recompute()
    assert reviewed is not None
    assert reviewed.findings.sides["right"].contacts[0].segment == "RDP"
    assert widget.tables["right"].item(0, 2).text() == "RDP"
    segments = set(viewer.layers["CN VII centerline"].features["segment"])
    assert {"RExP", "AS", "RDP", "TZ", "cisternal"} <= segments

    # 4. an artery painted onto the left nerve: an NVC appears; undo restores the verdict
    left_before = reviewed.findings.sides["left"]
    assert not left_before.nvc
    labels.brush_size = 5
    labels.n_edit_dimensions = 3
    coord = labels.world_to_data(to_world(point_at(review.courses["left"], 3.0)))
    labels.paint(coord, 4)
    painted = review.recompute()
    assert painted is not None and painted.findings.sides["left"].nvc
    assert _verdict(widget, "left").startswith("<b>left</b>: ")
    assert "Arterial compression in the vulnerable zone: YES" in _verdict(widget, "left")
    labels.undo()
    undone = review.recompute()
    assert undone is not None
    assert undone.findings.sides["left"].nvc == left_before.nvc
    assert undone.findings.sides["left"].contacts == left_before.contacts
    labels.redo()  # the reader keeps the painted artery
    # and deletes the right offender again
    review.pick_vessel(loc)
    review.delete_vessel()
    final = review.recompute()
    assert final is not None
    assert final.findings.sides["left"].nvc and not final.findings.sides["right"].nvc

    # 4. saved, reopened: the reviewed state is back; the automated files are unchanged
    review.reader.setText("AB")
    saved = review.save()
    assert saved is not None and saved.name == "findings_reviewed.json"
    assert _hashes(folder) == before
    viewer.layers.clear()
    widget2 = _open(viewer, qtbot, folder)
    again = widget2.findings
    assert again.reviewed and again.review.reader == "AB"
    assert not again.sides["right"].nvc and again.review.automated["right"].nvc
    assert again.sides["left"].nvc and not again.review.automated["left"].nvc
    kinds = [e.kind for e in again.review.edits]
    assert "landmark" in kinds and "vessel_deleted" in kinds and "labels" in kinds
    assert "Reviewed by AB" in widget2.review.status.text()
    shown = np.asarray(viewer.layers["labels"].data)  # shown as axial outlines
    reviewed_labels = load_volume(folder / "labels_reviewed.nii.gz")
    expected, _ = napari_volume(display_volume(reviewed_labels, labels=True))
    assert np.array_equal(shown == 4, axial_outlines(np.asarray(expected)) == 4)

    # 5. discarded: the automated findings are shown again, byte for byte as they were
    widget2.review.discard()
    assert not (folder / "findings_reviewed.json").exists()
    assert _hashes(folder) == before
    assert widget2.findings.sides["right"].nvc and not widget2.findings.reviewed

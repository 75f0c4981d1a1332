"""The plugin in a real napari viewer (headless: make test runs pytest under xvfb-run)."""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import pytest

from nvc.findings import Findings
from nvc_napari.layers import CONTACT_RGBA, contact_rows
from nvc_pipelines.cli import main

napari = pytest.importorskip("napari")
pytestmark = [
    pytest.mark.napari,
    pytest.mark.skipif(
        sys.platform.startswith("linux") and not os.environ.get("DISPLAY"),
        reason="no X display: run under xvfb-run (make test does)",
    ),
]

MAGENTA = np.array(CONTACT_RGBA[:3]) * 255


def _pixels_of(image: np.ndarray, rgb: np.ndarray, tol: float = 40.0) -> np.ndarray:
    """(row, col) of the screenshot pixels within ``tol`` of a colour."""
    diff = np.abs(image[..., :3].astype(float) - rgb).max(axis=-1)
    return np.argwhere(diff <= tol)


def _centroid(image: np.ndarray, rgb) -> np.ndarray:
    px = _pixels_of(image, np.asarray(rgb, float))
    assert len(px), f"no pixel of colour {rgb}"
    return px.mean(axis=0)


def test_axial_view_is_radiological_with_letters(make_napari_viewer):
    from nvc_napari.view import radiological_axial

    viewer = make_napari_viewer(show=True)  # an unshown canvas renders black
    viewer.add_image(np.zeros((40, 40, 40)), affine=np.diag([0.5, 0.5, 0.5, 1.0]))
    viewer.add_points(
        [[10, 10, 10], [10, 10, 15], [10, 15, 10]],  # origin, patient right, anterior (z, y, x)
        face_color=[[1, 1, 1, 1], [1, 0, 0, 1], [0, 1, 0, 1]],
        size=1.5,
        border_width=0,
    )
    radiological_axial(viewer)
    viewer.dims.set_point(0, 10.0)
    viewer.scene.camera.center = (10.0, 10.0)
    viewer.scene.camera.zoom = 20
    shot = viewer.screenshot(canvas_only=True, flash=False)
    origin = _centroid(shot, (255, 255, 255))
    right = _centroid(shot, (255, 0, 0))
    anterior = _centroid(shot, (0, 255, 0))
    assert right[1] < origin[1] - 50 and abs(right[0] - origin[0]) < 5  # patient right: left
    assert anterior[0] < origin[0] - 50 and abs(anterior[1] - origin[1]) < 5  # anterior: up
    letters = {k: viewer.canvas.overlays[f"nvc_orientation_{k}"].text for k in ("top", "left")}
    assert letters == {"top": "A", "left": "R"}
    # equal pixels per mm on both axes (physical aspect)
    assert abs((origin[1] - right[1]) - (origin[0] - anterior[0])) < 3


def test_3d_view_faces_the_patient_unmirrored(make_napari_viewer):
    from nvc_napari.view import radiological_axial, three_d_view

    viewer = make_napari_viewer(show=True)
    viewer.add_image(np.zeros((40, 40, 40)), affine=np.diag([0.5, 0.5, 0.5, 1.0]), visible=False)
    viewer.add_points(
        [[10, 10, 10], [10, 10, 15], [15, 10, 10]],  # origin, patient right, superior (z, y, x)
        face_color=[[0, 1, 0, 1], [1, 0, 0, 1], [0, 0, 1, 1]],  # (the 3D axes are white)
        size=1.5,
        border_width=0,
    )
    radiological_axial(viewer)
    three_d_view(viewer)
    viewer.scene.camera.center = (10.0, 10.0, 10.0)
    viewer.scene.camera.zoom = 20
    shot = viewer.screenshot(canvas_only=True, flash=False)
    origin = _centroid(shot, (0, 255, 0))
    right = _centroid(shot, (255, 0, 0))
    up = _centroid(shot, (0, 0, 255))
    # seen from the front: the patient's right on screen left, superior up (a proper rotation)
    assert right[1] < origin[1] - 50 and abs(right[0] - origin[0]) < 5
    assert up[0] < origin[0] - 40


def _wait_for_widget(qtbot, widget, timeout_s: float = 150.0, worker=None) -> tuple[float, float]:
    """Wait until the analysis ran and its layers were added (or ``worker`` finished).

    Returns the longest gaps (s) between 20 ms timer ticks on the GUI thread while the
    analysis ran, and while its layers were being added.
    """
    from qtpy.QtCore import QTimer

    ticks: list[float] = []
    done: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    worker = widget.worker if worker is None else worker
    worker.returned.connect(lambda _: done.append(time.perf_counter()))
    worker.errored.connect(lambda _: done.append(time.perf_counter()))
    qtbot.waitUntil(lambda: not widget.busy, timeout=int(timeout_s * 1000))
    timer.stop()
    t = np.array(ticks)
    end = done[0] if done else np.inf
    running, adding = np.diff(t[t <= end]), np.diff(t[t >= end])
    return (
        float(running.max()) if len(running) else 0.0,
        float(adding.max()) if len(adding) else 0.0,
    )


def test_widget_runs_the_pipeline_and_shows_the_contact(
    make_napari_viewer, qtbot, analysed_phantom, tmp_path
):
    from nvc_napari.widget import COLUMNS, NvcWidget

    viewer = make_napari_viewer(show=True)
    viewer.window.resize(1200, 800)
    widget = NvcWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.t2.set_file(analysed_phantom.t2)
    widget.mra.set_file(analysed_phantom.mra)
    widget.side.setCurrentText("right")
    widget.out.setText(str(tmp_path / "out"))
    widget.run_button.click()
    assert widget.worker is not None and not widget.run_button.isEnabled()
    running_gap, adding_gap = _wait_for_widget(qtbot, widget)
    assert widget.status.text().startswith("done"), widget.status.text()
    assert running_gap < 1.5, f"interface froze for {running_gap:.2f} s during the analysis"
    # napari draws each new layer on the GUI thread (about a second for a volume here)
    assert adding_gap < 4.0, f"interface froze for {adding_gap:.2f} s adding layers"
    print(f"longest GUI stall: {running_gap:.2f} s running, {adding_gap:.2f} s adding layers")
    qtbot.waitUntil(lambda: widget.findings is not None, timeout=10_000)

    names = {layer.name for layer in viewer.layers}
    assert {"T2", "TOF (registered)", "labels", "contact sites", "CN VII centerline"} <= names
    assert {"brainstem (3D)", "artery (3D)", "facial nerve (CN VII) (3D)"} <= names

    # the widget ran the same pipeline as `nvc run`: same findings, saved the same way
    expected = json.loads((analysed_phantom.results / "findings.json").read_text())
    saved = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert saved["sides"] == expected["sides"]
    rows = [r for r in contact_rows(Findings.from_dict(expected)) if r["side"] == "right"]
    table = widget.tables["right"]
    assert table.rowCount() == len(rows) >= 1
    assert [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())] == [
        c[0] for c in COLUMNS
    ]
    for i, row in enumerate(rows):
        assert table.item(i, 0).text() == row["vessel"]
        assert table.item(i, 2).text() == row["segment"]
        assert float(table.item(i, 4).text()) == pytest.approx(row["min_distance_mm"], abs=0.05)
    assert "Arterial compression in the vulnerable zone: YES" in widget.verdicts["right"].text()

    # choosing a row centres the view on that contact (its slice in 2D)
    i = next(n for n, r in enumerate(rows) if r["grade"])
    where = np.array(rows[i]["location_ras_mm"])
    widget.select_contact("right", i)
    assert viewer.dims.ndisplay == 2 and tuple(viewer.dims.order) == (0, 1, 2)
    assert viewer.dims.point[0] == pytest.approx(where[2], abs=0.6)
    np.testing.assert_allclose(viewer.scene.camera.center[-2:], where[[1, 0]], atol=1e-6)
    shot = viewer.screenshot(canvas_only=True, flash=False)
    centre = np.array(shot.shape[:2]) / 2
    px = _pixels_of(shot, MAGENTA)
    assert len(px) > 20, "no contact-coloured pixels"
    assert np.min(np.linalg.norm(px - centre, axis=1)) < 0.1 * shot.shape[1]

    # 3D: surfaces shown, slices hidden, the camera on the contact
    viewer.dims.ndisplay = 3
    widget.select_contact("right", i)
    np.testing.assert_allclose(viewer.scene.camera.center, where[[2, 1, 0]], atol=1e-6)
    assert viewer.layers["artery (3D)"].visible and not viewer.layers["T2"].visible
    shot3d = viewer.screenshot(canvas_only=True, flash=False)
    px = _pixels_of(shot3d, MAGENTA)
    assert len(px) >= 5  # the ring is drawn over the surfaces
    assert (
        np.min(np.linalg.norm(px - np.array(shot3d.shape[:2]) / 2, axis=1)) < 0.15 * shot3d.shape[1]
    )
    viewer.dims.ndisplay = 2
    assert viewer.layers["T2"].visible and not viewer.layers["artery (3D)"].visible

    # Export report: `nvc report` on the saved folder, in a worker thread
    assert widget.export_button.isEnabled() and widget.results_dir == tmp_path / "out"
    widget.export_button.click()
    assert widget.export_worker is not None and not widget.export_button.isEnabled()
    start = time.perf_counter()
    gap, _ = _wait_for_widget(qtbot, widget, worker=widget.export_worker)
    took = time.perf_counter() - start
    report = tmp_path / "out" / "report"
    assert widget.status.text().startswith("report written"), widget.status.text()
    assert (report / "report.html").stat().st_size > 10_000
    assert (report / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert widget.report_path == report / "report.html"
    assert (report / "report.html").as_uri() in widget.status.text()  # a link that opens it
    assert widget.export_button.isEnabled() and widget.run_button.isEnabled()
    assert gap < 1.5, f"interface froze for {gap:.2f} s writing the report"
    print(f"export: {took:.1f} s, longest GUI stall {gap:.2f} s")


def test_cancel_stops_the_analysis(make_napari_viewer, qtbot, analysed_phantom):
    from nvc_napari.widget import NvcWidget

    viewer = make_napari_viewer()
    widget = NvcWidget(viewer)
    widget.t2.set_file(analysed_phantom.t2)
    widget.mra.set_file(analysed_phantom.mra)
    widget.run_button.click()
    widget.cancel_button.click()
    start = time.perf_counter()
    _wait_for_widget(qtbot, widget, timeout_s=60)
    assert widget.status.text() == "cancelled"
    assert len(viewer.layers) == 0 and widget.run_button.isEnabled()
    assert time.perf_counter() - start < 30


def test_export_saves_an_unsaved_case_then_writes_the_report(
    make_napari_viewer, qtbot, analysed_phantom, tmp_path, monkeypatch
):
    from qtpy.QtWidgets import QFileDialog

    from nvc_napari.widget import NvcWidget, Unsaved
    from nvc_pipelines.config import PipelineConfig

    viewer = make_napari_viewer()
    widget = NvcWidget(viewer)
    assert not widget.export_button.isEnabled()  # nothing analysed yet
    # as after a run without output folder: the case is in memory only
    widget._unsaved = Unsaved(analysed_phantom.result, PipelineConfig(), {})
    widget._update_export_button()
    assert widget.export_button.isEnabled()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "c"))
    widget.export_button.click()
    _wait_for_widget(qtbot, widget, worker=widget.export_worker)
    assert widget.status.text().startswith("report written"), widget.status.text()
    saved = json.loads((tmp_path / "c" / "findings.json").read_text())
    expected = json.loads((analysed_phantom.results / "findings.json").read_text())
    assert saved["sides"] == expected["sides"]
    assert (tmp_path / "c" / "report" / "report.pdf").is_file()
    assert widget.results_dir == tmp_path / "c"

    # a folder that cannot be reported on: one line in the status, no traceback
    (tmp_path / "broken").mkdir()
    widget.results_dir = tmp_path / "broken"
    widget.export_button.click()
    _wait_for_widget(qtbot, widget, worker=widget.export_worker)
    text = widget.status.text()
    assert text.startswith("export failed:") and "not a finished nvc results folder" in text
    assert "Traceback" not in text and "\n" not in text
    assert widget.export_button.isEnabled()


def test_results_folder_opens_through_napari_with_the_widget(
    make_napari_viewer, qtbot, analysed_phantom
):
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("nvc", "nvc analysis")
    viewer.open(str(analysed_phantom.results), plugin="nvc")
    qtbot.waitUntil(lambda: widget.findings is not None, timeout=10_000)
    assert isinstance(viewer.layers["labels"], napari.layers.Labels)
    assert viewer.layers["contact sites"].features["vessel"].tolist()
    assert widget.tables["right"].rowCount() >= 1
    assert widget.results_dir == analysed_phantom.results and widget.export_button.isEnabled()
    assert tuple(viewer.dims.order) == (0, 1, 2)
    legend = [k for k in viewer.canvas.overlays if k.startswith("nvc_legend_")]
    present = set(np.unique(viewer.layers["labels"].data).tolist()) - {0}
    # the six labels the pipeline writes, less the CSF, not tinted (no legend entry)
    assert len(present) == 6 and len(legend) == 5
    t2, labels = viewer.layers["T2"], viewer.layers["labels"]
    world = np.asarray(viewer.layers["contact sites"].data[0])
    np.testing.assert_allclose(t2.world_to_data(world), labels.world_to_data(world), atol=1e-9)


def test_an_opened_results_folder_is_its_own_input_until_the_reader_chooses(
    make_napari_viewer, qtbot, analysed_phantom
):
    """The pickers take the case's T2 and TOF and its side, never the T2 twice."""
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("nvc", "nvc analysis")
    viewer.open(str(analysed_phantom.results), plugin="nvc")
    qtbot.waitUntil(lambda: widget.findings is not None, timeout=10_000)
    assert widget.t2.combo.currentText() == "T2"
    assert widget.mra.combo.currentText() == "TOF (registered)"
    assert widget.side.currentText() == "right"
    assert widget.t2.source().layer.name == "T2"
    assert widget.mra.source().layer.name == "TOF (registered)"
    widget.mra.set_layer("distance to CN VII (mm)")  # the reader's choice stays
    viewer.add_image(np.zeros((4, 4, 4)), name="another")
    assert widget.mra.combo.currentText() == "distance to CN VII (mm)"


def test_a_bad_config_in_the_preset_box_is_one_line(make_napari_viewer, tmp_path):
    from nvc_napari.widget import FILE_ITEM, NvcWidget

    viewer = make_napari_viewer()
    viewer.add_image(np.ones((8, 8, 8)), name="T2")
    viewer.add_image(np.ones((8, 8, 8)), name="TOF")
    widget = NvcWidget(viewer)
    bad = tmp_path / "bad.toml"
    bad.write_text("[registration]\niterations = 120.9\n")
    widget.preset.setCurrentText(FILE_ITEM)
    widget.config_file = bad
    widget.run()
    text = widget.status.text()
    assert widget.worker is None and "\n" not in text
    assert text.startswith("cannot run:") and "[registration] iterations = 120.9" in text, text


def test_nvc_view_opens_the_folder(monkeypatch, analysed_phantom, qtbot, capsys):
    seen = {}

    def fake_run():  # instead of the event loop: look, then close
        viewer = napari.current_viewer()
        # the window is up before the folder is read (in the widget's worker thread)
        seen["at_start"] = len(viewer.layers)
        (widget,) = viewer.window.dock_widgets.values()
        qtbot.waitUntil(lambda: widget.findings is not None, timeout=30_000)
        seen["layers"] = [layer.name for layer in viewer.layers]
        viewer.close()

    monkeypatch.setattr(napari, "run", fake_run)
    assert main(["view", str(analysed_phantom.results)]) == 0
    assert seen["at_start"] == 0
    assert "contact sites" in seen["layers"] and "T2" in seen["layers"]


def test_sample_data_phantom_and_inputs_from_layers(make_napari_viewer):
    from nvc_napari.widget import NvcWidget

    viewer = make_napari_viewer()
    viewer.open_sample("nvc", "phantom")
    kinds = [type(layer).__name__ for layer in viewer.layers]
    assert kinds == ["Image", "Image", "Labels"]
    widget = NvcWidget(viewer)  # open image layers are offered, picked by name
    assert widget.t2.combo.currentText() == "T2 (phantom)"
    assert widget.mra.combo.currentText() == "TOF (phantom, unregistered)"
    assert widget.mra.source().layer is viewer.layers["TOF (phantom, unregistered)"]


def test_surfaces_are_smoothly_lit_from_the_camera(make_napari_viewer, qtbot):
    from nvc.labels import LABEL_TABLE, Label
    from nvc.volume import Volume
    from nvc_napari.layers import surface_layers
    from nvc_napari.view import RELIGHT_MS, radiological_axial, sync_surfaces, three_d_view

    z, y, x = np.mgrid[:40, :40, :40]
    ball = ((z - 20) ** 2 + (y - 20) ** 2 + (x - 20) ** 2 < 12**2).astype(np.uint8)
    labels = Volume(ball * int(Label.ARTERY), np.diag([0.5, 0.5, 0.5, 1.0]))
    viewer = make_napari_viewer(show=True)
    viewer.add_image(np.zeros((40, 40, 40)), affine=np.diag([0.5, 0.5, 0.5, 1.0]), visible=False)
    ((data, kwargs, _),) = surface_layers(labels)
    viewer.add_surface(data, **kwargs)
    radiological_axial(viewer)
    sync_surfaces(viewer)
    three_d_view(viewer)
    viewer.scene.camera.center = (10.0, 10.0, 10.0)
    viewer.scene.camera.zoom = 20
    red = next(t for t in LABEL_TABLE if t.value == Label.ARTERY).rgb[0]

    def profile() -> np.ndarray:
        shot = viewer.screenshot(canvas_only=True, flash=False)[..., 0].astype(float)
        column = shot[:, shot.shape[1] // 2]
        on = np.flatnonzero(column > 5)
        return column[on[0] + 3 : on[-1] - 2]  # top to bottom through the ball's middle

    for view in ((-0.45, -1.0, 0.0), (0.45, 1.0, 0.0)):  # from the front, then from behind
        viewer.scene.camera.set_view_direction(view_direction=view, up_direction=(1.0, 0.0, 0.0))
        qtbot.wait(3 * RELIGHT_MS)  # relit at most every RELIGHT_MS while the camera turns
        p = profile()
        middle = p[len(p) // 2 - 3 : len(p) // 2 + 3].mean()
        assert middle > 0.7 * red, f"the side facing the camera is dark ({middle:.0f} of {red})"
        # smooth: brightness changes gradually from the lit top to the darker bottom rim
        assert p[: len(p) // 4].mean() > p[-len(p) // 8 :].mean() + 30
        assert np.abs(np.diff(p)).max() < 25, "shading jumps (not smooth)"


def test_sample_data_analysed_phantom(make_napari_viewer, qtbot, analysed_phantom, monkeypatch):
    """The analysed sample through napari; the session's analysis stands in for its 30 s run."""
    import nvc_napari.sample_data as sample_data
    from nvc.phantom import make_case
    from nvc_napari.widget import NvcWidget

    calls, cases = [], []

    def run_case(t2, mra, *, symptomatic_side):
        calls.append((t2, mra, symptomatic_side))
        return analysed_phantom.result

    def phantom(seed):
        cases.append((seed, make_case(seed)))
        return cases[-1][1]

    monkeypatch.setattr(sample_data, "run_case", run_case)
    monkeypatch.setattr(sample_data, "make_case", phantom)
    viewer = make_napari_viewer()
    widget = NvcWidget(viewer)
    viewer.open_sample("nvc", "phantom_results")
    ((t2, mra, side),) = calls  # the sample phantom's own images and symptomatic side
    ((seed, case),) = cases
    assert seed == sample_data.SAMPLE_SEED
    assert t2 is case.t2 and mra is case.mra and side == case.truth.hfs_side
    kinds = {layer.name: type(layer).__name__ for layer in viewer.layers}
    assert kinds["T2"] == kinds["TOF (registered)"] == "Image"
    assert kinds["labels"] == "Labels" and kinds["artery (3D)"] == "Surface"
    assert kinds["contact sites"] == kinds["CN VII centerline"] == "Points"
    contacts = viewer.layers["contact sites"]
    expected = contact_rows(analysed_phantom.result.findings)
    assert contacts.features["vessel"].tolist() == [r["vessel"] for r in expected]
    # the widget shows the sample's findings (no results folder: nothing to export)
    qtbot.waitUntil(lambda: widget.findings is not None, timeout=10_000)
    assert widget.tables["right"].rowCount() == sum(r["side"] == "right" for r in expected) >= 1
    assert widget.results_dir is None and not widget.export_button.isEnabled()


def test_oblique_volumes_align_on_screen_with_world_points(make_napari_viewer):
    """An oblique grid on screen: image and label marker centred on the marker's RAS point."""
    from nvc.volume import Volume
    from nvc_napari.layers import image_layer, labels_layer, to_world
    from nvc_napari.view import radiological_axial
    from tests.helpers import oblique_affine

    affine = oblique_affine(spacing=(0.5, 0.6, 0.9))
    block = (slice(9, 12), slice(11, 14), slice(7, 10))
    image = np.zeros((24, 26, 18), np.float32)
    image[block] = 1000.0
    labels = (image > 0).astype(np.uint8) * 4
    world = to_world(Volume(image, affine).voxel_to_world([10, 12, 8]))
    viewer = make_napari_viewer(show=True)
    viewer.window.resize(900, 900)
    for data, kwargs, kind in (
        image_layer(Volume(image, affine), "t2", colormap="green"),
        labels_layer(Volume(labels, affine), "labels", opacity=1.0),
    ):
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    viewer.add_points([world], face_color=[CONTACT_RGBA], size=0.3, border_width=0)
    radiological_axial(viewer)
    viewer.dims.set_point(0, float(world[0]))
    viewer.scene.camera.center = tuple(float(w) for w in world[1:])
    viewer.scene.camera.zoom = 40  # screen pixels per mm
    errors = {}
    for shown in ("t2", "labels"):
        for name in ("t2", "labels"):
            viewer.layers[name].visible = name == shown
        shot = viewer.screenshot(canvas_only=True, flash=False).astype(float)
        point = _centroid(shot, MAGENTA)
        # the marker's pixels (not the point's), weighted by brightness
        weight = shot[..., :3].max(-1) * (np.abs(shot[..., :3] - MAGENTA).max(-1) > 60)
        rows, cols = np.indices(weight.shape)
        marker = np.array([(rows * weight).sum(), (cols * weight).sum()]) / weight.sum()
        errors[shown] = np.linalg.norm(marker - point) / 40
    print("oblique marker vs world point on screen (mm):", errors)
    # voxels of 0.5-0.9 mm; the oblique affine given to napari as is: 0.78 mm (README)
    assert errors["t2"] < 0.25 and errors["labels"] < 0.25


def _open_case(viewer, qtbot, folder):
    _, widget = viewer.window.add_plugin_dock_widget("nvc", "nvc analysis")
    viewer.open(str(folder), plugin="nvc")
    qtbot.waitUntil(lambda: widget.findings is not None, timeout=10_000)
    return widget


def test_defaults_show_the_evidence_t2_tof_fusion_outlines_no_csf_tint(
    make_napari_viewer, qtbot, analysed_phantom
):
    from nvc.io import load_volume
    from nvc.labels import Label

    viewer = make_napari_viewer()
    widget = _open_case(viewer, qtbot, analysed_phantom.results)
    assert widget.display.currentText() == "T2 + TOF fusion"
    tof, labels = viewer.layers["TOF (registered)"], viewer.layers["labels"]
    assert tof.visible and tof.blending == "additive" and tof.colormap.name == "red"
    data = np.asarray(tof.data)
    lo, hi = tof.contrast_limits
    # a vessel window: stationary tissue (most voxels) below the window, arteries in it
    assert np.mean(data < lo) > 0.95 and lo > np.median(data) and hi <= data.max()
    # labels as outlines: the brainstem's interior is empty, its rim labelled
    saved = load_volume(analysed_phantom.results / "labels.nii.gz").array
    bs = np.asarray(labels.data) == int(Label.BRAINSTEM)
    assert labels.visible and 0 < bs.sum() < 0.5 * np.sum(saved == int(Label.BRAINSTEM))
    assert labels.colormap.map(np.array([int(Label.CSF)]))[0][-1] == 0.0  # no CSF tint
    assert labels.colormap.map(np.array([int(Label.BRAINSTEM)]))[0][-1] > 0.5
    # the other presets are a click away, and the fusion comes back
    from nvc_napari.view import apply_display_preset

    apply_display_preset(viewer, "T2 and labels")
    assert not tof.visible
    apply_display_preset(viewer, "T2 + TOF fusion")
    assert tof.visible and tof.contrast_limits[0] == pytest.approx(lo)


def test_findings_at_a_glance_reasons_nearest_vessel_table_width_offender(
    make_napari_viewer, qtbot, analysed_phantom
):
    viewer = make_napari_viewer(show=True)
    widget = _open_case(viewer, qtbot, analysed_phantom.results)
    qtbot.wait(200)
    right, left = widget.verdicts["right"].text(), widget.verdicts["left"].text()
    findings = json.loads((analysed_phantom.results / "findings.json").read_text())
    assert "<li>" in right and findings["sides"]["right"]["reasons"][0][:30] in right
    # the negative side names its nearest artery with its distance
    nearest = findings["sides"]["left"]["nearest_arteries"][0]
    assert f"{nearest['vessel_name']} {nearest['distance_mm']:.1f} mm" in left
    assert "color:#1d7a1d" in left and "color:#b00000" in right
    # every line of each verdict is shown (the dock scrolls instead of clipping them)
    for label in widget.verdicts.values():
        assert label.height() >= label.heightForWidth(label.width())
        assert label.width() <= widget.width()
    # every column of the table is visible at the dock's default width, none squeezed
    for table in widget.tables.values():
        header = table.horizontalHeader()
        widths = [header.sectionSize(j) for j in range(table.columnCount())]
        assert sum(widths) <= table.viewport().width() + 1
        metrics = header.fontMetrics()
        for j in range(table.columnCount()):
            text = table.horizontalHeaderItem(j).text()
            longest = max(metrics.horizontalAdvance(line) for line in text.split("\n"))
            assert widths[j] >= longest, text
    # a small cross beside each contact, the primary offender larger and named, toggleable
    contacts = viewer.layers["contact sites"]
    feats = contacts.features
    where = np.stack([feats["z_mm"], feats["y_mm"], feats["x_mm"]], axis=1)
    gap = np.linalg.norm(np.asarray(contacts.data) - where, axis=1)
    assert np.all(gap > 1.0) and np.all(gap < 2.5)
    primary = np.flatnonzero(feats["offender"] == "primary")
    assert len(primary) == 1 and "primary offender" in feats["label"][primary[0]]
    from nvc_napari.layers import MARKER_SIZE_MM

    assert contacts.size[primary[0]] > MARKER_SIZE_MM
    assert np.all(np.delete(contacts.size, primary) == MARKER_SIZE_MM)
    assert any(name.startswith("primary offender") for name in (la.name for la in viewer.layers))
    widget.markers.setChecked(False)
    assert not contacts.visible
    widget.markers.setChecked(True)
    assert contacts.visible


def test_navigation_ras_coordinates_cpa_camera_progress_and_a_second_case(
    make_napari_viewer, qtbot, analysed_phantom
):
    from nvc_napari.view import POSITION_KEY, retrosigmoid_direction

    viewer = make_napari_viewer()
    widget = _open_case(viewer, qtbot, analysed_phantom.results)
    # the cursor as RAS x, y, z in mm with decimals
    viewer.cursor.position = (3.25, -7.5, 12.125)  # world (z, y, x)
    text = viewer.canvas.overlays[POSITION_KEY].text
    assert (
        text == "RAS x +12.12  y -7.50  z +3.25 mm" or text == "RAS x +12.13  y -7.50  z +3.25 mm"
    )
    # a retrosigmoid camera per side, the other side clipped away
    widget.camera_preset("right")
    assert viewer.dims.ndisplay == 3
    view = np.asarray(viewer.scene.camera.view_direction)
    expected = retrosigmoid_direction("right")[::-1]
    assert np.dot(view / np.linalg.norm(view), expected) > 0.99
    assert expected[1] > 0 and expected[2] < 0  # looking anteriorly and medially (from behind)
    surfaces = [la for la in viewer.layers if la.metadata.get("nvc_surface")]
    assert surfaces and all(len(la.experimental_clipping_planes) == 1 for la in surfaces)
    assert surfaces[0].experimental_clipping_planes[0].normal[-1] == pytest.approx(1.0)
    widget.camera_preset("front")
    assert all(len(la.experimental_clipping_planes) == 0 for la in surfaces)
    viewer.dims.ndisplay = 2
    # the progress bar never goes backwards within a run
    widget.progress.setValue(0)
    for fraction in (0.25, 0.6, 1.0, 0.95):
        widget._on_progress("step", fraction)
    assert widget.progress.value() == 100
    # a second case is not stacked onto the first without asking
    asked = []
    widget.ask_replace = lambda: asked.append(True) or True
    n_layers = len(viewer.layers)
    viewer.open(str(analysed_phantom.results), plugin="nvc")
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=10_000)
    assert len(viewer.layers) == n_layers  # replaced, not stacked
    assert len({la.metadata.get("nvc_case") for la in viewer.layers}) == 1
    widget.ask_replace = lambda: asked.append(False) or False
    viewer.open(str(analysed_phantom.results), plugin="nvc")
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=10_000)
    assert len(viewer.layers) == 2 * n_layers  # kept both, as the reader chose


def test_opening_a_results_folder_from_the_widget_keeps_the_window_responsive(
    make_napari_viewer, qtbot, analysed_phantom
):
    from nvc_napari.widget import NvcWidget

    viewer = make_napari_viewer(show=True)
    widget = NvcWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.open_folder(analysed_phantom.results)
    assert widget.busy and not widget.open_button.isEnabled()
    reading, adding = _wait_for_widget(qtbot, widget)
    qtbot.waitUntil(lambda: widget.findings is not None, timeout=10_000)
    assert reading < 0.5, f"the window froze for {reading:.2f} s while the folder was read"
    assert adding < 4.0, f"the window froze for {adding:.2f} s adding layers"
    print(f"open: longest GUI stall {reading:.2f} s reading, {adding:.2f} s adding layers")
    assert "contact sites" in viewer.layers and "T2" in viewer.layers
    assert widget.results_dir == analysed_phantom.results and widget.export_button.isEnabled()
    assert widget.side.currentText() == "right" and widget.t2.combo.currentText() == "T2"

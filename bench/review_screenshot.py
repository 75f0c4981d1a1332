"""Screenshot of the review step for the docs (``docs/napari_review.png``).

    xvfb-run -a -s "-screen 0 1600x1000x24" python -m bench.review_screenshot [--out docs]

Analyses the phantom of ``bench.napari_screenshots`` (an AICA on the right
attached segment), saves its results folder in a temporary folder, opens it in
napari with the nvc dock widget, starts the review, moves the right root
detachment point 3 mm towards the root exit point and recomputes: the contact
is then at the RDP, the table and the verdict line say so beside the automated
verdict. The window is saved.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import napari
from napari._qt.dialogs.qt_notification import NapariQtNotification
from qtpy.QtWidgets import QApplication

from bench.napari_screenshots import PARAMS
from nvc.phantom import make_case
from nvc.review import point_at
from nvc_napari.view import center_on
from nvc_pipelines.case import run_case
from nvc_pipelines.config import PipelineConfig
from nvc_pipelines.outputs import save_case


def _settle(n: int = 5) -> None:
    for _ in range(n):
        QApplication.processEvents()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    case = make_case(PARAMS)
    result = run_case(case.t2, case.mra, symptomatic_side=PARAMS.hfs_side)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "results"
        save_case(result, folder, PipelineConfig(), inputs={})
        viewer = napari.Viewer(title="nvc review")
        viewer.window.resize(1500, 1000)
        _, widget = viewer.window.add_plugin_dock_widget("nvc", "nvc analysis")
        viewer.open(str(folder), plugin="nvc")
        while widget.findings is None:
            _settle()
        review = widget.review
        review.start()
        while not review.active:
            _settle()
        side = PARAMS.hfs_side
        rdp = widget.findings.sides[side].rdp_mm or 0.0
        review.move_landmark(side, "RDP", point_at(review.courses[side], rdp - 3.0))
        review.reader.setText("AB")
        reviewed = review.recompute()
        assert reviewed is not None, review.status.text()
        center_on(viewer, reviewed.findings.sides[side].contacts[0].location_ras_mm)
        viewer.layers.selection.active = viewer.layers["review landmarks"]
        for toast in viewer.window._qt_window.findChildren(NapariQtNotification):
            toast.close()
        _settle(10)
        args.out.mkdir(parents=True, exist_ok=True)
        viewer.screenshot(str(args.out / "napari_review.png"), canvas_only=False, flash=False)
        viewer.close()
    print(f"wrote {args.out / 'napari_review.png'}")


if __name__ == "__main__":
    main()

"""README screenshots of the napari plugin: a 2D axial slice at a contact, and the 3D view.

    xvfb-run -a -s "-screen 0 1600x1000x24" python -m bench.napari_screenshots [--out docs]

Analyses a phantom case with ``run_case`` (as ``nvc run`` does), shows it through the
plugin's layers and dock widget, centres on the symptomatic side's contact and saves
``napari_2d_contact.png`` (window: the T2 + TOF fusion, label outlines, the findings table)
and ``napari_3d.png`` (canvas: the symptomatic side along the retrosigmoid corridor).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import napari
from napari._qt.dialogs.qt_notification import NapariQtNotification
from qtpy.QtWidgets import QApplication

from nvc.phantom import PhantomParams, SideParams, make_case
from nvc_napari.layers import case_layers, contact_rows
from nvc_napari.widget import NvcWidget
from nvc_pipelines.case import run_case
from nvc_pipelines.results import saved_case

PARAMS = PhantomParams(
    seed=77,
    hfs_side="right",
    right=SideParams(scenario="nvc", offender="AICA", segment="AS", attached_length_mm=9.0),
    left=SideParams(scenario="none"),
)


def _settle() -> None:
    for _ in range(5):
        QApplication.processEvents()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    case = make_case(PARAMS)
    result = run_case(case.t2, case.mra, symptomatic_side=PARAMS.hfs_side)
    saved = saved_case(result)

    viewer = napari.Viewer(title="nvc phantom case")
    viewer.window.resize(1500, 900)
    widget = NvcWidget(viewer)
    viewer.window.add_dock_widget(widget, name="nvc analysis")
    for data, kwargs, kind in case_layers(saved):
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    _settle()
    rows = contact_rows(saved.findings)
    index = next(
        i for i, r in enumerate(r for r in rows if r["side"] == PARAMS.hfs_side) if r["grade"]
    )
    widget.select_contact(PARAMS.hfs_side, index)
    viewer.layers.selection.active = viewer.layers["labels"]
    for toast in viewer.window._qt_window.findChildren(NapariQtNotification):
        toast.close()  # e.g. napari's note that its PyQt5 support is deprecated
    _settle()
    args.out.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(args.out / "napari_2d_contact.png"), canvas_only=False, flash=False)

    widget.camera_preset(PARAMS.hfs_side)
    viewer.scene.camera.zoom = max(viewer.canvas.size[1], 1) / 45.0
    _settle()
    viewer.screenshot(str(args.out / "napari_3d.png"), canvas_only=True, flash=False)
    viewer.close()
    print(f"wrote {args.out / 'napari_2d_contact.png'} and {args.out / 'napari_3d.png'}")


if __name__ == "__main__":
    main()

"""``nvc report RESULTS_DIR [--out DIR] [--include-identifiers]``: report, QC figures, exports.

Everything is built from the saved outputs alone (findings.json and the
volumes; see README "Outputs"); nothing of the analysis is rerun. Writes into
``DIR`` (default ``RESULTS_DIR/report``):

- ``report.html`` (self-contained) and ``report.pdf``: the surgeon's report;
- ``qc/``: segmentation mosaic, TOF MIP with arteries, registration checkerboard (PNG);
- ``export/``: ``labels.nii.gz`` with ``labels.ctbl`` (3D Slicer colour table) and
  ``labels_itksnap.txt`` (ITK-SNAP label descriptions); ``meshes/*.stl`` and ``*.obj``
  surfaces of brainstem, nerves and vessels in RAS millimetres (the images' world frame).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nvc import DISCLAIMER
from nvc.io import VolumeLoadError, save_label_map, write_text
from nvc.io.atomic import write_bytes
from nvc.io.markups import write_markups
from nvc.io.mesh import save_obj, save_stl
from nvc.io.resources import package_text
from nvc.io.results import load_results
from nvc.labels import Label, itksnap_label_description, slicer_color_table
from nvc.report import qc
from nvc.report.case import ReportCase
from nvc.report.content import BLOCKS, build_report
from nvc.report.drawing import to_png
from nvc.report.html import render_html
from nvc.report.layout import parse_layout
from nvc.report.pdf import render_pdf
from nvc.surface import label_surface
from nvc_pipelines.errors import EXIT_OK, run_guarded
from nvc_pipelines.progress import Progress, TerminalProgress

#: Meshes exported: file stem -> label values merged into one surface.
MESHES: dict[str, tuple[int, ...]] = {
    "brainstem": (Label.BRAINSTEM,),
    "facial_nerve_cn7": (Label.CN7,),
    "vestibulocochlear_nerve_cn8": (Label.CN8,),
    "arteries": (Label.ARTERY,),
    "veins": (Label.VEIN,),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nvc report``."""
    parser.add_argument("results", type=Path, help="results folder written by nvc run")
    parser.add_argument("--out", type=Path, help="output folder (default: RESULTS/report)")
    parser.add_argument(
        "--include-identifiers",
        action="store_true",
        help="show the patient identifiers stored by 'nvc run --include-identifiers' "
        "(default: pseudonymised case ID only)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar (it is drawn only when the output is a terminal)",
    )


def run(args: argparse.Namespace) -> int:
    """Body of ``nvc report``."""

    def body() -> int:
        with TerminalProgress(quiet=args.quiet) as progress:
            path = write_report(
                args.results,
                out=args.out,
                include_identifiers=args.include_identifiers,
                progress=progress,
            )
        print(DISCLAIMER)
        print(f"wrote {path} and {path.with_suffix('.pdf').name}, qc/, export/ in {path.parent}")
        return EXIT_OK

    return run_guarded(body)


def write_report(
    results_dir: Path,
    *,
    out: Path | None = None,
    include_identifiers: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Build the report, QC figures and exports of one results folder; return the HTML's path.

    ``progress(stage, fraction_done)`` is called between the steps when given.

    Raises
    ------
    nvc.io.VolumeLoadError
        When the folder is not a finished results folder.
    OSError
        When the output cannot be written.
    """
    step = progress or (lambda stage, done: None)
    results_dir = Path(results_dir)
    out = results_dir / "report" if out is None else Path(out)
    step("reading", 0.0)
    case = load_results(results_dir)
    if case.mra_registered is None:
        raise VolumeLoadError(
            results_dir / "mra_registered.nii.gz", "missing: not a finished nvc results folder"
        )
    layout = parse_layout(package_text("nvc.report", "layout.toml"), known_blocks=frozenset(BLOCKS))
    step("figures", 0.1)
    report = build_report(case, layout, include_identifiers=include_identifiers)
    out.mkdir(parents=True, exist_ok=True)
    step("html", 0.45)
    html = write_text(
        out / "report.html", render_html(report, package_text("nvc.report", "report.html.j2"))
    )
    step("pdf", 0.5)
    write_bytes(out / "report.pdf", render_pdf(report))
    step("qc figures", 0.6)
    write_qc(case, out / "qc")
    step("exports", 0.75)
    write_exports(case, out / "export")
    step("report", 1.0)
    return html


def write_qc(case: ReportCase, folder: Path) -> None:
    """Segmentation mosaic, TOF MIP with arteries, registration checkerboard (PNG)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_bytes(folder / "segmentation_mosaic.png", to_png(qc.segmentation_mosaic(case)))
    write_bytes(folder / "tof_mip_arteries.png", to_png(qc.tof_mip(case)))
    write_bytes(folder / "registration_checkerboard.png", to_png(qc.checkerboard(case)))


def write_exports(case: ReportCase, folder: Path) -> None:
    """Label map with colour tables (3D Slicer, ITK-SNAP) and surface meshes (STL, OBJ; RAS mm)."""
    folder.mkdir(parents=True, exist_ok=True)
    save_label_map(case.labels, folder / "labels.nii.gz")
    write_text(folder / "labels.ctbl", slicer_color_table())
    write_text(folder / "labels_itksnap.txt", itksnap_label_description())
    meshes = folder / "meshes"
    meshes.mkdir(exist_ok=True)
    for stem, values in MESHES.items():
        mask = (case.labels.array[..., None] == list(values)).any(axis=-1)
        mesh = label_surface(mask, case.labels.affine)
        if not len(mesh.faces):
            continue
        save_stl(meshes / f"{stem}.stl", mesh.vertices, mesh.faces, name=stem)
        save_obj(meshes / f"{stem}.obj", mesh.vertices, mesh.faces, name=stem)
    # CN VII centerlines, landmarks and contact sites: 3D Slicer markups, ITK-SNAP labels
    write_markups(folder / "markups", case.findings, case.centerlines, reference=case.t2)

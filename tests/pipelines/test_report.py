"""``nvc report``: the surgeon's HTML and PDF, QC figures and exports, from one results folder.

One phantom case is analysed once for the module (``nvc run`` on a DICOM T2 whose
series description, patient name and folder name hold markup, and a NIfTI TOF
whose file name does), then every test reads what the report wrote.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from scipy.spatial import cKDTree

from nvc.io import load_volume, save_nifti
from nvc.io.mesh import load_stl
from nvc.labels import LABEL_TABLE, Label
from nvc.phantom import PhantomParams, SideParams, make_case
from nvc_pipelines.cli import main
from tests.helpers import write_dicom_series

pytestmark = pytest.mark.slow

PARAMS = PhantomParams(
    seed=78,
    hfs_side="right",
    right=SideParams(scenario="nvc", offender="AICA", segment="AS", attached_length_mm=9.0),
    left=SideParams(scenario="none"),
)
SERIES = '<script>alert("series")</script>'
T2_FOLDER = "<script>t2 folder"
TOF_FILE = "<script>tof.nii.gz"
PATIENT = "Doe^Jane"
DISCLAIMER = "Research use only, not for diagnosis."


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("report_case")
    case = make_case(PARAMS)
    write_dicom_series(
        case.t2,
        root / T2_FOLDER,
        **{"0008|103e": SERIES, "0010|0010": PATIENT, "0018|0087": "3"},
    )
    save_nifti(case.mra, root / TOF_FILE)
    return case, root


@pytest.fixture(scope="module")
def results(case_dir):
    _, root = case_dir
    out = root / "results"
    args = ["run", "--t2", str(root / T2_FOLDER), "--mra", str(root / TOF_FILE)]
    code = main([*args, "--out", str(out), "--side", "right", "--include-identifiers"])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def pseudonymised(results, tmp_path_factory):
    """The same results reported without ``--include-identifiers``."""
    out = tmp_path_factory.mktemp("pseudo") / "report"
    t0 = time.perf_counter()
    assert main(["report", str(results), "--out", str(out)]) == 0
    return out, time.perf_counter() - t0


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.figures: list[str] = []
        self.images: list[str] = []
        self.captions: list[str] = []
        self.tags: set[str] = set()
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if tag == "section":
            self.sections.append(a["id"])
        elif tag == "figure":
            self.figures.append(a["id"])
        elif tag == "img":
            self.images.append(a["src"])
        elif tag == "figcaption":
            self._in_caption = True
            self.captions.append("")

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self._in_caption = False

    def handle_data(self, data):
        if self._in_caption:
            self.captions[-1] += data


def _outline(path: Path) -> _Outline:
    p = _Outline()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _pdf_pages(pdf: Path, folder: Path) -> list[np.ndarray]:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: install poppler-utils (make test does)")
    folder.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(folder / "p")], check=True)
    return [mpimg.imread(p) for p in sorted(folder.glob("p-*.png"))]


def _pdf_text(pdf: Path) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True
    )
    return [page for page in out.stdout.decode("utf-8").split("\f") if page.strip()]


def test_html_has_the_sections_and_figures_of_the_layout(results):
    html = results / "report" / "report.html"
    o = _outline(html)
    assert o.sections == [
        "summary",
        "side-right",
        "side-left",
        "qc",
        "nerve-course",
        "sides",
        "rendering",
        "case",
        "notes",
    ]
    findings = json.loads((results / "findings.json").read_text())
    n_right = len(findings["sides"]["right"]["contacts"])
    assert findings["sides"]["right"]["nvc"] and n_right >= 1
    expected = ["offender"] + [f"contact-R{i + 1}" for i in range(min(n_right, 4))]
    expected += [
        f"contact-L{i + 1}" for i in range(min(len(findings["sides"]["left"]["contacts"]), 4))
    ]
    assert o.figures == [*expected, "qc-tof", "qc-rez", "cpr", "sides", "render3d"]
    assert len(o.images) == len(o.figures)
    assert all(src.startswith("data:image/png;base64,") and len(src) > 20_000 for src in o.images)
    assert all(len(c.strip()) > 80 for c in o.captions)
    assert "script" not in o.tags
    text = html.read_text(encoding="utf-8")
    assert text.count(DISCLAIMER) >= 3  # banner, notes, footer
    assert 'data-side="right" data-status="positive"' in text
    assert "Arterial compression in the vulnerable zone: YES" in text
    assert "AICA" in text and "vulnerable zone" in text
    # the evidence: nearest arteries on both sides, the unsegmented TOF line, the offender
    assert text.count("Nearest arter") >= 2
    assert text.count("Unsegmented TOF signal near the nerve") == 2
    assert "Primary offender: AICA" in text and "Vertebrobasilar system:" in text
    assert "What to check" in text


def test_pdf_renders_to_pages_with_figures_and_the_disclaimer_on_each(results, tmp_path):
    pdf = results / "report" / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    pages = _pdf_pages(pdf, tmp_path / "pages")
    assert len(pages) >= 3
    figure_pages = 0
    for page in pages:
        h = page.shape[0]
        rgb = page[int(0.06 * h) : int(0.95 * h), :, :3]  # without the red banner and footer
        saturated = (rgb.max(axis=-1) - rgb.min(axis=-1)) > 0.35  # label colours, not text
        grey = (
            (np.abs(rgb[..., 0] - rgb[..., 1]) < 0.02) & (rgb[..., 0] > 0.1) & (rgb[..., 0] < 0.9)
        )
        if saturated.mean() > 0.001 and grey.mean() > 0.05:  # coloured overlays on grey images
            figure_pages += 1
    assert figure_pages >= 3
    texts = _pdf_text(pdf)
    assert len(texts) == len(pages)
    assert all(DISCLAIMER in t for t in texts)
    joined = "\n".join(texts)
    assert "Arterial compression in the vulnerable zone" in joined and "AICA" in joined
    flat = " ".join(joined.split())
    # the quality-control page, with its figures, is in the PDF too
    assert "Quality control: the evidence that would reveal a miss" in flat
    assert "What to check" in flat and "Nearest arter" in flat


def test_header_and_file_name_markup_is_escaped(results):
    html = (results / "report" / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<\s*script", html, re.IGNORECASE)
    assert "&lt;script&gt;alert(&#34;series&#34;)&lt;/script&gt;" in html  # series description
    assert "&lt;script&gt;tof.nii.gz" in html  # file name (identifiers were asked for)
    assert "&lt;script&gt;t2 folder" in html
    pdf_text = "\n".join(_pdf_text(results / "report" / "report.pdf"))
    assert SERIES in pdf_text  # printed as text, not interpreted
    assert "<script>tof.nii.gz" in pdf_text


def test_identifiers_are_stored_and_shown_only_on_request(results, pseudonymised):
    findings = json.loads((results / "findings.json").read_text())
    assert findings["identifiers"]["t2"]["patient_name"] == PATIENT
    assert findings["identifiers"]["mra"]["source_name"] == TOF_FILE
    assert findings["acquisition"]["t2"]["field_strength_t"] == "3"
    shown = (results / "report" / "report.html").read_text(encoding="utf-8")
    assert PATIENT in shown
    out, _ = pseudonymised
    html = (out / "report.html").read_text(encoding="utf-8")
    html = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)  # figures are not text
    pdf_text = "\n".join(_pdf_text(out / "report.pdf"))
    study_date = findings["identifiers"]["t2"]["study_date"]
    for text in (html, pdf_text):
        assert PATIENT not in text and "Doe" not in text
        assert "tof.nii.gz" not in text and "t2 folder" not in text
        assert study_date not in text
        assert re.search(r"NVC-[0-9A-F]{10}", text)
    assert "3 T" in html  # acquisition facts stay


def test_report_is_rebuilt_quickly_from_saved_outputs(pseudonymised, tmp_path, capsys):
    out, seconds = pseudonymised
    assert seconds < 60.0
    assert (out / "report.pdf").is_file()
    assert main(["report", str(tmp_path / "nothing"), "--out", str(tmp_path / "r")]) == 3
    assert "nvc: error:" in capsys.readouterr().err


def test_qc_figures_are_written(pseudonymised):
    out, _ = pseudonymised
    for name in ("segmentation_mosaic", "tof_mip_arteries", "registration_checkerboard"):
        img = mpimg.imread(out / "qc" / f"{name}.png")
        assert img.shape[0] > 300 and img.shape[1] > 600
        assert img[..., :3].std() > 0.1  # an image, not a blank page


def test_exports_for_slicer_itksnap_and_printing(results, pseudonymised):
    out, _ = pseudonymised
    export = out / "export"
    labels = load_volume(export / "labels.nii.gz")
    original = load_volume(results / "labels.nii.gz")
    np.testing.assert_array_equal(labels.array, original.array)
    np.testing.assert_allclose(labels.affine, original.affine, atol=1e-5)
    rows = [ln.split() for ln in (export / "labels.ctbl").read_text().splitlines() if ln[0] != "#"]
    assert [int(r[0]) for r in rows] == [0] + [t.value for t in LABEL_TABLE]
    assert all(len(r) == 6 and all(0 <= int(v) <= 255 for v in r[2:]) for r in rows)
    snap = [ln for ln in (export / "labels_itksnap.txt").read_text().splitlines() if ln[0] != "#"]
    assert len(snap) == len(LABEL_TABLE) + 1 and '"facial nerve (CN VII)"' in snap[2]
    # the CN VII surface lies on the CN VII voxels, in the images' world (RAS mm)
    tri, normals = load_stl(export / "meshes" / "facial_nerve_cn7.stl")
    verts = tri.reshape(-1, 3)
    voxels = original.voxel_to_world(np.argwhere(original.array == Label.CN7))
    dist, _ = cKDTree(voxels).query(verts)
    assert np.percentile(dist, 95) < 0.8 * original.spacing.max() + 0.1
    centre = verts.mean(axis=0)
    # normals point outwards: away from the nerve's own axis on average
    tri_c = tri.mean(axis=1)
    _, near = cKDTree(voxels).query(tri_c)
    assert np.mean(np.sum(normals * (tri_c - voxels[near]), axis=1) > 0) > 0.9
    assert np.all(np.isfinite(centre))
    header = (export / "meshes" / "arteries.stl").read_bytes()[:80]
    assert b"SPACE=RAS" in header
    obj = (export / "meshes" / "arteries.obj").read_text().splitlines()
    assert "# SPACE=RAS" in obj
    n_v = sum(ln.startswith("v ") for ln in obj)
    faces = np.array([[int(x) for x in ln.split()[1:]] for ln in obj if ln.startswith("f ")])
    assert faces.min() == 1 and faces.max() == n_v


def test_a_side_whose_nerve_was_not_found_is_reported_as_such(results, tmp_path):
    folder = tmp_path / "res"
    shutil.copytree(results, folder, ignore=shutil.ignore_patterns("report"))
    findings = json.loads((folder / "findings.json").read_text())
    findings["sides"]["left"] = {
        "side": "left",
        "nerve_found": False,
        "nvc": False,
        "mvd_candidate": False,
        "confidence": 0.0,
        "reasons": ["facial nerve not found: no dark path to the canal"],
        "contacts": [],
        "rdp_mm": None,
        "nerve_length_mm": None,
        "cn8_separated": False,
    }
    (folder / "findings.json").write_text(json.dumps(findings))
    (folder / "cn7_centerline_left.tsv").unlink()
    assert main(["report", str(folder)]) == 0
    html = (folder / "report" / "report.html").read_text(encoding="utf-8")
    o = _outline(folder / "report" / "report.html")
    assert "side-left" in o.sections and "cpr" in o.figures
    assert not any(f.startswith("contact-L") for f in o.figures)
    assert "Facial nerve not found: no verdict" in html
    assert "no dark path to the canal" in html


def test_report_draws_progress_on_a_terminal_only(results, tmp_path, monkeypatch, capsys):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Terminal()
    monkeypatch.setattr(sys, "stdout", tty)
    assert main(["report", str(results), "--out", str(tmp_path / "r1")]) == 0
    text = tty.getvalue()
    assert "pdf" in text and "exports" in text and "100%" in text, text
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert main(["report", str(results), "--out", str(tmp_path / "r2"), "--quiet"]) == 0
    assert "%" not in sys.stdout.getvalue()


def test_3d_vessel_surfaces_are_whole_one_piece_per_labelled_vessel(results):
    from scipy import ndimage

    from nvc.io.results import load_results
    from nvc.report.render3d import crop_box, mesh_components, offender_mesh, scene_meshes

    case = load_results(results)
    meshes = scene_meshes(case)
    arteries = case.labels.array[crop_box(case)] == Label.ARTERY
    _, pieces = ndimage.label(arteries, structure=np.ones((3, 3, 3)))
    assert mesh_components(meshes[int(Label.ARTERY)]) == pieces
    # the offender's surface near its contact is drawn, on the artery surface
    offender = offender_mesh(case, "right")
    assert offender is not None and len(offender.faces) > 100
    dist, _ = cKDTree(meshes[int(Label.ARTERY)].vertices).query(offender.vertices)
    assert np.median(dist) < 0.5

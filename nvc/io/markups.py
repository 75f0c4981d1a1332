"""CN VII centerlines, landmarks and contact sites for 3D Slicer and ITK-SNAP.

3D Slicer: markups JSON (``.mrk.json``, schema v1.0.3) with
``"coordinateSystem": "LPS"``, the convention of Slicer's files: a point
(x, y, z) RAS mm is written (-x, -y, z). One curve per side's CN VII, one
point list of landmarks (RExP, RDP, porus per side) and one of contact sites.

ITK-SNAP places no points from a file; it shows segmentations with named
labels. The landmarks and contact sites are written as a label map on the
T2 grid (a ball of 1 mm radius per point; ``landmarks_itksnap.nii.gz``) with
an ITK-SNAP label description file naming each label
(``landmarks_itksnap.txt``: Segmentation > Import Label Descriptions).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from nvc.findings import Findings
from nvc.io.atomic import make_dirs, write_text
from nvc.io.nifti import save_nifti
from nvc.vocabulary import Side
from nvc.volume import Volume

SCHEMA = (
    "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/"
    "Resources/Schema/markups-schema-v1.0.3.json#"
)
#: RAS -> LPS (and back): the sign of x and y.
RAS_TO_LPS = np.array([-1.0, -1.0, 1.0])
#: Radius (mm) of each point's ball in the ITK-SNAP landmark label map.
LANDMARK_RADIUS_MM = 1.0


class Course(Protocol):
    """A CN VII course: points (RAS mm, shape (N, 3)) and arc lengths (mm, shape (N,))."""

    @property
    def points_ras(self) -> NDArray[np.float64]: ...

    @property
    def arc_mm(self) -> NDArray[np.float64]: ...


def landmarks(
    findings: Findings, centerlines: Mapping[Side, Course]
) -> list[tuple[str, NDArray[np.float64]]]:
    """(name, RAS mm point) of every side's RExP, RDP (the findings' ``rdp_mm``) and porus."""
    out = []
    for side, g in centerlines.items():
        pts, arc = np.asarray(g.points_ras, float), np.asarray(g.arc_mm, float)
        out.append((f"{side} RExP", pts[0]))
        s = findings.sides[side].rdp_mm if side in findings.sides else None
        if s is not None:
            out.append((f"{side} RDP", np.array([np.interp(s, arc, pts[:, i]) for i in range(3)])))
        out.append((f"{side} porus", pts[-1]))
    return out


def contact_sites(findings: Findings) -> list[tuple[str, NDArray[np.float64]]]:
    """(name, RAS mm point) of every reported vessel near CN VII (``R1 AICA contact`` ...)."""
    out = []
    for side, s in findings.sides.items():
        for i, c in enumerate(s.contacts):
            grade = c.grade or "apart"
            name = f"{side[0].upper()}{i + 1} {c.vessel_name} {grade} {c.min_distance_mm:.1f} mm"
            out.append((name, np.asarray(c.location_ras_mm, float)))
    return out


def slicer_markups(
    findings: Findings, centerlines: Mapping[Side, Course]
) -> dict[str, dict[str, Any]]:
    """The markups files' content: ``{file name: JSON document}`` (LPS coordinates).

    Files: ``cn7_<side>.mrk.json`` (curve, every 1 mm), ``landmarks.mrk.json``
    and ``contacts.mrk.json`` (point lists).
    """
    docs: dict[str, dict[str, Any]] = {}
    for side, g in centerlines.items():
        pts, arc = np.asarray(g.points_ras, float), np.asarray(g.arc_mm, float)
        keep = np.unique(
            [*np.searchsorted(arc, np.arange(0.0, arc[-1], 1.0)).tolist(), len(arc) - 1]
        )
        points = [(f"CN7-{side[0].upper()}-{n}", pts[k]) for n, k in enumerate(keep)]
        docs[f"cn7_{side}.mrk.json"] = _document(
            "Curve", f"CN VII {side}", points, (1.0, 0.85, 0.0)
        )
    docs["landmarks.mrk.json"] = _document(
        "Fiducial", "CN VII landmarks", landmarks(findings, centerlines), (1.0, 0.5, 0.0)
    )
    docs["contacts.mrk.json"] = _document(
        "Fiducial", "contact sites", contact_sites(findings), (1.0, 0.0, 1.0)
    )
    return docs


def _document(
    kind: str, name: str, points: list[tuple[str, NDArray[np.float64]]], rgb: tuple[float, ...]
) -> dict[str, Any]:
    control = [
        {
            "id": str(n + 1),
            "label": label,
            "description": "",
            "position": [round(float(v), 4) for v in np.asarray(p, float) * RAS_TO_LPS],
            "locked": True,
            "visibility": True,
            "positionStatus": "defined",
        }
        for n, (label, p) in enumerate(points)
    ]
    return {
        "@schema": SCHEMA,
        "markups": [
            {
                "type": kind,
                "name": name,
                "coordinateSystem": "LPS",
                "coordinateUnits": "mm",
                "locked": True,
                "controlPoints": control,
                "display": {"selectedColor": list(rgb), "color": list(rgb)},
            }
        ],
    }


def landmark_labels(
    points: list[tuple[str, NDArray[np.float64]]], reference: Volume
) -> tuple[Volume, str]:
    """A label map (uint16, ``reference``'s grid) with a ball per point, and its ITK-SNAP table.

    Label ``n`` (from 1) is the ``n``-th point; the table names it.
    """
    shape = reference.shape
    out = np.zeros(shape, np.uint16)
    sp = reference.spacing
    inverse = np.linalg.inv(reference.affine)
    reach = np.ceil(LANDMARK_RADIUS_MM / sp).astype(int)
    rows = [
        "################################################",
        "# ITK-SnAP Label Description File",
        "# nvc: CN VII landmarks and contact sites",
        "# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL",
        "################################################",
        '    0     0    0    0        0  0  0    "Clear Label"',
    ]
    for n, (label, p) in enumerate(points, start=1):
        c = inverse[:3, :3] @ np.asarray(p, float) + inverse[:3, 3]
        lo = np.maximum(np.floor(c).astype(int) - reach, 0)
        hi = np.minimum(np.ceil(c).astype(int) + reach + 1, shape)
        if np.any(hi <= lo):
            continue
        grid = np.stack(
            np.meshgrid(*(np.arange(a, b) for a, b in zip(lo, hi, strict=True)), indexing="ij"), -1
        )
        d = np.linalg.norm((grid - c) * sp, axis=-1)
        box = out[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        box[d <= LANDMARK_RADIUS_MM] = n
        r, g, b = (255, 0, 255) if label[1:2].isdigit() else (255, 140, 0)
        safe = label.replace('"', "'")
        rows.append(f'{n:5d} {r:5d} {g:4d} {b:4d}        1  1  1    "{safe}"')
    return Volume(out, reference.affine, {"kind": "nvc landmarks"}), "\n".join(rows) + "\n"


def write_markups(
    folder: str | Path,
    findings: Findings,
    centerlines: Mapping[Side, Course],
    reference: Volume | None = None,
) -> list[Path]:
    """Write the Slicer markups (and, given the T2 grid ``reference``, the ITK-SNAP landmarks).

    Each file is written atomically. Returns the paths written.
    """
    folder = Path(folder)
    make_dirs(folder)
    written = [
        write_text(folder / name, json.dumps(doc, indent=2) + "\n")
        for name, doc in slicer_markups(findings, centerlines).items()
    ]
    if reference is not None:
        points = landmarks(findings, centerlines) + contact_sites(findings)
        volume, table = landmark_labels(points, reference)
        written.append(save_nifti(volume, folder / "landmarks_itksnap.nii.gz", dtype=np.uint16))
        written.append(write_text(folder / "landmarks_itksnap.txt", table))
    return written

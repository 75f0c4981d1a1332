"""Turning Volumes and findings into napari layer data tuples (no napari import needed).

napari's world coordinates are RAS+ mm for every layer, in napari's (z, y, x)
axis order: world axis 0 is z (superior), 1 is y (anterior), 2 is x (patient
right). ``to_world`` turns RAS points (x, y, z) into world points. Volumes keep
their own grids (the layer's ``affine`` places them; arrays are shown with
axes (k, j, i)); points, centerlines and surfaces are given in world mm.

napari slices a 2D view only along axes that map to single data axes
(orthogonal slicing). Volumes are therefore shown in closest-canonical voxel
order (flips and permutations only, no interpolation); an oblique grid is in
addition resampled onto an axis-aligned RAS grid of the same voxel size
(linear for images, nearest for labels). Volumes that share a grid get the same
display grid, so their voxels coincide exactly on screen.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nvc.findings import Findings
from nvc.labels import LABEL_TABLE, Label, LabelInfo
from nvc.surface import label_surface
from nvc.vocabulary import Side
from nvc.volume import Volume, reorient_canonical, resample_to
from nvc_pipelines.results import Centerline, SavedCase

LayerData = tuple[Any, dict[str, Any], str]

#: Contact sites are drawn in this colour (RGBA 0-1): magenta, unlike any label colour.
CONTACT_RGBA = (1.0, 0.0, 1.0, 1.0)
#: Colours of the CN VII centerline by segment (RGBA 0-1).
SEGMENT_RGBA = {
    "RExP": (1.0, 0.35, 0.0, 1.0),
    "AS": (1.0, 0.6, 0.0, 1.0),
    "RDP": (1.0, 1.0, 1.0, 1.0),
    "TZ": (0.6, 1.0, 0.4, 1.0),
    "cisternal": (0.3, 0.9, 1.0, 1.0),
}
#: Structures shown as surfaces in 3D (conventional colours of the label table).
SURFACE_LABELS = (Label.BRAINSTEM, Label.CN7, Label.CN8, Label.ARTERY, Label.VEIN)
SURFACE_VALUES = tuple(int(v) for v in SURFACE_LABELS)
#: Off-axis direction cosines below this count as axis-aligned (float32 header noise).
AXIS_TOLERANCE = 1e-4


#: Reverses the three spatial axes: (x, y, z) <-> (z, y, x), (i, j, k) <-> (k, j, i).
REVERSE = np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1.0]])


def to_world(ras: Any) -> NDArray[np.float64]:
    """RAS mm points, shape (..., 3) as (x, y, z), to napari world points (z, y, x)."""
    return np.asarray(ras, float)[..., ::-1]


def from_world(world: Any) -> NDArray[np.float64]:
    """napari world points (z, y, x) to RAS mm (x, y, z)."""
    return np.asarray(world, float)[..., ::-1]


def napari_volume(volume: Volume) -> tuple[Any, NDArray[np.float64]]:
    """Array with axes (k, j, i) and its affine to napari world (z, y, x) mm."""
    return np.asarray(volume.array).transpose(2, 1, 0), REVERSE @ volume.affine @ REVERSE


def display_volume(volume: Volume, *, labels: bool = False) -> Volume:
    """The volume on a grid napari can slice orthogonally, at the same RAS position.

    Parameters
    ----------
    volume : Volume
        Any grid (RAS, LPS, coronal or sagittal storage, oblique).
    labels : bool
        Nearest-neighbour resampling (label maps) instead of linear.

    Returns
    -------
    Volume
        Axes (i, j, k) along (x, y, z) RAS; the same voxels when the grid is not
        oblique, otherwise resampled onto an axis-aligned grid with the same
        voxel size covering the whole field of view.
    """
    canon = reorient_canonical(volume)
    linear = canon.affine[:3, :3]
    spacing = canon.spacing
    directions = linear / spacing
    off = directions - np.diag(np.diag(directions))
    if np.all(np.abs(off) < AXIS_TOLERANCE):
        affine = canon.affine.copy()
        affine[:3, :3] = np.diag(np.diag(linear))
        return Volume(canon.array, affine, canon.metadata)
    lo, hi = volume.world_bounds()
    shape = tuple(int(n) for n in np.ceil((hi - lo) / spacing).astype(int) + 1)
    grid = np.diag([*spacing, 1.0])
    grid[:3, 3] = lo
    reference = Volume(np.broadcast_to(np.zeros((), np.uint8), shape), grid)
    return resample_to(volume, reference, interpolation="nearest" if labels else "linear")


#: CSF fills the cisterns: not tinted at all, so that the T2 under it reads as it is.
FAINT_LABELS = {int(Label.CSF): 0.0}


def label_colors(
    table: tuple[LabelInfo, ...] = LABEL_TABLE,
) -> dict[int | None, tuple[float, float, float, float]]:
    """RGBA (0-1) per label value, background transparent (napari direct colormap)."""
    colors: dict[int | None, tuple[float, float, float, float]] = {
        int(t.value): (
            t.rgb[0] / 255,
            t.rgb[1] / 255,
            t.rgb[2] / 255,
            FAINT_LABELS.get(int(t.value), 1.0),
        )
        for t in table
    }
    colors[0] = (0.0, 0.0, 0.0, 0.0)
    colors[None] = (0.0, 0.0, 0.0, 0.0)
    return colors


def image_layer(
    volume: Volume, name: str, *, input_role: str | None = None, **kwargs: Any
) -> LayerData:
    """An Image layer tuple whose affine places voxels at their RAS+ mm positions.

    ``input_role`` ("t2" or "mra") marks a case's own input image, which the dock
    widget's pickers then choose.
    """
    data, affine = napari_volume(display_volume(volume))
    role = {"nvc_input": input_role} if input_role else {}
    kwargs = {"metadata": {"nvc_slice": True, **role}, **kwargs}
    return (data, {"name": name, "affine": affine, **kwargs}, "image")


def labels_layer(
    volume: Volume, name: str, *, table: tuple[LabelInfo, ...] = LABEL_TABLE, **kwargs: Any
) -> LayerData:
    """A Labels layer tuple with the table's colours; label names show in the status bar."""
    data, affine = napari_volume(display_volume(volume, labels=True))
    values = [0, *(int(t.value) for t in table)]
    features = {
        "index": values,
        "name": ["background", *(t.name for t in table)],
        "abbreviation": ["", *(t.abbreviation for t in table)],
    }
    meta = {"nvc_label_table": [(int(t.value), t.name, t.hex) for t in table], "nvc_slice": True}
    return (
        data.astype(np.uint16, copy=False),
        {
            "name": name,
            "affine": affine,
            "colormap": label_colors(table),
            "features": features,
            "metadata": meta,
            **kwargs,
        },
        "labels",
    )


def contact_rows(findings: Findings) -> list[dict[str, Any]]:
    """One row per reported vessel near CN VII, both sides.

    Keys: side, vessel (name), vessel_class, segment, distance_from_rexp_mm,
    min_distance_mm, grade ("" when apart), mvd (this contact makes its side an
    MVD candidate: an artery touching the vulnerable zone of a side flagged as
    candidate), offender ("primary" for the side's primary offender, else ""),
    position (around the nerve), location_ras_mm (x, y, z).
    """
    rows = []
    for side, s in findings.sides.items():
        primary = (s.to_dict().get("offender") or {}).get("contact_index")
        for i, c in enumerate(s.contacts):
            rows.append(
                {
                    "side": side,
                    "vessel": c.vessel_name,
                    "vessel_class": c.vessel_class,
                    "segment": c.segment,
                    "distance_from_rexp_mm": c.distance_from_rexp_mm,
                    "min_distance_mm": c.min_distance_mm,
                    "grade": c.grade or "",
                    "mvd": bool(
                        s.mvd_candidate
                        and c.vessel_class == "artery"
                        and c.in_vulnerable_zone
                        and c.grade is not None
                    ),
                    "offender": "primary" if i == primary else "",
                    "position": c.position,
                    "location_ras_mm": c.location_ras_mm,
                }
            )
    return rows


#: The contact marker is a small cross this far (mm) beside the contact, so it never covers it.
MARKER_OFFSET_MM = 1.8
#: Size (mm) of a contact's cross, and of the primary offender's.
MARKER_SIZE_MM = 1.5
OFFENDER_MARKER_SIZE_MM = 2.2


def marker_position(row: dict[str, Any]) -> NDArray[np.float64]:
    """Where a contact's cross is drawn (RAS mm): ``MARKER_OFFSET_MM`` beside the contact.

    In the axial plane, across the nerve's mostly lateral course: posterior when
    the vessel lies anterior to the nerve, anterior otherwise, so that the cross
    sits on neither the vessel nor the contact.
    """
    loc = np.asarray(row["location_ras_mm"], float)
    toward = -1.0 if "anterior" in str(row.get("position", "")) else 1.0
    return loc + np.array([0.0, toward * MARKER_OFFSET_MM, 0.0])


def contacts_layer(
    findings: Findings, name: str = "contact sites", *, folder: Any = None
) -> LayerData:
    """Small crosses beside the contact sites, with the findings as features and names as text.

    Each cross sits ``MARKER_OFFSET_MM`` beside its contact (``marker_position``),
    so the contact itself stays visible; the exact location is in the features
    (``x_mm``, ``y_mm``, ``z_mm``). The primary offender is drawn larger and
    named as such. The findings (and ``folder``, the results folder they were
    read from, if any) are in the layer's metadata: the dock widget shows them
    when the layer is added.
    """
    rows = contact_rows(findings)
    coords = to_world(np.array([marker_position(r) for r in rows], float).reshape(-1, 3))
    columns = [k for k in rows[0] if k != "location_ras_mm"] if rows else []
    features: dict[str, Any] = {k: [r[k] for r in rows] for k in columns}
    if rows:
        for axis, key in enumerate(("x_mm", "y_mm", "z_mm")):
            features[key] = [r["location_ras_mm"][axis] for r in rows]
        features["label"] = [
            f"{r['vessel']} (primary offender)" if r["offender"] else r["vessel"] for r in rows
        ]
    return (
        coords,
        {
            "name": name,
            "features": features,
            "size": [OFFENDER_MARKER_SIZE_MM if r["offender"] else MARKER_SIZE_MM for r in rows]
            or MARKER_SIZE_MM,
            "face_color": [CONTACT_RGBA],
            "border_color": [CONTACT_RGBA],
            "border_width": 0.0,
            "symbol": "cross",
            # drawn over the surfaces in 3D (a contact lies where vessel and nerve meet)
            "blending": "translucent_no_depth",
            "text": {
                "string": "{label}",
                "color": "magenta",
                "size": 11,
                "anchor": "upper_left",
            }
            if rows
            else None,
            "metadata": {
                "nvc_findings": findings,
                **({"nvc_results_dir": str(folder)} if folder is not None else {}),
            },
        },
        "points",
    )


def centerline_layer(
    centerlines: dict[Side, Centerline], name: str = "CN VII centerline"
) -> LayerData:
    """Points along both CN VII centerlines (RAS mm) coloured by segment."""
    pts, segs, sides, arcs = [], [], [], []
    for side, c in centerlines.items():
        pts.append(c.points_ras)
        segs += list(c.segments)
        sides += [side] * len(c.segments)
        arcs.append(c.arc_mm)
    coords = to_world(np.concatenate(pts)) if pts else np.zeros((0, 3))
    colors = np.array([SEGMENT_RGBA.get(s, (1, 1, 1, 1)) for s in segs]).reshape(-1, 4)
    return (
        coords,
        {
            "name": name,
            "size": 0.5,
            "face_color": colors if len(colors) else "white",
            "border_width": 0,
            "features": {
                "side": sides,
                "segment": segs,
                "arc_mm": np.concatenate(arcs) if arcs else np.zeros(0),
            },
        },
        "points",
    )


def surface_layers(
    labels: Volume,
    *,
    table: tuple[LabelInfo, ...] = LABEL_TABLE,
    values: tuple[int, ...] = SURFACE_VALUES,
    **kwargs: Any,
) -> list[LayerData]:
    """Marching-cubes surfaces (RAS mm vertices) of the given labels, in the table's colours.

    Surfaces come from ``nvc.surface.label_surface``: each mask is smoothed by a
    Gaussian of 0.6 voxel before the 0.5 iso-surface is taken, which rounds the
    voxel staircase without moving the surface (a mask too thin for that keeps
    its voxel surface).
    """
    info = {int(t.value): t for t in table}
    out: list[LayerData] = []
    array = np.asarray(labels.array)
    for value in values:
        mask = array == value
        if not mask.any() or value not in info:
            continue
        mesh = label_surface(mask, labels.affine)
        if len(mesh.faces) == 0:
            continue
        # faces point outwards in RAS; RAS -> (z, y, x) flips handedness, which
        # ``vertex_normals`` undoes (it orients normals by the enclosed volume)
        faces = mesh.faces
        rgb = np.array(info[value].rgb) / 255.0
        world = to_world(mesh.vertices)
        normals = vertex_normals(world, faces)
        out.append(
            (
                (world, np.ascontiguousarray(faces)),
                {
                    "name": f"{info[value].name} (3D)",
                    "vertex_colors": shade(rgb, normals, *FRONT_VIEW),
                    # napari's own lighting is off: with the camera's one axis flip
                    # (see nvc_napari.view) it lights surfaces from behind, so the
                    # smooth shading is computed here (``shade``) and follows the camera
                    "shading": "none",
                    "metadata": {"nvc_surface": True, "nvc_rgb": rgb, "nvc_normals": normals},
                    **kwargs,
                },
                "surface",
            )
        )
    return out


#: View and up directions (world z, y, x) of the 3D view's first camera (from the front).
FRONT_VIEW = (np.array([-0.45, -1.0, 0.0]), np.array([1.0, 0.0, 0.0]))
#: Share of ambient light: the rest is diffuse (Lambert) from a light near the camera.
AMBIENT = 0.3


def vertex_normals(verts: NDArray[np.float64], faces: NDArray[np.int_]) -> NDArray[np.float64]:
    """Unit normals at the vertices of a closed mesh (area-weighted), pointing outwards."""
    v = np.asarray(verts, float)
    tri = v[faces]
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # length: twice the area
    normals = np.zeros_like(v)
    for corner in range(3):
        np.add.at(normals, faces[:, corner], face_n)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.divide(normals, length, out=np.zeros_like(normals), where=length > 0)
    # outwards: the signed volume enclosed by the faces' winding is positive
    if np.einsum("ij,ij->", tri[:, 0], face_n) < 0:
        normals = -normals
    return normals


def shade(rgb: Any, normals: NDArray[np.float64], view: Any, up: Any) -> NDArray[np.float64]:
    """RGBA per vertex: ``rgb`` lit by a light just above the camera (smooth, Lambert).

    ``view`` and ``up`` are the camera's directions in the same frame as ``normals``.
    """
    view = np.asarray(view, float) / np.linalg.norm(view)
    up = np.asarray(up, float) / np.linalg.norm(up)
    towards_light = -(view - 0.35 * up)
    towards_light /= np.linalg.norm(towards_light)
    diffuse = np.clip(normals @ towards_light, 0.0, 1.0)
    light = AMBIENT + (1.0 - AMBIENT) * diffuse
    colors = np.ones((len(normals), 4))
    colors[:, :3] = np.asarray(rgb, float)[None, :3] * light[:, None]
    return colors


#: Colour of the primary offender's surface in 3D (not a label colour).
OFFENDER_RGB = (1.0, 0.45, 0.0)


def vessel_window(volume: Volume) -> tuple[float, float]:
    """Contrast limits that show a TOF's arteries and hide stationary tissue.

    From the 98th percentile (above brain and CSF: arteries fill about 1 % of a
    posterior-fossa TOF) to the 99.95th (the brightest arterial inflow).
    """
    a = np.asarray(volume.array, np.float32).ravel()
    sample = a[:: max(1, a.size // 2_000_000)]
    lo, hi = np.percentile(sample, [98.0, 99.95])
    return float(lo), float(max(hi, lo + 1e-6))


def axial_outlines(labels: NDArray[np.integer]) -> NDArray[np.integer]:
    """Each label's outline in its axial slice (napari order (k, j, i)); interiors set to 0.

    A voxel is kept when one of its four in-slice neighbours holds another
    value, so an axial view shows every structure as an outline one voxel
    wide and the T2 inside it stays visible (thin nerves and vessels, two or
    three voxels across, stay whole). napari's own ``contour`` does the same
    in 2D but warns whenever the layer is sliced in 3D.
    """
    a = np.asarray(labels)
    edge = np.zeros(a.shape, bool)
    for axis in (1, 2):
        differs = np.diff(a, axis=axis) != 0
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        edge[tuple(lo)] |= differs
        edge[tuple(hi)] |= differs
    return np.where(edge, a, 0).astype(a.dtype, copy=False)


def offender_layers(case: SavedCase) -> list[LayerData]:
    """Orange surfaces of each side's primary offender near its contact (hidden; 3D)."""
    from nvc.vascular_context import vessel_near

    out: list[LayerData] = []
    arteries = np.asarray(case.labels.array) == Label.ARTERY
    for side, s in case.findings.sides.items():
        o = s.to_dict().get("offender")
        if not o or not arteries.any():
            continue
        c = s.contacts[int(o["contact_index"])]
        vox = vessel_near(
            arteries,
            np.asarray(c.location_ras_mm, float),
            case.labels.affine,
            case.labels.spacing,
            8.0,
        )
        if not len(vox):
            continue
        mask = np.zeros(arteries.shape, np.uint8)
        mask[tuple(vox.T)] = 1
        info = LabelInfo(1, f"primary offender {c.vessel_name}, {side}", "OFF", (255, 115, 0))
        out += surface_layers(
            case.labels.with_array(mask), table=(info,), values=(1,), visible=False
        )
    return out


def case_layers(case: SavedCase, *, surfaces: bool = True) -> list[LayerData]:
    """Every layer of a finished case, aligned in RAS mm (2D view first, 3D surfaces hidden).

    The 2D default is the "T2 + TOF fusion" a reader sets up in 3D Slicer:
    the T2 in grey, the registered TOF over it in red with a vessel window
    (``vessel_window``), labels as outlines in the axial slices
    (``axial_outlines``) without a CSF tint. Every layer's
    metadata carries ``nvc_case``, a key of this case (a second case's
    layers can be told from the first's).
    """
    layers: list[LayerData] = [image_layer(case.t2, "T2", input_role="t2", colormap="gray")]
    if case.mra_registered is not None:
        layers.append(
            image_layer(
                case.mra_registered,
                "TOF (registered)",
                input_role="mra",
                colormap="red",
                blending="additive",
                contrast_limits=vessel_window(case.mra_registered),
                opacity=0.8,
                visible=True,
            )
        )
    if case.distance is not None:
        layers.append(
            image_layer(
                case.distance,
                "distance to CN VII (mm)",
                colormap="turbo",
                contrast_limits=(0.0, 5.0),
                opacity=0.5,
                visible=False,
            )
        )
    data, kwargs, kind = labels_layer(case.labels, "labels", table=case.label_table, opacity=0.9)
    kwargs["metadata"] = {**kwargs["metadata"], "nvc_outlines": True}
    layers.append((axial_outlines(data), kwargs, kind))
    if surfaces:
        layers += surface_layers(case.labels, table=case.label_table, visible=False)
        layers += offender_layers(case)
    if case.centerlines:
        layers.append(centerline_layer(case.centerlines))
    layers.append(contacts_layer(case.findings, folder=case.folder))
    key = uuid.uuid4().hex
    return [
        (data, {**kwargs, "metadata": {**kwargs.get("metadata", {}), "nvc_case": key}}, kind)
        for data, kwargs, kind in layers
    ]

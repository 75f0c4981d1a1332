"""3D rendering of CN VII/VIII, vessels and brainstem (matplotlib, orthographic, shaded).

Surfaces come from ``nvc.report.surfaces.label_surface`` (RAS+ mm) at full
resolution (marching-cubes step 1 after a light blur, so that a 1.5 mm
artery stays one tube rather than specks), in a box around both
cerebellopontine angles widened to hold every artery that enters it whole
as far as ``vessel_reach_mm`` (an offender stays joined to its parent
trunk). Views: from the front and from below, then one per side along the
retrosigmoid corridor (from behind, lateral and slightly above, as the
surgeon sees the cerebellopontine angle once the cerebellum is retracted;
only that side's half is drawn) with the primary offender highlighted and
named.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.patches import Patch
from mpl_toolkits.mplot3d.art3d import Poly3DCollection
from numpy.typing import NDArray
from scipy import ndimage

from nvc.labels import Label
from nvc.report.case import ReportCase, contact_label
from nvc.report.drawing import (
    MARKER,
    MARKER_COLOUR,
    OUTLINE,
    direction_letters,
    label_info,
    legend_handles,
    new_figure,
    rgb01,
)
from nvc.report.surfaces import Mesh, label_surface
from nvc.vascular_context import vessel_near

#: Structures drawn, with their opacity.
STRUCTURES: tuple[tuple[int, float], ...] = (
    (Label.BRAINSTEM, 0.22),
    (Label.VEIN, 1.0),
    (Label.CN8, 1.0),
    (Label.CN7, 1.0),
    (Label.ARTERY, 1.0),
)
#: Views: (title, elevation, azimuth) in degrees (matplotlib's camera angles).
VIEWS = (
    ("seen from the front (anterior view)", 8.0, 90.0, "RLSI"),
    ("seen from below (inferior view, as axial slices)", -89.0, 90.0, "RLAP"),
)
#: Retrosigmoid view per side: camera behind (posterior), lateral and slightly superior.
RETROSIGMOID_ELEVATION = 20.0
RETROSIGMOID_AZIMUTH = {"right": -50.0, "left": -130.0}
#: Iso-level of nerves and vessels (``label_surface``): below 0.5, so that a thin vessel whose
#: voxels touch only along edges stays one surface (one piece per connected labelled vessel).
THIN_LEVEL = 0.35
#: Colour of the primary offender's surface (not a label colour).
OFFENDER_COLOUR = (1.0, 0.45, 0.0)
#: The offender is highlighted over this distance from its contact (mm).
OFFENDER_RADIUS_MM = 8.0


def crop_box(
    case: ReportCase, *, margin_mm: float = 8.0, vessel_reach_mm: float = 25.0
) -> tuple[slice, slice, slice]:
    """Index box around both CN VII/VIII and the contacts, widened for whole arteries.

    The box holds both nerves (and the contacts) plus ``margin_mm``; it is
    then widened to the bounding box of every artery (connected piece of
    the artery label) that enters it, as far as ``vessel_reach_mm`` beyond
    the nerves, so that a branch is not cropped off its parent trunk.
    """
    lab = case.labels.array
    idx = np.argwhere((lab == Label.CN7) | (lab == Label.CN8))
    pts = [idx]
    for side in case.findings.sides.values():
        for c in side.contacts:
            pts.append(np.round(case.labels.world_to_voxel(c.location_ras_mm))[None].astype(int))
    if not len(idx):
        idx = np.argwhere(lab == Label.BRAINSTEM)
        pts = [idx]
    allp = np.concatenate(pts)
    if not len(allp):
        return (slice(None), slice(None), slice(None))
    sp = case.labels.spacing
    m = np.ceil(margin_mm / sp).astype(int)
    lo = np.maximum(allp.min(axis=0) - m, 0)
    hi = np.minimum(allp.max(axis=0) + m + 1, lab.shape)
    reach = np.ceil(vessel_reach_mm / sp).astype(int)
    rlo = np.maximum(allp.min(axis=0) - reach, 0)
    rhi = np.minimum(allp.max(axis=0) + reach + 1, lab.shape)
    wide = tuple(slice(int(a), int(b)) for a, b in zip(rlo, rhi, strict=True))
    pieces, _ = ndimage.label(lab[wide] == Label.ARTERY, structure=np.ones((3, 3, 3)))
    inner = tuple(slice(int(a - o), int(b - o)) for a, b, o in zip(lo, hi, rlo, strict=True))
    entering = np.unique(pieces[inner])
    entering = entering[entering > 0]
    if entering.size:
        vox = np.argwhere(np.isin(pieces, entering)) + rlo
        lo = np.minimum(lo, vox.min(axis=0))
        hi = np.maximum(hi, vox.max(axis=0) + 1)
    return (
        slice(int(lo[0]), int(hi[0])),
        slice(int(lo[1]), int(hi[1])),
        slice(int(lo[2]), int(hi[2])),
    )


def scene_meshes(case: ReportCase, *, step: int = 1, smoothing_vox: float = 0.5) -> dict[int, Mesh]:
    """Meshes (RAS mm) of the drawn structures inside ``crop_box``.

    The brainstem, large and smooth, is meshed at step 2; nerves and
    vessels at ``step`` (1: full resolution) and iso-level ``THIN_LEVEL``.
    """
    box = crop_box(case)
    shift = np.eye(4)
    shift[:3, 3] = [s.start or 0 for s in box]
    affine = case.labels.affine @ shift
    lab = case.labels.array[box]
    meshes = {}
    for value, _ in STRUCTURES:
        mesh = label_surface(
            lab == value,
            affine,
            step=max(step, 2) if value == Label.BRAINSTEM else step,
            smoothing_vox=0.8 if value == Label.BRAINSTEM else smoothing_vox,
            level=0.5 if value == Label.BRAINSTEM else THIN_LEVEL,
        )
        if len(mesh.faces):
            meshes[int(value)] = mesh
    return meshes


def offender_mesh(case: ReportCase, side: str, *, step: int = 1) -> Mesh | None:
    """Surface of the primary offender of ``side`` near its contact (None without one)."""
    found = case.findings.sides.get(side)  # type: ignore[call-overload]
    o = None if found is None else found.to_dict().get("offender")
    if not o:
        return None
    c = found.contacts[int(o["contact_index"])]
    lab = case.labels
    vox = vessel_near(
        lab.array == Label.ARTERY,
        np.asarray(c.location_ras_mm, float),
        lab.affine,
        lab.spacing,
        OFFENDER_RADIUS_MM,
    )
    if not len(vox):
        return None
    mask = np.zeros(lab.shape, bool)
    mask[tuple(vox.T)] = True
    mesh = label_surface(mask, lab.affine, step=step, smoothing_vox=0.5, level=THIN_LEVEL)
    return mesh if len(mesh.faces) else None


def mesh_components(mesh: Mesh) -> int:
    """Number of connected pieces of a mesh (faces sharing vertices)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not len(mesh.faces):
        return 0
    f = mesh.faces
    rows = np.concatenate([f[:, 0], f[:, 1], f[:, 2]])
    cols = np.concatenate([f[:, 1], f[:, 2], f[:, 0]])
    n = len(mesh.vertices)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    used = np.zeros(n, bool)
    used[f.ravel()] = True
    _, comp = connected_components(graph, directed=False)
    return int(np.unique(comp[used]).size)


def _view_vector(elev: float, azim: float) -> NDArray[np.float64]:
    e, a = np.radians(elev), np.radians(azim)
    return np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)])


def _screen_axes(elev: float, azim: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """RAS directions of the screen's right and up for a matplotlib camera (z up)."""
    eye = _view_vector(elev, azim)
    right = np.cross(-eye, [0.0, 0.0, 1.0])
    right /= max(float(np.linalg.norm(right)), 1e-9)
    up = np.cross(right, -eye)
    return right, up / max(float(np.linalg.norm(up)), 1e-9)


def _draw_meshes(
    ax: Any,
    parts: list[tuple[Mesh, tuple[float, float, float], float]],
    view: NDArray[np.float64],
) -> None:
    """Draw (mesh, colour, opacity) parts as one collection, so faces are depth-sorted together."""
    tris, colours = [], []
    for mesh, colour, alpha in parts:
        tri = mesh.vertices[mesh.faces]
        n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
        shade = 0.35 + 0.65 * np.abs(n @ view)
        rgba = np.empty((len(tri), 4))
        rgba[:, :3] = np.clip(np.asarray(colour)[None, :] * shade[:, None], 0, 1)
        rgba[:, 3] = alpha
        tris.append(tri)
        colours.append(rgba)
    if tris:
        ax.add_collection3d(
            Poly3DCollection(
                np.concatenate(tris), facecolors=np.concatenate(colours), edgecolors="none"
            )
        )


def _without(mesh: Mesh, part: Mesh, within_mm: float = 0.3) -> Mesh:
    """``mesh`` less its faces lying on ``part`` (so the highlighted part is not hidden)."""
    from scipy.spatial import cKDTree

    d, _ = cKDTree(part.vertices).query(mesh.vertices[mesh.faces].mean(axis=1))
    return Mesh(mesh.vertices, mesh.faces[d > within_mm])


def _half(mesh: Mesh, side: str, midline_x: float, keep_mm: float = 3.0) -> Mesh:
    """The faces of ``mesh`` on ``side`` of the midline (and ``keep_mm`` beyond it)."""
    sign = 1.0 if side == "right" else -1.0
    centre_x = mesh.vertices[mesh.faces].mean(axis=1)[:, 0]
    keep = sign * (centre_x - midline_x) >= -keep_mm
    return Mesh(mesh.vertices, mesh.faces[keep])


def render_figure(case: ReportCase, *, meshes: dict[int, Mesh] | None = None) -> Any:
    """Front and inferior views, then a retrosigmoid view per side; letters and 10 mm bars.

    Returns
    -------
    matplotlib.figure.Figure
    """
    meshes = scene_meshes(case) if meshes is None else meshes
    sides = [s for s in ("right", "left") if s in case.centerlines]
    rows = 2 if sides else 1
    fig = new_figure(10.0, 5.6 * rows)
    if not meshes:
        fig.text(0.5, 0.5, "nothing to render", ha="center")
        return fig
    allv = np.concatenate([m.vertices for m in meshes.values()])
    lo, hi = allv.min(axis=0), allv.max(axis=0)
    for col, (title, elev, azim, letters) in enumerate(VIEWS):
        ax = fig.add_subplot(rows, 2, col + 1, projection="3d")
        ax.set_proj_type("ortho")
        view = _view_vector(elev, azim)
        _draw_meshes(
            ax,
            [
                (meshes[int(v)], rgb01(label_info(int(v))), alpha)
                for v, alpha in STRUCTURES
                if int(v) in meshes
            ],
            view,
        )
        _contact_markers(ax, case)
        _frame(ax, lo, hi, elev, azim)
        _letters(ax, letters)
        _scale_bar(ax, lo, hi, elev)
        ax.set_title(title, fontsize=10)
    midline = _midline_x(case)
    for col, side in enumerate(sides):
        ax = fig.add_subplot(rows, 2, 3 + col, projection="3d")
        ax.set_proj_type("ortho")
        elev, azim = RETROSIGMOID_ELEVATION, RETROSIGMOID_AZIMUTH[side]
        view = _view_vector(elev, azim)
        half = {v: _half(m, side, midline) for v, m in meshes.items()}
        half = {v: m for v, m in half.items() if len(m.faces)}
        parts = [
            (half[int(v)], rgb01(label_info(int(v))), alpha)
            for v, alpha in STRUCTURES
            if int(v) in half
        ]
        off = offender_mesh(case, side)
        if off is not None:  # drawn over the artery surface it lies on
            parts.append((off, OFFENDER_COLOUR, 1.0))
            parts = (
                [p for p in parts if p[0] is not half.get(int(Label.ARTERY))]
                + [
                    (
                        _without(half[int(Label.ARTERY)], off),
                        rgb01(label_info(int(Label.ARTERY))),
                        1.0,
                    )
                ]
                if int(Label.ARTERY) in half
                else parts
            )
        _draw_meshes(ax, parts, view)
        _contact_markers(ax, case, only=side, names=True)
        hv = np.concatenate([m.vertices[np.unique(m.faces)] for m in half.values()])
        hlo, hhi = hv.min(axis=0), hv.max(axis=0)
        _frame(ax, hlo, hhi, elev, azim)
        right, up = _screen_axes(elev, azim)
        _letters(
            ax,
            "".join(direction_letters(v)[0] for v in (-right, right, up, -up)),
        )
        _scale_bar(ax, hlo, hhi, elev)
        ax.set_title(
            f"{side} side along the retrosigmoid corridor\n(from behind, lateral and above)",
            fontsize=10,
        )
    handles = legend_handles([v for v, _ in STRUCTURES if int(v) in meshes], marker="contact")
    if int(Label.BRAINSTEM) in meshes:  # a transparent surface here, not a dashed outline
        handles[0] = Patch(
            facecolor=rgb01(label_info(int(Label.BRAINSTEM))), alpha=0.4, label="brainstem"
        )
    if sides:
        handles.append(
            Patch(facecolor=OFFENDER_COLOUR, edgecolor="black", label="primary offender")
        )
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.subplots_adjust(left=0.0, right=1.0, top=0.95, bottom=0.07, wspace=0.0, hspace=0.08)
    return fig


def _frame(
    ax: Any, lo: NDArray[np.float64], hi: NDArray[np.float64], elev: float, azim: float
) -> None:
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_zlim(lo[2], hi[2])
    ax.set_box_aspect(np.maximum(hi - lo, 1e-3), zoom=1.12)
    ax.view_init(elev=elev, azim=azim)
    ax.set_axis_off()


def _midline_x(case: ReportCase) -> float:
    """RAS x of the brainstem's centre (0 when there is none)."""
    idx = np.argwhere(case.labels.array == Label.BRAINSTEM)
    if not len(idx):
        return 0.0
    return float(case.labels.voxel_to_world(idx[:: max(len(idx) // 5000, 1)])[:, 0].mean())


def _contact_markers(
    ax: Any, case: ReportCase, *, only: str | None = None, names: bool = False
) -> None:
    for side, s in case.findings.sides.items():
        if only is not None and side != only:
            continue
        primary = (s.to_dict().get("offender") or {}).get("contact_index")
        for i, c in enumerate(s.contacts):
            x, y, z = c.location_ras_mm
            ax.scatter(
                [x],
                [y],
                [z],
                s=90,
                marker=MARKER,
                facecolors="none",
                edgecolors=MARKER_COLOUR,
                linewidths=2.0,
                depthshade=False,
            )
            if names:
                text = f"{contact_label(side, i)} {c.vessel_name}"
                if i == primary:
                    text += " (primary offender)"
                ax.text(
                    x,
                    y,
                    z + 2.0,
                    text,
                    color="white",
                    fontsize=8,
                    fontweight="bold",
                    path_effects=OUTLINE,
                    zorder=10,
                )


def _letters(ax: Any, letters: str) -> None:
    """Patient directions at the (left, right, top, bottom) edges of a view."""
    style = {"fontsize": 13, "fontweight": "bold", "color": "black", "transform": ax.transAxes}
    for (x, y), letter in zip(
        ((0.02, 0.5), (0.98, 0.5), (0.5, 0.93), (0.5, 0.07)), letters, strict=True
    ):
        ax.text2D(x, y, letter, ha="center", va="center", **style)


def _scale_bar(ax: Any, lo: NDArray[np.float64], hi: NDArray[np.float64], elev: float) -> None:
    """A 10 mm bar along x (patient left-right) under the scene, exact in an orthographic view."""
    x0 = (lo[0] + hi[0]) / 2 - 5.0
    if abs(elev) > 45:  # looking along z: put the bar behind (posterior) the scene
        y, z = lo[1] - 0.05 * (hi[1] - lo[1]), lo[2]
    else:  # looking along y: put it under the scene
        y, z = hi[1], lo[2] - 0.05 * (hi[2] - lo[2])
    ax.plot([x0, x0 + 10.0], [y, y], [z, z], color="black", linewidth=3)
    ax.text(x0 + 5.0, y, z, "10 mm", fontsize=9, ha="center", va="top")

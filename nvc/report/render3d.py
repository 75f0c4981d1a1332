"""3D rendering of CN VII/VIII, vessels and brainstem (matplotlib, orthographic, shaded).

Surfaces come from ``nvc.report.surfaces.label_surface`` (RAS+ mm), cropped to a
box around both cerebellopontine angles.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mpl_toolkits.mplot3d.art3d import Poly3DCollection
from numpy.typing import NDArray

from nvc.labels import Label
from nvc.report.case import ReportCase
from nvc.report.drawing import MARKER_COLOUR, label_info, legend_handles, new_figure, rgb01
from nvc.report.surfaces import Mesh, label_surface

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


def crop_box(case: ReportCase, *, margin_mm: float = 8.0) -> tuple[slice, slice, slice]:
    """Index box around both CN VII/VIII (and the contacts) plus ``margin_mm``."""
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
    m = np.ceil(margin_mm / case.labels.spacing).astype(int)
    lo = np.maximum(allp.min(axis=0) - m, 0)
    hi = np.minimum(allp.max(axis=0) + m + 1, lab.shape)
    return (slice(lo[0], hi[0]), slice(lo[1], hi[1]), slice(lo[2], hi[2]))


def scene_meshes(case: ReportCase, *, step: int = 2) -> dict[int, Mesh]:
    """Meshes (RAS mm) of the drawn structures inside ``crop_box``."""
    box = crop_box(case)
    shift = np.eye(4)
    shift[:3, 3] = [s.start or 0 for s in box]
    affine = case.labels.affine @ shift
    lab = case.labels.array[box]
    meshes = {}
    for value, _ in STRUCTURES:
        mesh = label_surface(lab == value, affine, step=step)
        if len(mesh.faces):
            meshes[int(value)] = mesh
    return meshes


def _view_vector(elev: float, azim: float) -> NDArray[np.float64]:
    e, a = np.radians(elev), np.radians(azim)
    return np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)])


def _draw_mesh(
    ax: Any, mesh: Mesh, colour: tuple[float, float, float], alpha: float, view: NDArray[np.float64]
) -> None:
    tri = mesh.vertices[mesh.faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    shade = 0.35 + 0.65 * np.abs(n @ view)
    rgba = np.empty((len(tri), 4))
    rgba[:, :3] = np.clip(np.asarray(colour)[None, :] * shade[:, None], 0, 1)
    rgba[:, 3] = alpha
    ax.add_collection3d(Poly3DCollection(tri, facecolors=rgba, edgecolors="none"))


def render_figure(case: ReportCase, *, meshes: dict[int, Mesh] | None = None) -> Any:
    """Two orthographic views of the nerves, vessels and brainstem, with letters and a 10 mm bar.

    Returns
    -------
    matplotlib.figure.Figure
    """
    meshes = scene_meshes(case) if meshes is None else meshes
    fig = new_figure(10.0, 5.6)
    if not meshes:
        fig.text(0.5, 0.5, "nothing to render", ha="center")
        return fig
    allv = np.concatenate([m.vertices for m in meshes.values()])
    lo, hi = allv.min(axis=0), allv.max(axis=0)
    for col, (title, elev, azim, letters) in enumerate(VIEWS):
        ax = fig.add_subplot(1, 2, col + 1, projection="3d")
        ax.set_proj_type("ortho")
        view = _view_vector(elev, azim)
        for value, alpha in STRUCTURES:
            if int(value) in meshes:
                _draw_mesh(ax, meshes[int(value)], rgb01(label_info(int(value))), alpha, view)
        _contact_markers(ax, case)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_zlim(lo[2], hi[2])
        ax.set_box_aspect(hi - lo, zoom=1.12)
        ax.view_init(elev=elev, azim=azim)
        ax.set_axis_off()
        _letters(ax, letters)
        _scale_bar(ax, lo, hi, elev)
        ax.set_title(title, fontsize=10)
    fig.legend(
        handles=legend_handles([v for v, _ in STRUCTURES if int(v) in meshes], marker="contact"),
        loc="lower center",
        ncol=3,
        fontsize=8,
        frameon=False,
    )
    fig.subplots_adjust(left=0.0, right=1.0, top=0.92, bottom=0.1, wspace=0.0)
    return fig


def _contact_markers(ax: Any, case: ReportCase) -> None:
    for side in case.findings.sides.values():
        for c in side.contacts:
            x, y, z = c.location_ras_mm
            ax.scatter(
                [x],
                [y],
                [z],
                s=90,
                facecolors="none",
                edgecolors=MARKER_COLOUR,
                linewidths=2.0,
                depthshade=False,
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

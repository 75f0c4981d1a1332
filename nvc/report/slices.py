"""Oblique-free slices through a point: axial and coronal planes of the world (RAS) frame.

Images are shown in the radiological convention: the patient's right on the
screen's left; anterior up on axial planes, superior up on coronal planes.
Sampling goes through the volume's affine, so an oblique or LPS-stored grid is
shown in the same world orientation as an RAS one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from nvc.contacts import Contact
from nvc.labels import Label
from nvc.report.case import Centerline, ReportCase
from nvc.report.drawing import (
    MARKER,
    MARKER_COLOUR,
    OUTLINE,
    OVERLAY_ORDER,
    direction_letters,
    draw_labels,
    legend_handles,
    new_figure,
    orientation_letters,
    scale_bar,
    show_gray,
)
from nvc.vocabulary import Side
from nvc.volume import Volume

Plane = Literal["axial", "coronal"]

#: Screen axes per plane as RAS unit vectors: (screen right, screen up), radiological convention.
PLANES: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "axial": ((-1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
    "coronal": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
}
#: Patient direction letters at the (left, right, top, bottom) edges of each plane.
LETTERS = {"axial": ("R", "L", "A", "P"), "coronal": ("R", "L", "S", "I")}


@dataclass(frozen=True)
class PlaneGrid:
    """A square grid of points in a world plane.

    Attributes
    ----------
    points : ndarray, shape (n, n, 3)
        RAS mm of each pixel, rows from the screen's top to its bottom.
    half_width_mm : float
        Half the panel's side (mm); the screen extent is (-h, h, -h, h).
    """

    points: NDArray[np.float64]
    half_width_mm: float

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``imshow`` extent in screen mm (left, right, bottom, top)."""
        h = self.half_width_mm
        return (-h, h, -h, h)


def plane_grid(
    center_ras: ArrayLike,
    right: ArrayLike,
    up: ArrayLike,
    *,
    half_width_mm: float,
    pixel_mm: float,
) -> PlaneGrid:
    """World points of a square panel centred on ``center_ras``.

    Parameters
    ----------
    center_ras : array_like, shape (3,)
        Panel centre, RAS mm.
    right, up : array_like, shape (3,)
        Unit RAS directions of the screen's right and up.
    half_width_mm, pixel_mm : float
        Half the panel side and the pixel size, mm.
    """
    n = max(round(2 * half_width_mm / pixel_mm), 2)
    t = (np.arange(n) + 0.5) * (2 * half_width_mm / n) - half_width_mm
    c = np.asarray(center_ras, float)
    r = np.asarray(right, float)
    u = np.asarray(up, float)
    pts = c + t[None, :, None] * r + t[::-1, None, None] * u
    return PlaneGrid(pts, half_width_mm)


def sample(volume: Volume, points_ras: NDArray[np.float64], *, order: int) -> NDArray[Any]:
    """Values of ``volume`` at RAS points (any leading shape); 0 outside the grid.

    ``order`` 0 for label maps (nearest), 1 for images (linear).
    """
    ijk = volume.world_to_voxel(points_ras.reshape(-1, 3)).T
    out = ndimage.map_coordinates(
        np.asarray(volume.array, np.float32 if order else volume.array.dtype),
        ijk,
        order=order,
        mode="constant",
        cval=0.0,
    )
    return out.reshape(points_ras.shape[:-1])


@dataclass(frozen=True)
class ObliquePlane:
    """The plane containing CN VII's axis and the vessel at a contact.

    Attributes
    ----------
    centre : ndarray, shape (3,)
        The nerve's axis point nearest the contact, RAS mm (the panel centre).
    right, up : ndarray, shape (3,)
        Unit RAS directions of the screen's right (along the nerve, toward the
        patient's left as far as it goes: radiological) and up (across the
        nerve toward the vessel, or its opposite: superior up, or anterior up
        when the direction is more anterior-posterior than vertical).
    normal : ndarray, shape (3,)
        ``right x up`` (depth out of the plane).
    """

    centre: NDArray[np.float64]
    right: NDArray[np.float64]
    up: NDArray[np.float64]

    @property
    def normal(self) -> NDArray[np.float64]:
        """Unit normal of the plane."""
        return np.cross(self.right, self.up)

    def project(self, points_ras: NDArray[np.float64]) -> NDArray[np.float64]:
        """Screen (x, y) and depth (mm) of RAS points, shape (N, 3)."""
        d = np.asarray(points_ras, float) - self.centre
        return np.stack([d @ self.right, d @ self.up, d @ self.normal], axis=1)


def oblique_plane(
    line: Centerline,
    location_ras: ArrayLike,
    vessel_ras: ArrayLike | None = None,
    *,
    tangent_mm: float = 1.5,
) -> ObliquePlane:
    """Plane through CN VII's axis at a contact, containing the vessel's direction.

    Parameters
    ----------
    line : Centerline
        CN VII centerline (RAS mm).
    location_ras : array_like, shape (3,)
        The contact on the nerve's surface (findings' ``location_ras_mm``).
    vessel_ras : array_like, shape (3,), optional
        A point of the vessel at the contact; the direction from the axis to
        ``location_ras`` is used when omitted.
    tangent_mm : float
        The nerve's direction is taken over this arc length on each side.
    """
    pts = np.asarray(line.points_ras, float)
    arc = np.asarray(line.arc_mm, float)
    loc = np.asarray(location_ras, float)
    ci = int(np.argmin(np.linalg.norm(pts - loc, axis=1)))
    near = np.abs(arc - arc[ci]) <= tangent_mm
    idx = np.flatnonzero(near)
    t = pts[idx[-1]] - pts[idx[0]] if len(idx) > 1 else pts[min(ci + 1, len(pts) - 1)] - pts[ci]
    t = t / max(float(np.linalg.norm(t)), 1e-9)
    target = loc if vessel_ras is None else np.asarray(vessel_ras, float)
    v = target - pts[ci]
    v = v - (v @ t) * t
    if float(np.linalg.norm(v)) < 1e-3:  # on the axis: the normal closest to superior
        v = np.array([0.0, 0.0, 1.0]) - t[2] * t
    v = v / max(float(np.linalg.norm(v)), 1e-9)
    right = -t if t[0] > 0 else t  # radiological: the screen's right toward the patient's left
    # superior (or, for a mostly horizontal direction, anterior) up, as on axial and coronal planes
    up = v if (v[2] if abs(v[2]) >= abs(v[1]) else v[1]) >= 0 else -v
    return ObliquePlane(pts[ci], right, up)


def vessel_point(
    case: ReportCase, location_ras: ArrayLike, value: int, *, within_mm: float = 3.0
) -> NDArray[np.float64] | None:
    """The voxel of label ``value`` nearest ``location_ras`` (RAS mm), within ``within_mm``."""
    labels = case.labels
    loc = np.asarray(location_ras, float)
    c = np.round(labels.world_to_voxel(loc)).astype(int)
    r = np.ceil(within_mm / labels.spacing).astype(int)
    lo = np.maximum(c - r, 0)
    hi = np.minimum(c + r + 1, labels.shape)
    sub = labels.array[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    idx = np.argwhere(sub == value)
    if not len(idx):
        return None
    world = labels.voxel_to_world(idx + lo)
    d = np.linalg.norm(world - loc, axis=1)
    return world[int(np.argmin(d))] if d.min() <= within_mm else None


def contact_figure(
    case: ReportCase,
    contact: Contact,
    *,
    title: str,
    side: str | None = None,
    half_width_mm: float = 12.0,
    pixel_mm: float = 0.15,
) -> Any:
    """Oblique (nerve axis and vessel) and axial T2 through one contact, with labels and marker.

    The oblique plane contains CN VII's axis at the contact and the vessel
    (``oblique_plane``): a contact on the nerve's superior surface shows both
    nerve and vessel, which an axial plane through it may not. The CN VII
    centerline is drawn over it (attached segment in purple, RExP and RDP
    ticked; dotted where it leaves the plane by more than 1.5 mm). Without
    ``side`` or its centerline, axial and coronal planes are shown.

    Parameters
    ----------
    case : ReportCase
        Loaded outputs.
    contact : Contact
        A contact of the findings (``location_ras_mm`` is the panel centre).
    title : str
        Figure title.
    side : str, optional
        The contact's side (its CN VII centerline gives the oblique plane).

    Returns
    -------
    matplotlib.figure.Figure
    """
    loc = np.asarray(contact.location_ras_mm, float)
    line = case.centerlines.get(side) if side in ("left", "right") else None  # type: ignore[call-overload]
    fig = new_figure(8.6, 4.9)
    axes = fig.subplots(1, 2)
    drawn: set[int] = set()
    panels: list[tuple[Any, str]] = [(axes[0], "oblique" if line else "axial")]
    panels.append((axes[1], "axial" if line else "coronal"))
    for ax, plane in panels:
        if plane == "oblique":
            assert line is not None
            klass = Label.ARTERY if contact.vessel_class == "artery" else Label.VEIN
            ob = oblique_plane(line, loc, vessel_point(case, loc, int(klass)))
            centre, right, up = ob.centre, ob.right, ob.up
            letters = (
                direction_letters(-right),
                direction_letters(right),
                direction_letters(up),
                direction_letters(-up),
            )
        else:
            centre = loc
            right, up = (np.asarray(v, float) for v in PLANES[plane])
            letters = LETTERS[plane]
        grid = plane_grid(centre, right, up, half_width_mm=half_width_mm, pixel_mm=pixel_mm)
        show_gray(ax, sample(case.t2, grid.points, order=1), grid.extent)
        drawn |= set(draw_labels(ax, sample(case.labels, grid.points, order=0), grid.extent))
        if plane == "oblique":
            assert line is not None
            found = case.findings.sides.get(side)  # type: ignore[call-overload]
            _centerline_overlay(ax, ob, line, None if found is None else found.rdp_mm)
            _own_course(ax, ob, line, float(contact.distance_from_rexp_mm))
        mark = ObliquePlane(centre, right, up).project(loc[None])[0]
        ax.plot(
            [mark[0]],
            [mark[1]],
            marker=MARKER,
            markersize=22,
            markerfacecolor="none",
            markeredgecolor=MARKER_COLOUR,
            markeredgewidth=2.0,
        )
        ax.set_xlim(-half_width_mm, half_width_mm)
        ax.set_ylim(-half_width_mm, half_width_mm)
        scale_bar(ax, 5.0)
        orientation_letters(
            ax, **dict(zip(("left", "right", "top", "bottom"), letters, strict=True))
        )
        if plane == "oblique":
            ind = float(contact.indentation_mm)
            ax.set_title(f"oblique T2 along the nerve, indentation {ind:.1f} mm", fontsize=10)
        else:
            axis = {"axial": ("z", 2), "coronal": ("y", 1)}[plane]
            ax.set_title(f"{plane} T2, {axis[0]} = {loc[axis[1]]:.1f} mm", fontsize=10)
    fig.suptitle(title, fontsize=11, fontweight="bold")
    handles = legend_handles(sorted(drawn, key=_overlay_rank), marker="contact")
    if line is not None:
        handles += [
            Line2D([], [], color=CENTERLINE_COLOUR, linewidth=2, label="CN VII centerline"),
            Line2D([], [], color=ATTACHED_COLOUR, linewidth=2, label="attached segment"),
            Line2D([], [], color="0.5", linestyle="--", linewidth=1.4, label="nerve's own course"),
        ]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.86, bottom=0.15, wspace=0.05)
    return fig


def own_course(
    line: Centerline, s0: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """The nerve's own course across a contact at arc ``s0``, and the traced one, RAS mm.

    A quadratic in arc length fitted to the centerline 2-6 mm on both sides of
    the contact (as ``nvc.contacts`` measures indentation), evaluated within
    2 mm of it: where the traced centerline departs from it, the vessel
    indents the nerve. Returns (fitted, traced) points, or None when the
    centerline is too short around the contact.
    """
    arc = np.asarray(line.arc_mm, float)
    pts = np.asarray(line.points_ras, float)
    ring = (np.abs(arc - s0) >= 2.0) & (np.abs(arc - s0) <= 6.0)
    inner = np.abs(arc - s0) < 2.0
    if ring.sum() < 6 or not inner.any():
        return None
    fit = [np.polyfit(arc[ring] - s0, pts[ring, a], 2) for a in range(3)]
    base = np.stack([np.polyval(f, arc[inner] - s0) for f in fit], axis=1)
    return base, pts[inner]


def _own_course(ax: Any, plane: ObliquePlane, line: Centerline, s0: float) -> None:
    """The nerve's fitted own course across the contact, dashed white (indentation shown)."""
    course = own_course(line, s0)
    if course is None:
        return
    xy = plane.project(course[0])
    ax.plot(xy[:, 0], xy[:, 1], color="white", linestyle="--", linewidth=1.4)


#: Colours of the CN VII centerline drawn over the oblique plane.
CENTERLINE_COLOUR = "#ffb000"
ATTACHED_COLOUR = "#b070e0"


def _centerline_overlay(
    ax: Any, plane: ObliquePlane, line: Centerline, rdp_mm: float | None, depth_mm: float = 1.5
) -> None:
    """CN VII's centerline projected on the plane: solid within ``depth_mm``, dotted beyond."""
    xyd = plane.project(np.asarray(line.points_ras, float))
    arc = np.asarray(line.arc_mm, float)
    attached = arc <= (rdp_mm if rdp_mm is not None else -1.0)
    inside = np.abs(xyd[:, 2]) <= depth_mm
    for part, colour in ((attached, ATTACHED_COLOUR), (~attached, CENTERLINE_COLOUR)):
        for solid in (True, False):
            keep = part & (inside if solid else ~inside)
            x = np.where(keep, xyd[:, 0], np.nan)
            y = np.where(keep, xyd[:, 1], np.nan)
            ax.plot(x, y, color=colour, linewidth=1.6, linestyle="-" if solid else ":", alpha=0.95)
    ticks = [(0.0, "RExP")] + ([(rdp_mm, "RDP")] if rdp_mm is not None else [])
    for s, name in ticks:
        i = int(np.argmin(np.abs(arc - s)))
        ax.text(
            xyd[i, 0],
            xyd[i, 1] + 0.8,
            name,
            color="white",
            fontsize=8,
            ha="center",
            va="bottom",
            path_effects=OUTLINE,
        )
        ax.plot([xyd[i, 0]] * 2, [xyd[i, 1] - 0.6, xyd[i, 1] + 0.6], color="white", linewidth=1.5)


def _overlay_rank(value: int) -> int:
    order = [int(v) for v in OVERLAY_ORDER]
    return order.index(value) if value in order else 99


def sides_figure(
    case: ReportCase, *, slab_mm: float = 3.0, half_width_mm: float = 15.0, pixel_mm: float = 0.15
) -> Any:
    """Both cerebellopontine angles on one scale: axial minimum-intensity slab through each CN VII.

    The right side is in the left panel (radiological convention).
    """
    fig = new_figure(9.0, 5.0)
    axes = fig.subplots(1, 2)
    right, up = PLANES["axial"]
    drawn: set[int] = set()
    order: tuple[Side, Side] = ("right", "left")
    for ax, side in zip(axes, order, strict=True):
        line = case.centerlines.get(side)
        if line is None:
            ax.text(
                0.5,
                0.5,
                f"{side} facial nerve not traced",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
            ax.set_axis_off()
            continue
        centre = line.points_ras.mean(axis=0)
        image = None
        labels = None
        for dz in np.arange(-slab_mm / 2, slab_mm / 2 + 1e-9, 0.25):
            at = centre + np.array([0.0, 0.0, dz])
            grid = plane_grid(at, right, up, half_width_mm=half_width_mm, pixel_mm=pixel_mm)
            t2 = sample(case.t2, grid.points, order=1)
            lab = sample(case.labels, grid.points, order=0)
            image = t2 if image is None else np.minimum(image, t2)
            if labels is None:
                labels = lab
            else:  # keep nerves and vessels seen anywhere in the slab
                labels = np.where(
                    np.isin(lab, (2, 3, 4, 5)) & ~np.isin(labels, (2, 4)), lab, labels
                )
        assert image is not None and labels is not None
        show_gray(ax, image, grid.extent)
        drawn |= set(draw_labels(ax, labels, grid.extent, linewidth=1.0))
        for c in case.findings.sides[side].contacts:
            p = np.asarray(c.location_ras_mm, float) - centre
            x, y = float(p @ np.asarray(right)), float(p @ np.asarray(up))
            if abs(p[2]) <= slab_mm and max(abs(x), abs(y)) < half_width_mm:
                ax.plot(
                    [x],
                    [y],
                    marker=MARKER,
                    markersize=16,
                    markerfacecolor="none",
                    markeredgecolor=MARKER_COLOUR,
                    markeredgewidth=2.0,
                )
        ax.set_xlim(-half_width_mm, half_width_mm)
        ax.set_ylim(-half_width_mm, half_width_mm)
        scale_bar(ax, 5.0)
        orientation_letters(ax, left="R", right="L", top="A", bottom="P")
        ax.set_title(f"{side} CPA, slab z = {centre[2]:.1f} ± {slab_mm / 2:g} mm", fontsize=10)
    fig.legend(
        handles=legend_handles(sorted(drawn, key=_overlay_rank), marker="contact"),
        loc="lower center",
        ncol=6,
        fontsize=8,
        frameon=False,
    )
    fig.subplots_adjust(left=0.02, right=0.98, top=0.93, bottom=0.1, wspace=0.05)
    return fig

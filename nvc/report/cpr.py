"""Straightened curved planar reformation (CPR) along CN VII.

The nerve's centerline becomes a straight horizontal line: the horizontal axis
is arc length from the root exit point (mm, brainstem on the left, internal
auditory canal on the right), the vertical axis the distance from the
centerline (mm) along a normal that turns with the nerve. Two planes per side:
one whose normal is the direction closest to superior, one closest to anterior.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from numpy.typing import NDArray
from scipy import ndimage

from nvc.contacts import Contact
from nvc.labels import Label
from nvc.report.case import Centerline, ReportCase, contact_label
from nvc.report.drawing import (
    MARKER,
    MARKER_COLOUR,
    OUTLINE,
    draw_labels,
    legend_handles,
    new_figure,
    scale_bar,
    show_gray,
)
from nvc.report.slices import sample
from nvc.segments import (
    RDP_HALF_WIDTH_MM,
    REXP_HALF_WIDTH_MM,
    TRANSITION_ZONE_MM,
    VULNERABLE_BEYOND_RDP_MM,
)

#: Segment colours of the strip under each CPR.
SEGMENT_COLOURS = {
    "RExP": "#7b3294",
    "AS": "#c2a5cf",
    "RDP": "#e66101",
    "TZ": "#fdb863",
    "cisternal": "#d9d9d9",
}


def frames(
    points: NDArray[np.float64], reference: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Unit tangents and unit normals closest to ``reference`` (both shape (N, 3)).

    The normal is ``reference`` with its component along the (smoothed) tangent removed.
    """
    t = np.gradient(points, axis=0)
    t = ndimage.gaussian_filter1d(t, 2.0, axis=0, mode="nearest")
    t /= np.linalg.norm(t, axis=1, keepdims=True) + 1e-12
    n = reference[None, :] - (t @ reference)[:, None] * t
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    return t, n


def resample_centerline(
    line: Centerline,
    step_mm: float,
    *,
    inside_mm: float = 0.0,
    inward: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points every ``step_mm`` of arc length: (arc (M,), points (M, 3)).

    With ``inside_mm`` the line starts that far before the root exit point
    (negative arc): along ``inward`` (a unit RAS direction into the
    brainstem) when given, else straight on from the nerve's first 2 mm.
    """
    arc = np.asarray(line.arc_mm, float)
    pts_in = np.asarray(line.points_ras, float)
    s = np.arange(0.0, arc[-1] + 1e-9, step_mm)
    if inside_mm > 0:
        s = np.concatenate([np.arange(-inside_mm, 0.0, step_mm), s])
    pts = np.stack([np.interp(s, arc, pts_in[:, d]) for d in range(3)], axis=1)
    ahead = pts_in[min(int(np.searchsorted(arc, 2.0)), len(arc) - 1)] - pts_in[0]
    t0 = ahead / max(float(np.linalg.norm(ahead)), 1e-9)
    if inward is not None:
        t0 = -np.asarray(inward, float)
    before = s < 0
    pts[before] = pts_in[0] + s[before, None] * t0
    return s, pts


def straightened(
    case: ReportCase,
    line: Centerline,
    reference: NDArray[np.float64],
    *,
    half_height_mm: float,
    step_mm: float,
    inside_mm: float = 0.0,
    inward: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.integer], tuple[float, float, float, float]]:
    """T2 and labels on the straightened plane: (image, labels, extent (s0, s1, -h, h)).

    ``inside_mm`` starts the plane that far inside the brainstem, along
    ``inward`` (``resample_centerline``).
    """
    s, pts = resample_centerline(line, step_mm, inside_mm=inside_mm, inward=inward)
    _, n = frames(pts, reference)
    offsets = np.arange(half_height_mm, -half_height_mm - 1e-9, -step_mm)
    grid = pts[None, :, :] + offsets[:, None, None] * n[None, :, :]
    image = sample(case.t2, grid, order=1)
    labels = sample(case.labels, grid, order=0)
    return image, labels, (float(s[0]), float(s[-1]), -half_height_mm, half_height_mm)


#: The reformation starts this far inside the brainstem, so that a wrong root exit point shows.
INSIDE_MM = 5.0
BRAINSTEM_SURFACE_COLOUR = "#c8aa8c"


def inward_direction(
    case: ReportCase, point_ras: NDArray[np.float64]
) -> NDArray[np.float64] | None:
    """Unit RAS direction from ``point_ras`` to the brainstem's centre at its height (axial).

    The centre is the mean of the brainstem voxels within 1.5 mm of the
    point's height; None without any.
    """
    lab = case.labels
    idx = np.argwhere(lab.array == Label.BRAINSTEM)
    if not len(idx):
        return None
    world = lab.voxel_to_world(idx)
    level = world[np.abs(world[:, 2] - point_ras[2]) <= 1.5]
    if not len(level):
        return None
    d = level.mean(axis=0) - point_ras
    d[2] = 0.0
    n = float(np.linalg.norm(d))
    return d / n if n > 1e-6 else None


def brainstem_surface_mm(
    labels: NDArray[np.integer], extent: tuple[float, float, float, float]
) -> float | None:
    """Arc length (mm) where the straightened centre row leaves the brainstem; None if never in it.

    ``labels`` is the straightened label image (rows top to bottom, the
    centerline on the middle row), ``extent`` its (s0, s1, -h, h).
    """
    row = labels[labels.shape[0] // 2]
    s = np.linspace(extent[0], extent[1], row.size)
    inside = row == Label.BRAINSTEM
    if not inside[0]:
        return None
    out = np.flatnonzero(~inside)
    return float(s[out[0]]) if out.size else None


def cpr_figure(case: ReportCase, *, half_height_mm: float = 6.0, step_mm: float = 0.1) -> Any:
    """Straightened CPR of CN VII of each side (rows), superior and anterior planes (columns).

    Each strip starts ``INSIDE_MM`` inside the brainstem (from the root exit
    point toward the brainstem's centre at its height) and marks where it
    leaves the brainstem's mask, so a root exit point placed off the surface
    shows as a gap between the two.

    Returns
    -------
    matplotlib.figure.Figure
    """
    sides = [s for s in case.side_order() if s in case.centerlines]
    fig = new_figure(10.0, 0.8 + 3.4 * max(len(sides), 1))
    if not sides:
        fig.text(0.5, 0.5, "no facial nerve was traced on either side", ha="center")
        return fig
    length = max(float(case.centerlines[s].arc_mm[-1]) for s in sides)
    start = -INSIDE_MM
    inward = {
        side: inward_direction(case, np.asarray(case.centerlines[side].points_ras[0], float))
        for side in sides
    }
    axes = fig.subplots(len(sides), 2, squeeze=False)
    drawn: set[int] = set()
    for row, side in enumerate(sides):
        line = case.centerlines[side]
        info = case.findings.sides[side]
        for col, (ref, letters) in enumerate(
            (((0.0, 0.0, 1.0), ("S", "I")), ((0.0, 1.0, 0.0), ("A", "P")))
        ):
            ax = axes[row, col]
            image, labels, extent = straightened(
                case,
                line,
                np.array(ref),
                half_height_mm=half_height_mm,
                step_mm=step_mm,
                inside_mm=INSIDE_MM,
                inward=inward[side],
            )
            show_gray(ax, image, extent)
            drawn |= set(draw_labels(ax, labels, extent, linewidth=1.0))
            ax.set_xlim(start - 0.5, length + 0.5)
            ax.set_ylim(-half_height_mm - 4.4, half_height_mm + 1.4)
            _segment_strip(ax, info.rdp_mm, float(line.arc_mm[-1]), half_height_mm)
            _surface(ax, brainstem_surface_mm(labels, extent), half_height_mm)
            _contacts(ax, side, info.contacts, half_height_mm)
            ax.set_xticks(np.arange(-5.0, length + 0.1, 5.0))
            ax.tick_params(labelsize=8)
            for y, letter, va in (
                (half_height_mm - 0.3, letters[0], "top"),
                (-half_height_mm + 0.3, letters[1], "bottom"),
            ):
                ax.text(
                    length + 0.2,
                    y,
                    letter,
                    color="white",
                    fontsize=10,
                    fontweight="bold",
                    va=va,
                    ha="right",
                    path_effects=OUTLINE,
                )
            plane = "superior-inferior" if col == 0 else "anterior-posterior"
            ax.set_title(f"{side} CN VII, {plane} plane", fontsize=9.5)
            if row == len(sides) - 1:
                ax.set_xlabel(
                    "distance along the nerve from the root exit point (mm)", fontsize=8.5
                )
            scale_bar(ax, 5.0, y_frac=0.36)
    lines = [
        Line2D([], [], color=SEGMENT_COLOURS["RExP"], linestyle="--", label="root exit point"),
        Line2D([], [], color=SEGMENT_COLOURS["RDP"], linestyle="--", label="root detachment point"),
        Line2D([], [], color=BRAINSTEM_SURFACE_COLOUR, linewidth=2.5, label="brainstem surface"),
        Line2D([], [], color="#e41a1c", linewidth=2.5, label="vulnerable zone"),
    ]
    fig.legend(
        handles=legend_handles(sorted(drawn), marker="contact") + lines,
        loc="lower center",
        ncol=5,
        fontsize=8,
        frameon=False,
    )
    fig.subplots_adjust(
        left=0.03,
        right=0.99,
        top=0.93,
        bottom=0.16 / max(len(sides), 1) + 0.06,
        wspace=0.04,
        hspace=0.3,
    )
    return fig


def _segment_strip(ax: Axes, rdp_mm: float | None, end_mm: float, h: float) -> None:
    """Coloured strip under the image: RExP, AS, RDP, TZ, cisternal; the vulnerable zone bracket."""
    y0, height = -h - 2.2, 1.6
    if rdp_mm is None:
        return
    bounds = [
        ("RExP", 0.0, REXP_HALF_WIDTH_MM),
        ("AS", REXP_HALF_WIDTH_MM, rdp_mm - RDP_HALF_WIDTH_MM),
        ("RDP", rdp_mm - RDP_HALF_WIDTH_MM, rdp_mm + RDP_HALF_WIDTH_MM),
        ("TZ", rdp_mm + RDP_HALF_WIDTH_MM, rdp_mm + TRANSITION_ZONE_MM),
        ("cisternal", rdp_mm + TRANSITION_ZONE_MM, end_mm),
    ]
    outside = 0
    for name, a, b in bounds:
        a, b = max(a, 0.0), min(b, end_mm)
        if b <= a:
            continue
        ax.add_patch(
            Rectangle(
                (a, y0),
                b - a,
                height,
                facecolor=SEGMENT_COLOURS[name],
                edgecolor="black",
                linewidth=0.5,
            )
        )
        if b - a > 0.9 * len(name) + 0.4:
            ax.text((a + b) / 2, y0 + height / 2, name, ha="center", va="center", fontsize=7)
        else:  # too narrow: the label goes under the strip, with a leader
            y = y0 - 0.7 - 0.9 * (outside % 2)
            ax.plot([(a + b) / 2] * 2, [y0, y + 0.35], color="black", linewidth=0.6)
            ax.text((a + b) / 2, y, name, ha="center", va="top", fontsize=6.5)
            outside += 1
    vz = min(rdp_mm + VULNERABLE_BEYOND_RDP_MM, end_mm)
    ax.plot([0, vz], [y0 + height + 0.25] * 2, color="#e41a1c", linewidth=2.0)
    ax.text(
        vz,
        y0 + height + 0.25,
        " vulnerable zone",
        color="#e41a1c",
        fontsize=7,
        va="center",
        ha="left",
        fontweight="bold",
    )
    for x, name in ((0.0, "RExP"), (rdp_mm, "RDP")):
        ax.plot([x, x], [-h, h], color=SEGMENT_COLOURS[name], linestyle="--", linewidth=1.2)


def _surface(ax: Axes, s: float | None, h: float) -> None:
    """A line where the centerline leaves the brainstem (or a note that it never was in it)."""
    if s is None:
        ax.text(
            -INSIDE_MM + 0.2,
            h - 0.3,
            "not in the brainstem:\ncheck the root exit point",
            color="white",
            fontsize=6.5,
            va="top",
            ha="left",
            path_effects=OUTLINE,
        )
        return
    ax.plot([s, s], [-h, h], color=BRAINSTEM_SURFACE_COLOUR, linewidth=2.0)


def _contacts(ax: Axes, side: str, contacts: tuple[Contact, ...], h: float) -> None:
    """Rings over the image at each contact's arc length, with its label and vessel."""
    for i, c in enumerate(contacts):
        s = float(c.distance_from_rexp_mm)
        ax.plot(
            [s],
            [h + 0.55],
            marker=MARKER,
            markerfacecolor="none",
            markeredgecolor=MARKER_COLOUR,
            markeredgewidth=2.0,
            markersize=8,
            clip_on=False,
        )
        near_end = s > ax.get_xlim()[1] - 4.0
        ax.text(
            s - 0.5 if near_end else s + 0.5,
            h + 0.55,
            f"{contact_label(side, i)} {c.vessel_name}",
            color="black",
            fontsize=8,
            fontweight="bold",
            va="center",
            ha="right" if near_end else "left",
        )

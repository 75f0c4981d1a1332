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
from matplotlib.patches import Rectangle
from numpy.typing import NDArray
from scipy import ndimage

from nvc.contacts import Contact
from nvc.report.case import Centerline, ReportCase, contact_label
from nvc.report.drawing import (
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
    line: Centerline, step_mm: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points every ``step_mm`` of arc length: (arc (M,), points (M, 3))."""
    arc = np.asarray(line.arc_mm, float)
    s = np.arange(0.0, arc[-1] + 1e-9, step_mm)
    pts = np.stack([np.interp(s, arc, line.points_ras[:, d]) for d in range(3)], axis=1)
    return s, pts


def straightened(
    case: ReportCase,
    line: Centerline,
    reference: NDArray[np.float64],
    *,
    half_height_mm: float,
    step_mm: float,
) -> tuple[NDArray[np.float32], NDArray[np.integer], tuple[float, float, float, float]]:
    """T2 and labels on the straightened plane: (image, labels, extent (s0, s1, -h, h))."""
    s, pts = resample_centerline(line, step_mm)
    _, n = frames(pts, reference)
    offsets = np.arange(half_height_mm, -half_height_mm - 1e-9, -step_mm)
    grid = pts[None, :, :] + offsets[:, None, None] * n[None, :, :]
    image = sample(case.t2, grid, order=1)
    labels = sample(case.labels, grid, order=0)
    return image, labels, (float(s[0]), float(s[-1]), -half_height_mm, half_height_mm)


def cpr_figure(case: ReportCase, *, half_height_mm: float = 6.0, step_mm: float = 0.1) -> Any:
    """Straightened CPR of CN VII of each side (rows), superior and anterior planes (columns).

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
                case, line, np.array(ref), half_height_mm=half_height_mm, step_mm=step_mm
            )
            show_gray(ax, image, extent)
            drawn |= set(draw_labels(ax, labels, extent, linewidth=1.0))
            ax.set_xlim(-0.5, length + 0.5)
            ax.set_ylim(-half_height_mm - 2.4, half_height_mm + 1.4)
            _segment_strip(ax, info.rdp_mm, float(line.arc_mm[-1]), half_height_mm)
            _contacts(ax, side, info.contacts, half_height_mm)
            ax.set_xticks(np.arange(0, length + 0.1, 5.0))
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
    fig.legend(
        handles=legend_handles(sorted(drawn)), loc="lower center", ncol=5, fontsize=8, frameon=False
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
        if b - a > 1.2:
            ax.text((a + b) / 2, y0 + height / 2, name, ha="center", va="center", fontsize=7)
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


def _contacts(ax: Axes, side: str, contacts: tuple[Contact, ...], h: float) -> None:
    """Triangles over the image at each contact's arc length, with its label and vessel."""
    for i, c in enumerate(contacts):
        s = float(c.distance_from_rexp_mm)
        ax.plot(
            [s],
            [h + 0.55],
            marker="v",
            color=MARKER_COLOUR,
            markersize=8,
            markeredgecolor="black",
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

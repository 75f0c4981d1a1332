"""Quality-control figures for researchers: segmentation mosaic, TOF MIP, registration checkerboard.

Panels are axial (or coronal) planes of the world frame, sampled through the
affine, shown in the radiological convention (patient right on screen left).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from nvc.labels import Label
from nvc.report.case import ReportCase
from nvc.report.drawing import (
    OUTLINE,
    OVERLAY_ORDER,
    draw_labels,
    legend_handles,
    new_figure,
    orientation_letters,
    scale_bar,
    show_gray,
)
from nvc.report.slices import PLANES, plane_grid, sample


def _region(
    case: ReportCase, values: tuple[int, ...]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """RAS box (lo, hi) of the voxels holding any of ``values`` (the whole image if none)."""
    mask = np.isin(case.labels.array, values)
    idx = np.argwhere(mask)
    if not len(idx):
        return case.t2.world_bounds()
    corners = np.array(
        [
            [a, b, c]
            for a in (idx[:, 0].min(), idx[:, 0].max())
            for b in (idx[:, 1].min(), idx[:, 1].max())
            for c in (idx[:, 2].min(), idx[:, 2].max())
        ],
        float,
    )
    world = case.labels.voxel_to_world(corners)
    return world.min(axis=0), world.max(axis=0)


def segmentation_mosaic(case: ReportCase, *, n: int = 12, pixel_mm: float = 0.3) -> Any:
    """Axial T2 planes every few mm through the cerebellopontine angles, labels outlined."""
    lo, hi = _region(case, (Label.CN7, Label.CN8, Label.BRAINSTEM))
    centre = (lo + hi) / 2
    half = float(max(hi[0] - lo[0], hi[1] - lo[1]) / 2 + 4.0)
    zs = np.linspace(lo[2] + 1.0, hi[2] - 1.0, n)
    cols = 4
    rows = int(np.ceil(n / cols))
    fig = new_figure(11.0, 2.9 * rows + 0.6)
    axes = fig.subplots(rows, cols, squeeze=False)
    right, up = PLANES["axial"]
    drawn: set[int] = set()
    for ax, z in zip(axes.ravel(), zs, strict=False):
        grid = plane_grid(
            (centre[0], centre[1], z), right, up, half_width_mm=half, pixel_mm=pixel_mm
        )
        show_gray(ax, sample(case.t2, grid.points, order=1), grid.extent)
        drawn |= set(
            draw_labels(ax, sample(case.labels, grid.points, order=0), grid.extent, linewidth=0.8)
        )
        ax.set_title(f"z = {z:.1f} mm", fontsize=9)
        orientation_letters(ax, left="R", right="L", top="A", bottom="P")
        scale_bar(ax, 10.0)
    for ax in axes.ravel()[len(zs) :]:
        ax.set_axis_off()
    fig.suptitle("Segmentation over T2 (axial, radiological)", fontsize=12, fontweight="bold")
    fig.legend(
        handles=legend_handles([v for v in OVERLAY_ORDER if v in drawn]),
        loc="lower center",
        ncol=5,
        fontsize=8,
        frameon=False,
    )
    fig.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.05, wspace=0.03, hspace=0.12)
    return fig


def _slab(
    case: ReportCase,
    plane: str,
    centre: NDArray[np.float64],
    half: float,
    depth: float,
    pixel_mm: float,
) -> tuple[Any, NDArray[np.float32], NDArray[np.bool_]]:
    """Maximum-intensity projection of the TOF and of the artery label over a slab."""
    right, up = PLANES[plane]
    normal = np.cross(np.asarray(up, float), np.asarray(right, float))
    mip = None
    art = None
    grid = None
    for d in np.arange(-depth / 2, depth / 2 + 1e-9, pixel_mm * 2):
        grid = plane_grid(centre + d * normal, right, up, half_width_mm=half, pixel_mm=pixel_mm)
        tof = sample(case.mra, grid.points, order=1)
        lab = sample(case.labels, grid.points, order=0) == Label.ARTERY
        mip = tof if mip is None else np.maximum(mip, tof)
        art = lab if art is None else art | lab
    assert grid is not None and mip is not None and art is not None
    return grid, mip, art


def tof_mip(case: ReportCase, *, pixel_mm: float = 0.4) -> Any:
    """Axial and coronal TOF maximum-intensity projections with the segmented arteries outlined."""
    lo, hi = case.t2.world_bounds()
    alo, ahi = _region(case, (Label.CN7, Label.CN8, Label.BRAINSTEM))
    centre = (alo + ahi) / 2
    half = float(min(max(ahi[0] - alo[0], 40.0) / 2 + 10.0, (hi[0] - lo[0]) / 2))
    fig = new_figure(10.0, 5.4)
    axes = fig.subplots(1, 2)
    letters = {"axial": ("R", "L", "A", "P"), "coronal": ("R", "L", "S", "I")}
    for ax, plane in zip(axes, ("axial", "coronal"), strict=True):
        depth = 30.0
        grid, mip, art = _slab(case, plane, centre, half, depth, pixel_mm)
        show_gray(ax, mip, grid.extent)
        draw_labels(ax, np.where(art, int(Label.ARTERY), 0), grid.extent, linewidth=0.7)
        orientation_letters(
            ax, **dict(zip(("left", "right", "top", "bottom"), letters[plane], strict=True))
        )
        scale_bar(ax, 10.0)
        ax.set_title(f"{plane} MIP of TOF ({depth:.0f} mm slab)", fontsize=10)
    fig.suptitle(
        "TOF angiogram (registered to T2) with segmented arteries", fontsize=12, fontweight="bold"
    )
    fig.legend(
        handles=legend_handles([int(Label.ARTERY)]), loc="lower center", fontsize=8, frameon=False
    )
    fig.subplots_adjust(left=0.01, right=0.99, top=0.87, bottom=0.07, wspace=0.04)
    return fig


def rez_figure(case: ReportCase, *, half_width_mm: float = 14.0, pixel_mm: float = 0.15) -> Any:
    """Axial T2 through each root exit zone, labels outlined (right side in the left panel).

    Each panel is centred on CN VII's root exit point (the first point of its
    centerline), at its height: the reader checks that the facial nerve
    leaves the brainstem where the analysis says, anterior to CN VIII.
    """
    fig = new_figure(9.0, 5.0)
    axes = fig.subplots(1, 2)
    right, up = PLANES["axial"]
    drawn: set[int] = set()
    for ax, side in zip(axes, ("right", "left"), strict=True):
        line = case.centerlines.get(side)  # type: ignore[call-overload]
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
        rexp = np.asarray(line.points_ras[0], float)
        grid = plane_grid(rexp, right, up, half_width_mm=half_width_mm, pixel_mm=pixel_mm)
        show_gray(ax, sample(case.t2, grid.points, order=1), grid.extent)
        drawn |= set(draw_labels(ax, sample(case.labels, grid.points, order=0), grid.extent))
        ax.plot([-1.2, 1.2], [0, 0], color="white", linewidth=1.5)
        ax.plot([0, 0], [-1.2, 1.2], color="white", linewidth=1.5)
        ax.text(
            0.0,
            1.5,
            "RExP",
            color="white",
            fontsize=9,
            ha="center",
            va="bottom",
            path_effects=OUTLINE,
        )
        ax.set_xlim(-half_width_mm, half_width_mm)
        ax.set_ylim(-half_width_mm, half_width_mm)
        scale_bar(ax, 5.0)
        orientation_letters(ax, left="R", right="L", top="A", bottom="P")
        ax.set_title(f"{side} root exit zone, axial T2, z = {rexp[2]:.1f} mm", fontsize=10)
    fig.legend(
        handles=legend_handles([v for v in OVERLAY_ORDER if v in drawn]),
        loc="lower center",
        ncol=5,
        fontsize=8,
        frameon=False,
    )
    fig.subplots_adjust(left=0.02, right=0.98, top=0.93, bottom=0.1, wspace=0.05)
    return fig


def checkerboard(case: ReportCase, *, square_mm: float = 6.0, pixel_mm: float = 0.3) -> Any:
    """T2 and registered TOF in alternating squares (axial and coronal through the nerves)."""
    alo, ahi = _region(case, (Label.CN7, Label.CN8, Label.BRAINSTEM))
    centre = (alo + ahi) / 2
    half = float(max(ahi[0] - alo[0], ahi[1] - alo[1]) / 2 + 6.0)
    fig = new_figure(10.0, 5.4)
    axes = fig.subplots(1, 2)
    letters = {"axial": ("R", "L", "A", "P"), "coronal": ("R", "L", "S", "I")}
    for ax, plane in zip(axes, ("axial", "coronal"), strict=True):
        right, up = PLANES[plane]
        grid = plane_grid(centre, right, up, half_width_mm=half, pixel_mm=pixel_mm)
        t2 = _unit(sample(case.t2, grid.points, order=1))
        tof = _unit(sample(case.mra, grid.points, order=1))
        n = t2.shape[0]
        cell = max(round(square_mm / (2 * half / n)), 1)
        r, c = np.indices(t2.shape) // cell
        board = np.where((r + c) % 2 == 0, t2, tof)
        show_gray(ax, board, grid.extent)
        orientation_letters(
            ax, **dict(zip(("left", "right", "top", "bottom"), letters[plane], strict=True))
        )
        scale_bar(ax, 10.0)
        ax.set_title(f"{plane}: T2 and TOF in alternating {square_mm:g} mm squares", fontsize=10)
    fig.suptitle(
        "Registration check: vessels and edges should continue across squares",
        fontsize=12,
        fontweight="bold",
    )
    fig.subplots_adjust(left=0.01, right=0.99, top=0.87, bottom=0.03, wspace=0.04)
    return fig


def _unit(image: NDArray[np.floating]) -> NDArray[np.float64]:
    lo, hi = np.percentile(image, [1.0, 99.5])
    return np.clip((image - lo) / max(hi - lo, 1e-6), 0.0, 1.0)

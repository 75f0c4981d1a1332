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
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from nvc.contacts import Contact
from nvc.report.case import ReportCase
from nvc.report.drawing import (
    MARKER_COLOUR,
    OVERLAY_ORDER,
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


def contact_figure(
    case: ReportCase,
    contact: Contact,
    *,
    title: str,
    half_width_mm: float = 12.0,
    pixel_mm: float = 0.15,
) -> Any:
    """Axial and coronal T2 through one contact, with labels, marker, scale bar and letters.

    Parameters
    ----------
    case : ReportCase
        Loaded outputs.
    contact : Contact
        A contact of the findings (``location_ras_mm`` is the panel centre).
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    loc = np.asarray(contact.location_ras_mm, float)
    fig = new_figure(8.6, 4.9)
    axes = fig.subplots(1, 2)
    drawn: set[int] = set()
    for ax, plane in zip(axes, ("axial", "coronal"), strict=True):
        right, up = PLANES[plane]
        grid = plane_grid(loc, right, up, half_width_mm=half_width_mm, pixel_mm=pixel_mm)
        show_gray(ax, sample(case.t2, grid.points, order=1), grid.extent)
        drawn |= set(draw_labels(ax, sample(case.labels, grid.points, order=0), grid.extent))
        ax.plot(
            [0],
            [0],
            marker="o",
            markersize=22,
            markerfacecolor="none",
            markeredgecolor=MARKER_COLOUR,
            markeredgewidth=2.0,
        )
        ax.set_xlim(-half_width_mm, half_width_mm)
        ax.set_ylim(-half_width_mm, half_width_mm)
        scale_bar(ax, 5.0)
        orientation_letters(
            ax, **dict(zip(("left", "right", "top", "bottom"), LETTERS[plane], strict=True))
        )
        axis = {"axial": ("z", 2), "coronal": ("y", 1)}[plane]
        ax.set_title(f"{plane} T2, {axis[0]} = {loc[axis[1]]:.1f} mm", fontsize=10)
    fig.suptitle(title, fontsize=11, fontweight="bold")
    fig.legend(
        handles=legend_handles(sorted(drawn, key=_overlay_rank), marker="contact"),
        loc="lower center",
        ncol=6,
        fontsize=8,
        frameon=False,
    )
    fig.subplots_adjust(left=0.02, right=0.98, top=0.86, bottom=0.12, wspace=0.05)
    return fig


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
                    marker="o",
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

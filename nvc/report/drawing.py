"""Drawing helpers shared by the report's figures: overlays, scale bars, orientation letters.

Figures are ``matplotlib.figure.Figure`` objects made without pyplot (no global
state, no display); ``to_png`` renders one to PNG bytes in memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from numpy.typing import NDArray

from nvc.labels import LABEL_TABLE, Label, LabelInfo

#: Labels drawn over images, back to front (CSF is left out: it is the bright background).
OVERLAY_ORDER = (Label.BRAINSTEM, Label.VEIN, Label.CN8, Label.CN7, Label.ARTERY)
#: Colour of the contact marker (not a label colour).
MARKER_COLOUR = "#00e5ff"
#: The contact marker, the same shape in every figure: a ring (matplotlib marker "o", hollow).
MARKER = "o"
OUTLINE = [patheffects.withStroke(linewidth=2.5, foreground="black")]


def new_figure(width_in: float, height_in: float) -> Figure:
    """A figure with an Agg canvas (no pyplot, no display)."""
    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure, *, dpi: int = 140) -> bytes:
    """Render a figure to PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def label_info(value: int) -> LabelInfo:
    """Name and colour of a label value."""
    return next(t for t in LABEL_TABLE if t.value == value)


def rgb01(info: LabelInfo) -> tuple[float, float, float]:
    """Label colour as floats in [0, 1]."""
    r, g, b = info.rgb
    return (r / 255.0, g / 255.0, b / 255.0)


def show_gray(
    ax: Axes, image: NDArray[np.floating], extent: tuple[float, float, float, float]
) -> None:
    """Show a 2D image (rows top to bottom) in grey, windowed on its 1-99.5th percentiles."""
    finite = image[np.isfinite(image)]
    lo, hi = np.percentile(finite, [1.0, 99.5]) if finite.size else (0.0, 1.0)
    ax.imshow(
        image,
        cmap="gray",
        vmin=lo,
        vmax=max(hi, lo + 1e-6),
        extent=extent,
        interpolation="bilinear",
    )
    ax.set_xticks([])
    ax.set_yticks([])


def draw_labels(
    ax: Axes,
    labels: NDArray[np.integer],
    extent: tuple[float, float, float, float],
    *,
    values: Iterable[int] = OVERLAY_ORDER,
    linewidth: float = 1.3,
) -> list[int]:
    """Draw label outlines in their colours; return those drawn.

    Outlines, not fills, so the T2 under a nerve, a vessel or the root exit
    zone stays visible (the brainstem too: a fill hid the root exit zone).
    """
    drawn = []
    x0, x1, y0, y1 = extent
    rows, cols = labels.shape
    xs = np.linspace(x0, x1, cols)
    ys = np.linspace(y1, y0, rows)
    for value in values:
        mask = labels == value
        if not mask.any():
            continue
        info = label_info(int(value))
        ax.contour(
            xs,
            ys,
            mask.astype(float),
            levels=[0.5],
            colors=[rgb01(info)],
            linewidths=linewidth,
            linestyles="dashed" if value == Label.BRAINSTEM else "solid",
        )
        drawn.append(int(value))
    return drawn


def orientation_letters(ax: Axes, *, left: str, right: str, top: str, bottom: str) -> None:
    """Write the patient directions at the middle of each edge of an image panel."""
    style: dict[str, Any] = {
        "color": "white",
        "fontsize": 11,
        "fontweight": "bold",
        "path_effects": OUTLINE,
    }
    ax.text(0.02, 0.5, left, transform=ax.transAxes, ha="left", va="center", **style)
    ax.text(0.98, 0.5, right, transform=ax.transAxes, ha="right", va="center", **style)
    ax.text(0.5, 0.98, top, transform=ax.transAxes, ha="center", va="top", **style)
    ax.text(0.5, 0.02, bottom, transform=ax.transAxes, ha="center", va="bottom", **style)


def scale_bar(ax: Axes, length_mm: float, *, y_frac: float = 0.07) -> None:
    """Draw a white ``length_mm`` bar in the lower right corner of a panel (data unit: mm)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width = abs(x1 - x0)
    sign = 1.0 if x1 > x0 else -1.0
    end = x1 - sign * 0.06 * width
    start = end - sign * length_mm
    y = y0 + (y1 - y0) * y_frac
    ax.plot(
        [start, end],
        [y, y],
        color="white",
        linewidth=3.5,
        solid_capstyle="butt",
        path_effects=[patheffects.withStroke(linewidth=5.5, foreground="black")],
    )
    ax.text(
        (start + end) / 2,
        y + (y1 - y0) * 0.025,
        f"{length_mm:g} mm",
        color="white",
        ha="center",
        va="bottom",
        fontsize=9,
        fontweight="bold",
        path_effects=OUTLINE,
    )


def legend_handles(values: Iterable[int], *, marker: str | None = None) -> list[Patch | Line2D]:
    """Legend entries for label colours (and the contact marker when ``marker`` names it)."""
    handles: list[Patch | Line2D] = []
    for v in values:
        info = label_info(int(v))
        if v == Label.BRAINSTEM:  # drawn as a dashed outline
            handles.append(
                Line2D([], [], color=rgb01(info), linestyle="--", linewidth=1.5, label=info.name)
            )
            continue
        handles.append(Patch(facecolor=rgb01(info), edgecolor="black", label=info.name))
    if marker:
        handles.append(
            Line2D(
                [],
                [],
                marker=MARKER,
                markersize=10,
                markerfacecolor="none",
                markeredgecolor=MARKER_COLOUR,
                markeredgewidth=2,
                linestyle="",
                label=marker,
            )
        )
    return handles


def direction_letters(vector: NDArray[np.floating]) -> str:
    """Patient direction letters of a RAS vector: the main one, then any other above 0.38.

    ``(-1, 0, 0)`` is "L"; ``(-0.7, 0.7, 0)`` "LA" (as an oblique plane's edges are
    labelled on a reading workstation).
    """
    v = np.asarray(vector, float)
    v = v / max(float(np.linalg.norm(v)), 1e-12)
    names = (("R", "L"), ("A", "P"), ("S", "I"))
    order = np.argsort(-np.abs(v))
    out = ""
    for n, a in enumerate(order):
        if n == 0 or abs(v[a]) > 0.38:
            out += names[a][0 if v[a] > 0 else 1]
    return out

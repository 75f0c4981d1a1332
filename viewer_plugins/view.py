"""Viewer set-up: radiological axial view, orientation letters, label legend, centring.

World axes of an nvc case are RAS mm in napari's (z, y, x) order (``viewer_plugins.layers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import napari

#: Letter of the positive and negative direction of each world axis (z, y, x).
AXIS_LETTERS = (("S", "I"), ("A", "P"), ("R", "L"))
#: Axis labels of the dims sliders.
AXIS_LABELS = ("z (S+)", "y (A+)", "x (R+)")
_EDGES = {
    "top": "top_center",
    "bottom": "bottom_center",
    "left": "middle_left",
    "right": "middle_right",
}
LETTER_PREFIX = "nvc_orientation_"
LEGEND_PREFIX = "nvc_legend_"
SURFACES_KEY = "nvc_surfaces_sync"
#: While the camera turns, the surfaces are relit at most once per this many ms.
RELIGHT_MS = 60


def screen_letters(order: Sequence[int], orientation2d: Sequence[str]) -> dict[str, str]:
    """Anatomical direction at each screen edge of a 2D view.

    Parameters
    ----------
    order : sequence of int
        ``viewer.dims.order`` (world axes; the last two are displayed as rows, columns).
    orientation2d : (vertical, horizontal)
        ``viewer.scene.camera.orientation2d``: "up"/"down" is the direction in which the
        row axis increases on screen, "left"/"right" that of the column axis.

    Returns
    -------
    dict
        Letters at "top", "bottom", "left", "right" (R/L, A/P, S/I).
    """
    row, col = int(order[-2]), int(order[-1])
    vertical, horizontal = (str(v) for v in orientation2d)
    up = AXIS_LETTERS[row][0 if vertical == "up" else 1]
    down = AXIS_LETTERS[row][1 if vertical == "up" else 0]
    right = AXIS_LETTERS[col][0 if horizontal == "right" else 1]
    left = AXIS_LETTERS[col][1 if horizontal == "right" else 0]
    return {"top": up, "bottom": down, "left": left, "right": right}


def show_orientation_letters(viewer: napari.Viewer) -> None:
    """Orientation letters at the four edges of the 2D view (hidden in 3D), kept up to date."""
    from napari.components.overlays import TextOverlay

    overlays = viewer.canvas.overlays
    first_time = LETTER_PREFIX + "top" not in overlays
    for edge, position in _EDGES.items():
        key = LETTER_PREFIX + edge
        if key not in overlays:
            overlays[key] = TextOverlay(
                text="", position=position, font_size=18, color="yellow", visible=True
            )

    def update(event: Any = None) -> None:
        three_d = viewer.dims.ndisplay == 3 or viewer.dims.ndim < 3
        letters = screen_letters(viewer.dims.order, viewer.scene.camera.orientation2d)
        for edge in _EDGES:
            overlay = overlays[LETTER_PREFIX + edge]
            overlay.text = letters[edge]
            overlay.visible = not three_d
        axes = viewer.canvas.overlays["axes"]
        axes.visible = three_d and viewer.dims.ndim >= 3
        axes.colored = False  # plain axes: no colour that could be taken for a structure

    if first_time:
        viewer.dims.events.order.connect(update)
        viewer.dims.events.ndisplay.connect(update)
        viewer.scene.camera.events.orientation.connect(update)
    update()


def show_legend(viewer: napari.Viewer, table: Sequence[tuple[int, str, str]]) -> None:
    """One coloured line per label (value, name, ``#rrggbb``) at the canvas' top right."""
    from napari.components.overlays import TextOverlay

    overlays = viewer.canvas.overlays
    viewer.canvas.overlay_tiling.top_right = "vertical"
    for key in [k for k in overlays if k.startswith(LEGEND_PREFIX)]:
        del overlays[key]
    for value, name, color in table:
        overlays[f"{LEGEND_PREFIX}{value:02d}"] = TextOverlay(
            text=f"■ {name}", position="top_right", font_size=10, color=color, visible=True
        )


def radiological_axial(viewer: napari.Viewer) -> None:
    """Axial slices in radiological convention: anterior up, patient right on screen left.

    The world is RAS mm, so the physical aspect of anisotropic voxels is kept.
    """
    if viewer.dims.ndim < 3:
        return
    viewer.dims.ndisplay = 2
    viewer.dims.axis_labels = AXIS_LABELS
    viewer.dims.order = (0, 1, 2)  # slider z; rows y, columns x
    # Rows y up, columns x to the left. The world axes (z, y, x) are an odd
    # permutation of (x, y, z): the depth axis points away so that 3D stays a
    # proper (unmirrored) rotation of the patient.
    viewer.scene.camera.orientation = ("away", "up", "left")
    show_orientation_letters(viewer)
    viewer.reset_view()


def three_d_view(viewer: napari.Viewer) -> None:
    """3D view of the patient from the front and slightly above (right on screen left)."""
    if viewer.dims.ndim < 3:
        return
    viewer.dims.ndisplay = 3
    viewer.dims.axis_labels = AXIS_LABELS
    _front_camera(viewer)
    show_orientation_letters(viewer)


def _front_camera(viewer: napari.Viewer) -> None:
    """Look posteriorly (from the front of the face), superior up, slightly from above."""
    order = list(viewer.dims.order[-3:])
    view = np.array([-0.45, -1.0, 0.0])  # world (z, y, x): posterior and a little down
    viewer.scene.camera.set_view_direction(
        view_direction=tuple(view[order]),
        up_direction=tuple(np.array([1.0, 0.0, 0.0])[order]),
    )


def sync_surfaces(viewer: napari.Viewer) -> None:
    """In 3D show the nvc surfaces and hide slices (images, label map); the reverse in 2D.

    Layers the user hid in 2D (e.g. the registered TOF) stay hidden.
    """

    def update(event: Any = None) -> None:
        three_d = viewer.dims.ndisplay == 3
        if three_d and event is not None:
            _front_camera(viewer)
        for layer in viewer.layers:
            if layer.metadata.get("nvc_surface"):
                layer.visible = three_d
            elif layer.metadata.get("nvc_slice"):
                if three_d:
                    layer.metadata["nvc_was_visible"] = layer.visible
                    layer.visible = False
                else:
                    layer.visible = layer.metadata.get("nvc_was_visible", layer.visible)
        light_surfaces(viewer)

    if SURFACES_KEY not in viewer.canvas.overlays:
        # an invisible overlay marks the viewer as connected (no private attribute needed)
        from napari.components.overlays import TextOverlay

        viewer.canvas.overlays[SURFACES_KEY] = TextOverlay(visible=False)
        viewer.dims.events.ndisplay.connect(update)
        relight = _Throttle(lambda: light_surfaces(viewer), RELIGHT_MS)
        viewer.scene.camera.events.angles.connect(lambda event: relight())
    update()


def light_surfaces(viewer: napari.Viewer) -> None:
    """Shade the nvc surfaces for the current 3D camera (a light just above it).

    napari's own surface lighting is off (``viewer_plugins.layers.surface_layers``);
    this recolours their vertices instead (measured: README, "napari plugin").
    """
    from viewer_plugins.layers import shade

    if viewer.dims.ndisplay != 3:
        return
    view, up = (
        np.asarray(v, float)
        for v in (viewer.scene.camera.view_direction, viewer.scene.camera.up_direction)
    )
    displayed = list(viewer.dims.order[-3:])
    for layer in viewer.layers:
        meta = layer.metadata
        if not (meta.get("nvc_surface") and "nvc_normals" in meta):
            continue
        normals = np.asarray(meta["nvc_normals"])[:, displayed]
        layer.vertex_colors = shade(meta["nvc_rgb"], normals, view, up)


class _Throttle:
    """Call ``fn`` at once, then at most once per ``ms`` while calls keep coming (the last wins)."""

    def __init__(self, fn: Any, ms: int) -> None:
        from qtpy.QtCore import QTimer

        self.fn = fn
        self.pending = False
        self.timer = QTimer()
        self.timer.setSingleShot(True)
        self.timer.setInterval(ms)
        self.timer.timeout.connect(self._fire)

    def __call__(self) -> None:
        if self.timer.isActive():
            self.pending = True
            return
        self.fn()
        self.timer.start()

    def _fire(self) -> None:
        if self.pending:
            self.pending = False
            self.fn()
            self.timer.start()


def center_on(viewer: napari.Viewer, xyz: Sequence[float], *, zoom_mm: float = 60.0) -> None:
    """Centre the view on a RAS point: its slice in 2D, the camera's centre in 3D.

    ``zoom_mm`` is the width of world shown across the canvas.
    """
    point = np.asarray(xyz, float)[::-1]  # RAS (x, y, z) -> world (z, y, x)
    order = list(viewer.dims.order)
    for axis in order[: -viewer.dims.ndisplay]:
        viewer.dims.set_point(axis, float(point[axis]))
    displayed = order[-viewer.dims.ndisplay :]
    viewer.scene.camera.center = tuple(float(point[a]) for a in displayed)
    width_px = max(viewer.canvas.size[1], 1) if hasattr(viewer, "canvas") else 600
    viewer.scene.camera.zoom = width_px / zoom_mm

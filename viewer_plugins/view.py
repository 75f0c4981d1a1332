"""Viewer set-up: radiological axial view, orientation letters, label legend, centring.

World axes of an nvc case are RAS mm in napari's (z, y, x) order (``nvc_napari.layers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

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
    clip_side(viewer, None)
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

    napari's own surface lighting is off (``nvc_napari.layers.surface_layers``);
    this recolours their vertices instead (measured: README, "napari plugin").
    """
    from nvc_napari.layers import shade

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


#: Display presets of a case's layers: layer name -> settings (``apply_display_preset``).
#: "T2 + TOF fusion" is what readers set up in 3D Slicer with CISS and TOF: the T2 in grey,
#: the registered TOF over it in red with a vessel window, labels as outlines (a case's label
#: layer holds outlines: ``nvc_napari.layers.axial_outlines``).
DISPLAY_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "T2 + TOF fusion": {
        "T2": {"visible": True, "colormap": "gray", "opacity": 1.0},
        "TOF (registered)": {
            "visible": True,
            "colormap": "red",
            "blending": "additive",
            "opacity": 0.8,
            "vessel_window": True,
        },
        "labels": {"visible": True, "opacity": 0.9},
    },
    "T2 and labels": {
        "T2": {"visible": True, "colormap": "gray", "opacity": 1.0},
        "TOF (registered)": {"visible": False},
        "labels": {"visible": True, "opacity": 0.9},
    },
    "TOF alone": {
        "T2": {"visible": False},
        "TOF (registered)": {
            "visible": True,
            "colormap": "gray",
            "blending": "translucent",
            "opacity": 1.0,
            "vessel_window": False,
        },
        "labels": {"visible": True, "opacity": 0.9},
    },
}
DEFAULT_PRESET = "T2 + TOF fusion"


def apply_display_preset(viewer: napari.Viewer, name: str = DEFAULT_PRESET) -> None:
    """Set the nvc layers (by name) as the preset says; other layers are left alone.

    ``vessel_window`` sets the TOF's contrast limits to its vessel window
    (``nvc_napari.layers.vessel_window``: stationary tissue hidden), or
    back to its full range when False. In 3D the slices stay hidden: the
    preset's visibility is stored for the return to 2D.
    """
    from nvc.volume import Volume
    from nvc_napari.layers import vessel_window

    for layer_name, settings in DISPLAY_PRESETS[name].items():
        if layer_name not in viewer.layers:
            continue
        layer = viewer.layers[layer_name]
        for key, value in settings.items():
            if key == "vessel_window":
                data = np.asarray(layer.data)
                if value:
                    layer.contrast_limits = vessel_window(Volume(data, np.eye(4)))
                else:
                    layer.contrast_limits = (float(data.min()), float(data.max()))
            elif key == "visible" and viewer.dims.ndisplay == 3:
                layer.metadata["nvc_was_visible"] = value
            else:
                setattr(layer, key, value)


POSITION_KEY = "nvc_ras_position"


def ras_text(world: Sequence[float]) -> str:
    """A napari world position (z, y, x) as RAS mm text with two decimals."""
    z, y, x = (float(v) for v in list(world)[-3:])
    return f"RAS x {x:+.2f}  y {y:+.2f}  z {z:+.2f} mm"


def show_ras_position(viewer: napari.Viewer) -> None:
    """The cursor's position as RAS x, y, z in mm (two decimals) at the canvas' bottom left."""
    from napari.components.overlays import TextOverlay

    overlays = viewer.canvas.overlays
    if POSITION_KEY in overlays:
        return
    overlays[POSITION_KEY] = TextOverlay(
        text="", position="bottom_left", font_size=11, color="white", visible=True
    )

    def update(event: Any = None) -> None:
        if viewer.dims.ndim >= 3:
            overlays[POSITION_KEY].text = ras_text(viewer.cursor.position)

    viewer.cursor.events.position.connect(update)
    update()


#: Retrosigmoid corridor: the camera behind, lateral and this far above horizontal (degrees).
RETROSIGMOID_ELEVATION_DEG = 20.0
#: ... and this far lateral of straight behind (degrees).
RETROSIGMOID_LATERAL_DEG = 40.0


def retrosigmoid_direction(side: str) -> NDArray[np.float64]:
    """Unit RAS direction the camera looks along for a side's retrosigmoid view.

    From behind (posterior), lateral on that side and slightly above, toward
    the cerebellopontine angle: anterior, medial and a little downward.
    """
    e = np.radians(RETROSIGMOID_ELEVATION_DEG)
    a = np.radians(RETROSIGMOID_LATERAL_DEG)
    lateral = 1.0 if side == "right" else -1.0
    eye = np.array([lateral * np.cos(e) * np.sin(a), -np.cos(e) * np.cos(a), np.sin(e)])
    return -eye


def retrosigmoid_view(
    viewer: napari.Viewer, side: str, centre_ras: Sequence[float], *, midline_x: float
) -> None:
    """3D camera along a side's retrosigmoid corridor, the other side clipped away.

    Surfaces are cut by a clipping plane 3 mm beyond the midline (``midline_x``,
    RAS mm), so the view shows that side's cerebellopontine angle unobstructed
    (nvc segments no cerebellum: nothing needs retracting).
    """
    if viewer.dims.ndim < 3:
        return
    viewer.dims.ndisplay = 3
    order = list(viewer.dims.order[-3:])
    view = retrosigmoid_direction(side)[::-1]  # RAS -> world (z, y, x)
    viewer.scene.camera.set_view_direction(
        view_direction=tuple(view[order]),
        up_direction=tuple(np.array([1.0, 0.0, 0.0])[order]),
    )
    viewer.scene.camera.center = tuple(float(v) for v in np.asarray(centre_ras, float)[::-1])
    clip_side(viewer, side, midline_x=midline_x)
    light_surfaces(viewer)


def clip_side(viewer: napari.Viewer, side: str | None, *, midline_x: float = 0.0) -> None:
    """Keep only ``side``'s half of the nvc surfaces (3 mm past the midline); None: both."""
    lateral = 1.0 if side == "right" else -1.0
    planes = (
        []
        if side is None
        else [
            {
                # layer data are world (z, y, x) mm
                "position": (0.0, 0.0, midline_x - lateral * 3.0),
                "normal": (0.0, 0.0, lateral),
                "enabled": True,
            }
        ]
    )
    for layer in viewer.layers:
        if layer.metadata.get("nvc_surface"):
            layer.experimental_clipping_planes = planes

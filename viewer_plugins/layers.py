"""Turning Volumes into napari layer data tuples (no napari import needed).

Layers carry the Volume's affine, so napari's world coordinates are RAS+ mm
and every layer of a case lines up, whatever its grid.
"""

from __future__ import annotations

from typing import Any

from nvc.labels import LABEL_TABLE
from nvc.volume import Volume

LayerData = tuple[Any, dict[str, Any], str]


def label_colors() -> dict[int | None, tuple[float, float, float, float]]:
    """RGBA (0-1) per label value, background transparent (napari direct colormap)."""
    colors: dict[int | None, tuple[float, float, float, float]] = {
        int(t.value): (t.rgb[0] / 255, t.rgb[1] / 255, t.rgb[2] / 255, 1.0) for t in LABEL_TABLE
    }
    colors[0] = (0.0, 0.0, 0.0, 0.0)
    colors[None] = (0.0, 0.0, 0.0, 0.0)
    return colors


def image_layer(volume: Volume, name: str, **kwargs: Any) -> LayerData:
    """An Image layer tuple whose affine places voxels at their RAS+ mm positions."""
    return (volume.array, {"name": name, "affine": volume.affine, **kwargs}, "image")


def labels_layer(volume: Volume, name: str, **kwargs: Any) -> LayerData:
    """A Labels layer tuple with the nvc label colours."""
    return (
        volume.array,
        {"name": name, "affine": volume.affine, "colormap": label_colors(), **kwargs},
        "labels",
    )

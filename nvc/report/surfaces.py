"""Surface meshes of labelled structures (kept for its importers: see ``nvc.surface``)."""

from __future__ import annotations

from nvc.surface import Mesh, label_surface

__all__ = ["Mesh", "label_surface"]

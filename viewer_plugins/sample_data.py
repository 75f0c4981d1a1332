"""napari sample data: a phantom case with its truth labels."""

from __future__ import annotations

from nvc.phantom import make_case
from viewer_plugins.layers import LayerData, image_layer, labels_layer


def phantom_sample(seed: int = 0) -> list[LayerData]:
    """T2 (CISS-like), TOF and truth labels of phantom case ``seed``, aligned in RAS mm."""
    case = make_case(seed)
    return [
        image_layer(case.t2, "T2 (phantom)", colormap="gray"),
        image_layer(
            case.mra,
            "TOF (phantom, unregistered)",
            colormap="gray",
            blending="additive",
            visible=False,
        ),
        labels_layer(case.labels, "truth labels", opacity=0.5),
    ]

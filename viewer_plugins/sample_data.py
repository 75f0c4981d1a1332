"""napari sample data: a phantom case, raw (with its truth labels) and analysed."""

from __future__ import annotations

from nvc.phantom import make_case
from nvc_napari.layers import LayerData, case_layers, image_layer, labels_layer
from nvc_pipelines.case import run_case
from nvc_pipelines.results import saved_case

#: Phantom seed of the sample case (a right-sided AICA contact).
SAMPLE_SEED = 0


def phantom_sample(seed: int = SAMPLE_SEED) -> list[LayerData]:
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


def phantom_results_sample(seed: int = SAMPLE_SEED) -> list[LayerData]:
    """The same phantom analysed by ``run_case`` (as ``nvc run`` does; about 30 s)."""
    case = make_case(seed)
    result = run_case(case.t2, case.mra, symptomatic_side=case.truth.hfs_side)
    return case_layers(saved_case(result))

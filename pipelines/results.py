"""A case's results in memory, read back from a folder or taken from ``run_case``.

The viewer, the report and the review start from one type,
``nvc.results.SavedCase``: ``load_results`` reads a folder (the one loader,
``nvc.io.results.load_results``) and ``saved_case`` turns a case analysed in
memory into the same object, so both are shown by the same code.
"""

from __future__ import annotations

import numpy as np

from nvc.io.results import FINDINGS, is_results_folder, load_results
from nvc.results import Centerline, SavedCase
from nvc_pipelines.case import CaseResult

__all__ = [
    "FINDINGS",
    "Centerline",
    "SavedCase",
    "is_results_folder",
    "load_results",
    "saved_case",
]


def saved_case(result: CaseResult) -> SavedCase:
    """The in-memory result of ``run_case`` in the same form as a folder read back."""
    centerlines = {
        side: Centerline(
            points_ras=np.asarray(g.points_ras, float),
            arc_mm=np.asarray(g.arc_mm, float),
            segments=tuple(g.segments),
        )
        for side, g in result.centerlines.items()
    }
    return SavedCase(
        findings=result.findings,
        t2=result.t2,
        labels=result.labels,
        mra_registered=result.mra_registered,
        distance=result.distance,
        centerlines=centerlines,
    )

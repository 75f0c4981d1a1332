"""A finished case in memory: volumes on the T2 grid, typed findings and centerlines.

``nvc.io.results.load_results`` reads a results folder into a ``SavedCase``;
``nvc_pipelines.results.saved_case`` turns an in-memory analysis into the same
object, so the report, the viewer and the review read one type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from nvc.findings import Findings
from nvc.labels import LABEL_TABLE, LabelInfo
from nvc.segments import Segment
from nvc.vocabulary import Side
from nvc.volume import Volume


@dataclass(frozen=True)
class Centerline:
    """CN VII centerline of one side.

    Attributes
    ----------
    points_ras : ndarray, float64, shape (N, 3)
        RAS+ mm, from the root exit point outwards.
    arc_mm : ndarray, float64, shape (N,)
        Arc length from the root exit point (mm).
    segments : tuple of str
        Segment name per point (RExP, AS, RDP, TZ, cisternal).
    """

    points_ras: NDArray[np.float64]
    arc_mm: NDArray[np.float64]
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class SavedCase:
    """A finished case: volumes on the T2 grid, findings, centerlines.

    Attributes
    ----------
    findings : Findings
        The reviewed findings when the folder holds a review, else the automated ones.
    t2 : Volume
        The T2 as analysed; every other volume is on its grid.
    labels : Volume
        Label map (``nvc.labels.Label`` values, uint16) on the T2 grid (the
        reviewed one in a reviewed case).
    mra_registered, distance : Volume or None
        The TOF registered onto the T2 grid and the distance (mm) to CN VII; None when absent.
    centerlines : dict
        ``{"left"|"right": Centerline}`` for the sides whose nerve was found.
    label_table : tuple of LabelInfo
        Names and colours of the label values.
    folder : Path or None
        Where the case was read from (None for a case analysed in memory).
    automated : Findings or None
        In a reviewed case, the automated findings (findings.json) kept beside.
    """

    findings: Findings
    t2: Volume
    labels: Volume
    mra_registered: Volume | None = None
    distance: Volume | None = None
    centerlines: dict[Side, Centerline] = field(default_factory=dict)
    label_table: tuple[LabelInfo, ...] = LABEL_TABLE
    folder: Path | None = None
    automated: Findings | None = None

    @property
    def mra(self) -> Volume:
        """The registered TOF (the report needs it).

        Raises
        ------
        ValueError
            When the case has none.
        """
        if self.mra_registered is None:
            raise ValueError("no registered TOF in this case")
        return self.mra_registered

    @property
    def reviewed(self) -> bool:
        """Whether a reader reviewed this case."""
        return self.findings.reviewed

    def side_order(self) -> tuple[Side, ...]:
        """Symptomatic side first, else right then left."""
        return self.findings.side_order()

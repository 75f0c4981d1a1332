"""The saved outputs of one case, as the report reads them (nothing is recomputed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nvc.volume import Volume

SIDES = ("left", "right")


@dataclass(frozen=True)
class Centerline:
    """CN VII centerline of one side.

    Attributes
    ----------
    points_ras : ndarray, shape (N, 3)
        RAS+ mm, from the root exit point outwards.
    arc_mm : ndarray, shape (N,)
        Arc length from the root exit point (mm).
    segments : tuple of str
        Segment name per point (RExP, AS, RDP, TZ, cisternal).
    """

    points_ras: NDArray[np.float64]
    arc_mm: NDArray[np.float64]
    segments: tuple[str, ...]


@dataclass(frozen=True)
class ReportCase:
    """A results folder in memory.

    Attributes
    ----------
    findings : dict
        ``findings.json`` as read (see README "Outputs").
    t2 : Volume
        The T2 as analysed; every other volume is on its grid.
    labels : Volume
        Label map (``nvc.labels.Label`` values) on the T2 grid.
    mra : Volume
        The TOF registered onto the T2 grid.
    centerlines : dict
        ``{"left"|"right": Centerline}`` for the sides whose nerve was found.
    """

    findings: dict[str, Any]
    t2: Volume
    labels: Volume
    mra: Volume
    centerlines: dict[str, Centerline] = field(default_factory=dict)

    def side_order(self) -> tuple[str, ...]:
        """Symptomatic side first, else right then left."""
        s = self.findings.get("symptomatic_side")
        if s in SIDES:
            return (s, "left" if s == "right" else "right")
        return ("right", "left")


def contact_label(side: str, index: int) -> str:
    """Short name of a contact used in tables and figures: ``R1``, ``R2``, ``L1`` ..."""
    return f"{side[0].upper()}{index + 1}"

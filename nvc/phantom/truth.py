"""Ground truth of a phantom case, measured on its geometry."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nvc.labels import Label
from nvc.phantom import curves
from nvc.phantom.anatomy import REPORT_WITHIN_MM, Anatomy
from nvc.phantom.params import SIDES, PhantomParams, Side
from nvc.segments import Segment, in_vulnerable_zone, segment_at
from nvc.volume import apply_affine

#: A surface gap at or below this (mm) is a contact in the truth (geometric contact).
CONTACT_TRUTH_MM = 0.05


@dataclass(frozen=True)
class ContactTruth:
    """A vessel within ``REPORT_WITHIN_MM`` of CN VII's surface."""

    vessel: str
    vessel_class: str
    vessel_name: str
    gap_mm: float
    distance_from_rexp_mm: float
    segment: Segment
    in_vulnerable_zone: bool
    location_ras_mm: tuple[float, float, float]


@dataclass(frozen=True)
class SideTruth:
    """Truth of one side (the patient's left or right)."""

    side: Side
    symptomatic: bool
    scenario: str
    offender: str
    vessel_class: str | None
    segment: Segment | None
    gap_mm: float | None
    indentation_mm: float
    nvc: bool
    mvd_candidate: bool
    rdp_mm: float
    porus_mm: float
    contacts: tuple[ContactTruth, ...]


@dataclass(frozen=True)
class PhantomTruth:
    """Everything known about a phantom case.

    Attributes
    ----------
    t2_to_mra : ndarray, shape (4, 4)
        Rigid transform from a T2 world point (RAS mm) to the MRA world point of
        the same tissue.
    cn7_centerlines : dict
        Per side, CN VII centerline in T2 world RAS mm, shape (N, 3), from the RExP
        (every fifth point of the dense centerline, 0.25 mm apart).
    landmarks : dict
        Per side, CN VII's landmarks on its dense centerline in T2 world RAS mm:
        ``"RExP"`` (root exit point), ``"RDP"`` (root detachment point) and
        ``"porus"`` (of the internal auditory canal).
    other_nerves : dict
        Centerline (T2 world RAS mm, shape (N, 3)) and radius (mm) of every cranial
        nerve drawn with label 7 (``OTHER_NERVE``): CN V of both sides, and in the
        wide variety the decoy nerves VI, IX and X, by tube name (``"CN6_left"``).
    """

    seed: int
    hfs_side: Side
    sides: dict[Side, SideTruth]
    t2_to_mra: NDArray[np.float64]
    cn7_centerlines: dict[Side, NDArray[np.float64]]
    params: PhantomParams
    landmarks: dict[Side, dict[str, NDArray[np.float64]]] = field(default_factory=dict)
    other_nerves: dict[str, tuple[NDArray[np.float64], float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary.

        The standard variety's dictionary is the same as before the wide variety
        existed; a wide case adds ``variety``, ``landmarks_ras_mm`` and
        ``other_nerves`` (centerlines every 0.25 mm and radii), and its
        ``params`` hold ``wide``.
        """
        params = asdict(self.params)
        out: dict[str, Any] = {
            "seed": self.seed,
            "hfs_side": self.hfs_side,
            "sides": {k: asdict(v) for k, v in self.sides.items()},
            "t2_to_mra": self.t2_to_mra.tolist(),
            "cn7_centerlines_ras_mm": {
                k: np.round(v, 3).tolist() for k, v in self.cn7_centerlines.items()
            },
            "params": params,
        }
        if self.params.wide is None:
            del params["wide"]
            return out
        out["variety"] = self.params.variety
        out["landmarks_ras_mm"] = {
            side: {k: np.round(v, 3).tolist() for k, v in marks.items()}
            for side, marks in self.landmarks.items()
        }
        out["other_nerves"] = {
            name: {"radius_mm": radius, "centerline_ras_mm": np.round(line, 3).tolist()}
            for name, (line, radius) in self.other_nerves.items()
        }
        return out


def measure_truth(
    anatomy: Anatomy,
    params: PhantomParams,
    anat_to_world: NDArray[np.float64],
    t2_to_mra: NDArray[np.float64],
) -> PhantomTruth:
    """Measure every vessel's gap to CN VII on the dense geometry."""
    sides: dict[Side, SideTruth] = {}
    lines: dict[Side, NDArray[np.float64]] = {}
    landmarks: dict[Side, dict[str, NDArray[np.float64]]] = {}
    r7 = params.anatomy.cn7_radius_mm
    for side in SIDES:
        sp = params.side(side)
        course = anatomy.cn7[side]
        s_line = curves.arc_length(course.centerline)
        measured = []
        for tube in anatomy.tubes:
            if tube.vessel_class is None or tube.side not in (side, None):
                continue
            d, iv, i7 = curves.closest_approach(tube.curve, course.centerline)
            gap = d - r7 - tube.radius
            s = float(s_line[i7])
            axis = tube.curve[iv] - course.centerline[i7]
            surface_point = course.centerline[i7] + axis / max(np.linalg.norm(axis), 1e-9) * r7
            measured.append(
                ContactTruth(
                    vessel=tube.name,
                    vessel_class=str(tube.vessel_class),
                    vessel_name=str(tube.vessel_name),
                    gap_mm=round(max(gap, 0.0), 4),
                    distance_from_rexp_mm=round(s, 3),
                    segment=segment_at(s, course.rdp_mm),
                    in_vulnerable_zone=in_vulnerable_zone(s, course.rdp_mm),
                    location_ras_mm=tuple(
                        float(v) for v in np.round(apply_affine(anat_to_world, surface_point), 3)
                    ),  # type: ignore[arg-type]
                )
            )
        measured.sort(key=lambda c: c.gap_mm)
        contacts = [c for c in measured if c.gap_mm <= REPORT_WITHIN_MM]
        touching = [c for c in contacts if c.gap_mm <= CONTACT_TRUTH_MM and c.in_vulnerable_zone]
        nvc = bool(touching)
        symptomatic = side == params.hfs_side
        mvd = symptomatic and any(c.vessel_class == "artery" for c in touching)
        offender = next((c for c in measured if c.vessel_name == sp.offender), None)
        sides[side] = SideTruth(
            side=side,
            symptomatic=symptomatic,
            scenario=sp.scenario,
            offender=sp.offender,
            vessel_class=offender.vessel_class if offender else None,
            segment=offender.segment if offender else None,
            gap_mm=offender.gap_mm if offender else None,
            indentation_mm=sp.indentation_mm if offender else 0.0,
            nvc=nvc,
            mvd_candidate=mvd,
            rdp_mm=round(course.rdp_mm, 3),
            porus_mm=round(course.porus_mm, 3),
            contacts=tuple(contacts),
        )
        lines[side] = apply_affine(anat_to_world, course.centerline[::5])
        marks = {
            "RExP": course.centerline[0],
            "RDP": course.centerline[int(np.argmin(np.abs(s_line - course.rdp_mm)))],
            "porus": course.centerline[int(np.argmin(np.abs(s_line - course.porus_mm)))],
        }
        landmarks[side] = {k: apply_affine(anat_to_world, v) for k, v in marks.items()}
    other = {
        t.name: (apply_affine(anat_to_world, t.curve[::5]), float(t.radius))
        for t in anatomy.tubes
        if t.label == Label.OTHER_NERVE
    }
    return PhantomTruth(
        seed=params.seed,
        hfs_side=params.hfs_side,
        sides=sides,
        t2_to_mra=t2_to_mra,
        cn7_centerlines=lines,
        params=params,
        landmarks=landmarks,
        other_nerves=other,
    )

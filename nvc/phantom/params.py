"""Parameters of a phantom case, and drawing them at random from a seed.

Randomness is drawn here, apart from its application: ``draw_params(seed)``
returns plain frozen dataclasses and ``make_case(params)`` is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import numpy as np

from nvc.segments import Segment

Side = Literal["left", "right"]
Offender = Literal["none", "AICA", "PICA", "VA", "vein"]
Scenario = Literal["none", "nvc", "near", "distal", "vein"]
GridOrientation = Literal["RAS", "LPS", "coronal", "sagittal"]

SIDES: tuple[Side, Side] = ("left", "right")
_K = TypeVar("_K", bound=str)

#: What each side scenario means (documented in the truth).
SCENARIOS: dict[str, str] = {
    "none": "no vessel within 2 mm of CN VII",
    "nvc": "artery contact in the vulnerable zone",
    "near": "artery near the vulnerable zone but apart (decoy)",
    "distal": "artery contact on the distal cisternal segment only (decoy)",
    "vein": "vein-only contact in the vulnerable zone (decoy for MVD)",
}


@dataclass(frozen=True)
class SideParams:
    """One side's nerve anatomy and offending vessel.

    Attributes
    ----------
    scenario : str
        One of ``SCENARIOS``.
    offender : {"none", "AICA", "PICA", "VA", "vein"}
        The vessel routed to CN VII.
    segment : str
        Where the offender meets CN VII (see ``nvc.segments``).
    gap_mm : float
        Surface-to-surface gap between offender and CN VII (0 = contact).
    indentation_mm : float
        Depth by which the offender pushes CN VII from its course (0 = none).
    attached_length_mm : float
        Length of CN VII attached to the pons, RExP to RDP.
    cisternal_length_mm : float
        RDP to the porus of the internal auditory canal.
    exit_azimuth_deg : float
        Angle of the root exit point from the lateral direction toward anterior.
    approach_deg : float
        Angle around the nerve from which the offender comes (0 = straight out of the pons).
    """

    scenario: Scenario = "none"
    offender: Offender = "none"
    segment: Segment = "AS"
    gap_mm: float = 0.0
    indentation_mm: float = 0.0
    attached_length_mm: float = 8.0
    cisternal_length_mm: float = 14.0
    exit_azimuth_deg: float = 25.0
    approach_deg: float = 40.0


@dataclass(frozen=True)
class AnatomyParams:
    """Sizes (mm) of the posterior-fossa anatomy."""

    scale: float = 1.0
    pons_radii_mm: tuple[float, float, float] = (14.0, 12.0, 12.0)
    medulla_radii_mm: tuple[float, float, float] = (9.5, 9.0, 16.0)
    cn7_radius_mm: float = 0.7
    cn8_radius_mm: float = 1.0
    cn5_radius_mm: float = 1.6
    va_radius_mm: float = 1.7
    ba_radius_mm: float = 1.5
    aica_radius_mm: float = 0.75
    pica_radius_mm: float = 0.75
    sca_radius_mm: float = 0.7
    vein_radius_mm: float = 0.9
    iac_radius_mm: float = 2.6


@dataclass(frozen=True)
class ImagingParams:
    """Acquisition of the two images.

    Intensities are relative (CSF = 1 on T2, artery = 1 on TOF) before the gain.

    ``t2_fov_mm`` and ``mra_fov_mm`` (anatomical x, y, z extent in mm) widen or
    narrow each image's field of view about the centre of its default box
    (``nvc.phantom.case.T2_BOX`` / ``MRA_BOX``); None keeps the default box
    (80x60x48 mm T2, 92x70x58 mm TOF). Clinical posterior-fossa acquisitions
    cover about 160x160x50 mm (T2) and 180x180x98 mm (TOF).
    """

    t2_spacing_mm: tuple[float, float, float] = (0.5, 0.5, 0.5)
    mra_spacing_mm: tuple[float, float, float] = (0.35, 0.35, 0.7)
    t2_orientation: GridOrientation = "RAS"
    mra_orientation: GridOrientation = "RAS"
    t2_oblique_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    mra_oblique_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    head_rotation_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    head_offset_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    misregistration_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    misregistration_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    t2_snr: float = 20.0
    mra_snr: float = 18.0
    bias_strength: float = 0.15
    t2_gain: float = 1000.0
    mra_gain: float = 600.0
    t2_tissue: float = 0.35
    t2_nerve: float = 0.15
    t2_vessel: float = 0.08
    mra_tissue: float = 0.28
    mra_csf: float = 0.12
    t2_fov_mm: tuple[float, float, float] | None = None
    mra_fov_mm: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class PhantomParams:
    """Everything that defines one phantom case."""

    seed: int = 0
    hfs_side: Side = "right"
    left: SideParams = field(default_factory=SideParams)
    right: SideParams = field(default_factory=SideParams)
    anatomy: AnatomyParams = field(default_factory=AnatomyParams)
    imaging: ImagingParams = field(default_factory=ImagingParams)

    def side(self, side: Side) -> SideParams:
        """The parameters of one side."""
        return self.left if side == "left" else self.right


_SEGMENT_WEIGHTS: dict[Segment, float] = {"RExP": 0.12, "AS": 0.5, "RDP": 0.22, "TZ": 0.16}
_OFFENDER_WEIGHTS: dict[Offender, float] = {"AICA": 0.43, "PICA": 0.31, "VA": 0.26}
_OTHER_SIDE: dict[Scenario, float] = {
    "none": 0.3,
    "near": 0.25,
    "distal": 0.2,
    "vein": 0.15,
    "nvc": 0.1,
}


def draw_params(seed: int) -> PhantomParams:
    """Draw a random, plausible case from a seed (reproducible).

    The symptomatic side gets an arterial contact in the vulnerable zone with
    the literature's offender and location frequencies; the other side gets no
    vessel, a decoy (near but apart, distal contact, vein contact) or, rarely,
    an asymptomatic arterial contact.
    """
    rng = np.random.default_rng(seed)
    hfs: Side = "left" if rng.random() < 0.5 else "right"
    sides = {}
    for side in SIDES:
        scenario: Scenario = "nvc" if side == hfs else _pick(rng, _OTHER_SIDE)
        sides[side] = _draw_side(rng, scenario)
    s = float(rng.uniform(0.9, 1.1))
    anatomy = AnatomyParams(
        scale=s,
        pons_radii_mm=_jitter(rng, (14.0, 12.0, 12.0), 0.06),
        medulla_radii_mm=_jitter(rng, (9.5, 9.0, 16.0), 0.06),
        cn7_radius_mm=float(rng.uniform(0.6, 0.8)),
        cn8_radius_mm=float(rng.uniform(0.9, 1.15)),
        cn5_radius_mm=float(rng.uniform(1.3, 1.9)),
        va_radius_mm=float(rng.uniform(1.4, 2.0)),
        ba_radius_mm=float(rng.uniform(1.3, 1.8)),
        aica_radius_mm=float(rng.uniform(0.6, 0.9)),
        pica_radius_mm=float(rng.uniform(0.6, 0.9)),
        sca_radius_mm=float(rng.uniform(0.55, 0.8)),
        vein_radius_mm=float(rng.uniform(0.7, 1.0)),
        iac_radius_mm=float(rng.uniform(2.3, 3.0)),
    )
    t2_iso = float(rng.uniform(0.4, 0.7))
    t2_slice = t2_iso * (float(rng.uniform(1.0, 1.4)) if rng.random() < 0.3 else 1.0)
    mra_in = float(rng.uniform(0.3, 0.45))
    mra_slice = mra_in * float(rng.uniform(1.6, 2.2))
    orientations: list[GridOrientation] = ["RAS", "LPS", "coronal", "sagittal"]
    imaging = ImagingParams(
        t2_spacing_mm=(t2_iso, t2_iso, t2_slice),
        mra_spacing_mm=(mra_in, mra_in, mra_slice),
        t2_orientation=orientations[int(rng.choice(4, p=[0.35, 0.35, 0.15, 0.15]))],
        mra_orientation=orientations[int(rng.choice(2))],
        t2_oblique_deg=_angles(rng, 8.0),
        mra_oblique_deg=_angles(rng, 8.0),
        head_rotation_deg=_angles(rng, 8.0),
        head_offset_mm=_offset(rng, 8.0),
        misregistration_deg=_angles(rng, 5.0),
        misregistration_mm=_offset(rng, 5.0),
        t2_snr=float(rng.uniform(10, 30)),
        mra_snr=float(rng.uniform(10, 30)),
        bias_strength=float(rng.uniform(0.05, 0.25)),
        t2_gain=float(rng.uniform(300, 3000)),
        mra_gain=float(rng.uniform(200, 2000)),
        t2_tissue=float(rng.uniform(0.28, 0.42)),
        t2_nerve=float(rng.uniform(0.1, 0.18)),
        t2_vessel=float(rng.uniform(0.04, 0.12)),
        mra_tissue=float(rng.uniform(0.22, 0.35)),
        mra_csf=float(rng.uniform(0.06, 0.16)),
    )
    return PhantomParams(
        seed=seed,
        hfs_side=hfs,
        left=sides["left"],
        right=sides["right"],
        anatomy=anatomy,
        imaging=imaging,
    )


def _draw_side(rng: np.random.Generator, scenario: Scenario) -> SideParams:
    attached = float(rng.uniform(6.0, 10.0))
    cisternal = float(rng.uniform(12.5, 15.5))
    azimuth = float(rng.uniform(15.0, 35.0))
    approach = float(rng.uniform(20.0, 60.0)) * (1 if rng.random() < 0.7 else -1)
    offender: Offender = "none"
    segment: Segment = "AS"
    gap = 0.0
    indentation = 0.0
    if scenario != "none":
        if scenario in ("nvc", "distal", "vein"):
            indentation = float(rng.uniform(0.3, 0.7)) if rng.random() < 0.5 else 0.0
        if scenario == "near":
            gap = float(rng.uniform(1.2, 3.0))
        offender = "vein" if scenario == "vein" else _pick(rng, _OFFENDER_WEIGHTS)
        if scenario == "distal":
            segment = "cisternal"
            if offender == "VA":
                offender = "AICA"
        elif offender == "VA":
            segment = _pick(rng, {"RExP": 0.3, "AS": 0.7})
        else:
            segment = _pick(rng, _SEGMENT_WEIGHTS)
    return SideParams(
        scenario=scenario,
        offender=offender,
        segment=segment,
        gap_mm=gap,
        indentation_mm=indentation,
        attached_length_mm=attached,
        cisternal_length_mm=cisternal,
        exit_azimuth_deg=azimuth,
        approach_deg=approach,
    )


def _pick(rng: np.random.Generator, weights: Mapping[_K, float]) -> _K:
    keys = list(weights)
    p = np.array([weights[k] for k in keys], float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _jitter(
    rng: np.random.Generator, values: tuple[float, float, float], rel: float
) -> tuple[float, float, float]:
    f = rng.uniform(1 - rel, 1 + rel, 3)
    return float(values[0] * f[0]), float(values[1] * f[1]), float(values[2] * f[2])


def _offset(rng: np.random.Generator, max_mm: float) -> tuple[float, float, float]:
    v = rng.uniform(-max_mm, max_mm, 3)
    return float(v[0]), float(v[1]), float(v[2])


def _angles(rng: np.random.Generator, max_deg: float) -> tuple[float, float, float]:
    a = rng.uniform(-max_deg, max_deg, 3)
    return float(a[0]), float(a[1]), float(a[2])

"""Parameters of a phantom case, and drawing them at random from a seed.

Randomness is drawn here, apart from its application: ``draw_params(seed)``
returns plain frozen dataclasses and ``make_case(params)`` is deterministic.

Two varieties are drawn (``draw_params(seed, variety=...)``):

- ``"standard"`` (the default): the ranges the method was developed on. Its
  draws never change: the same seed gives the same case, byte for byte.
- ``"wide"``: anatomy families, decoy cranial nerves and imaging families drawn
  from far wider ranges (``WIDE_RANGES``), for checking the method off the
  ranges it was tuned on. Its extra knobs live in ``PhantomParams.wide``
  (``WideParams``); the shared fields (sizes, lengths, grids, intensities, pose)
  are drawn from the wider ranges.
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
Variety = Literal["standard", "wide"]
Contrast = Literal["CISS", "FIESTA", "SPACE"]

VARIETIES: tuple[Variety, Variety] = ("standard", "wide")
CONTRASTS: tuple[Contrast, Contrast, Contrast] = ("CISS", "FIESTA", "SPACE")

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
class CourseParams:
    """One side's CN VII course shape and its neighbourhood (wide variety).

    The defaults are the standard variety's fixed shape.

    Attributes
    ----------
    rexp_height_mm : float
        Height of the root exit point above the waist of the pontomedullary sulcus.
    heading_lateral, heading_anterior : float
        The attached course heads ``0.75 * up + heading_lateral * lateral +
        heading_anterior * anterior`` along the pons.
    leave_deg : float
        Angle between the attached course and the cisternal course at the RDP.
    bow_mm : float
        Bow of the cisternal course (mm, positive = superior) at its middle.
    flocculus_radii_mm : tuple of float or None
        Semi-axes of a flocculus behind CN VII/VIII near the root exit zone; None = none.
    aica_loop_mm, pica_loop_mm : float
        Depth of a loop of the AICA (toward the porus) and of the PICA (caudal
        loop, toward the nerve root).
    va_shift_mm : float
        Lateral bulge of a tortuous vertebral artery.
    """

    rexp_height_mm: float = 0.3
    heading_lateral: float = 0.5
    heading_anterior: float = 0.3
    leave_deg: float = 25.0
    bow_mm: float = 0.0
    flocculus_radii_mm: tuple[float, float, float] | None = None
    aica_loop_mm: float = 0.0
    pica_loop_mm: float = 0.0
    va_shift_mm: float = 0.0


@dataclass(frozen=True)
class WideParams:
    """What only the wide variety has: anatomy families, decoy nerves, sequence family.

    Attributes
    ----------
    contrast : {"CISS", "FIESTA", "SPACE"}
        Family of the heavily T2-weighted sequence (sets the intensity ranges drawn
        into ``ImagingParams`` and the blur).
    field_strength_t : float
        1.5 or 3 (tesla); 1.5 T cases have SNR 8-15.
    t2_blur_vox, mra_blur_vox : float
        Gaussian point spread (sigma, voxels) of each image (standard: 0.5).
    pons_shift_mm, medulla_shift_mm : tuple of float
        Displacement of the pons and of the medulla (brainstem proportions).
    sulcus_fillet_mm : float
        Rounding of the pontomedullary sulcus (smooth union radius; 0 = sharp crease).
    sulcus_groove_mm : float
        Extra depth of the pontomedullary sulcus (a groove along the crease).
    csf_width_mm : float
        Cerebellum moved away from (positive) or toward (negative) the brainstem:
        width of the cerebellopontine cistern.
    cn6_radius_mm, cn9_radius_mm, cn10_radius_mm : float
        Radii of the decoy cranial nerves VI, IX and X (always drawn in this variety).
    left, right : CourseParams
    """

    contrast: Contrast = "CISS"
    field_strength_t: float = 3.0
    t2_blur_vox: float = 0.5
    mra_blur_vox: float = 0.5
    pons_shift_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    medulla_shift_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    sulcus_fillet_mm: float = 0.0
    sulcus_groove_mm: float = 0.0
    csf_width_mm: float = 0.0
    cn6_radius_mm: float = 0.5
    cn9_radius_mm: float = 0.55
    cn10_radius_mm: float = 0.8
    left: CourseParams = field(default_factory=CourseParams)
    right: CourseParams = field(default_factory=CourseParams)

    def course(self, side: Side) -> CourseParams:
        """The course parameters of one side."""
        return self.left if side == "left" else self.right


@dataclass(frozen=True)
class PhantomParams:
    """Everything that defines one phantom case.

    ``wide`` is None for the standard variety; a ``WideParams`` adds the wide
    variety's anatomy families, decoy cranial nerves (VI, IX, X) and sequence family.
    """

    seed: int = 0
    hfs_side: Side = "right"
    left: SideParams = field(default_factory=SideParams)
    right: SideParams = field(default_factory=SideParams)
    anatomy: AnatomyParams = field(default_factory=AnatomyParams)
    imaging: ImagingParams = field(default_factory=ImagingParams)
    wide: WideParams | None = None

    def side(self, side: Side) -> SideParams:
        """The parameters of one side."""
        return self.left if side == "left" else self.right

    @property
    def variety(self) -> Variety:
        """``"wide"`` if the case has wide-variety parameters, else ``"standard"``."""
        return "standard" if self.wide is None else "wide"

    @property
    def contrast(self) -> Contrast:
        """The T2 sequence family (the standard variety is CISS-like)."""
        return "CISS" if self.wide is None else self.wide.contrast

    @property
    def field_strength_t(self) -> float:
        """Field strength in tesla (the standard variety is 3 T)."""
        return 3.0 if self.wide is None else self.wide.field_strength_t


_SEGMENT_WEIGHTS: dict[Segment, float] = {"RExP": 0.12, "AS": 0.5, "RDP": 0.22, "TZ": 0.16}
_OFFENDER_WEIGHTS: dict[Offender, float] = {"AICA": 0.43, "PICA": 0.31, "VA": 0.26}
_OTHER_SIDE: dict[Scenario, float] = {
    "none": 0.3,
    "near": 0.25,
    "distal": 0.2,
    "vein": 0.15,
    "nvc": 0.1,
}


def draw_params(seed: int, variety: Variety = "standard") -> PhantomParams:
    """Draw a random, plausible case from a seed (reproducible).

    The symptomatic side gets an arterial contact in the vulnerable zone with
    the literature's offender and location frequencies; the other side gets no
    vessel, a decoy (near but apart, distal contact, vein contact) or, rarely,
    an asymptomatic arterial contact.

    Parameters
    ----------
    seed : int
    variety : {"standard", "wide"}
        ``"standard"`` keeps the development ranges (and every draw of earlier
        versions); ``"wide"`` draws from ``WIDE_RANGES`` (see ``draw_wide_params``).
    """
    if variety == "wide":
        return draw_wide_params(seed)
    if variety != "standard":
        raise ValueError(f"unknown phantom variety {variety!r}; expected one of {VARIETIES}")
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


def _draw_side(
    rng: np.random.Generator,
    scenario: Scenario,
    *,
    attached_mm: tuple[float, float] = (6.0, 10.0),
    cisternal_mm: tuple[float, float] = (12.5, 15.5),
    azimuth_deg: tuple[float, float] = (15.0, 35.0),
    offenders: Mapping[Offender, float] = _OFFENDER_WEIGHTS,
) -> SideParams:
    attached = float(rng.uniform(*attached_mm))
    cisternal = float(rng.uniform(*cisternal_mm))
    azimuth = float(rng.uniform(*azimuth_deg))
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
        offender = "vein" if scenario == "vein" else _pick(rng, offenders)
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


#: Ranges (lo, hi) of the wide variety's draws; lengths in mm, angles in degrees.
WIDE_RANGES: dict[str, tuple[float, float]] = {
    "scale": (0.85, 1.15),
    "brainstem_radii_rel": (0.85, 1.15),
    "pons_shift_mm": (-2.0, 2.0),
    "medulla_shift_mm": (-2.0, 2.0),
    "sulcus_fillet_mm": (0.0, 3.0),
    "sulcus_groove_mm": (0.0, 1.5),
    "csf_width_mm": (-1.5, 4.0),
    "cn7_radius_mm": (0.5, 1.0),
    "cn8_to_cn7": (1.2, 1.8),
    "attached_length_mm": (5.0, 12.0),
    "cisternal_length_mm": (10.0, 16.0),
    "exit_azimuth_deg": (5.0, 45.0),
    "rexp_height_mm": (-0.5, 1.5),
    "heading_lateral": (0.3, 0.8),
    "heading_anterior": (0.05, 0.5),
    "leave_deg": (12.0, 40.0),
    "bow_mm": (-2.0, 2.0),
    "flocculus_radius_mm": (2.0, 4.0),
    "aica_loop_mm": (0.0, 5.0),
    "pica_loop_mm": (0.0, 4.0),
    "va_shift_mm": (0.0, 4.0),
    "cn6_radius_mm": (0.4, 0.6),
    "cn9_radius_mm": (0.4, 0.7),
    "cn10_radius_mm": (0.6, 1.0),
    "t2_inplane_mm": (0.4, 0.9),
    "t2_slice_mm": (0.4, 1.0),
    "mra_inplane_mm": (0.3, 0.6),
    "mra_slice_mm": (0.5, 1.2),
    "snr_1.5T": (8.0, 15.0),
    "snr_3T": (12.0, 30.0),
    "gain": (50.0, 5000.0),
    "bias_strength": (0.05, 0.35),
    "head_rotation_deg": (-15.0, 15.0),
    "head_offset_mm": (-10.0, 10.0),
    "grid_oblique_deg": (-10.0, 10.0),
    "misregistration_deg": (-8.0, 8.0),
    "misregistration_mm": (-8.0, 8.0),
}

#: Per sequence family: relative T2 intensities (CSF = 1) of brainstem, nerve and
#: flowing blood, and the point spread (sigma in voxels). CISS and FIESTA are
#: balanced steady-state sequences (FIESTA darker tissue, a little softer); SPACE
#: is a turbo spin echo (brighter tissue and nerves, so less nerve contrast, and a
#: wider blur from T2 decay along the echo train).
CONTRAST_RANGES: dict[Contrast, dict[str, tuple[float, float]]] = {
    "CISS": {
        "tissue": (0.26, 0.42),
        "nerve": (0.08, 0.18),
        "vessel": (0.03, 0.12),
        "blur": (0.4, 0.7),
    },
    "FIESTA": {
        "tissue": (0.18, 0.32),
        "nerve": (0.06, 0.15),
        "vessel": (0.03, 0.1),
        "blur": (0.5, 0.9),
    },
    "SPACE": {
        "tissue": (0.35, 0.55),
        "nerve": (0.18, 0.32),
        "vessel": (0.05, 0.15),
        "blur": (0.7, 1.1),
    },
}

#: Offenders of the wide variety's symptomatic side (literature: vein 3 %).
_WIDE_OFFENDERS: dict[Offender, float] = {"AICA": 0.43, "PICA": 0.31, "VA": 0.23}
_WIDE_VEIN_SYMPTOMATIC = 0.03


def draw_wide_params(seed: int) -> PhantomParams:
    """Draw a case of the wide variety (reproducible; a stream of its own).

    Anatomy families: brainstem size and pons/medulla proportions and offsets,
    a sharp, rounded or grooved pontomedullary sulcus, root exit position and
    azimuth, CN VII calibre (radius 0.5-1 mm, CN VIII 1.2-1.8 times thicker) and
    course shape (heading, leaving angle, bow), attached length 5-12 mm, CSF
    width of the cerebellopontine angle, a flocculus near the root exit zone
    (70 % of sides), AICA and PICA loops and a tortuous vertebral artery; decoy
    cranial nerves VI, IX and X. Imaging: CISS, FIESTA or SPACE contrast
    (``CONTRAST_RANGES``), 1.5 T (40 %, SNR 8-15) or 3 T (SNR 12-30), T2 voxels
    0.4-0.9 mm with slices up to 1.0 mm, TOF 0.3-0.6 mm with slices 0.5-1.2 mm,
    head pose up to 15 degrees, T2-to-TOF misregistration up to 8 degrees / 8 mm.
    Offenders of the symptomatic side: AICA 43 %, PICA 31 %, VA 23 %, vein 3 %.
    """
    r = WIDE_RANGES
    rng = np.random.default_rng([seed, 0x57])

    def u(name: str) -> float:
        return float(rng.uniform(*r[name]))

    hfs: Side = "left" if rng.random() < 0.5 else "right"
    sides = {}
    for side in SIDES:
        if side == hfs:
            scenario: Scenario = "vein" if rng.random() < _WIDE_VEIN_SYMPTOMATIC else "nvc"
        else:
            scenario = _pick(rng, _OTHER_SIDE)
        sides[side] = _draw_side(
            rng,
            scenario,
            attached_mm=r["attached_length_mm"],
            cisternal_mm=r["cisternal_length_mm"],
            azimuth_deg=r["exit_azimuth_deg"],
            offenders=_WIDE_OFFENDERS,
        )
    rel = r["brainstem_radii_rel"][1] - 1.0
    cn7 = u("cn7_radius_mm")
    anatomy = AnatomyParams(
        scale=u("scale"),
        pons_radii_mm=_jitter(rng, (14.0, 12.0, 12.0), rel),
        medulla_radii_mm=_jitter(rng, (9.5, 9.0, 16.0), rel),
        cn7_radius_mm=cn7,
        cn8_radius_mm=min(cn7 * u("cn8_to_cn7"), 1.5),
        cn5_radius_mm=float(rng.uniform(1.2, 2.0)),
        va_radius_mm=float(rng.uniform(1.2, 2.2)),
        ba_radius_mm=float(rng.uniform(1.2, 2.0)),
        aica_radius_mm=float(rng.uniform(0.5, 1.1)),
        pica_radius_mm=float(rng.uniform(0.5, 1.1)),
        sca_radius_mm=float(rng.uniform(0.5, 0.9)),
        vein_radius_mm=float(rng.uniform(0.6, 1.2)),
        iac_radius_mm=float(rng.uniform(2.0, 3.3)),
    )
    courses = {}
    for side in SIDES:
        floc = None
        if rng.random() < 0.7:
            f = float(rng.uniform(*r["flocculus_radius_mm"]))
            floc = (f, f * float(rng.uniform(0.7, 1.0)), f * float(rng.uniform(0.6, 0.9)))
        courses[side] = CourseParams(
            rexp_height_mm=u("rexp_height_mm"),
            heading_lateral=u("heading_lateral"),
            heading_anterior=u("heading_anterior"),
            leave_deg=u("leave_deg"),
            bow_mm=u("bow_mm"),
            flocculus_radii_mm=floc,
            aica_loop_mm=u("aica_loop_mm") if rng.random() < 0.5 else 0.0,
            pica_loop_mm=u("pica_loop_mm") if rng.random() < 0.4 else 0.0,
            va_shift_mm=u("va_shift_mm") if rng.random() < 0.4 else 0.0,
        )
    contrast: Contrast = CONTRASTS[int(rng.integers(3))]
    cr = CONTRAST_RANGES[contrast]
    field_t = 1.5 if rng.random() < 0.4 else 3.0
    snr = r["snr_1.5T"] if field_t == 1.5 else r["snr_3T"]
    round_fillet = rng.random() < 0.5
    wide = WideParams(
        contrast=contrast,
        field_strength_t=field_t,
        t2_blur_vox=float(rng.uniform(*cr["blur"])),
        mra_blur_vox=float(rng.uniform(0.4, 0.8)),
        pons_shift_mm=(0.0, *_offset(rng, r["pons_shift_mm"][1])[1:]),
        medulla_shift_mm=(0.0, *_offset(rng, r["medulla_shift_mm"][1])[1:]),
        sulcus_fillet_mm=u("sulcus_fillet_mm") if round_fillet else 0.0,
        sulcus_groove_mm=0.0 if round_fillet else u("sulcus_groove_mm"),
        csf_width_mm=u("csf_width_mm"),
        cn6_radius_mm=u("cn6_radius_mm"),
        cn9_radius_mm=u("cn9_radius_mm"),
        cn10_radius_mm=u("cn10_radius_mm"),
        left=courses["left"],
        right=courses["right"],
    )
    t2_in = u("t2_inplane_mm")
    t2_slice = t2_in if rng.random() < 0.4 else float(rng.uniform(t2_in, max(t2_in, 1.0)))
    mra_in = u("mra_inplane_mm")
    mra_slice = float(rng.uniform(max(mra_in, r["mra_slice_mm"][0]), r["mra_slice_mm"][1]))
    orientations: list[GridOrientation] = ["RAS", "LPS", "coronal", "sagittal"]
    gain = np.log(r["gain"])
    imaging = ImagingParams(
        t2_spacing_mm=(t2_in, t2_in, t2_slice),
        mra_spacing_mm=(mra_in, mra_in, mra_slice),
        t2_orientation=orientations[int(rng.choice(4, p=[0.35, 0.35, 0.15, 0.15]))],
        mra_orientation=orientations[int(rng.choice(2))],
        t2_oblique_deg=_angles(rng, r["grid_oblique_deg"][1]),
        mra_oblique_deg=_angles(rng, r["grid_oblique_deg"][1]),
        head_rotation_deg=_angles(rng, r["head_rotation_deg"][1]),
        head_offset_mm=_offset(rng, r["head_offset_mm"][1]),
        misregistration_deg=_angles(rng, r["misregistration_deg"][1]),
        misregistration_mm=_offset(rng, r["misregistration_mm"][1]),
        t2_snr=float(rng.uniform(*snr)),
        mra_snr=float(rng.uniform(*snr)),
        bias_strength=u("bias_strength"),
        t2_gain=float(np.exp(rng.uniform(*gain))),
        mra_gain=float(np.exp(rng.uniform(*gain))),
        t2_tissue=float(rng.uniform(*cr["tissue"])),
        t2_nerve=float(rng.uniform(*cr["nerve"])),
        t2_vessel=float(rng.uniform(*cr["vessel"])),
        mra_tissue=float(rng.uniform(0.18, 0.4)),
        mra_csf=float(rng.uniform(0.04, 0.2)),
    )
    return PhantomParams(
        seed=seed,
        hfs_side=hfs,
        left=sides["left"],
        right=sides["right"],
        anatomy=anatomy,
        imaging=imaging,
        wide=wide,
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

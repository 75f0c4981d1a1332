"""Self-checks of one side's analysis: is what was traced anatomy, and can its verdict be read?

Each check compares a measurement of the traced CN VII (or of the case) with
an anatomical range or a consistency rule. A side that fails any of them is
"needs review", with the reasons, and its confidence is capped: a confident
wrong answer is the worst outcome for a surgeon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc.brainstem import Brainstem
from nvc.intensity import T2Levels, tube_darkness
from nvc.morphology import distance_to_mask, mask_box
from nvc.nerve_geometry import NerveGeometry


@dataclass(frozen=True)
class SelfCheckParams:
    """Anatomical ranges and limits of the self-checks (mm unless stated).

    Attributes
    ----------
    min_nerve_mm, max_nerve_mm : float
        CN VII from the root exit point to the porus: attached segment 8-10 mm,
        transition zone 2-2.5 mm, cisternal course about 12 mm (Tomii et al.
        2003; Campos-Benitez and Kaufmann 2008), about 14-30 mm in all.
    min_attached_mm, max_attached_mm : float
        Root exit to root detachment point: 8-10 mm, rarely under 5 or over 12;
        an RDP at the root exit point means the attached segment was not traced.
    max_rexp_off_surface_mm : float
        The root exit point lies on the brainstem surface (its centre within
        the nerve's radius plus a voxel of it).
    min_radius_mm, max_radius_mm : float
        Mean CN VII radius: the nerve is 1-2 mm wide; allowing for partial
        volume, 0.35-1.5 mm.
    tof_near_mm : float
        TOF-bright voxels this close to CN VII that are not labelled as vessel
        are reported (an unsegmented artery may be the offender).
    min_tof_near_mm3 : float
        ... when they add up to at least this volume (a voxel or two of noise
        does not count; an artery 1 mm wide over 1 mm is 0.8 mm3).
    min_trace_quality : float
        The trace's clarity (``trace_quality``) enters the confidence at no
        less than this: a nerve traced through bright voxels lowers the
        confidence, it does not erase it (the self-checks do that).
    review_confidence : float
        Highest confidence of a side that needs review.
    max_prepontine_mm, max_clivus_mm : float
        In front of the brainstem, on the midline at the junction's level,
        CSF of the prepontine cistern within ``max_prepontine_mm`` and bone
        of the clivus within ``max_clivus_mm`` (the cistern is a few mm deep;
        the clivus lies about 5-15 mm in front of the pons; generous here, since
        at the junction the medulla lies farther back: up to 23 mm on the
        independent generator's anatomy).
    min_clivus_mm : float
        The clivus is darker than tissue on average over at least this
        thickness (more than the basilar artery's flow void, 3-4 mm wide,
        which lies in the cistern).
    void_radius_mm, void_darkness : float
        A TOF artery's core lands on a flow void when the T2 there is a dark
        tube (``tube_darkness`` against a box of half-width ``void_radius_mm``,
        wider than the basilar artery, at least ``void_darkness``). Plain
        darkness would not do: an angiogram shifted by a centimetre puts the
        basilar artery into the clivus, dark too.
    tof_bright_fraction : float
        TOF-bright: this fraction of the way from stationary tissue to the
        brightest arteries (arterial inflow; tissue and CSF stay near 0).
    min_brainstem_section_mm2, max_brainstem_section_mm2 : float
        The brainstem's mean axial section (its volume over its height): the
        medulla is about 12 mm deep and 15-20 mm wide, the pons about 25 mm
        deep and 35-38 mm wide (Standring, Gray's Anatomy, 42nd ed., ch. 25);
        an ellipse of 11 x 11 mm to one of 36 x 36 mm, about 100-1000 mm2.
    min_brainstem_height_mm : float
        The brainstem found over at least this height: a T2 that shows the
        facial nerve's root exit zone shows the pons and medulla for a
        centimetre above and below the pontomedullary junction.
    """

    min_nerve_mm: float = 14.0
    max_nerve_mm: float = 32.0
    min_attached_mm: float = 4.0
    max_attached_mm: float = 14.0
    max_rexp_off_surface_mm: float = 1.5
    min_radius_mm: float = 0.35
    max_radius_mm: float = 1.5
    tof_near_mm: float = 2.0
    min_tof_near_mm3: float = 0.8
    review_confidence: float = 0.4
    min_trace_quality: float = 0.3
    max_prepontine_mm: float = 12.0
    max_clivus_mm: float = 30.0
    min_clivus_mm: float = 4.0
    tof_bright_fraction: float = 0.35
    void_radius_mm: float = 3.0
    void_darkness: float = 0.5
    min_brainstem_section_mm2: float = 100.0
    max_brainstem_section_mm2: float = 1000.0
    min_brainstem_height_mm: float = 20.0


@dataclass(frozen=True)
class Check:
    """One self-check: its name, the measured value, what is allowed and whether it passed."""

    name: str
    passed: bool
    value: float | str
    allowed: str
    reason: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dictionary."""
        value = round(self.value, 3) if isinstance(self.value, float) else self.value
        return {"passed": self.passed, "value": value, "allowed": self.allowed}


@dataclass(frozen=True)
class SideQuality:
    """The self-checks of one side.

    Attributes
    ----------
    checks : tuple of Check
    needs_review : bool
        True when any check failed.
    """

    checks: tuple[Check, ...]

    @property
    def needs_review(self) -> bool:
        """Whether any check failed."""
        return any(not c.passed for c in self.checks)

    @property
    def review_reasons(self) -> tuple[str, ...]:
        """The reason of every failed check, in the order checked."""
        return tuple(c.reason for c in self.checks if not c.passed)

    @property
    def passed_fraction(self) -> float:
        """Fraction of the checks that passed (1.0 when there are none)."""
        return float(np.mean([c.passed for c in self.checks])) if self.checks else 1.0

    def capped(self, confidence: float, params: SelfCheckParams = SelfCheckParams()) -> float:
        """``confidence`` as it stands when every check passed; lowered when one failed.

        A side that needs review keeps at most ``review_confidence``, scaled
        down by the fraction of checks that failed.
        """
        if not self.needs_review:
            return confidence
        return round(min(confidence, params.review_confidence) * self.passed_fraction, 2)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready ``quality`` block: every check, ``needs_review`` and the reasons."""
        return {
            "needs_review": self.needs_review,
            "review_reasons": list(self.review_reasons),
            "checks": {c.name: c.to_dict() for c in self.checks},
        }


def _range_check(
    name: str, value: float, lo: float, hi: float, what: str, unit: str = "mm"
) -> Check:
    ok = bool(lo <= value <= hi)
    return Check(
        name=name,
        passed=ok,
        value=float(value),
        allowed=f"{lo:g}-{hi:g} {unit}",
        reason=f"{what} {value:.1f} {unit}, outside the anatomical {lo:g}-{hi:g} {unit}",
    )


def nerve_checks(
    geometry: NerveGeometry,
    *,
    nerve_mask: NDArray[np.bool_],
    spacing: NDArray[np.float64],
    attached_from_anatomy: bool = False,
    params: SelfCheckParams = SelfCheckParams(),
) -> list[Check]:
    """Checks of a traced CN VII against anatomy.

    Parameters
    ----------
    geometry : NerveGeometry
        The centerline from the root exit point (arc lengths in mm).
    nerve_mask : ndarray of bool, shape (I, J, K)
        The grown CN VII mask of this side.
    spacing : ndarray, shape (3,)
        Voxel size (mm) of the mask's grid.
    attached_from_anatomy : bool
        The attached segment was not seen on the image and its length was
        taken from anatomy (``nvc.nerves.NerveTrace.attached_from_anatomy``).

    Returns
    -------
    list of Check
        Length, attached segment (seen, and its length), root exit point on
        the surface, calibre.
    """
    length = float(geometry.arc_mm[-1]) if len(geometry.arc_mm) else 0.0
    volume = float(np.count_nonzero(nerve_mask)) * float(np.prod(spacing))
    radius = float(np.sqrt(volume / (np.pi * max(length, 1e-6))))
    off_surface = float(abs(geometry.distance_to_brainstem_mm[0]))
    p = params
    return [
        _range_check("nerve_length", length, p.min_nerve_mm, p.max_nerve_mm, "CN VII traced over"),
        Check(
            name="attached_segment_seen",
            passed=not attached_from_anatomy,
            value=float(geometry.rdp_mm),
            allowed="the nerve followed on the pons from the detachment to the root exit point",
            reason=(
                "attached segment not visible on the image: root exit point placed "
                f"{float(geometry.rdp_mm):.1f} mm down the pons from the detachment point "
                "(typical anatomy); check it"
            ),
        ),
        _range_check(
            "attached_segment",
            float(geometry.rdp_mm),
            p.min_attached_mm,
            p.max_attached_mm,
            "attached segment (root exit to detachment point)",
        ),
        Check(
            name="rexp_on_brainstem",
            passed=off_surface <= p.max_rexp_off_surface_mm,
            value=off_surface,
            allowed=f"<= {p.max_rexp_off_surface_mm:g} mm from the brainstem surface",
            reason=f"root exit point {off_surface:.1f} mm off the brainstem surface",
        ),
        _range_check("nerve_radius", radius, p.min_radius_mm, p.max_radius_mm, "CN VII radius"),
    ]


def unlabelled_tof_check(
    tof_bright: NDArray[np.bool_],
    vessels: NDArray[np.bool_],
    nerve_mask: NDArray[np.bool_],
    spacing: NDArray[np.float64],
    *,
    params: SelfCheckParams = SelfCheckParams(),
) -> Check:
    """TOF-bright voxels near CN VII that no vessel label holds.

    Parameters
    ----------
    tof_bright : ndarray of bool, shape (I, J, K)
        Voxels bright on the registered TOF (arterial flow).
    vessels : ndarray of bool
        Voxels labelled artery or vein.
    nerve_mask : ndarray of bool
        This side's CN VII.
    spacing : ndarray, shape (3,)
        Voxel size (mm).
    """
    near = np.zeros_like(nerve_mask)
    if nerve_mask.any():  # the distance on the nerve's box: nothing beyond it is that near
        box = mask_box(nerve_mask, params.tof_near_mm + float(np.max(spacing)), spacing)
        near[box] = distance_to_mask(nerve_mask[box], spacing) <= params.tof_near_mm
    volume = float(np.count_nonzero(near & tof_bright & ~vessels)) * float(np.prod(spacing))
    return Check(
        name="unlabelled_tof_near_nerve",
        passed=volume < params.min_tof_near_mm3,
        value=volume,
        allowed=f"< {params.min_tof_near_mm3:g} mm3 within {params.tof_near_mm:g} mm of CN VII",
        reason=(
            f"unsegmented TOF signal near the nerve: {volume:.1f} mm3 of TOF-bright voxels within"
            f" {params.tof_near_mm:g} mm of CN VII are not labelled as vessel"
        ),
    )


def symptomatic_check(
    *, symptomatic: bool | None, any_vessel_near: bool, compression: bool
) -> Check:
    """On the symptomatic side of an HFS patient, no compression found is itself a doubt.

    A vessel compresses the facial nerve's root exit zone in nearly every
    patient with hemifacial spasm (an offender is found at surgery in over
    90 %): a symptomatic side read as free of compression (no vessel near
    CN VII, or vessels near but apart) is more often a miss than a finding,
    and is reviewed.
    """
    doubtful = bool(symptomatic) and not compression
    value = "found or not symptomatic"
    reason = ""
    if doubtful and not any_vessel_near:
        value, reason = "no vessel near", "no vessel found near CN VII on the symptomatic side"
    elif doubtful:
        value = "vessels near, none in contact"
        reason = "no compression found on the symptomatic side (vessels near but apart)"
    return Check(
        name="vessel_on_symptomatic_side",
        passed=not doubtful,
        value=value,
        allowed="a compression of CN VII on the symptomatic side",
        reason=f"{reason or 'no compression found on the symptomatic side'}: look again",
    )


#: Names of the self-checks measured once for the whole case (``registration_check``,
#: ``brainstem_position_check``, ``brainstem_size_check``), not on a side's nerve: a
#: review of a side keeps them as the automated run measured them.
CASE_CHECKS: tuple[str, ...] = ("registration", "brainstem_behind_clivus", "brainstem_size")


def registration_check(*, registration_ok: bool, agreement: float, minimum: float) -> Check:
    """The TOF's arteries land on the T2's flow voids (a failed registration misplaces them)."""
    return Check(
        name="registration",
        passed=registration_ok,
        value=float(agreement),
        allowed=f">= {minimum:g} of TOF artery cores on dark T2 voxels",
        reason=f"registration failed (vessel-void agreement {agreement:.2f}): needs review",
    )


def separation_check(*, separated: bool) -> Check:
    """CN VIII traced apart from CN VII: else which of the two is CN VII is not certain."""
    return Check(
        name="cn8_traced_apart",
        passed=bool(separated),
        value="yes" if separated else "no",
        allowed="CN VIII traced beside CN VII",
        reason="CN VIII was not traced apart from CN VII: which nerve is CN VII is uncertain",
    )


def brainstem_check(
    norm: NDArray[np.floating],
    csf_threshold: float,
    dark_threshold: float,
    *,
    midline_i: float,
    anterior_j: int,
    level_k: int,
    spacing: NDArray[np.float64],
    params: SelfCheckParams = SelfCheckParams(),
) -> Check:
    """The brainstem lies behind the clivus: CSF then bone in front of it on the midline.

    Parameters
    ----------
    norm : ndarray, shape (I, J, K)
        Normalised T2 (CSF = 1) on a closest-canonical grid (j anterior).
    csf_threshold, dark_threshold : float
        Brighter is CSF; darker (on average over ``min_clivus_mm``) is bone
        (``T2Levels.tissue_threshold``: darker than brain tissue).
    midline_i : float
        Index (axis i) of the mid-sagittal plane.
    anterior_j : int
        Index (axis j) of the brainstem's anterior edge at level ``level_k``.
    level_k : int
        Axial level (the pontomedullary junction).
    spacing : ndarray, shape (3,)
        Voxel size (mm).
    """
    i = int(np.clip(round(midline_i), 0, norm.shape[0] - 1))
    k = int(np.clip(level_k, 0, norm.shape[2] - 1))
    column = np.asarray(norm[i, anterior_j:, k], float)
    depth = np.arange(len(column)) * float(spacing[1])
    csf = np.flatnonzero((column > csf_threshold) & (depth <= params.max_prepontine_mm))
    # bone: dark on average over a stretch thicker than a flow void of the basilar artery
    # (the mean, not every voxel: noise on 1.5 T bone reaches the tissue level)
    run = max(1, round(params.min_clivus_mm / float(spacing[1])))
    thick = np.convolve(column, np.ones(run) / run, "valid") < dark_threshold
    bone = np.flatnonzero(thick & (depth[: len(thick)] <= params.max_clivus_mm))
    bone = bone[bone > csf[0]] if csf.size else bone[:0]
    ok = bool(csf.size and bone.size)
    found = (
        f"cistern at {depth[csf[0]]:.0f} mm, bone at {depth[bone[0]]:.0f} mm"
        if ok
        else "no cistern then bone in front of it"
    )
    return Check(
        name="brainstem_behind_clivus",
        passed=ok,
        value=found,
        allowed=(
            f"CSF within {params.max_prepontine_mm:g} mm and bone within"
            f" {params.max_clivus_mm:g} mm in front of the brainstem on the midline"
        ),
        reason=(
            "what was taken for the brainstem has no prepontine cistern and clivus in front"
            " of it: the brainstem may be misplaced"
        ),
    )


def brainstem_size_check(
    brainstem: Brainstem,
    spacing: NDArray[np.float64],
    *,
    params: SelfCheckParams = SelfCheckParams(),
) -> Check:
    """The brainstem found is as thick and as tall as a brainstem.

    A brainstem of the wrong size is a misread image (for example a tissue
    level taken from the wrong class, which leaves a few dozen voxels of
    "brainstem"): the junction, the search for the nerves and every check
    measured from it then mean nothing.

    Parameters
    ----------
    brainstem : Brainstem
        The brainstem found (``nvc.brainstem.segment_brainstem``), on a
        closest-canonical grid (axis k close to superior).
    spacing : ndarray, float64, shape (3,)
        Voxel size (mm) along i, j, k.
    params : SelfCheckParams
        ``min_brainstem_section_mm2``, ``max_brainstem_section_mm2`` and
        ``min_brainstem_height_mm``.

    Returns
    -------
    Check
        ``brainstem_size``: its value is the mean axial section (mm2), its
        volume over the height of the levels it spans.
    """
    sp = np.asarray(spacing, float)
    levels = np.flatnonzero(brainstem.mask.any(axis=(0, 1)))
    height = float(levels[-1] - levels[0] + 1) * float(sp[2]) if levels.size else 0.0
    volume = float(np.count_nonzero(brainstem.mask)) * float(np.prod(sp))
    section = volume / height if height > 0 else 0.0
    lo, hi = params.min_brainstem_section_mm2, params.max_brainstem_section_mm2
    ok = bool(lo <= section <= hi and height >= params.min_brainstem_height_mm)
    return Check(
        name="brainstem_size",
        passed=ok,
        value=section,
        allowed=(
            f"mean axial section {lo:g}-{hi:g} mm2 over at least"
            f" {params.min_brainstem_height_mm:g} mm"
        ),
        reason=(
            f"the brainstem found has a mean section of {section:.0f} mm2 over {height:.0f} mm,"
            " not a brainstem's: the image may be misread"
        ),
    )


def brainstem_position_check(
    norm: NDArray[np.floating],
    levels: T2Levels,
    brainstem: Brainstem,
    spacing: NDArray[np.float64],
    *,
    params: SelfCheckParams = SelfCheckParams(),
) -> Check:
    """``brainstem_check`` at the pontomedullary junction, from the mask's front on the midline.

    Parameters
    ----------
    norm : ndarray, float, shape (I, J, K)
        Normalised T2 (CSF = 1) on the closest-canonical grid of ``brainstem`` (j anterior).
    levels : T2Levels
        Its CSF and tissue thresholds.
    brainstem : Brainstem
        The brainstem found on that grid (``nvc.brainstem.segment_brainstem``).
    spacing : ndarray, float64, shape (3,)
        Voxel size (mm) along i, j, k.
    params : SelfCheckParams
        ``max_prepontine_mm``, ``max_clivus_mm`` and ``min_clivus_mm``.

    Returns
    -------
    Check
        ``brainstem_behind_clivus``, looked for from the first voxel in front
        of the mask on the midline column at the junction's level (from the
        level's centre when the column misses the mask).
    """
    k = brainstem.pmj_k
    i = int(np.clip(round(brainstem.midline_i), 0, brainstem.mask.shape[0] - 1))
    column = np.flatnonzero(brainstem.mask[i, :, k])
    front = int(column.max()) + 1 if column.size else int(np.nanmean(brainstem.center_j))
    return brainstem_check(
        norm,
        levels.csf_threshold,
        levels.tissue_threshold,
        midline_i=brainstem.midline_i,
        anterior_j=front,
        level_k=k,
        spacing=spacing,
        params=params,
    )


def vessel_void_agreement(
    arteries: NDArray[np.bool_],
    norm: NDArray[np.floating],
    levels: T2Levels,
    spacing: NDArray[np.float64],
    *,
    params: SelfCheckParams = SelfCheckParams(),
) -> float:
    """Fraction of the TOF arteries' cores that land on T2 flow voids (dark tubes in CSF).

    Parameters
    ----------
    arteries : ndarray of bool, shape (I, J, K)
        Arteries segmented on the registered TOF.
    norm : ndarray, float, shape (I, J, K)
        Normalised T2 on the same grid (CSF = 1).
    levels : T2Levels
    spacing : ndarray, shape (3,)
        Voxel size (mm).

    Returns
    -------
    float
        0-1; about 1 after a good registration, far lower when the angiogram
        is misplaced by more than an artery's width.
    """
    core = ndimage.binary_erosion(arteries)
    if core.sum() < 20:
        core = arteries
    if not core.any():
        return 0.0
    # the closing (a dilation then an erosion by a box of half-width ``void_radius_mm``) reads
    # at most twice that around a core voxel: on the cores' box widened by it, the same values
    r = params.void_radius_mm
    box = mask_box(core, 2.0 * r + 2.0 * float(np.max(spacing)), spacing)
    dark = tube_darkness(np.asarray(norm[box], np.float32), levels, spacing, radius_mm=r)
    return float(np.mean(dark[core[box]] >= params.void_darkness))


def trace_quality(path_cost: float, *, light_cost: float, floor: float) -> float:
    """How clearly the traced nerve stood out: 1 for a path all on dark tube, 0 on CSF.

    Parameters
    ----------
    path_cost : float
        Mean cost per mm of the CN VII/VIII path (``NerveTrace.path_cost``).
    light_cost : float
        The cost per mm of a voxel as bright as CSF (``NerveParams.cost_light``).
    floor : float
        Lowest value returned (a traced nerve is never evidence of nothing).

    Returns
    -------
    float
        ``1 - path_cost / light_cost`` clipped to [``floor``, 1].

    Examples
    --------
    >>> trace_quality(5.0, light_cost=20.0, floor=0.3)
    0.75
    >>> trace_quality(19.0, light_cost=20.0, floor=0.3)
    0.3
    """
    return float(np.clip(1.0 - path_cost / max(light_cost, 1e-9), floor, 1.0))

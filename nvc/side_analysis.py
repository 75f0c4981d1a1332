"""One side's analysis: from its traced nerves to its findings.

The traced CN VII becomes a centerline with its root detachment point
(``nvc.nerve_geometry``); the vessels near it are measured
(``nvc.contacts``); the self-checks (``nvc.quality``) and the verdict
(``nvc.decision``) follow; the MVD plan content (``nvc.vascular_context``)
completes the side's block of ``findings.json``. Both sides of a case are
measured against the same ``CaseAnatomy``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nvc.contacts import Contact, ContactParams, measure_contacts
from nvc.decision import DecisionParams, SideVerdict, decide
from nvc.findings import SideFindings
from nvc.nerve_geometry import GeometryParams, NerveGeometry, centerline_geometry
from nvc.nerves import NerveParams, NerveTrace
from nvc.quality import (
    Check,
    SelfCheckParams,
    SideQuality,
    nerve_checks,
    separation_check,
    symptomatic_check,
    trace_quality,
    unlabelled_tof_check,
)
from nvc.vascular_context import (
    ContextParams,
    NearbyArtery,
    Offender,
    describe_offender,
    nearest_arteries,
)
from nvc.vessel_names import ArteryTree, NamingParams, name_artery
from nvc.vocabulary import Side, VesselName


@dataclass(frozen=True)
class SideAnalysisParams:
    """The parameters one side's analysis uses, each the stage's own dataclass.

    Attributes
    ----------
    geometry : GeometryParams
        Centerline smoothing and root detachment rules (mm).
    contacts : ContactParams
        Reporting and contact distances (mm), grading.
    decision : DecisionParams
        Margins that lower the confidence (mm).
    checks : SelfCheckParams
        Anatomical ranges of the self-checks and the confidence cap.
    context : ContextParams
        Nearest arteries and the offender's course (mm).
    naming : NamingParams
        How an artery is named from the artery tree.
    nerves : NerveParams
        Only ``cost_light``: the path cost per mm of CSF, against which the
        trace's clarity is rated (``nvc.quality.trace_quality``).
    """

    geometry: GeometryParams = field(default_factory=GeometryParams)
    contacts: ContactParams = field(default_factory=ContactParams)
    decision: DecisionParams = field(default_factory=DecisionParams)
    checks: SelfCheckParams = field(default_factory=SelfCheckParams)
    context: ContextParams = field(default_factory=ContextParams)
    naming: NamingParams = field(default_factory=NamingParams)
    nerves: NerveParams = field(default_factory=NerveParams)


@dataclass(frozen=True, eq=False)
class CaseAnatomy:
    """What both sides of a case are measured against, on one grid (the analysed region).

    Every array has the shape (I, J, K) of the grid of ``affine``, a
    closest-canonical grid (i, j, k closest to R, A, S).

    Attributes
    ----------
    norm : ndarray, float32, shape (I, J, K)
        Normalised T2 (CSF = 1; ``nvc.intensity.normalize_t2``).
    arteries, veins : ndarray of bool, shape (I, J, K)
        The segmented vessels.
    tof_bright : ndarray of bool, shape (I, J, K)
        TOF-bright voxels (``SelfCheckParams.tof_bright_fraction`` of the way
        from stationary tissue to the brightest arteries), labelled as vessel or not.
    brainstem_distance_mm : ndarray, float32, shape (I, J, K)
        Signed distance (mm) to the brainstem surface
        (``nvc.nerve_geometry.brainstem_surface_distance``; negative inside).
    tree : ArteryTree
        Skeleton graph of ``arteries`` (``nvc.vessel_names.artery_tree``).
    affine : ndarray, float64, shape (4, 4)
        Maps voxel indices (i, j, k) to RAS+ mm.
    spacing : ndarray, float64, shape (3,)
        Voxel size (mm) along i, j, k.
    """

    norm: NDArray[np.float32]
    arteries: NDArray[np.bool_]
    veins: NDArray[np.bool_]
    tof_bright: NDArray[np.bool_]
    brainstem_distance_mm: NDArray[np.float32]
    tree: ArteryTree
    affine: NDArray[np.float64]
    spacing: NDArray[np.float64]


@dataclass(frozen=True)
class SideAnalysis:
    """One side's result.

    Attributes
    ----------
    findings : SideFindings
        The side's block of ``findings.json``.
    geometry : NerveGeometry or None
        CN VII's centerline (RAS mm) and landmarks; None when the nerve was not found.
    """

    findings: SideFindings
    geometry: NerveGeometry | None


def analyse_side(
    trace: NerveTrace,
    anatomy: CaseAnatomy,
    *,
    symptomatic: bool | None,
    registration_ok: bool,
    voxel_mm: float,
    case_checks: tuple[Check, ...] = (),
    params: SideAnalysisParams = SideAnalysisParams(),
) -> SideAnalysis:
    """Geometry, contacts, self-checks, verdict and MVD plan content of one side.

    Parameters
    ----------
    trace : NerveTrace
        The side's traced CN VII and CN VIII (``nvc.nerves.trace_nerves``), on
        the grid of ``anatomy``.
    anatomy : CaseAnatomy
        The T2, vessels, brainstem distance and artery tree of the case.
    symptomatic : bool or None
        Whether this is the side of the hemifacial spasm; None when not given.
    registration_ok : bool
        False when the registration was rated poor: the confidence is lowered
        and the side is no MVD candidate (every vessel may be misplaced).
    voxel_mm : float
        Largest voxel side of the T2 (mm): distances within a voxel of the
        contact threshold lower the confidence.
    case_checks : tuple of Check
        Self-checks of the whole case (registration, brainstem position),
        listed first among the side's checks.
    params : SideAnalysisParams
        The parameters of each step.

    Returns
    -------
    SideAnalysis
        The side's findings, and CN VII's geometry (None when ``trace.found``
        is False: the side then needs review, with the trace's reason).
    """
    if not trace.found:
        reason = f"facial nerve not found: {trace.reason}"
        findings = SideFindings(
            side=trace.side,
            nerve_found=False,
            nvc=False,
            mvd_candidate=False,
            confidence=0.0,
            reasons=(reason,),
            needs_review=True,
            review_reasons=(reason,),
            quality=SideQuality(case_checks).to_dict(),
        )
        return SideAnalysis(findings, None)
    a, p = anatomy, params

    def name_of(vox: NDArray[np.int_]) -> VesselName:
        return name_artery(a.tree, vox, params=p.naming)

    geom = centerline_geometry(
        trace.cn7_path,
        a.affine,
        a.brainstem_distance_mm,
        rdp_hint_index=trace.rdp_index,
        params=p.geometry,
    )
    contacts = measure_contacts(
        trace.cn7,
        geom,
        {"artery": a.arteries, "vein": a.veins},
        a.affine,
        a.spacing,
        name_of=name_of,
        side=trace.side,
        t2=a.norm,
        params=p.contacts,
    )
    verdict = decide(
        contacts,
        rdp_mm=geom.rdp_mm,
        symptomatic=symptomatic,
        registration_ok=registration_ok,
        nerve_quality=trace_quality(
            trace.path_cost, light_cost=p.nerves.cost_light, floor=p.checks.min_trace_quality
        ),
        contact_mm=p.contacts.contact_mm,
        voxel_mm=voxel_mm,
        params=p.decision,
    )
    checks = SideQuality(
        (
            *case_checks,
            separation_check(separated=trace.separated),
            *nerve_checks(
                geom,
                nerve_mask=trace.cn7,
                spacing=a.spacing,
                attached_from_anatomy=trace.attached_from_anatomy,
                params=p.checks,
            ),
            unlabelled_tof_check(
                a.tof_bright, a.arteries | a.veins, trace.cn7, a.spacing, params=p.checks
            ),
            symptomatic_check(
                symptomatic=symptomatic, any_vessel_near=bool(contacts), compression=verdict.nvc
            ),
        )
    )
    plan = mvd_plan(
        contacts,
        a.arteries,
        trace.cn7,
        trace.cn8,
        geom,
        a.tree,
        a.affine,
        a.spacing,
        name_of=name_of,
        context=p.context,
        naming=p.naming,
    )
    findings = side_findings(
        trace.side,
        geom,
        contacts,
        verdict,
        checks,
        separated=trace.separated,
        registration_ok=registration_ok,
        plan=plan,
        checks_params=p.checks,
    )
    return SideAnalysis(findings, geom)


def mvd_plan(
    contacts: Sequence[Contact],
    arteries: NDArray[np.bool_],
    cn7: NDArray[np.bool_],
    cn8: NDArray[np.bool_],
    geometry: NerveGeometry,
    tree: ArteryTree,
    affine: NDArray[np.float64],
    spacing: NDArray[np.float64],
    *,
    name_of: Callable[[NDArray[np.int_]], str],
    context: ContextParams,
    naming: NamingParams,
) -> tuple[tuple[NearbyArtery, ...], Offender | None]:
    """The side's MVD plan content: its nearest arteries and its primary offender.

    Parameters
    ----------
    contacts : sequence of Contact
        The side's measured contacts.
    arteries, cn7, cn8 : ndarray of bool, shape (I, J, K)
        Artery mask and this side's CN VII and CN VIII masks on the grid of ``affine``.
    geometry : NerveGeometry
        This side's CN VII centerline (RAS mm).
    tree : ArteryTree
        Skeleton graph of ``arteries`` (``nvc.vessel_names.artery_tree``).
    affine : ndarray, float64, shape (4, 4)
        Voxel indices (i, j, k) to RAS+ mm.
    spacing : ndarray, float64, shape (3,)
        Voxel size (mm) along i, j, k.
    name_of : callable
        Names an artery from voxel indices of its piece.
    context, naming : ContextParams, NamingParams

    Returns
    -------
    nearest : tuple of NearbyArtery
        ``nvc.vascular_context.nearest_arteries``.
    offender : Offender or None
        ``nvc.vascular_context.describe_offender``.
    """
    nearest = nearest_arteries(
        arteries, cn7, geometry, affine, spacing, name_of=name_of, contacts=contacts, params=context
    )
    offender = describe_offender(
        contacts, arteries, cn7, cn8, geometry, tree, affine, naming=naming, params=context
    )
    return nearest, offender


def side_findings(
    side: Side,
    geometry: NerveGeometry,
    contacts: Sequence[Contact],
    verdict: SideVerdict,
    checks: SideQuality,
    *,
    separated: bool,
    registration_ok: bool,
    plan: tuple[tuple[NearbyArtery, ...], Offender | None],
    checks_params: SelfCheckParams,
    extra: Mapping[str, Any] | None = None,
) -> SideFindings:
    """A traced side's block of ``findings.json`` from its measurements.

    The one place where the verdict, the self-checks and the registration come
    together: a registration rated poor gives no MVD candidate, a failed
    self-check caps the confidence and its reason comes first.

    Parameters
    ----------
    side : {"left", "right"}
    geometry : NerveGeometry
        CN VII's centerline with its root detachment point (mm).
    contacts : sequence of Contact
    verdict : SideVerdict
        ``nvc.decision.decide``.
    checks : SideQuality
        The side's self-checks.
    separated : bool
        Whether CN VIII was traced (or drawn) apart from CN VII.
    registration_ok : bool
        Whether the TOF-to-T2 registration was rated good.
    plan : tuple
        ``mvd_plan``'s nearest arteries and primary offender.
    checks_params : SelfCheckParams
        The confidence cap of a side that fails a check.
    extra : mapping, optional
        Keys of ``findings.json`` this version does not know, kept as they were.
    """
    nearest, offender = plan
    return SideFindings(
        side=side,
        nerve_found=True,
        nvc=verdict.nvc,
        # a registration rated poor places every vessel wrongly: no candidate from it
        mvd_candidate=verdict.mvd_candidate and registration_ok,
        confidence=checks.capped(verdict.confidence, checks_params),
        reasons=checks.review_reasons + verdict.reasons,
        needs_review=checks.needs_review,
        review_reasons=checks.review_reasons,
        quality=checks.to_dict(),
        contacts=tuple(contacts),
        rdp_mm=round(geometry.rdp_mm, 2),
        nerve_length_mm=round(float(geometry.arc_mm[-1]), 2),
        cn8_separated=separated,
        nearest_arteries=nearest,
        offender=offender,
        extra=dict(extra or {}),
    )

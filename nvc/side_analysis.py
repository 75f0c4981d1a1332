"""One side's analysis: from its traced nerves to its findings.

The traced CN VII becomes a centerline with its root detachment point
(``nvc.nerve_geometry``); the vessels near it are measured
(``nvc.contacts``); the self-checks (``nvc.quality``) and the verdict
(``nvc.decision``) follow; the MVD plan content (``nvc.vascular_context``)
completes the side's block of ``findings.json``. Both sides of a case are
measured against the same ``CaseAnatomy``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from nvc.contacts import ContactParams, measure_contacts
from nvc.decision import DecisionParams, decide
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
from nvc.vascular_context import ContextParams, describe_offender, nearest_arteries
from nvc.vessel_names import ArteryTree, NamingParams, name_artery
from nvc.vocabulary import VesselName


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
            symptomatic_check(symptomatic=symptomatic, any_vessel_near=bool(contacts)),
        )
    )
    findings = SideFindings(
        side=trace.side,
        nerve_found=True,
        nvc=verdict.nvc,
        # a registration rated poor places every vessel wrongly: no candidate from it
        mvd_candidate=verdict.mvd_candidate and registration_ok,
        confidence=checks.capped(verdict.confidence, p.checks),
        reasons=checks.review_reasons + verdict.reasons,
        needs_review=checks.needs_review,
        review_reasons=checks.review_reasons,
        quality=checks.to_dict(),
        contacts=tuple(contacts),
        rdp_mm=round(geom.rdp_mm, 2),
        nerve_length_mm=round(float(geom.arc_mm[-1]), 2),
        cn8_separated=trace.separated,
        nearest_arteries=nearest_arteries(
            a.arteries,
            trace.cn7,
            geom,
            a.affine,
            a.spacing,
            name_of=name_of,
            contacts=contacts,
            params=p.context,
        ),
        offender=describe_offender(
            contacts,
            a.arteries,
            trace.cn7,
            trace.cn8,
            geom,
            a.tree,
            a.affine,
            naming=p.naming,
            params=p.context,
        ),
    )
    return SideAnalysis(findings, geom)

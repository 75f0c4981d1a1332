"""The per-case pipeline: T2 + TOF in, findings and label maps out.

``run_case`` is the one function the command line, the batch runner and the
napari widget all call. It composes the pure stages of ``nvc``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc import inputs
from nvc.brainstem import Brainstem, segment_brainstem
from nvc.contacts import measure_contacts, nerve_distance_map
from nvc.decision import decide
from nvc.findings import Findings, SideFindings
from nvc.intensity import T2Levels, normalize_t2
from nvc.labels import Label, compose_labels
from nvc.nerve_geometry import NerveGeometry, brainstem_surface_distance, centerline_geometry
from nvc.nerves import trace_nerves
from nvc.quality import (
    SideQuality,
    brainstem_check,
    nerve_checks,
    registration_check,
    separation_check,
    symptomatic_check,
    trace_quality,
    unlabelled_tof_check,
    vessel_void_agreement,
)
from nvc.region import analysis_region, crop_brainstem, region_affine
from nvc.registration import register_rigid
from nvc.vascular_context import describe_offender, nearest_arteries
from nvc.vertebrobasilar import vertebrobasilar
from nvc.vessel_names import artery_tree, name_artery
from nvc.vessels import segment_arteries, segment_veins, tof_levels
from nvc.vocabulary import SIDES, Side, VesselName
from nvc.volume import Volume, reorient_canonical, reorient_like, resample_to
from nvc_pipelines.config import PipelineConfig
from nvc_pipelines.errors import AnalysisError

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class CaseResult:
    """Everything ``run_case`` produces (in memory; ``nvc_pipelines.outputs`` writes it).

    Attributes
    ----------
    t2 : Volume
        The T2 as given (its grid is the grid of every other output volume).
    labels : Volume
        On the T2 grid: 1 brainstem, 2 CN VII, 3 CN VIII, 4 artery, 5 vein, 6 CSF.
    mra_registered : Volume
        The TOF resampled onto the T2 grid through the registration.
    distance : Volume
        Distance (mm) from each T2 voxel to the CN VII surface (either side).
    centerlines : dict
        Per side, CN VII geometry (RAS mm), absent when the nerve was not found.
    """

    findings: Findings
    t2: Volume
    labels: Volume
    mra_registered: Volume
    distance: Volume
    centerlines: dict[Side, NerveGeometry]


def run_case(
    t2: Volume,
    mra: Volume,
    *,
    symptomatic_side: Side | None = None,
    config: PipelineConfig | None = None,
    progress: Progress | None = None,
) -> CaseResult:
    """Analyse one patient.

    Parameters
    ----------
    t2 : Volume
        Heavily T2-weighted 3D image (CISS / FIESTA / SPACE).
    mra : Volume
        3D TOF angiogram of the same patient.
    symptomatic_side : {"left", "right"}, optional
        Side of the hemifacial spasm.
    config : PipelineConfig, optional
        Parameters of every stage (defaults when omitted).
    progress : callable, optional
        Called as ``progress(stage, fraction_done)`` between steps. It may raise
        ``nvc_pipelines.errors.Cancelled`` to stop the analysis: the exception
        propagates unchanged and nothing is returned.

    Raises
    ------
    AnalysisError
        When the inputs cannot be analysed (constant, swapped, not overlapping,
        no brainstem, failed registration).
    """
    config = config or PipelineConfig()
    report = progress or (lambda stage, done: None)
    check_inputs(t2, mra, params=config.inputs)

    report("registration", 0.0)
    t2c = reorient_canonical(t2)
    # the brainstem needs only the T2: it is found in a second thread while ITK registers
    # (numpy, scipy and ITK release the GIL; the registration's threads leave a core idle
    # part of the time)
    with ThreadPoolExecutor(max_workers=1) as pool:
        found = pool.submit(find_brainstem, t2c, config)
        try:
            reg = register_rigid(t2, mra, params=config.registration)
        except RuntimeError as exc:
            found.cancel()
            raise AnalysisError(f"registration failed: {str(exc).splitlines()[-1][:200]}") from None
        report("brainstem", 0.25)
        try:
            norm_full, levels, bs_full = found.result()
        except ValueError as exc:
            raise AnalysisError(f"T2: {exc}") from None
    roi = analysis_region(t2c.shape, t2c.spacing, bs_full, params=config.region)
    crop = Volume(t2c.array[roi], region_affine(t2c.affine, roi), t2c.metadata)
    norm = norm_full[roi]
    bs = crop_brainstem(bs_full, roi)
    sp = crop.spacing

    report("vessels", 0.4)
    mra_reg = resample_to(mra, t2c, world_transform=reg.t2_to_mra)
    tof_full = mra_reg.array
    tof = tof_full[roi]
    csf = norm > levels.csf_threshold
    tl = tof_levels(tof, bs.mask, csf)
    tof_rel = (tof - tl.tissue) / max(tl.artery - tl.tissue, 1e-6)
    # the arteries (whole grid) and the two nerve sides are independent: found side by side
    # (their array work releases the GIL)
    with ThreadPoolExecutor(max_workers=1 + len(SIDES)) as pool:
        artery_job = pool.submit(segment_arteries, tof_full, sp, tl, params=config.vessels)
        report("nerves", 0.55)
        tracing = {
            side: pool.submit(
                trace_nerves, norm, levels, sp, bs, side, tof_relative=tof_rel, params=config.nerves
            )
            for side in SIDES
        }
        traces = {}
        for n, side in enumerate(SIDES):
            traces[side] = tracing[side].result()
            report("nerves", 0.6 + 0.05 * n)
        arteries_full = artery_job.result()
    arteries = arteries_full[roi]
    agreement = vessel_void_agreement(arteries, norm, levels, sp, params=config.checks)
    registration_ok = agreement >= config.quality.min_vessel_void_agreement
    nerves_any = np.zeros(norm.shape, bool)
    for t in traces.values():
        nerves_any |= t.cn7 | t.cn8
    veins = segment_veins(
        norm,
        levels,
        tof,
        tl,
        sp,
        exclude=arteries | bs.mask | ndimage.binary_dilation(nerves_any),
        params=config.vessels,
    )

    report("contacts", 0.75)
    labels_c = compose_labels(
        {
            Label.CSF: csf,
            Label.BRAINSTEM: bs.mask,
            Label.VEIN: veins,
            Label.CN8: np.logical_or.reduce([t.cn8 for t in traces.values()]),
            Label.CN7: np.logical_or.reduce([t.cn7 for t in traces.values()]),
            Label.ARTERY: arteries,
        },
        norm.shape,
    )
    full = np.zeros(t2c.shape, np.uint8)
    full[arteries_full] = Label.ARTERY
    full[roi] = labels_c
    labels = reorient_like(t2c.with_array(full), t2)
    # the label map is complete: its distance map (ITK, whole grid) and the brainstem distance
    # are computed in two threads while the artery tree is built
    with ThreadPoolExecutor(max_workers=2) as pool:
        distance_job = pool.submit(nerve_distance_map, labels.array == Label.CN7, t2.spacing)
        bs_dist_job = pool.submit(
            brainstem_surface_distance,
            bs.mask,
            sp,
            radius_mm=config.geometry.surface_smoothing_mm,
        )
        tree = artery_tree(
            arteries, sp, midline_i=bs.midline_i, pmj_k=bs.pmj_k, params=config.naming
        )
        bs_dist, distance_map = bs_dist_job.result(), distance_job.result()

    def name_of(vox: NDArray[np.int_]) -> VesselName:
        return name_artery(tree, vox, params=config.naming)

    behind_clivus = _brainstem_check(norm, levels, bs, sp, config)
    # the same for both sides: what is TOF-bright, and what is labelled as vessel
    tof_bright = tof_rel >= config.checks.tof_bright_fraction
    vessels = arteries | veins
    reg_check = registration_check(
        registration_ok=registration_ok,
        agreement=agreement,
        minimum=config.quality.min_vessel_void_agreement,
    )
    sides: dict[Side, SideFindings] = {}
    centerlines: dict[Side, NerveGeometry] = {}
    for side in SIDES:
        trace = traces[side]
        symptomatic = None if symptomatic_side is None else side == symptomatic_side
        if not trace.found:
            reason = f"facial nerve not found: {trace.reason}"
            sides[side] = SideFindings(
                side=side,
                nerve_found=False,
                nvc=False,
                mvd_candidate=False,
                confidence=0.0,
                reasons=(reason,),
                needs_review=True,
                review_reasons=(reason,),
                quality=SideQuality((reg_check, behind_clivus)).to_dict(),
            )
            continue
        geom = centerline_geometry(
            trace.cn7_path,
            crop.affine,
            bs_dist,
            rdp_hint_index=trace.rdp_index,
            params=config.geometry,
        )
        centerlines[side] = geom
        contacts = measure_contacts(
            trace.cn7,
            geom,
            {"artery": arteries, "vein": veins},
            crop.affine,
            sp,
            name_of=name_of,
            side=side,
            t2=norm,
            params=config.contacts,
        )
        quality = trace_quality(
            trace.path_cost,
            light_cost=config.nerves.cost_light,
            floor=config.checks.min_trace_quality,
        )
        verdict = decide(
            contacts,
            rdp_mm=geom.rdp_mm,
            symptomatic=symptomatic,
            registration_ok=registration_ok,
            nerve_quality=quality,
            contact_mm=config.contacts.contact_mm,
            voxel_mm=float(np.max(t2.spacing)),
            params=config.decision,
        )
        checks = SideQuality(
            (
                reg_check,
                behind_clivus,
                separation_check(separated=trace.separated),
                *nerve_checks(
                    geom,
                    nerve_mask=trace.cn7,
                    spacing=sp,
                    attached_from_anatomy=trace.attached_from_anatomy,
                    params=config.checks,
                ),
                unlabelled_tof_check(
                    tof_bright,
                    vessels,
                    trace.cn7,
                    sp,
                    params=config.checks,
                ),
                symptomatic_check(symptomatic=symptomatic, any_vessel_near=bool(contacts)),
            )
        )
        # a registration rated poor places every vessel wrongly: no candidate from it
        mvd = verdict.mvd_candidate and registration_ok
        sides[side] = SideFindings(
            side=side,
            nerve_found=True,
            nvc=verdict.nvc,
            mvd_candidate=mvd,
            confidence=checks.capped(verdict.confidence, config.checks),
            reasons=checks.review_reasons + verdict.reasons,
            needs_review=checks.needs_review,
            review_reasons=checks.review_reasons,
            quality=checks.to_dict(),
            contacts=tuple(contacts),
            rdp_mm=round(geom.rdp_mm, 2),
            nerve_length_mm=round(float(geom.arc_mm[-1]), 2),
            cn8_separated=trace.separated,
            # MVD plan content (nvc.vascular_context): nearest arteries, primary offender
            nearest_arteries=nearest_arteries(
                arteries,
                trace.cn7,
                geom,
                crop.affine,
                sp,
                name_of=name_of,
                contacts=contacts,
                params=config.context,
            ),
            offender=describe_offender(
                contacts,
                arteries,
                trace.cn7,
                trace.cn8,
                geom,
                tree,
                crop.affine,
                naming=config.naming,
                params=config.context,
            ),
        )

    report("outputs", 0.9)
    distance = t2.with_array(distance_map, kind="distance to CN VII (mm)")
    findings = Findings(
        sides=sides,
        symptomatic_side=symptomatic_side,
        registration={
            "t2_to_mra_ras": np.round(reg.t2_to_mra, 6).tolist(),
            "metric_mattes_mi": round(reg.metric, 4),
            "iterations": reg.iterations,
            "vessel_void_agreement": round(agreement, 3),
            "quality": "good" if registration_ok else "poor",
        },
        acquisition={"t2": _acquisition(t2), "mra": _acquisition(mra)},
        vertebrobasilar=vertebrobasilar(
            tree,
            crop.affine,
            axis=bs.axis,
            origin_index=bs.pmj_index,
            naming=config.naming,
            params=config.vertebrobasilar,
        ),
    )
    report("done", 1.0)
    return CaseResult(
        findings=findings,
        t2=t2,
        labels=Volume(labels.array.astype(np.uint8), t2.affine, {"kind": "nvc labels"}),
        mra_registered=reorient_like(mra_reg, t2),
        distance=distance,
        centerlines=centerlines,
    )


def _brainstem_check(norm, levels: T2Levels, bs: Brainstem, sp, config: PipelineConfig):
    """``nvc.quality.brainstem_check`` at the junction's level, from the mask's midline front."""
    k = bs.pmj_k
    i = int(np.clip(round(bs.midline_i), 0, bs.mask.shape[0] - 1))
    column = np.flatnonzero(bs.mask[i, :, k])
    front = int(column.max()) + 1 if column.size else int(np.nanmean(bs.center_j))
    return brainstem_check(
        norm,
        levels.csf_threshold,
        levels.tissue_threshold,
        midline_i=bs.midline_i,
        anterior_j=front,
        level_k=k,
        spacing=sp,
        params=config.checks,
    )


def find_brainstem(
    t2c: Volume, config: PipelineConfig
) -> tuple[NDArray[np.float32], T2Levels, Brainstem]:
    """Normalised T2, its levels and the brainstem, on the closest-canonical T2 ``t2c``.

    Raises
    ------
    ValueError
        When the T2 has no bright CSF or no brainstem is found.
    """
    norm, levels = normalize_t2(t2c.array, t2c.spacing, params=config.intensity)
    return norm, levels, segment_brainstem(norm, levels, t2c.spacing, params=config.brainstem)


def check_inputs(t2: Volume, mra: Volume, *, params: inputs.InputCheckParams | None = None) -> None:
    """``nvc.inputs.check_inputs`` with its refusal as an ``AnalysisError`` (exit code 4)."""
    try:
        inputs.check_inputs(t2, mra, params=params)
    except inputs.InputRefused as exc:
        raise AnalysisError(str(exc)) from None


def _acquisition(vol: Volume) -> dict[str, object]:
    md = vol.metadata
    out: dict[str, object] = {
        "shape": list(vol.shape),
        "voxel_size_mm": [round(float(v), 4) for v in vol.spacing],
    }
    for key in (
        "format",
        "sequence",
        "series_description",
        "field_strength_t",
        "manufacturer",
        "model",
    ):
        if md.get(key):
            out[key] = md[key]
    return out

"""The per-case pipeline: T2 + TOF in, findings and label maps out.

``run_case`` is the one function the command line, the batch runner and the
napari widget all call. It lists the stages of ``nvc`` in order; the stages
that do not need each other's results run at once (``nvc_pipelines.threads``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeGuard

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc import inputs
from nvc.brainstem import Brainstem, segment_brainstem
from nvc.contacts import nerve_distance_map
from nvc.findings import Findings
from nvc.intensity import T2Levels, normalize_t2, smoothed_levels
from nvc.labels import Label, compose_labels
from nvc.nerve_geometry import NerveGeometry, brainstem_surface_distance
from nvc.nerves import NerveTrace, trace_nerves
from nvc.quality import (
    brainstem_position_check,
    brainstem_size_check,
    registration_check,
    vessel_void_agreement,
)
from nvc.region import analysis_region, crop_brainstem, region_affine
from nvc.registration import RegistrationResult, register_rigid
from nvc.side_analysis import CaseAnatomy, SideAnalysis, SideAnalysisParams, analyse_side
from nvc.vertebrobasilar import vertebrobasilar
from nvc.vessel_names import ArteryTree, artery_tree
from nvc.vessels import TofLevels, segment_arteries, segment_veins, tof_levels
from nvc.vocabulary import SIDES, Side
from nvc.volume import Volume, reorient_canonical, reorient_like, resample_to
from nvc_pipelines.config import PipelineConfig
from nvc_pipelines.errors import AnalysisError
from nvc_pipelines.threads import side_by_side

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
    report = progress or _silent
    check_inputs(t2, mra, params=config.inputs)
    report("registration", 0.0)
    t2c = reorient_canonical(t2)
    reg, found = side_by_side(
        partial(_register, t2, mra, config),
        partial(_find_brainstem, t2c, config),
        collected=lambda n: report("brainstem", 0.25) if n == 0 else None,
    )
    region = _crop_to_region(t2c, *found, config)
    report("vessels", 0.4)
    mra_reg = resample_to(mra, t2c, world_transform=reg.t2_to_mra)
    tof = _tof_on_region(mra_reg, region)
    report("nerves", 0.55)
    left, right, arteries_full = side_by_side(
        partial(_trace, region, tof, "left", config),
        partial(_trace, region, tof, "right", config),
        partial(segment_arteries, tof.full, region.spacing, tof.levels, params=config.vessels),
        collected=lambda n: report("nerves", 0.6 + 0.05 * n) if n < len(SIDES) else None,
    )
    traces: dict[Side, NerveTrace] = {"left": left, "right": right}
    arteries = arteries_full[region.box]
    report("contacts", 0.75)
    # the veins beside the maps that do not need them (CN VII's voxels do not: no vein is
    # drawn over a nerve)
    veins, distance_map, bs_distance, tree = side_by_side(
        partial(_veins, region, tof, arteries, traces, config),
        partial(nerve_distance_map, _cn7_on_t2(t2, t2c, region, traces, arteries), t2.spacing),
        partial(_brainstem_distance, region, config),
        partial(_artery_tree, region, arteries, config),
    )
    labels = _label_map(t2, t2c, region, traces, arteries, veins, arteries_full)
    anatomy = _case_anatomy(region, tof, arteries, veins, bs_distance, tree, config)
    quality = _registration_quality(reg, region, arteries, config)
    sides = _analyse_sides(traces, anatomy, region, quality, symptomatic_side, t2, config)
    report("outputs", 0.9)
    findings = _findings(sides, symptomatic_side, quality, t2, mra, region, tree, config)
    report("done", 1.0)
    return CaseResult(
        findings=findings,
        t2=t2,
        labels=Volume(labels.array.astype(np.uint8), t2.affine, {"kind": "nvc labels"}),
        mra_registered=reorient_like(mra_reg, t2),
        distance=t2.with_array(distance_map, kind="distance to CN VII (mm)"),
        centerlines={s: a.geometry for s, a in sides.items() if a.geometry is not None},
    )


def _silent(stage: str, done: float) -> None:
    return None


@dataclass(frozen=True, eq=False)
class _Region:
    """The analysed box of the closest-canonical T2 (``nvc.region``), with what was found on it.

    ``norm``, ``csf`` and ``brainstem`` are cropped to ``box``; ``affine`` maps
    the crop's voxel indices to RAS mm.
    """

    box: tuple[slice, slice, slice]
    affine: NDArray[np.float64]
    spacing: NDArray[np.float64]
    norm: NDArray[np.float32]
    csf: NDArray[np.bool_]
    levels: T2Levels
    brainstem: Brainstem


@dataclass(frozen=True, eq=False)
class _Tof:
    """The registered TOF on the T2's closest-canonical grid (``full``) and on the region."""

    full: NDArray[np.floating]
    region: NDArray[np.floating]
    levels: TofLevels
    relative: NDArray[np.floating]


@dataclass(frozen=True)
class _RegistrationQuality:
    """The registration and how well the TOF's arteries land on the T2's flow voids."""

    registration: RegistrationResult
    agreement: float
    ok: bool


def _register(t2: Volume, mra: Volume, config: PipelineConfig) -> RegistrationResult:
    """``nvc.registration.register_rigid``, its failure an ``AnalysisError``."""
    try:
        return register_rigid(t2, mra, params=config.registration)
    except RuntimeError as exc:
        raise AnalysisError(f"registration failed: {str(exc).splitlines()[-1][:200]}") from None


def _find_brainstem(
    t2c: Volume, config: PipelineConfig
) -> tuple[NDArray[np.float32], T2Levels, Brainstem]:
    """``find_brainstem``, its failure an ``AnalysisError``."""
    try:
        return find_brainstem(t2c, config)
    except ValueError as exc:
        raise AnalysisError(f"T2: {exc}") from None


def _crop_to_region(
    t2c: Volume,
    norm_full: NDArray[np.float32],
    levels: T2Levels,
    brainstem_full: Brainstem,
    config: PipelineConfig,
) -> _Region:
    """The analysed box around the brainstem's junction, and the T2 cropped to it."""
    box = analysis_region(t2c.shape, t2c.spacing, brainstem_full, params=config.region)
    crop = Volume(t2c.array[box], region_affine(t2c.affine, box), t2c.metadata)
    norm = norm_full[box]
    return _Region(
        box=box,
        affine=crop.affine,
        spacing=crop.spacing,
        norm=norm,
        csf=norm > levels.csf_threshold,
        levels=levels,
        brainstem=crop_brainstem(brainstem_full, box),
    )


def _tof_on_region(mra_registered: Volume, region: _Region) -> _Tof:
    """The registered TOF, its levels (from the region's brainstem and CSF) and relative TOF."""
    full = mra_registered.array
    tof = full[region.box]
    levels = tof_levels(tof, region.brainstem.mask, region.csf)
    return _Tof(full=full, region=tof, levels=levels, relative=levels.relative(tof))


def _trace(region: _Region, tof: _Tof, side: Side, config: PipelineConfig) -> NerveTrace:
    """One side's CN VII and CN VIII (``nvc.nerves.trace_nerves``) on the region."""
    return trace_nerves(
        region.norm,
        region.levels,
        region.spacing,
        region.brainstem,
        side,
        tof_relative=tof.relative,
        params=config.nerves,
    )


def _veins(
    region: _Region,
    tof: _Tof,
    arteries: NDArray[np.bool_],
    traces: dict[Side, NerveTrace],
    config: PipelineConfig,
) -> NDArray[np.bool_]:
    """Veins on the region, away from the arteries, the brainstem and the nerves."""
    nerves_any = np.zeros(region.norm.shape, bool)
    for t in traces.values():
        nerves_any |= t.cn7 | t.cn8
    return segment_veins(
        region.norm,
        region.levels,
        tof.region,
        tof.levels,
        region.spacing,
        exclude=arteries | region.brainstem.mask | ndimage.binary_dilation(nerves_any),
        peel=region.brainstem.mask,
        params=config.vessels,
    )


def _label_map(
    t2: Volume,
    t2c: Volume,
    region: _Region,
    traces: dict[Side, NerveTrace],
    arteries: NDArray[np.bool_],
    veins: NDArray[np.bool_],
    arteries_full: NDArray[np.bool_],
) -> Volume:
    """The label map on the T2's grid: every label in the region, the arteries everywhere."""
    in_region = compose_labels(
        {
            Label.CSF: region.csf,
            Label.BRAINSTEM: region.brainstem.mask,
            Label.VEIN: veins,
            Label.CN8: np.logical_or.reduce([t.cn8 for t in traces.values()]),
            Label.CN7: np.logical_or.reduce([t.cn7 for t in traces.values()]),
            Label.ARTERY: arteries,
        },
        region.norm.shape,
    )
    full = np.zeros(t2c.shape, np.uint8)
    full[arteries_full] = Label.ARTERY
    full[region.box] = in_region
    return reorient_like(t2c.with_array(full), t2)


def _cn7_on_t2(
    t2: Volume,
    t2c: Volume,
    region: _Region,
    traces: dict[Side, NerveTrace],
    arteries: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """The label map's CN VII voxels on the T2's grid (``_label_map``), without the veins.

    In the label map only an artery is drawn over a nerve (``nvc.labels.PRECEDENCE``),
    and nothing outside the region is CN VII.
    """
    full = np.zeros(t2c.shape, bool)
    full[region.box] = np.logical_or.reduce([t.cn7 for t in traces.values()]) & ~arteries
    return reorient_like(t2c.with_array(full), t2).array


def _brainstem_distance(region: _Region, config: PipelineConfig) -> NDArray[np.float32]:
    """Signed distance (mm) to the region's brainstem surface, thin bumps taken off."""
    return brainstem_surface_distance(
        region.brainstem.mask, region.spacing, radius_mm=config.geometry.surface_smoothing_mm
    )


def _artery_tree(
    region: _Region, arteries: NDArray[np.bool_], config: PipelineConfig
) -> ArteryTree:
    """The region's arteries as a skeleton graph (``nvc.vessel_names.artery_tree``)."""
    bs = region.brainstem
    return artery_tree(
        arteries,
        region.spacing,
        midline_i=bs.midline_i,
        pmj_k=bs.pmj_k,
        axis=bs.axis,
        pmj_j=float(bs.pmj_index[1]),
        params=config.naming,
    )


def _case_anatomy(
    region: _Region,
    tof: _Tof,
    arteries: NDArray[np.bool_],
    veins: NDArray[np.bool_],
    brainstem_distance: NDArray[np.float32],
    tree: ArteryTree,
    config: PipelineConfig,
) -> CaseAnatomy:
    """What both sides are measured against (``nvc.side_analysis``), with the TOF-bright voxels."""
    return CaseAnatomy(
        norm=region.norm,
        arteries=arteries,
        veins=veins,
        tof_bright=tof.relative >= config.checks.tof_bright_fraction,
        brainstem_distance_mm=brainstem_distance,
        tree=tree,
        affine=region.affine,
        spacing=region.spacing,
    )


def _registration_quality(
    reg: RegistrationResult, region: _Region, arteries: NDArray[np.bool_], config: PipelineConfig
) -> _RegistrationQuality:
    """Rated by the fraction of the TOF arteries' cores on T2 flow voids."""
    agreement = vessel_void_agreement(
        arteries, region.norm, region.levels, region.spacing, params=config.checks
    )
    return _RegistrationQuality(
        reg, agreement, agreement >= config.quality.min_vessel_void_agreement
    )


def _analyse_sides(
    traces: dict[Side, NerveTrace],
    anatomy: CaseAnatomy,
    region: _Region,
    quality: _RegistrationQuality,
    symptomatic_side: Side | None,
    t2: Volume,
    config: PipelineConfig,
) -> dict[Side, SideAnalysis]:
    """Each side's geometry, contacts, self-checks and verdict (``nvc.side_analysis``)."""
    case_checks = (
        registration_check(
            registration_ok=quality.ok,
            agreement=quality.agreement,
            minimum=config.quality.min_vessel_void_agreement,
        ),
        brainstem_position_check(
            region.norm, region.levels, region.brainstem, region.spacing, params=config.checks
        ),
        brainstem_size_check(region.brainstem, region.spacing, params=config.checks),
    )
    params = SideAnalysisParams(
        geometry=config.geometry,
        contacts=config.contacts,
        decision=config.decision,
        checks=config.checks,
        context=config.context,
        naming=config.naming,
        nerves=config.nerves,
    )
    return {
        side: analyse_side(
            traces[side],
            anatomy,
            symptomatic=None if symptomatic_side is None else side == symptomatic_side,
            registration_ok=quality.ok,
            voxel_mm=float(np.max(t2.spacing)),
            case_checks=case_checks,
            params=params,
        )
        for side in SIDES
    }


def _findings(
    sides: dict[Side, SideAnalysis],
    symptomatic_side: Side | None,
    quality: _RegistrationQuality,
    t2: Volume,
    mra: Volume,
    region: _Region,
    tree: ArteryTree,
    config: PipelineConfig,
) -> Findings:
    """The case's findings: the sides', the registration, the acquisitions, the vertebrobasilar."""
    reg = quality.registration
    return Findings(
        sides={side: a.findings for side, a in sides.items()},
        symptomatic_side=symptomatic_side,
        registration={
            "t2_to_mra_ras": np.round(reg.t2_to_mra, 6).tolist(),
            "metric_mattes_mi": round(reg.metric, 4),
            "iterations": reg.iterations,
            "vessel_void_agreement": round(quality.agreement, 3),
            "quality": "good" if quality.ok else "poor",
        },
        acquisition={"t2": _acquisition(t2), "mra": _acquisition(mra)},
        vertebrobasilar=vertebrobasilar(
            tree,
            region.affine,
            axis=region.brainstem.axis,
            origin_index=region.brainstem.pmj_index,
            naming=config.naming,
            params=config.vertebrobasilar,
        ),
    )


def find_brainstem(
    t2c: Volume, config: PipelineConfig
) -> tuple[NDArray[np.float32], T2Levels, Brainstem]:
    """Normalised T2, its levels and the brainstem, on the closest-canonical T2 ``t2c``.

    The tissue level is read from the T2's histogram (``normalize_t2``); where
    the brainstem found with it is not a brainstem (none, or one failing
    ``brainstem_size_check``: a tissue level misread at 1.5 T noise leaves a few
    dozen voxels), it is read again from the smoothed image
    (``smoothed_levels``) and that reading is kept if its brainstem passes.

    Raises
    ------
    ValueError
        When the T2 has no bright CSF or no brainstem is found.
    """
    norm, levels = normalize_t2(t2c.array, t2c.spacing, params=config.intensity)
    first = _brainstem_or_error(norm, levels, t2c.spacing, config)
    if _is_brainstem(first, t2c.spacing, config):
        return norm, levels, first
    second_levels = smoothed_levels(norm, t2c.spacing, params=config.intensity)
    second = _brainstem_or_error(norm, second_levels, t2c.spacing, config)
    if _is_brainstem(second, t2c.spacing, config):
        return norm, second_levels, second
    if isinstance(first, ValueError):
        raise first
    # neither reading's brainstem passes: the first's goes on, and the case's brainstem_size
    # check on the analysed region reports it
    return norm, levels, first


def _brainstem_or_error(
    norm: NDArray[np.float32],
    levels: T2Levels,
    spacing: NDArray[np.float64],
    config: PipelineConfig,
) -> Brainstem | ValueError:
    try:
        return segment_brainstem(norm, levels, spacing, params=config.brainstem)
    except ValueError as exc:
        return exc


def _is_brainstem(
    found: Brainstem | ValueError, spacing: NDArray[np.float64], config: PipelineConfig
) -> TypeGuard[Brainstem]:
    """A brainstem was found and it has a brainstem's size (``brainstem_size_check``)."""
    return (
        isinstance(found, Brainstem)
        and brainstem_size_check(found, spacing, params=config.checks).passed
    )


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

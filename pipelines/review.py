"""Review: recompute a case's findings from the anatomy as a reader corrected it.

``recompute(results_dir, edits)`` is the one function the napari review step
and ``nvc recompute`` call. It re-runs only the measuring stages on the
corrected masks and course: CN VII geometry (arc length, segments, the root
detachment point), contacts, artery naming (where the reader did not name a
vessel), the self-checks and the decision. Registration and segmentation are
not re-run: the T2 is normalised and the brainstem's frame (the analysed box,
midline and junction, which artery naming needs) found again once per case, in
``ReviewContext`` (``open_review``), which a caller keeps between recomputes.

A reader's edits are a label map (painted or edited anywhere, e.g. in
ITK-SNAP or 3D Slicer) and a log of ``nvc.findings.Edit`` entries that carry
what a label map cannot: the course of CN VII (``course``: its points, RExP
first; a moved RExP or porus is a ``landmark`` edit carrying the new course),
the root detachment point (``landmark`` ``RDP``: a point, projected on the
course) and vessel names (``vessel_name``: a point on the vessel and a name).
The log is saved in the ``review`` block, so a saved review can be recomputed
again (``edits_of_review``).

In a reviewed revision the nerve-trace quality factor of the confidence is 1
(the reader accepted or drew the course); every other factor, and the
self-checks, are as in the automated analysis.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc import DISCLAIMER
from nvc.brainstem import Brainstem
from nvc.contacts import Contact, measure_contacts
from nvc.decision import decide
from nvc.findings import AutomatedVerdict, Edit, Findings, Review, SideFindings
from nvc.io import VolumeLoadError, load_volume
from nvc.io.markups import write_markups
from nvc.io.results import is_results_folder, load_results
from nvc.io.review import discard_review, save_review
from nvc.labels import Label
from nvc.nerve_geometry import NerveGeometry, brainstem_surface_distance, course_geometry
from nvc.quality import (
    CASE_CHECKS,
    Check,
    SideQuality,
    nerve_checks,
    separation_check,
    symptomatic_check,
    unlabelled_tof_check,
)
from nvc.region import analysis_region, crop_brainstem, region_affine
from nvc.results import SavedCase
from nvc.review import (
    course_from_mask,
    label_changes,
    move_end,
    nerve_radius_mm,
    point_at,
    project_on_course,
    rebuild_nerve,
    side_masks,
)
from nvc.side_analysis import mvd_plan, side_findings
from nvc.vessel_names import ArteryTree, artery_tree, name_artery
from nvc.vessels import tof_levels
from nvc.vocabulary import SIDES, VESSEL_NAMES, Side, VesselName, closed
from nvc.volume import Volume, reorient_canonical, reorient_like, resample_to
from nvc_pipelines.case import find_brainstem
from nvc_pipelines.config import PipelineConfig, load_config
from nvc_pipelines.errors import EXIT_OK, UsageError, run_guarded

#: The nerves whose course a reader can edit.
Nerve = Literal["CN7", "CN8"]
NERVES: tuple[Nerve, ...] = ("CN7", "CN8")

#: Margin (mm) of the box around a nerve in which its contacts are measured: the
#: reported distance (2 mm), the vessel-core search (2 mm) and a voxel or two.
CONTACT_BOX_MARGIN_MM = 6.0


@dataclass(frozen=True)
class Edits:
    """What a reader changed.

    Attributes
    ----------
    labels : Volume or None
        The edited label map (on the T2 grid, or any grid over it: resampled by
        nearest neighbour); None keeps the automated one.
    log : tuple of Edit
        Every other change, in order (courses, landmarks, vessel names), and
        the reader's record of label edits (descriptions).
    reader : str or None
        The reader's initials.
    """

    labels: Volume | None = None
    log: tuple[Edit, ...] = ()
    reader: str | None = None

    def courses(self, nerve: Nerve = "CN7") -> dict[Side, NDArray[np.float64]]:
        """Per side, the last course of ``nerve`` set by hand (RAS mm, brainstem end first)."""
        out: dict[Side, NDArray[np.float64]] = {}
        for e in self.log:
            if e.side is None or "course_ras_mm" not in e.data:
                continue
            if e.data.get("nerve", "CN7") == nerve:
                out[e.side] = np.asarray(e.data["course_ras_mm"], float).reshape(-1, 3)
        return out

    def rdp_points(self) -> dict[Side, NDArray[np.float64]]:
        """Per side, the last root detachment point set by hand (RAS mm)."""
        out: dict[Side, NDArray[np.float64]] = {}
        for e in self.log:
            if e.side is not None and e.kind == "landmark" and e.data.get("landmark") == "RDP":
                out[e.side] = np.asarray(e.data["ras_mm"], float)
        return out

    def vessel_names(self) -> list[tuple[NDArray[np.float64], VesselName]]:
        """Vessels named by hand: a point on each (RAS mm) and its name, in order."""
        return [
            (
                np.asarray(e.data["ras_mm"], float),
                closed(e.data["name"], VESSEL_NAMES, "vessel name"),
            )
            for e in self.log
            if e.kind == "vessel_name"
        ]


def landmark_edit(
    side: Side, landmark: str, point: Any, course: NDArray[np.float64] | None = None
) -> Edit:
    """The log entry of a landmark moved to ``point`` (RAS mm) on ``side``.

    A moved RExP or porus moves the course's end (``nvc.review.move_end``):
    ``course`` (the course before the move) is then required and the entry
    carries the new one.
    """
    p = [round(float(v), 3) for v in np.asarray(point, float)]
    data: dict[str, Any] = {"landmark": landmark, "ras_mm": p}
    if landmark in ("RExP", "porus"):
        if course is None:
            raise ValueError(f"moving the {landmark} needs the course")
        new = move_end(course, np.asarray(p), end="RExP" if landmark == "RExP" else "porus")
        data["course_ras_mm"] = np.round(new, 3).tolist()
    where = ", ".join(f"{v:.1f}" for v in p)
    return Edit("landmark", side, f"{side} {landmark} moved to ({where}) mm RAS", data)


def course_edit(side: Side, points: Any, what: str = "", *, nerve: Nerve = "CN7") -> Edit:
    """The log entry of a nerve's course set by hand (points RAS mm, brainstem end first)."""
    pts = np.asarray(points, float).reshape(-1, 3)
    if len(pts) < 2:
        raise ValueError("a course needs at least two points")
    what = what or f"{'CN VII' if nerve == 'CN7' else 'CN VIII'} course edited"
    return Edit(
        "course",
        side,
        f"{side} {what} ({len(pts)} points)",
        {"course_ras_mm": np.round(pts, 3).tolist(), "nerve": nerve},
    )


def vessel_name_edit(point: Any, name: str, side: Side | None = None) -> Edit:
    """The log entry of a vessel named by hand (a point on it, RAS mm)."""
    vessel = closed(name, VESSEL_NAMES, "vessel name")
    p = [round(float(v), 3) for v in np.asarray(point, float)]
    return Edit(
        "vessel_name", side, f"vessel named {vessel} by the reader", {"ras_mm": p, "name": vessel}
    )


def edits_of_review(case: SavedCase) -> Edits:
    """The edits that made a saved review (its labels and its log), to recompute or go on."""
    review = case.findings.review
    if review is None:
        return Edits()
    return Edits(labels=case.labels, log=review.edits, reader=review.reader)


@dataclass
class ReviewContext:
    """What a recompute needs from the automated analysis, found once per case.

    Grids: the T2's closest-canonical orientation, cropped to the analysed box
    (``roi``) as ``run_case`` crops it; ``affine`` maps that crop's voxels to RAS mm.
    """

    folder: Path
    case: SavedCase
    config: PipelineConfig
    t2c: Volume
    roi: tuple[slice, slice, slice]
    affine: NDArray[np.float64]
    spacing: NDArray[np.float64]
    norm: NDArray[np.float32]
    brainstem: Brainstem
    auto_labels: NDArray[np.uint8]
    tof_bright: NDArray[np.bool_]
    bs_distance: NDArray[np.float32]
    _trees: dict[str, ArteryTree] = field(default_factory=dict)
    _cn8: dict[Side, NDArray[np.float64]] | None = None

    @property
    def automated(self) -> Findings:
        """The automated findings (findings.json)."""
        return self.case.findings

    def courses(self) -> dict[Side, NDArray[np.float64]]:
        """The automated CN VII courses (RAS mm)."""
        return {s: c.points_ras for s, c in self.case.centerlines.items()}

    def side_of_midline(self, side: Side) -> NDArray[np.bool_]:
        """Voxels of the crop on the patient's ``side`` of the brainstem's midline."""
        i = np.arange(self.auto_labels.shape[0])[:, None, None]
        right = np.broadcast_to(i > self.brainstem.midline_i, self.auto_labels.shape)
        return right if side == "right" else ~right

    def cn8_courses(self) -> dict[Side, NDArray[np.float64]]:
        """Per side, CN VIII's automated course estimated from its mask (``course_from_mask``)."""
        if self._cn8 is None:
            self._cn8 = {}
            for side in SIDES:
                mask = (self.auto_labels == Label.CN8) & self.side_of_midline(side)
                cn7 = self.case.centerlines.get(side)
                start = cn7.points_ras[0] if cn7 is not None else self._midline_point()
                course = course_from_mask(mask, self.affine, start)
                if len(course) >= 2:
                    self._cn8[side] = course
        return self._cn8

    def _midline_point(self) -> NDArray[np.float64]:
        ijk = np.asarray(self.brainstem.pmj_index, float)
        return self.affine[:3, :3] @ ijk + self.affine[:3, 3]

    def forget_edited_trees(self) -> None:
        """Drop the cached artery trees of edited masks (the automated one stays)."""
        keep = hashlib.sha1(np.packbits(self.auto_labels == Label.ARTERY).tobytes()).hexdigest()
        self._trees = {k: v for k, v in self._trees.items() if k == keep}

    def tree(self, arteries: NDArray[np.bool_]) -> ArteryTree:
        """The artery tree of a mask (cached: unedited arteries are not skeletonised again)."""
        key = hashlib.sha1(np.packbits(arteries).tobytes()).hexdigest()
        if key not in self._trees:
            if len(self._trees) > 4:
                self.forget_edited_trees()
            self._trees[key] = _artery_tree(arteries, self)
        return self._trees[key]


def _artery_tree(arteries: NDArray[np.bool_], ctx: ReviewContext) -> ArteryTree:
    """``artery_tree`` on the arteries' bounding box (plus a voxel), placed back on the crop.

    The same tree as on the whole crop (skeleton and distance map are exact on a
    box holding the mask and a voxel of background around it), in a third of the
    time on a clinical-size case.
    """
    idx = np.argwhere(arteries)
    if not len(idx):
        lo = np.zeros(3, int)
        box = arteries
    else:
        lo = np.maximum(idx.min(axis=0) - 1, 0)
        hi = np.minimum(idx.max(axis=0) + 2, arteries.shape)
        box = arteries[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    tree = artery_tree(
        box,
        ctx.spacing,
        midline_i=ctx.brainstem.midline_i - float(lo[0]),
        pmj_k=ctx.brainstem.pmj_k - float(lo[2]),
        axis=ctx.brainstem.axis,
        pmj_j=float(ctx.brainstem.pmj_index[1]) - float(lo[1]),
        params=ctx.config.naming,
    )
    return replace(
        tree,
        points=tree.points + lo,
        midline_i=tree.midline_i + float(lo[0]),
        pmj_k=tree.pmj_k + float(lo[2]),
        pmj_j=tree.pmj_j + float(lo[1]),
    )


def open_review(results_dir: str | Path) -> ReviewContext:
    """Read a results folder's automated outputs and find what a recompute needs.

    Raises
    ------
    VolumeLoadError
        Not a finished results folder, or a file unreadable.
    """
    folder = Path(results_dir)
    if not is_results_folder(folder):
        raise VolumeLoadError(folder, "not an nvc results folder (no findings.json)")
    case = load_results(folder, reviewed=False)
    if case.mra_registered is None:
        raise VolumeLoadError(folder / "mra_registered.nii.gz", "missing: the review needs it")
    config_path = folder / "config.toml"
    config = load_config(config_path) if config_path.is_file() else PipelineConfig()
    t2c = reorient_canonical(case.t2)
    norm_full, levels, bs_full = find_brainstem(t2c, config)
    roi = analysis_region(t2c.shape, t2c.spacing, bs_full, params=config.region)
    bs = crop_brainstem(bs_full, roi)
    norm = norm_full[roi]
    sp = t2c.spacing
    auto = np.asarray(reorient_canonical(case.labels).array)[roi].astype(np.uint8)
    tof = np.asarray(reorient_canonical(case.mra_registered).array, np.float32)[roi]
    tl = tof_levels(tof, bs.mask, norm > levels.csf_threshold)
    tof_rel = (tof - tl.tissue) / max(tl.artery - tl.tissue, 1e-6)
    bs_dist = brainstem_surface_distance(
        bs.mask, sp, radius_mm=config.geometry.surface_smoothing_mm
    )
    ctx = ReviewContext(
        folder=folder,
        case=case,
        config=config,
        t2c=t2c,
        roi=roi,
        affine=region_affine(t2c.affine, roi),
        spacing=sp,
        norm=norm,
        brainstem=bs,
        auto_labels=auto,
        tof_bright=tof_rel >= config.checks.tof_bright_fraction,
        bs_distance=bs_dist,
    )
    ctx.tree(auto == Label.ARTERY)
    return ctx


@dataclass(frozen=True)
class Reviewed:
    """A recomputed case: reviewed findings (with the ``review`` block), labels and centerlines.

    Attributes
    ----------
    findings : Findings
    labels : Volume
        The reviewed label map on the T2 grid (uint8).
    centerlines : dict
        Per side with a nerve, its CN VII geometry (RAS mm).
    seconds : float
        How long the recompute took (context excluded).
    """

    findings: Findings
    labels: Volume
    centerlines: dict[Side, NerveGeometry]
    seconds: float


def recompute(
    results_dir: str | Path, edits: Edits, *, context: ReviewContext | None = None
) -> Reviewed:
    """Recompute a case's findings from the anatomy as a reader corrected it.

    Parameters
    ----------
    results_dir : str or Path
        A results folder written by ``nvc run``.
    edits : Edits
        The edited labels and the log of other edits.
    context : ReviewContext, optional
        ``open_review(results_dir)``, kept by a caller that recomputes often.

    Returns
    -------
    Reviewed

    Raises
    ------
    VolumeLoadError
        Not a results folder, or the edited label map does not cover the T2.
    """
    ctx = context or open_review(results_dir)
    t0 = time.perf_counter()
    full = _edited_labels(ctx, edits.labels)
    edited_full = full.copy()  # as the reader left it, before a nerve is rebuilt
    labels = full[ctx.roi].copy()
    cfg = ctx.config
    auto_courses = ctx.courses()
    hand_courses = edits.courses()
    courses = auto_courses | hand_courses
    auto = ctx.automated
    before = {s: auto_courses.get(s, c) for s, c in courses.items()}
    cn7 = side_masks(labels == Label.CN7, before, ctx.affine)
    auto_cn7 = side_masks(ctx.auto_labels == Label.CN7, auto_courses, ctx.affine)
    for side, course in hand_courses.items():
        old = before[side]
        mask = auto_cn7.get(side, np.zeros(labels.shape, bool))
        radius = nerve_radius_mm(mask, old, ctx.affine, ctx.spacing)
        cn7[side] = rebuild_nerve(
            labels, cn7[side], old, course, radius, ctx.affine, beneath=ctx.brainstem.mask
        )
    drawn_cn8 = edits.courses("CN8")
    for side, course in drawn_cn8.items():
        old = ctx.cn8_courses().get(side, course)
        now = (labels == Label.CN8) & ctx.side_of_midline(side)
        auto_mask = (ctx.auto_labels == Label.CN8) & ctx.side_of_midline(side)
        radius = nerve_radius_mm(auto_mask, old, ctx.affine, ctx.spacing, default_mm=1.0)
        rebuild_nerve(
            labels,
            now,
            old,
            course,
            radius,
            ctx.affine,
            value=Label.CN8,
            beneath=ctx.brainstem.mask,
        )
    bs_mask = _brainstem(ctx, labels)
    bs_dist = (
        ctx.bs_distance
        if np.array_equal(bs_mask, ctx.brainstem.mask)
        else brainstem_surface_distance(
            bs_mask, ctx.spacing, radius_mm=cfg.geometry.surface_smoothing_mm
        )
    )
    arteries, veins = labels == Label.ARTERY, labels == Label.VEIN
    name_of = _namer(ctx, arteries, edits.vessel_names())
    rdp_points = edits.rdp_points()
    registration_ok = auto.registration.get("quality", "good") == "good"
    sides: dict[Side, SideFindings] = {}
    geoms: dict[Side, NerveGeometry] = {}
    for side in SIDES:
        if side not in courses:
            if side in auto.sides:
                sides[side] = auto.sides[side]
            continue
        geom = _geometry(ctx, side, courses[side], bs_dist, hand_courses, rdp_points)
        geoms[side] = geom
        sides[side] = _side_findings(
            ctx,
            side,
            geom,
            cn7[side],
            (labels == Label.CN8) & ctx.side_of_midline(side),
            arteries,
            veins,
            name_of,
            registration_ok,
            side in drawn_cn8,
        )
    full[ctx.roi] = labels
    out_labels = reorient_like(ctx.t2c.with_array(full), ctx.case.t2)
    # label changes are measured afresh against the automated map (a saved review's replaced)
    log = [e for e in edits.log if not (e.kind == "labels" and "changes" in e.data)]
    automated_full = np.asarray(reorient_canonical(ctx.case.labels).array)
    changes = label_changes(automated_full, edited_full, float(np.prod(ctx.spacing)))
    if changes:
        text = "; ".join(f"{a} -> {b}: {n} voxels ({v} mm3)" for a, b, n, v in changes[:8])
        log.append(Edit("labels", None, f"labels edited: {text}", {"changes": changes}))
    review = Review(
        reader=edits.reader or None,
        time_utc=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        edits=tuple(log),
        automated={s: AutomatedVerdict.of(f) for s, f in auto.sides.items()},
    )
    findings = replace(auto, sides=sides, review=review)
    return Reviewed(
        findings=findings,
        labels=Volume(
            out_labels.array.astype(np.uint8), ctx.case.t2.affine, {"kind": "nvc labels"}
        ),
        centerlines=geoms,
        seconds=time.perf_counter() - t0,
    )


def _edited_labels(ctx: ReviewContext, edited: Volume | None) -> NDArray[np.uint8]:
    """The edited label map on the T2's closest-canonical grid (uint8)."""
    t2 = ctx.case.t2
    if edited is None:
        return np.asarray(reorient_canonical(t2.with_array(ctx.case.labels.array)).array).astype(
            np.uint8
        )
    if edited.shape == t2.shape and np.allclose(edited.affine, t2.affine, atol=1e-4):
        canon = reorient_canonical(Volume(np.asarray(edited.array), t2.affine))
    else:
        lo, hi = edited.world_bounds()
        t_lo, t_hi = t2.world_bounds()
        slack = float(np.max(edited.spacing))
        if np.any(lo > t_lo + slack) or np.any(hi < t_hi - slack):
            raise VolumeLoadError("labels", "the edited label map does not cover the T2's grid")
        canon = reorient_canonical(resample_to(edited, t2, interpolation="nearest"))
    array = np.asarray(canon.array)
    if array.shape != ctx.t2c.shape:
        raise VolumeLoadError("labels", "the edited label map does not cover the T2's grid")
    if array.size and (array.min() < 0 or array.max() > max(int(v) for v in Label)):
        raise VolumeLoadError("labels", "the edited label map holds values that are not nvc labels")
    return array.astype(np.uint8)


def _brainstem(ctx: ReviewContext, labels: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """The brainstem mask with the reader's brainstem edits.

    Brainstem voxels erased (to background or CSF) leave it, voxels painted
    brainstem join it; a nerve or vessel painted over it leaves it whole, as
    the automated label map draws them over the brainstem.
    """
    was = ctx.auto_labels == Label.BRAINSTEM
    now = labels == Label.BRAINSTEM
    erased = was & ~now & np.isin(labels, (Label.BACKGROUND, Label.CSF))
    return (ctx.brainstem.mask & ~erased) | now


def _namer(
    ctx: ReviewContext,
    arteries: NDArray[np.bool_],
    hand: list[tuple[NDArray[np.float64], VesselName]],
) -> Any:
    """Names an artery from its voxels: the reader's name for its piece, else the tree's."""
    pieces, _ = ndimage.label(arteries, structure=np.ones((3, 3, 3)))
    named: dict[int, VesselName] = {}
    inverse = np.linalg.inv(ctx.affine)
    for point, name in hand:
        ijk = np.round(inverse[:3, :3] @ point + inverse[:3, 3]).astype(int)
        if np.all(ijk >= 0) and np.all(ijk < arteries.shape) and pieces[tuple(ijk)]:
            named[int(pieces[tuple(ijk)])] = name

    def name_of(vox: NDArray[np.int_]) -> VesselName:
        ids = {int(v) for v in pieces[tuple(np.asarray(vox).T)]} - {0}
        for i in ids:
            if i in named:
                return named[i]
        return name_artery(ctx.tree(arteries), vox, params=ctx.config.naming)

    return name_of


def _geometry(
    ctx: ReviewContext,
    side: Side,
    course: NDArray[np.float64],
    bs_dist: NDArray[np.float32],
    hand_courses: Mapping[Side, NDArray[np.float64]],
    rdp_points: Mapping[Side, NDArray[np.float64]],
) -> NerveGeometry:
    """The side's geometry: its RDP where the reader put it, else where the automation did."""
    auto = ctx.automated.sides.get(side)
    rdp: float | None = None
    if side in rdp_points:
        rdp = project_on_course(course, rdp_points[side])
    elif auto is not None and auto.rdp_mm is not None and side in ctx.case.centerlines:
        if side in hand_courses:  # the detachment point stays where it was on the brainstem
            old = ctx.case.centerlines[side].points_ras
            rdp = project_on_course(course, point_at(old, auto.rdp_mm))
        else:
            rdp = auto.rdp_mm
    return course_geometry(
        course,
        ctx.affine,
        bs_dist,
        rdp_mm=rdp,
        resample=side in hand_courses,
        params=ctx.config.geometry,
    )


def _box(mask: NDArray[np.bool_], course_vox: NDArray[np.float64], sp: NDArray[np.float64]):
    """Index box around a nerve (mask and course) plus ``CONTACT_BOX_MARGIN_MM``."""
    pts = np.argwhere(mask).astype(float)
    pts = np.concatenate([pts, course_vox]) if len(pts) else course_vox
    m = np.ceil(CONTACT_BOX_MARGIN_MM / sp).astype(int)
    lo = np.maximum(np.floor(pts.min(axis=0)).astype(int) - m, 0)
    hi = np.minimum(np.ceil(pts.max(axis=0)).astype(int) + m + 1, mask.shape)
    return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True)), lo


def _side_findings(
    ctx: ReviewContext,
    side: Side,
    geom: NerveGeometry,
    nerve: NDArray[np.bool_],
    cn8: NDArray[np.bool_],
    arteries: NDArray[np.bool_],
    veins: NDArray[np.bool_],
    name_of: Any,
    registration_ok: bool,
    cn8_drawn: bool,
) -> SideFindings:
    """Contacts, self-checks, the verdict and the MVD-plan content of one side.

    Contacts are measured in a box around the nerve; the nearest arteries and the
    primary offender are described again from the edited anatomy (a deleted offender
    is no longer described, a painted one is), as ``nvc.side_analysis`` does.
    """
    cfg = ctx.config
    sp = ctx.spacing
    course_vox = (
        np.linalg.inv(ctx.affine) @ np.c_[geom.points_ras, np.ones(len(geom.points_ras))].T
    )[:3].T
    box, lo = _box(nerve, course_vox, sp)
    shift = np.eye(4)
    shift[:3, 3] = lo
    symptomatic = (
        None if ctx.automated.symptomatic_side is None else side == ctx.automated.symptomatic_side
    )
    contacts: list[Contact] = measure_contacts(
        nerve[box],
        geom,
        {"artery": arteries[box], "vein": veins[box]},
        ctx.affine @ shift,
        sp,
        name_of=lambda vox: name_of(np.asarray(vox) + lo),
        side=side,
        t2=ctx.norm[box],
        params=cfg.contacts,
    )
    verdict = decide(
        contacts,
        rdp_mm=geom.rdp_mm,
        symptomatic=symptomatic,
        registration_ok=registration_ok,
        nerve_quality=1.0,
        contact_mm=cfg.contacts.contact_mm,
        voxel_mm=float(np.max(ctx.case.t2.spacing)),
        params=cfg.decision,
    )
    auto = ctx.automated.sides.get(side)
    # CN VIII drawn by the reader is apart from CN VII; otherwise the automated check stands
    kept = _automated_checks(auto, CASE_CHECKS)
    separated = cn8_drawn or (auto is not None and auto.cn8_separated)
    kept.append(separation_check(separated=separated))
    checks = SideQuality(
        (
            *kept,
            *nerve_checks(geom, nerve_mask=nerve[box], spacing=sp, params=cfg.checks),
            unlabelled_tof_check(
                ctx.tof_bright[box], (arteries | veins)[box], nerve[box], sp, params=cfg.checks
            ),
            symptomatic_check(
                symptomatic=symptomatic, any_vessel_near=bool(contacts), compression=verdict.nvc
            ),
        )
    )
    plan = mvd_plan(
        contacts,
        arteries,
        nerve,
        cn8,
        geom,
        ctx.tree(arteries),
        ctx.affine,
        sp,
        name_of=name_of,
        context=cfg.context,
        naming=cfg.naming,
    )
    return side_findings(
        side,
        geom,
        contacts,
        verdict,
        checks,
        separated=separated,
        registration_ok=registration_ok,
        plan=plan,
        checks_params=cfg.checks,
        extra=auto.extra if auto is not None else None,
    )


def _automated_checks(auto: SideFindings | None, names: tuple[str, ...]) -> list[Check]:
    """The automated self-checks a review does not re-measure (the case's, not the nerve's).

    Their reasons are the automated ``review_reasons`` of the failed checks, in order.
    """
    if auto is None:
        return []
    checks = auto.quality.get("checks", {})
    failed = [n for n, c in checks.items() if not c.get("passed", True)]
    reasons = dict(zip(failed, auto.review_reasons, strict=False))
    out = []
    for name in names:
        c = checks.get(name)
        if c is None:
            continue
        value = c.get("value", "")
        out.append(
            Check(
                name=name,
                passed=bool(c.get("passed", True)),
                value=value if isinstance(value, float | str) else str(value),
                allowed=str(c.get("allowed", "")),
                reason=reasons.get(name, f"{name} failed"),
            )
        )
    return out


# ------------------------------------------------------------------ saving
def save(results_dir: str | Path, reviewed: Reviewed) -> Path:
    """Write the review revision beside the automated outputs (``nvc.io.review.save_review``).

    Also writes the reviewed CN VII centerlines, landmarks and contact sites as
    3D Slicer markups and ITK-SNAP landmarks into ``review_markups/``.
    """
    folder = Path(results_dir)
    path = save_review(folder, reviewed.findings, reviewed.labels, reviewed.centerlines)
    write_markups(
        folder / "review_markups",
        reviewed.findings,
        reviewed.centerlines,
        reference=reviewed.labels,
    )
    return path


def discard(results_dir: str | Path) -> list[Path]:
    """Remove the review revision; the automated outputs stay (``nvc.io.review.discard_review``)."""
    folder = Path(results_dir)
    removed = discard_review(folder)
    markups = folder / "review_markups"
    if markups.is_dir():
        for p in sorted(markups.iterdir()):
            p.unlink()
            removed.append(p)
        markups.rmdir()
    return removed


# ------------------------------------------------------------ command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``nvc recompute``."""
    parser.add_argument("results", type=Path, help="results folder written by nvc run")
    parser.add_argument(
        "--labels",
        type=Path,
        default=None,
        help="the label map as edited (ITK-SNAP, 3D Slicer; default: labels_reviewed.nii.gz "
        "when present, else labels.nii.gz)",
    )
    parser.add_argument("--reader", default=None, help="reader's initials (saved with the review)")
    parser.add_argument(
        "--discard", action="store_true", help="remove the saved review (automated outputs stay)"
    )


def run(args: argparse.Namespace) -> int:
    """``nvc recompute``: findings from an edited label map, saved as a review revision."""

    def body() -> int:
        folder: Path = args.results
        if not is_results_folder(folder):
            raise UsageError(f"{folder} is not an nvc results folder (no findings.json)")
        if args.discard:
            removed = discard(folder)
            print(f"review discarded ({len(removed)} files removed); automated outputs kept")
            return EXIT_OK
        saved = load_results(folder)
        previous = edits_of_review(saved)
        labels_path = args.labels
        if labels_path is None:
            labels_path = folder / ("labels_reviewed.nii.gz" if saved.reviewed else "labels.nii.gz")
        labels = load_volume(labels_path)
        edits = Edits(labels=labels, log=previous.log, reader=args.reader or previous.reader)
        reviewed = recompute(folder, edits)
        save(folder, reviewed)
        print(f"nvc recompute: {DISCLAIMER}")
        for side in reviewed.findings.side_order():
            new = reviewed.findings.sides.get(side)
            old = reviewed.findings.review.automated.get(side) if reviewed.findings.review else None
            if new is None:
                continue
            was = "" if old is None else f" (automated: {'NVC' if old.nvc else 'no NVC'})"
            mvd = ", MVD candidate" if new.mvd_candidate else ""
            print(f"{side:>5}: {'NVC' if new.nvc else 'no NVC'}{mvd}{was}")
        print(f"review saved: {folder / 'findings_reviewed.json'} ({reviewed.seconds:.2f} s)")
        return EXIT_OK

    return run_guarded(body)


def main(argv: list[str] | None = None) -> int:
    """``python -m nvc_pipelines.review RESULTS [--labels FILE] [--reader AB] [--discard]``."""
    parser = argparse.ArgumentParser(prog="nvc recompute", description=run.__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

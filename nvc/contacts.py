"""Vessel-nerve contacts along CN VII: distances, location, deformity and grade."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from scipy.spatial import cKDTree

from nvc.morphology import distance_to_mask, mask_box
from nvc.nerve_geometry import NerveGeometry
from nvc.segments import Segment
from nvc.vocabulary import Grade, Side, VesselClass, VesselName
from nvc.volume import apply_affine


@dataclass(frozen=True)
class ContactParams:
    """Contact measurement and grading thresholds (mm).

    Attributes
    ----------
    report_within_mm : float
        Every vessel this close to CN VII's surface is reported.
    contact_mm : float
        A vessel at or below this surface distance touches the nerve. Touching
        tubes measure 0.0-0.2 mm of CSF (partial volume beside the contact line
        counts partly), and a CSF film much thinner than a 0.4-0.7 mm CISS
        voxel is not seen as a separate layer by a reader.
    indentation_mm : float
        Nerve deviation from its own smooth course that counts as indentation
        (grade II, Sindou); smaller deviations are within measurement noise.
    displacement_mm : float
        Deviation that counts as displacement (grade III).
    core_search_mm : float
        How far beyond the vessel's nearest voxel its dark core is looked for
        (sub-voxel distance; about the largest arterial radius).
    profile_step_mm : float
        Sampling step of the intensity profile between nerve and vessel.
    core_max : float
        Nerve and vessel cores are darker than this fraction of CSF; where the
        profile finds none, the distance falls back to whole voxels.
    """

    report_within_mm: float = 2.0
    contact_mm: float = 0.5
    indentation_mm: float = 0.3
    displacement_mm: float = 1.0
    core_search_mm: float = 2.0
    profile_step_mm: float = 0.05
    core_max: float = 0.6


@dataclass(frozen=True)
class Contact:
    """One vessel near CN VII."""

    vessel_class: VesselClass
    vessel_name: VesselName
    min_distance_mm: float
    segment: Segment
    distance_from_rexp_mm: float
    in_vulnerable_zone: bool
    grade: Grade | None
    indentation_mm: float
    contact_length_mm: float
    position: str
    location_ras_mm: tuple[float, float, float]


def nerve_distance_map(
    nerve: NDArray[np.bool_], spacing: NDArray[np.float64]
) -> NDArray[np.float32]:
    """Distance (mm) from each voxel centre to CN VII's surface; 0 inside.

    The surface lies half a voxel (the mean voxel side) outside the outermost
    nerve voxel centres.

    Parameters
    ----------
    nerve : ndarray of bool, shape (I, J, K)
        CN VII mask.
    spacing : ndarray, shape (3,)
        Voxel size along i, j, k in mm.

    Returns
    -------
    ndarray of float32, shape (I, J, K)
        Distance in mm, 0 on and inside the nerve.

    Examples
    --------
    A nerve one voxel thick along k, on 0.5 mm voxels:

    >>> import numpy as np
    >>> nerve = np.zeros((9, 9, 9), bool)
    >>> nerve[4, 4, :] = True
    >>> nerve_distance_map(nerve, np.array([0.5, 0.5, 0.5]))[4, :, 4].tolist()
    [1.75, 1.25, 0.75, 0.25, 0.0, 0.25, 0.75, 1.25, 1.75]
    """
    sp = np.asarray(spacing, float)
    d = distance_to_mask(nerve, sp)
    return np.clip(d - np.float32(0.5 * float(np.mean(sp))), 0.0, None)


def csf_gap_mm(
    norm: NDArray[np.floating],
    affine: NDArray[np.float64],
    nerve_pt: NDArray[np.float64],
    vessel_pt: NDArray[np.float64],
    *,
    core_search_mm: float = 2.0,
    step_mm: float = 0.05,
    core_max: float = 0.6,
) -> float:
    """Width (mm) of CSF between a nerve and a vessel, from T2 partial volume.

    Samples the normalised T2 (CSF = 1, trilinear) along the line from the
    nerve's axis through the vessel's nearest point, finds the two dark cores
    (the nerve's at the start, the vessel's beyond the brightest sample) and
    integrates the CSF fraction between them: each sample's brightness above
    the local dark level, as a fraction of the way to CSF. A partial-volume
    voxel half CSF counts half its width, so gaps thinner than a voxel are
    measured rather than rounded to whole voxels.

    Parameters
    ----------
    norm : ndarray, float, shape (I, J, K)
        Normalised T2, CSF = 1.
    affine : ndarray, shape (4, 4)
        Voxel-to-world (RAS mm) of ``norm``.
    nerve_pt, vessel_pt : ndarray, shape (3,)
        A point on the nerve's axis and the vessel's point nearest to it, RAS mm.
    core_search_mm : float
        How far beyond ``vessel_pt`` the vessel's core is looked for.
    step_mm : float
        Sampling step along the line.
    core_max : float
        A core brighter than this (fraction of CSF) is not a nerve or vessel.

    Returns
    -------
    float
        CSF-equivalent width in mm (0 when the cores touch); NaN when either
        core is not dark (the points do not lie on a nerve and a vessel).

    Examples
    --------
    A dark nerve (x < 1 mm) and a dark vessel (x > 2 mm) with five CSF voxels of
    0.25 mm between them:

    >>> import numpy as np
    >>> x = np.arange(40) * 0.25
    >>> norm = np.ones((40, 4, 4))
    >>> norm[x < 1.0], norm[x > 2.0] = 0.1, 0.2
    >>> affine = np.diag([0.25, 0.25, 0.25, 1.0])
    >>> round(csf_gap_mm(norm, affine, np.array([0.0, 0.5, 0.5]), np.array([2.25, 0.5, 0.5])), 2)
    1.25
    """
    span = vessel_pt - nerve_pt
    length = float(np.linalg.norm(span))
    if length < 1e-6:
        return 0.0
    t = np.arange(0.0, length + core_search_mm + step_mm, step_mm)
    pts = nerve_pt + t[:, None] * (span / length)
    ijk = apply_affine(np.linalg.inv(affine), pts).T
    profile = ndimage.map_coordinates(np.asarray(norm, np.float32), ijk, order=1, mode="nearest")
    start = int(np.argmin(profile[: max(1, int(0.5 * length / step_mm) + 1)]))
    inside = t <= length
    peak = start + int(np.argmax(np.where(inside[start:], profile[start:], -np.inf)))
    end = peak + int(np.argmin(profile[peak:]))
    if max(profile[start], profile[end]) > core_max:
        return float("nan")
    dark = np.linspace(profile[start], profile[end], end - start + 1)
    seg = profile[start : end + 1]
    fraction = np.clip((seg - dark) / np.maximum(1.0 - dark, 1e-3), 0.0, 1.0)
    return float(fraction.sum() * step_mm)


def measure_contacts(
    nerve: NDArray[np.bool_],
    geometry: NerveGeometry,
    vessels: dict[VesselClass, NDArray[np.bool_]],
    affine: NDArray[np.float64],
    spacing: NDArray[np.float64],
    *,
    name_of: Callable[[NDArray[np.int_]], VesselName],
    side: Side,
    t2: NDArray[np.floating] | None = None,
    params: ContactParams = ContactParams(),
) -> list[Contact]:
    """Every vessel within ``report_within_mm`` of CN VII, nearest first.

    Parameters
    ----------
    nerve : ndarray of bool, shape (I, J, K)
        CN VII mask on the analysis grid.
    geometry : NerveGeometry
        CN VII's centerline (RAS mm) with arc lengths and its RDP.
    vessels : dict of str to ndarray of bool, shape (I, J, K)
        ``{"artery": mask, "vein": mask}`` on the same grid.
    affine : ndarray, shape (4, 4)
        Voxel indices to RAS+ mm of the grid.
    spacing : ndarray, shape (3,)
        Voxel size along i, j, k in mm.
    name_of : callable
        Names an artery from the voxel indices, shape (M, 3), of its piece near the nerve.
    side : str
        ``"left"`` or ``"right"`` (to say medial/lateral).
    t2 : ndarray, float, shape (I, J, K), optional
        Normalised T2 (CSF = 1) on the same grid. When given, each vessel's
        minimal distance is the CSF width between nerve and vessel measured
        from partial volume (``csf_gap_mm``), to a fraction of a voxel;
        otherwise it is the gap between the two masks, in whole voxels.
    params : ContactParams
        Reporting distance and grading thresholds (mm).

    Returns
    -------
    list of Contact
        One per vessel piece (connected component) near the nerve, nearest first:
        class, name, minimal distance (mm), segment and arc length from the RExP
        (mm) where it comes nearest the nerve's axis, grade, indentation (mm),
        contact length (mm), position around the nerve, RAS location (mm).
    """
    sp = np.asarray(spacing, float)
    # on the nerve's box (every voxel within reporting distance lies in it; the whole grid
    # for an empty nerve): indices in the box, ``offset`` to the grid
    box = (
        mask_box(nerve, params.report_within_mm + float(sp.max()), sp)
        if nerve.any()
        else (slice(None), slice(None), slice(None))
    )
    offset = np.array([part.start or 0 for part in box])
    edt, nearest = ndimage.distance_transform_edt(~nerve[box], sampling=sp, return_indices=True)
    tree = cKDTree(geometry.points_ras)
    # centre-to-centre distance less one voxel = surface-to-surface gap
    gap = np.clip(edt - float(np.mean(sp)), 0.0, None)
    contacts: list[Contact] = []
    for vessel_class, mask in vessels.items():
        near = mask[box] & (gap <= params.report_within_mm)
        labels, n = ndimage.label(near, structure=np.ones((3, 3, 3)))
        for lab in range(1, n + 1):
            in_box = np.argwhere(labels == lab)
            g = gap[tuple(in_box.T)]
            vox = in_box + offset
            world = apply_affine(affine, vox.astype(float))
            axis_mm, axis_ci = tree.query(world)  # each voxel's distance to the nerve's axis
            deepest = _deepest(g, axis_mm, geometry.arc_mm[axis_ci], sp)
            best = vox[deepest]
            nerve_vox = np.array([nearest[a][tuple(in_box[deepest])] for a in range(3)], float)
            nerve_vox += offset
            nerve_pt = apply_affine(affine, nerve_vox)
            vessel_pt = apply_affine(affine, best.astype(float))
            _, ci = tree.query(nerve_pt)
            s = float(geometry.arc_mm[ci])
            min_gap = float(g.min())
            if t2 is not None:
                refined = _csf_gap(t2, affine, geometry, world, axis_mm, axis_ci, params)
                min_gap = min_gap if np.isnan(refined) else refined
            touching = vox[g <= params.contact_mm + 1e-6]
            length = _contact_length(geometry, apply_affine(affine, touching.astype(float)), sp)
            indentation = _indentation(geometry, int(ci), vessel_pt)
            grade = _grade(min_gap, indentation, params)
            name: VesselName = name_of(vox) if vessel_class == "artery" else "vein"
            contacts.append(
                Contact(
                    vessel_class=vessel_class,
                    vessel_name=name,
                    min_distance_mm=round(min_gap, 2),
                    segment=geometry.segment_at(s),
                    distance_from_rexp_mm=round(s, 2),
                    in_vulnerable_zone=geometry.in_vulnerable_zone(s),
                    grade=grade,
                    indentation_mm=round(indentation, 2),
                    contact_length_mm=round(length, 2),
                    position=_position(geometry, int(ci), vessel_pt, side),
                    location_ras_mm=(
                        round(float(nerve_pt[0]), 2),
                        round(float(nerve_pt[1]), 2),
                        round(float(nerve_pt[2]), 2),
                    ),
                )
            )
    contacts.sort(key=lambda c: (c.min_distance_mm, c.distance_from_rexp_mm))
    return contacts


def _deepest(gap, axis_mm, arc_mm, sp) -> int:
    """Index of the vessel voxel where it comes nearest to the nerve.

    ``gap``, ``axis_mm`` and ``arc_mm`` are, per voxel of the vessel, its gap to
    the nerve's surface, its distance to the nerve's axis and the arc length of
    the nearest axis point. The nearest voxels by surface gap (a vessel along
    the nerve touches it over a stretch, all at gap 0); of those, the ones
    within half a voxel of the smallest distance to the axis (where it
    presses); of those, the middle one along the nerve.
    """
    nearest = gap <= gap.min() + 1e-6
    deep = np.flatnonzero(nearest & (axis_mm <= axis_mm[nearest].min() + 0.5 * float(np.mean(sp))))
    order = np.argsort(arc_mm[deep], kind="stable")
    return int(deep[order[len(order) // 2]])


def _csf_gap(
    t2, affine, geometry: NerveGeometry, world, axis_mm, axis_ci, p: ContactParams
) -> float:
    """Smallest CSF width between CN VII's axis and the vessel's voxels nearest to it.

    ``world`` holds the vessel's voxel centres (RAS mm), ``axis_mm`` their
    distances to the axis and ``axis_ci`` the indices of the nearest axis points.
    """
    order = np.argsort(axis_mm)[:5]
    gaps = [
        csf_gap_mm(
            t2,
            affine,
            geometry.points_ras[axis_ci[k]],
            world[k],
            core_search_mm=p.core_search_mm,
            step_mm=p.profile_step_mm,
            core_max=p.core_max,
        )
        for k in order
    ]
    return float(np.nanmin(gaps)) if not np.all(np.isnan(gaps)) else float("nan")


def _contact_length(geometry: NerveGeometry, touching_ras: NDArray[np.float64], sp) -> float:
    """Length of centerline (mm) whose nearest vessel voxel touches the nerve."""
    if len(touching_ras) == 0:
        return 0.0
    _, idx = cKDTree(geometry.points_ras).query(touching_ras)
    s = geometry.arc_mm[np.unique(idx)]
    return float(s.max() - s.min()) + float(np.mean(sp))


def _indentation(geometry: NerveGeometry, ci: int, vessel_pt: NDArray[np.float64]) -> float:
    """How far the nerve bends away from the vessel, against a course fitted around the contact."""
    s = geometry.arc_mm
    pts = geometry.points_ras
    s0 = s[ci]
    ring = (np.abs(s - s0) >= 2.0) & (np.abs(s - s0) <= 6.0)
    inner = np.abs(s - s0) < 2.0
    if ring.sum() < 6 or not inner.any():
        return 0.0
    fit = [np.polyfit(s[ring] - s0, pts[ring, a], 2) for a in range(3)]
    base = np.stack([np.polyval(f, s[inner] - s0) for f in fit], axis=1)
    dev = pts[inner] - base
    away = base[np.argmin(np.abs(s[inner] - s0))] - vessel_pt
    away /= max(np.linalg.norm(away), 1e-9)
    return float(max(0.0, (dev @ away).max()))


def _grade(gap: float, indentation: float, p: ContactParams) -> Grade | None:
    if gap > p.contact_mm:
        return None
    if indentation >= p.displacement_mm:
        return "displacement"
    if indentation >= p.indentation_mm:
        return "indentation"
    return "contact"


def _position(geometry: NerveGeometry, ci: int, vessel_pt: NDArray[np.float64], side: str) -> str:
    """Where the vessel lies around the nerve, in patient terms (e.g. 'anterior-inferior')."""
    pts = geometry.points_ras
    t = pts[min(ci + 1, len(pts) - 1)] - pts[max(ci - 1, 0)]
    t /= max(np.linalg.norm(t), 1e-9)
    v = vessel_pt - pts[ci]
    v = v - (v @ t) * t
    if np.linalg.norm(v) < 1e-6:
        return "unknown"
    v /= np.linalg.norm(v)
    lateral = 1.0 if side == "right" else -1.0
    names = {
        "lateral": np.array([lateral, 0, 0]),
        "medial": np.array([-lateral, 0, 0]),
        "anterior": np.array([0, 1.0, 0]),
        "posterior": np.array([0, -1.0, 0]),
        "superior": np.array([0, 0, 1.0]),
        "inferior": np.array([0, 0, -1.0]),
    }
    scores = sorted(((float(v @ d), k) for k, d in names.items()), reverse=True)
    first, second = scores[0], scores[1]
    return f"{first[1]}-{second[1]}" if second[0] > 0.35 else first[1]

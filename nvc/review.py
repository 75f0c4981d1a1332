"""A reader's corrections of the anatomy: landmarks, the nerve's course, its mask, label changes.

Pure functions on arrays and points (RAS mm); ``nvc_pipelines.review`` composes
them with the measuring stages (geometry, contacts, naming, decision) to
recompute a case's findings from the corrected anatomy.

The course of CN VII is a polyline from the root exit point (RExP, first
point) to the porus (last point); the root detachment point (RDP) is an arc
length along it. Moving the RExP or the porus moves the course's end: the new
end is joined to the nearest point of the course and what lay beyond is
dropped, so a landmark moved along the course shortens it and one moved off it
redirects its end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeVar, get_args

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from scipy.spatial import cKDTree

from nvc.labels import LABEL_TABLE, Label
from nvc.volume import apply_affine

#: The landmarks a reader can move along or off the CN VII course.
Landmark = Literal["RExP", "RDP", "porus"]
LANDMARKS: tuple[Landmark, ...] = get_args(Landmark)

K = TypeVar("K", bound=str)

#: Labels a rebuilt nerve does not paint over (vessels and the other nerve stay).
KEEP_UNDER_NERVE = (Label.ARTERY, Label.VEIN, Label.CN8, Label.OTHER_NERVE)


def arc_lengths(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Arc length (mm) at each point of a polyline, shape (N,), from 0."""
    pts = np.asarray(points, float)
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])


def project_on_course(points: NDArray[np.float64], point: NDArray[np.float64]) -> float:
    """Arc length (mm) of the course point nearest to ``point`` (on its segments, not vertices).

    Parameters
    ----------
    points : ndarray, float, shape (N, 3)
        The course, RAS mm.
    point : ndarray, float, shape (3,)
        Any point, RAS mm (a landmark dragged on or off the course).
    """
    pts = np.asarray(points, float)
    p = np.asarray(point, float)
    a, b = pts[:-1], pts[1:]
    ab = b - a
    along = np.einsum("ij,ij->i", p - a, ab)
    t = np.clip(along / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12), 0.0, 1.0)
    d = np.linalg.norm(a + t[:, None] * ab - p, axis=1)
    k = int(np.argmin(d))
    return float(arc_lengths(pts)[k] + t[k] * np.linalg.norm(ab[k]))


def point_at(points: NDArray[np.float64], s_mm: float) -> NDArray[np.float64]:
    """The course's point (RAS mm, shape (3,)) at arc length ``s_mm`` (clipped to the course)."""
    pts = np.asarray(points, float)
    s = arc_lengths(pts)
    return np.array([np.interp(s_mm, s, pts[:, i]) for i in range(3)])


def move_end(
    points: NDArray[np.float64], new_point: NDArray[np.float64], *, end: Literal["RExP", "porus"]
) -> NDArray[np.float64]:
    """The course with its root exit point (``end="RExP"``) or porus moved to ``new_point``.

    The new end is joined to the course point nearest to it; the points beyond
    (between the old end and that point) are dropped.

    Returns
    -------
    ndarray, float, shape (M, 3)
        The new course, RAS mm, from the root exit point.
    """
    pts = np.asarray(points, float)
    p = np.asarray(new_point, float)[None]
    k = int(np.argmin(np.linalg.norm(pts - p, axis=1)))
    if end == "RExP":
        rest = pts[k + 1 :] if k + 1 < len(pts) else pts[-1:]
        return np.concatenate([p, rest])
    rest = pts[:k] if k > 0 else pts[:1]
    return np.concatenate([rest, p])


def control_points(points: NDArray[np.float64], *, spacing_mm: float = 2.0) -> NDArray[np.float64]:
    """Points every ``spacing_mm`` along a course (its ends included), for editing by hand.

    Returns
    -------
    ndarray, float, shape (M, 3)
        RAS mm, M >= 2.
    """
    pts = np.asarray(points, float)
    s = arc_lengths(pts)
    n = max(round(float(s[-1]) / spacing_mm), 1) + 1
    return np.stack([point_at(pts, float(x)) for x in np.linspace(0.0, s[-1], n)])


def side_masks(
    nerve: NDArray[np.bool_],
    courses: Mapping[K, NDArray[np.float64]],
    affine: NDArray[np.float64],
) -> dict[K, NDArray[np.bool_]]:
    """Split a nerve mask between sides: each voxel goes to the nearest course.

    Parameters
    ----------
    nerve : ndarray of bool, shape (I, J, K)
        CN VII voxels of both sides.
    courses : dict
        Per side, the course (RAS mm, shape (N, 3)).
    affine : ndarray, shape (4, 4)
        Voxel-to-world (RAS mm) of ``nerve``'s grid.

    Returns
    -------
    dict
        Per side of ``courses``, its voxels (bool, shape (I, J, K)).
    """
    out = {side: np.zeros(nerve.shape, bool) for side in courses}
    vox = np.argwhere(nerve)
    if not len(vox) or not courses:
        return out
    world = apply_affine(affine, vox.astype(float))
    names = list(courses)
    dist = np.stack([cKDTree(courses[s]).query(world)[0] for s in names])
    nearest = np.argmin(dist, axis=0)
    for n, side in enumerate(names):
        idx = vox[nearest == n]
        out[side][tuple(idx.T)] = True
    return out


def nerve_radius_mm(
    mask: NDArray[np.bool_],
    course: NDArray[np.float64],
    affine: NDArray[np.float64],
    spacing: NDArray[np.float64],
    *,
    default_mm: float = 0.7,
) -> float:
    """Mean radius (mm) of a nerve mask around its course: its volume over pi times the length.

    Only voxels beside the course (their nearest course point not its first or
    last) count, so the part in the internal auditory canal does not.
    ``default_mm`` when the mask holds none.
    """
    vox = np.argwhere(mask)
    course = np.asarray(course, float)
    length = float(arc_lengths(course)[-1])
    if not len(vox) or length <= 0:
        return default_mm
    _, k = cKDTree(course).query(apply_affine(affine, vox.astype(float)))
    inner = (k > 0) & (k < len(course) - 1)
    volume = float(np.count_nonzero(inner)) * float(np.prod(spacing))
    return float(np.sqrt(volume / (np.pi * length))) if volume > 0 else default_mm


def tube_mask(
    course: NDArray[np.float64],
    radius_mm: float,
    shape: tuple[int, int, int],
    affine: NDArray[np.float64],
    *,
    step_mm: float = 0.1,
) -> NDArray[np.bool_]:
    """Voxels whose centre lies within ``radius_mm`` of a course (a tube along it).

    Parameters
    ----------
    course : ndarray, float, shape (N, 3)
        RAS mm.
    shape : tuple of int
        Grid shape (I, J, K) of ``affine``.

    Returns
    -------
    ndarray of bool, shape ``shape``
    """
    pts = np.asarray(course, float)
    s = arc_lengths(pts)
    dense = np.stack([point_at(pts, float(x)) for x in np.arange(0.0, s[-1] + step_mm, step_mm)])
    ijk = apply_affine(np.linalg.inv(affine), dense)
    sp = np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(axis=0))
    reach = np.ceil(radius_mm / sp).astype(int) + 1
    lo = np.maximum(np.floor(ijk.min(axis=0)).astype(int) - reach, 0)
    hi = np.minimum(np.ceil(ijk.max(axis=0)).astype(int) + reach + 1, shape)
    out = np.zeros(shape, bool)
    if np.any(hi <= lo):
        return out
    grid = np.stack(
        np.meshgrid(*(np.arange(a, b) for a, b in zip(lo, hi, strict=True)), indexing="ij"), -1
    ).reshape(-1, 3)
    d, _ = cKDTree(dense).query(apply_affine(affine, grid.astype(float)))
    inside = grid[d <= radius_mm]
    out[tuple(inside.T)] = True
    return out


def rebuild_nerve(
    labels: NDArray[np.integer],
    old_mask: NDArray[np.bool_],
    old_course: NDArray[np.float64],
    new_course: NDArray[np.float64],
    radius_mm: float,
    affine: NDArray[np.float64],
    *,
    value: int = Label.CN7,
    beneath: NDArray[np.bool_] | None = None,
) -> NDArray[np.bool_]:
    """A side's nerve mask rebuilt around an edited course, and ``labels`` updated in place.

    The old mask's voxels beside the old course are cleared (to brainstem where
    ``beneath`` holds, else CSF), those beyond its last point (in the internal
    auditory canal) kept; a tube of ``radius_mm`` around the new course is
    painted ``value``, except over vessels and the other nerves.

    Parameters
    ----------
    labels : ndarray of int, shape (I, J, K)
        Label map (``nvc.labels.Label``), changed in place.
    old_mask : ndarray of bool
        This side's nerve voxels before the edit.
    old_course, new_course : ndarray, float, shape (N, 3)
        RAS mm, from the brainstem outwards.
    value : int
        The nerve's label (CN VII or CN VIII).
    beneath : ndarray of bool, optional
        The brainstem mask: a cleared voxel inside it becomes brainstem again.

    Returns
    -------
    ndarray of bool
        The side's new nerve voxels.
    """
    vox = np.argwhere(old_mask)
    if len(vox):
        _, k = cKDTree(np.asarray(old_course, float)).query(apply_affine(affine, vox.astype(float)))
        beside = tuple(vox[k < len(old_course) - 1].T)
        inside = beneath[beside] if beneath is not None else False
        labels[beside] = np.where(inside, Label.BRAINSTEM, Label.CSF)
    keep = {int(v) for v in (*KEEP_UNDER_NERVE, Label.CN7, Label.CN8)} - {int(value)}
    tube = tube_mask(new_course, radius_mm, labels.shape, affine)
    tube &= ~np.isin(labels, sorted(keep))
    labels[tube] = value
    canal = old_mask & (labels == value)
    return tube | canal


def course_from_mask(
    mask: NDArray[np.bool_],
    affine: NDArray[np.float64],
    start_near: NDArray[np.float64],
    *,
    step_mm: float = 2.0,
) -> NDArray[np.float64]:
    """A nerve's course estimated from its mask: centroids of slabs along its long axis.

    For a nerve whose traced path was not saved (CN VIII): the mask's voxels
    are projected on their principal axis and the centroid of every
    ``step_mm`` slab taken, from the end nearer to ``start_near`` (RAS mm,
    e.g. CN VII's root exit point: the brainstem end).

    Returns
    -------
    ndarray, float, shape (N, 3)
        RAS mm; empty (0, 3) when the mask holds fewer than two slabs.
    """
    vox = np.argwhere(mask)
    if len(vox) < 4:
        return np.zeros((0, 3))
    world = apply_affine(affine, vox.astype(float))
    centre = world.mean(axis=0)
    _, _, vt = np.linalg.svd(world - centre, full_matrices=False)
    t = (world - centre) @ vt[0]
    bins = np.floor((t - t.min()) / step_mm).astype(int)
    pts = np.array([world[bins == b].mean(axis=0) for b in np.unique(bins)])
    if len(pts) < 2:
        return np.zeros((0, 3))
    near = np.asarray(start_near, float)
    return pts if np.linalg.norm(pts[0] - near) <= np.linalg.norm(pts[-1] - near) else pts[::-1]


def label_changes(
    before: NDArray[np.integer], after: NDArray[np.integer], voxel_mm3: float
) -> list[tuple[str, str, int, float]]:
    """What a label edit changed: (from, to, voxels, mm3) per pair of labels, largest first.

    Names are the label table's (``background`` for 0).
    """
    changed = before != after
    if not changed.any():
        return []
    names = {int(t.value): t.name for t in LABEL_TABLE} | {0: "background"}
    pairs = np.stack([before[changed], after[changed]], axis=1).astype(np.int64)
    uniq, counts = np.unique(pairs, axis=0, return_counts=True)
    rows = [
        (names.get(int(a), str(a)), names.get(int(b), str(b)), int(n), round(n * voxel_mm3, 2))
        for (a, b), n in zip(uniq, counts, strict=True)
    ]
    return sorted(rows, key=lambda r: -r[2])


def vessel_piece(
    labels: NDArray[np.integer],
    seed: tuple[int, int, int],
    spacing: NDArray[np.float64],
    *,
    reach_mm: float = 10.0,
) -> NDArray[np.bool_]:
    """The vessel a reader picked: its label's voxels connected to ``seed`` within ``reach_mm``.

    The artery label is one tree (branches join the trunks), so the piece is
    cut at ``reach_mm`` from the pick: the vessel lying along the nerve, not
    the whole tree.

    Parameters
    ----------
    labels : ndarray of int, shape (I, J, K)
    seed : tuple of int
        Voxel (i, j, k) on the vessel (artery or vein label).
    spacing : ndarray, shape (3,)
        Voxel size (mm).

    Returns
    -------
    ndarray of bool, shape (I, J, K)
        Empty when ``seed`` is not an artery or vein voxel.
    """
    out = np.zeros(labels.shape, bool)
    value = int(labels[seed])
    if value not in (Label.ARTERY, Label.VEIN):
        return out
    sp = np.asarray(spacing, float)
    reach = np.ceil(reach_mm / sp).astype(int)
    lo = np.maximum(np.asarray(seed) - reach, 0)
    hi = np.minimum(np.asarray(seed) + reach + 1, labels.shape)
    box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
    grid = np.stack(np.meshgrid(*(np.arange(s.start, s.stop) for s in box), indexing="ij"), -1)
    ball = np.linalg.norm((grid - np.asarray(seed)) * sp, axis=-1) <= reach_mm
    pieces, _ = ndimage.label((labels[box] == value) & ball, structure=np.ones((3, 3, 3)))
    local = tuple(int(s - a) for s, a in zip(seed, lo, strict=True))
    out[box] = pieces == pieces[local]
    return out

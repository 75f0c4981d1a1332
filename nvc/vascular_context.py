"""What an MVD plan needs around CN VII: nearest arteries, the primary offender and its course.

Pure functions of the label masks (a closest-canonical grid, axes i, j, k
closest to R, A, S), the CN VII centerline (RAS mm) and the artery tree of
``nvc.vessel_names``:

- ``nearest_arteries``: the nearest one or two arteries of a side, whatever
  the 2 mm reporting threshold (a negative side then still says what lies
  nearest and how far);
- ``primary_offender``: which arterial contact of the vulnerable zone is the
  one to decompress first when there are several;
- ``describe_offender``: its origin (the trunk its skeleton walks back to),
  its course at the nerve (a loop coming up from below, hanging from above,
  or crossing), whether it passes between CN VII and CN VIII, and its
  distance to the porus acusticus (the end of the traced cisternal nerve).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from nvc.contacts import Contact
from nvc.morphology import mask_box
from nvc.nerve_geometry import NerveGeometry
from nvc.segments import Segment
from nvc.vessel_names import ArteryTree, NamingParams
from nvc.volume import apply_affine

#: Long names of the arteries, as a surgeon reads them.
ARTERY_NAMES = {
    "VA": "vertebral artery",
    "BA": "basilar artery",
    "AICA": "anterior inferior cerebellar artery",
    "PICA": "posterior inferior cerebellar artery",
    "SCA": "superior cerebellar artery",
    "unknown": "unnamed artery",
}


@dataclass(frozen=True)
class ContextParams:
    """Parameters of the vascular context of CN VII (mm).

    Attributes
    ----------
    search_mm : float
        Arteries up to this far from CN VII's surface are candidates for the
        nearest ones (the cerebellopontine angle cistern is about 10-15 mm
        wide between the brainstem and the porus; Rhoton 2000, Neurosurgery
        47(3 Suppl):S93-129).
    max_nearest : int
        How many distinct arteries are listed per side.
    course_radius_mm : float
        The offender's course is read over its vessel within this distance of
        the contact (about the length of a loop at the root exit zone: PICA
        and AICA loops at the REZ span 5-10 mm; Campos-Benitez & Kaufmann
        2008, J Neurosurg 109:416-20).
    loop_extent_mm : float
        A loop is caudal (cranial) when the vessel reaches at least this far
        below (above) the contact and at most half as far above (below): one
        arterial diameter of PICA or AICA (1.5-2 mm; Rhoton 2000).
    between_nerves_mm : float
        The offender passes between CN VII and CN VIII when some of its voxels
        lie within this distance of both nerves' surfaces (about one voxel of
        a clinical CISS, 0.5-0.7 mm, plus the measurement's half voxel).
    """

    search_mm: float = 12.0
    max_nearest: int = 2
    course_radius_mm: float = 8.0
    loop_extent_mm: float = 2.0
    between_nerves_mm: float = 1.0


@dataclass(frozen=True)
class NearbyArtery:
    """An artery near CN VII, whether or not it touches it.

    Attributes
    ----------
    vessel_name : str
        AICA, PICA, VA, BA, SCA or unknown (``nvc.vessel_names``).
    distance_mm : float
        Surface-to-surface gap to CN VII (mm): the contact's CSF-width
        measure when the artery is one of the side's contacts, else the gap
        between the masks (to about a voxel).
    segment : str
        Segment of CN VII nearest to the artery (RExP, AS, RDP, TZ, cisternal).
    distance_from_rexp_mm : float
        Arc length of that point from the root exit point (mm).
    location_ras_mm : tuple of float
        That point on CN VII's surface, RAS mm.
    """

    vessel_name: str
    distance_mm: float
    segment: Segment
    distance_from_rexp_mm: float
    location_ras_mm: tuple[float, float, float]


@dataclass(frozen=True)
class Offender:
    """The primary arterial offender of one side and what a surgeon plans around.

    Attributes
    ----------
    contact_index : int
        Index of its contact in the side's ``contacts`` (nearest first).
    vessel_name : str
        AICA, PICA, VA, BA, SCA or unknown.
    why_primary : str
        Why this contact was chosen among the side's arterial contacts.
    origin : str
        The trunk the artery walks back to along the artery tree's skeleton:
        "VA", "BA", "itself" (a trunk is the offender) or "not traced".
    origin_side : str
        Side of the origin: "left", "right", "midline" or "" when not traced.
    loop : str
        "caudal" (the vessel comes up from below to the nerve), "cranial"
        (hangs down onto it from above) or "crossing" (passes across it).
    between_cn7_cn8 : bool
        Whether it runs between the facial and vestibulocochlear nerves.
    position : str
        Where it lies around the nerve (as in the contact).
    indentation_mm : float
        The nerve's deviation from its own course at the contact (mm).
    to_porus_mm : float
        Straight distance (mm) from the contact on the nerve to the porus
        acusticus internus (the end of the traced cisternal CN VII).
    to_porus_along_nerve_mm : float
        The same along the nerve (mm).
    description : str
        One line, e.g. "PICA from the right VA, caudal loop, between CN VII
        and CN VIII, anterior-inferior to the attached segment".
    """

    contact_index: int
    vessel_name: str
    why_primary: str
    origin: str
    origin_side: str
    loop: str
    between_cn7_cn8: bool
    position: str
    indentation_mm: float
    to_porus_mm: float
    to_porus_along_nerve_mm: float
    description: str


def _pieces(labelled: NDArray[np.int_]) -> list[NDArray[np.int_]]:
    """Voxel indices of each labelled piece, in label order (one pass over the array)."""
    vox = np.argwhere(labelled > 0)
    labels = labelled[tuple(vox.T)]
    order = np.argsort(labels, kind="stable")  # keeps each piece's voxels in C order
    vox, labels = vox[order], labels[order]
    return np.split(vox, np.flatnonzero(np.diff(labels)) + 1)


def nearest_arteries(
    arteries: NDArray[np.bool_],
    nerve: NDArray[np.bool_],
    geometry: NerveGeometry,
    affine: NDArray[np.float64],
    spacing: NDArray[np.float64],
    *,
    name_of: Callable[[NDArray[np.int_]], str],
    contacts: Sequence[Contact] = (),
    params: ContextParams = ContextParams(),
) -> tuple[NearbyArtery, ...]:
    """The nearest ``max_nearest`` distinct arteries to CN VII, nearest first.

    Parameters
    ----------
    arteries, nerve : ndarray of bool, shape (I, J, K)
        Artery mask and this side's CN VII mask on the same grid.
    geometry : NerveGeometry
        This side's CN VII centerline (RAS mm).
    affine : ndarray, shape (4, 4)
        Voxel indices of the grid to RAS+ mm.
    spacing : ndarray, shape (3,)
        Voxel size (mm) along i, j, k.
    name_of : callable
        Names an artery from voxel indices of its piece (``nvc.vessel_names.name_artery``).
    contacts : sequence of Contact
        The side's contacts: an artery among them takes its measured distance.
    params : ContextParams

    Returns
    -------
    tuple of NearbyArtery
        Pieces of artery within ``search_mm`` of the nerve, one per name (the
        nearest piece of each), at most ``max_nearest``; empty when no artery
        lies that close.
    """
    sp = np.asarray(spacing, float)
    if not nerve.any() or not arteries.any():
        return ()
    box = mask_box(nerve, params.search_mm + float(sp.max()), sp)
    offset = np.array([s.start for s in box])
    edt, nearest = ndimage.distance_transform_edt(~nerve[box], sampling=sp, return_indices=True)
    gap = np.clip(edt - float(np.mean(sp)), 0.0, None)
    near = arteries[box] & (gap <= params.search_mm)
    pieces, n = ndimage.label(near, structure=np.ones((3, 3, 3)))
    if n == 0:
        return ()
    tree = cKDTree(geometry.points_ras)
    found: dict[str, NearbyArtery] = {}
    unknown: list[NearbyArtery] = []
    for vox in _pieces(pieces):
        g = gap[tuple(vox.T)]
        best = vox[int(np.argmin(g))]
        # the piece where it comes nearest names it (a long piece may join other arteries)
        close = vox[g <= g.min() + 2.0] + offset
        name = name_of(close)
        nerve_vox = np.array([nearest[a][tuple(best)] for a in range(3)], float) + offset
        point = apply_affine(affine, nerve_vox)
        _, ci = tree.query(point)
        s = float(geometry.arc_mm[ci])
        item = NearbyArtery(
            vessel_name=name,
            distance_mm=round(float(g.min()), 2),
            segment=geometry.segment_at(s),
            distance_from_rexp_mm=round(s, 2),
            location_ras_mm=_rounded(point),
        )
        for c in contacts:
            if (
                c.vessel_class == "artery"
                and c.vessel_name == name
                and c.min_distance_mm <= item.distance_mm + float(sp.max())
            ):
                item = NearbyArtery(
                    name,
                    float(c.min_distance_mm),
                    c.segment,
                    float(c.distance_from_rexp_mm),
                    c.location_ras_mm,
                )
                break
        if name == "unknown":
            unknown.append(item)
        elif name not in found or item.distance_mm < found[name].distance_mm:
            found[name] = item
    ranked = sorted([*found.values(), *unknown], key=lambda a: a.distance_mm)
    return tuple(ranked[: params.max_nearest])


def primary_offender(contacts: Sequence[Contact]) -> tuple[int, str] | None:
    """The arterial contact of the vulnerable zone to decompress first, and why.

    The nearest to the nerve (a compression, not a vessel merely near);
    among contacts as near, within 0.1 mm, the one indenting the nerve most
    (the visible sign of compression); then the one nearest the root exit
    point, where the central myelin is most vulnerable (Tomii et al. 2003,
    Acta Neurochir 145:47-51; Campos-Benitez & Kaufmann 2008).

    Returns
    -------
    (int, str) or None
        Index into ``contacts`` and the reason; None without an arterial
        contact in the vulnerable zone.
    """
    candidates = [
        i
        for i, c in enumerate(contacts)
        if c.vessel_class == "artery" and c.grade is not None and c.in_vulnerable_zone
    ]
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0], "the only artery touching the vulnerable zone"
    nearest = min(contacts[i].min_distance_mm for i in candidates)
    tied = [i for i in candidates if contacts[i].min_distance_mm <= nearest + 0.1]
    best = min(
        tied,
        key=lambda i: (-contacts[i].indentation_mm, contacts[i].distance_from_rexp_mm),
    )
    others = ", ".join(contacts[i].vessel_name for i in candidates if i != best)
    if len(tied) == 1:
        why = f"nearest of {len(candidates)} arteries touching the vulnerable zone (also {others})"
    else:
        why = (
            f"as near as another artery; deepest indentation, then nearest the root exit point "
            f"(also {others})"
        )
    return best, why


def describe_offender(
    contacts: Sequence[Contact],
    arteries: NDArray[np.bool_],
    cn7: NDArray[np.bool_],
    cn8: NDArray[np.bool_],
    geometry: NerveGeometry,
    tree: ArteryTree,
    affine: NDArray[np.float64],
    *,
    naming: NamingParams | None = None,
    params: ContextParams = ContextParams(),
) -> Offender | None:
    """Origin, course and porus distance of the side's primary offender (None without one).

    Parameters
    ----------
    contacts : sequence of Contact
        The side's contacts (``nvc.contacts.measure_contacts``).
    arteries, cn7, cn8 : ndarray of bool, shape (I, J, K)
        Artery mask and this side's nerves on the closest-canonical grid of ``tree``.
    geometry : NerveGeometry
        This side's CN VII centerline (RAS mm); its last point is the porus.
    tree : ArteryTree
        Skeleton graph of ``arteries`` (``nvc.vessel_names.artery_tree``).
    affine : ndarray, shape (4, 4)
        Voxel indices to RAS+ mm.
    naming : NamingParams, optional
        ``trunk_radius_mm`` and ``midline_mm`` tell the trunk it joins.
    """
    naming = naming or NamingParams()
    chosen = primary_offender(contacts)
    if chosen is None:
        return None
    index, why = chosen
    c = contacts[index]
    sp = np.asarray(tree.spacing, float)
    loc = np.asarray(c.location_ras_mm, float)
    piece = vessel_near(arteries, loc, affine, sp, params.course_radius_mm)
    origin, origin_side = _origin(tree, piece, c.vessel_name, naming)
    loop = _loop(piece, loc, affine, sp, params)
    between = _between(piece, cn7, cn8, sp, params.between_nerves_mm)
    porus = geometry.points_ras[-1]
    to_porus = float(np.linalg.norm(porus - loc))
    along = max(float(geometry.arc_mm[-1]) - float(c.distance_from_rexp_mm), 0.0)
    from_text = {
        "itself": "",
        "not traced": " (origin not traced)",
    }.get(origin, f" from the {origin_side + ' ' if origin_side else ''}{origin}")
    parts = [f"{c.vessel_name}{from_text}", f"{loop} loop" if loop != "crossing" else "crossing"]
    if between:
        parts.append("between CN VII and CN VIII")
    parts.append(f"{c.position} to the {_segment_name(c.segment)}")
    return Offender(
        contact_index=index,
        vessel_name=c.vessel_name,
        why_primary=why,
        origin=origin,
        origin_side=origin_side,
        loop=loop,
        between_cn7_cn8=between,
        position=c.position,
        indentation_mm=float(c.indentation_mm),
        to_porus_mm=round(to_porus, 1),
        to_porus_along_nerve_mm=round(along, 1),
        description=", ".join(parts),
    )


def _segment_name(segment: str) -> str:
    return {
        "RExP": "root exit point",
        "AS": "attached segment",
        "RDP": "root detachment point",
        "TZ": "transition zone",
        "cisternal": "cisternal segment",
    }.get(segment, segment)


def _rounded(p: NDArray[np.float64]) -> tuple[float, float, float]:
    return (round(float(p[0]), 2), round(float(p[1]), 2), round(float(p[2]), 2))


def vessel_near(
    arteries: NDArray[np.bool_],
    loc: NDArray[np.float64],
    affine: NDArray[np.float64],
    sp: NDArray[np.float64],
    radius_mm: float,
) -> NDArray[np.int_]:
    """Voxel indices, shape (N, 3), of the vessel through a point, within ``radius_mm`` of it.

    The connected piece of ``arteries`` (inside the ball) holding the voxel
    nearest ``loc`` (RAS mm); empty when the ball holds no artery.
    """
    centre = apply_affine(np.linalg.inv(affine), loc)
    r = np.ceil(radius_mm / sp).astype(int)
    lo = np.maximum(np.floor(centre).astype(int) - r, 0)
    hi = np.minimum(np.ceil(centre).astype(int) + r + 1, arteries.shape)
    box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
    grid = np.stack(np.meshgrid(*[np.arange(s.start, s.stop) for s in box], indexing="ij"), -1)
    ball = np.linalg.norm((grid - centre) * sp, axis=-1) <= radius_mm
    sub = arteries[box] & ball
    if not sub.any():
        return np.zeros((0, 3), int)
    pieces, _ = ndimage.label(sub, structure=np.ones((3, 3, 3)))
    vox = np.argwhere(sub)
    nearest = vox[int(np.argmin(np.linalg.norm((vox + lo - centre) * sp, axis=1)))]
    return np.argwhere(pieces == pieces[tuple(nearest)]) + lo


def _origin(
    tree: ArteryTree, piece: NDArray[np.int_], name: str, naming: NamingParams
) -> tuple[str, str]:
    """(trunk, side) the vessel walks back to on the skeleton graph."""
    if name in ("VA", "BA"):
        return "itself", ""
    if len(tree.points) == 0 or len(piece) == 0:
        return "not traced", ""
    sp = tree.spacing
    d, idx = cKDTree(tree.points * sp).query(piece * sp)
    walkable = np.diff(tree.graph.indptr) > 0
    start = np.unique(idx[(d <= 1.5) & walkable[idx]])
    if start.size == 0:
        return "not traced", ""
    dist = dijkstra(tree.graph, indices=start, min_only=True)
    trunk = tree.radius_mm >= naming.trunk_radius_mm
    reach = np.where(trunk, dist, np.inf)
    if not np.isfinite(reach).any():
        return "not traced", ""
    join = int(np.argmin(reach))
    lateral_mm = float(tree.frame_mm(np.array([join]))[0][0])
    if abs(lateral_mm) <= naming.midline_mm:
        return "BA", ""
    # closest-canonical grid: i grows toward the patient's right
    return "VA", "right" if lateral_mm > 0 else "left"


def _loop(
    piece: NDArray[np.int_],
    loc: NDArray[np.float64],
    affine: NDArray[np.float64],
    sp: NDArray[np.float64],
    params: ContextParams,
) -> str:
    """Caudal, cranial or crossing: how far the vessel reaches below and above the contact."""
    if len(piece) == 0:
        return "crossing"
    z = apply_affine(affine, piece.astype(float))[:, 2] - float(loc[2])
    below, above = max(-float(z.min()), 0.0), max(float(z.max()), 0.0)
    if below >= params.loop_extent_mm and above <= below / 2:
        return "caudal"
    if above >= params.loop_extent_mm and below <= above / 2:
        return "cranial"
    return "crossing"


def _between(
    piece: NDArray[np.int_],
    cn7: NDArray[np.bool_],
    cn8: NDArray[np.bool_],
    sp: NDArray[np.float64],
    within_mm: float,
) -> bool:
    """Whether some voxel of the vessel lies within ``within_mm`` of both nerves' surfaces."""
    if len(piece) == 0 or not cn7.any() or not cn8.any():
        return False
    pts7 = np.argwhere(cn7) * sp
    pts8 = np.argwhere(cn8) * sp
    p = piece * sp
    # centre-to-centre distance less one voxel = surface-to-surface gap
    d7, _ = cKDTree(pts7).query(p, distance_upper_bound=within_mm + 2 * float(sp.max()))
    d8, _ = cKDTree(pts8).query(p, distance_upper_bound=within_mm + 2 * float(sp.max()))
    voxel = float(np.mean(sp))
    return bool(np.any((d7 - voxel <= within_mm) & (d8 - voxel <= within_mm)))

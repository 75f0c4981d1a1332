"""The vertebrobasilar system: deviation toward a side, dominant vertebral artery, dolichoectasia.

In hemifacial spasm the vertebrobasilar system is often deviated toward the
symptomatic side, pushing the offender onto the root exit zone (the
vertebral artery is deviated to the affected side in most patients with a
vertebral offender; Kim et al. 2014, Acta Neurochir 156:1291-7; Chen et al.
2022, Front Neurol 13:855395). Vertebrobasilar dolichoectasia follows the
criteria of Smoker et al. (AJNR 1986, 7:61-72): ectasia, a basilar diameter
above 4.5 mm; dolichosis, the basilar artery lateral to the lateral margin
of the clivus or dorsum sellae (score >= 2) or its bifurcation above the
suprasellar cistern. Without a segmented clivus, its lateral margin is taken
10 mm from the midline (the MRA criterion of Ubogu & Zaidat 2004, J Neurol
Neurosurg Psychiatry 75:22-6: a deviation of more than 10 mm from the
expected course); the bifurcation lies above the analysed field of view and
is not scored.

Pure functions of the artery tree (``nvc.vessel_names.ArteryTree``): its
skeleton points thicker than the trunk radius are the vertebral and basilar
trunks. Levels are taken along the brainstem's axis from the pontomedullary
junction, lateral offsets across it (toward the patient's right) from the
brainstem's midline: a head rolled in the scanner tilts the whole system, and
measured along the grid's axes it would read as a deviation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from nvc.brainstem import lateral_direction
from nvc.vessel_names import ArteryTree, NamingParams
from nvc.volume import apply_affine


@dataclass(frozen=True)
class VertebrobasilarParams:
    """Criteria for the vertebrobasilar system (mm).

    Attributes
    ----------
    ectasia_diameter_mm : float
        Basilar diameter above which it is ectatic (Smoker et al. 1986: normal
        1.9-4.5 mm).
    dolichosis_lateral_mm : float
        Lateral offset of the basilar artery's centre from the midline beyond
        which it is lateral to the clivus margin (Smoker laterality score >= 2;
        Ubogu & Zaidat 2004: deviation > 10 mm).
    dominance_mm : float
        A vertebral artery this much wider than the other is dominant
        (diameter difference >= 0.3 mm; Hong et al. 2009, J Neurol Neurosurg
        Psychiatry 80:1087-92).
    split_mm : float
        Trunk points at one level farther apart than this laterally belong to
        two vertebral arteries (below their junction): more than a vertebral
        diameter (3-4 mm).
    junction_margin_mm : float
        The basilar artery's position is read above this height over the
        vertebrobasilar junction: where the two vertebral arteries merge, the
        trunk widens and its skeleton wanders over about one vertebral
        diameter (3-4 mm).
    """

    ectasia_diameter_mm: float = 4.5
    dolichosis_lateral_mm: float = 10.0
    dominance_mm: float = 0.3
    split_mm: float = 4.0
    junction_margin_mm: float = 4.0


@dataclass(frozen=True)
class Vertebrobasilar:
    """Position and calibre of the vertebral and basilar arteries.

    Attributes
    ----------
    found : bool
        False when no trunk was segmented (every other field is then empty).
    basilar_lateral_mm : float or None
        Signed lateral offset (mm, positive toward the patient's right) of
        the basilar artery's centre (median per level) at the level where it
        lies farthest from the midline.
    basilar_deviation : str
        "right", "left" or "midline": the side toward which the basilar
        artery's lumen leaves the midline (its centre farther from it than
        its own radius; Smoker laterality score 0 is midline throughout).
    junction_ras_mm : tuple of float or None
        The vertebrobasilar junction (lowest basilar level), RAS mm.
    junction_lateral_mm : float or None
        Its signed lateral offset (mm, positive toward the right).
    vertebral_deviation : str
        "right", "left" or "midline": the side of the midpoint between the
        vertebral arteries below the junction (median over levels), beyond a
        vertebral radius from the midline.
    vertebral_diameters_mm : dict
        ``{"left": mm, "right": mm}`` of the vertebral arteries seen.
    dominant_vertebral : str
        "left", "right", "codominant" or "" when fewer than two were seen.
    basilar_diameter_mm : float or None
        Median diameter of the basilar trunk (mm).
    ectasia, dolichosis, dolichoectasia : bool
        Smoker criteria (see the module's docstring); dolichoectasia is
        ectasia or dolichosis (Del Brutto et al. 2017, as one finding).
    summary : str
        One line for the report.
    """

    found: bool
    basilar_lateral_mm: float | None = None
    basilar_deviation: str = "midline"
    junction_ras_mm: tuple[float, float, float] | None = None
    junction_lateral_mm: float | None = None
    vertebral_deviation: str = "midline"
    vertebral_diameters_mm: dict[str, float] | None = None
    dominant_vertebral: str = ""
    basilar_diameter_mm: float | None = None
    ectasia: bool = False
    dolichosis: bool = False
    dolichoectasia: bool = False
    summary: str = "vertebral and basilar arteries not segmented"


def vertebrobasilar(
    tree: ArteryTree,
    affine: NDArray[np.float64],
    *,
    axis: NDArray[np.float64] | None = None,
    origin_index: NDArray[np.float64] | None = None,
    naming: NamingParams | None = None,
    params: VertebrobasilarParams = VertebrobasilarParams(),
) -> Vertebrobasilar:
    """Deviation, dominance and dolichoectasia of the vertebrobasilar system.

    Parameters
    ----------
    tree : ArteryTree
        Skeleton of the artery mask on a closest-canonical grid, with the
        brainstem's midline (index i) and pontomedullary junction (index k).
    affine : ndarray, shape (4, 4)
        Voxel indices of that grid to RAS+ mm.
    axis : ndarray, shape (3,), optional
        The brainstem's axis (unit, mm along i, j, k, pointing up;
        ``nvc.brainstem.Brainstem.axis``). Heights are taken along it and
        lateral offsets across it, so that a head rolled in the scanner does
        not read as a deviated basilar artery. Default: the grid's k axis.
    origin_index : ndarray, shape (3,), optional
        A point of the midline (voxel indices), e.g. the pontomedullary
        junction (``Brainstem.pmj_index``). Default: ``(tree.midline_i, 0, tree.pmj_k)``.
    naming : NamingParams, optional
        ``trunk_radius_mm`` tells the trunks from their branches.
    params : VertebrobasilarParams

    Returns
    -------
    Vertebrobasilar
    """
    naming = naming or NamingParams()
    sp = np.asarray(tree.spacing, float)
    trunk = tree.radius_mm >= naming.trunk_radius_mm
    if not trunk.any():
        return Vertebrobasilar(found=False)
    pts = tree.points[trunk].astype(float)
    # lumen radius: the skeleton's distance to the nearest background voxel (to about a voxel)
    radius = tree.radius_mm[trunk]
    # the brainstem's frame: up along its axis, lateral (toward the patient's right) across it
    up = np.array([0.0, 0.0, 1.0]) if axis is None else np.asarray(axis, float)
    up = up / max(float(np.linalg.norm(up)), 1e-9)
    across = lateral_direction(up)
    origin = (
        np.array([tree.midline_i, 0.0, float(tree.pmj_k)])
        if origin_index is None
        else np.asarray(origin_index, float)
    )
    rel = (pts - origin) * sp
    lateral = rel @ across
    level = np.round((rel @ up) / float(sp[2])).astype(int)
    basilar = np.zeros(len(pts), bool)
    vertebral = np.zeros(len(pts), bool)
    levels = np.unique(level)
    split_levels = []
    for k in levels:
        at = level == k
        x = np.sort(lateral[at])
        if len(x) > 1 and float(np.max(np.diff(x))) > params.split_mm:
            split_levels.append(k)
    top_split = _top_of_lowest_run(split_levels, max(1, round(2.0 / sp[2])))
    for k in levels:
        at = level == k
        if top_split is not None and k <= top_split:
            vertebral |= at
        else:
            basilar |= at
    vert_d: dict[str, float] = {}
    for side, sign in (("right", 1.0), ("left", -1.0)):
        mine = vertebral & (sign * lateral > 0)
        if mine.sum() >= 3:
            vert_d[side] = round(2.0 * float(np.median(radius[mine])), 2)
    dominant = ""
    if len(vert_d) == 2:
        diff = vert_d["right"] - vert_d["left"]
        dominant = (
            "codominant" if abs(diff) < params.dominance_mm else ("right" if diff > 0 else "left")
        )
    ba_lateral = ba_diameter = junction_lateral = None
    junction = None
    ba_side = "midline"
    ectasia = dolichosis = False
    if basilar.any():
        # the basilar artery's centre per level (median: a branch's root is not its course),
        # above the junction's merging zone when the basilar artery reaches that high
        ba_levels = np.unique(level[basilar])
        above = ba_levels[ba_levels >= ba_levels.min() + params.junction_margin_mm / sp[2]]
        centres = np.array(
            [
                np.median(lateral[basilar & (level == k)])
                for k in (above if above.size else ba_levels)
            ]
        )
        ba_lateral = round(float(centres[int(np.argmax(np.abs(centres)))]), 1) + 0.0
        ba_r = float(np.median(radius[basilar]))
        ba_diameter = round(2.0 * ba_r, 2)
        ba_side = _side(ba_lateral, ba_r)
        low = np.flatnonzero(basilar)[level[basilar] == level[basilar].min()]
        j = pts[low].mean(axis=0)
        junction_lateral = round(float(((j - origin) * sp) @ across), 1) + 0.0
        junction = tuple(round(float(v), 2) for v in apply_affine(affine, j))
        ectasia = ba_diameter > params.ectasia_diameter_mm
        dolichosis = abs(ba_lateral) > params.dolichosis_lateral_mm
    va_side = "midline"
    if vertebral.any():
        # the midpoint of the two vertebral arteries, level by level
        mids = np.array(
            [
                0.5
                * (
                    lateral[vertebral & (level == k)].min()
                    + lateral[vertebral & (level == k)].max()
                )
                for k in np.unique(level[vertebral])
            ]
        )
        va_side = _side(float(np.median(mids)), float(np.median(radius[vertebral])))
    result = Vertebrobasilar(
        found=True,
        basilar_lateral_mm=ba_lateral,
        basilar_deviation=ba_side,
        junction_ras_mm=junction,  # type: ignore[arg-type]
        junction_lateral_mm=junction_lateral,
        vertebral_deviation=va_side,
        vertebral_diameters_mm=vert_d or None,
        dominant_vertebral=dominant,
        basilar_diameter_mm=ba_diameter,
        ectasia=ectasia,
        dolichosis=dolichosis,
        dolichoectasia=ectasia or dolichosis,
    )
    return _with_summary(result)


def _top_of_lowest_run(levels: list[int], max_gap: int) -> int | None:
    """Top of the lowest run of levels (gaps of at most ``max_gap`` levels), or None.

    The vertebral arteries run side by side from the bottom of the field up to
    their junction; a split higher up (a branch's thick root) is not theirs.
    """
    if not levels:
        return None
    top = levels[0]
    for k in levels[1:]:
        if k - top > max_gap:
            break
        top = k
    return top


def _side(offset_mm: float, radius_mm: float) -> str:
    """The side the lumen leaves the midline toward (its centre beyond its own radius)."""
    if abs(offset_mm) <= max(radius_mm, 0.0):
        return "midline"
    return "right" if offset_mm > 0 else "left"


def _with_summary(v: Vertebrobasilar) -> Vertebrobasilar:
    parts = []
    if v.basilar_lateral_mm is not None:
        if v.basilar_deviation == "midline":
            parts.append("basilar artery at the midline")
        else:
            parts.append(
                f"basilar artery deviated to the {v.basilar_deviation} "
                f"({abs(v.basilar_lateral_mm):.1f} mm from the midline)"
            )
    else:
        parts.append("basilar artery not in the analysed field")
    if v.vertebral_diameters_mm:
        if v.vertebral_deviation == "midline":
            parts.append("vertebral arteries symmetric about the midline")
        else:
            parts.append(f"vertebral arteries deviated to the {v.vertebral_deviation}")
        if v.dominant_vertebral in ("left", "right"):
            parts.append(f"{v.dominant_vertebral} vertebral artery dominant")
        elif v.dominant_vertebral == "codominant":
            parts.append("vertebral arteries codominant")
    if v.basilar_diameter_mm is not None:
        parts.append(f"basilar diameter {v.basilar_diameter_mm:.1f} mm")
    if v.dolichoectasia:
        what = " and ".join(
            w for w, yes in (("ectasia", v.ectasia), ("dolichosis", v.dolichosis)) if yes
        )
        parts.append(f"dolichoectasia ({what}, Smoker criteria)")
    else:
        parts.append("no dolichoectasia (Smoker criteria: diameter and laterality)")
    return replace(v, summary="; ".join(parts))

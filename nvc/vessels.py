"""Arteries (bright on TOF) and veins (dark on TOF and T2) on the T2 grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc.intensity import T2Levels, dark_tube_roundness, sigma_reach, tube_darkness
from nvc.morphology import dilate_ellipsoid, distance_to_mask, erode_ellipsoid, widen_box

#: Connectivity through faces, edges and corners (``ndimage.label`` structure).
_FULL = np.ones((3, 3, 3), bool)


@dataclass(frozen=True)
class VesselParams:
    """Parameters of the vessel segmentation.

    Attributes
    ----------
    seed_fraction, grow_fraction : float
        Hysteresis thresholds for arteries as fractions of the way from the TOF
        background to the brightest arteries. A piece above ``grow_fraction``
        with no voxel above ``seed_fraction`` is still an artery where it is a
        round tube (see ``tube_roundness``) standing ``grow_fraction`` above a
        shell one vessel diameter around it: a thin AICA or PICA on a TOF of
        thick slices keeps a fraction of its brightness by partial volume.
    half_max_window_mm : float
        Window for the local half-maximum that places each artery's wall.
    min_artery_mm3, min_vein_mm3 : float
        Smallest connected pieces kept.
    vein_tof_fraction : float
        Veins are no brighter on TOF than this fraction of the way from CSF to tissue
        (venous blood is saturated in TOF; a nerve is stationary tissue).
    dark_core_fraction : float
        Darker than this fraction of the tissue level is a dark core (bone, air,
        a flow void or the core of a nerve).
    max_tube_radius_mm : float
        Radius of the widest vessel of the posterior fossa (mm): the vertebral
        artery, 1.5-2.5 mm (Rhoton, The posterior cranial fossa, 2000). A dark
        region wider than this is bulky (bone, air), not a vessel.
    vein_tube_darkness : float
        A vein voxel is at least this dark against its surroundings (black
        top-hat over ``max_tube_radius_mm``, 0 for CSF, 1 for a core at half the
        tissue level; ``nvc.intensity.tube_darkness``).
    bone_margin_mm : float
        Voxels this close to bulky dark regions are the bone's partial-volume
        rim, not vein (mm; about one voxel of a clinical CISS).
    tube_scale_mm : float
        Scale (mm) of the cross-section test: the radius of a small
        posterior-fossa vessel (the veins, the AICA and PICA loops), 0.5-1 mm
        (Rhoton, The posterior cranial fossa, 2000).
    tube_roundness : float
        A vessel's cross-section is no more elongated than 1 / ``tube_roundness``
        (Hessian eigenvalue ratio, ``nvc.intensity.dark_tube_roundness``); a bone
        edge, a dural fold or a layer of fat is a sheet, about 0.
    """

    seed_fraction: float = 0.55
    grow_fraction: float = 0.25
    half_max_window_mm: float = 1.6
    min_artery_mm3: float = 6.0
    min_vein_mm3: float = 4.0
    vein_tof_fraction: float = 0.25
    dark_core_fraction: float = 0.8
    max_tube_radius_mm: float = 2.5
    vein_tube_darkness: float = 0.8
    bone_margin_mm: float = 1.0
    tube_scale_mm: float = 0.7
    tube_roundness: float = 0.5


@dataclass(frozen=True)
class TofLevels:
    """TOF levels on the T2 grid: stationary tissue, CSF and the brightest arteries."""

    tissue: float
    csf: float
    artery: float

    def relative(self, tof: NDArray[np.floating]) -> NDArray[np.floating]:
        """TOF as the fraction of the way from stationary tissue (0) to the brightest arteries (1).

        Parameters
        ----------
        tof : ndarray, float, any shape
            TOF intensities (of the image these levels were measured on).

        Returns
        -------
        ndarray, float, the shape of ``tof``
            ``(tof - tissue) / (artery - tissue)``, the span at least 1e-6.

        Examples
        --------
        >>> import numpy as np
        >>> levels = TofLevels(tissue=100.0, csf=50.0, artery=500.0)
        >>> levels.relative(np.array([100.0, 300.0, 500.0]))
        array([0. , 0.5, 1. ])
        """
        return (tof - self.tissue) / max(self.artery - self.tissue, 1e-6)


def tof_levels(
    tof: NDArray[np.floating], brainstem: NDArray[np.bool_], csf: NDArray[np.bool_]
) -> TofLevels:
    """Median TOF in the brainstem and in the CSF, and the 99.9th percentile overall."""
    tissue = float(np.median(tof[brainstem])) if brainstem.any() else float(np.median(tof))
    csf_level = float(np.median(tof[csf])) if csf.any() else tissue
    artery = float(np.percentile(tof, 99.9))
    return TofLevels(tissue=tissue, csf=csf_level, artery=artery)


def segment_arteries(
    tof: NDArray[np.floating],
    spacing: NDArray[np.float64],
    levels: TofLevels,
    *,
    params: VesselParams = VesselParams(),
) -> NDArray[np.bool_]:
    """Arteries: TOF-bright structures, their walls at the local half maximum.

    The cores are the pieces above ``grow_fraction`` (connected through faces,
    edges and corners) that hold a voxel above ``seed_fraction`` or are thin round
    tubes (``_bright_pieces``).

    Parameters
    ----------
    tof : ndarray, float, shape (I, J, K)
        Registered TOF on the analysis grid.
    spacing : ndarray, shape (3,)
        Voxel size in mm.

    Returns
    -------
    ndarray of bool, shape (I, J, K)
    """
    tof = np.asarray(tof, np.float32)
    span = max(levels.artery - levels.tissue, 1e-6)
    rel = (tof - levels.tissue) / span
    core = _bright_pieces(rel, spacing, params)
    size = (
        np.maximum(np.round(params.half_max_window_mm / np.asarray(spacing)).astype(int), 1) * 2 + 1
    )
    local_peak = ndimage.maximum_filter(np.where(core, rel, 0.0), size=tuple(size))
    wall = rel >= 0.5 * local_peak
    mask = ndimage.binary_propagation(core & wall, mask=wall & (rel > 0.5 * params.grow_fraction))
    # the wall can cut a thin artery whose brightness dips along it into short pieces: a
    # piece is small when its bright piece is, not when the wall has cut it
    return _drop_small(mask | core, spacing, params.min_artery_mm3, full=True) & mask


def segment_veins(
    t2: NDArray[np.floating],
    t2_levels: T2Levels,
    tof: NDArray[np.floating],
    tof_lv: TofLevels,
    spacing: NDArray[np.float64],
    *,
    exclude: NDArray[np.bool_],
    peel: NDArray[np.bool_] | None = None,
    params: VesselParams = VesselParams(),
) -> NDArray[np.bool_]:
    """Veins: thin tubes darker than the CSF around them on T2, dark on TOF.

    Each voxel is judged on its own evidence, not by the connected piece it
    belongs to: a petrosal or transverse pontine vein touches the bone, the
    brain surface or a nerve somewhere along its course, and a test on the
    whole piece throws the vein away with the bone edge it touches. A vein
    voxel is

    - inside a dark tube: black top-hat (``nvc.intensity.tube_darkness``) with
      the half-width of the widest vessel, at least ``vein_tube_darkness``;
    - not bone: brighter than the bone level, and farther than
      ``bone_margin_mm`` from a bulky dark region (one that survives an
      opening by ``max_tube_radius_mm``: bone, air, the petrous apex);
    - dark on TOF: below ``vein_tof_fraction`` of the way from the CSF level
      to the stationary-tissue level (venous blood is saturated in TOF; a
      nerve is stationary tissue);
    - round in cross-section (``nvc.intensity.dark_tube_roundness``): the
      edge of the petrous bone and the dural folds are sheets. The roundness
      is also read with ``peel`` (the brainstem) at the CSF level, and the
      rounder of the two counts: a vein lying on the pons (the transverse
      pontine and pontomedullary veins) is as dark as the pons on T2, and the
      two together curve like a sheet; the part of a vein left outside the
      brainstem's mask can be a crescent;
    - not an artery, nerve or brain (``exclude``).

    The vein's wall is then placed half-way between its core and the CSF.

    Parameters
    ----------
    t2 : ndarray, float, shape (I, J, K)
        Normalised T2 (CSF = 1).
    t2_levels : T2Levels
        Levels of ``t2``.
    tof : ndarray, float, shape (I, J, K)
        Registered TOF on the same grid.
    tof_lv : TofLevels
        Levels of ``tof``.
    spacing : ndarray, float, shape (3,)
        Voxel size (mm) along i, j, k.
    exclude : ndarray, bool, shape (I, J, K)
        Voxels that cannot be vein (arteries, nerves, brainstem).
    peel : ndarray, bool, shape (I, J, K), optional
        Dark tissue that veins lie on (the brainstem), also taken as CSF for
        the roundness test (the rounder reading counts).
    params : VesselParams
        ``vein_tube_darkness``, ``max_tube_radius_mm``, ``bone_margin_mm``,
        ``vein_tof_fraction``, ``dark_core_fraction``, ``tube_scale_mm``,
        ``tube_roundness``, ``min_vein_mm3``.

    Returns
    -------
    ndarray of bool, shape (I, J, K)
    """
    t2 = np.asarray(t2, np.float32)
    tube = tube_darkness(t2, t2_levels, spacing, radius_mm=params.max_tube_radius_mm)
    dark = t2 < params.dark_core_fraction * t2_levels.tissue
    r = params.max_tube_radius_mm
    # bone continues beyond the field of view: erode with the outside counted as dark
    bulky = dilate_ellipsoid(erode_ellipsoid(dark, r, spacing, border_value=True), r, spacing)
    near_bone = distance_to_mask(bulky, spacing) <= params.bone_margin_mm
    tof_threshold = tof_lv.csf + params.vein_tof_fraction * (tof_lv.tissue - tof_lv.csf)
    core = (
        (tube >= params.vein_tube_darkness)
        & (t2 > t2_levels.bone_threshold)
        & ~near_bone
        & (np.asarray(tof) < tof_threshold)
        & ~exclude
    )
    # a wall half-way between a vessel's core and the CSF
    halfway = 0.5 * (t2_levels.dark + 1.0)
    core &= t2 < halfway
    roundness = dark_tube_roundness(t2, spacing, core, scale_mm=params.tube_scale_mm)
    if peel is not None and peel.any():
        # round against the pons, or against CSF with the pons taken away: read again where
        # the plain reading fails and the derivative kernels reach the pons (elsewhere the
        # peeled image is the plain one)
        reach = sigma_reach(params.tube_scale_mm / np.asarray(spacing, float))
        near_peel = ndimage.maximum_filter(peel, size=tuple(2 * reach + 1))
        again = core & (roundness < params.tube_roundness) & near_peel
        peeled = np.where(peel, np.float32(1.0), t2)
        roundness = np.maximum(
            roundness, dark_tube_roundness(peeled, spacing, again, scale_mm=params.tube_scale_mm)
        )
    core &= roundness >= params.tube_roundness
    if not core.any():
        return core
    wall = ndimage.binary_dilation(core) & (t2 < halfway) & ~exclude & ~near_bone
    return _drop_small(core | wall, spacing, params.min_vein_mm3)


def _bright_pieces(
    rel: NDArray[np.float32], spacing: NDArray[np.float64], params: VesselParams
) -> NDArray[np.bool_]:
    """Voxels above ``grow_fraction`` whose piece is seeded or a round tube.

    Pieces are connected through faces, edges and corners (``_FULL``): an artery
    thinner than a voxel on an oblique course runs through voxels that touch only at
    their edges or corners, and counted face by face it is specks.

    A piece is seeded where it holds a voxel above ``seed_fraction`` (the
    hysteresis of ``skimage.filters.apply_hysteresis_threshold``, with this
    connectivity, counted by bincount over the labelled voxels only). An unseeded piece of at least
    ``min_artery_mm3`` is a tube where most of its brighter half is round in
    cross-section at ``tube_scale_mm`` (``nvc.intensity.dark_tube_roundness``
    of the negated image) and it is brighter than what surrounds it
    (``_is_round_tube``); bright tissue and noise on it are neither.
    """
    low = min(params.grow_fraction, params.seed_fraction)
    above = rel > low
    labels, n = ndimage.label(above, structure=_FULL)
    keep = np.bincount(labels[rel > params.seed_fraction], minlength=n + 1) > 0
    sizes = np.bincount(labels[above], minlength=n + 1) * float(np.prod(spacing))
    unseeded = np.flatnonzero(~keep & (sizes >= params.min_artery_mm3))
    boxes = ndimage.find_objects(labels)
    for i in unseeded[unseeded > 0]:
        keep[i] = _is_round_tube(rel, labels, int(i), boxes[i - 1], spacing, params)
    out = np.zeros(rel.shape, bool)
    out[above] = keep[labels[above]]  # only the labelled voxels are looked up
    return out


def _is_round_tube(
    rel: NDArray[np.float32],
    labels: NDArray[np.int32],
    index: int,
    box: tuple[slice, ...] | None,
    spacing: NDArray[np.float64],
    params: VesselParams,
) -> bool:
    """Whether piece ``index`` stands out from its surroundings and is round in cross-section.

    Its brighter half's median is at least ``grow_fraction`` above the median of
    a shell one vessel diameter (``2 * tube_scale_mm``) around it (an artery
    is bright against CSF and tissue alike; a piece of noise on bright tissue
    is not), and most of that half is round at ``tube_scale_mm``.
    """
    if box is None:
        return False
    spacing = np.asarray(spacing, float)
    shell_mm = 2.0 * params.tube_scale_mm
    # the piece's box widened by the shell and the derivative kernels' reach: at the
    # piece's voxels the same values as on the whole grid
    reach = np.maximum(sigma_reach(params.tube_scale_mm / spacing), np.ceil(shell_mm / spacing)) + 1
    wide = widen_box(box, reach, rel.shape)
    part = rel[wide]
    piece = labels[wide] == index
    brighter = piece & (part >= np.median(part[piece]))
    around = ~piece & (distance_to_mask(piece, spacing) <= shell_mm)
    if (
        not around.any()
        or np.median(part[brighter]) - np.median(part[around]) < params.grow_fraction
    ):
        return False
    roundness = dark_tube_roundness(-part, spacing, brighter, scale_mm=params.tube_scale_mm)
    return bool(np.mean(roundness[brighter] >= params.tube_roundness) > 0.5)


def _drop_small(
    mask: NDArray[np.bool_], spacing: NDArray[np.float64], min_mm3: float, *, full: bool = False
) -> NDArray[np.bool_]:
    """``mask`` without its pieces smaller than ``min_mm3``.

    Pieces are face-connected, or with ``full`` connected also through edges and
    corners; they are counted and kept from the labels of the mask's own voxels
    (not the whole grid's).
    """
    labels, n = ndimage.label(mask, structure=_FULL if full else None)
    if n == 0:
        return mask
    voxel = float(np.prod(spacing))
    pieces = labels[mask]
    sizes = np.bincount(pieces, minlength=n + 1)[1 : n + 1] * voxel  # voxels of labels 1..n
    keep = np.zeros(n + 1, bool)
    keep[1:] = sizes >= min_mm3
    out = np.zeros(mask.shape, bool)
    out[mask] = keep[pieces]
    return out

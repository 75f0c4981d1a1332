"""Brainstem segmentation and the pontomedullary junction on a normalised T2.

Works on a T2 in closest-canonical orientation (array axes i, j, k pointing
closest to R, A, S; see ``nvc.volume.reorient_canonical``), so array slices
along k are close to axial. The brainstem is found where a radiologist finds
it: the most anterior tissue column on the midline, with CSF (or nothing)
in front of it, followed level by level, and cut laterally where it would run
into the cerebellar peduncles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, stats

from nvc.intensity import T2Levels


@dataclass(frozen=True)
class BrainstemParams:
    """Parameters of the brainstem search (mm).

    Attributes
    ----------
    midline_band_mm : float
        Half-width of the band around the midline scanned at each level.
    min_run_mm, max_run_mm : float
        Anteroposterior extent accepted for a brainstem level.
    lateral_ratio : float
        Lateral cut: half-width at most this times the AP half-length.
    max_step_mm : float
        Largest jump of the brainstem's centre between neighbouring levels.
    smoothing_voxels : float
        Gaussian pre-smoothing (voxels) before classifying tissue.
    floor_fraction : float
        Voxels darker than this fraction of the tissue level are bone or air.
    symmetry_weight_mm : float
        Weight (mm of column length) of the mirror symmetry about a candidate midline.
    dorsal_bend_mm : float
        The brainstem's dorsal surface on the midline (the dorsal medulla and
        the floor of the fourth ventricle, the rhomboid fossa) is close to a
        straight line along the brainstem; tissue more than this behind that
        line at a level is cerebellum (tonsils, vermis) fused to it where the
        CSF between them is not resolved, and is cut.
    """

    midline_band_mm: float = 2.0
    min_run_mm: float = 10.0
    max_run_mm: float = 38.0
    lateral_ratio: float = 1.35
    max_step_mm: float = 3.0
    smoothing_voxels: float = 0.6
    floor_fraction: float = 0.35
    symmetry_weight_mm: float = 40.0
    dorsal_bend_mm: float = 4.0


@dataclass(frozen=True)
class Brainstem:
    """Brainstem mask and landmarks, in the voxel grid it was found on.

    Attributes
    ----------
    mask : ndarray, bool, shape (I, J, K)
    midline_i : float
        Array index (axis i) of the mid-sagittal plane.
    center_j : ndarray, shape (K,)
        Anteroposterior centre (axis j index) per level, NaN where absent.
    half_ap_mm : ndarray, shape (K,)
        Anteroposterior half-length per level (mm), NaN where absent.
    pmj_index : ndarray, float, shape (3,)
        The pontomedullary junction: the point of the brainstem's axis at the
        waist between pons and medulla, voxel indices (i, j, k).
    axis : ndarray, float, shape (3,)
        The brainstem's axis, a unit vector in mm along (i, j, k) pointing up
        (tilted from axis k by the head's pose and the pons' forward bulge).
    """

    mask: NDArray[np.bool_]
    midline_i: float
    center_j: NDArray[np.float64]
    half_ap_mm: NDArray[np.float64]
    pmj_index: NDArray[np.float64]
    axis: NDArray[np.float64]

    @property
    def pmj_k(self) -> int:
        """Axial level (axis k) of the pontomedullary junction (``pmj_index``'s, in the grid)."""
        return int(np.clip(round(float(self.pmj_index[2])), 0, self.mask.shape[-1] - 1))


def lateral_direction(up: NDArray[np.float64]) -> NDArray[np.float64]:
    """The brainstem frame's lateral direction: grid axis i made perpendicular to ``up``.

    ``up`` is the brainstem's axis (unit, mm along i, j, k; ``Brainstem.axis``).
    Returns a unit vector, toward the patient's right on a closest-canonical grid.
    Heights in the brainstem's frame run along ``up``, lateral offsets along this.
    """
    across = np.array([1.0, 0.0, 0.0]) - up[0] * up
    return across / max(float(np.linalg.norm(across)), 1e-9)


def mirror_symmetry(norm: NDArray[np.float32]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Left-right mirror symmetry of the image about every plane i = c (half-voxel steps).

    Returns
    -------
    centers, scores : ndarray
        Candidate plane positions (index along axis i) and the normalised
        correlation between the axial mean image and its mirror image.
    """
    axial = np.clip(norm, 0, 1.5).mean(axis=2)  # (I, J)
    n = axial.shape[0]
    centers, scores = [], []
    for c2 in range(n // 2, 3 * n // 2 - 1):  # candidate plane at index c2 / 2
        lo = max(0, c2 - (n - 1))
        hi = min(n - 1, c2)
        if hi - lo + 1 < n // 2:
            continue
        a = axial[lo : hi + 1]
        b = axial[c2 - np.arange(lo, hi + 1)]
        a = a - a.mean()
        b = b - b.mean()
        centers.append(c2 / 2)
        scores.append(float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum() + 1e-12)))
    return np.array(centers), np.array(scores)


def find_midline(norm: NDArray[np.float32]) -> float:
    """Index along axis i of the best left-right mirror plane."""
    centers, scores = mirror_symmetry(norm)
    return float(centers[np.argmax(scores)]) if len(centers) else (norm.shape[0] - 1) / 2


def segment_brainstem(
    norm: NDArray[np.float32],
    levels: T2Levels,
    spacing: NDArray[np.float64],
    *,
    params: BrainstemParams = BrainstemParams(),
) -> Brainstem:
    """Segment the brainstem on a normalised, closest-canonical T2.

    Parameters
    ----------
    norm : ndarray, float32, shape (I, J, K)
        T2 normalised by ``nvc.intensity.normalize_t2`` (CSF = 1).
    spacing : ndarray, shape (3,)
        Voxel size along i, j, k in mm.

    Raises
    ------
    ValueError
        When no brainstem-like tissue column is found.
    """
    sp = np.asarray(spacing, float)
    smooth = ndimage.gaussian_filter(norm, params.smoothing_voxels)
    # permissive class for following the column: anything that is neither CSF nor bone/air,
    # so that dark fibre tracts inside a real brainstem do not break it
    tissue = (smooth > params.floor_fraction * levels.tissue) & (smooth < levels.csf_threshold)
    dark = smooth < levels.tissue_threshold
    n_k = norm.shape[2]
    # the best mirror plane alone can be fooled (one through a cerebellar hemisphere): follow
    # the tissue column on planes every 2 mm across the middle of the image and keep the best:
    # symmetric about it, long, anterior and reaching down to the medulla
    centers, symmetry = mirror_symmetry(norm)
    n_i = norm.shape[0]
    grid = np.arange(0.2 * n_i, 0.8 * n_i, max(2.0 / sp[0], 1.0))
    best = None
    best_plane = float(centers[np.argmax(symmetry)]) if len(centers) else (n_i - 1) / 2
    for mid in [best_plane, *grid]:  # find_midline's plane first
        center, _ = _column(tissue, mid, sp, params)
        keep = ~np.isnan(center)
        if not keep.any():
            continue
        first = int(np.argmax(keep))
        sym = float(np.interp(mid, centers, symmetry)) if len(centers) else 0.0
        score = (
            keep.sum() * sp[2]
            + 0.5 * float(np.nanmean(center)) * sp[1]
            - first * sp[2]
            + params.symmetry_weight_mm * sym
        )
        if best is None or score > best[0]:
            best = (score, float(mid))
    if best is None:
        raise ValueError("no brainstem found (no tissue column on the midline)")
    axis_i = np.full(n_k, best[1])
    # level-major copies (k, i, j): each level's section contiguous
    tissue_k, dark_k = (np.ascontiguousarray(np.moveaxis(m, 2, 0)) for m in (tissue, dark))
    # two passes: the second follows the brainstem's own (possibly tilted) axis
    for _ in range(2):
        mask_k, center, half, keep = _trace(tissue, tissue_k, dark_k, axis_i, sp, params)
        if keep.sum() * sp[2] < 8.0:
            raise ValueError("no brainstem found (no tissue column on the midline)")
        ks = np.flatnonzero(mask_k.any(axis=(1, 2)))
        if len(ks) < 3:
            break
        cx = np.array([np.argwhere(mask_k[k])[:, 0].mean() for k in ks])
        slope, intercept = np.polyfit(ks, cx, 1)
        axis_i = intercept + slope * np.arange(n_k)
    mask = np.ascontiguousarray(np.moveaxis(mask_k, 0, 2))
    # the midline where the brainstem is, its levels ``ks`` (the fitted axis extrapolated
    # far above or below it says nothing of the midline)
    mid = float(np.median(axis_i[ks])) if ks.size else float(np.median(axis_i))
    # opening and largest piece on the mask's bounding box plus a voxel (the same voxels)
    box = _bounding_box(mask, margin=1)
    opened = ndimage.binary_opening(mask[box], iterations=1)
    labels, n = ndimage.label(opened)
    if n == 0:
        raise ValueError("no brainstem found")
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]  # voxels per piece
    mask = np.zeros(mask.shape, bool)
    mask[box] = labels == (1 + int(np.argmax(sizes)))
    pmj, axis = _pontomedullary_junction(mask, sp)
    return Brainstem(
        mask=mask,
        midline_i=mid,
        center_j=center,
        half_ap_mm=half,
        pmj_index=pmj,
        axis=axis,
    )


def _bounding_box(mask: NDArray[np.bool_], *, margin: int) -> tuple[slice, ...]:
    """Index box of the True voxels widened by ``margin`` (clipped to the array); all if none."""
    box = []
    for axis in range(mask.ndim):
        present = np.flatnonzero(mask.any(axis=tuple(a for a in range(mask.ndim) if a != axis)))
        if present.size == 0:
            return tuple(slice(None) for _ in range(mask.ndim))
        box.append(slice(max(int(present[0]) - margin, 0), int(present[-1]) + margin + 1))
    return tuple(box)


def _trace(
    tissue: NDArray[np.bool_],
    tissue_k: NDArray[np.bool_],
    dark_k: NDArray[np.bool_],
    axis_i: NDArray[np.float64],
    sp: NDArray[np.float64],
    params: BrainstemParams,
) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Follow the most anterior midline tissue column level by level around ``axis_i``.

    ``tissue_k`` and ``dark_k`` are ``tissue`` and the dark voxels level-major,
    shape (K, I, J); so is the mask returned.
    """
    n_i, n_j, n_k = tissue.shape
    band = max(1, round(params.midline_band_mm / sp[0]))
    center, half = _column(tissue, axis_i, sp, params)
    keep = ~np.isnan(center)
    if keep.any():  # levels skipped inside the column are interpolated, not dropped
        ks = np.flatnonzero(keep)
        inside = np.arange(ks[0], ks[-1] + 1)
        center[inside] = np.interp(inside, ks, center[ks])
        half[inside] = np.interp(inside, ks, half[ks])
        keep[inside] = True
    center, half = _trim_fused_back(center, half, sp, params)
    mask_k = np.zeros((n_k, n_i, n_j), bool)
    jj = np.arange(n_j) * sp[1]
    for k in map(int, np.flatnonzero(keep)):
        i0 = round(axis_i[k])
        labels, _ = ndimage.label(tissue_k[k])
        j0 = round(center[k] - half[k] / sp[1] / 2)
        j1 = round(center[k] + half[k] / sp[1] / 2) + 1
        under = labels[max(0, i0 - band) : i0 + band + 1, max(0, j0) : j1]
        under = under[under > 0]
        xx = (np.arange(n_i) - axis_i[k]) * sp[0]
        across = (xx / (params.lateral_ratio * half[k])) ** 2
        along = ((jj - center[k] * sp[1]) / (1.08 * half[k])) ** 2
        # the ellipse ``across + along <= 1`` lies within the rows and columns where each term
        # alone is at most 1: only that box is evaluated
        box = (_span(across <= 1), _span(along <= 1))
        ellipse = across[box[0], None] + along[None, box[1]] <= 1
        section = np.zeros((n_i, n_j), bool)
        if under.size:
            section[box] = (labels[box] == np.bincount(under).argmax()) & ellipse
        else:
            section[box] = tissue_k[k][box] & ellipse
        section = _fill_holes(section)
        # dark voxels inside stay (fibre tracts); dark voxels on the surface go (nerves, vessels)
        mask_k[k] = _fill_holes(section & ~dark_k[k])
    return mask_k, center, half, keep


def _trim_fused_back(
    center: NDArray[np.float64],
    half: NDArray[np.float64],
    sp: NDArray[np.float64],
    params: BrainstemParams,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The column with its levels fused to the cerebellum behind cut back to its dorsal surface.

    ``center`` (j index) and ``half`` (AP half-length, mm) per level, NaN where
    absent. The column's posterior ends are fitted by a straight line along
    the levels with the repeated-median estimator (Siegel: it ignores up to
    half of the levels, however far off, where a least-squares or Theil-Sen
    line would follow a run of fused levels), and a level whose posterior end
    lies more than ``dorsal_bend_mm`` behind the line is cut to the line
    (keeping at least ``min_run_mm`` of depth); its anterior end stays.
    Tracking from below cannot see such a fusion where it starts at the
    lowest levels (the column is fused from its first level up, at the
    foramen magnum, where the tonsils lie against the medulla).
    """
    ks = np.flatnonzero(~np.isnan(center))
    if ks.size < 5:
        return center, half
    front = center[ks] * sp[1] + half[ks]  # mm along j
    back = center[ks] * sp[1] - half[ks]
    slope, intercept = stats.siegelslopes(back, ks * sp[2])
    line = intercept + slope * ks * sp[2]
    cut = back < line - params.dorsal_bend_mm
    if not cut.any():
        return center, half
    back = np.where(cut, np.minimum(line, front - params.min_run_mm), back)
    center, half = center.copy(), half.copy()
    center[ks] = 0.5 * (front + back) / sp[1]
    half[ks] = 0.5 * (front - back)
    return center, half


def _span(inside: NDArray[np.bool_]) -> slice:
    """The slice from the first to the last True of a 1D mask (empty when none is True)."""
    at = np.flatnonzero(inside)
    return slice(int(at[0]), int(at[-1]) + 1) if at.size else slice(0, 0)


def _fill_holes(section: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """``ndimage.binary_fill_holes`` of a 2D mask, on its bounding box plus a one-voxel border.

    The same result (the border ring is background, connected to the outside),
    at the cost of the box instead of the whole slice.
    """
    rows = np.flatnonzero(section.any(axis=1))
    if rows.size == 0:
        return section.copy()
    cols = np.flatnonzero(section.any(axis=0))
    box = (
        slice(max(int(rows[0]) - 1, 0), int(rows[-1]) + 2),
        slice(max(int(cols[0]) - 1, 0), int(cols[-1]) + 2),
    )
    out = np.zeros_like(section)
    out[box] = ndimage.binary_fill_holes(section[box])
    return out


def _column(
    tissue: NDArray[np.bool_],
    axis_i: NDArray[np.float64] | float,
    sp: NDArray[np.float64],
    params: BrainstemParams,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Centre (j index) and AP half-length (mm) per level of the tissue column at ``axis_i``."""
    n_i, n_j, n_k = tissue.shape
    axis = np.broadcast_to(np.asarray(axis_i, float), (n_k,))
    band = max(1, round(params.midline_band_mm / sp[0]))
    centre = np.round(axis).astype(int)  # round half to even, as round()
    inside = (centre >= 0) & (centre < n_i)
    # the band's majority per (j, k), one slab per distinct centre (one in all for a straight axis)
    columns = np.zeros((n_j, n_k), bool)
    for i0 in np.unique(centre[inside]):
        ks = np.flatnonzero(centre == i0)
        slab = tissue[max(0, i0 - band) : min(n_i, i0 + band + 1), :, :][:, :, ks]
        columns[:, ks] = slab.mean(axis=0) > 0.5
    runs = [_runs(columns[:, k], sp[1], params) if inside[k] else [] for k in range(n_k)]
    return _track_from_below(runs, sp, params)


def _runs(col: NDArray[np.bool_], step_mm: float, params: BrainstemParams) -> list[tuple[int, int]]:
    """Runs of tissue along j of brainstem-like length, most anterior (high j) first."""
    out = []
    padded = np.concatenate([[False], col, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        length = (stop - start) * step_mm
        if length >= params.min_run_mm and stop < len(col):
            out.append((int(start), int(stop - 1)))
    return sorted(out, key=lambda r: -r[1])


def _track_from_below(
    runs: list[list[tuple[int, int]]], sp: NDArray[np.float64], params: BrainstemParams
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Follow the brainstem upward: the longest column of midline tissue runs.

    From each starting level (its most anterior run of brainstem-like length),
    each level above continues the run whose anterior surface is nearest to the
    one below, until the column ends; the longest column wins.
    """
    n_k = len(runs)
    max_gap = max(1, round(3.0 / sp[2]))
    max_len = params.max_run_mm / sp[1]
    step = params.max_step_mm / sp[1] * max(sp[2], 0.5)
    best_c = np.full(n_k, np.nan)
    best_h = np.full(n_k, np.nan)
    best_n = 0
    for start in range(n_k):
        if best_n >= n_k - start:  # no column from here up can be longer than the best
            break
        first = [r for r in runs[start] if r[1] - r[0] + 1 <= max_len]
        if not first:
            continue
        center = np.full(n_k, np.nan)
        half = np.full(n_k, np.nan)
        a, b = first[0]
        length = b - a + 1
        center[start], half[start] = 0.5 * (a + b), 0.5 * length * sp[1]
        front, back = b, a
        gap = 0
        for k in range(start + 1, n_k):
            # follow the anterior surface; a run fused with the cerebellum behind it (no
            # fourth ventricle or cisterna magna visible there) lengthens suddenly and its
            # end jumps backward: it is cut to the length seen below. A run that lengthens
            # while its posterior surface stays where it was last seen is the pons
            # bulging forward above the pontomedullary sulcus, and is kept
            cands = [
                (abs(b - front), a, b) for a, b in runs[k] if abs(b - front) <= step * (gap + 1)
            ]
            if not cands:
                gap += 1
                if gap > max_gap:
                    break
                continue
            _, a, b = min(cands)
            jumped = a < back - step * (gap + 1)
            if b - a + 1 > max_len or (b - a + 1 > 1.4 * length and jumped):
                a = b - length + 1
            else:
                back = a
            length = b - a + 1
            front = b
            center[k], half[k] = 0.5 * (a + b), 0.5 * length * sp[1]
            gap = 0
        count = int(np.count_nonzero(~np.isnan(center)))
        if count > best_n:
            best_c, best_h, best_n = center, half, count
    return best_c, best_h


def _pontomedullary_junction(
    mask: NDArray[np.bool_], sp: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The point of the brainstem's axis at the waist between pons and medulla, and the axis.

    The axis is the line through the brainstem's centres within 12 mm of a
    first, axial guess of the waist; the waist is then sought on
    cross-sections perpendicular to it, not on axial slices: a head pitched or
    rolled in the scanner cuts the brainstem obliquely, which smears the axial
    waist by millimetres. Returns (point, voxel indices (i, j, k), shape (3,);
    axis, unit vector in mm along (i, j, k) pointing up, shape (3,)).
    """
    counts = mask.sum(axis=(0, 1)).astype(float)  # voxels per axial slice
    guess = _waist(counts * sp[0] * sp[1], float(sp[2]))
    half = round(12.0 / float(sp[2]))
    ks = np.arange(max(guess - half, 0), min(guess + half + 1, mask.shape[2]))
    area = counts[ks]
    use = area > 0
    up = np.array([0.0, 0.0, 1.0])
    if use.sum() < 3:
        i, j = np.argwhere(mask[:, :, guess]).mean(axis=0) if mask[:, :, guess].any() else (0, 0)
        return np.array([i, j, guess], float), up
    ii, jj = np.arange(mask.shape[0], dtype=float), np.arange(mask.shape[1], dtype=float)
    near = mask[:, :, ks]  # one copy of the slices near the guess
    ci = (near.sum(axis=1) * ii[:, None]).sum(axis=0)[use] / area[use] * sp[0]
    cj = (near.sum(axis=0) * jj[:, None]).sum(axis=0)[use] / area[use] * sp[1]
    z = ks[use] * sp[2]
    (bi, ai), (bj, aj) = np.polyfit(z, ci, 1), np.polyfit(z, cj, 1)
    axis = np.array([np.clip(bi, -1.0, 1.0), np.clip(bj, -1.0, 1.0), 1.0])  # at most 45 degrees
    axis /= np.linalg.norm(axis)
    z0 = guess * sp[2]
    centre = np.array([ai + bi * z0, aj + bj * z0, z0])
    step = float(sp.max())  # mm between cross-sections (finer ones alias the slices)
    h = (np.argwhere(mask) * sp - centre) @ axis
    lo = float(h.min())
    sections = np.bincount(((h - lo) / step).astype(int)).astype(float) * float(np.prod(sp)) / step
    waist = centre + (lo + (_waist(sections, step) + 0.5) * step) * axis
    return waist / sp, axis


def _waist(area: NDArray[np.float64], step_mm: float) -> int:
    """Index of the waist in a cross-section area profile (samples ``step_mm`` apart, upward).

    The smallest cross-section within 30 mm below the widest (the pons);
    without one, the steepest narrowing below it.
    """
    present = np.flatnonzero(area > 0)
    smooth = ndimage.gaussian_filter1d(area, max(1.0, 1.0 / step_mm))
    k_pons = int(present[0] + np.argmax(smooth[present]))
    below = np.arange(max(present[0], k_pons - int(30 / step_mm)), k_pons + 1)
    if len(below) < 3:
        return k_pons
    # the waist: the smallest cross-section below the pons' widest level
    inner = below[1:-1]
    local_min = [k for k in inner if smooth[k] <= smooth[k - 1] and smooth[k] <= smooth[k + 1]]
    if local_min:
        return int(max(local_min))
    # no waist inside the field of view: the steepest narrowing
    grad = np.gradient(smooth)
    return int(below[np.argmax(grad[below])])

"""Checks that a T2 and a TOF can be analysed at all, before any analysis is run.

Pure: Volumes in, ``InputRefused`` (a ``ValueError``) out, with one line that
names the input ("T2 (file.nii.gz)") and the reason. The command line turns it
into exit code 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc.volume import Volume

#: Thickest T2 slice (its largest voxel side, mm) that can show the facial nerve.
MAX_T2_SLICE_MM = 1.2
#: Why: the nerve is 1-2 mm thick; across thicker slices it falls into one or two
#: partial-volume slices and cannot be followed from the brainstem to the canal.
T2_SLICE_REASON = "a 1-2 mm facial nerve cannot be followed across thicker slices"
#: Thickest TOF slice (mm). A TOF only has to show the 2-4 mm arteries near the nerve
#: and is commonly acquired with 1.2-1.5 mm slices.
MAX_MRA_SLICE_MM = 2.0
#: Why: beyond 2 mm an AICA loop or a PICA near the nerve shrinks into one or two slices.
MRA_SLICE_REASON = "the arteries near the nerve shrink into one or two thicker slices"


class InputRefused(ValueError):
    """An input that loaded but cannot show what the analysis needs (one-line message)."""


@dataclass(frozen=True)
class InputCheckParams:
    """Limits of the input checks.

    Attributes
    ----------
    max_t2_voxel_mm : float
        Largest voxel side (mm) of the T2 (``MAX_T2_SLICE_MM``): the facial
        nerve is 1-2 mm thick; across thicker slices it falls into one or two
        partial-volume slices and cannot be followed from the brainstem to the
        internal auditory canal.
    max_mra_voxel_mm : float
        Largest voxel side (mm) of the TOF (``MAX_MRA_SLICE_MM``): a TOF only
        has to show the arteries (2-4 mm thick) near the nerve and is commonly
        acquired with 1.2-1.5 mm slices; beyond 2 mm an AICA loop or a PICA
        shrinks into one or two slices.
    min_fov_mm : float
        Smallest field of view (mm along every axis) of the T2, and of the
        T2-MRA overlap, that can hold the brainstem and a cerebellopontine angle.
    min_right_left_mm : float
        Smallest right-to-left span (mm) of the T2: both cerebellopontine
        angles, about 25 mm either side of the midline, are analysed.
    block_mm : float
        Side (mm) of the blocks the structure check judges one by one, so that
        a scene inside a large field of view of air noise is still seen.
    min_structure : float
        A block is structured when its voxels resemble their neighbours this
        much (1 minus the mean squared neighbour difference over twice the
        variance: about 0 for noise, near 1 for anatomy).
    min_scene_mm3 : float
        Structured blocks must add up to this volume (mm³, a 20 mm cube) or the
        image is refused as noise.
    bright_of_peak : float
        A voxel is bright when above this fraction of the scene's 99.9th percentile.
    min_t2_bright : float
        A heavily T2-weighted image has at least this fraction of bright (CSF)
        voxels in its scene.
    swapped_t2_bright, swapped_mra_bright : float
        A T2 under ``swapped_t2_bright`` bright together with an MRA over
        ``swapped_mra_bright`` bright are taken as swapped inputs.
    max_mra_bright, min_mra_contrast : float
        A TOF's bright voxels (arteries, some fat) fill less than
        ``max_mra_bright`` of its scene, or its 99.9th percentile (the
        arteries) is at least ``min_mra_contrast`` times its scene's median
        (the background tissue). An MRA failing both is refused: it shows no
        vessels. One alone is not enough: the noise of a 1.5 T TOF lifts its
        background over the bright level (16 % bright on a wide-variety
        phantom at SNR 8) while its arteries still stand 3.5× above the median.
    max_similarity : float
        T2 and MRA sampled at the same world points that correlate this much
        (Pearson) are the same image given twice (or nearly so).
    """

    max_t2_voxel_mm: float = MAX_T2_SLICE_MM
    max_mra_voxel_mm: float = MAX_MRA_SLICE_MM
    min_fov_mm: float = 20.0
    min_right_left_mm: float = 50.0
    block_mm: float = 16.0
    min_structure: float = 0.3
    min_scene_mm3: float = 8000.0
    bright_of_peak: float = 0.5
    min_t2_bright: float = 0.05
    swapped_t2_bright: float = 0.08
    swapped_mra_bright: float = 0.15
    max_mra_bright: float = 0.08
    min_mra_contrast: float = 2.5
    max_similarity: float = 0.9


def check_inputs(t2: Volume, mra: Volume, *, params: InputCheckParams | None = None) -> None:
    """Refuse inputs that cannot be analysed, with the reason and the input named.

    Parameters
    ----------
    t2, mra : Volume
        The heavily T2-weighted image and the TOF angiogram; their
        ``metadata["source_name"]`` (when set) names them in the messages.
    params : InputCheckParams, optional
        Limits (defaults when omitted).

    Raises
    ------
    InputRefused
        Constant or empty images; noise-only images (no structured block);
        a T2 voxel side over ``max_t2_voxel_mm`` or a TOF one over
        ``max_mra_voxel_mm``; a T2 field of view under ``min_fov_mm`` or
        narrower than ``min_right_left_mm``; images that do not overlap or
        overlap over less than ``min_fov_mm``; the same image given twice;
        a T2 and an MRA that look swapped; a T2 without bright CSF; an MRA
        without bright vessels against its background.
    """
    p = params or InputCheckParams()
    t2_name, mra_name = input_name("T2", t2), input_name("MRA", mra)
    for name, vol in ((t2_name, t2), (mra_name, mra)):
        a = vol.array
        if a.size == 0 or float(np.ptp(a)) == 0.0:
            raise InputRefused(f"{name} image is empty or constant")
    _check_voxel_size(t2_name, t2, p.max_t2_voxel_mm, T2_SLICE_REASON)
    _check_voxel_size(mra_name, mra, p.max_mra_voxel_mm, MRA_SLICE_REASON)
    scenes = {}
    for name, vol in ((t2_name, t2), (mra_name, mra)):
        scene = structured_blocks(vol, block_mm=p.block_mm, min_structure=p.min_structure)
        whole_mm3 = float(np.prod(np.asarray(vol.shape) * vol.spacing))
        if scene.volume_mm3 < min(p.min_scene_mm3, 0.5 * whole_mm3):
            raise InputRefused(f"{name} image looks like noise (no spatial structure)")
        scenes[name] = scene
    fov = np.asarray(t2.shape) * t2.spacing
    if np.any(fov < p.min_fov_mm):
        raise InputRefused(
            f"{t2_name} field of view {_mm(fov)} mm is too small to hold the brainstem and the"
            f" cerebellopontine angles (at least {p.min_fov_mm:.0f} mm along every axis)"
        )
    lo, hi = t2.world_bounds()
    if hi[0] - lo[0] < p.min_right_left_mm:
        raise InputRefused(
            f"{t2_name} spans only {hi[0] - lo[0]:.0f} mm from right to left; both"
            f" cerebellopontine angles and the brainstem between them need at least"
            f" {p.min_right_left_mm:.0f} mm"
        )
    overlap = _overlap_extent_mm(t2, mra)
    if overlap is None:
        raise InputRefused(
            f"{t2_name} and {mra_name} do not overlap in space (different patients or regions?)"
        )
    if np.any(overlap < p.min_fov_mm):
        raise InputRefused(
            f"{t2_name} and {mra_name} overlap over only {_mm(overlap)} mm (at least"
            f" {p.min_fov_mm:.0f} mm along every axis is needed; an MRA of another region?)"
        )
    similarity = image_similarity(t2, mra)
    if similarity >= p.max_similarity:
        raise InputRefused(
            f"{mra_name} is the same image as {t2_name} or nearly so (correlation"
            f" {similarity:.2f}, at most {p.max_similarity:.2f} between a T2 and a TOF):"
            " choose the TOF angiogram as the MRA"
        )
    t2_values, mra_values = scenes[t2_name].values, scenes[mra_name].values
    t2_bright = bright_fraction(t2_values, p.bright_of_peak)
    mra_bright = bright_fraction(mra_values, p.bright_of_peak)
    if t2_bright < p.swapped_t2_bright and mra_bright > p.swapped_mra_bright:
        raise InputRefused(
            f"inputs look swapped: the T2 ({t2_name}) looks like an angiogram and the MRA"
            f" ({mra_name}) like a T2"
        )
    if t2_bright < p.min_t2_bright:
        raise InputRefused(
            f"{t2_name} has no bright CSF: not a heavily T2-weighted (CISS/FIESTA) image"
        )
    contrast = vessel_contrast(mra_values)
    # both signs together: a noisy 1.5 T TOF lifts its background (many bright voxels) and
    # still shows its arteries far above the median; a TOF without vessels has neither
    if mra_bright >= p.max_mra_bright and contrast < p.min_mra_contrast:
        raise InputRefused(
            f"{mra_name} shows no bright vessels against its background (bright voxels fill"
            f" {100 * mra_bright:.0f}% of it, peak {contrast:.1f}× the median; a TOF: under"
            f" {100 * p.max_mra_bright:.0f}% or at least {p.min_mra_contrast:.1f}×):"
            " not a time-of-flight angiogram"
        )


def input_name(role: str, vol: Volume) -> str:
    """How an input is named in a refusal: ``"T2 (file.nii.gz)"``, or the role alone.

    Parameters
    ----------
    role : str
        ``"T2"`` or ``"MRA"``.
    vol : Volume
        The input; its ``metadata["source_name"]`` names the file when set.

    Returns
    -------
    str
    """
    source = vol.metadata.get("source_name")
    return f"{role} ({source})" if source else role


#: Voxel sides within this of a limit are at the limit (mm; headers store float32 sizes:
#: a 1.2 mm slice reads back as 1.2000000477 mm).
SIZE_TOLERANCE_MM = 0.005


def _check_voxel_size(name: str, vol: Volume, limit_mm: float, reason: str) -> None:
    side = float(np.max(vol.spacing))
    if side > limit_mm + SIZE_TOLERANCE_MM:
        raise InputRefused(
            f"{name} has {side:.2f} mm slices (voxel {_mm(vol.spacing, 2)} mm; at most"
            f" {limit_mm:.1f} mm along every axis: {reason})"
        )


def _mm(extent: NDArray[np.float64], decimals: int = 0) -> str:
    return "×".join(f"{v:.{decimals}f}" for v in extent)


def _overlap_extent_mm(t2: Volume, mra: Volume, n: int = 32) -> NDArray[np.float64] | None:
    """Extent (mm along the T2's voxel axes) of the part of the T2 grid inside the MRA grid.

    Sampled on ``n`` points per axis; None when no sample falls inside the MRA.
    """
    ijk = _sample_grid(t2, n)
    inside = _inside(mra, mra.world_to_voxel(t2.voxel_to_world(ijk)))
    if not inside.any():
        return None
    step = np.asarray(
        [(size - 1.0) / (min(n, size) - 1.0) if size > 1 else 1.0 for size in t2.shape]
    )
    return (np.ptp(ijk[inside], axis=0) + step) * t2.spacing


def _sample_grid(vol: Volume, n: int) -> NDArray[np.float64]:
    axes = [np.linspace(0.0, size - 1.0, min(n, size)) for size in vol.shape]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)


def _inside(vol: Volume, ijk: NDArray[np.float64]) -> NDArray[np.bool_]:
    return np.all((ijk >= -0.5) & (ijk <= np.asarray(vol.shape) - 0.5), axis=1)


def image_similarity(t2: Volume, mra: Volume, n: int = 40) -> float:
    """Pearson correlation of the two images at the same world points.

    About 1 for the same image given twice (on any grid), low or negative for a
    T2 and a TOF of one head (CSF is bright on one, dark on the other).

    Parameters
    ----------
    t2, mra : Volume
        The two inputs, each on its own grid (RAS+ mm affines).
    n : int
        Sample points per axis of the T2 grid (``n**3`` points, linear interpolation).

    Returns
    -------
    float
        Correlation in -1..1 over the points both images cover.
    """
    ijk = _sample_grid(t2, n)
    at = mra.world_to_voxel(t2.voxel_to_world(ijk))
    inside = _inside(mra, at)
    if inside.sum() < 100:
        return 0.0
    # interpolated in float64 from the stored values and returned as float32 (the values of a
    # float32 copy of each image, without the copies)
    u = ndimage.map_coordinates(t2.array, ijk[inside].T, output=np.float32, order=1, mode="nearest")
    v = ndimage.map_coordinates(mra.array, at[inside].T, output=np.float32, order=1, mode="nearest")
    if u.std() == 0 or v.std() == 0:
        return 0.0
    return float(np.corrcoef(u, v)[0, 1])


@dataclass(frozen=True)
class Scene:
    """The structured part of an image: its blocks' total volume and a sample of its voxels."""

    volume_mm3: float
    values: NDArray[np.float32]


def structured_blocks(vol: Volume, *, block_mm: float, min_structure: float) -> Scene:
    """Blocks of about ``block_mm`` whose voxels resemble their neighbours (not noise).

    Each block is judged alone: a scene inside a large field of view of air
    noise has structured blocks, pure noise none. Constant blocks (a zero
    background) are not structure either.

    Parameters
    ----------
    vol : Volume
        Any image (its array, axes i, j, k, and voxel size in mm).
    block_mm : float
        Block side in mm (at least 2 voxels per axis).
    min_structure : float
        Lowest neighbour agreement (0-1) of a structured block.

    Returns
    -------
    Scene
        Total volume of the structured blocks (mm³) and a sample of their voxel
        values (float32, 1D).
    """
    a = np.asarray(vol.array)
    block = np.maximum(2, np.round(block_mm / vol.spacing).astype(int))
    block = np.minimum(block, a.shape)
    (b0, b1, b2), (c0, c1, c2) = block.tolist(), (np.asarray(a.shape) // block).tolist()
    # a view (c0, b0, c1, b1, c2, b2) of the whole blocks: splitting axes never copies
    blocks = a[: c0 * b0, : c1 * b1, : c2 * b2].reshape(c0, b0, c1, b1, c2, b2)
    slab = np.empty((c1, c2, b0, b1, b2), np.float32)  # one slab of blocks, each contiguous
    structured = 0
    values = []
    for i in range(c0):
        np.copyto(slab, blocks[i].transpose(1, 3, 0, 2, 4), casting="unsafe")
        keep = _block_structure(slab) >= min_structure
        structured += int(keep.sum())
        if keep.any():
            chosen = blocks[i].transpose(1, 3, 0, 2, 4)[keep]
            values.append(chosen.reshape(-1)[:: max(1, chosen.size // 20_000)].astype(np.float32))
    voxel_mm3 = float(np.prod(vol.spacing))
    sample = np.concatenate(values) if values else np.zeros(0, np.float32)
    return Scene(structured * float(np.prod(block)) * voxel_mm3, sample.astype(np.float32))


def _block_structure(slab: NDArray[np.float32]) -> NDArray[np.float64]:
    """Per block of a slab (shape (c1, c2, b0, b1, b2)): 1 - mean squared neighbour step / 2 var.

    About 0 for white noise (a step has twice the variance), near 1 for smooth
    anatomy; 0 for constant blocks (a zero background is no structure). Each
    block is contiguous, its sums of squares are taken in float64 without a
    float64 copy of the slab (``einsum``); ``slab`` is centred in place.
    """
    c1, c2 = slab.shape[:2]
    slab -= slab.mean(axis=(2, 3, 4), keepdims=True)
    flat = slab.reshape(c1 * c2, -1)
    var = np.einsum("ij,ij->i", flat, flat, dtype=np.float64) / flat.shape[1]
    steps = np.zeros_like(var)
    axes = [axis for axis in (2, 3, 4) if slab.shape[axis] > 1]
    for axis in axes:
        step = np.diff(slab, axis=axis).reshape(c1 * c2, -1)
        steps += np.einsum("ij,ij->i", step, step, dtype=np.float64) / step.shape[1]
    steps /= max(len(axes), 1)
    out = np.zeros_like(var)
    varying = var > 0
    out[varying] = 1.0 - steps[varying] / (2.0 * var[varying])
    return out.reshape(c1, c2)


def bright_fraction(values: NDArray[np.float32], of_peak: float) -> float:
    """Fraction of ``values`` above ``of_peak`` times their 99.9th percentile.

    Large on a CISS/FIESTA (CSF is the brightest tissue and fills the cisterns),
    small on a TOF angiogram (only the arteries are that bright).

    Parameters
    ----------
    values : ndarray of float32, shape (N,)
        Voxel values of the structured part of an image.
    of_peak : float
        Threshold as a fraction of the 99.9th percentile.

    Returns
    -------
    float
        0-1.
    """
    if values.size == 0:
        return 0.0
    return float(np.mean(values > of_peak * np.percentile(values, 99.9)))


def vessel_contrast(values: NDArray[np.float32]) -> float:
    """99.9th percentile over the median (how far the brightest voxels stand out).

    Parameters
    ----------
    values : ndarray of float32, shape (N,)
        Voxel values of the structured part of an image.

    Returns
    -------
    float
        The ratio (dimensionless); large on a TOF angiogram.
    """
    if values.size == 0:
        return 0.0
    median = float(np.median(values))
    peak = float(np.percentile(values, 99.9))
    return peak / median if median > 0 else float("inf")

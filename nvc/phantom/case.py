"""A whole phantom case: T2 and TOF images on their own grids, labels and truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from nvc.phantom.anatomy import Anatomy, build_anatomy
from nvc.phantom.params import GridOrientation, PhantomParams, Variety, draw_params
from nvc.phantom.render import acquire, render
from nvc.phantom.truth import PhantomTruth, measure_truth
from nvc.volume import Volume, apply_affine

#: Axis directions (columns: world direction of array axes i, j, k) of each grid orientation.
_BASES: dict[str, NDArray[np.float64]] = {
    "RAS": np.eye(3),
    "LPS": np.diag([-1.0, -1.0, 1.0]),
    "coronal": np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]).T,
    "sagittal": np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]).T,
}
#: Field-of-view box of the T2 and the (larger) TOF, anatomical mm: (lo, hi).
T2_BOX = (np.array([-40.0, -34.0, -24.0]), np.array([40.0, 26.0, 24.0]))
MRA_BOX = (np.array([-46.0, -38.0, -30.0]), np.array([46.0, 32.0, 28.0]))


@dataclass(frozen=True)
class PhantomCase:
    """One synthetic patient.

    Attributes
    ----------
    t2 : Volume
        Heavily T2-weighted image (CISS-like; FIESTA- or SPACE-like in the wide
        variety), int16.
    mra : Volume
        TOF-like angiogram on its own grid, misregistered by ``truth.t2_to_mra``.
    labels : Volume
        Truth label map on the T2 grid (``nvc.labels.Label``), uint8.
    truth : PhantomTruth
    anatomy : Anatomy
        The geometry, for rendering truth on other grids.
    anat_to_world : ndarray, shape (4, 4)
        Anatomical frame to T2 world (RAS mm).
    """

    t2: Volume
    mra: Volume
    labels: Volume
    truth: PhantomTruth
    anatomy: Anatomy
    anat_to_world: NDArray[np.float64]


def make_case(params: PhantomParams | int, variety: Variety = "standard") -> PhantomCase:
    """Build a phantom case from parameters (or from a seed through ``draw_params``).

    ``variety`` ("standard" or "wide") is used only with a seed: parameters carry
    their own variety (``PhantomParams.wide``).
    """
    if isinstance(params, int):
        params = draw_params(params, variety)
    im = params.imaging
    w = params.wide
    # point spread sigma in voxels (the standard variety: 0.5 on both)
    t2_blur, mra_blur = (0.5, 0.5) if w is None else (w.t2_blur_vox, w.mra_blur_vox)
    anatomy = build_anatomy(params)
    anat_to_world = _rigid(im.head_rotation_deg, im.head_offset_mm, center=np.zeros(3))
    t2_box = _box(T2_BOX, im.t2_fov_mm)
    mra_box = _box(MRA_BOX, im.mra_fov_mm)
    box_center = apply_affine(anat_to_world, 0.5 * (T2_BOX[0] + T2_BOX[1]))
    t2_to_mra = _rigid(im.misregistration_deg, im.misregistration_mm, center=box_center)

    t2_affine, t2_shape = _grid(
        anat_to_world, t2_box, im.t2_spacing_mm, im.t2_orientation, im.t2_oblique_deg
    )
    t2_r = render(anatomy, t2_affine, t2_shape, np.linalg.inv(anat_to_world).astype(np.float64), im)
    anat_to_mra = t2_to_mra @ anat_to_world
    mra_affine, mra_shape = _grid(
        anat_to_mra, mra_box, im.mra_spacing_mm, im.mra_orientation, im.mra_oblique_deg
    )
    mra_r = render(
        anatomy, mra_affine, mra_shape, np.linalg.inv(anat_to_mra).astype(np.float64), im
    )

    rng = np.random.default_rng([params.seed, 7])
    t2 = acquire(
        t2_r.t2,
        t2_affine,
        snr=im.t2_snr,
        gain=im.t2_gain,
        bias_strength=im.bias_strength,
        rng=rng,
        blur_vox=t2_blur,
    )
    tof = acquire(
        mra_r.tof,
        mra_affine,
        snr=im.mra_snr,
        gain=im.mra_gain,
        bias_strength=im.bias_strength,
        rng=rng,
        blur_vox=mra_blur,
    )
    truth = measure_truth(anatomy, params, anat_to_world, t2_to_mra)
    return PhantomCase(
        t2=Volume(
            t2,
            t2_affine,
            {
                "sequence": f"{params.contrast} (phantom)",
                "modality": "T2w",
                "phantom_seed": params.seed,
            },
        ),
        mra=Volume(
            tof,
            mra_affine,
            {"sequence": "3D TOF (phantom)", "modality": "angio", "phantom_seed": params.seed},
        ),
        labels=Volume(t2_r.labels, t2_affine, {"kind": "truth labels"}),
        truth=truth,
        anatomy=anatomy,
        anat_to_world=anat_to_world,
    )


def _box(
    default: tuple[NDArray[np.float64], NDArray[np.float64]],
    fov_mm: tuple[float, float, float] | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The default box, or one of extent ``fov_mm`` about the same centre."""
    if fov_mm is None:
        return default
    center = 0.5 * (default[0] + default[1])
    half = 0.5 * np.asarray(fov_mm, float)
    return center - half, center + half


def _rigid(angles_deg, offset_mm, *, center: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rotation about ``center`` followed by a translation, 4x4."""
    m = np.eye(4)
    r = Rotation.from_euler("xyz", angles_deg, degrees=True).as_matrix()
    m[:3, :3] = r
    m[:3, 3] = center - r @ center + np.asarray(offset_mm, float)
    return m


def _grid(anat_to_world, box, spacing, orientation: GridOrientation, oblique_deg):
    """Affine and shape of a grid covering an anatomical box."""
    axes = Rotation.from_euler("xyz", oblique_deg, degrees=True).as_matrix() @ _BASES[orientation]
    spacing = np.asarray(spacing, float)
    lo, hi = box
    half = 0.5 * (hi - lo)
    center = apply_affine(anat_to_world, 0.5 * (lo + hi))
    rot = anat_to_world[:3, :3]
    # extent of the rotated box along each grid axis
    extent = 2.0 * np.abs(axes.T @ rot) @ half
    shape = tuple(int(np.ceil(e / s)) + 1 for e, s in zip(extent, spacing, strict=True))
    affine = np.eye(4)
    affine[:3, :3] = axes * spacing
    affine[:3, 3] = center - affine[:3, :3] @ ((np.array(shape) - 1) / 2.0)
    return affine, shape

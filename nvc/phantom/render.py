"""Rendering phantom geometry onto voxel grids: labels, partial volume, T2 and TOF contrast."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nvc.labels import Label
from nvc.phantom import curves
from nvc.phantom.anatomy import Anatomy, Tube
from nvc.phantom.params import ImagingParams
from nvc.volume import spacing_of


@dataclass(frozen=True)
class Rendered:
    """Label map and contrast images of one grid.

    Attributes
    ----------
    labels : ndarray, shape (I, J, K), uint8
        Structure whose interior holds each voxel centre (``nvc.labels.Label``).
    t2, tof : ndarray, shape (I, J, K), float32
        Noise-free relative intensities (partial volume included).
    """

    labels: NDArray[np.uint8]
    t2: NDArray[np.float32]
    tof: NDArray[np.float32]


def grid_points(
    affine: NDArray[np.float64], shape: tuple[int, int, int], to_anat: NDArray[np.float64]
) -> NDArray[np.float32]:
    """Anatomical coordinates (mm) of every voxel centre, shape (I*J*K, 3), C order."""
    m = to_anat @ affine
    idx = [np.arange(n, dtype=np.float32) for n in shape]
    out = np.empty((*shape, 3), dtype=np.float32)
    for r in range(3):
        out[..., r] = (
            m[r, 0] * idx[0][:, None, None]
            + m[r, 1] * idx[1][None, :, None]
            + m[r, 2] * idx[2][None, None, :]
            + m[r, 3]
        )
    return out.reshape(-1, 3)


def _structures(
    anatomy: Anatomy,
    index_to_anat: NDArray[np.float64],
    shape: tuple[int, int, int],
    reach: float,
    imaging: ImagingParams,
) -> Iterator[tuple[NDArray[np.float32], int, float, float]]:
    """Yield (sdf, label, T2 intensity, TOF intensity) in decreasing priority, sdf flat."""
    im = imaging

    def tube_sdf(t: Tube) -> NDArray[np.float32]:
        return curves.tube_sdf(
            t.curve, t.radius, index_to_mm=index_to_anat, shape=shape, reach=reach
        ).ravel()

    pts = grid_points(index_to_anat, shape, np.eye(4))
    for tube in anatomy.tubes:
        if tube.vessel_class == "artery":
            tof = 1.0 if tube.vessel_name in ("BA", "VA") else 0.85
            yield tube_sdf(tube), Label.ARTERY, im.t2_vessel, tof
    for tube in anatomy.tubes:
        if tube.vessel_class == "vein":
            yield (
                tube_sdf(tube),
                Label.VEIN,
                im.t2_vessel * 1.4,
                im.mra_csf * 0.8,
            )
    for tube in anatomy.tubes:
        if tube.vessel_class is None:
            yield (
                tube_sdf(tube),
                tube.label,
                im.t2_nerve,
                im.mra_tissue * 0.9,
            )
    canal_sdf = np.full(len(pts), np.inf, np.float32)
    for canal in anatomy.canals.values():
        canal_sdf = np.minimum(
            canal_sdf, _capsule_sdf(pts, canal.porus, canal.axis, canal.length, canal.radius)
        )
    yield canal_sdf, Label.CSF, 1.0, im.mra_csf
    yield _bone_sdf(anatomy, pts), Label.BACKGROUND, 0.03, 0.04
    yield (
        anatomy.brainstem_sdf(pts).astype(np.float32),
        Label.BRAINSTEM,
        im.t2_tissue,
        im.mra_tissue,
    )
    cereb = np.min([e.sdf(pts) for e in anatomy.cerebellum], axis=0).astype(np.float32)
    yield cereb, Label.BACKGROUND, im.t2_tissue * 1.12, im.mra_tissue * 1.05


def _capsule_sdf(pts, start, axis, length, radius):
    rel = pts - start.astype(np.float32)
    t = np.clip(rel @ axis.astype(np.float32), 0.0, length)
    return (np.linalg.norm(rel - t[:, None] * axis.astype(np.float32), axis=1) - radius).astype(
        np.float32
    )


def _bone_sdf(anatomy: Anatomy, pts: NDArray[np.float32]) -> NDArray[np.float32]:
    """Bone: outside the posterior fossa, the clivus and both petrous pyramids."""
    outside = -anatomy.fossa.sdf(pts)
    clivus = anatomy.clivus_y - (pts[:, 1] - 0.25 * pts[:, 2])
    bone = np.minimum(outside, clivus)
    for canal in anatomy.canals.values():
        face = -((pts - canal.porus) @ canal.axis) + 0.6
        back = (canal.porus[1] - 14.0) - pts[:, 1]
        top = pts[:, 2] - (canal.porus[2] + 12.0)
        petrous = np.maximum(np.maximum(face, back), top)
        bone = np.minimum(bone, petrous)
    return bone.astype(np.float32)


def render(
    anatomy: Anatomy,
    affine: NDArray[np.float64],
    shape: tuple[int, int, int],
    to_anat: NDArray[np.float64],
    imaging: ImagingParams,
) -> Rendered:
    """Render labels and noise-free partial-volume T2 and TOF contrast on a grid.

    Parameters
    ----------
    affine : ndarray, shape (4, 4)
        Grid voxel indices to world mm.
    to_anat : ndarray, shape (4, 4)
        World mm to the anatomical frame.
    """
    h = float(np.exp(np.mean(np.log(spacing_of(affine)))))
    n = int(np.prod(shape))
    remaining = np.ones(n, np.float32)
    t2 = np.zeros(n, np.float32)
    tof = np.zeros(n, np.float32)
    labels = np.full(n, 255, np.uint8)
    for sdf, label, i_t2, i_tof in _structures(anatomy, to_anat @ affine, shape, h, imaging):
        frac = np.clip(0.5 - sdf / h, 0.0, 1.0) * remaining
        t2 += frac * i_t2
        tof += frac * i_tof
        remaining -= frac
        labels[(sdf < 0) & (labels == 255)] = label
    t2 += remaining * 1.0
    tof += remaining * imaging.mra_csf
    labels[labels == 255] = Label.CSF
    return Rendered(labels.reshape(shape), t2.reshape(shape), tof.reshape(shape))


def acquire(
    image: NDArray[np.float32],
    affine: NDArray[np.float64],
    *,
    snr: float,
    gain: float,
    bias_strength: float,
    rng: np.random.Generator,
    blur_vox: float = 0.5,
) -> NDArray[np.int16]:
    """Blur (voxel point spread), bias field, Rician noise and scanner integer scaling.

    Noise sigma is ``1 / snr`` of the brightest tissue (relative intensity 1);
    ``blur_vox`` is the point spread's Gaussian sigma in voxels.
    """
    img = ndimage.gaussian_filter(image, sigma=blur_vox, mode="nearest")
    shape = img.shape
    coords = np.meshgrid(
        *[np.linspace(-1.0, 1.0, n, dtype=np.float32) for n in shape], indexing="ij"
    )
    c = rng.normal(0.0, 1.0, 7).astype(np.float32)
    field = (
        c[0] * coords[0]
        + c[1] * coords[1]
        + c[2] * coords[2]
        + 0.5
        * (
            c[3] * coords[0] * coords[1]
            + c[4] * coords[1] * coords[2]
            + c[5] * coords[0] ** 2
            + c[6] * coords[2] ** 2
        )
    )
    field *= bias_strength / max(float(np.abs(field).max()), 1e-6)
    img = img * np.exp(field)
    mag = rician(img, 1.0 / snr, rng, dtype=np.float32)
    return np.clip(np.round(mag * gain), 0, 32767).astype(np.int16)


def rician(
    signal: NDArray[np.floating],
    sigma: float,
    rng: np.random.Generator,
    *,
    dtype: type[np.floating] = np.float64,
) -> NDArray[np.floating]:
    """Magnitude image: the signal plus complex Gaussian noise of standard deviation ``sigma``.

    The real part's noise is drawn before the imaginary part's, each as ``dtype``
    (the magnitude of an MR image is Rician-distributed: a noise floor of about
    1.25 ``sigma`` where there is no signal).
    """
    real = signal + rng.normal(0.0, sigma, signal.shape).astype(dtype)
    imag = rng.normal(0.0, sigma, signal.shape).astype(dtype)
    return np.sqrt(real * real + imag * imag)

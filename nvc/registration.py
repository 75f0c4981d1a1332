"""Rigid registration of the TOF angiogram to the T2 (SimpleITK, Mattes mutual information)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import SimpleITK as sitk
from numpy.typing import NDArray

from nvc.volume import RAS_TO_LPS, Volume, crop_world, to_sitk


@dataclass(frozen=True)
class RegistrationParams:
    """Parameters of the rigid MRA-to-T2 registration.

    Attributes
    ----------
    shrink_factors, smoothing_mm : tuple
        Multi-resolution pyramid (coarse to fine); smoothing sigmas in mm.
    histogram_bins : int
        Mattes mutual information bins.
    sampling_fraction : float
        Fraction of fixed-image voxels sampled per iteration.
    max_samples : int
        At most this many fixed-image samples per level (the fraction applies
        below it): a clinical-size T2 needs no more samples than a small one.
    iterations : int
        Optimizer iterations per level.
    learning_rate, refine_learning_rate : float
        First step of the optimizer at the coarsest level, and at the finer
        levels (which start close to the answer).
    min_step : float
        The optimizer stops at a step this small.
    working_spacing_mm : float
        Voxels finer than this are averaged in blocks (``sitk.BinShrink``, a
        whole factor per axis: ``floor(working_spacing_mm / spacing)``) before
        registering; 0.35 mm TOF voxels become 0.7 mm, 0.5 mm T2 voxels stay.
    moving_margin_mm : float
        The moving image is cropped to the fixed image's world box widened by
        this margin (a misregistration larger than it is not expected).
    """

    shrink_factors: tuple[int, ...] = (4, 2, 1)
    smoothing_mm: tuple[float, ...] = (1.5, 0.8, 0.0)
    histogram_bins: int = 40
    sampling_fraction: float = 0.08
    max_samples: int = 200_000
    iterations: int = 120
    learning_rate: float = 1.0
    refine_learning_rate: float = 0.25
    min_step: float = 1e-3
    seed: int = 17
    working_spacing_mm: float = 0.7
    moving_margin_mm: float = 15.0


@dataclass(frozen=True)
class RegistrationResult:
    """Outcome of the registration.

    Attributes
    ----------
    t2_to_mra : ndarray, shape (4, 4)
        Maps a T2 world point (RAS mm) to the MRA world point of the same tissue.
    metric : float
        Final Mattes mutual information (negative; lower is better).
    iterations : int
        Optimizer iterations at the finest level.
    stop_condition : str
        Optimizer's stop reason.
    """

    t2_to_mra: NDArray[np.float64]
    metric: float
    iterations: int
    stop_condition: str


def register_rigid(
    t2: Volume,
    mra: Volume,
    *,
    params: RegistrationParams = RegistrationParams(),
    fixed_mask: Volume | None = None,
) -> RegistrationResult:
    """Rigidly register ``mra`` (moving) to ``t2`` (fixed).

    Initialised by aligning the images' centres of intensity mass, then
    versor rigid optimisation of Mattes mutual information over a
    multi-resolution pyramid. The moving image is first cropped to the fixed
    image's field of view (plus ``params.moving_margin_mm``), and both are
    block-averaged to about ``params.working_spacing_mm``; at most
    ``params.max_samples`` fixed-image points are sampled per level.

    Parameters
    ----------
    t2 : Volume
        Fixed image (any grid with an orthogonal affine; float voxels).
    mra : Volume
        Moving image (the TOF), on its own grid.
    params : RegistrationParams
        Pyramid, metric sampling and optimiser settings.
    fixed_mask : Volume, optional
        Restricts the metric to a region of the T2 grid (e.g. the posterior fossa).

    Returns
    -------
    RegistrationResult
        ``t2_to_mra``, shape (4, 4), maps a T2 world point (RAS mm) to the MRA
        world point of the same tissue; the final metric and the optimiser's stop.

    Examples
    --------
    Four blobs, and the same image placed 2 mm right, 1 mm posterior and 1.5 mm
    up in the world:

    >>> import numpy as np
    >>> from nvc.volume import Volume
    >>> i, j, k = np.indices((40, 40, 32)) * 0.8
    >>> blobs = [(12, 18, 10, 3.0), (20, 12, 14, 2.0), (22, 22, 12, 2.5), (14, 10, 16, 1.5)]
    >>> image = sum(np.exp(-((i - x) ** 2 + (j - y) ** 2 + (k - z) ** 2) / (2 * r * r))
    ...             for x, y, z, r in blobs)
    >>> t2 = Volume(image.astype(np.float32), np.diag([0.8, 0.8, 0.8, 1.0]))
    >>> truth = np.eye(4)
    >>> truth[:3, 3] = [2.0, -1.0, 1.5]
    >>> result = register_rigid(t2, Volume(t2.array, truth @ t2.affine))
    >>> np.round(result.t2_to_mra[:3, 3], 1).tolist()
    [2.0, -1.0, 1.5]
    >>> error = target_registration_error(result.t2_to_mra, truth, np.array([[16.0, 16.0, 12.0]]))
    >>> bool(error[0] < 0.1)
    True
    """
    lo, hi = t2.world_bounds()
    with contextlib.suppress(ValueError):  # no overlap: registered as it is (and fails)
        mra = crop_world(mra, lo, hi, margin_mm=params.moving_margin_mm)
    fixed = _working_resolution(to_sitk(t2, np.float32), params.working_spacing_mm)
    moving = _working_resolution(to_sitk(mra, np.float32), params.working_spacing_mm)
    init = sitk.CenteredTransformInitializer(
        fixed,
        moving,
        sitk.VersorRigid3DTransform(),
        sitk.CenteredTransformInitializerFilter.MOMENTS,
    )
    mask = None
    if fixed_mask is not None:
        mask = to_sitk(fixed_mask, np.uint8)
    # the pyramid is built here, on block-averaged images: ITK's own pyramid smooths and
    # differentiates the full-resolution moving image at every level
    transform: sitk.Transform = init
    levels = list(zip(params.shrink_factors, params.smoothing_mm, strict=True))
    for n, (shrink, sigma) in enumerate(levels):
        fixed_l = sitk.BinShrink(fixed, [int(shrink)] * 3) if shrink > 1 else fixed
        moving_l = _working_resolution(moving, 1.5 * float(min(fixed_l.GetSpacing())))
        # coarse levels only bring the images close: fewer samples (a quarter per halving)
        samples = params.max_samples / float(shrink) ** 2
        rate = params.learning_rate if n == 0 else params.refine_learning_rate
        reg = _method(params, float(np.prod(fixed_l.GetSize())), sigma, samples, rate)
        if n < len(levels) - 1:
            # coarse levels: image gradients at the sample points, not a whole gradient image
            reg.SetMetricUseMovingImageGradientFilter(False)
            reg.SetMetricUseFixedImageGradientFilter(False)
        if mask is not None:
            reg.SetMetricFixedMask(
                sitk.Resample(mask, fixed_l, sitk.Transform(), sitk.sitkNearestNeighbor)
            )
        reg.SetInitialTransform(transform, inPlace=False)
        transform = reg.Execute(fixed_l, moving_l)
    final = transform
    return RegistrationResult(
        t2_to_mra=ras_matrix_of(final),
        metric=float(reg.GetMetricValue()),
        iterations=int(reg.GetOptimizerIteration()),
        stop_condition=reg.GetOptimizerStopConditionDescription(),
    )


def _method(
    params: RegistrationParams, n_fixed: float, sigma_mm: float, samples: float, rate: float
) -> Any:
    """One level of the registration: Mattes MI, versor rigid, regular-step gradient descent."""
    reg = sitk.ImageRegistrationMethod()
    reg.SetMetricAsMattesMutualInformation(numberOfHistogramBins=params.histogram_bins)
    reg.SetMetricSamplingStrategy(reg.RANDOM)
    fraction = min(params.sampling_fraction, samples / n_fixed)
    reg.SetMetricSamplingPercentage(float(fraction), params.seed)
    reg.SetInterpolator(sitk.sitkLinear)
    reg.SetOptimizerAsRegularStepGradientDescent(
        learningRate=rate,
        minStep=params.min_step,
        numberOfIterations=params.iterations,
        relaxationFactor=0.6,
        gradientMagnitudeTolerance=1e-6,
    )
    reg.SetOptimizerScalesFromPhysicalShift()
    reg.SetShrinkFactorsPerLevel([1])
    reg.SetSmoothingSigmasPerLevel([float(sigma_mm)])
    reg.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    return reg


def _working_resolution(image: sitk.Image, spacing_mm: float) -> sitk.Image:
    """Average blocks of voxels finer than ``spacing_mm`` (a whole factor per axis)."""
    factors = [max(1, int(np.floor(spacing_mm / s + 1e-3))) for s in image.GetSpacing()]
    return sitk.BinShrink(image, factors) if max(factors) > 1 else image


def ras_matrix_of(transform: sitk.Transform) -> NDArray[np.float64]:
    """4x4 RAS matrix of an ITK transform (which maps fixed LPS points to moving LPS points).

    Parameters
    ----------
    transform : SimpleITK.Transform
        A 3D linear transform.

    Returns
    -------
    ndarray of float64, shape (4, 4)
        The same map between RAS+ mm points (fixed world to moving world).
    """
    t = transform
    p0 = np.array(t.TransformPoint((0.0, 0.0, 0.0)))
    cols = [np.array(t.TransformPoint(tuple(e))) - p0 for e in np.eye(3)]
    lps = np.eye(4)
    lps[:3, :3] = np.stack(cols, axis=1)
    lps[:3, 3] = p0
    return RAS_TO_LPS @ lps @ RAS_TO_LPS


def target_registration_error(
    estimated: NDArray[np.float64], truth: NDArray[np.float64], points_ras: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Distance (mm) between where two transforms send each point.

    Parameters
    ----------
    estimated, truth : ndarray of float64, shape (4, 4)
        World-to-world transforms (RAS mm), e.g. ``RegistrationResult.t2_to_mra``.
    points_ras : ndarray, shape (N, 3)
        Points in the fixed world, RAS mm.

    Returns
    -------
    ndarray of float64, shape (N,)
        Distance in mm per point.

    Examples
    --------
    >>> import numpy as np
    >>> shifted = np.eye(4)
    >>> shifted[:3, 3] = [0.3, 0.4, 0.0]
    >>> target_registration_error(shifted, np.eye(4), np.zeros((2, 3))).round(6).tolist()
    [0.5, 0.5]
    """
    p = np.c_[points_ras, np.ones(len(points_ras))]
    return np.linalg.norm((p @ estimated.T - p @ truth.T)[:, :3], axis=1)

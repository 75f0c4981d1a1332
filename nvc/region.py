"""The region analysed: both cerebellopontine angles around the pontomedullary junction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from nvc.brainstem import Brainstem


@dataclass(frozen=True)
class RegionParams:
    """Extent of the analysed region around the pontomedullary junction (mm).

    Attributes
    ----------
    lateral_mm : float
        Either side of the midline: the fundus of the internal auditory canal
        lies 30-40 mm from the midline, the cerebellopontine cisterns within it.
    posterior_mm, anterior_mm : float
        Behind and in front of the brainstem's centre: the fourth ventricle and
        flocculus behind, the prepontine cistern, clivus and vertebrobasilar
        arteries in front.
    below_mm, above_mm : float
        Below and above the junction: the vertebral arteries and PICA loops
        below, AICA, the internal auditory canals and CN V above.
    """

    lateral_mm: float = 48.0
    posterior_mm: float = 28.0
    anterior_mm: float = 34.0
    below_mm: float = 18.0
    above_mm: float = 26.0


def analysis_region(
    shape: tuple[int, ...],
    spacing: NDArray[np.float64],
    brainstem: Brainstem,
    *,
    params: RegionParams = RegionParams(),
) -> tuple[slice, slice, slice]:
    """Index box of both cerebellopontine angles, clipped to the image.

    Parameters
    ----------
    shape : tuple of int, (I, J, K)
        Shape of the closest-canonical (RAS-ordered) image grid.
    spacing : ndarray, float, shape (3,)
        Voxel size (mm) along i, j, k.
    brainstem : Brainstem
        Found on that grid (midline, centre line, junction).
    params : RegionParams

    Returns
    -------
    tuple of slice
        One slice per axis (i, j, k).

    Examples
    --------
    >>> import numpy as np
    >>> from nvc.brainstem import Brainstem
    >>> bs = Brainstem(mask=np.zeros((200, 200, 100), bool), midline_i=100.0,
    ...                center_j=np.full(100, 100.0), half_ap_mm=np.full(100, 12.0),
    ...                pmj_index=np.array([100.0, 100.0, 50.0]), axis=np.array([0.0, 0.0, 1.0]))
    >>> analysis_region((200, 200, 100), np.array([0.5, 0.5, 1.0]), bs)
    (slice(4, 197, None), slice(44, 169, None), slice(32, 77, None))
    """
    sp = np.asarray(spacing, float)
    p = params
    jc = float(np.nanmean(brainstem.center_j))
    k = brainstem.pmj_k
    lo = np.array(
        [
            brainstem.midline_i - p.lateral_mm / sp[0],
            jc - p.posterior_mm / sp[1],
            k - p.below_mm / sp[2],
        ]
    )
    hi = np.array(
        [
            brainstem.midline_i + p.lateral_mm / sp[0],
            jc + p.anterior_mm / sp[1],
            k + p.above_mm / sp[2],
        ]
    )
    lo_i = np.maximum(np.floor(lo).astype(int), 0)
    hi_i = np.minimum(np.ceil(hi).astype(int) + 1, shape)
    return (
        slice(int(lo_i[0]), int(hi_i[0])),
        slice(int(lo_i[1]), int(hi_i[1])),
        slice(int(lo_i[2]), int(hi_i[2])),
    )


def crop_brainstem(brainstem: Brainstem, region: tuple[slice, slice, slice]) -> Brainstem:
    """The brainstem on the grid cropped to ``region`` (indices shifted, arrays sliced).

    Parameters
    ----------
    brainstem : Brainstem
        On the full grid.
    region : tuple of slice
        From ``analysis_region``.

    Returns
    -------
    Brainstem
    """
    i0, j0, k0 = (s.start for s in region)
    return Brainstem(
        mask=brainstem.mask[region],
        midline_i=brainstem.midline_i - i0,
        center_j=brainstem.center_j[region[2]] - j0,
        half_ap_mm=brainstem.half_ap_mm[region[2]],
        pmj_index=brainstem.pmj_index - np.array([i0, j0, k0], float),
        axis=brainstem.axis,
    )

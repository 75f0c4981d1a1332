"""Test helpers: synthetic volumes and a DICOM series writer."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from scipy.spatial.transform import Rotation

from nvc.volume import Volume, resample_to, to_sitk


def oblique_affine(spacing=(0.8, 0.9, 1.5), angles=(12.0, -7.0, 20.0), origin=(-30.0, 12.0, -5.0)):
    """A rigid-plus-scaling affine with an oblique orientation."""
    a = np.eye(4)
    a[:3, :3] = Rotation.from_euler("xyz", angles, degrees=True).as_matrix() * np.asarray(spacing)
    a[:3, 3] = origin
    return a


def marker_volume(affine: np.ndarray, shape=(20, 24, 16), marker=(5, 7, 9)) -> Volume:
    """A volume with a gradient background and one bright marker voxel."""
    i, j, k = np.indices(shape)
    data = (i + 2 * j + 3 * k).astype(np.int16)
    data[marker] = 1000
    return Volume(data, affine)


def write_dicom_series(
    volume: Volume, folder: Path, *, series_uid: str = "1.2.826.0.1.3680043.2.1125.1", **tags: str
) -> Path:
    """Write a Volume (orthogonal affine) as an MR DICOM series, one file per k slice."""
    folder.mkdir(parents=True, exist_ok=True)
    image = sitk.Cast(to_sitk(volume), sitk.sitkInt16)
    direction = image.GetDirection()
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    now = time.strftime("%Y%m%d")
    for k in range(image.GetDepth()):
        sl = image[:, :, k]
        values = {
            "0008|0060": "MR",
            "0008|0020": now,
            "0020|000e": series_uid,
            "0020|000d": series_uid + ".0",
            "0008|0016": "1.2.840.10008.5.1.4.1.1.4",
            "0008|0018": f"{series_uid}.{k + 1}",
            "0020|0037": "\\".join(
                f"{v:.8f}"
                for v in (
                    direction[0],
                    direction[3],
                    direction[6],
                    direction[1],
                    direction[4],
                    direction[7],
                )
            ),
            "0020|0032": "\\".join(
                f"{v:.6f}" for v in image.TransformIndexToPhysicalPoint((0, 0, k))
            ),
            "0020|0013": str(k + 1),
            "0018|0050": f"{image.GetSpacing()[2]:.6f}",
            "0028|0030": f"{image.GetSpacing()[1]:.6f}\\{image.GetSpacing()[0]:.6f}",
            **tags,
        }
        for key, val in values.items():
            sl.SetMetaData(key, val)
        writer.SetFileName(str(folder / f"slice{series_uid[-3:]}_{k:03d}.dcm"))
        writer.Execute(sl)
    return folder


def with_slices(vol: Volume, slice_mm: float) -> Volume:
    """``vol`` resampled to ``slice_mm`` along its thickest (slice) axis."""
    axis = int(np.argmax(vol.spacing))
    factor = slice_mm / vol.spacing[axis]
    affine = vol.affine.copy()
    affine[:3, axis] *= factor
    shape = list(vol.shape)
    shape[axis] = int(np.floor((shape[axis] - 1) / factor)) + 1
    return resample_to(vol, Volume(np.zeros(shape, np.uint8), affine))

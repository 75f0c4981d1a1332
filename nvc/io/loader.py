"""One entry point that picks a reader from the path."""

from __future__ import annotations

from pathlib import Path

from nvc.io.errors import VolumeLoadError
from nvc.io.itk import load_dicom_series, load_itk_file
from nvc.io.nifti import load_nifti
from nvc.volume import Volume

NIFTI_SUFFIXES = (".nii", ".nii.gz")
ITK_SUFFIXES = (".nrrd", ".nhdr", ".mha", ".mhd")


def load_volume(path: str | Path) -> Volume:
    """Load a NIfTI file, NRRD/MetaImage file or DICOM series folder.

    Parameters
    ----------
    path : str or Path
        A ``.nii``/``.nii.gz``, ``.nrrd``/``.nhdr``, ``.mha``/``.mhd`` file or a DICOM folder.

    Returns
    -------
    Volume
        3D voxels, axes (i, j, k), and their RAS+ affine (mm).

    Raises
    ------
    VolumeLoadError
        The single documented error type, naming the file and the problem.
    """
    path = Path(path)
    name = path.name.lower()
    if not path.exists():
        raise VolumeLoadError(path, "file not found")
    if path.is_dir():
        return load_dicom_series(path)
    if name.endswith(NIFTI_SUFFIXES):
        return load_nifti(path)
    if name.endswith(ITK_SUFFIXES):
        return load_itk_file(path)
    if name.endswith(".dcm"):
        return load_dicom_series(path.parent)
    raise VolumeLoadError(
        path, "unknown image format; expected .nii, .nii.gz, .nrrd, .mha, .mhd or a DICOM folder"
    )

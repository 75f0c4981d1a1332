"""NRRD, MetaImage (.mha/.mhd) and DICOM series reading through SimpleITK.

ITK places images in LPS millimetres; the Volumes returned here are RAS+.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk

from nvc.io.checks import check_data_size, check_geometry, check_shape, check_values
from nvc.io.errors import VolumeLoadError
from nvc.io.storage import (
    CorruptDataError,
    dicom_length_problem,
    dicom_pixel_bytes_fit,
    itk_stored_bytes,
    metaimage_header_problem,
)
from nvc.volume import Volume, affine_of_sitk

#: DICOM tags kept as acquisition facts (safe to show).
DICOM_FACTS = {
    "0008|0060": "modality",
    "0008|103e": "series_description",
    "0018|0087": "field_strength_t",
    "0008|0070": "manufacturer",
    "0008|1090": "model",
    "0018|0024": "sequence_name",
    "0018|0050": "slice_thickness_mm",
}
#: Bytes per voxel of the scalar ITK pixel types.
_ITEMSIZE = {
    sitk.sitkUInt8: 1,
    sitk.sitkInt8: 1,
    sitk.sitkUInt16: 2,
    sitk.sitkInt16: 2,
    sitk.sitkUInt32: 4,
    sitk.sitkInt32: 4,
    sitk.sitkUInt64: 8,
    sitk.sitkInt64: 8,
    sitk.sitkFloat32: 4,
    sitk.sitkFloat64: 8,
}
#: DICOM tags that identify the patient or study: kept apart so reports can leave them out.
DICOM_IDENTIFIERS = {
    "0010|0010": "patient_name",
    "0010|0020": "patient_id",
    "0010|0030": "patient_birth_date",
    "0008|0020": "study_date",
    "0008|0080": "institution",
}


def load_itk_file(path: str | Path) -> Volume:
    """Load a NRRD, MHA or MHD file as a RAS+ Volume.

    Parameters
    ----------
    path : str or Path
        A ``.nrrd``, ``.nhdr``, ``.mha`` or ``.mhd`` file.

    Returns
    -------
    Volume
        The voxels (their dtype kept), axes (i, j, k), with the RAS+ affine (ITK's LPS
        geometry converted).

    Raises
    ------
    VolumeLoadError
        For a missing, unreadable, non-scalar or non-3D file, or one holding
        fewer voxel bytes than its header declares (checked before allocating).
    """
    path = Path(path)
    if not path.is_file():
        raise VolumeLoadError(path, "file not found")
    problem = metaimage_header_problem(path)
    if problem is not None:
        raise VolumeLoadError(path, f"not a readable image ({problem})")
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        with itk_messages() as complaints:
            reader.ReadImageInformation()
    except RuntimeError as exc:
        reason = complaints[0][:160] if complaints else _itk_reason(exc)
        raise VolumeLoadError(path, f"not a readable image ({reason})") from None
    if reader.GetNumberOfComponents() != 1:
        raise VolumeLoadError(
            path, f"{reader.GetNumberOfComponents()} components per voxel; a scalar image is needed"
        )
    check_shape(path, tuple(reader.GetSize()))
    if reader.GetDimension() != 3:
        raise VolumeLoadError(path, f"image is {reader.GetDimension()}D; a 3D volume is needed")
    itemsize = _ITEMSIZE.get(reader.GetPixelID())
    if itemsize is not None:
        try:
            stored = itk_stored_bytes(path)
        except CorruptDataError as exc:
            raise VolumeLoadError(path, str(exc)[:200]) from None
        check_data_size(path, int(np.prod(reader.GetSize(), dtype=np.int64)) * itemsize, stored)
    try:
        with itk_messages():
            image = reader.Execute()
    except RuntimeError as exc:
        raise VolumeLoadError(path, f"corrupt image data ({_itk_reason(exc)})") from None
    fmt = "NRRD" if path.suffix.lower() in {".nrrd", ".nhdr"} else "MetaImage"
    return _volume_of(path, image, {"source_name": path.name, "format": fmt})


def load_dicom_series(folder: str | Path, *, series_uid: str | None = None) -> Volume:
    """Load one DICOM series from a folder as a RAS+ Volume.

    Parameters
    ----------
    folder : path
        Folder holding the series' files.
    series_uid : str, optional
        Which series to read when the folder holds several.

    Returns
    -------
    Volume
        Axes (i, j, k) along the series' rows, columns and slices, RAS+ affine;
        identifying tags kept apart in ``metadata['identifiers']``.

    Raises
    ------
    VolumeLoadError
        When the folder holds no series, several series and no choice, or a
        series whose slices are missing or irregularly spaced.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise VolumeLoadError(folder, "DICOM folder not found")
    for entry in sorted(folder.iterdir()):
        if entry.is_file():
            problem = dicom_length_problem(entry)
            if problem is not None:
                raise VolumeLoadError(entry, problem)
    try:
        with itk_messages():
            uids = list(sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder)))
    except RuntimeError as exc:
        raise VolumeLoadError(folder, f"unreadable DICOM folder ({_itk_reason(exc)})") from None
    if not uids:
        raise VolumeLoadError(folder, "no DICOM series in this folder")
    if series_uid is None:
        if len(uids) > 1:
            raise VolumeLoadError(
                folder,
                f"{len(uids)} DICOM series are mixed in this folder; choose one "
                f"({', '.join(sorted(uids))})",
            )
        series_uid = uids[0]
    elif series_uid not in uids:
        raise VolumeLoadError(folder, f"no DICOM series {series_uid} here")
    try:
        with itk_messages():
            files = list(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series_uid))
    except RuntimeError as exc:
        raise VolumeLoadError(folder, f"unreadable DICOM folder ({_itk_reason(exc)})") from None
    if len(files) < 2:
        raise VolumeLoadError(folder, f"series has {len(files)} slice; a 3D volume is needed")
    _check_slice_positions(folder, files)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(files)
    reader.MetaDataDictionaryArrayUpdateOn()
    reader.LoadPrivateTagsOff()
    try:
        with itk_messages():
            image = reader.Execute()
    except RuntimeError as exc:
        raise VolumeLoadError(folder, f"unreadable DICOM series ({_itk_reason(exc)})") from None
    facts: dict[str, Any] = {"source_name": folder.name, "format": "DICOM", "n_files": len(files)}
    identifiers: dict[str, str] = {}
    for tag, name in DICOM_FACTS.items():
        if reader.HasMetaDataKey(0, tag):
            facts[name] = reader.GetMetaData(0, tag).strip()
    for tag, name in DICOM_IDENTIFIERS.items():
        if reader.HasMetaDataKey(0, tag):
            identifiers[name] = reader.GetMetaData(0, tag).strip()
    facts["identifiers"] = identifiers
    return _volume_of(folder, image, facts)


def _check_slice_positions(folder: Path, files: list[str]) -> None:
    """Refuse series with missing or unevenly spaced slices."""
    positions = []
    normal = None
    for name in files:
        r = sitk.ImageFileReader()
        r.SetFileName(name)
        try:
            with itk_messages():
                r.ReadImageInformation()
        except RuntimeError as exc:
            raise VolumeLoadError(
                Path(name), f"unreadable DICOM file ({_itk_reason(exc)})"
            ) from None
        if not r.HasMetaDataKey("0020|0032") or not r.HasMetaDataKey("0020|0037"):
            raise VolumeLoadError(Path(name), "DICOM file lacks image position or orientation")
        size = [int(n) for n in r.GetSize()] + [1]
        check_shape(folder, (size[0], size[1], len(files) * max(size[2], 1)))
        bits = _int_tag(r, "0028|0100", 16) * _int_tag(r, "0028|0002", 1)
        declared = size[0] * size[1] * max(size[2], 1) * max(bits, 8) // 8
        if not dicom_pixel_bytes_fit(Path(name), declared):
            raise VolumeLoadError(Path(name), "truncated DICOM pixel data")
        pos = _dicom_numbers(Path(name), r, "0020|0032", 3, "image position")
        if normal is None:
            cosines = _dicom_numbers(Path(name), r, "0020|0037", 6, "image orientation")
            normal = np.cross(cosines[:3], cosines[3:])
            if abs(np.linalg.norm(normal) - 1.0) > 1e-3:
                raise VolumeLoadError(
                    Path(name), "DICOM image orientation is not two perpendicular unit vectors"
                )
        positions.append(float(pos @ normal))
    steps = np.diff(np.sort(positions))
    if np.any(steps < 1e-4):
        raise VolumeLoadError(folder, "two slices share one position (duplicate or mixed series)")
    if steps.max() - steps.min() > 0.1 * np.median(steps):
        raise VolumeLoadError(
            folder,
            f"slice spacing varies from {steps.min():.2f} to {steps.max():.2f} mm"
            " (missing slices?)",
        )


class _MessageRouter(sitk.LoggerBase):
    """ITK's process-wide logger: each message goes to the thread that caused it.

    ITK and SimpleITK print their warnings and errors through one global
    output window (``itk::OutputWindow``); this logger takes its place. A
    message emitted on a thread that is inside ``itk_messages()`` is kept in
    that block's list; any other (another thread's, a filter's worker
    thread's) goes on to the logger it replaced, as before. Nothing touches the
    process's stderr file descriptor, so other threads' output is never
    swallowed or misrouted.
    """

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()
        self.previous: Any = None

    def open_capture(self) -> list[str]:
        captured: list[str] = []
        self._stack().append(captured)
        return captured

    def close_capture(self, captured: list[str]) -> None:
        """End the innermost block; an enclosing block gets its lines too."""
        stack = self._stack()
        if stack and stack[-1] is captured:
            stack.pop()
            if stack:
                stack[-1].extend(captured)

    def _stack(self) -> list[list[str]]:
        stack: list[list[str]] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _route(self, text: str, kind: str) -> None:
        # Called from C++: an exception escaping here would end in ITK; a lost message is better.
        with contextlib.suppress(Exception):
            stack = getattr(self._local, "stack", None)
            if stack:
                stack[-1].extend(ln.strip() for ln in str(text).splitlines() if ln.strip())
            elif self.previous is not None:
                getattr(self.previous, kind)(text)

    # The methods ITK calls (its names).

    def DisplayText(self, t: str) -> None:
        self._route(t, "DisplayText")

    def DisplayErrorText(self, t: str) -> None:
        self._route(t, "DisplayErrorText")

    def DisplayWarningText(self, t: str) -> None:
        self._route(t, "DisplayWarningText")

    def DisplayGenericOutputText(self, t: str) -> None:
        self._route(t, "DisplayGenericOutputText")

    def DisplayDebugText(self, t: str) -> None:
        self._route(t, "DisplayDebugText")


_ROUTER_LOCK = threading.Lock()
_router: _MessageRouter | None = None


def _message_router() -> _MessageRouter:
    """The router, made ITK's global logger on first use (and kept alive here)."""
    global _router
    with _ROUTER_LOCK:
        if _router is None:
            router = _MessageRouter()
            router.previous = router.SetAsGlobalITKLogger()
            _router = router
        return _router


@contextlib.contextmanager
def itk_messages() -> Iterator[list[str]]:
    """Keep the messages ITK emits on this thread during the block off stderr.

    Their complaints about a bad file become part of the one-line error
    instead; printed as well they would add stray lines. Yields the list of
    message lines (filled while the block runs; a block inside it passes its
    lines on when it ends). Thread-safe: messages of other threads, and
    everything else written to stderr, are left alone.

    Libraries that print straight to ``std::cerr`` instead of through ITK's
    logger (MetaIO on some malformed MetaImage files) are not caught.
    """
    router = _message_router()
    captured = router.open_capture()
    try:
        yield captured
    finally:
        router.close_capture(captured)


def _dicom_numbers(
    path: Path, reader: sitk.ImageFileReader, tag: str, count: int, what: str
) -> np.ndarray:
    """``count`` finite numbers of a backslash-separated DICOM decimal string element."""
    text = reader.GetMetaData(tag)
    try:
        values = np.array([float(v) for v in text.split("\\")], dtype=np.float64)
    except ValueError:
        values = np.array([])
    if values.shape != (count,) or not np.all(np.isfinite(values)):
        raise VolumeLoadError(path, f"DICOM {what} is invalid ({text.strip()[:40]!r})")
    return values


def _int_tag(reader: sitk.ImageFileReader, tag: str, default: int) -> int:
    try:
        return int(reader.GetMetaData(tag).strip()) if reader.HasMetaDataKey(tag) else default
    except ValueError:
        return default


def _volume_of(path: Path, image: sitk.Image, metadata: dict[str, Any]) -> Volume:
    check_shape(path, tuple(image.GetSize()))
    affine = affine_of_sitk(image)
    check_geometry(path, affine, image.GetSpacing())
    array = check_values(path, sitk.GetArrayFromImage(image).T.copy())
    return Volume(array, affine, metadata)


def _itk_reason(exc: RuntimeError) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for ln in reversed(lines):
        if not ln.startswith(("sitk::ERROR", "Exception thrown", "itk::")):
            return ln[:160]
    return (lines[-1] if lines else "ITK error")[:160]

"""NIfTI-1/2 reading and writing through nibabel."""

from __future__ import annotations

import gzip
import io
import logging
import struct
import zlib
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

from nvc.io.atomic import atomic_path
from nvc.io.checks import check_data_size, check_geometry, check_shape, check_values
from nvc.io.errors import VolumeLoadError
from nvc.volume import Volume

#: qform and sform may differ by this much (mm, anywhere in the volume) before the file is refused.
MAX_QFORM_SFORM_MM = 1.0

_READ_ERRORS = (
    nib.filebasedimages.ImageFileError,
    nib.spatialimages.HeaderDataError,
    OSError,
    EOFError,
    ValueError,
    OverflowError,
    zlib.error,
    struct.error,
    gzip.BadGzipFile,
    MemoryError,
)


def load_nifti(path: str | Path) -> Volume:
    """Load a NIfTI file as a Volume.

    The affine is the one nibabel chooses (sform when its code is set, else
    qform). When both are set they must agree: a file whose qform and sform
    place a voxel of the volume more than ``MAX_QFORM_SFORM_MM`` apart is
    refused (other tools would read it with the other matrix, perhaps flipped);
    a smaller gap is recorded as ``metadata["qform_sform_gap_mm"]``. Sheared
    affines are refused (``check_geometry``). The voxel bytes the header
    declares are compared with the bytes stored (decompressed) before any
    voxel array is allocated. Trailing singleton dimensions are squeezed.
    nibabel's log lines about repaired header fields are kept off stderr.

    Parameters
    ----------
    path : str or Path
        A ``.nii`` or ``.nii.gz`` file (NIfTI-1 or NIfTI-2).

    Returns
    -------
    Volume
        The voxels (their stored dtype, scaled when the header scales them), axes
        (i, j, k), with the sform (else qform) as RAS+ affine in mm.

    Raises
    ------
    VolumeLoadError
        For any file that is not a readable, finite, 3D NIfTI volume.
    """
    logger = nib.imageglobals.logger
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)  # its header repairs would print stray lines
    try:
        with np.errstate(all="ignore"):  # hostile header values overflow; checked explicitly
            return _load_nifti(Path(path))
    finally:
        logger.setLevel(level)


def _load_nifti(path: Path) -> Volume:
    """Body of ``load_nifti``."""
    stored = None
    raw = None
    if path.is_file():
        if _is_gzip(path):
            raw = _read_gzip(path)
            stored = len(raw)
        else:
            stored = path.stat().st_size
        _check_raw_pixdim(path)
    img: Any
    try:
        if raw is not None and path.name.endswith(".nii.gz") and _is_nifti1_single(raw):
            # decompressed once: nibabel would inflate the file a second time
            img = nib.Nifti1Image.from_bytes(raw)
        else:
            img = nib.load(path)
    except FileNotFoundError:
        raise VolumeLoadError(path, "file not found") from None
    except _READ_ERRORS as exc:
        raise VolumeLoadError(path, f"not a readable NIfTI image ({_short(exc)})") from None
    if not isinstance(img, nib.Nifti1Image | nib.Nifti2Image):
        raise VolumeLoadError(path, f"not a NIfTI image ({type(img).__name__})")
    header = img.header
    try:
        shape = check_shape(path, tuple(header.get_data_shape()))
        zooms = np.asarray(header["pixdim"][1:4], dtype=np.float64)
    except nib.spatialimages.HeaderDataError as exc:
        raise VolumeLoadError(path, f"invalid header ({_short(exc)})") from None
    check_geometry(path, img.affine, zooms)
    gap = _qform_sform_gap_mm(path, img, shape)
    try:
        offset = int(img.dataobj.offset)  # type: ignore[attr-defined]
        needed = offset + int(
            np.prod(np.asarray(header.get_data_shape(), dtype=np.int64))
            * header.get_data_dtype().itemsize
        )
    except (*_READ_ERRORS, AttributeError) as exc:
        raise VolumeLoadError(path, f"invalid header ({_short(exc)})") from None
    if offset < int(header["sizeof_hdr"]):
        raise VolumeLoadError(
            path, f"invalid header (voxel data offset {offset} inside the header)"
        )
    check_data_size(path, needed, stored)
    try:
        data = np.asanyarray(img.dataobj)
    except _READ_ERRORS as exc:
        raise VolumeLoadError(path, f"truncated or corrupt image data ({_short(exc)})") from None
    data = check_values(path, np.asarray(data).reshape(shape))
    metadata: dict[str, Any] = {
        "source_name": path.name,
        "format": "NIfTI",
        "description": _text(header.get("descrip")),
        "intent": _text(header.get("intent_name")),
    }
    if gap is not None:
        metadata["qform_sform_gap_mm"] = round(gap, 4)
    return Volume(data, img.affine, metadata)


#: gzip strategies of ``save_nifti``: zlib's default string matching, or Huffman coding alone.
GZIP_STRATEGIES = {"default": zlib.Z_DEFAULT_STRATEGY, "huffman": zlib.Z_HUFFMAN_ONLY}
#: Compression level of ``.nii.gz`` files (nibabel's default: the fastest).
GZIP_LEVEL = 1
_CHUNK = 1 << 22


def save_nifti(
    volume: Volume, path: str | Path, *, dtype: Any = None, gzip_strategy: str = "default"
) -> Path:
    """Write a Volume as NIfTI (atomically: temporary file, then rename).

    Both sform and qform carry the affine (code 2, aligned) when it is a
    rigid-plus-scaling matrix; a sheared affine is stored in the sform only.
    A ``.gz`` name is compressed at level 1 with zlib's ``gzip_strategy``:
    ``"default"`` (as nibabel writes), or ``"huffman"`` (Huffman coding
    without string matching: about a third of the time on noisy images such
    as an MRI, whose files come out at most a tenth larger, the same size for
    a TOF; much larger for smooth maps).

    Parameters
    ----------
    volume : Volume
        Any 3D volume (RAS+ affine).
    path : str or Path
        ``.nii`` or ``.nii.gz``.
    dtype : numpy dtype, optional
        Stored type (default: the array's).
    gzip_strategy : {"default", "huffman"}
        zlib strategy of a ``.gz`` file.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    data = np.asarray(volume.array if dtype is None else volume.array.astype(dtype))
    if data.dtype == bool:
        data = data.astype(np.uint8)
    img = nib.Nifti1Image(data, volume.affine)
    img.set_sform(volume.affine, code=2)
    img.set_qform(volume.affine, code=2)
    img.header.set_xyzt_units("mm")
    strategy = GZIP_STRATEGIES[gzip_strategy]
    with atomic_path(path) as tmp:
        _save_image(img, tmp, strategy=strategy)
    return path


def _save_image(img: nib.Nifti1Image, path: Path, *, strategy: int) -> None:
    """Write ``img``: a ``.gz`` name compressed with zlib's ``strategy``, else by nibabel."""
    if path.suffix != ".gz":
        nib.save(img, path)
        return
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS, 9, strategy)
    view = memoryview(img.to_bytes())
    with path.open("wb") as fh:
        for start in range(0, len(view), _CHUNK):
            fh.write(packer.compress(view[start : start + _CHUNK]))
        fh.write(packer.flush())


def _check_raw_pixdim(path: Path) -> None:
    """Refuse zero or negative voxel sizes as stored (nibabel's loader silently repairs them)."""
    try:
        with nib.openers.ImageOpener(str(path)) as fh:
            raw = fh.read(540)
    except _READ_ERRORS:
        return  # nib.load below reports the unreadable file
    for klass, size in ((nib.Nifti1Header, 348), (nib.Nifti2Header, 540)):
        if len(raw) < size:
            continue
        try:
            header = klass.from_fileobj(io.BytesIO(raw[:size]), check=False)
        except _READ_ERRORS:
            continue
        if int(header["sizeof_hdr"]) != size:
            continue
        pixdim = np.asarray(header["pixdim"][1:4], dtype=np.float64)
        ndim = int(header["dim"][0])
        pixdim = pixdim[: max(min(ndim, 3), 0)]
        if not np.all(np.isfinite(pixdim)) or np.any(pixdim <= 0):
            raise VolumeLoadError(
                path, f"voxel size {tuple(pixdim.tolist())} is zero, negative or invalid"
            )
        return


def _qform_sform_gap_mm(path: Path, img: Any, shape: tuple[int, int, int]) -> float | None:
    """Largest distance (mm) between where qform and sform put the volume's corners.

    None when only one of them is set. Raises VolumeLoadError beyond ``MAX_QFORM_SFORM_MM``.
    """
    header = img.header
    if int(header["qform_code"]) <= 0 or int(header["sform_code"]) <= 0:
        return None
    try:
        qform = np.asarray(header.get_qform(), dtype=np.float64)
        sform = np.asarray(header.get_sform(), dtype=np.float64)
    except _READ_ERRORS as exc:
        raise VolumeLoadError(path, f"invalid qform or sform ({_short(exc)})") from None
    if not np.all(np.isfinite(qform)):
        raise VolumeLoadError(path, "qform is not finite")
    corners = np.array(np.meshgrid(*[[0, n - 1] for n in shape], indexing="ij")).reshape(3, -1).T
    with np.errstate(over="ignore", invalid="ignore"):
        q = corners @ qform[:3, :3].T + qform[:3, 3]
        s = corners @ sform[:3, :3].T + sform[:3, 3]
        gap = float(np.max(np.linalg.norm(q - s, axis=1)))
    if not np.isfinite(gap) or gap > MAX_QFORM_SFORM_MM:
        raise VolumeLoadError(
            path,
            f"qform and sform disagree by {gap:.1f} mm (more than {MAX_QFORM_SFORM_MM} mm);"
            " tools differ in which they use, so fix the header (set one code to 0)",
        )
    return gap


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _read_gzip(path: Path) -> bytes:
    """The whole decompressed content of a gzip file (every member, CRC and length checked).

    nibabel stops reading once it has the voxels it needs, so damage near the
    end of a stream would otherwise pass unnoticed; reading it all here also
    spares nibabel a second decompression of a NIfTI-1 file.
    """
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise VolumeLoadError(path, f"truncated or corrupt gzip stream ({_short(exc)})") from None


def _is_nifti1_single(raw: bytes) -> bool:
    """Whether ``raw`` starts with a single-file NIfTI-1 header (what ``nib.load`` takes it for)."""
    return raw[344:348] == b"n+1\x00"


def _text(value: Any) -> str:
    if value is None:
        return ""
    raw = np.asarray(value).item()
    if isinstance(raw, bytes):
        return raw.split(b"\x00", 1)[0].decode("latin-1").strip()
    return str(raw).strip()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]

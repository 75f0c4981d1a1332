"""How many voxel bytes a NRRD, MetaImage or DICOM file really holds, measured without allocating.

Readers compare this with what the header declares (``checks.check_data_size``)
so a hostile or damaged header that declares a huge grid is refused before
ITK allocates it. Compressed data is decompressed as a stream and only
counted. ``None`` means "cannot be measured cheaply" (the voxel limit of
``checks.check_shape`` still applies then).
"""

from __future__ import annotations

import bz2
import math
import mmap
import re
import zlib
from pathlib import Path
from typing import Literal

#: Header bytes searched for the end of a NRRD or MetaImage header.
MAX_HEADER_BYTES = 1 << 20
_CHUNK = 1 << 20
#: DICOM transfer syntaxes whose pixel data is stored uncompressed.
_DICOM_UNCOMPRESSED = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"}


_BINARY = re.compile(rb"[^\t\x20-\x7e]")
#: MetaImage fields that MetaIO requires (before ``ElementDataFile``, exact names).
_META_REQUIRED = ("NDims", "DimSize", "ElementType", "ElementDataFile")
#: MetaImage fields MetaIO reads as True or False.
_META_FLAGS = ("BinaryData", "BinaryDataByteOrderMSB", "ElementByteOrderMSB", "CompressedData")
#: MetaImage fields holding one whole number.
_META_COUNTS = ("CompressedDataSize", "HeaderSize")
#: MetaImage fields holding NDims (1) or NDims x NDims (2) numbers.
_META_PER_AXIS = {
    "DimSize": 1,
    "ElementSpacing": 1,
    "ElementSize": 1,
    "Offset": 1,
    "Position": 1,
    "Origin": 1,
    "CenterOfRotation": 1,
    "TransformMatrix": 2,
    "Rotation": 2,
    "Orientation": 2,
}


class CorruptDataError(ValueError):
    """The compressed voxel stream is damaged."""


def itk_stored_bytes(path: Path) -> int | None:
    """Voxel bytes (decompressed) held by a NRRD (``.nrrd``/``.nhdr``) or MetaImage file.

    Parameters
    ----------
    path : Path
        A ``.nrrd``, ``.nhdr``, ``.mha`` or ``.mhd`` file.

    Returns
    -------
    int or None
        Bytes of voxel data stored (counted by streaming decompression, never
        held in memory); None when they cannot be measured cheaply.

    Raises
    ------
    CorruptDataError
        When the compressed voxel stream cannot be decompressed.
    """
    with path.open("rb") as fh:
        head = fh.read(MAX_HEADER_BYTES)
    if head.startswith(b"NRRD"):
        return _nrrd_stored_bytes(path, head)
    return _meta_stored_bytes(path, head)


def metaimage_header_problem(path: Path) -> str | None:
    """What makes a MetaImage header unsafe to hand to ITK, or None.

    ITK's MetaIO parser keeps per-axis fields in fixed arrays of 10 and
    crashes the process on a larger ``NDims``, and corrupts its heap on a header
    line holding binary bytes (e.g. a damaged ``ElementDataFile = LOCAL`` line
    running into the voxel data); such headers are refused here. So are
    headers that MetaIO would fail on, or half read, while printing its
    complaints to ``std::cerr`` itself (no logger catches them): a missing
    required field (MetaIO's names are case-sensitive), a per-axis field with
    fewer than ``NDims`` numbers (MetaIO reads on into the next lines), a
    flag that is not True or False, a data file that is not there, a
    ``CompressedDataSize`` other than the compressed bytes the file holds.

    Parameters
    ----------
    path : Path
        A ``.mha`` or ``.mhd`` file.

    Returns
    -------
    str or None
        A one-line description of the problem.
    """
    with path.open("rb") as fh:
        head = fh.read(MAX_HEADER_BYTES)
    if head.startswith(b"NRRD"):
        return None
    fields: dict[str, str] = {}
    offset = 0
    for line_no, line in enumerate(head.split(b"\n"), 1):
        offset += len(line) + 1
        if _BINARY.search(line.rstrip(b"\r")):
            return f"MetaImage header line {line_no} holds binary bytes"
        key, sep, value = (part.strip() for part in line.decode("latin-1").partition("="))
        problem = _meta_field_problem(key, value, bool(sep), fields)
        if problem is not None:
            return problem
        if sep:
            fields[key] = value
        if key.lower() == "elementdatafile":
            return _meta_data_problem(path, fields, offset)
    return "MetaImage header lacks ElementDataFile"


def _meta_field_problem(key: str, value: str, sep: bool, fields: dict[str, str]) -> str | None:
    """What is wrong with one ``key = value`` line of a MetaImage header, or None."""
    name = key.lower()
    if name in ("ndims", "elementnumberofchannels"):
        number = _int(value)
        top = 4 if name == "ndims" else 1000
        if not sep or number is None or not 1 <= number <= top:
            return f"MetaImage header field {key} = {value[:20]} is invalid"
    if key in _META_FLAGS and value.lower() not in ("true", "false"):
        return f"MetaImage header field {key} = {value[:20]} is not True or False"
    if key in _META_COUNTS and re.fullmatch(r"-?\d+", value) is None:
        return f"MetaImage header field {key} = {value[:20]} is not a whole number"
    power = _META_PER_AXIS.get(key)
    ndims = _int(fields.get("NDims", ""))
    if power is not None and ndims is not None:
        numbers = value.split()[: ndims**power]
        if len(numbers) < ndims**power or not all(_is_number(n) for n in numbers):
            return (
                f"MetaImage header field {key} = {value[:20]} does not hold"
                f" {ndims**power} numbers (NDims = {ndims})"
            )
    return None


def _meta_data_problem(path: Path, fields: dict[str, str], offset: int) -> str | None:
    """What is wrong with where a MetaImage header's voxels are, or None."""
    missing = [f for f in _META_REQUIRED if f not in fields]
    if missing:
        return f"MetaImage header lacks {', '.join(missing)} (names are case-sensitive)"
    data_file = fields["ElementDataFile"]
    if not data_file:
        return "MetaImage header field ElementDataFile is empty"
    if data_file.upper().startswith("LIST"):
        return None
    if "%" in data_file:  # a file-name pattern: "slice%03d.raw first last step"
        parts = data_file.split()
        try:
            first = parts[0] % int(parts[1]) if len(parts) == 4 else None
            int(parts[2]), int(parts[3])
        except (TypeError, ValueError, IndexError, OverflowError):
            first = None
        if first is None:
            return f"MetaImage data file pattern {data_file[:40]} is invalid"
        if not _beside(path, first).is_file():
            return f"MetaImage data file {first} not found"
        return None
    if data_file.upper() == "LOCAL":
        target, start = path, offset
    else:
        target, start = _beside(path, data_file), 0
        if not target.is_file():
            return f"MetaImage data file {data_file[:40]} not found"
    if fields.get("CompressedData", "").lower() == "true" and "CompressedDataSize" in fields:
        declared, held = int(fields["CompressedDataSize"]), target.stat().st_size - start
        if declared != held:
            return (
                f"MetaImage header field CompressedDataSize = {declared}, but the file holds"
                f" {max(held, 0)} compressed bytes"
            )
    return None


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def dicom_pixel_bytes_fit(path: Path, declared: int) -> bool:
    """False when an uncompressed DICOM file is smaller than its declared pixel data.

    Parameters
    ----------
    path : Path
        A DICOM file.
    declared : int
        Pixel data bytes its header declares.

    Returns
    -------
    bool
    """
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head[128:132] != b"DICM":
        return True
    at = head.find(b"\x02\x00\x10\x00UI")
    if at < 0:
        return True
    length = int.from_bytes(head[at + 6 : at + 8], "little")
    syntax = head[at + 8 : at + 8 + length].rstrip(b"\x00 ").decode("ascii", "replace")
    if syntax not in _DICOM_UNCOMPRESSED:
        return True
    return path.stat().st_size >= declared


def _nrrd_stored_bytes(path: Path, head: bytes) -> int | None:
    match = re.search(rb"\r?\n\r?\n", head)
    if match is None:
        return None
    fields: dict[str, str] = {}
    for raw in head[: match.start()].decode("latin-1").splitlines()[1:]:
        if raw.startswith("#") or ":=" in raw or ": " not in raw:
            continue
        key, value = raw.split(": ", 1)
        fields[key.strip().lower()] = value.strip()
    encoding = fields.get("encoding", "raw").lower()
    skip = _int(fields.get("byte skip", "0"))
    data_file = fields.get("data file", fields.get("datafile"))
    if skip is None or skip < -1:
        return None
    if data_file is None:
        target, start = path, match.end()
    else:
        if data_file.upper().startswith("LIST") or " " in data_file or "%" in data_file:
            return None
        target, start = _beside(path, data_file), 0
        if not target.is_file():
            return None
    size = target.stat().st_size - start
    if encoding == "raw":
        return size if skip == -1 else size - skip
    if encoding in ("gz", "gzip"):
        return _inflated_size(target, start, zlib_wbits=47) - max(skip, 0)
    if encoding in ("bz2", "bzip2"):
        return _bunzipped_size(target, start) - max(skip, 0)
    return None  # ascii and hex: ITK reads values one by one


def _meta_stored_bytes(path: Path, head: bytes) -> int | None:
    fields: dict[str, str] = {}
    offset = 0
    for line in head.splitlines(keepends=True):
        offset += len(line)
        text = line.decode("latin-1")
        if "=" not in text:
            return None
        key, value = text.split("=", 1)
        fields[key.strip().lower()] = value.strip()
        if key.strip().lower() == "elementdatafile":
            break
    else:
        return None
    data_file = fields["elementdatafile"]
    if fields.get("binarydata", "true").lower() != "true":
        return None
    compressed = fields.get("compresseddata", "false").lower() == "true"
    header_size = _int(fields.get("headersize", "0"))
    if header_size is None:
        return None
    if data_file.upper() == "LOCAL":
        target, start = path, offset
    else:
        if data_file.upper().startswith("LIST") or " " in data_file or "%" in data_file:
            return None
        target, start = _beside(path, data_file), 0
        if not target.is_file():
            return None
    if compressed:
        return _inflated_size(target, start, zlib_wbits=47)
    size = target.stat().st_size - start
    return size if header_size == -1 else size - max(header_size, 0)


def _beside(path: Path, name: str) -> Path:
    other = Path(name)
    return other if other.is_absolute() else path.parent / other


def _int(text: str) -> int | None:
    try:
        return int(text.split()[0]) if text.split() else None
    except ValueError:
        return None


def _inflated_size(path: Path, start: int, *, zlib_wbits: int) -> int:
    """Decompressed size of a zlib/gzip stream from ``start`` (gzip members may follow)."""
    total = 0
    inflater = zlib.decompressobj(zlib_wbits)
    with path.open("rb") as fh:
        fh.seek(start)
        try:
            while chunk := fh.read(_CHUNK):
                while chunk:
                    total += len(inflater.decompress(chunk, _CHUNK))
                    chunk = inflater.unconsumed_tail
                    if inflater.eof:
                        rest = inflater.unused_data + chunk + fh.read(_CHUNK)
                        if not rest.startswith(b"\x1f\x8b"):
                            return total
                        inflater = zlib.decompressobj(zlib_wbits)
                        chunk = rest
            total += len(inflater.flush())
        except zlib.error as exc:
            raise CorruptDataError(f"corrupt compressed voxel data ({exc})") from None
    return total


def _bunzipped_size(path: Path, start: int) -> int:
    """Decompressed size of a bzip2 stream from ``start``."""
    total = 0
    inflater = bz2.BZ2Decompressor()
    with path.open("rb") as fh:
        fh.seek(start)
        try:
            while not inflater.eof:
                data = b""
                if inflater.needs_input:
                    data = fh.read(_CHUNK)
                    if not data:
                        break
                total += len(inflater.decompress(data, _CHUNK))
        except (OSError, ValueError, EOFError) as exc:
            raise CorruptDataError(f"corrupt compressed voxel data ({exc})") from None
    return total


#: Explicit-VR value representations with a 4-byte length (after 2 reserved bytes).
_LONG_VRS = {
    b"OB",
    b"OD",
    b"OF",
    b"OL",
    b"OV",
    b"OW",
    b"SQ",
    b"SV",
    b"UC",
    b"UN",
    b"UR",
    b"UT",
    b"UV",
}
#: Explicit-VR value representations with a 2-byte length.
_SHORT_VRS = {
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS",
    b"LO", b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
}  # fmt: skip
_UNDEFINED = 0xFFFFFFFF


def dicom_length_problem(path: Path) -> str | None:
    """A data element whose declared length runs past the end of the DICOM file, or None.

    GDCM allocates what a length declares before reading it, so one damaged
    length makes it allocate gigabytes; the elements are walked here first
    (group 0002 explicit little endian, then the data set in its transfer
    syntax; sequences and items are walked into); an unknown explicit value
    representation is refused too, since readers then disagree on how long
    its length field is. Files without the ``DICM`` preamble and deflated
    data sets are not checked.

    Parameters
    ----------
    path : Path
        A DICOM file.

    Returns
    -------
    str or None
        A one-line description of the first problem found.
    """
    with path.open("rb") as fh:
        if fh.read(132)[128:132] != b"DICM":
            return None
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:  # not read into memory
            return _dicom_walk(data)


def _dicom_walk(data: mmap.mmap) -> str | None:
    pos = _walk(data, 132, explicit=True, little=True, stop_group=0x0002)
    if isinstance(pos, str):
        return pos
    syntax = _meta_syntax(data)
    if syntax == "1.2.840.10008.1.2.1.99":
        return None
    explicit = syntax != "1.2.840.10008.1.2"
    little = syntax != "1.2.840.10008.1.2.2"
    end = _walk(data, pos, explicit=explicit, little=little, stop_group=None)
    return end if isinstance(end, str) else None


def _meta_syntax(data: mmap.mmap) -> str:
    at = data.find(b"\x02\x00\x10\x00UI", 132)
    if at < 0:
        return "1.2.840.10008.1.2.1"
    length = int.from_bytes(data[at + 6 : at + 8], "little")
    return data[at + 8 : at + 8 + length].rstrip(b"\x00 ").decode("ascii", "replace")


def _walk(
    data: mmap.mmap, pos: int, *, explicit: bool, little: bool, stop_group: int | None
) -> int | str:
    """Walk data elements from ``pos``; the offset where the walk ended, or the problem."""
    order: Literal["little", "big"] = "little" if little else "big"
    size = len(data)
    while pos + 8 <= size:
        group = int.from_bytes(data[pos : pos + 2], order)
        element = int.from_bytes(data[pos + 2 : pos + 4], order)
        if stop_group is not None and group != stop_group:
            return pos
        if group == 0xFFFE:  # item and delimiters: 4-byte length, walk into items
            length = int.from_bytes(data[pos + 4 : pos + 8], order)
            pos += 8
            if element == 0xE000 and length != _UNDEFINED and length > size - pos:
                return f"DICOM item at byte {pos - 8} declares {length} bytes past the file end"
            continue
        vr = data[pos + 4 : pos + 6]
        if explicit:
            if vr in _LONG_VRS:
                length = int.from_bytes(data[pos + 8 : pos + 12], order)
                pos += 12
            elif vr in _SHORT_VRS:
                length = int.from_bytes(data[pos + 6 : pos + 8], order)
                pos += 8
            else:  # readers disagree on its length field: GDCM may allocate gigabytes
                return (
                    f"DICOM element ({group:04X},{element:04X}) has an unknown value"
                    f" representation {vr!r}"
                )
        else:
            length = int.from_bytes(data[pos + 4 : pos + 8], order)
            pos += 8
        if length == _UNDEFINED:
            if (group, element) == (0x7FE0, 0x0010):
                return pos  # encapsulated pixel data: fragments follow
            continue  # an undefined-length sequence: walk into it
        if length > size - pos:
            return (
                f"DICOM element ({group:04X},{element:04X}) declares {length} bytes,"
                f" only {size - pos} remain in the file"
            )
        if explicit and vr == b"SQ":
            continue  # walk into the items of a defined-length sequence
        pos += length
    return pos

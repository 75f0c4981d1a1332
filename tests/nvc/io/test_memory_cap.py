"""Hostile headers that declare huge grids are refused without allocating: a loader process
capped at a small address space still answers each with VolumeLoadError."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
import SimpleITK as sitk

from nvc.volume import Volume, to_sitk
from tests.helpers import marker_volume, write_dicom_series

CHILD = """
import json, resource, sys
from nvc.io import VolumeLoadError, load_volume
cap = int(sys.argv[1]) * 2**20
base = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (base + cap, base + cap))
out = {}
for path in sys.argv[2:]:
    try:
        load_volume(path)
        out[path] = "loaded"
    except VolumeLoadError as err:
        out[path] = "refused: " + err.problem
    except BaseException as exc:
        out[path] = f"UNEXPECTED {type(exc).__name__}: {exc}"
print(json.dumps(out))
"""


def _itk(path: Path, compress: bool) -> Path:
    vol = Volume(np.zeros((8, 8, 8), np.int16), np.eye(4))
    sitk.WriteImage(to_sitk(vol, np.int16), str(path), compress)
    return path


def _hostile_files(root: Path) -> list[Path]:
    files = []
    # NIfTI (plain and gzip) declaring 1000^3 int16 voxels (2 GB) over 1 KB of data
    for name in ("huge.nii", "huge.nii.gz"):
        img = nib.Nifti1Image(np.zeros((8, 8, 8), np.int16), np.eye(4))
        nib.save(img, root / "tmp.nii")
        raw = bytearray((root / "tmp.nii").read_bytes())
        struct.pack_into("<8h", raw, 40, 3, 1000, 1000, 1000, 1, 1, 1, 1)
        data = bytes(raw)
        (root / name).write_bytes(zlib.compress(data, wbits=31) if name.endswith("gz") else data)
        files.append(root / name)
    # NRRD raw and gzip, MetaImage raw and zlib, declaring 1000^3 voxels
    for name, compress in (
        ("raw.nrrd", False),
        ("gz.nrrd", True),
        ("raw.mha", False),
        ("z.mha", True),
    ):
        path = _itk(root / name, compress)
        raw = path.read_bytes()
        raw = raw.replace(b"sizes: 8 8 8", b"sizes: 1000 1000 1000").replace(
            b"DimSize = 8 8 8", b"DimSize = 1000 1000 1000"
        )
        path.write_bytes(raw)
        files.append(path)
    # MetaImage with an NDims that crashes ITK's parser
    path = _itk(root / "ndims.mha", False)
    path.write_bytes(path.read_bytes().replace(b"NDims = 3", b"NDims = 4294967297"))
    files.append(path)
    # MetaImage whose "ElementDataFile = LOCAL" line runs into the voxel data (heap corruption)
    path = _itk(root / "local.mha", True)
    path.write_bytes(path.read_bytes().replace(b"= LOCAL\n", b"= LOCAL\x08", 1))
    files.append(path)
    # DICOM: an unknown value representation in the meta header; an element longer than the file
    for name, edit in (
        ("dicom_vr", lambda raw: raw.replace(b"\x02\x00\x12\x00UI", b"\x02\x00\x12\x00UM", 1)),
        (
            "dicom_len",
            lambda raw: raw.replace(
                b"\x08\x00\x60\x00\x02\x00\x00\x00", b"\x08\x00\x60\x00\x00\x00\x00\x70", 1
            ),
        ),
    ):
        folder = write_dicom_series(marker_volume(np.diag([0.5, 0.5, 1.0, 1.0])), root / name)
        first = sorted(folder.iterdir())[0]
        raw = first.read_bytes()
        first.write_bytes(edit(raw))
        assert first.read_bytes() != raw
        files.append(folder)
    # DICOM series whose slices declare 5000 x 5000 pixels (800 MB as int16)
    folder = write_dicom_series(marker_volume(np.diag([0.5, 0.5, 1.0, 1.0])), root / "dicom")
    for f in folder.iterdir():
        raw = f.read_bytes()
        for tag in (b"\x28\x00\x10\x00", b"\x28\x00\x11\x00"):  # Rows, Columns
            at = raw.find(tag + b"\x02\x00\x00\x00")  # implicit VR, 2 bytes
            assert at > 0
            raw = raw[: at + 8] + struct.pack("<H", 5000) + raw[at + 10 :]
        f.write_bytes(raw)
    files.append(folder)
    return files


def test_hostile_headers_are_refused_under_a_memory_cap(tmp_path):
    files = _hostile_files(tmp_path)
    run = subprocess.run(
        [sys.executable, "-c", CHILD, "400", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    outcomes = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(outcomes) == len(files)
    for path, outcome in outcomes.items():
        assert outcome.startswith("refused"), (path, outcome)
        assert "memory" not in outcome.lower(), (path, outcome)

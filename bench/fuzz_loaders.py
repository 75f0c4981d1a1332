"""Fuzz ``nvc.io.load_volume`` with mutated NIfTI, NIfTI.gz, NRRD and MetaImage files.

Run: ``python -m bench.fuzz_loaders --count 10000 --seed 0``. Prints a table of
outcomes: loaded (a valid Volume), refused with ``VolumeLoadError`` (by kind of
problem), or unexpected (any other exception, a Volume that breaks its
invariants, or an input that takes too long). Unexpected inputs are saved into
``--save DIR`` for reproduction; they are bugs to fix in ``nvc/io``. Exit code 1
when any input was unexpected.

Mutations of small valid seed files (and of one slice of a 3-slice DICOM
series, loaded as a folder): bit flips (mostly in the header), byte
runs overwritten, truncation, bytes inserted, NIfTI header fields overwritten
with hostile values (also inside the gzip stream), NRRD/MetaImage header values
replaced (huge, zero, negative, non-numeric sizes, types, encodings, data file
names), DICOM elements overwritten (sizes, bits, spacing, position,
orientation, series UID, pixel data length, transfer syntax), and random
bytes under a valid name.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import gzip
import multiprocessing
import re
import resource
import shutil
import struct
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import SimpleITK as sitk

from nvc.io import VolumeLoadError, load_volume, save_nifti
from nvc.volume import Volume, to_sitk

#: Seconds one input may take before it counts as a hang.
TIME_LIMIT_S = 10.0
#: Peak resident memory (MB) of the loader process beyond which an input counts as a large
#: allocation (the inputs are a few KB; a Volume of them needs well under 1 MB).
RSS_LIMIT_MB = 600.0
_NIFTI_FIELDS = [
    (name, nib.Nifti1Header.template_dtype.fields[name][1], dtype)
    for name, dtype in (
        (n, nib.Nifti1Header.template_dtype.fields[n][0])
        for n in nib.Nifti1Header.template_dtype.names
    )
]
_HOSTILE_INTS = [0, 1, -1, 2, 3, 4, 7, 8, 255, 256, 32767, -32768, 65535, 2**31 - 1, -(2**31)]
_HOSTILE_FLOATS = [0.0, -0.0, 1.0, -1.0, 1e-30, 1e30, 3.4e38, float("nan"), float("inf"), -1e-9]
_HOSTILE_TOKENS = [
    "0",
    "-1",
    "1",
    "2",
    "4294967297",
    "99999999999999999999",
    "30000 30000 30000",
    "100000 100000 100000",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "",
    "abc",
    "(nan,0,0) (0,1,0) (0,0,1)",
    "(0,0,0) (0,0,0) (0,0,0)",
    "double",
    "uchar",
    "MET_DOUBLE",
    "MET_UCHAR_ARRAY",
    "gzip",
    "bzip2",
    "raw",
    "ascii",
    "hex",
    "True",
    "False",
    "LOCAL",
    "../../etc/passwd",
    "missing.raw",
    "LIST",
    "%d.raw 1 5 1",
    "4 4 4 4",
    "1 0 0 0 1 0 0 0 0",
]


@dataclass
class Outcomes:
    """Counts of outcomes by kind, and the unexpected ones in detail."""

    counts: collections.Counter[str] = field(default_factory=collections.Counter)
    by_format: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    unexpected: list[tuple[int, str, str]] = field(default_factory=list)
    seconds: float = 0.0
    slowest_s: float = 0.0
    peak_rss_mb: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def n_unexpected(self) -> int:
        return sum(v for k, v in self.counts.items() if k.startswith("UNEXPECTED"))


def seed_files(workdir: Path) -> dict[str, bytes]:
    """Small valid files of every format, as bytes keyed by file name."""
    rng = np.random.default_rng(1)
    affine = np.array(
        [[0.0, 0.0, 1.2, -20.0], [-0.5, 0.0, 0.0, 15.0], [0.0, 0.7, 0.0, -8.0], [0, 0, 0, 1]]
    )
    vol16 = Volume(rng.integers(0, 900, (9, 7, 6)).astype(np.int16), affine)
    vol32 = Volume(rng.normal(0, 1, (5, 6, 7)).astype(np.float32), np.diag([0.4, 0.5, 0.9, 1.0]))
    out: dict[str, bytes] = {}
    for stem, vol in (("a", vol16), ("b", vol32)):
        for suffix in (".nii", ".nii.gz"):
            out[stem + suffix] = save_nifti(vol, workdir / f"{stem}{suffix}").read_bytes()
        for suffix, compress in ((".nrrd", False), (".mha", False)):
            path = workdir / f"{stem}{suffix}"
            sitk.WriteImage(to_sitk(vol, vol.array.dtype.type), str(path), compress)
            out[stem + suffix] = path.read_bytes()
        for suffix in (".nrrd", ".mha"):
            path = workdir / f"{stem}z{suffix}"
            sitk.WriteImage(to_sitk(vol, vol.array.dtype.type), str(path), True)
            out[f"{stem}z{suffix}"] = path.read_bytes()
    n2 = nib.Nifti2Image(np.asarray(vol16.array), vol16.affine)
    nib.save(n2, workdir / "c.nii")
    out["c.nii"] = (workdir / "c.nii").read_bytes()
    return out


def dicom_seed(workdir: Path, slices: int = 3) -> list[bytes]:
    """A small valid MR DICOM series (one file per slice), as the bytes of each file."""
    image = sitk.GetImageFromArray(np.arange(slices * 6 * 5, dtype=np.int16).reshape(slices, 6, 5))
    image.SetSpacing((0.5, 0.6, 1.1))
    image.SetOrigin((10.0, -20.0, 5.0))
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    uid = "1.2.826.0.1.3680043.2.1125.77"
    out = []
    for k in range(slices):
        sl = image[:, :, k]
        tags = {
            "0008|0060": "MR",
            "0020|000e": uid,
            "0020|000d": uid + ".0",
            "0008|0016": "1.2.840.10008.5.1.4.1.1.4",
            "0008|0018": f"{uid}.{k + 1}",
            "0020|0037": "1\\0\\0\\0\\1\\0",
            "0020|0032": "\\".join(
                f"{v:.4f}" for v in image.TransformIndexToPhysicalPoint((0, 0, k))
            ),
            "0020|0013": str(k + 1),
            "0018|0050": "1.1",
            "0028|0030": "0.6\\0.5",
        }
        for key, val in tags.items():
            sl.SetMetaData(key, val)
        path = workdir / f"slice{k}.dcm"
        writer.SetFileName(str(path))
        writer.Execute(sl)
        out.append(path.read_bytes())
    return out


#: DICOM elements overwritten by the "dicom_field" mutation (group, element as stored).
_DICOM_TAGS = [
    b"\x28\x00\x10\x00",  # Rows
    b"\x28\x00\x11\x00",  # Columns
    b"\x28\x00\x00\x01",  # BitsAllocated
    b"\x28\x00\x01\x01",  # BitsStored
    b"\x28\x00\x02\x00",  # SamplesPerPixel
    b"\x28\x00\x03\x01",  # PixelRepresentation
    b"\x28\x00\x30\x00",  # PixelSpacing
    b"\x20\x00\x32\x00",  # ImagePositionPatient
    b"\x20\x00\x37\x00",  # ImageOrientationPatient
    b"\x18\x00\x50\x00",  # SliceThickness
    b"\x20\x00\x0e\x00",  # SeriesInstanceUID
    b"\xe0\x7f\x10\x00",  # PixelData
    b"\x02\x00\x10\x00",  # TransferSyntaxUID
]


def _mutate_dicom_field(data: bytes, rng: np.random.Generator) -> bytes:
    tag = _DICOM_TAGS[int(rng.integers(0, len(_DICOM_TAGS)))]
    at = data.find(tag, 132)
    if at < 0:
        return data
    buf = bytearray(data)
    explicit = data[at + 4 : at + 6].isalpha() and data[at + 4 : at + 6].isupper()
    if rng.random() < 0.3:  # the length field itself
        pos = at + (6 if explicit else 4)
        width = 2 if explicit else 4
        buf[pos : pos + width] = rng.bytes(width)
        return bytes(buf)
    length_at, value_at = (at + 6, at + 8) if explicit else (at + 4, at + 8)
    length = int.from_bytes(data[length_at : length_at + (2 if explicit else 4)], "little")
    length = min(length, len(data) - value_at)
    if length == 2:
        value = int(rng.choice([0, 1, 3, 7, 8, 12, 16, 32, 64, 255, 32767, 65535]))
        buf[value_at : value_at + 2] = value.to_bytes(2, "little")
    elif length > 0:
        token = str(rng.choice([*_HOSTILE_TOKENS, "0\\0\\0\\0\\0\\0", "1\\0\\0\\1\\0\\0"]))
        buf[value_at : value_at + length] = token.encode().ljust(length)[:length]
    return bytes(buf)


def mutate(name: str, data: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """One random mutation of a seed file; returns (mutation kind, bytes)."""
    is_gz = name.endswith(".gz")
    is_nifti = ".nii" in name
    plain = gzip.decompress(data) if is_gz else data
    kinds = ["bitflip", "overwrite", "truncate", "insert", "random"]
    if is_nifti:
        kinds += ["nifti_field"] * 4
    elif name.endswith(".dcm"):
        kinds += ["dicom_field"] * 4
    else:
        kinds += ["text_field"] * 4
    kind = str(rng.choice(kinds))
    if kind == "random":
        return kind, rng.bytes(int(rng.integers(0, 2000)))
    # gzip seeds: mutate the compressed bytes half the time, the content otherwise
    target = plain if (is_gz and (kind.endswith("field") or rng.random() < 0.5)) else data
    buf = bytearray(target)
    if kind == "bitflip":
        header = 600 if rng.random() < 0.7 else len(buf)
        for _ in range(int(rng.integers(1, 9))):
            i = int(rng.integers(0, min(header, len(buf))))
            buf[i] ^= 1 << int(rng.integers(0, 8))
    elif kind == "overwrite":
        i = int(rng.integers(0, len(buf)))
        n = int(rng.integers(1, 32))
        buf[i : i + n] = rng.bytes(n)
    elif kind == "truncate":
        buf = buf[: int(rng.integers(0, len(buf)))]
    elif kind == "insert":
        i = int(rng.integers(0, len(buf)))
        buf[i:i] = rng.bytes(int(rng.integers(1, 64)))
    elif kind == "nifti_field":
        buf = bytearray(_mutate_nifti_field(bytes(buf), rng))
    elif kind == "dicom_field":
        buf = bytearray(_mutate_dicom_field(bytes(buf), rng))
    else:
        buf = bytearray(_mutate_text_field(bytes(buf), rng))
    out = bytes(buf)
    if is_gz and target is plain:
        out = gzip.compress(out, compresslevel=1)
    return kind, out


def _mutate_nifti_field(data: bytes, rng: np.random.Generator) -> bytes:
    if len(data) < 348 or struct.unpack_from("<i", data, 0)[0] != 348:
        return data  # NIfTI-2 seed: generic overwrite at a header offset instead
    name, offset, dtype = _NIFTI_FIELDS[int(rng.integers(0, len(_NIFTI_FIELDS)))]
    buf = bytearray(data)
    base = dtype.base if dtype.subdtype else dtype
    count = dtype.itemsize // base.itemsize
    if base.kind in "iu":
        pool = [v for v in _HOSTILE_INTS if np.can_cast(np.min_scalar_type(v), base)]
        values = [int(rng.choice(pool or [0])) for _ in range(count)]
        if name == "dim" and rng.random() < 0.5:
            values = [3] + [int(rng.choice([1, 2, 30000, 32767])) for _ in range(count - 1)]
    elif base.kind == "f":
        values = [float(rng.choice(_HOSTILE_FLOATS)) for _ in range(count)]
    else:
        buf[offset : offset + dtype.itemsize] = rng.bytes(dtype.itemsize)
        return bytes(buf)
    if rng.random() < 0.5:  # hit one element only
        one = int(rng.integers(0, count))
        current = np.frombuffer(data, base.newbyteorder("<"), count, offset).tolist()
        current[one] = values[one]
        values = current
    packed = np.asarray(values, dtype=np.float64 if base.kind == "f" else np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        raw = packed.astype(base.newbyteorder("<")).tobytes()
    buf[offset : offset + dtype.itemsize] = raw
    return bytes(buf)


def _mutate_text_field(data: bytes, rng: np.random.Generator) -> bytes:
    end = data.find(b"\n\n")
    if end < 0:
        end = data.find(b"ElementDataFile")
        end = data.find(b"\n", end) if end >= 0 else -1
    if end < 0:
        return data
    lines = data[:end].split(b"\n")
    i = int(rng.integers(1 if data.startswith(b"NRRD") else 0, len(lines)))
    sep = b": " if b": " in lines[i] else b" = "
    if sep not in lines[i]:
        return data
    key = lines[i].split(sep, 1)[0]
    token = str(rng.choice(_HOSTILE_TOKENS)).encode()
    if rng.random() < 0.2:
        lines.pop(i)
    else:
        lines[i] = key + sep + token
    return b"\n".join(lines) + data[end:]


def _format_of(name: str) -> str:
    if name.endswith(".dcm"):
        return "DICOM"
    if name.startswith("c"):
        return "NIfTI-2"
    suffix = name.split(".", 1)[1]
    compressed = name.split(".")[0].endswith("z")
    return {"nii": "NIfTI", "nii.gz": "NIfTI.gz", "nrrd": "NRRD", "mha": "MetaImage"}[suffix] + (
        " (compressed)" if compressed else ""
    )


def check_volume(vol: Any) -> str | None:
    """None when ``vol`` keeps the Volume invariants, else what is wrong."""
    if not isinstance(vol, Volume):
        return f"returned {type(vol).__name__}"
    a = np.asarray(vol.array)
    if a.ndim != 3 or a.size == 0:
        return f"array shape {a.shape}"
    if a.dtype.kind not in "biuf":
        return f"dtype {a.dtype}"
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        return "non-finite voxels"
    if not np.all(np.isfinite(vol.affine)) or np.any(vol.spacing <= 0):
        return "bad affine"
    return None


def problem_kind(err: VolumeLoadError) -> str:
    """The problem of an error without numbers and details, to count like errors together."""
    text = re.sub(r"\(.*", "", err.problem)
    text = re.sub(r"[-+]?\d[\d.e+-]*", "N", text)
    return text.split(";")[0].split(":")[0].strip()[:70]


def _load_outcome(path: Path) -> str:
    """Outcome of loading one input (runs in the worker process)."""
    try:
        wrong = check_volume(load_volume(path))
        return "loaded" if wrong is None else f"UNEXPECTED invalid Volume: {wrong}"
    except VolumeLoadError as err:
        if "\n" in str(err) or path.name not in str(err):
            return "UNEXPECTED error message not one line naming the file"
        return f"refused: {problem_kind(err)}"
    except Exception as exc:
        return f"UNEXPECTED {type(exc).__name__}: {str(exc)[:60]}"


def _worker(conn: Any, memory_mb: int) -> None:
    """Load the paths sent through ``conn`` under an address-space cap; send outcomes back."""
    limit = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while (msg := conn.recv()) is not None:
        outcome = _load_outcome(Path(msg))
        conn.send((outcome, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


class _Worker:
    """A loader process that is restarted when an input kills it or hangs it."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self.ctx = multiprocessing.get_context("spawn")
        self._start()

    def _start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child, self.memory_mb), daemon=True)
        self.proc.start()

    def load(self, path: Path) -> tuple[str, float]:
        self.conn.send(str(path))
        try:
            if self.conn.poll(TIME_LIMIT_S):
                outcome, rss = self.conn.recv()
                if rss <= RSS_LIMIT_MB:
                    return outcome, rss
                self.close()  # its peak stays high: start afresh
                self._start()
                return f"UNEXPECTED large allocation (peak RSS over {RSS_LIMIT_MB:.0f} MB)", rss
            outcome = f"UNEXPECTED hang (over {TIME_LIMIT_S:.0f} s)"
        except EOFError:
            self.proc.join(5)
            outcome = f"UNEXPECTED crash of the process (exit code {self.proc.exitcode})"
        self.close()
        self._start()
        return outcome, 0.0

    def close(self) -> None:
        if self.proc.is_alive():
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


def fuzz(count: int, seed: int, *, save: Path | None = None, memory_mb: int = 3000) -> Outcomes:
    """Load ``count`` mutated inputs in a capped worker process; count outcomes.

    Unexpected inputs are copied into ``save`` (named by seed, index, mutation and seed file).
    """
    rng = np.random.default_rng(seed)
    outcomes = Outcomes()
    worker = _Worker(memory_mb)
    try:
        with tempfile.TemporaryDirectory(prefix="nvc-fuzz-") as tmp:
            work = Path(tmp)
            (work / "seeds").mkdir()
            seeds = seed_files(work / "seeds")
            series = dicom_seed(work / "seeds")
            names = [*sorted(seeds), "series.dcm"]
            start = time.perf_counter()
            for n in range(count):
                name = names[n % len(names)]
                if name == "series.dcm":  # a DICOM folder with one slice mutated
                    path = work / f"case{n}_dicom"
                    path.mkdir()
                    which = int(rng.integers(0, len(series)))
                    for k, raw in enumerate(series):
                        if k == which:
                            kind, raw = mutate(name, raw, rng)
                        (path / f"slice{k}.dcm").write_bytes(raw)
                else:
                    kind, data = mutate(name, seeds[name], rng)
                    path = work / f"case{n}_{name}"
                    path.write_bytes(data)
                t0 = time.perf_counter()
                outcome, rss = worker.load(path)
                outcomes.slowest_s = max(outcomes.slowest_s, time.perf_counter() - t0)
                outcomes.peak_rss_mb = max(outcomes.peak_rss_mb, rss)
                outcomes.counts[outcome] += 1
                outcomes.by_format[(_format_of(name), outcome.split(" ")[0].rstrip(":"))] += 1
                if outcome.startswith("UNEXPECTED"):
                    outcomes.unexpected.append((n, kind, outcome))
                    if save is not None:
                        save.mkdir(parents=True, exist_ok=True)
                        copy = shutil.copytree if path.is_dir() else shutil.copy
                        copy(path, save / f"fuzz{seed}_{n}_{kind}_{name}")
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            outcomes.seconds = time.perf_counter() - start
    finally:
        worker.close()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000, help="inputs to try")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the mutations")
    parser.add_argument(
        "--save", type=Path, default=Path("fuzz_failures"), help="folder for unexpected inputs"
    )
    parser.add_argument(
        "--memory-mb", type=int, default=3000, help="address-space cap of the loader process"
    )
    args = parser.parse_args(argv)
    res = fuzz(args.count, args.seed, save=args.save, memory_mb=args.memory_mb)
    print(f"{'outcome':<78} {'inputs':>7}")
    for outcome, n in sorted(res.counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"{outcome[:78]:<78} {n:>7}")
    print(f"{'total':<78} {res.total:>7}")
    print(f"\n{'format':<24} {'loaded':>8} {'refused':>8} {'unexpected':>11}")
    for fmt in sorted({f for f, _ in res.by_format}):
        row = [res.by_format[(fmt, k)] for k in ("loaded", "refused", "UNEXPECTED")]
        print(f"{fmt:<24} {row[0]:>8} {row[1]:>8} {row[2]:>11}")
    print(
        f"\n{res.total} inputs in {res.seconds:.0f} s (slowest {res.slowest_s:.2f} s),"
        f" loader peak RSS {res.peak_rss_mb:.0f} MB (cap {args.memory_mb} MB of address space),"
        f" unexpected {res.n_unexpected}" + (f" (saved in {args.save})" if res.n_unexpected else "")
    )
    return 1 if res.n_unexpected else 0


if __name__ == "__main__":
    sys.exit(main())

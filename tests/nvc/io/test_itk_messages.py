"""ITK's messages are caught per thread through ITK's logger, never by redirecting stderr (fd 2).

The napari widget loads files in a worker thread while the rest of the
program (other threads) keeps writing to stderr.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from nvc.io import VolumeLoadError, load_volume
from nvc.io.itk import itk_messages

ROUNDS = 30
NO_SERIES = "No Series were found"


def _nrrd(path: Path, shape: tuple[int, int, int]) -> Path:
    noise = np.random.default_rng(0).normal(size=shape[::-1]).astype(np.float32)
    sitk.WriteImage(sitk.GetImageFromArray(noise), str(path), useCompression=True)
    return path


def test_two_loads_in_threads_keep_their_messages_and_stderr_intact(tmp_path, capfd):
    empty = tmp_path / "empty_dicom"
    empty.mkdir()
    image = _nrrd(tmp_path / "image.nrrd", (96, 96, 96))  # ITK reads it with the GIL released
    start, reader_done = threading.Barrier(2), threading.Event()
    loaded: list[tuple[tuple[int, ...], list[str]]] = []
    refused: list[tuple[str, list[str]]] = []
    written: list[str] = []

    def reader() -> None:  # loads an image, ITK silent
        start.wait()
        try:
            for _ in range(ROUNDS):
                with itk_messages() as seen:
                    vol = load_volume(image)
                loaded.append((vol.array.shape, list(seen)))
        finally:
            reader_done.set()

    def writer() -> None:  # loads a bad folder (ITK warns each time) and writes to stderr
        start.wait()
        while not reader_done.is_set() or len(written) < ROUNDS:
            with itk_messages() as seen:
                try:
                    load_volume(empty)
                except VolumeLoadError as exc:
                    refused.append((str(exc), list(seen)))
            line = f"writer line {len(written)}"
            os.write(2, (line + "\n").encode())
            written.append(line)

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    os.write(2, b"main thread after the loads\n")
    err = capfd.readouterr().err.splitlines()
    assert err == [*written, "main thread after the loads"], "stderr lost or gained lines"
    assert len(loaded) == ROUNDS and len(refused) == len(written)
    for shape, seen in loaded:
        assert shape == (96, 96, 96) and seen == [], seen  # none of the other thread's
    for message, seen in refused:
        assert "no DICOM series" in message
        assert any(NO_SERIES in line for line in seen), seen  # its own warning, caught


def test_messages_outside_a_block_still_reach_stderr(tmp_path, capfd):
    empty = tmp_path / "empty_dicom"
    empty.mkdir()
    with pytest.raises(VolumeLoadError):
        load_volume(empty)  # installs the logger
    assert NO_SERIES not in capfd.readouterr().err
    assert sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(empty)) == ()
    assert NO_SERIES in capfd.readouterr().err  # not ours to silence: ITK prints it as before


def _header_variants(tmp_path: Path) -> dict[str, bytes]:
    path = tmp_path / "v.mha"
    sitk.WriteImage(sitk.Image(5, 4, 3, sitk.sitkInt16), str(path))
    head, sep, data = path.read_bytes().partition(b"ElementDataFile = LOCAL\n")
    assert b"DimSize = 5 4 3\n" in head and b"ElementType = MET_SHORT\n" in head
    packed = tmp_path / "c.mha"
    sitk.WriteImage(sitk.Image(5, 4, 3, sitk.sitkInt16), str(packed), True)
    zipped = packed.read_bytes()
    size = zipped.split(b"CompressedDataSize = ", 1)[1].split(b"\n", 1)[0]
    return {
        "BinaryData = 42 is not True or False": head.replace(
            b"BinaryData = True", b"BinaryData = 42"
        )
        + sep
        + data,
        "ElementDataFile is empty": head + b"ElementDataFile = \n" + data,
        "CompressedDataSize = 99999, but the file holds": zipped.replace(
            b"CompressedDataSize = " + size, b"CompressedDataSize = 99999"
        ),
        "lacks DimSize": head.replace(b"DimSize", b"dimsize") + sep + data,
        "lacks ElementType": head.replace(b"ElementType = MET_SHORT\n", b"") + sep + data,
        "DimSize = 5 4 does not hold 3 numbers": head.replace(b"DimSize = 5 4 3", b"DimSize = 5 4")
        + sep
        + data,
        "lacks ElementDataFile": head,
        "data file gone.raw not found": head + b"ElementDataFile = gone.raw\n",
    }


def test_metaimage_headers_metaio_would_complain_about_are_refused_first(tmp_path, capfd):
    """MetaIO prints these complaints to std::cerr itself (no logger catches them)."""
    for problem, content in _header_variants(tmp_path).items():
        path = tmp_path / "bad.mha"
        path.write_bytes(content)
        with pytest.raises(VolumeLoadError) as info:
            load_volume(path)
        assert problem in str(info.value), (problem, str(info.value))
    assert capfd.readouterr().err == ""

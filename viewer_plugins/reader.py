"""napari readers: NIfTI / NRRD / MetaImage volumes and nvc results folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from nvc.io import VolumeLoadError, label_table_path, load_volume, read_label_table
from nvc.labels import LABEL_TABLE, LabelInfo
from nvc.volume import Volume
from nvc_napari.layers import LayerData, case_layers, image_layer, labels_layer
from nvc_pipelines.results import is_results_folder, load_results

SUFFIXES = (".nii", ".nii.gz", ".nrrd", ".nhdr", ".mha", ".mhd")
#: Names that mark a label map (BIDS ``dseg``, ``labels``, ``mask`` ...).
LABEL_WORDS = ("label", "dseg", "seg", "mask")
#: An integer image with at most this many distinct values is a label map.
MAX_LABELS = 64

ReaderFunction = Callable[[str | list[str]], list[LayerData]]


def get_reader(path: str | list[str]) -> ReaderFunction | None:
    """napari reader contribution: a reader for ``path``, or None when it is not ours."""
    paths = [path] if isinstance(path, str) else list(path)
    if not paths:
        return None
    for p in paths:
        if not (is_results_folder(p) or str(p).lower().endswith(SUFFIXES)):
            return None
    return read


def read(path: str | list[str]) -> list[LayerData]:
    """Layers of each path: a results folder's case, or one Image / Labels layer per volume."""
    paths = [path] if isinstance(path, str) else list(path)
    layers: list[LayerData] = []
    for p in paths:
        if is_results_folder(p):
            layers += case_layers(load_results(p))
        else:
            layers.append(volume_layer(Path(p)))
    return layers


def volume_layer(path: Path) -> LayerData:
    """One volume file as Labels (a label map) or Image, placed in RAS mm."""
    volume = load_volume(path)
    name = _stem(path)
    if is_label_map(path, volume):
        return labels_layer(_as_labels(volume), name, table=_table_for(path), opacity=0.5)
    return image_layer(volume, name, colormap="gray")


def is_label_map(path: Path, volume: Volume) -> bool:
    """A label table beside it, a label-like name, or few non-negative integer values."""
    if label_table_path(path).is_file():
        return True
    a = np.asarray(volume.array)
    if a.dtype.kind == "f":
        sample = a.ravel()[:: max(1, a.size // 200_000)]
        if not np.array_equal(sample, np.round(sample)):
            return False
    elif a.dtype.kind not in "iub":
        return False
    if a.size and float(a.min()) < 0:
        return False
    if any(w in _stem(path).lower() for w in LABEL_WORDS):
        return True
    return len(np.unique(a.ravel()[:: max(1, a.size // 2_000_000)])) <= MAX_LABELS


def _as_labels(volume: Volume) -> Volume:
    a = np.asarray(volume.array)
    if a.dtype.kind == "f" or a.dtype.itemsize > 2 or a.dtype.kind == "b":
        a = np.round(a).astype(np.uint16) if a.dtype.kind == "f" else a.astype(np.uint16)
    return volume.with_array(a)


def _table_for(path: Path) -> tuple[LabelInfo, ...]:
    if label_table_path(path).is_file():
        try:
            return read_label_table(path)
        except (OSError, ValueError) as exc:
            raise VolumeLoadError(label_table_path(path), str(exc)) from None
    return LABEL_TABLE


def _stem(path: Path) -> str:
    name = path.name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name

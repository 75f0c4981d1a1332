"""The npe2 manifest is valid and its sample data places layers in RAS mm."""

from __future__ import annotations

import warnings
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np

import nvc_napari

MANIFEST = Path(nvc_napari.__file__).with_name("napari.yaml")


def test_manifest_validates_and_commands_resolve():
    with warnings.catch_warnings():
        # npe2 declares pydantic v1-style fields; pydantic 2 warns at import. Not our code.
        warnings.simplefilter("ignore", DeprecationWarning)
        from npe2 import PluginManifest
    manifest = PluginManifest.from_file(MANIFEST)
    assert manifest.name == "nvc"
    for command in manifest.contributions.commands or []:
        module, _, attr = command.python_name.partition(":")
        assert callable(getattr(import_module(module), attr))


def test_entry_point_is_registered():
    eps = [ep for ep in entry_points(group="napari.manifest") if ep.name == "nvc"]
    assert eps and eps[0].value == "nvc_napari:napari.yaml"


def test_labels_layer_tuple_carries_affine_and_colours(phantom_case):
    from nvc_napari.layers import labels_layer, to_world

    data, kwargs, kind = labels_layer(phantom_case.labels, "truth")
    assert kind == "labels" and data.ndim == 3
    # a brainstem voxel's RAS position lands on brainstem in the layer (world (z, y, x) mm)
    voxel = np.argwhere(phantom_case.labels.array == 1)[0]
    world = to_world(phantom_case.labels.voxel_to_world(voxel))
    index = np.linalg.inv(kwargs["affine"]) @ [*world, 1.0]
    assert data[tuple(np.round(index[:3]).astype(int))] == 1
    assert kwargs["colormap"][2][:3] != kwargs["colormap"][4][:3]  # nerve and artery differ
    assert kwargs["colormap"][0][3] == 0.0  # background transparent

"""One surface extraction for the report and the viewer (``nvc.surface``)."""

from __future__ import annotations

import numpy as np
import pytest

from nvc.surface import label_surface


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_a_one_voxel_line_gives_a_closed_surface_around_it(axis):
    mask = np.zeros((9, 9, 9), bool)
    index = [4, 4, 4]
    index[axis] = slice(2, 7)  # type: ignore[call-overload]
    mask[tuple(index)] = True
    affine = np.diag([0.5, 0.5, 0.5, 1.0])
    mesh = label_surface(mask, affine)
    assert len(mesh.faces) > 0
    centre = np.full(3, 4 * 0.5)
    off_axis = np.delete(mesh.vertices - centre, axis, axis=1)
    # the voxel surface of the line: half a voxel (0.25 mm) from its axis
    assert np.max(np.abs(off_axis)) == pytest.approx(0.25)
    tri = mesh.vertices[mesh.faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    assert np.einsum("ij,ij->", tri[:, 0], normals) > 0  # wound outwards: positive volume


def test_a_single_voxel_gives_a_surface():
    mask = np.zeros((5, 5, 5), bool)
    mask[2, 2, 2] = True
    mesh = label_surface(mask, np.eye(4))
    assert len(mesh.faces) > 0
    assert np.allclose(mesh.vertices.mean(axis=0), 2.0)


def test_a_thick_mask_is_still_smoothed():
    mask = np.zeros((16, 16, 16), bool)
    mask[4:12, 4:12, 4:12] = True
    smooth = label_surface(mask, np.eye(4))
    blocky = label_surface(mask, np.eye(4), smoothing_vox=0.0)
    # smoothing rounds the cube's corners: corner vertices move inwards
    corner = np.max(np.linalg.norm(blocky.vertices - 7.5, axis=1))
    assert np.max(np.linalg.norm(smooth.vertices - 7.5, axis=1)) < corner - 0.1

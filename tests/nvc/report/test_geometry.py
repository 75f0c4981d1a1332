"""Report geometry: planes in the radiological convention, surfaces in the world frame, layout."""

from __future__ import annotations

import numpy as np
import pytest

from nvc.io.resources import package_text
from nvc.labels import LABEL_TABLE, itksnap_label_description, slicer_color_table
from nvc.report.content import BLOCKS
from nvc.report.layout import parse_layout
from nvc.report.slices import PLANES, plane_grid, sample
from nvc.surface import label_surface
from nvc.volume import Volume
from tests.helpers import oblique_affine

LPS = np.diag([-0.5, -0.5, 0.6, 1.0])


def _marker_volume(affine, world_point, shape=(60, 60, 50)):
    vol = Volume(np.zeros(shape, np.float32), affine)
    ijk = np.round(vol.world_to_voxel(world_point)).astype(int)
    data = np.zeros(shape, np.float32)
    data[tuple(ijk)] = 1000.0
    return Volume(data, affine), vol.voxel_to_world(ijk)


@pytest.mark.parametrize(
    "affine", [np.diag([0.5, 0.5, 0.6, 1.0]), LPS, oblique_affine((0.5, 0.5, 0.6))]
)
def test_axial_panel_shows_patient_right_on_the_left_and_anterior_up(affine):
    centre_vol = Volume(np.zeros((60, 60, 50)), affine)
    centre = centre_vol.voxel_to_world(np.array([30, 30, 25]))
    # a marker 4 mm to the patient's right and 3 mm anterior of the panel centre
    vol, where = _marker_volume(affine, centre + np.array([4.0, 3.0, 0.0]))
    right, up = PLANES["axial"]
    grid = plane_grid(where - [4.0, 3.0, 0.0], right, up, half_width_mm=8.0, pixel_mm=0.25)
    img = sample(vol, grid.points, order=0)
    r, c = np.unravel_index(np.argmax(img), img.shape)
    x_screen = grid.extent[0] + (c + 0.5) * 0.25
    y_screen = grid.extent[3] - (r + 0.5) * 0.25
    assert x_screen == pytest.approx(-4.0, abs=0.3)  # patient right = screen left
    assert y_screen == pytest.approx(3.0, abs=0.3)  # anterior = screen up


def test_coronal_panel_shows_superior_up():
    affine = oblique_affine((0.5, 0.5, 0.5))
    centre = Volume(np.zeros((60, 60, 50)), affine).voxel_to_world(np.array([30, 30, 25]))
    vol, where = _marker_volume(affine, centre + np.array([0.0, 0.0, 5.0]))
    right, up = PLANES["coronal"]
    grid = plane_grid(where - [0.0, 0.0, 5.0], right, up, half_width_mm=8.0, pixel_mm=0.25)
    r, _ = np.unravel_index(np.argmax(sample(vol, grid.points, order=0)), grid.points.shape[:2])
    assert grid.extent[3] - (r + 0.5) * 0.25 == pytest.approx(5.0, abs=0.3)


@pytest.mark.parametrize(
    "affine", [np.diag([0.4, 0.4, 0.7, 1.0]), LPS, oblique_affine((0.4, 0.5, 0.6))]
)
def test_surface_is_a_sphere_in_world_millimetres_with_outward_normals(affine):
    shape = (70, 70, 60)
    vol = Volume(np.zeros(shape), affine)
    centre = vol.voxel_to_world(np.array([35, 35, 30]))
    i, j, k = np.indices(shape)
    world = vol.voxel_to_world(np.stack([i, j, k], -1).reshape(-1, 3)).reshape(*shape, 3)
    mask = np.linalg.norm(world - centre, axis=-1) <= 6.0
    mesh = label_surface(mask, affine)
    radius = np.linalg.norm(mesh.vertices - centre, axis=1)
    assert np.median(radius) == pytest.approx(6.0, abs=0.35)
    tri = mesh.vertices[mesh.faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    assert np.mean(np.sum(n * (tri.mean(axis=1) - centre), axis=1) > 0) > 0.99


def test_empty_mask_gives_an_empty_mesh():
    mesh = label_surface(np.zeros((5, 5, 5), bool), np.eye(4))
    assert mesh.faces.shape == (0, 3)


def test_shipped_layout_names_known_blocks_and_bad_layouts_are_refused():
    layout = parse_layout(package_text("nvc.report", "layout.toml"), known_blocks=frozenset(BLOCKS))
    assert [s.id for s in layout.sections][:2] == ["summary", "side-{side}"]
    assert {"contact", "cpr", "sides", "render3d"} <= set(layout.captions)
    bad = 'title = "x"\n[[sections]]\nid = "a"\ntitle = "A"\nblocks = ["nope"]\n'
    with pytest.raises(ValueError, match="unknown blocks"):
        parse_layout(bad, known_blocks=frozenset(BLOCKS))
    with pytest.raises(ValueError, match="lacks"):
        parse_layout('title = "x"\n')


def test_colour_tables_list_every_label():
    ctbl = [ln.split() for ln in slicer_color_table().splitlines() if not ln.startswith("#")]
    assert [int(r[0]) for r in ctbl] == [0] + [t.value for t in LABEL_TABLE]
    for row, info in zip(ctbl[1:], LABEL_TABLE, strict=True):
        assert tuple(int(v) for v in row[2:5]) == info.rgb and row[5] == "255"
    snap = [ln for ln in itksnap_label_description().splitlines() if not ln.startswith("#")]
    assert len(snap) == len(LABEL_TABLE) + 1
    assert snap[1].split()[:4] == ["1", *[str(v) for v in LABEL_TABLE[0].rgb]]

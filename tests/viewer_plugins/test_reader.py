"""The reader: volumes as Image or Labels in RAS mm, and whole results folders."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from nvc.io import save_label_map, save_nifti
from nvc.labels import LABEL_TABLE, Label
from nvc.volume import Volume, to_sitk
from nvc_napari.layers import (
    CONTACT_RGBA,
    display_volume,
    image_layer,
    labels_layer,
    to_world,
)
from nvc_napari.reader import get_reader, read
from tests.helpers import oblique_affine

napari = pytest.importorskip("napari")

LPS = np.diag([-0.5, -0.6, 0.9, 1.0])
LPS[:3, 3] = [20.0, 15.0, -8.0]
RAS = np.diag([0.5, 0.6, 0.9, 1.0])
RAS[:3, 3] = [-20.0, -15.0, -8.0]
CORONAL = np.array(  # i -> R, j -> S, k -> P (coronal storage)
    [[0.5, 0, 0, -20.0], [0, 0, -0.9, 10.0], [0, 0.6, 0, -8.0], [0, 0, 0, 1.0]]
)
GRIDS = {
    "ras": RAS,
    "lps": LPS,
    "coronal": CORONAL,
    "oblique": oblique_affine(spacing=(0.5, 0.6, 0.9)),
}
BLOCK = (slice(9, 12), slice(11, 14), slice(7, 10))  # 3x3x3 marker, centre (10, 12, 8)


def _marker(affine) -> tuple[Volume, Volume]:
    image = np.zeros((24, 26, 18), np.float32)
    image[BLOCK] = 1000.0
    labels = np.zeros(image.shape, np.uint8)
    labels[BLOCK] = 4
    return Volume(image, affine), Volume(labels, affine)


def _layers(kind_data):
    data, kwargs, kind = kind_data
    cls = {"image": napari.layers.Image, "labels": napari.layers.Labels}[kind]
    return cls(data, **kwargs)


@pytest.mark.parametrize("grid", sorted(GRIDS))
def test_a_world_point_lands_on_the_same_voxel_of_image_and_labels(grid):
    image, labels = _marker(GRIDS[grid])
    world = to_world(image.voxel_to_world([10, 12, 8]))  # marker centre, RAS mm as (z, y, x)
    im = _layers(image_layer(image, "t2"))
    lab = _layers(labels_layer(labels, "labels"))
    d_im = np.asarray(im.world_to_data(world))
    d_lab = np.asarray(lab.world_to_data(world))
    np.testing.assert_allclose(d_im, d_lab, atol=1e-9)  # same display grid
    # the label under the point is the marker's, and the image is bright there
    assert lab.data[tuple(np.round(d_lab).astype(int))] == 4
    assert im.data[tuple(np.round(d_im).astype(int))] > 500
    # the image's bright block is centred on the point to sub-voxel accuracy (RAS mm)
    shown = np.asarray(im.data, float)
    idx = np.argwhere(shown > 0)
    w = shown[shown > 0]
    centroid_data = (idx * w[:, None]).sum(0) / w.sum()
    centroid_world = np.asarray(im.data_to_world(centroid_data))
    assert np.linalg.norm(centroid_world - world) < 0.5 * min(image.spacing)
    # napari can slice it orthogonally: data axes are the world axes
    lin = np.asarray(im.affine.affine_matrix)[:3, :3]
    np.testing.assert_allclose(lin, np.diag(np.diag(lin)))
    assert np.all(np.diag(lin) > 0)


@pytest.mark.parametrize("grid", ["lps", "oblique"])
def test_an_image_layer_goes_back_to_the_same_volume(grid):
    from nvc_napari.widget import layer_volume

    image, _ = _marker(GRIDS[grid])
    back = layer_volume(_layers(image_layer(image, "t2")))
    # the marker block's centre is at the same RAS position (sub-voxel)
    a = np.asarray(back.array, float)
    idx = np.argwhere(a > 0)
    centroid = back.voxel_to_world((idx * a[a > 0][:, None]).sum(0) / a[a > 0].sum())
    assert np.linalg.norm(centroid - image.voxel_to_world([10, 12, 8])) < 0.5 * min(image.spacing)
    np.testing.assert_allclose(back.spacing, image.spacing, atol=1e-6)  # same voxel size


def test_display_keeps_voxels_when_not_oblique():
    image, _ = _marker(LPS)
    shown = display_volume(image)
    assert shown.array.shape == image.shape
    assert shown.array.sum() == image.array.sum()
    np.testing.assert_allclose(shown.voxel_to_world([0, 0, 0]), image.voxel_to_world([23, 25, 0]))


def test_reader_claims_volumes_and_results_folders_only(tmp_path, analysed_phantom):
    (tmp_path / "notes.txt").write_text("x")
    assert get_reader(str(tmp_path / "notes.txt")) is None
    assert get_reader(str(tmp_path)) is None  # a folder without findings.json
    assert get_reader(str(analysed_phantom.results)) is read
    assert get_reader(str(analysed_phantom.t2)) is read


@pytest.mark.parametrize("suffix", [".nii.gz", ".nrrd", ".mha"])
def test_reader_opens_images_and_label_maps(tmp_path, suffix):
    image, labels = _marker(LPS)
    image = image.with_array(image.array + np.arange(image.array.size).reshape(image.shape) % 97)
    if suffix == ".nii.gz":
        save_nifti(image, tmp_path / f"t2{suffix}")
        save_label_map(labels, tmp_path / f"seg{suffix}")
    else:
        sitk.WriteImage(to_sitk(image), str(tmp_path / f"t2{suffix}"))
        sitk.WriteImage(to_sitk(labels, np.uint8), str(tmp_path / f"seg{suffix}"))
    (img,) = read(str(tmp_path / f"t2{suffix}"))
    (lab,) = read(str(tmp_path / f"seg{suffix}"))
    assert img[2] == "image" and lab[2] == "labels"
    assert lab[1]["colormap"][4][:3] == pytest.approx(np.array(LABEL_TABLE[3].rgb) / 255)
    world = to_world(image.voxel_to_world([10, 12, 8]))
    for data, kwargs, _ in (img, lab):
        ijk = np.linalg.inv(kwargs["affine"]) @ [*world, 1.0]
        assert data[tuple(np.round(ijk[:3]).astype(int))] >= 4


def test_results_folder_opens_the_whole_case(analysed_phantom):
    layers = read(str(analysed_phantom.results))
    by_name = {kw["name"]: (data, kw, kind) for data, kw, kind in layers}
    for name, kind in (
        ("T2", "image"),
        ("TOF (registered)", "image"),
        ("distance to CN VII (mm)", "image"),
        ("labels", "labels"),
        ("CN VII centerline", "points"),
        ("contact sites", "points"),
        ("brainstem (3D)", "surface"),
        ("artery (3D)", "surface"),
        ("facial nerve (CN VII) (3D)", "surface"),
    ):
        assert by_name[name][2] == kind, name
    # all volumes of the case share one display grid
    affines = [kw["affine"] for _, kw, kind in layers if kind in ("image", "labels")]
    for a in affines[1:]:
        np.testing.assert_allclose(a, affines[0])
    coords, kw, _ = by_name["contact sites"]
    assert len(coords) == len(kw["features"]["vessel"]) >= 1
    assert set(kw["features"]) >= {"side", "vessel", "segment", "min_distance_mm", "grade", "mvd"}
    assert kw["face_color"] == [CONTACT_RGBA]
    # the contacts lie on the CN VII surface: within 1.5 mm of a CN VII voxel (RAS mm);
    # their crosses are drawn beside them, not over them
    labels, lkw, _ = by_name["labels"]
    nerve = np.argwhere(labels == 2)
    nerve_world = nerve @ lkw["affine"][:3, :3].T + lkw["affine"][:3, 3]
    f = kw["features"]
    exact = np.stack([f["z_mm"], f["y_mm"], f["x_mm"]], axis=1)  # world (z, y, x)
    for p, q in zip(exact, coords, strict=True):
        assert np.min(np.linalg.norm(nerve_world - p, axis=1)) < 1.5
        assert np.linalg.norm(q - p) == pytest.approx(1.8)
    # surfaces are in RAS mm, over the label voxels
    verts, faces = by_name["artery (3D)"][0]
    arteries = np.argwhere(labels == 4) @ lkw["affine"][:3, :3].T + lkw["affine"][:3, 3]
    lo, hi = arteries.min(0) - 1.0, arteries.max(0) + 1.0
    assert np.all(verts >= lo) and np.all(verts <= hi) and faces.max() < len(verts)


def test_results_folder_read_back_matches_the_files(analysed_phantom, tmp_path):
    from nvc.io import VolumeLoadError, read_tsv
    from nvc_pipelines.results import load_results

    case = load_results(analysed_phantom.results)
    assert case.findings.symptomatic_side == "right"
    rows = read_tsv(analysed_phantom.results / "cn7_centerline_right.tsv")
    np.testing.assert_allclose(
        case.centerlines["right"].points_ras[0],
        [float(rows[0][k]) for k in ("x_mm", "y_mm", "z_mm")],
    )
    assert case.centerlines["right"].segments[0] == "RExP"
    assert case.labels.shape == case.t2.shape
    with pytest.raises(VolumeLoadError, match="not a finished nvc results folder"):
        load_results(tmp_path)


def test_surface_normals_point_outwards():
    from nvc_napari.layers import surface_layers

    z, y, x = np.mgrid[:30, :30, :30]
    ball = ((z - 15) ** 2 + (y - 15) ** 2 + (x - 15) ** 2 < 9**2).astype(np.uint8) * 4
    for affine in (LPS, GRIDS["oblique"]):
        volume = Volume(ball, affine)
        ((data, kwargs, _),) = surface_layers(volume)
        verts = data[0]
        normals = kwargs["metadata"]["nvc_normals"]
        centre = to_world(volume.voxel_to_world([15, 15, 15]))
        radial = (verts - centre) / np.linalg.norm(verts - centre, axis=1, keepdims=True)
        cosines = np.einsum("ij,ij->i", normals, radial)  # an ellipsoid in mm: not all radial
        assert np.min(cosines) > 0.3 and np.median(cosines) > 0.9


def test_a_one_voxel_thin_label_still_gets_a_3d_surface():
    from nvc_napari.layers import surface_layers

    thin = np.zeros((12, 12, 12), np.uint8)
    thin[6, 6, 2:10] = int(Label.CN7)
    ((data, kwargs, kind),) = surface_layers(Volume(thin, np.diag([0.4, 0.4, 0.4, 1.0])))
    assert kind == "surface" and len(data[1]) > 0
    assert np.all(np.isfinite(kwargs["metadata"]["nvc_normals"]))

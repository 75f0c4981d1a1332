"""Vascular context of CN VII: nearest arteries, primary offender, vertebrobasilar deviation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nvc.contacts import Contact
from nvc.nerve_geometry import NerveGeometry
from nvc.vascular_context import describe_offender, nearest_arteries, primary_offender
from nvc.vertebrobasilar import vertebrobasilar
from nvc.vessel_names import artery_tree

SP = np.array([0.5, 0.5, 0.5])


def _tube(shape, points_vox, radius_mm):
    """Voxels within ``radius_mm`` of a polyline (voxel indices) on a 0.5 mm grid."""
    mask = np.zeros(shape, bool)
    idx = np.indices(shape).reshape(3, -1).T
    pts = np.asarray(points_vox, float)
    for a, b in itertools.pairwise(pts):
        ab = b - a
        t = np.clip(((idx - a) @ ab) / max(ab @ ab, 1e-9), 0, 1)
        d = np.linalg.norm((idx - a - t[:, None] * ab) * SP, axis=1)
        mask.reshape(-1)[d <= radius_mm] = True
    return mask


def _vertebrobasilar_mask(shift_vox: int, ba_radius_mm: float = 1.5):
    """Two vertebral arteries from below joining at k=30 into a basilar artery shifted along i."""
    shape = (80, 50, 90)
    mid = 40
    mask = _tube(
        shape, [(mid - 14, 25, 0), (mid - 4 + shift_vox, 25, 28), (mid + shift_vox, 25, 32)], 1.7
    )
    mask |= _tube(
        shape, [(mid + 14, 25, 0), (mid + 4 + shift_vox, 25, 28), (mid + shift_vox, 25, 32)], 1.7
    )
    mask |= _tube(shape, [(mid + shift_vox, 25, 32), (mid + shift_vox, 25, 89)], ba_radius_mm)
    return mask, mid


@pytest.mark.parametrize(("shift_vox", "side"), [(10, "right"), (-10, "left"), (0, "midline")])
def test_basilar_deviation_is_toward_the_side_it_is_shifted_to(shift_vox, side):
    mask, mid = _vertebrobasilar_mask(shift_vox)
    affine = np.diag([*SP, 1.0])  # i grows toward the patient's right
    tree = artery_tree(mask, SP, midline_i=mid, pmj_k=40)
    vb = vertebrobasilar(tree, affine)
    assert vb.found
    assert vb.basilar_deviation == side
    assert vb.basilar_lateral_mm == pytest.approx(shift_vox * 0.5, abs=1.0)
    assert vb.junction_ras_mm is not None and vb.junction_ras_mm[2] < 20.0
    assert not vb.dolichoectasia
    assert side in vb.summary or side == "midline"


def test_a_wide_basilar_artery_is_ectatic():
    mask, mid = _vertebrobasilar_mask(0, ba_radius_mm=2.8)
    tree = artery_tree(mask, SP, midline_i=mid, pmj_k=40)
    vb = vertebrobasilar(tree, np.diag([*SP, 1.0]))
    assert vb.basilar_diameter_mm is not None and vb.basilar_diameter_mm > 4.5
    assert vb.ectasia and vb.dolichoectasia and "dolichoectasia" in vb.summary


def test_no_trunk_means_not_found():
    tree = artery_tree(np.zeros((20, 20, 20), bool), SP, midline_i=10, pmj_k=10)
    assert not vertebrobasilar(tree, np.eye(4)).found


def _nerve_geometry(shape):
    """A straight CN VII along i from (20, 30, 30), radius 0.7 mm, 15 mm long."""
    pts_vox = np.array([(20 + t, 30, 30) for t in np.arange(0, 30.5, 0.4)], float)
    world = pts_vox * SP
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(world, axis=0), axis=1))])
    geom = NerveGeometry(world, arc, rdp_mm=6.0, distance_to_brainstem_mm=np.zeros(len(arc)))
    return _tube(shape, [(20, 30, 30), (50, 30, 30)], 0.7), geom


def test_nearest_arteries_lists_the_nearest_ones_with_distance_and_segment_beyond_2_mm():
    shape = (70, 60, 60)
    nerve, geom = _nerve_geometry(shape)
    # an artery 5 mm below the nerve at 3 mm from the root exit point, another 9 mm above it
    low = _tube(shape, [(26, 20, 20), (26, 40, 20)], 0.75)  # centre 5 mm below the axis
    high = _tube(shape, [(44, 20, 48), (44, 40, 48)], 0.75)  # 9 mm above, 12 mm along
    names = {20: "PICA", 48: "AICA"}

    def name_of(vox):
        return names[round(np.median(vox[:, 2]))]

    found = nearest_arteries(low | high, nerve, geom, np.diag([*SP, 1.0]), SP, name_of=name_of)
    assert [a.vessel_name for a in found] == ["PICA", "AICA"]
    # surface to surface: 5 mm between axes less the two radii (0.7 + 0.75), to about a voxel
    assert found[0].distance_mm == pytest.approx(5.0 - 1.45, abs=0.6)
    assert found[1].distance_mm == pytest.approx(9.0 - 1.45, abs=0.6)
    assert found[0].segment == "AS" and found[0].distance_from_rexp_mm == pytest.approx(
        3.0, abs=0.6
    )
    assert found[1].segment == "cisternal"


def _contact(name, distance, s, indentation=0.0, zone=True, klass="artery"):
    return Contact(
        vessel_class=klass,
        vessel_name=name,
        min_distance_mm=distance,
        segment="AS",
        distance_from_rexp_mm=s,
        in_vulnerable_zone=zone,
        grade="contact" if distance <= 0.5 else None,
        indentation_mm=indentation,
        contact_length_mm=2.0,
        position="anterior-inferior",
        location_ras_mm=(0.0, 0.0, 0.0),
    )


def test_primary_offender_is_the_nearest_then_the_deepest_indentation():
    contacts = [_contact("AICA", 0.1, 6.0), _contact("PICA", 0.3, 2.0)]
    assert primary_offender(contacts)[0] == 0
    tied = [_contact("AICA", 0.1, 6.0), _contact("PICA", 0.15, 4.0, indentation=0.5)]
    index, why = primary_offender(tied)
    assert index == 1 and "indentation" in why
    assert primary_offender([_contact("vein", 0.0, 2.0, klass="vein")]) is None
    assert primary_offender([_contact("AICA", 0.2, 14.0, zone=False)]) is None
    assert primary_offender([_contact("AICA", 1.2, 3.0)]) is None  # near, not touching


def test_a_loop_coming_up_from_below_between_the_nerves_is_caudal_and_between_them():
    shape = (70, 60, 70)
    cn7, geom = _nerve_geometry(shape)
    cn8 = _tube(shape, [(20, 30, 36), (50, 30, 36)], 1.0)  # 3 mm above CN VII
    # a loop rising from below to between the two nerves and down again
    loop = _tube(shape, [(28, 30, 5), (30, 30, 33), (32, 30, 5)], 0.6)
    mid, affine = 40, np.diag([*SP, 1.0])
    trunk = _tube(shape, [(mid, 30, 0), (mid, 30, 69)], 1.6)
    link = _tube(shape, [(28, 30, 5), (mid, 30, 5)], 0.6)
    arteries = loop | trunk | link
    tree = artery_tree(arteries, SP, midline_i=mid, pmj_k=40)
    contact = Contact(
        "artery",
        "PICA",
        0.2,
        "AS",
        5.0,
        True,
        "contact",
        0.0,
        1.0,
        "superior",
        (15.0, 15.0, 16.0),
    )
    off = describe_offender([contact], arteries, cn7, cn8, geom, tree, affine)
    assert off is not None and off.loop == "caudal" and off.between_cn7_cn8
    assert off.to_porus_along_nerve_mm == pytest.approx(geom.arc_mm[-1] - 5.0, abs=0.1)
    assert "caudal loop" in off.description and "between CN VII and CN VIII" in off.description


def test_a_rolled_head_is_not_a_deviated_basilar_artery():
    """The whole system tilted 15 degrees in the scanner: measured across the brainstem's axis."""
    shape = (90, 50, 90)
    mid, k0 = 45, 30
    tilt = np.radians(15.0)
    up = np.array([np.sin(tilt), 0.0, np.cos(tilt)])  # mm along (i, j, k); isotropic grid

    def at(lateral_mm, height_mm):
        p = (
            np.array([mid, 25.0, k0])
            + (lateral_mm * np.array([np.cos(tilt), 0, -np.sin(tilt)]) + height_mm * up) / 0.5
        )
        return tuple(p)

    mask = _tube(shape, [at(-7, -15), at(-2, -1), at(0, 1)], 1.7)
    mask |= _tube(shape, [at(7, -15), at(2, -1), at(0, 1)], 1.7)
    mask |= _tube(shape, [at(0, 1), at(0, 28)], 1.5)
    tree = artery_tree(mask, SP, midline_i=mid, pmj_k=k0)
    affine = np.diag([*SP, 1.0])
    vb = vertebrobasilar(tree, affine, axis=up, origin_index=np.array([mid, 25.0, k0]))
    assert vb.basilar_deviation == "midline" and abs(vb.basilar_lateral_mm) < 1.0
    # along the grid's axes the same anatomy would read as deviated
    assert vertebrobasilar(tree, affine).basilar_deviation != "midline"

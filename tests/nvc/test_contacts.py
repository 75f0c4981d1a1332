"""Contact measurement on synthetic tubes at known distances, and the decision rules."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from nvc.contacts import Contact, ContactParams, csf_gap_mm, measure_contacts
from nvc.decision import decide
from nvc.nerve_geometry import NerveGeometry
from nvc.segments import in_vulnerable_zone, segment_at


def _tube(shape, sp, axis_point, direction, radius):
    idx = np.indices(shape).reshape(3, -1).T * sp
    d = np.asarray(direction, float) / np.linalg.norm(direction)
    rel = idx - axis_point
    dist = np.linalg.norm(rel - np.outer(rel @ d, d), axis=1)
    return (dist <= radius).reshape(shape)


def _straight_nerve() -> NerveGeometry:
    """CN VII's centerline along x at y = z = 10 mm, arc length = x, RDP at 8 mm."""
    xs = np.arange(0.0, 30.0, 0.2)
    return NerveGeometry(
        points_ras=np.stack([xs, np.full_like(xs, 10.0), np.full_like(xs, 10.0)], axis=1),
        arc_mm=xs,
        rdp_mm=8.0,
        distance_to_brainstem_mm=np.zeros_like(xs),
    )


@pytest.mark.parametrize("gap", [0.0, 1.0, 1.6])
@pytest.mark.parametrize("sp", [(0.5, 0.5, 0.5), (0.4, 0.4, 0.7)])
def test_gap_between_crossing_tubes(gap, sp):
    sp = np.array(sp)
    shape = tuple(int(v) for v in np.ceil(np.array([30.0, 20.0, 20.0]) / sp))
    r_n, r_v = 0.75, 0.8
    center = np.array([15.0, 10.0, 10.0])
    nerve = _tube(shape, sp, center, (1, 0, 0), r_n)
    vessel = _tube(shape, sp, center + np.array([0, 0, r_n + r_v + gap]), (0, 1, 0), r_v)
    affine = np.diag([*sp, 1.0])
    geom = _straight_nerve()
    contacts = measure_contacts(
        nerve, geom, {"artery": vessel}, affine, sp, name_of=lambda v: "AICA", side="right"
    )
    assert len(contacts) == 1
    c = contacts[0]
    assert c.min_distance_mm == pytest.approx(gap, abs=0.3 + 0.5 * sp.max())
    assert c.distance_from_rexp_mm == pytest.approx(15.0, abs=1.0)
    assert c.segment == "cisternal"
    assert (c.grade is not None) == (c.min_distance_mm <= 0.5)
    assert c.position.startswith("superior")


def test_contact_along_the_nerve_is_placed_where_it_presses():
    """A vessel running at a shallow angle touches over several mm: the contact is at its
    nearest approach to the nerve's axis, not at one end of the touching stretch."""
    sp = np.array([0.5, 0.5, 0.5])
    shape = (60, 40, 40)
    r_n, r_v = 0.75, 0.8
    center = np.array([15.0, 10.0, 10.0])
    nerve = _tube(shape, sp, center, (1, 0, 0), r_n)
    vessel = _tube(shape, sp, center + np.array([0, 0, r_n + r_v - 0.2]), (1, 0.1, 0), r_v)
    geom = _straight_nerve()
    affine = np.diag([*sp, 1.0])
    (c,) = measure_contacts(
        nerve, geom, {"artery": vessel}, affine, sp, name_of=lambda v: "AICA", side="right"
    )
    assert c.contact_length_mm > 4.0  # it does touch over a stretch
    assert c.distance_from_rexp_mm == pytest.approx(15.0, abs=1.0)


def _contact(**kw) -> Contact:
    base = dict(
        vessel_class="artery",
        vessel_name="AICA",
        min_distance_mm=0.0,
        segment="AS",
        distance_from_rexp_mm=4.0,
        in_vulnerable_zone=True,
        grade="contact",
        indentation_mm=0.0,
        contact_length_mm=2.0,
        position="anterior",
        location_ras_mm=(0.0, 0.0, 0.0),
    )
    base.update(kw)
    return Contact(**base)


def test_decision_rules():
    kw = dict(rdp_mm=8.0, registration_ok=True, nerve_quality=1.0, contact_mm=0.5)
    v = decide([_contact()], symptomatic=True, **kw)
    assert v.nvc and v.mvd_candidate and v.confidence > 0.8 and "AICA" in v.reasons[0]
    v = decide([_contact()], symptomatic=False, **kw)
    assert v.nvc and not v.mvd_candidate
    v = decide([_contact(vessel_class="vein", vessel_name="vein")], symptomatic=True, **kw)
    assert v.nvc and not v.mvd_candidate
    v = decide(
        [_contact(in_vulnerable_zone=False, segment="cisternal", distance_from_rexp_mm=16)],
        symptomatic=True,
        **kw,
    )
    assert not v.nvc and not v.mvd_candidate
    v = decide([_contact(min_distance_mm=1.4, grade=None)], symptomatic=True, **kw)
    assert not v.nvc and "near but apart" in v.reasons[0]
    assert not v.nvc
    v = decide([], symptomatic=True, **kw)
    assert not v.nvc and "no vessel" in v.reasons[0]
    v = decide([_contact()], symptomatic=True, **(kw | {"registration_ok": False}))
    assert v.confidence <= 0.5


def test_segments_and_vulnerable_zone():
    assert segment_at(0.5, 8.0) == "RExP"
    assert segment_at(4.0, 8.0) == "AS"
    assert segment_at(8.6, 8.0) == "RDP"
    assert segment_at(10.0, 8.0) == "TZ"
    assert segment_at(11.0, 8.0) == "cisternal"
    assert in_vulnerable_zone(11.9, 8.0) and not in_vulnerable_zone(12.1, 8.0)


def _partial_volume_t2(sp, gap, *, r_n=0.7, r_v=0.8, sub=3):
    """T2 of a nerve (along x) crossed by a vessel (along y) ``gap`` mm above it, in CSF.

    Each voxel averages ``sub``**3 point samples: dark (0.2) inside either tube,
    CSF (1.0) outside, as partial volume does in a real acquisition.
    """
    sp = np.asarray(sp, float)
    shape = tuple(int(v) for v in np.ceil(10.0 / sp))
    nerve_c = np.array([5.0, 5.0, 4.0]) + 0.123
    vessel_c = nerve_c + np.array([0.0, 0.0, r_n + r_v + gap])
    idx = np.indices(shape).reshape(3, -1).T.astype(float)
    acc = np.zeros(len(idx))
    offsets = (np.arange(sub) + 0.5) / sub - 0.5
    for o in np.array(np.meshgrid(offsets, offsets, offsets)).reshape(3, -1).T:
        p = (idx + o) * sp
        in_nerve = np.hypot(p[:, 1] - nerve_c[1], p[:, 2] - nerve_c[2]) <= r_n
        in_vessel = np.hypot(p[:, 0] - vessel_c[0], p[:, 2] - vessel_c[2]) <= r_v
        acc += np.where(in_nerve | in_vessel, 0.2, 1.0)
    t2 = (acc / len(offsets) ** 3).reshape(shape)
    return t2, np.diag([*sp, 1.0]), nerve_c, vessel_c - np.array([0.0, 0.0, r_v])


@pytest.mark.parametrize("sp", [(0.5, 0.5, 0.5), (0.4, 0.4, 0.7), (0.7, 0.7, 0.7)])
def test_csf_gap_is_measured_to_a_fraction_of_a_voxel(sp):
    """Gaps a quarter voxel apart are told apart, within 0.25 mm, on fine and coarse grids."""
    gaps = [0.0, 0.25, 0.5, 0.75, 1.0]
    measured = []
    for gap in gaps:
        t2, affine, nerve_axis, vessel_wall = _partial_volume_t2(sp, gap)
        measured.append(csf_gap_mm(t2, affine, nerve_axis, vessel_wall))
    assert np.all(np.abs(np.array(measured) - gaps) <= 0.25), measured
    assert np.all(np.diff(measured) > 0.1), measured


def test_csf_gap_of_touching_tubes_is_below_the_contact_threshold():
    t2, affine, nerve_axis, vessel_wall = _partial_volume_t2((0.6, 0.6, 0.6), 0.0)
    assert csf_gap_mm(t2, affine, nerve_axis, vessel_wall) < ContactParams().contact_mm


@pytest.mark.parametrize("gap", [0.25, 0.75])
def test_measure_contacts_uses_the_t2_for_sub_voxel_distances(gap):
    sp = np.array([0.5, 0.5, 0.5])
    t2, affine, nerve_axis, _ = _partial_volume_t2(sp, gap)
    dark = t2 < 0.6
    labels, _ = ndimage.label(dark)
    nerve_label = labels[tuple(np.round(nerve_axis / sp).astype(int))]
    nerve, vessel = labels == nerve_label, dark & (labels != nerve_label)
    if not vessel.any():  # the two tubes merged in the mask: split them at the nerve's height
        k = int(np.round((nerve_axis[2] + 0.7 + 0.5 * gap) / sp[2]))
        nerve, vessel = dark.copy(), dark.copy()
        nerve[:, :, k:] = False
        vessel[:, :, :k] = False
    xs = np.arange(0.5, 9.5, 0.2)
    geom = NerveGeometry(
        points_ras=np.stack(
            [xs, np.full_like(xs, nerve_axis[1]), np.full_like(xs, nerve_axis[2])], 1
        ),
        arc_mm=xs,
        rdp_mm=8.0,
        distance_to_brainstem_mm=np.zeros_like(xs),
    )
    kw = dict(name_of=lambda v: "AICA", side="right")
    (with_t2,) = measure_contacts(nerve, geom, {"artery": vessel}, affine, sp, t2=t2, **kw)
    (voxels,) = measure_contacts(nerve, geom, {"artery": vessel}, affine, sp, **kw)
    assert with_t2.min_distance_mm == pytest.approx(gap, abs=0.25)
    assert abs(with_t2.min_distance_mm - gap) <= abs(voxels.min_distance_mm - gap) + 0.05


def test_a_gap_within_a_voxel_of_the_threshold_lowers_the_confidence_the_more_the_nearer():
    kw = dict(rdp_mm=8.0, registration_ok=True, nerve_quality=1.0, contact_mm=0.5, symptomatic=True)
    apart = [_contact(min_distance_mm=0.76, grade=None)]
    fine = decide(apart, voxel_mm=0.2, **kw)
    coarse = decide(apart, voxel_mm=0.7, **kw)
    nearer = decide([_contact(min_distance_mm=0.6, grade=None)], voxel_mm=0.7, **kw)
    assert not coarse.nvc and not fine.nvc
    assert nearer.confidence < coarse.confidence < fine.confidence
    assert any("measured to about 0.7 mm" in r for r in coarse.reasons)
    clear = decide([_contact(min_distance_mm=1.8, grade=None)], voxel_mm=0.7, **kw)
    assert clear.confidence == fine.confidence

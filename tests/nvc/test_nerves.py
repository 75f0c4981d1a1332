"""CN VII/VIII tracing on a phantom, measured against the truth centerline."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial import cKDTree

from nvc.brainstem import Brainstem, segment_brainstem
from nvc.intensity import T2Levels, normalize_t2, tube_darkness
from nvc.labels import Label
from nvc.morphology import distance_to_mask
from nvc.nerves import NerveParams, trace_nerves
from nvc.nerves.attached import attached_end, root_exit_index
from nvc.nerves.canal import CanalTube, into_canal
from nvc.nerves.cost import cost_per_mm
from nvc.nerves.frame import brainstem_frame
from nvc.nerves.pair import apart_to_canal
from nvc.nerves.paths import edge_radius, mean_radius
from nvc.phantom import PhantomParams, SideParams, make_case
from nvc.phantom.curves import arc_length
from nvc.vessels import tof_levels
from nvc.volume import reorient_canonical, resample_to


@pytest.fixture(scope="module")
def traced():
    params = PhantomParams(
        seed=31,
        hfs_side="left",
        left=SideParams(scenario="nvc", offender="PICA", segment="RDP"),
        right=SideParams(scenario="none", exit_azimuth_deg=30.0),
    )
    case = make_case(params)
    t2 = reorient_canonical(case.t2)
    norm, levels = normalize_t2(t2.array, t2.spacing)
    bs = segment_brainstem(norm, levels, t2.spacing)
    tof = resample_to(case.mra, t2, world_transform=case.truth.t2_to_mra).array
    tl = tof_levels(tof, bs.mask, norm > levels.csf_threshold)
    rel = (tof - tl.tissue) / (tl.artery - tl.tissue)
    traces = {
        s: trace_nerves(norm, levels, t2.spacing, bs, s, tof_relative=rel)
        for s in ("left", "right")
    }
    return case, t2, traces


@pytest.mark.parametrize("side", ["left", "right"])
def test_cn7_follows_the_true_nerve(traced, side):
    case, t2, traces = traced
    trace = traces[side]
    assert trace.found, trace.reason
    truth = case.truth.cn7_centerlines[side]
    s = arc_length(truth)
    porus = case.truth.sides[side].porus_mm
    cisternal = truth[(s > case.truth.sides[side].rdp_mm + 1.0) & (s < porus)]
    d, _ = cKDTree(t2.voxel_to_world(trace.cn7_path)).query(cisternal)
    assert np.median(d) < 1.0
    # CN VII and CN VIII are told apart: the VIII path runs along the truth CN VIII
    labels = reorient_canonical(case.labels).array
    assert trace.separated
    on8 = labels[tuple(np.round(trace.cn8_path).astype(int).T)] == Label.CN8
    assert on8.mean() > 0.5


def test_cn7_mask_overlaps_truth(traced):
    case, _, traces = traced
    labels = reorient_canonical(case.labels).array == Label.CN7
    mine = traces["left"].cn7 | traces["right"].cn7
    dice = 2 * (mine & labels).sum() / (mine.sum() + labels.sum())
    assert dice > 0.5


def _prepare(case):
    """The tracing's inputs, as ``nvc_pipelines.case`` makes them (truth registration)."""
    t2 = reorient_canonical(case.t2)
    norm, levels = normalize_t2(t2.array, t2.spacing)
    bs = segment_brainstem(norm, levels, t2.spacing)
    tof = resample_to(case.mra, t2, world_transform=case.truth.t2_to_mra).array
    tl = tof_levels(tof, bs.mask, norm > levels.csf_threshold)
    return t2, norm, levels, bs, (tof - tl.tissue) / (tl.artery - tl.tissue)


def test_cn7_found_beside_cn8_where_it_climbs_high():
    """A drawn case whose CN VII rises above the root-exit window on its way to the canal.

    The second path, searched in a corridor beside the first (CN VIII), is
    CN VII; without the corridor it was blocked there and CN VIII was taken
    for CN VII.
    """
    case = make_case(1024)
    t2, norm, levels, bs, rel = _prepare(case)
    trace = trace_nerves(norm, levels, t2.spacing, bs, "right", tof_relative=rel)
    assert trace.found and trace.separated
    truth = case.truth.cn7_centerlines["right"]
    d, _ = cKDTree(truth).query(t2.voxel_to_world(trace.cn7_path))
    assert np.median(d) < 1.0
    # its root exit point too
    assert np.linalg.norm(t2.voxel_to_world(trace.cn7_path[:1])[0] - truth[0]) < 1.5


def _straight(n: int) -> np.ndarray:
    return np.stack([np.arange(n) + 2.0, np.full(n, 5.0), np.full(n, 5.0)], axis=1)


def test_attached_end_bridges_short_gaps_and_arteries():
    sp = np.array([0.5, 0.5, 0.5])
    params = NerveParams(attached_gap_mm=1.5, attached_bridge_mm=2.0)
    path = _straight(20)
    idx = tuple(path.astype(int).T)
    ridge = np.zeros((26, 11, 11), bool)
    on = np.ones(20, bool)
    on[8:13] = False  # 2.5 mm off the ridge (1.5 mm once the ridge is dilated by a voxel)
    on[16:] = False
    ridge[tuple(a[on] for a in idx)] = True
    far = np.full(ridge.shape, np.inf, np.float32)
    assert attached_end(path, sp, ridge, far, params) == 16  # the dilated ridge
    # a longer gap ends the nerve before it
    ridge2 = ridge.copy()
    ridge2[tuple(a[13] for a in idx)] = False
    assert attached_end(path, sp, ridge2, far, params) == 8
    # unless an artery lies on the nerve there (dark on T2 too: no ridge)
    artery = np.zeros(ridge.shape, bool)
    artery[12, 8, 5] = True  # 1.5 mm beside the path's voxel 10
    assert attached_end(path, sp, ridge2, distance_to_mask(artery, sp), params) == 16
    # an artery running on beyond the nerve's end does not lengthen it
    ridge3 = np.zeros(ridge.shape, bool)
    ridge3[tuple(a[:8] for a in idx)] = True
    along = np.zeros(ridge.shape, bool)
    along[10:22, 8, 5] = True
    assert attached_end(path, sp, ridge3, distance_to_mask(along, sp), params) == 8


def test_a_ridge_shorter_than_any_attached_segment_leaves_the_length_to_anatomy():
    params = NerveParams(min_seen_attached_mm=4.0, typical_attached_mm=9.0)
    arc = np.arange(0.0, 14.01, 0.5)  # a path 14 mm down the pons, 0.5 mm steps
    assert root_exit_index(arc, 12, params) == (12, False)  # 6 mm seen: the image decides
    assert root_exit_index(arc, 3, params) == (18, True)  # 1.5 mm seen: 9 mm from anatomy
    short = np.arange(0.0, 5.01, 0.5)  # the path itself ends sooner
    assert root_exit_index(short, 2, params) == (10, True)
    assert root_exit_index(short, 10, params) == (10, False)


def test_on_a_grid_too_coarse_for_the_groove_a_short_ridge_is_not_the_nerves_end():
    params = NerveParams(min_seen_attached_mm=4.0, typical_attached_mm=9.0)
    arc = np.arange(0.0, 14.01, 0.5)
    assert root_exit_index(arc, 12, params, resolved=False) == (18, True)  # 6 mm: anatomy's 9
    assert root_exit_index(arc, 22, params, resolved=False) == (22, False)  # 11 mm: the image's


def test_cn7_mask_goes_into_the_canal(traced):
    """The phantom draws the nerves 9 mm into the internal auditory canal; so does the mask."""
    case, t2, traces = traced
    labels = reorient_canonical(case.labels).array == Label.CN7
    world = t2.voxel_to_world(np.argwhere(labels))
    for side in ("left", "right"):
        truth = case.truth.cn7_centerlines[side]
        s = arc_length(truth)
        d, i = cKDTree(truth).query(world)
        in_canal = (d < 2.0) & (s[i] > case.truth.sides[side].porus_mm + 1.0)
        vox = tuple(np.argwhere(labels)[in_canal].T)
        assert in_canal.sum() > 20
        assert traces[side].cn7[vox].mean() > 0.6


def test_into_canal_follows_its_nerve_to_the_canal_end():
    """A CSF-filled tube along an oblique axis with a nerve in it, not quite parallel to it.

    The nerve (0.7 mm in radius) enters 1 mm off the canal's axis and leans
    8 degrees from it, 1.4 mm over the canal's 10 mm: a course parallel to
    the axis would leave it; the course follows the nerve, to the canal's end
    or the cap. It ends at the bone closing the canal also where the canal's
    mask (closed from the bone, dilated) reaches past it.
    """
    sp = np.array([0.5, 0.6, 0.7])
    shape = (60, 50, 40)
    axis = np.array([1.0, 0.4, 0.1])
    axis /= np.linalg.norm(axis)
    entrance = np.array([8.0, 10.0, 12.0])  # mm
    pts = np.indices(shape).reshape(3, -1).T * sp
    t = (pts - entrance) @ axis
    radial = np.linalg.norm(pts - entrance - t[:, None] * axis, axis=1)
    canal = ((t >= 0) & (t <= 10.0) & (radial <= 2.5)).reshape(shape)
    across = np.array([0.0, 0.0, 1.0]) - axis * axis[2]
    across /= np.linalg.norm(across)
    lean = np.cos(np.deg2rad(8.0)) * axis + np.sin(np.deg2rad(8.0)) * across
    nerve_start = entrance + 1.0 * across
    s = (pts - nerve_start) @ lean
    nerve = (np.linalg.norm(pts - nerve_start - s[:, None] * lean, axis=1) <= 0.7).reshape(shape)
    image = np.where(canal, 1.0, 0.05).astype(np.float32)  # CSF in the canal, bone around it
    image[nerve & canal] = 0.2
    sub = ndimage.gaussian_filter(image, 0.5)
    end = nerve_start + 0.3 * lean
    path = np.array([end - 3 * lean, end]) / sp
    tube = CanalTube.of(canal, sp)
    course = into_canal(path, tube, sp, 12.0, sub=sub, window_mm=0.7) * sp
    s_course = (course - nerve_start) @ lean
    off_nerve = np.linalg.norm(course - nerve_start - s_course[:, None] * lean, axis=1)
    assert np.median(off_nerve) <= 0.3 and off_nerve.max() <= 0.6  # on the nerve throughout
    depth = (course[-1] - entrance) @ axis
    assert 9.0 <= depth <= 10.6  # to the canal's end (its mask, 0.7 mm + half a voxel, reaches it)
    longer = CanalTube.of(canal | ((t >= 0) & (t <= 13.0) & (radial <= 2.5)).reshape(shape), sp)
    past = into_canal(path, longer, sp, 12.0, sub=sub, window_mm=0.7) * sp
    assert (past[-1] - entrance) @ axis <= 10.6  # not into the bone beyond the fundus
    capped = into_canal(path, tube, sp, 4.0, sub=sub, window_mm=0.7) * sp
    assert (capped[-1] - end) @ axis <= 4.0 + 0.25  # or the cap


def test_a_path_that_crossed_onto_the_other_nerve_at_the_porus_is_traced_apart():
    """Two nerves 2 mm apart run along the canal's axis; one path crosses onto the other.

    A thin CN VII fading at the porus lets its path reach the canal on CN
    VIII (or CN VIII's path crosses onto CN VII): the path that moved across
    the canal's axis is traced again from where it came near the other, off
    it, and ends in the canal on its own nerve; the other path is kept. Paths
    that stay apart, or a nerve that is not there to follow, are left as
    they were.
    """
    sp = np.array([0.5, 0.6, 0.7])
    shape = (80, 30, 30)  # the canal from x = 24 mm, 16 mm along x
    pts = np.indices(shape).reshape(3, -1).T * sp
    cn8_line = np.array([10.0, 8.0])  # (y, z) mm, the nerves run along x
    cn7_line = cn8_line + np.array([0.0, 2.0])  # 2 mm superior of CN VIII

    def on(line, r):
        return (np.linalg.norm(pts[:, 1:] - line, axis=1) <= r).reshape(shape)

    canal = (np.indices(shape)[0] >= 48) & (on(cn8_line, 3.0) | on(cn7_line, 3.0))
    cost = np.where(on(cn8_line, 1.0) | on(cn7_line, 0.6), 1.0, 60.0)

    def path(x0, x1, line):
        x = np.arange(x0, x1, 0.5)
        return np.column_stack([x, np.full_like(x, line[0]), np.full_like(x, line[1])]) / sp

    def apart(cn7, cn8, cost=cost):
        axis = CanalTube.of(canal, sp).axis
        return apart_to_canal(cn7, cn8, cost, canal, sp, 1.3, 10.0, NerveParams(), axis=axis)

    def on_line(p, line):  # the path from x = 17 mm on lies on the line, and ends in the canal
        tail = p[p[:, 0] * sp[0] >= 17.0] * sp
        end = tuple(np.round(p[-1]).astype(int))
        return len(tail) > 0 and canal[end] and np.abs(tail[:, 1:] - line).max() <= 0.8

    cn7, cn8 = path(2.0, 25.0, cn7_line), path(2.0, 25.0, cn8_line)
    cn7_on_8 = np.concatenate([path(2.0, 17.0, cn7_line), path(17.0, 25.0, cn8_line)])
    new7, kept8 = apart(cn7_on_8, cn8)
    assert on_line(new7, cn7_line) and kept8 is cn8
    cn8_on_7 = np.concatenate([path(2.0, 17.0, cn8_line), path(17.0, 25.0, cn7_line)])
    kept7, new8 = apart(cn7, cn8_on_7)
    assert kept7 is cn7 and on_line(new8, cn8_line)
    assert all(a is b for a, b in zip(apart(cn7, cn8), (cn7, cn8), strict=True))
    no_cn7 = np.where(on(cn8_line, 1.0), 1.0, 60.0)  # nothing but CN VIII to follow
    assert all(a is b for a, b in zip(apart(cn7_on_8, cn8, no_cn7), (cn7_on_8, cn8), strict=True))


@pytest.mark.parametrize(("roll_deg", "pitch_deg"), [(0.0, 0.0), (12.0, 0.0), (-15.0, 10.0)])
def test_brainstem_frame_follows_a_tilted_brainstem(roll_deg, pitch_deg):
    """Heights run along a tilted brainstem axis from its junction, lateral distances across."""
    sp = np.array([0.5, 0.6, 0.7])
    shape = (100, 60, 80)
    junction = np.array([50.0, 30.0, 40.0])  # voxel indices
    r, p = np.deg2rad(roll_deg), np.deg2rad(pitch_deg)
    up = np.array([np.sin(r) * np.cos(p), np.sin(p), np.cos(r) * np.cos(p)])
    bs = Brainstem(
        mask=np.zeros(shape, bool),
        midline_i=50.0,
        center_j=np.full(shape[2], 30.0),
        half_ap_mm=np.full(shape[2], 10.0),
        pmj_index=junction,
        axis=up,
    )
    offset = np.array([10.0, 5.0, 20.0])
    box = (60, 40, 50)
    lateral, height = brainstem_frame(bs, sp, box, offset, -1.0)
    assert lateral.shape == height.shape == box
    rel = (np.indices(box).reshape(3, -1).T + offset - junction) * sp
    across = np.array([1.0, 0.0, 0.0]) - up[0] * up
    across /= np.linalg.norm(across)
    np.testing.assert_allclose(height.ravel(), rel @ up, atol=1e-9)
    np.testing.assert_allclose(lateral.ravel(), -(rel @ across), atol=1e-9)
    assert abs(across @ up) < 1e-12


def test_the_path_cost_prefers_a_thin_dark_tube_to_the_edge_of_bulky_tissue():
    """Tissue is darker than CSF too: only a tube darker than its surroundings is cheap."""
    sp = np.array([0.5, 0.5, 0.5])
    t2 = np.ones((40, 40, 20), np.float32)  # CSF
    t2[:, :14] = 0.4  # bulky tissue (cerebellum), its edge at j = 14
    i, j = np.meshgrid(np.arange(40), np.arange(40), indexing="ij")
    tube = (i - 20) ** 2 + (j - 26) ** 2 <= 2  # a nerve 0.7 mm in radius, 6 mm off the edge
    t2[tube] = 0.45  # partial volume with CSF: a thin nerve is no darker than tissue
    levels = T2Levels(
        tissue=0.4, dark=0.2, csf_threshold=0.7, tissue_threshold=0.3, bone_threshold=0.08
    )
    csf, bone = t2 > 0.7, t2 < 0.08
    params = NerveParams()
    tube_dark = tube_darkness(t2, levels, sp, radius_mm=params.tube_radius_mm)
    cost = cost_per_mm(tube_dark, csf, bone, None, sp, params, tof_bar=params.tof_bar_fraction)
    plain_dark = tube_darkness(t2, levels, sp, radius_mm=None)
    plain = cost_per_mm(plain_dark, csf, bone, None, sp, params, tof_bar=params.tof_bar_fraction)
    on_tube, on_edge = cost[20, 26, 10], cost[20, 13, 10]
    assert on_tube < 0.1 * on_edge
    # darkness alone cannot tell them apart: the edge is as cheap as the tube, or cheaper
    assert plain[20, 13, 10] <= plain[20, 26, 10]


def test_edge_radius_reads_the_nerve_against_csf_not_its_dark_neighbour():
    """A nerve 0.8 mm in radius along i, CSF around it except where CN VIII lies against it.

    The dark volume around the path counts the neighbour as nerve; the edge
    against CSF gives the nerve's own radius (within a voxel's fifth).
    """
    sp = np.array([0.4, 0.4, 0.6])
    shape = (60, 40, 30)
    _, j, k = np.indices(shape)
    y, z = (j - 20) * sp[1], (k - 15) * sp[2]
    image = np.ones(shape, np.float32)  # CSF
    image[y**2 + z**2 <= 0.8**2] = 0.2  # the nerve
    image[((y - 1.7) ** 2 + z**2 <= 0.9**2)] = 0.25  # CN VIII alongside, touching it
    image = ndimage.gaussian_filter(image, 0.5)  # partial volume, as the box is smoothed
    path = np.stack([np.arange(5, 55), np.full(50, 20), np.full(50, 15)], axis=1).astype(float)
    no_brainstem = np.zeros(shape, bool)
    core = float(np.percentile(image[tuple(path.astype(int).T)], 20))
    edge = edge_radius(image, sp, path, no_brainstem, 0.5 * (core + 1.0), 2.5)
    assert abs(edge - 0.8) <= 0.15
    assert mean_radius(image, sp, path, no_brainstem, 2.5) > 1.0  # the neighbour counted
    # a course that doubles back on itself (as where the attached path meets the cisternal
    # one at the detachment point) has no direction there: skipped, without a warning
    back = np.concatenate([path[:20], path[18::-1][:2], path[20:]])
    assert abs(edge_radius(image, sp, back, no_brainstem, 0.5 * (core + 1.0), 2.5) - 0.8) <= 0.15

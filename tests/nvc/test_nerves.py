"""CN VII/VIII tracing on a phantom, measured against the truth centerline."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from nvc.brainstem import segment_brainstem
from nvc.intensity import normalize_t2
from nvc.labels import Label
from nvc.nerves import trace_nerves
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

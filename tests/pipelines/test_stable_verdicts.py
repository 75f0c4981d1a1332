"""The same anatomy seen through a smaller field of view gives the same verdicts (issue 16, 8)."""

from __future__ import annotations

import numpy as np
import pytest

from nvc.phantom import make_case
from nvc.registration import RegistrationResult
from nvc.volume import Volume
from nvc_pipelines.case import run_case


@pytest.mark.slow
def test_cropping_the_field_of_view_keeps_every_verdict():
    case = make_case(1003)
    t2 = case.t2
    # 6 mm off both ends of every array axis but the one nearest right-left (both angles stay)
    directions = np.abs(t2.affine[:3, :3] / t2.spacing)
    keep = []
    for axis, n in enumerate(t2.shape):
        cut = 0 if directions[0, axis] > 0.7 else round(6.0 / t2.spacing[axis])
        keep.append(slice(cut, n - cut))
    shift = np.eye(4)
    shift[:3, 3] = [s.start for s in keep]
    cropped = Volume(t2.array[tuple(keep)], t2.affine @ shift, t2.metadata)
    assert np.prod(cropped.shape) < 0.8 * np.prod(t2.shape)
    side = case.truth.hfs_side
    full = run_case(case.t2, case.mra, symptomatic_side=side).findings
    small = run_case(cropped, case.mra, symptomatic_side=side).findings
    for name in ("left", "right"):
        a, b = full.sides[name], small.sides[name]
        assert (a.nvc, a.mvd_candidate, a.needs_review) == (b.nvc, b.mvd_candidate, b.needs_review)
        assert sorted(c.vessel_name for c in a.contacts if c.grade) == sorted(
            c.vessel_name for c in b.contacts if c.grade
        )


@pytest.mark.slow
def test_a_registration_rated_poor_gives_no_candidate_and_every_side_needs_review(
    phantom_case, monkeypatch
):
    """The angiogram left 12 mm off (a failed registration): no MVD candidate is trusted."""
    import nvc_pipelines.case

    identity = RegistrationResult(np.eye(4), -0.1, 0, "stubbed")
    monkeypatch.setattr(nvc_pipelines.case, "register_rigid", lambda *a, **k: identity)
    mra = phantom_case.mra
    shifted = np.eye(4)
    shifted[:3, 3] = [0.0, 12.0, 0.0]
    moved = Volume(mra.array, shifted @ mra.affine, mra.metadata)
    findings = run_case(phantom_case.t2, moved, symptomatic_side="left").findings
    assert findings.registration["quality"] == "poor"
    for side in findings.sides.values():
        assert side.needs_review and not side.mvd_candidate
        assert side.reasons[0].startswith("registration failed")

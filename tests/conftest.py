"""Shared fixtures: real public data (skipped where absent) and phantom cases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from nvc.io import load_volume, save_nifti
from nvc.phantom import PhantomCase, PhantomParams, SideParams, make_case
from nvc_pipelines.case import CaseResult, run_case
from nvc_pipelines.config import PipelineConfig
from nvc_pipelines.outputs import save_case

REPO = Path(__file__).resolve().parents[1]
SHARED_REAL = REPO.parent / "shared" / "data" / "real"
TEST_DATA = REPO / "test_data"


@pytest.fixture(scope="session")
def shared_real() -> Path:
    """``../shared/data/real`` (tests using it skip where it is absent)."""
    if not SHARED_REAL.is_dir():
        pytest.skip("../shared/data/real is absent on this machine")
    return SHARED_REAL


@pytest.fixture(scope="session")
def phantom_case() -> PhantomCase:
    """One whole phantom case (seed 11), generated once per test session."""
    return make_case(11)


PARAMS = PhantomParams(
    seed=77,
    hfs_side="right",
    right=SideParams(scenario="nvc", offender="AICA", segment="AS", attached_length_mm=9.0),
    left=SideParams(scenario="none"),
)


@dataclass(frozen=True)
class AnalysedPhantom:
    case: PhantomCase
    t2: Path
    mra: Path
    results: Path
    #: The in-memory result that ``results`` was saved from.
    result: CaseResult


@pytest.fixture(scope="session")
def analysed_phantom(tmp_path_factory) -> AnalysedPhantom:
    root = tmp_path_factory.mktemp("napari_case")
    case = make_case(PARAMS)
    t2 = save_nifti(case.t2, root / "t2.nii.gz")
    mra = save_nifti(case.mra, root / "tof.nii.gz")
    # from the files, as `nvc run` and the widget read them
    result = run_case(load_volume(t2), load_volume(mra), symptomatic_side="right")
    save_case(result, root / "results", PipelineConfig(), inputs={"t2": t2, "mra": mra})
    return AnalysedPhantom(case, t2, mra, root / "results", result)

"""Shared fixtures: real public data (skipped where absent) and phantom cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from nvc.phantom import PhantomCase, make_case

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

"""run_case stops when its progress callback raises Cancelled (the napari widget's Cancel)."""

from __future__ import annotations

import pytest

from nvc_pipelines.case import run_case
from nvc_pipelines.errors import Cancelled


def test_progress_callback_can_cancel_between_steps(phantom_case):
    stages: list[str] = []

    def progress(stage: str, fraction: float) -> None:
        stages.append(stage)
        if stage == "brainstem":
            raise Cancelled(stage)

    with pytest.raises(Cancelled):
        run_case(phantom_case.t2, phantom_case.mra, progress=progress)
    assert stages == ["registration", "brainstem"]  # nothing ran after the request

"""The case's stages that run at once: results in order, progress in order, errors unchanged."""

from __future__ import annotations

import threading
import time

import pytest

from nvc_pipelines.threads import side_by_side


def test_results_come_in_the_order_given_whichever_ends_first():
    def slow() -> str:
        time.sleep(0.2)
        return "slow"

    collected: list[int] = []
    assert side_by_side(slow, lambda: 2, lambda: None, collected=collected.append) == (
        "slow",
        2,
        None,
    )
    assert collected == [0, 1, 2]


def test_the_jobs_run_at_once():
    both = threading.Barrier(2, timeout=5)  # broken (an error) unless the two wait together
    assert side_by_side(both.wait, both.wait) in ((0, 1), (1, 0))


def test_a_failing_job_raises_its_error_once_the_others_have_ended():
    ended = threading.Event()

    def other() -> None:
        time.sleep(0.2)
        ended.set()

    def fails() -> None:
        raise ValueError("no brainstem")

    with pytest.raises(ValueError, match="no brainstem"):
        side_by_side(fails, other)
    assert ended.is_set()


def test_a_progress_callback_can_stop_after_the_first_result():
    seen: list[int] = []

    def stop(n: int) -> None:
        seen.append(n)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        side_by_side(lambda: 1, lambda: 2, collected=stop)
    assert seen == [0]

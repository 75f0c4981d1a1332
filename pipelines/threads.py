"""How a case's independent stages run at once: each in a thread of its own.

numpy, scipy and ITK release the GIL in their array work, so stages that do
not need each other's results (the brainstem while ITK registers, the two
nerve sides and the arteries, the veins and the distance maps) take about the
time of the longest. The stages themselves know nothing of it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar, overload

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")


def _nothing(index: int) -> None:
    return None


@overload
def side_by_side(
    a: Callable[[], A], b: Callable[[], B], /, *, collected: Callable[[int], None] = ...
) -> tuple[A, B]: ...
@overload
def side_by_side(
    a: Callable[[], A],
    b: Callable[[], B],
    c: Callable[[], C],
    /,
    *,
    collected: Callable[[int], None] = ...,
) -> tuple[A, B, C]: ...
@overload
def side_by_side(
    a: Callable[[], A],
    b: Callable[[], B],
    c: Callable[[], C],
    d: Callable[[], D],
    /,
    *,
    collected: Callable[[int], None] = ...,
) -> tuple[A, B, C, D]: ...
def side_by_side(
    *jobs: Callable[[], Any], collected: Callable[[int], None] = _nothing
) -> tuple[Any, ...]:
    """Run each job in a thread of its own; their results in the order given.

    Parameters
    ----------
    *jobs : callable
        Functions of no argument (``functools.partial`` binds a stage's arguments).
    collected : callable, optional
        Called as ``collected(n)`` once the result of job ``n`` is in, in the
        order of ``jobs`` (progress; it may raise to stop).

    Returns
    -------
    tuple
        The jobs' results.

    Raises
    ------
    Exception
        The first exception, in the order of ``jobs``, of a job or of
        ``collected``, unchanged, once every job has ended.

    Examples
    --------
    >>> side_by_side(lambda: 1 + 1, lambda: "two")
    (2, 'two')
    """
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures: list[Future[Any]] = [pool.submit(job) for job in jobs]
        results = []
        for n, future in enumerate(futures):
            results.append(future.result())
            collected(n)
    return tuple(results)

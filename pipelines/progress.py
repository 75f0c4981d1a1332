"""Progress on a terminal: the stage, a bar and the elapsed time (tqdm); silent elsewhere."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

from tqdm import tqdm

Progress = Callable[[str, float], None]

#: The bar's line: stage, bar, percentage, elapsed time (minutes:seconds).
BAR_FORMAT = "{desc:<14}|{bar}| {percentage:3.0f}% {elapsed}"


class TerminalProgress:
    """A ``progress(stage, fraction)`` callback drawn as a bar while stdout is a terminal.

    Used as a context manager around the work; does nothing (and prints
    nothing) when ``quiet`` or when the stream is not a terminal (a pipe, a
    file, a batch log).

    Parameters
    ----------
    quiet : bool
        Never draw.
    stream : file, optional
        Where to draw (default: ``sys.stdout`` at the time of entering).
    """

    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream
        self._bar: Any = None

    @property
    def enabled(self) -> bool:
        """True while a bar is drawn."""
        return self._bar is not None

    def __enter__(self) -> TerminalProgress:
        stream = self.stream if self.stream is not None else sys.stdout
        if not self.quiet and _is_terminal(stream):
            size = shutil.get_terminal_size((80, 24))
            self._bar = tqdm(
                total=100,
                desc="starting",
                file=stream,
                bar_format=BAR_FORMAT,
                # a terminal that reports no size (a bare pty) gets 80 × 24
                ncols=min(size.columns, 120),
                nrows=size.lines,
                leave=True,
                mininterval=0.2,
            )
            self.stream = stream
        return self

    def __call__(self, stage: str, fraction: float) -> None:
        if self._bar is None:
            return
        self._bar.set_description_str(stage, refresh=False)
        self._bar.n = round(100 * min(max(fraction, 0.0), 1.0))
        self._bar.refresh()

    def write(self, text: str) -> None:
        """Print a line above the bar (or plainly when there is none)."""
        if self._bar is None:
            print(text, file=self.stream if self.stream is not None else sys.stdout)
        else:
            self._bar.write(text, file=self.stream)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def scaled(progress: Progress, start: float, stop: float) -> Progress:
    """``progress`` with fractions 0-1 mapped onto ``start``-``stop`` (a part of a longer job)."""

    def report(stage: str, fraction: float) -> None:
        progress(stage, start + (stop - start) * fraction)

    return report


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False

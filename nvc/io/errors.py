"""The one exception type that every reader raises."""

from __future__ import annotations

from pathlib import Path


class VolumeLoadError(ValueError):
    """An input file or folder could not be loaded as a 3D volume.

    The message names the file and the problem in one line, e.g.
    ``"scan.nii.gz: truncated or corrupt gzip stream"``.

    Attributes
    ----------
    path : pathlib.Path
        The offending file or folder.
    problem : str
        What is wrong with it.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

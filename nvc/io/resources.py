"""Text files shipped inside the package (report layout, HTML template)."""

from __future__ import annotations

from importlib import resources


def package_text(package: str, name: str) -> str:
    """The UTF-8 text of the data file ``name`` shipped in ``package`` (e.g. ``nvc.report``).

    Parameters
    ----------
    package : str
        Dotted package name.
    name : str
        File name inside the package.

    Returns
    -------
    str
    """
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")

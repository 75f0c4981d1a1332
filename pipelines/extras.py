"""Optional dependencies of the ``nvc`` command: which extra provides a missing module.

The core (``pip install nvc``) analyses cases (``nvc run --no-report``,
``nvc phantom``). Reports, batch runs and the napari plugin need extras:

========  ===============================================  =====================
extra     provides                                         commands
========  ===============================================  =====================
report    matplotlib, reportlab, jinja2                    ``report``, ``demo``,
                                                           ``run`` (its report)
batch     dask distributed, dask-jobqueue, psutil (and     ``batch``
          the report extra, for the group report)
napari    napari, PyQt5 (and the report extra)             ``view``
========  ===============================================  =====================
"""

from __future__ import annotations

#: Top-level module -> the extra (``pip install 'nvc[EXTRA]'``) that installs it.
EXTRA_OF_MODULE = {
    "matplotlib": "report",
    "mpl_toolkits": "report",
    "reportlab": "report",
    "jinja2": "report",
    "dask": "batch",
    "distributed": "batch",
    "dask_jobqueue": "batch",
    "psutil": "batch",
    "napari": "napari",
    "PyQt5": "napari",
    "qtpy": "napari",
    "superqt": "napari",
    "magicgui": "napari",
}


def missing_extra(error: ImportError) -> str | None:
    """The extra whose absence caused ``error``, or None when no extra provides the module.

    Parameters
    ----------
    error : ImportError
        Raised by an import; its ``name`` is the module that was not found
        (e.g. ``"matplotlib.figure"``).

    Returns
    -------
    str or None
        ``"report"``, ``"batch"`` or ``"napari"``.

    Examples
    --------
    >>> missing_extra(ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib.pyplot"))
    'report'
    >>> missing_extra(ModuleNotFoundError("No module named 'foo'", name="foo")) is None
    True
    """
    name = getattr(error, "name", None) or ""
    return EXTRA_OF_MODULE.get(name.split(".")[0])


def install_hint(extra: str, module: str | None = None) -> str:
    """One line telling which extra to install, e.g. for the ``report`` extra.

    Parameters
    ----------
    extra : str
        Name of the extra (``report``, ``batch``, ``napari``).
    module : str, optional
        The module found missing, named in the message.

    Returns
    -------
    str
        ``"needs the optional 'report' dependencies (matplotlib is not installed):
        pip install 'nvc[report]'"``.
    """
    why = f" ({module.split('.')[0]} is not installed)" if module else ""
    return f"needs the optional '{extra}' dependencies{why}: pip install 'nvc[{extra}]'"

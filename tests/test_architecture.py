"""Layering: ``nvc`` imports neither the orchestration, the plugin, a GUI nor dask.

The import-linter contracts in pyproject.toml check the same statically (``make lint``);
this test checks what really gets imported at run time.
"""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = {
    "napari",
    "qtpy",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "PySide6",
    "dask",
    "distributed",
    "nvc_pipelines",
    "nvc_napari",
}


def test_nvc_imports_nothing_forbidden():
    code = (
        "import sys, pkgutil, importlib, nvc\n"
        "for m in pkgutil.walk_packages(nvc.__path__, 'nvc.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('\\n'.join(sorted({k.split('.')[0] for k in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = set(out.stdout.split())
    assert "nvc" in loaded
    assert not (loaded & FORBIDDEN), loaded & FORBIDDEN

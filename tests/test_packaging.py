"""Packaging: the folders pipelines/ and viewer_plugins/ install as nvc_pipelines and nvc_napari.

The wheel must not put generic top-level names (``pipelines``, ``viewer_plugins``)
into site-packages; the folder layout stays, setuptools maps it (``package-dir``).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
FOLDER_OF = {"nvc": "nvc", **SETUPTOOLS["package-dir"]}


def test_installed_top_level_names_are_distinctive():
    top = {name.split(".")[0] for name in SETUPTOOLS["packages"]}
    assert top == {"nvc", "nvc_pipelines", "nvc_napari"}
    assert SETUPTOOLS["package-dir"] == {
        "nvc_pipelines": "pipelines",
        "nvc_napari": "viewer_plugins",
    }


def test_every_package_folder_is_in_the_wheel():
    found = set()
    for name, folder in FOLDER_OF.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join([name, *parts]))
    assert found == set(SETUPTOOLS["packages"])


def test_package_data_globs_match_files():
    for package, globs in SETUPTOOLS["package-data"].items():
        folder = ROOT / FOLDER_OF[package.split(".")[0]]
        for pattern in globs:
            assert list(folder.glob(pattern)), (package, pattern)


def test_entry_points_resolve():
    module, _, func = PYPROJECT["project"]["scripts"]["nvc"].partition(":")
    assert callable(getattr(importlib.import_module(module), func))
    package, _, manifest = PYPROJECT["project"]["entry-points"]["napari.manifest"]["nvc"].partition(
        ":"
    )
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.origin is not None
    yaml_text = (Path(spec.origin).parent / manifest).read_text(encoding="utf-8")
    for target in re.findall(r"python_name:\s*([\w.]+):\w+", yaml_text):
        assert target.split(".")[0] == package
        assert importlib.util.find_spec(target) is not None, target


@pytest.mark.parametrize("old", ["pipelines", "viewer_plugins"])
def test_no_code_imports_a_folder_name(old):
    pattern = re.compile(rf"^\s*(from|import) {old}\b", re.M)
    hits = [
        str(path.relative_to(ROOT))
        for folder in ("nvc", "pipelines", "viewer_plugins", "tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert not hits

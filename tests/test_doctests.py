"""The ``Examples`` sections of the docstrings run (doctests on tiny synthetic volumes)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import nvc

#: The core stages: each shows how it is called on a small synthetic input.
WITH_EXAMPLES = (
    "nvc.volume",
    "nvc.registration",
    "nvc.contacts",
    "nvc.decision",
    "nvc.segments",
    "nvc.nerve_geometry",
    "nvc.vessel_names",
    "nvc.labels",
    "nvc.morphology",
    "nvc.surface",
)
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(nvc.__path__, "nvc.")]
    return sorted({"nvc_pipelines.extras", *names})


def _examples(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    return [t for t in tests if t.examples and t.name.startswith(name)]


@pytest.mark.parametrize("name", [n for n in _modules() if _examples(n)])
def test_examples_run(name):
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in _examples(name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_core_stages_have_runnable_examples(name):
    assert _examples(name), f"{name} has no Examples section"

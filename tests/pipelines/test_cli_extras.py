"""The ``nvc`` command without its optional extras: ``--help`` stays light, commands name the extra.

Each case runs in a fresh interpreter (``sys.modules`` must start empty); a missing
extra is simulated by putting ``None`` in ``sys.modules`` for its modules, which
makes their import raise ``ModuleNotFoundError`` as on a machine without them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPTIONAL = ("matplotlib", "reportlab", "jinja2", "dask", "distributed", "napari", "PyQt5")

CHILD = """
import json, sys
for name in {blocked!r}:
    sys.modules[name] = None
from nvc_pipelines.cli import main
try:
    code = main({argv!r})
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
loaded = sorted(m for m in {watched!r} if sys.modules.get(m) is not None)
sys.stderr.write("\\nMODULES " + json.dumps(loaded))
sys.exit(code)
"""


def nvc(argv: list[str], *, blocked: tuple[str, ...] = ()) -> tuple[int, str, str, list[str]]:
    """Run ``nvc ARGV`` in a fresh interpreter: exit code, stdout, stderr, watched modules."""
    code = CHILD.format(blocked=blocked, argv=argv, watched=OPTIONAL)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    err, _, modules = out.stderr.rpartition("\nMODULES ")
    return out.returncode, out.stdout, err, json.loads(modules)


def test_help_imports_no_optional_library():
    code, out, _, modules = nvc(["--help"])
    assert code == 0
    assert {"run", "report", "batch", "view", "phantom", "demo"} <= set(out.split())
    assert modules == []


def test_help_works_with_every_extra_missing():
    code, out, err, _ = nvc(["--help"], blocked=OPTIONAL)
    assert code == 0 and "usage: nvc" in out and err == ""


def test_run_help_needs_no_extra():
    code, out, _, modules = nvc(["run", "--help"], blocked=OPTIONAL)
    assert code == 0 and "--no-report" in out
    assert modules == []


@pytest.mark.parametrize(
    ("argv", "blocked", "extra"),
    [
        (["report", "somewhere"], ("matplotlib",), "report"),
        (["report", "somewhere"], ("reportlab",), "report"),
        (["demo", "--out", "somewhere"], ("jinja2",), "report"),
        (["batch", "in", "out", "participant"], ("dask", "distributed"), "batch"),
    ],
)
def test_a_command_without_its_extra_says_which_to_install_in_one_line(argv, blocked, extra):
    code, out, err, _ = nvc(argv, blocked=blocked)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"nvc: error: nvc {argv[0]} needs")
    assert f"pip install 'nvc[{extra}]'" in err


def test_run_without_the_report_extra_refuses_before_analysing(tmp_path):
    t2, mra = tmp_path / "t2.nii.gz", tmp_path / "mra.nii.gz"
    t2.write_bytes(b"not read")
    mra.write_bytes(b"not read")
    argv = ["run", "--t2", str(t2), "--mra", str(mra), "--out", str(tmp_path / "out")]
    code, _, err, _ = nvc(argv, blocked=("matplotlib",))
    assert code == 2 and err.count("\n") == 1
    assert "pip install 'nvc[report]'" in err and "--no-report" in err
    assert not (tmp_path / "out").exists()

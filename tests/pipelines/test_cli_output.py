"""What ``nvc run`` and ``nvc phantom`` print: progress, verdicts, warnings; ``--side``."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import nvc_pipelines.phantom_cohort
import nvc_pipelines.run
from nvc.findings import Findings
from nvc_pipelines.cli import build_parser, main
from nvc_pipelines.progress import TerminalProgress


class FakeTerminal(io.StringIO):
    """A stdout that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _side(**extra):
    return {
        "nerve_found": True,
        "nvc": True,
        "mvd_candidate": True,
        "confidence": 0.62,
        "reasons": [
            "AICA (artery) contact at RExP, 1.2 mm from the root exit point",
            "registration of the angiogram is doubtful",
            "distance close to the contact threshold",
        ],
        **extra,
    }


FINDINGS = {
    "sides": {
        "left": {**_side(), "nerve_found": False, "reasons": ["facial nerve not found: x"]},
        "right": _side(
            needs_review=True, review_reasons=["registration poor: TOF arteries off the voids"]
        ),
    },
    "registration": {"quality": "poor", "vessel_void_agreement": 0.41},
}


@pytest.fixture
def fake_analysis(monkeypatch, tmp_path):
    """run_case and save_case stand-ins: progress through the stages, FINDINGS as the result."""
    seen = {}

    def run_case(t2, mra, *, symptomatic_side, config, progress):
        seen["side"] = symptomatic_side
        for stage, done in (("registration", 0.0), ("nerves", 0.55), ("done", 1.0)):
            progress(stage, done)
        sides = {k: {**v, "side": k} for k, v in FINDINGS["sides"].items()}
        return SimpleNamespace(findings=Findings.from_dict({**FINDINGS, "sides": sides}))

    def save_case(result, out, config, **kwargs):
        return Path(out) / "findings.json"

    monkeypatch.setattr(nvc_pipelines.run, "load_volume", lambda path: path)
    monkeypatch.setattr(nvc_pipelines.run, "run_case", run_case)
    monkeypatch.setattr(nvc_pipelines.run, "save_case", save_case)
    t2, mra = tmp_path / "t2.nii.gz", tmp_path / "tof.nii.gz"
    args = ["run", "--t2", str(t2), "--mra", str(mra), "--out", str(tmp_path / "o"), "--no-report"]
    return args, seen


def test_the_bar_shows_stage_percentage_and_elapsed_time_on_a_terminal():
    tty = FakeTerminal()
    with TerminalProgress(stream=tty) as progress:
        progress("registration", 0.0)
        progress("nerves", 0.55)
    text = tty.getvalue()
    assert "registration" in text and "nerves" in text
    assert " 55%" in text and re.search(r"\d\d:\d\d", text), text


@pytest.mark.parametrize("quiet", [False, True])
def test_no_bar_off_a_terminal_or_when_quiet(quiet):
    stream = FakeTerminal() if quiet else io.StringIO()
    with TerminalProgress(stream=stream, quiet=quiet) as progress:
        progress("nerves", 0.5)
        assert not progress.enabled
    assert stream.getvalue() == ""


def test_nvc_run_draws_progress_on_a_terminal_only(fake_analysis, monkeypatch, capsys):
    args, _ = fake_analysis
    captured = sys.stdout
    tty = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", tty)
    assert main(args) == 0
    assert "nerves" in tty.getvalue() and "%" in tty.getvalue()
    quiet = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", quiet)
    assert main([*args, "--quiet"]) == 0
    assert "%" not in quiet.getvalue() and "NEEDS REVIEW" in quiet.getvalue()
    monkeypatch.setattr(sys, "stdout", captured)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "%" not in out and "\r" not in out  # piped: no bar


def test_nvc_run_prints_every_reason_and_warning_review_first(fake_analysis, capsys):
    args, _ = fake_analysis
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    right = next(i for i, ln in enumerate(lines) if ln.startswith("right:"))
    assert lines[right] == ("right: NEEDS REVIEW: registration poor: TOF arteries off the voids")
    assert lines[right + 1].strip().startswith("NVC, MVD candidate (confidence 0.62)")
    for reason in FINDINGS["sides"]["right"]["reasons"]:
        assert any(reason in ln for ln in lines[right + 2 :]), reason
    assert any(
        ln.startswith("warning: registration of the TOF onto the T2 is poor") for ln in lines
    )
    assert any("facial nerve not found: x" in ln for ln in lines)


@pytest.mark.parametrize(("given", "side"), [("L", "left"), ("r", "right"), ("Right", "right")])
def test_side_is_accepted_as_in_participants_tsv(given, side, fake_analysis):
    args, seen = fake_analysis
    assert main([*args, "--side", given]) == 0
    assert seen["side"] == side


def test_an_unknown_side_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["run", "--t2", "a", "--mra", "b", "--out", "c", "--side", "x"])
    assert exit_.value.code == 2
    assert "'x' is not left, right, L or R" in capsys.readouterr().err


def test_nvc_phantom_draws_progress_on_a_terminal(phantom_case, monkeypatch, tmp_path):
    monkeypatch.setattr(
        nvc_pipelines.phantom_cohort, "make_case", lambda seed, variety: phantom_case
    )
    monkeypatch.setattr(nvc_pipelines.phantom_cohort, "write_case", lambda out, label, case: None)
    tty = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", tty)
    assert main(["phantom", str(tmp_path / "bids"), "--cases", "2"]) == 0
    text = tty.getvalue()
    assert "case 02/02" in text and "100%" in text and "sub-02" in text
    quiet = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", quiet)
    assert main(["phantom", str(tmp_path / "bids2"), "--cases", "1", "--quiet"]) == 0
    assert "%" not in quiet.getvalue()

"""Generated reference pages (CLI, findings.json schema) match the code."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from nvc.contacts import Contact
from nvc.findings import Findings, SideFindings
from nvc_pipelines.cli import COMMANDS
from nvc_pipelines.config import PipelineConfig
from nvc_pipelines.outputs import provenance
from nvc_pipelines.reference import CLI_DOC, SCHEMA_FILE, cli_markdown, findings_schema, schema_text


def test_the_published_cli_reference_matches_the_parser():
    assert CLI_DOC.read_text(encoding="utf-8") == cli_markdown(), (
        "docs/cli.md is stale: run python -m nvc_pipelines.reference"
    )
    for name in COMMANDS:
        assert f"## nvc {name}" in cli_markdown()
    assert "`--t2`" in cli_markdown() and "`--participant-label, --participant_label`" in (
        cli_markdown()
    )


def test_the_published_schema_matches_the_dataclasses():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "docs/findings.schema.json is stale: run python -m nvc_pipelines.reference"
    )
    jsonschema.Draft202012Validator.check_schema(findings_schema())


def _findings(tmp_path: Path) -> dict:
    contact = Contact(
        vessel_class="artery",
        vessel_name="AICA",
        min_distance_mm=0.1,
        segment="AS",
        distance_from_rexp_mm=3.0,
        in_vulnerable_zone=True,
        grade="contact",
        indentation_mm=0.0,
        contact_length_mm=2.5,
        position="anterior-inferior",
        location_ras_mm=(10.0, -2.0, -30.0),
    )
    right = SideFindings("right", True, True, True, 0.9, ("artery on AS",), (contact,), 8.1)
    left = SideFindings("left", False, False, False, 0.2, ("CN VII not found",))
    data = Findings({"left": left, "right": right}, "right", {"quality": "good"}).to_dict()
    (tmp_path / "t2.nii.gz").write_bytes(b"x")
    data["provenance"] = provenance(PipelineConfig(), {"t2": tmp_path / "t2.nii.gz"})
    data["identifiers"] = {"t2": {"source_name": "t2.nii.gz"}}
    return json.loads(json.dumps(data))


def test_what_the_dataclasses_write_follows_the_schema(tmp_path):
    jsonschema.validate(_findings(tmp_path), findings_schema())


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d["sides"]["right"]["contacts"][0].update(segment="pons"),
        lambda d: d["sides"]["right"]["contacts"][0].update(extra_key=1),
        lambda d: d["sides"]["left"].pop("needs_review"),
        lambda d: d["sides"]["left"].update(confidence="high"),
        lambda d: d.update(schema_version="0.9"),
        lambda d: d.pop("disclaimer"),
    ],
)
def test_the_schema_refuses_what_the_writer_never_writes(tmp_path, spoil):
    data = _findings(tmp_path)
    spoil(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, findings_schema())

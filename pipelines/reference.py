"""Reference pages of the documentation generated from the code.

- ``docs/cli.md``: every ``nvc`` command with its usage and arguments, walked
  from the argparse parser of ``nvc_pipelines.cli`` (all commands imported).
- ``docs/findings.schema.json``: the JSON Schema (draft 2020-12) of
  ``findings.json``, derived from the ``nvc.findings`` dataclasses (types,
  closed sets, nullability) plus what their ``to_dict`` and
  ``nvc_pipelines.outputs.save_case`` add (``schema_version``, ``disclaimer``,
  the optional ``identifiers``).

``python -m nvc_pipelines.reference`` rewrites both (``make docs`` runs it); a test
checks that the committed files match the code (``tests/pipelines/test_reference.py``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

#: Where the generated pages go (the documentation's source folder).
DOCS = Path(__file__).resolve().parents[1] / "docs"
CLI_DOC = DOCS / "cli.md"
SCHEMA_FILE = DOCS / "findings.schema.json"


def cli_markdown() -> str:
    """``docs/cli.md``: the ``nvc`` command and each subcommand, from the argparse parser.

    Returns
    -------
    str
        Markdown: per command its description, usage and a table of arguments
        (name, value, default, choices, meaning).
    """
    from nvc_pipelines.cli import build_parser

    parser = build_parser()
    lines = [
        "# Command line",
        "",
        "<!-- generated from the code by `python -m nvc_pipelines.reference`; do not edit -->",
        "",
        "Exit codes: 0 success, 2 usage error (bad arguments or configuration, output over",
        "an input, a missing optional extra), 3 unreadable input, 4 analysis impossible",
        "(for `batch`: some case failed), 5 output not writable, 130 interrupted (Ctrl-C).",
        "Errors are one line on stderr, never a traceback.",
        "",
        "```text",
        _usage(parser),
        "```",
        "",
    ]
    lines += _arguments_table(parser)
    for name, sub in _subparsers(parser).items():
        lines += [f"## nvc {name}", "", sub.description or "", "", "```text", _usage(sub), "```"]
        lines += ["", *_arguments_table(sub)]
    return "\n".join(lines).rstrip("\n") + "\n"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=88)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip()


def _arguments_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
            continue
        if action.help == argparse.SUPPRESS:
            continue
        name = ", ".join(action.option_strings) or action.dest
        value = _metavar(action)
        default = action.default
        shown_default = (
            ""
            if default is None
            or default is False
            or default is argparse.SUPPRESS
            or not action.option_strings
            or action.nargs == 0
            or default == []
            else f"`{_plain(default)}`"
        )
        choices = ", ".join(f"`{c}`" for c in action.choices) if action.choices else ""
        rows.append(f"| `{name}` | {value} | {shown_default} | {choices} | {_help_text(action)} |")
    if not rows:
        return []
    return [
        "| argument | value | default | choices | meaning |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ]


def _metavar(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    metavar = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
    text = " ".join(metavar) if isinstance(metavar, tuple) else str(metavar)
    if action.nargs in ("+", "*"):
        text += " ..."
    return f"`{text}`"


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def _help_text(action: argparse.Action) -> str:
    text = action.help or ""
    if "%" in text:
        params = {k: v for k, v in vars(action).items() if v is not argparse.SUPPRESS}
        text = text % params
    return " ".join(text.split()).replace("|", "\\|")


def findings_schema() -> dict[str, Any]:
    """The JSON Schema of ``findings.json``, derived from the ``nvc.findings`` dataclasses.

    Returns
    -------
    dict
        A draft 2020-12 JSON Schema. Every key the writer emits is required
        (defaults are written too); objects built from dataclasses allow no other
        key. ``registration``, ``acquisition``, ``provenance`` and a side's
        ``quality`` are free-form objects in the dataclasses and so here.
    """
    from pydantic import TypeAdapter

    from nvc import DISCLAIMER
    from nvc.findings import SCHEMA_VERSION, Findings

    schema = TypeAdapter(Findings).json_schema(mode="serialization")
    for definition in [schema, *schema.get("$defs", {}).values()]:
        if definition.get("type") == "object" and "properties" in definition:
            # ``extra`` holds keys read back that this version does not know: not written
            definition["properties"].pop("extra", None)
            # ``to_dict`` writes every field, defaults included
            definition["required"] = list(definition["properties"])
            definition["additionalProperties"] = False
    # the ``review`` block is written in a reviewed revision only (findings_reviewed.json)
    schema["required"] = [k for k in schema["required"] if k != "review"]
    review = schema["properties"]["review"]
    review["description"] = (
        "Present in findings_reviewed.json only (a reader's review, docs/review.md)."
    )
    added = {
        "schema_version": {
            "const": SCHEMA_VERSION,
            "description": "Version of this layout (nvc.findings.SCHEMA_VERSION).",
        },
        "disclaimer": {"const": DISCLAIMER, "description": "Research use, not for diagnosis."},
    }
    identifiers = {
        "identifiers": {
            "description": "Per input (t2, mra): file name and DICOM identifiers; present only "
            "with nvc run --include-identifiers (nvc_pipelines.outputs.save_case).",
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
        }
    }
    schema["properties"] = {**added, **schema["properties"], **identifiers}
    schema["required"] = [*added, *schema["required"]]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "findings.schema.json",
        **schema,
        "title": "nvc findings.json",
        "description": "Findings of one case, written last by nvc run (see docs/outputs.md).",
    }


def schema_text() -> str:
    """``docs/findings.schema.json`` as written (indented JSON, trailing newline)."""
    return json.dumps(findings_schema(), indent=2) + "\n"


def write_reference() -> list[Path]:
    """Rewrite ``docs/cli.md`` and ``docs/findings.schema.json`` from the code.

    Returns
    -------
    list of Path
        The files written.
    """
    from nvc.io.atomic import write_text

    return [write_text(CLI_DOC, cli_markdown()), write_text(SCHEMA_FILE, schema_text())]


if __name__ == "__main__":
    for path in write_reference():
        print(path)

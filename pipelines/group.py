"""Group level of a batch: ``group_summary.tsv`` and ``group_report.html`` from the saved cases.

Built only from what the participant level wrote (each case's ``findings.json``
and ``batch.json``, and ``failures.tsv``), so it can be rebuilt at any time
without rerunning an analysis.
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from matplotlib.figure import Figure

from nvc import DISCLAIMER, __version__
from nvc.contacts import Contact
from nvc.findings import SideFindings
from nvc.io import write_text
from nvc.io.jsonfile import read_json
from nvc.io.results import load_findings
from nvc.vocabulary import SIDES
from nvc_pipelines.batch_case import BATCH_JSON
from nvc_pipelines.discovery import CaseSpec

SUMMARY = "group_summary.tsv"
REPORT = "group_report.html"
FAILURES = "failures.tsv"

#: Columns of group_summary.tsv (README "Batch runs").
COLUMNS = (
    "participant_id",
    "session_id",
    "side",
    "symptomatic",
    "status",
    "verdict",
    "mvd_candidate",
    "confidence",
    "offender",
    "vessel_class",
    "segment",
    "min_distance_mm",
    "distance_from_rexp_mm",
    "grade",
    "nearest_vessel_mm",
    "rdp_mm",
    "seconds",
    "results",
    "reason",
)
FAILURE_COLUMNS = ("participant_id", "session_id", "reason", "log", "time_utc")


@dataclass(frozen=True)
class GroupOutputs:
    """What the group level wrote."""

    summary: Path
    report: Path
    rows: int


def offender(side: SideFindings) -> Contact | None:
    """The contact behind a side's verdict: touching in the vulnerable zone, arteries first.

    Returns None when no vessel touches the nerve in the vulnerable zone.
    """
    touching = [c for c in side.contacts if c.grade and c.in_vulnerable_zone]
    if not touching:
        return None
    return min(touching, key=lambda c: (c.vessel_class != "artery", c.min_distance_mm))


def verdict(side: SideFindings) -> str:
    """``NVC``, ``no NVC`` or ``nerve not found``."""
    if not side.nerve_found:
        return "nerve not found"
    return "NVC" if side.nvc else "no NVC"


def read_failures(out_dir: Path) -> dict[tuple[str, str], dict[str, str]]:
    """``failures.tsv`` as {(participant_id, session_id): row}; empty when absent."""
    path = out_dir / FAILURES
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return {(r["participant_id"], r["session_id"]): r for r in rows}


def write_tsv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Path:
    """Write a TSV table atomically (missing values as ``n/a``, as BIDS does)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return write_text(path, buf.getvalue())


def summary_rows(out_dir: Path, cases: list[CaseSpec]) -> list[dict[str, Any]]:
    """A row per case and side: the verdict and its contact, or why the case has none."""
    failures = read_failures(out_dir)
    rows: list[dict[str, Any]] = []
    for case in cases:
        pid, sid = f"sub-{case.subject}", f"ses-{case.session}" if case.session else ""
        case_dir = out_dir / case.relative_dir
        findings_path = case_dir / "findings.json"
        base = {"participant_id": pid, "session_id": sid}
        if not findings_path.is_file():
            failure = failures.get((pid, sid or "n/a"))
            status = "failed" if failure else "not run"
            for side in SIDES:
                rows.append(
                    base
                    | {
                        "side": side,
                        "symptomatic": _symptomatic(case.hfs_side, side),
                        "status": status,
                        "verdict": status,
                        "reason": failure["reason"] if failure else "",
                        "results": failure["log"] if failure else "",
                    }
                )
            continue
        findings = load_findings(findings_path)
        meta = read_json(case_dir / BATCH_JSON) if (case_dir / BATCH_JSON).is_file() else {}
        link = _results_link(out_dir, case_dir)
        for side in SIDES:
            s = findings.sides[side]
            off = offender(s)
            nearest = min((c.min_distance_mm for c in s.contacts), default=None)
            rows.append(
                base
                | {
                    "side": side,
                    "symptomatic": _symptomatic(findings.symptomatic_side, side),
                    "status": "done",
                    "verdict": verdict(s),
                    "mvd_candidate": "yes" if s.mvd_candidate else "no",
                    "confidence": s.confidence,
                    "offender": off.vessel_name if off else "",
                    "vessel_class": off.vessel_class if off else "",
                    "segment": off.segment if off else "",
                    "min_distance_mm": off.min_distance_mm if off else "",
                    "distance_from_rexp_mm": off.distance_from_rexp_mm if off else "",
                    "grade": off.grade if off else "",
                    "nearest_vessel_mm": nearest if nearest is not None else "",
                    "rdp_mm": s.rdp_mm,
                    "seconds": meta.get("seconds", ""),
                    "results": link,
                    "reason": s.reasons[0] if s.reasons else "",
                }
            )
    return rows


def write_group(out_dir: Path, cases: list[CaseSpec]) -> GroupOutputs:
    """Write ``group_summary.tsv`` and ``group_report.html`` into the output dataset."""
    rows = summary_rows(out_dir, cases)
    summary = write_tsv(out_dir / SUMMARY, COLUMNS, rows)
    failures = sorted(read_failures(out_dir).values(), key=lambda r: r["participant_id"])
    report = write_text(out_dir / REPORT, render_report(rows, failures))
    return GroupOutputs(summary, report, len(rows))


def render_report(rows: list[dict[str, Any]], failures: list[dict[str, str]]) -> str:
    """The group HTML page: counts, distance histograms, a table linking each case."""
    done = [r for r in rows if r["status"] == "done"]
    cases = {(r["participant_id"], r["session_id"]): r["status"] for r in rows}
    counts = [
        ("cases", len(cases)),
        ("analysed", sum(s == "done" for s in cases.values())),
        ("failed", sum(s == "failed" for s in cases.values())),
        ("not run", sum(s == "not run" for s in cases.values())),
        ("sides analysed", len(done)),
        ("sides with NVC", sum(r["verdict"] == "NVC" for r in done)),
        ("MVD candidates", sum(r["mvd_candidate"] == "yes" for r in done)),
        (
            "symptomatic sides with NVC",
            sum(r["verdict"] == "NVC" and r["symptomatic"] == "yes" for r in done),
        ),
        ("facial nerve not found", sum(r["verdict"] == "nerve not found" for r in done)),
    ]
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("nvc_pipelines", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("group_report.html.j2").render(
        disclaimer=DISCLAIMER,
        version=__version__,
        counts=counts,
        histograms=_histograms(done),
        rows=rows,
        failures=failures,
    )


def _histograms(done: list[dict[str, Any]]) -> str:
    """Two histograms as an inline PNG (data URI): nearest vessel gap and contact position."""
    fig = Figure(figsize=(9.0, 3.4), dpi=100, layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    groups = (("symptomatic side", True, "#c0392b"), ("other sides", False, "#7f8c8d"))
    for label, symptomatic, colour in groups:
        mine = [r for r in done if (r["symptomatic"] == "yes") == symptomatic]
        near = [float(r["nearest_vessel_mm"]) for r in mine if r["nearest_vessel_mm"] != ""]
        pos = [float(r["distance_from_rexp_mm"]) for r in mine if r["distance_from_rexp_mm"] != ""]
        ax1.hist(near, bins=[i * 0.25 for i in range(9)], alpha=0.6, color=colour, label=label)
        ax2.hist(pos, bins=list(range(0, 26, 2)), alpha=0.6, color=colour, label=label)
    ax1.set(
        xlabel="nearest vessel to CN VII (mm; sides with one within 2 mm)",
        ylabel="sides",
        title="Vessel–nerve distance",
    )
    ax2.set(
        xlabel="offending contact: distance from the root exit point (mm)",
        ylabel="sides",
        title="Where the offender touches",
    )
    for ax in (ax1, ax2):
        if not ax.patches or max(p.get_height() for p in ax.patches) == 0:
            ax.set_ylim(0, 1)
            ax.text(0.5, 0.5, "none", transform=ax.transAxes, ha="center", color="#7f8c8d")
        ax.yaxis.get_major_locator().set_params(integer=True)
    fig.legend(*ax1.get_legend_handles_labels(), loc="outside upper center", ncols=2, frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _results_link(out_dir: Path, case_dir: Path) -> str:
    """The case's report.html when it exists, else its findings.json (relative to out_dir)."""
    target = case_dir / "report" / "report.html"
    if not target.is_file():
        target = case_dir / "findings.json"
    return target.relative_to(out_dir).as_posix()


def _symptomatic(hfs_side: str | None, side: str) -> str:
    if hfs_side is None:
        return "n/a"
    return "yes" if hfs_side == side else "no"


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "n/a"
    return str(value)

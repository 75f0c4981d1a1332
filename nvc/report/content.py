"""The report's content, built from the saved outputs along the declared layout.

``build_report`` returns a ``Report``: sections of blocks (facts, verdicts,
tables, figures as PNG bytes, text). ``nvc.report.html`` and ``nvc.report.pdf``
render the same ``Report``, so the HTML page and the PDF say the same thing.
Strings here are plain text (never markup): the renderers escape them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from nvc import DISCLAIMER, __version__
from nvc.findings import SCHEMA_VERSION, Findings, SideFindings
from nvc.report import evidence as ev
from nvc.report.case import ReportCase, contact_label
from nvc.report.cpr import cpr_figure
from nvc.report.drawing import to_png
from nvc.report.layout import Layout
from nvc.report.qc import rez_figure, tof_mip
from nvc.report.render3d import render_figure
from nvc.report.slices import contact_figure, sides_figure
from nvc.segments import VULNERABLE_BEYOND_RDP_MM
from nvc.vocabulary import Side

#: At most this many contact figures per side (the table lists every contact).
MAX_CONTACT_FIGURES = 4

SEGMENT_NAMES = ev.SEGMENT_NAMES
IDENTIFIER_NAMES = {
    "source_name": "file or folder name",
    "patient_name": "patient name",
    "patient_id": "patient ID",
    "patient_birth_date": "birth date",
    "study_date": "study date",
    "institution": "institution",
}


@dataclass(frozen=True)
class Facts:
    """A two-column table of facts (label, value)."""

    title: str
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Verdict:
    """The verdict of one side."""

    @property
    def heading(self) -> str:
        """``Right side (symptomatic)``."""
        sym = {True: " (symptomatic)", False: " (not symptomatic)", None: ""}[self.symptomatic]
        return f"{self.side.capitalize()} side{sym}"

    side: str
    symptomatic: bool | None
    nerve_found: bool
    nvc: bool
    mvd_candidate: bool
    confidence: float
    reasons: tuple[str, ...]
    #: "positive" (red), "review" (amber) or "negative" (green): ``evidence.verdict_status``.
    status: str = "review"
    #: The imaging finding in words (arterial compression in the vulnerable zone: yes / no).
    finding: str = ""
    #: What the confidence is and what it is measured against.
    confidence_note: str = ""
    #: Evidence lines: nearest arteries, unsegmented TOF signal, primary offender.
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """A table with a header row."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Figure:
    """A PNG figure and its caption.

    Attributes
    ----------
    id : str
        Unique within the report (HTML anchor).
    png : bytes
        The image.
    width : float
        Display width as a fraction of the text width.
    """

    id: str
    png: bytes
    caption: str
    width: float = 1.0


@dataclass(frozen=True)
class Text:
    """A paragraph; ``emphasis`` marks the disclaimer."""

    text: str
    emphasis: bool = False


Block = Facts | Verdict | Table | Figure | Text


@dataclass(frozen=True)
class Section:
    """A titled list of blocks."""

    id: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Report:
    """Everything the HTML and PDF renderers show."""

    title: str
    case_id: str
    disclaimer: str
    generator: str
    sections: tuple[Section, ...]
    #: "reviewed by reader ..." or "automated, not reviewed", shown on every page.
    review_status: str = "automated, not reviewed"


def case_id(findings: Findings) -> str:
    """Pseudonymous case ID from the input files' hashes (no name, date or file name)."""
    hashes = findings.provenance.get("inputs_sha256", {})
    sides = {k: v.to_dict() for k, v in findings.sides.items()}
    text = "|".join(f"{k}={hashes[k]}" for k in sorted(hashes)) or repr(sides)
    return "NVC-" + hashlib.sha256(text.encode()).hexdigest()[:10].upper()


@dataclass(frozen=True)
class _Context:
    case: ReportCase
    layout: Layout
    include_identifiers: bool
    side: Side | None = None


def build_report(case: ReportCase, layout: Layout, *, include_identifiers: bool = False) -> Report:
    """Build the report's content along ``layout``.

    Parameters
    ----------
    case : ReportCase
        Loaded outputs of one case.
    layout : Layout
        Sections, blocks and captions (``nvc.report.layout``).
    include_identifiers : bool
        Show the identifiers stored in findings.json (stored only when the
        analysis was run with ``--include-identifiers``). Off by default.
    """
    sections = []
    for spec in layout.sections:
        sides = case.side_order() if spec.per_side else (None,)
        for side in sides:
            ctx = _Context(case, layout, include_identifiers, side)
            blocks: list[Block] = []
            for name in spec.blocks:
                blocks.extend(BLOCKS[name](ctx))
            symptomatic = side is not None and case.findings.symptomatic_side == side
            fields = {
                "side": side or "",
                "Side": (side or "").capitalize(),
                "symptomatic": " (symptomatic)" if symptomatic else "",
            }
            title = spec.title.format(**fields)
            sections.append(Section(spec.id.format(**fields), title, tuple(blocks)))
    return Report(
        title=layout.title,
        case_id=case_id(case.findings),
        disclaimer=DISCLAIMER,
        generator=f"nvc {__version__}",
        sections=tuple(sections),
        review_status=review_status(case.findings),
    )


def review_status(findings: Findings) -> str:
    """What every page says of the review: by whom and when, or that there was none."""
    review = findings.review
    if review is None:
        return "automated, not reviewed"
    who = f" {review.reader}" if review.reader else ""
    return f"reviewed by reader{who} ({review.time_utc})"


def _review(ctx: _Context) -> list[Block]:
    """The reader's changes and, per side, the automated verdict kept beside the reviewed one."""
    review = ctx.case.findings.review
    if review is None:
        return [Text("Automated, not reviewed: no reader has corrected this analysis.")]
    rows = []
    for side in ctx.case.side_order():
        auto, now = review.automated.get(side), ctx.case.findings.sides.get(side)
        if auto is None or now is None:
            continue
        rows.append(
            (
                side,
                _nvc_words(auto.nvc, auto.mvd_candidate),
                _nvc_words(now.nvc, now.mvd_candidate),
            )
        )
    changes = tuple((str(i + 1), e.description) for i, e in enumerate(review.edits))
    return [
        Table("Automated and reviewed verdicts", ("side", "automated", "reviewed"), tuple(rows)),
        Facts(
            f"Changes made by the reader ({review_status(ctx.case.findings)})",
            changes or (("-", "no change: the reader confirmed the automated anatomy"),),
        ),
    ]


def _nvc_words(nvc: bool, mvd: bool) -> str:
    return ("NVC" if nvc else "no NVC") + (", MVD candidate" if mvd else "")


def _case_facts(ctx: _Context) -> list[Block]:
    f = ctx.case.findings
    rows = [
        ("case ID (pseudonymous)", case_id(f)),
        ("symptomatic side (as given)", f.symptomatic_side or "not given"),
        ("findings schema", SCHEMA_VERSION),
        ("analysis software", _software(f)),
    ]
    blocks: list[Block] = [Facts("Case", tuple(rows))]
    if ctx.include_identifiers:
        ids = f.extra.get("identifiers")
        if ids:
            id_rows = []
            for image, values in sorted(ids.items()):
                for key, value in values.items():
                    id_rows.append(
                        (f"{_image_name(image)}: {IDENTIFIER_NAMES.get(key, key)}", str(value))
                    )
            blocks.append(Facts("Identifiers (shown on request)", tuple(id_rows)))
        else:
            blocks.append(
                Text(
                    "No identifiers were stored with this case (the analysis ran "
                    "without --include-identifiers)."
                )
            )
    return blocks


def _software(f: Findings) -> str:
    prov = f.provenance
    pkg = prov.get("packages", {})
    cfg = str(prov.get("config_sha256", ""))[:12]
    return f"nvc {pkg.get('nvc', '?')}, configuration {cfg or '?'}"


def _image_name(key: str) -> str:
    return {"t2": "T2", "mra": "TOF MRA"}.get(key, key)


def _acquisition(ctx: _Context) -> list[Block]:
    acq = ctx.case.findings.acquisition
    header = (
        "image",
        "sequence / series",
        "voxel size (mm)",
        "matrix",
        "field strength",
        "scanner",
        "format",
    )
    rows = []
    for key in ("t2", "mra"):
        a = acq.get(key, {})
        if not a:
            continue
        series = (
            " / ".join(
                str(a[k]) for k in ("sequence", "series_description", "sequence_name") if a.get(k)
            )
            or "not recorded"
        )
        vox = " × ".join(f"{v:.2f}" for v in a.get("voxel_size_mm", []))
        matrix = " × ".join(str(v) for v in a.get("shape", []))
        field = f"{a['field_strength_t']} T" if a.get("field_strength_t") else "not recorded"
        scanner = (
            " ".join(str(a[k]) for k in ("manufacturer", "model") if a.get(k)) or "not recorded"
        )
        rows.append(
            (_image_name(key), series, vox, matrix, field, scanner, str(a.get("format", "")))
        )
    return [Table("Acquisition", header, tuple(rows))]


def _registration(ctx: _Context) -> list[Block]:
    reg = ctx.case.findings.registration
    agreement = reg.get("vessel_void_agreement")
    rows = (
        ("TOF to T2 registration", str(reg.get("quality", "unknown"))),
        (
            "TOF arteries on T2 flow voids",
            f"{100 * agreement:.0f} % (poor below 60 %)" if agreement is not None else "unknown",
        ),
        ("Mattes mutual information", str(reg.get("metric_mattes_mi", "unknown"))),
    )
    return [Facts("Registration quality", rows)]


def _side(ctx: _Context) -> SideFindings:
    assert ctx.side is not None
    found = ctx.case.findings.sides.get(ctx.side)
    if found is None:  # a side the analysis did not report: nothing found
        return SideFindings(ctx.side, False, False, False, 0.0, ("not analysed",))
    return found


def _verdict(ctx: _Context) -> list[Block]:
    s = _side(ctx)
    sym = ctx.case.findings.symptomatic_side
    symptomatic = None if sym is None else sym == ctx.side
    # the evidence lines read the side's JSON block (its additive keys included)
    sd = s.to_dict()
    voxel = ctx.case.findings.acquisition.get("t2", {}).get("voxel_size_mm")
    evidence = [
        *ev.nearest_lines(sd),
        *(line for line in (ev.unsegmented_tof_line(sd), ev.offender_line(sd)) if line),
    ]
    return [
        Verdict(
            side=str(ctx.side),
            symptomatic=symptomatic,
            nerve_found=s.nerve_found,
            nvc=s.nvc,
            mvd_candidate=s.mvd_candidate,
            confidence=s.confidence,
            # the unsegmented TOF signal has its own evidence line: not repeated as a reason
            reasons=tuple(
                str(r)
                for r in s.reasons
                if not (ev.unsegmented_tof_line(sd) and str(r).startswith(ev.UNSEGMENTED_REASON))
            ),
            status=ev.verdict_status(sd, symptomatic),
            finding=ev.finding_line(sd, symptomatic),
            confidence_note=ev.confidence_line(sd, max(voxel) if voxel else None)
            if s.nerve_found
            else "",
            evidence=tuple(evidence),
        )
    ]


def _verdicts(ctx: _Context) -> list[Block]:
    out: list[Block] = []
    for side in ctx.case.side_order():
        if side in ctx.case.findings.sides:
            out.extend(_verdict(_Context(ctx.case, ctx.layout, ctx.include_identifiers, side)))
    return out


def _vertebrobasilar(ctx: _Context) -> list[Block]:
    line = ev.vertebrobasilar_line(ctx.case.findings.to_dict())
    return [Text(line)] if line else []


def _registration_line(ctx: _Context) -> list[Block]:
    reg = ctx.case.findings.registration
    quality = reg.get("quality", "unknown")
    text = f"TOF to T2 registration: {quality}."
    if quality != "good":
        text += " Vessel positions may be off and confidences were lowered; check the QC figures."
    return [Text(text)]


def _contacts_table(ctx: _Context) -> list[Block]:
    s = _side(ctx)
    if not s.nerve_found:
        return []
    contacts = s.contacts
    rdp = s.rdp_mm
    note = ""
    if rdp is not None:
        note = (
            f"Root detachment point at {rdp:.1f} mm from the root exit point; vulnerable zone "
            f"up to {rdp + VULNERABLE_BEYOND_RDP_MM:.1f} mm. Distances are between vessel and "
            "nerve surfaces; a gap under 0.5 mm (about one voxel) cannot be seen on MRI."
        )
    if not contacts:
        return [Text("No vessel within 2 mm of the facial nerve. " + note)]
    header = (
        "#",
        "vessel",
        "class",
        "segment",
        "from RExP (mm)",
        "min. distance (mm)",
        "grade",
        "indentation (mm)",
        "position around nerve",
        "vulnerable zone",
    )
    rows = []
    for i, c in enumerate(contacts):
        rows.append(
            (
                contact_label(str(ctx.side), i),
                c.vessel_name,
                c.vessel_class,
                c.segment,
                f"{c.distance_from_rexp_mm:.1f}",
                f"{c.min_distance_mm:.1f}",
                c.grade or "apart",
                f"{c.indentation_mm:.1f}",
                c.position,
                "yes" if c.in_vulnerable_zone else "no",
            )
        )
    return [Table("Vessels within 2 mm of the facial nerve", header, tuple(rows), note)]


def _contact_figures(ctx: _Context) -> list[Block]:
    s = _side(ctx)
    side = str(ctx.side)
    out: list[Block] = []
    contacts = s.contacts
    for i, c in enumerate(contacts[:MAX_CONTACT_FIGURES]):
        label = contact_label(side, i)
        vessel = f"{c.vessel_name} ({c.vessel_class})"
        fig = contact_figure(ctx.case, c, title=f"{label}: {vessel}, {side} side", side=side)
        caption = ctx.layout.captions["contact"].format(
            label=label,
            side=side,
            vessel=vessel,
            segment=c.segment,
            segment_name=SEGMENT_NAMES.get(c.segment, c.segment),
            from_rexp=c.distance_from_rexp_mm,
            distance=c.min_distance_mm,
            position=c.position,
        )
        out.append(Figure(f"contact-{label}", to_png(fig), caption, 0.9))
    if len(contacts) > MAX_CONTACT_FIGURES:
        out.append(
            Text(
                f"Figures show the first {MAX_CONTACT_FIGURES} of {len(contacts)} "
                "contacts; the table lists them all."
            )
        )
    return out


def _offender_figure(ctx: _Context) -> list[Block]:
    """Page 1: the oblique plane through the primary offender of the symptomatic side.

    Without a symptomatic side, the first side (right, then left) with an offender.
    """
    for side in ctx.case.findings.side_order():
        found = ctx.case.findings.sides.get(side)
        if found is None:
            continue
        o = found.to_dict().get("offender")
        if not o:
            continue
        sym = ctx.case.findings.symptomatic_side
        if sym in ("left", "right") and side != sym:
            continue
        c = found.contacts[int(o["contact_index"])]
        label = contact_label(side, int(o["contact_index"]))
        fig = contact_figure(
            ctx.case,
            c,
            title=f"{label}: primary offender {c.vessel_name}, {side} side",
            side=side,
        )
        caption = ctx.layout.captions["offender"].format(
            label=label,
            side=side,
            description=o["description"],
            indentation=float(o["indentation_mm"]),
            distance=float(c.min_distance_mm),
        )
        return [Figure("offender", to_png(fig), caption, 0.45)]
    return []


def _qc_intro(ctx: _Context) -> list[Block]:
    del ctx
    return [
        Text(
            "What to check: on the TOF projections every bright vessel near the nerves should "
            "carry a red outline (a bright loop without one is an artery the analysis missed, and "
            "it may be the offender); on the T2 through each root exit zone the yellow facial "
            "nerve should leave the brainstem (dashed outline) at the pontomedullary sulcus, "
            "anterior to the green CN VIII."
        )
    ]


def _qc_tof(ctx: _Context) -> list[Block]:
    return [Figure("qc-tof", to_png(tof_mip(ctx.case)), ctx.layout.captions["qc_tof"], 1.0)]


def _qc_rez(ctx: _Context) -> list[Block]:
    return [Figure("qc-rez", to_png(rez_figure(ctx.case)), ctx.layout.captions["qc_rez"], 0.9)]


def _cpr(ctx: _Context) -> list[Block]:
    return [Figure("cpr", to_png(cpr_figure(ctx.case)), ctx.layout.captions["cpr"])]


def _sides(ctx: _Context) -> list[Block]:
    slab = 3.0
    fig = sides_figure(ctx.case, slab_mm=slab)
    return [Figure("sides", to_png(fig), ctx.layout.captions["sides"].format(slab=slab), 0.9)]


def _render3d(ctx: _Context) -> list[Block]:
    fig = render_figure(ctx.case)
    return [Figure("render3d", to_png(fig), ctx.layout.captions["render3d"], 1.0)]


def _method(ctx: _Context) -> list[Block]:
    del ctx
    return [
        Text(
            "Arterial compression in the vulnerable zone is reported when an artery lies within "
            "0.5 mm of the facial nerve from the root exit point (RExP) to 4 mm beyond the root "
            "detachment point (RDP), where almost all surgical offenders are found. It is an "
            "imaging finding, not advice for or against surgery. On the symptomatic side an "
            "offender is expected: when none is found the verdict is amber (review the images), "
            "never green. Confidence (0 to 1) is a score, not a probability: it starts at 0.95 "
            "for a clearly traced nerve and is lowered by a doubtful registration, a distance or "
            "position close to a threshold, and failed self-checks (capped at 0.4). Grades: "
            "contact (touching), indentation (the nerve deviates from its own course by 0.3 mm "
            "or more), displacement (1 mm or more)."
        ),
        Text(
            "Orientation: images follow the radiological convention (patient right on the left "
            "of the image); letters at the edges give the patient directions (R/L right/left, "
            "A/P anterior/posterior, S/I superior/inferior)."
        ),
    ]


def _disclaimer(ctx: _Context) -> list[Block]:
    del ctx
    return [
        Text(
            f"{DISCLAIMER} This report is produced automatically by research software and "
            "has not been validated for clinical use; it does not replace reading the images.",
            emphasis=True,
        )
    ]


BLOCKS: dict[str, Callable[[_Context], list[Block]]] = {
    "case_facts": _case_facts,
    "acquisition": _acquisition,
    "registration": _registration,
    "verdict": _verdict,
    "verdicts": _verdicts,
    "review": _review,
    "registration_line": _registration_line,
    "vertebrobasilar": _vertebrobasilar,
    "contacts_table": _contacts_table,
    "contact_figures": _contact_figures,
    "cpr": _cpr,
    "offender_figure": _offender_figure,
    "qc_intro": _qc_intro,
    "qc_tof": _qc_tof,
    "qc_rez": _qc_rez,
    "sides_figure": _sides,
    "render3d": _render3d,
    "method": _method,
    "disclaimer": _disclaimer,
}

"""The report as a PDF (reportlab Platypus), the same content as the HTML page.

Text goes through reportlab's paragraph mark-up, so every string is escaped
first (``xml.sax.saxutils.escape``): a ``<script>`` in a header is printed as
text. The disclaimer and case ID are drawn on every page.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from nvc.report import content as c

_FONT = "DejaVuSans"
_BOLD = "DejaVuSans-Bold"


def _register_fonts() -> None:
    """DejaVu Sans (shipped with matplotlib) so that ×, ±, ≤ print."""
    if _FONT in pdfmetrics.getRegisteredFontNames():
        return
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(_FONT, str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(_BOLD, str(ttf / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(_FONT, normal=_FONT, bold=_BOLD, italic=_FONT, boldItalic=_BOLD)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "body", fontName=_FONT, fontSize=9.5, leading=12.5, alignment=TA_LEFT, spaceAfter=4
    )
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9, spaceAfter=0),
        "title": ParagraphStyle("title", parent=base, fontName=_BOLD, fontSize=15, leading=19),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=_BOLD,
            fontSize=12.5,
            leading=16,
            spaceBefore=8,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=base,
            fontName=_BOLD,
            fontSize=10,
            leading=13,
            spaceBefore=4,
            spaceAfter=2,
            keepWithNext=1,
        ),
        "flags": ParagraphStyle("flags", parent=base, fontName=_BOLD, fontSize=12, leading=16),
        "disclaimer": ParagraphStyle(
            "disclaimer", parent=base, fontName=_BOLD, textColor=colors.HexColor("#8b0000")
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def render_pdf(report: c.Report) -> bytes:
    """Render ``report`` as PDF bytes (A4 portrait)."""
    _register_fonts()
    st = _styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=18 * mm,
        bottomMargin=16 * mm,
        title=f"{report.title} ({report.case_id})",
        author=report.generator,
    )
    story: list[Flowable] = [
        _p(report.title, st["title"]),
        _p(f"Case {report.case_id} · {report.generator} · {report.review_status}", st["small"]),
        Spacer(1, 3 * mm),
    ]
    for section in report.sections:
        head: list[Flowable] = [_p(section.title, st["h2"])]
        for i, b in enumerate(section.blocks):  # the heading stays with the first block
            flowables = (head if i == 0 else []) + _block(b, st, doc.width)
            # a figure keeps its caption itself and shrinks to fit; KeepTogether would
            # measure it at full size and move it to the next page
            fitted = isinstance(b, c.Figure) and i > 0
            story.extend(flowables) if fitted else story.append(KeepTogether(flowables))
        if not section.blocks:
            story.extend(head)

    def on_page(canvas: Any, doc_: Any) -> None:
        canvas.saveState()
        w, h = A4
        canvas.setFillColor(colors.HexColor("#8b0000"))
        canvas.rect(0, h - 11 * mm, w, 11 * mm, fill=1, stroke=0)
        canvas.setFillColor(colors.white)
        canvas.setFont(_BOLD, 9)
        canvas.drawString(
            15 * mm,
            h - 7 * mm,
            f"{report.disclaimer}  Case {report.case_id} · {report.review_status}",
        )
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.setFont(_FONT, 7.5)
        canvas.drawString(15 * mm, 8 * mm, f"{report.disclaimer} {report.generator}")
        canvas.drawRightString(w - 15 * mm, 8 * mm, f"page {doc_.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()


def _block(block: c.Block, st: dict[str, ParagraphStyle], width: float) -> list[Flowable]:
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
    )
    if isinstance(block, c.Facts):
        rows = [[_p(k, st["cell"]), _p(v, st["cell"])] for k, v in block.rows]
        t = Table(rows, colWidths=[0.32 * width, 0.68 * width], hAlign="LEFT")
        t.setStyle(grid)
        t.setStyle(TableStyle([("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0"))]))
        return [_p(block.title, st["h3"]), t, Spacer(1, 2 * mm)]
    if isinstance(block, c.Table):
        rows = [[_p(h, st["cell"]) for h in block.header]]
        rows += [[_p(v, st["cell"]) for v in row] for row in block.rows]
        weights = [
            max([len(w) for w in h.split()] + [len(row[i]) for row in block.rows]) + 2
            for i, h in enumerate(block.header)
        ]
        t = Table(
            rows, hAlign="LEFT", repeatRows=1, colWidths=[width * w / sum(weights) for w in weights]
        )
        t.setStyle(grid)
        t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4e4e4"))]))
        parts: list[Flowable] = [_p(block.title, st["h3"]), t]
        if block.note:
            parts.append(_p(block.note, st["small"]))
        return [*parts, Spacer(1, 2 * mm)]
    if isinstance(block, c.Verdict):
        return [_verdict(block, st, width), Spacer(1, 3 * mm)]
    if isinstance(block, c.Figure):
        return [_FittedFigure(block, _p(block.caption, st["small"])), Spacer(1, 4 * mm)]
    if isinstance(block, c.Text):
        return [_p(block.text, st["disclaimer" if block.emphasis else "body"])]
    raise TypeError(f"unknown block {type(block).__name__}")


#: A figure is shrunk to the space left on a page down to this share of its size;
#: smaller it is hard to read, so it goes to the next page whole.
MIN_FIGURE_SCALE = 0.6
#: The tallest a figure is drawn (A4 text height is about 250 mm).
MAX_FIGURE_HEIGHT = 175 * mm


class _FittedFigure(Flowable):
    """A figure and its caption below it, shrunk to fit the rest of the page.

    Written here because reportlab's ``Image`` never shrinks (a figure that
    does not fit leaves the page's end blank and moves on, e.g. the primary
    offender's figure off page 1) and ``KeepInFrame`` shrinks to any size.
    """

    def __init__(self, block: c.Figure, caption: Paragraph) -> None:
        super().__init__()
        self.png, self.share, self.caption = block.png, block.width, caption
        self.image_size = ImageReader(io.BytesIO(block.png)).getSize()
        self.scale = self.caption_height = 0.0

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        w, h = self.image_size
        natural = min(availWidth * self.share / w, MAX_FIGURE_HEIGHT / h)
        self.caption_height = self.caption.wrap(availWidth, availHeight)[1]
        fit = (availHeight - self.caption_height) / (h * natural)
        self.scale = natural * (min(fit, 1.0) if fit >= MIN_FIGURE_SCALE else 1.0)
        self.width, self.height = availWidth, h * self.scale + self.caption_height
        return self.width, self.height

    def draw(self) -> None:
        w, h = (v * self.scale for v in self.image_size)
        self.caption.drawOn(self.canv, 0, 0)
        self.canv.drawImage(
            ImageReader(io.BytesIO(self.png)),
            (self.width - w) / 2,
            self.caption_height,
            width=w,
            height=h,
        )


#: Verdict colours (border/text, background) per status: red, amber, green.
STATUS_COLOURS = {
    "positive": ("#b00000", "#fff0f0"),
    "review": ("#8a5200", "#fff5e0"),
    "negative": ("#105010", "#f0fff0"),
}


def _verdict(v: c.Verdict, st: dict[str, ParagraphStyle], width: float) -> Flowable:
    ink, paper = STATUS_COLOURS.get(v.status, STATUS_COLOURS["review"])
    flags = ParagraphStyle("flags-" + v.status, parent=st["flags"], textColor=colors.HexColor(ink))
    rows: list[list[Flowable]] = [[_p(v.heading, st["h3"])]]
    if not v.nerve_found:
        rows.append([_p("Facial nerve not found: no verdict", flags)])
    rows.append([_p(v.finding, flags)])
    if v.confidence_note:
        rows.append([_p(v.confidence_note, st["small"])])
    bold = ParagraphStyle("evidence", parent=st["body"], fontName=_BOLD)
    rows += [[_p(f"• {e}", bold)] for e in v.evidence]
    rows += [[_p(f"• {r}", st["body"])] for r in v.reasons]
    t = Table(rows, colWidths=[width], hAlign="LEFT")
    t.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.6, colors.HexColor(ink)),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(paper)),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return t

"""The report as one self-contained HTML page (Jinja2, autoescaped, figures embedded)."""

from __future__ import annotations

import base64

import jinja2

from nvc.report.content import Figure, Report


def render_html(report: Report, template: str) -> str:
    """Render ``report`` with the Jinja2 ``template`` text (``report.html.j2``).

    Every string is HTML-escaped (autoescape is on): text from image headers or
    file names cannot inject markup. Figures are embedded as base64 PNG data URIs.
    """
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    images = {
        b.id: base64.b64encode(b.png).decode("ascii")
        for s in report.sections
        for b in s.blocks
        if isinstance(b, Figure)
    }
    return env.from_string(template).render(report=report, images=images)

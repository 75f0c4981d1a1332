"""PDF layout: a figure shrinks to the rest of the page, within limits."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from nvc.report import content as c
from nvc.report.pdf import MIN_FIGURE_SCALE, _FittedFigure, _p, _register_fonts, _styles


def _figure() -> c.Figure:
    fig, ax = plt.subplots(figsize=(6, 3), dpi=50)
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return c.Figure("f", buf.getvalue(), "a caption " * 30, 0.9)


@pytest.fixture()
def make():
    _register_fonts()
    st = _styles()
    block = _figure()
    return lambda: _FittedFigure(block, _p(block.caption, st["small"]))


def test_a_figure_that_fits_keeps_its_size(make):
    natural = make().wrap(500, 10_000)[1]
    assert make().wrap(500, natural + 1)[1] == pytest.approx(natural)


def test_a_figure_shrinks_to_the_space_left_on_the_page(make):
    whole = make()
    natural = whole.wrap(500, 10_000)[1]
    caption = whole.caption_height
    room = caption + 0.75 * (natural - caption)  # three quarters of the image fits
    fitted = make()
    assert fitted.wrap(500, room)[1] == pytest.approx(room)
    assert fitted.scale == pytest.approx(0.75 * whole.scale)


def test_a_figure_that_would_be_too_small_goes_to_the_next_page_whole(make):
    whole = make()
    natural = whole.wrap(500, 10_000)[1]
    caption = whole.caption_height
    room = caption + (MIN_FIGURE_SCALE - 0.1) * (natural - caption)
    assert make().wrap(500, room)[1] == pytest.approx(natural)  # taller than the room: moves on

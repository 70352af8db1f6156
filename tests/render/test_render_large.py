"""A one-million-character document (slow)."""

import time

import numpy as np
import pytest
from render_helpers import CODE, EN_PARAGRAPH, ZH_PARAGRAPH

from app.render import render, resolve_config


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["en", "zh"])
def test_one_million_characters(preset):
    unit = "\n".join([EN_PARAGRAPH, ZH_PARAGRAPH, CODE])
    text = (unit * (1_000_000 // len(unit) + 1))[:1_000_000]
    doc = render(text, resolve_config(preset))
    layout = doc.layout
    assert len(layout) == 1_000_000
    assert len(doc.pages) > 50
    drawn = layout.page[layout.page >= 0]
    assert np.all(np.diff(drawn) >= 0) and drawn.max() == len(doc.pages) - 1
    # queries on the full map answer in milliseconds
    started = time.perf_counter()
    boxes = layout.boxes_for_span(500_000, 501_000)
    page = boxes[0][0]
    x0, y0, x1, y1 = boxes[0][1]
    hit = layout.span_at(page, (x0 + x1) / 2, (y0 + y1) / 2)
    assert time.perf_counter() - started < 1.0
    assert boxes and hit is not None
    assert doc.pages[-1].png_bytes().startswith(b"\x89PNG")
    assert doc.stats.visual_tokens > 0 and doc.stats.text_tokens > 0

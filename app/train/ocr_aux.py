"""The auxiliary OCR task (the seeds' "OCR 辅助任务"): transcribe a region of a rendered page.

Glyph's training mixes OCR-style tasks into SFT so the model keeps reading characters exactly.
Here a region is a run of up to ``max_lines`` consecutive drawn lines on one page; the
``LayoutMap`` gives both its pixel box (the crop, padded by ``margin``) and the exact text drawn
there: the document's own substring from the first drawn character of the first line to the
last of the last line. A line wrapped at a space keeps that space; a newline stays a newline —
with Glyph's ``newline-markup`` (the en/zh presets) it is drawn as the red ``\n`` marker inside the
line, and the model learns to read that marker as a line break. Deterministic for a given random
generator.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.datamodel import RenderedDoc, iter_lines, merge_boxes

log = logging.getLogger(__name__)


@dataclass
class Region:
    page: int
    box: tuple[int, int, int, int]  # crop box on the page, pixels (x1, y1 exclusive)
    text: str  # the document's text drawn inside the crop
    start: int  # character span in the document
    end: int


def page_lines(rendered: RenderedDoc) -> dict[int, list[tuple[int, int]]]:
    """Drawn lines with visible text, per page: (start, end) character offsets."""
    per_page: dict[int, list[tuple[int, int]]] = {}
    layout = rendered.layout
    for _, start, end in iter_lines(layout):
        if not rendered.text[start:end].strip():
            continue
        page = int(layout.page[start])
        per_page.setdefault(page, []).append((start, end))
    return per_page


def sample_regions(
    rendered: RenderedDoc, count: int, rng: random.Random, *, max_lines: int = 3, margin: int = 4
) -> list[Region]:
    """``count`` random regions of ``rendered`` (fewer when it has no drawn text)."""
    per_page = page_lines(rendered)
    pages = sorted(per_page)
    regions: list[Region] = []
    if not pages:
        return regions
    for _ in range(count):
        page = rng.choice(pages)
        lines = per_page[page]
        n = rng.randint(1, min(max_lines, len(lines)))
        first = rng.randrange(0, len(lines) - n + 1)
        chosen = lines[first : first + n]
        boxes = [box for s, e in chosen for _, box in rendered.layout.boxes_for_span(s, e)]
        x0, y0, x1, y1 = merge_boxes(boxes)
        width, height = rendered.pages[page].size
        crop = (
            max(0, int(x0) - margin),
            max(0, int(y0) - margin),
            min(width, int(np.ceil(x1)) + margin),
            min(height, int(np.ceil(y1)) + margin),
        )
        start, end = chosen[0][0], chosen[-1][1]
        regions.append(Region(page, crop, rendered.text[start:end].strip(), start, end))
    return regions


def allocate(total: int, weights: Sequence[int], rng: random.Random) -> list[int]:
    """Split ``total`` regions over documents in proportion to their number of QA rows."""
    if total <= 0 or not weights:
        return [0] * len(weights)
    picks = rng.choices(range(len(weights)), weights=weights, k=total)
    counts = [0] * len(weights)
    for i in picks:
        counts[i] += 1
    return counts

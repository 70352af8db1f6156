"""Reading order of text blocks on a page: recursive XY-cut that keeps columns together.

PDF content streams list text in whatever order the producer wrote it, and sorting blocks by
(top, left) interleaves the lines of a two-column page. XY-cut splits the page at horizontal
gaps into bands and at vertical gaps into columns. The classic weakness — two columns whose
paragraph gaps line up get cut into bands first and are then read left, right, left, right — is
handled by merging consecutive bands that continue the same column structure before cutting
into columns. Table-like bands (one-line cells) are not merged, so tables still read row by row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from app.datamodel import Box

log = logging.getLogger(__name__)

Y_OVERLAP_TOLERANCE = 1.0  # points two stacked blocks may overlap and still count as separate
MIN_COLUMN_GAP = 4.0  # points of white space that separate two columns
# A band that has text in only one column continues the columns above it only when it starts
# within this many lines of them; further down it is a new section (e.g. a short full-width
# paragraph that happens to fit inside the left column's x-range).
MAX_COLUMN_CONTINUATION_LINES = 3.0


@dataclass(frozen=True)
class _Item:
    index: int
    x0: float
    y0: float
    x1: float
    y1: float
    lines: int


def _split_y(items: list[_Item]) -> list[list[_Item]]:
    bands: list[list[_Item]] = []
    bottom = float("-inf")
    for item in sorted(items, key=lambda it: (it.y0, it.x0)):
        if bands and item.y0 < bottom - Y_OVERLAP_TOLERANCE:
            bands[-1].append(item)
            bottom = max(bottom, item.y1)
        else:
            bands.append([item])
            bottom = item.y1
    return bands


def _split_x(items: list[_Item]) -> list[list[_Item]]:
    cols: list[list[_Item]] = []
    right = float("-inf")
    for item in sorted(items, key=lambda it: (it.x0, it.y0)):
        if cols and item.x0 < right + MIN_COLUMN_GAP:
            cols[-1].append(item)
            right = max(right, item.x1)
        else:
            cols.append([item])
            right = item.x1
    return cols


def _line_height(items: list[_Item]) -> float:
    heights = sorted((it.y1 - it.y0) / max(it.lines, 1) for it in items)
    return heights[len(heights) // 2] if heights else 0.0


def _is_text_columns(band: list[_Item]) -> bool:
    return len(_split_x(band)) > 1 and any(it.lines >= 2 for it in band)


def _order(items: list[_Item]) -> list[_Item]:
    if len(items) <= 1:
        return items
    bands = _split_y(items)
    if len(bands) == 1:
        cols = _split_x(items)
        if len(cols) == 1:
            return sorted(items, key=lambda it: (it.y0, it.x0))
        return [it for col in cols for it in _order(col)]

    groups: list[list[list[_Item]]] = []
    for band in bands:
        if groups and _is_text_columns(groups[-1][0]):
            merged = [it for b in groups[-1] for it in b] + band
            above = [it for b in groups[-1] for it in b]
            gap = min(it.y0 for it in band) - max(it.y1 for it in above)
            near = gap <= MAX_COLUMN_CONTINUATION_LINES * _line_height(above)
            if len(_split_x(merged)) > 1 and (near or len(_split_x(band)) > 1):
                groups[-1].append(band)
                continue
        groups.append([band])

    out: list[_Item] = []
    for group in groups:
        if len(group) == 1:
            out.extend(_order(group[0]))
            continue
        merged = [it for b in group for it in b]
        cols = _split_x(merged)
        if len(cols) > 1:
            out.extend(it for col in cols for it in _order(col))
        else:  # pragma: no cover - merging guarantees a column gap
            out.extend(it for band in group for it in _order(band))
    return out


def reading_order(boxes: Sequence[Box], lines: Sequence[int] | None = None) -> list[int]:
    """Indices of ``boxes`` in reading order; ``lines[i]`` is how many text lines block i has."""
    items = [
        _Item(i, min(b[0], b[2]), min(b[1], b[3]), max(b[0], b[2]), max(b[1], b[3]),
              lines[i] if lines is not None else 1)
        for i, b in enumerate(boxes)
    ]  # fmt: skip
    try:
        return [it.index for it in _order(items)]
    except RecursionError:  # pathological layouts: fall back to top-to-bottom
        log.warning("reading order: layout too deep, sorting blocks top to bottom")
        return [it.index for it in sorted(items, key=lambda it: (it.y0, it.x0))]

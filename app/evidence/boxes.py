"""Spans → red boxes: on the rendered pages via the LayoutMap, on original PDF pages via word boxes."""

from __future__ import annotations

from collections import defaultdict

from app.datamodel import Box, Document, Evidence, LayoutMap, Span, merge_boxes


def evidence_for_span(
    layout: LayoutMap,
    span: Span,
    *,
    confidence: float,
    needs_review: bool,
    document: Document | None = None,
) -> list[Evidence]:
    """One ``Evidence`` per rendered page the span touches (a span may cross a page break)."""
    per_page: dict[int, list[Box]] = defaultdict(list)
    for page, box in layout.boxes_for_span(span.start, span.end):
        per_page[page].append(box)
    source = source_boxes(document, span.start, span.end) if document is not None else {}
    result = []
    for page in sorted(per_page):
        src_page, src_boxes = None, []
        if source:
            # attach the original-page boxes to the first rendered page of the span
            src_page = min(source)
            src_boxes = source.pop(src_page)
        result.append(
            Evidence(
                page=page,
                boxes=per_page[page],
                span=span,
                confidence=confidence,
                needs_review=needs_review,
                source_page=src_page,
                source_boxes=src_boxes,
            )
        )
    return result


def source_boxes(document: Document, start: int, end: int) -> dict[int, list[Box]]:
    """Boxes (PDF points) of the original page words overlapping ``start:end``, per line."""
    if document.format != "pdf" or start >= end:
        return {}
    offsets = document.block_offsets()
    out: dict[int, list[Box]] = defaultdict(list)
    for block, block_start in zip(document.blocks, offsets, strict=True):
        block_end = block_start + len(block.text)
        if block_end <= start or block_start >= end or block.source_page is None:
            continue
        lo, hi = start - block_start, end - block_start
        words = [w for w in block.words if w.end > lo and w.start < hi]
        if not words:
            if block.bbox is not None:
                out[block.source_page].append(block.bbox)
            continue
        # merge words that sit on the same text line (similar vertical centre)
        lines: list[list[Box]] = []
        for word in sorted(words, key=lambda w: (round((w.bbox[1] + w.bbox[3]) / 2), w.bbox[0])):
            centre = (word.bbox[1] + word.bbox[3]) / 2
            if lines:
                last = lines[-1][-1]
                height = max(last[3] - last[1], 1.0)
                if abs((last[1] + last[3]) / 2 - centre) < height / 2:
                    lines[-1].append(word.bbox)
                    continue
            lines.append([word.bbox])
        out[block.source_page].extend(merge_boxes(line) for line in lines)
    return dict(out)

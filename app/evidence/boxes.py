"""Spans → red boxes: on the rendered pages via the LayoutMap, on original PDF pages via word boxes."""

from __future__ import annotations

from collections import defaultdict

from app.datamodel import Box, Document, Evidence, LayoutMap, Span, merge_boxes

PAGED = ("pdf", "collection")  # documents whose blocks know their original page


def evidence_for_span(
    layout: LayoutMap,
    span: Span,
    *,
    confidence: float,
    needs_review: bool,
    document: Document | None = None,
) -> list[Evidence]:
    """One ``Evidence`` per rendered page the span touches (a span may cross a page break), and
    per original page within it: a passage that crosses a page break of the original PDF keeps
    its boxes on both original pages, even when it fits on one rendered page."""
    parts = source_parts(document, span.start, span.end) if document is not None else []
    if not parts:
        parts = [(None, span.start, span.end)]
    result = []
    for src_page, start, end in parts:
        per_page: dict[int, list[Box]] = defaultdict(list)
        for page, box in layout.boxes_for_span(start, end):
            per_page[page].append(box)
        src_boxes = (
            source_boxes(document, start, end).get(src_page, [])
            if document is not None and src_page is not None
            else []
        )
        part = document.part_at(start) if document is not None else None
        for n, page in enumerate(sorted(per_page)):
            result.append(
                Evidence(
                    page=page,
                    boxes=per_page[page],
                    span=span,
                    confidence=confidence,
                    needs_review=needs_review,
                    source_page=src_page,
                    document=part.name if part is not None else None,
                    document_page=document.own_page(src_page) if document is not None else None,
                    # the original-page boxes go with the first rendered page of this part
                    source_boxes=src_boxes if n == 0 else [],
                )
            )
    return result


def source_parts(document: Document, start: int, end: int) -> list[tuple[int | None, int, int]]:
    """``start:end`` cut where the original page changes: (source page, start, end) in order;
    empty when the document has no pages of its own (DOCX, text, HTML)."""
    if document.format not in PAGED or start >= end:
        return []
    parts: list[tuple[int | None, int, int]] = []
    offsets = document.block_offsets()
    for block, block_start in zip(document.blocks, offsets, strict=True):
        block_end = block_start + len(block.text) + 1  # with the separator after the block
        lo, hi = max(start, block_start), min(end, block_end)
        if lo >= hi:
            continue
        if parts and parts[-1][0] == block.source_page:
            parts[-1] = (block.source_page, parts[-1][1], hi)
        else:
            parts.append((block.source_page, lo, hi))
    return parts


def source_boxes(document: Document, start: int, end: int) -> dict[int, list[Box]]:
    """Boxes (PDF points) of the original page words overlapping ``start:end``, per line."""
    if document.format not in PAGED or start >= end:
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

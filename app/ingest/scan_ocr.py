"""Text of scanned PDF pages, read by OCR at upload.

A scanned page has no text layer: without this step the document would have no text there, and
neither the renderer nor any reader would ever see it. Each such page is drawn at ``SCAN_DPI`` and
read by the built-in OCR engine (``GLYPH_OCR_ENGINE``, the same engines as the OCR reader); every
read line keeps its characters' boxes, converted to PDF points, so evidence is outlined on the
original scan like on a text PDF. Lines are joined into paragraphs (a space between them,
nothing between two CJK characters).

The engines come from ``app.ocr``: the one place OCR lives; imported only when a scanned page is
met, so text PDFs never load them.
"""

from __future__ import annotations

import itertools
import logging
from typing import TYPE_CHECKING

from app.datamodel import Box, TextBlock
from app.ingest.pdf_text import block_words
from app.text import CJK_CHAR_RE

if TYPE_CHECKING:
    from PIL import Image

    from app.ocr import OcrLine

log = logging.getLogger(__name__)

SCAN_DPI = 200  # office scans are 200-300 dpi; both engines read 9-12 pt text well at 200
PARAGRAPH_STEP = 1.5  # a step down of more than this many line pitches: a new paragraph
MIN_CONFIDENCE = 0.3  # lines read with less confidence are noise (stamps, speckles)


def _char_boxes(line: OcrLine, scale: float) -> list[tuple[str, Box | None]]:
    """Each character of ``line`` with its box in points (``None`` for spaces)."""
    x0, y0, x1, y1 = line.box
    xs = line.char_x
    out: list[tuple[str, Box | None]] = []
    for i, ch in enumerate(line.text):
        if ch.isspace():
            out.append((ch, None))
            continue
        left = x0 if i == 0 else (xs[i - 1] + xs[i]) / 2
        right = x1 if i == len(xs) - 1 else (xs[i] + xs[i + 1]) / 2
        left, right = max(x0, min(left, right)), min(x1, max(left, right))
        out.append((ch, (left * scale, y0 * scale, max(right, left + 0.5) * scale, y1 * scale)))
    return out


def _paragraphs(lines: list[OcrLine]) -> list[list[OcrLine]]:
    """Lines grouped into paragraphs: a step down of more than ``PARAGRAPH_STEP`` times the
    page's usual line pitch (a blank line), or a line that does not overlap the previous one
    horizontally (another column), starts a new one."""
    lines = sorted(lines, key=lambda ln: (ln.y_centre, ln.box[0]))
    steps = [b.y_centre - a.y_centre for a, b in itertools.pairwise(lines)]
    steps = sorted(s for s in steps if s > 2)
    pitch = steps[len(steps) // 4] if steps else 0.0  # lower quartile: the body's line pitch
    groups: list[list[OcrLine]] = []
    for line in lines:
        if groups:
            prev = groups[-1][-1]
            step = line.y_centre - prev.y_centre
            if step <= PARAGRAPH_STEP * pitch and line.box[0] < prev.box[2]:
                groups[-1].append(line)
                continue
        groups.append([line])
    return groups


def blocks_from_lines(lines: list[OcrLine], page_index: int, dpi: int) -> list[TextBlock]:
    """``TextBlock``s (paragraphs with word boxes in points) from OCR lines of one page image."""
    scale = 72.0 / dpi
    blocks: list[TextBlock] = []
    for group in _paragraphs([ln for ln in lines if ln.text.strip()]):
        chars: list[tuple[str, Box | None]] = []
        line_starts: list[int] = []
        for line in group:
            if chars:
                last, first = chars[-1][0], line.text.strip()[:1]
                if not (CJK_CHAR_RE.match(last) and CJK_CHAR_RE.match(first)):
                    chars.append((" ", None))
            line_starts.append(len(chars))
            chars.extend(_char_boxes(line, scale))
        # no leading/trailing spaces
        while chars and chars[-1][1] is None:
            chars.pop()
        text = "".join(c for c, _ in chars)
        if not text.strip():
            continue
        boxes = [b for _, b in chars if b is not None]
        bbox = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        blocks.append(
            TextBlock(
                text=text,
                source_page=page_index,
                bbox=bbox,
                words=block_words(text, chars, line_starts),
            )
        )
    return blocks


def read_scanned_page(
    image: Image.Image, page_index: int, dpi: int, engine_name: str
) -> tuple[list[TextBlock], float]:
    """OCR one page image drawn at ``dpi``: its blocks and the mean confidence of what was kept."""
    from app.ocr import get_engine

    lines = get_engine(engine_name).read(image.convert("RGB"), "auto")
    kept = [ln for ln in lines if ln.confidence >= MIN_CONFIDENCE and ln.text.strip()]
    confidence = sum(ln.confidence for ln in kept) / len(kept) if kept else 0.0
    log.info(
        "scanned page %d: %d lines read by %s (mean confidence %.2f)",
        page_index + 1,
        len(kept),
        engine_name,
        confidence,
    )
    return blocks_from_lines(kept, page_index, dpi), confidence

"""Text geometry of PDF pages: characters with boxes into blocks, lines, and words.

Two sources feed the same ``RawBlock``: MuPDF's rawdict (a box per character; used for pages
with CJK text, where every character is a word) and its word list (a box per word; several
times faster, used for everything else). Both keep ``chars`` aligned one-to-one with the block
text, so word offsets are exact.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from app.datamodel import Box, Word
from app.text import is_cjk


def union(boxes: list[Box]) -> Box:
    if len(boxes) == 1:
        return boxes[0]
    x0s, y0s, x1s, y1s = zip(*boxes, strict=True)
    return (min(x0s), min(y0s), max(x1s), max(y1s))


def norm_box(b: Any) -> Box:
    x0, y0, x1, y1 = b
    if x0 <= x1 and y0 <= y1:  # the usual case, kept cheap: this runs once per character
        return (x0, y0, x1, y1)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


Chars = list[tuple[str, Box | None]]  # one entry per character; None boxes for joiners


@dataclass
class RawBlock:
    """A text block being assembled: characters with boxes, font sizes, lines."""

    chars: Chars = field(default_factory=list)
    sizes: Counter[float] = field(default_factory=Counter)
    line_boxes: list[Box] = field(default_factory=list)
    line_starts: list[int] = field(default_factory=list)  # index in ``chars`` of each line

    @property
    def bbox(self) -> Box:
        return union(self.line_boxes)

    @property
    def size(self) -> float:
        return self.sizes.most_common(1)[0][0] if self.sizes else 0.0

    def _seam(self, first: str) -> None:
        if self.chars:
            prev = self.chars[-1][0]
            prev2 = self.chars[-2][0] if len(self.chars) > 1 else ""
            if not ((prev == "-" and prev2.isalpha()) or (is_cjk(prev) and is_cjk(first))):
                self.chars.append((" ", None))  # else: a hyphenated word or CJK text goes on

    def append_line(self, chars: Chars, box: Box) -> None:
        self._seam(chars[0][0])
        self.line_starts.append(len(self.chars))
        self.chars.extend(chars)
        self.line_boxes.append(box)

    def extend(self, other: RawBlock) -> None:
        """Append ``other``'s lines (it already holds its own joiners; only the seam is new)."""
        self._seam(other.chars[0][0])
        offset = len(self.chars)
        self.line_starts.extend(offset + i for i in other.line_starts)
        self.chars.extend(other.chars)
        self.line_boxes.extend(other.line_boxes)
        self.sizes.update(other.sizes)


def rotate_box(box: Box, m: Any) -> Box:
    x0, y0, x1, y1 = box
    a, b, c, d, e, f = m.a, m.b, m.c, m.d, m.e, m.f
    xs = [a * x + c * y + e for x, y in ((x0, y0), (x1, y1))]
    ys = [b * x + d * y + f for x, y in ((x0, y0), (x1, y1))]
    return (min(xs), min(ys), max(xs), max(ys))


def read_block(block: dict[str, Any], rotation: Any = None) -> RawBlock:
    """One MuPDF rawdict text block; ``rotation`` maps boxes onto the displayed page."""
    raw = RawBlock()
    for line in block.get("lines", ()):
        chars: Chars = []
        sizes: Counter[float] = Counter()
        for span in line.get("spans", ()):
            for ch in span.get("chars", ()):
                for c in ch.get("c", ""):
                    if c.isspace():
                        if chars and chars[-1][0] != " ":
                            chars.append((" ", None))
                    elif c.isprintable():  # drops controls, soft hyphens, other format chars
                        box = norm_box(ch["bbox"])
                        chars.append((c, box if rotation is None else rotate_box(box, rotation)))
                        sizes[round(box[3] - box[1], 1)] += 1
        while chars and chars[-1][0] == " ":
            chars.pop()
        if chars:
            raw.append_line(chars, union([b for _, b in chars if b is not None]))
            raw.sizes.update(sizes)
    return raw


def blocks_from_words(words: list[tuple[Any, ...]], rotation: Any = None) -> list[RawBlock]:
    """Blocks from MuPDF's word list: several times faster than rawdict, with word boxes.

    Every character of a word gets the word's box (``block_words`` unions them back), which is
    exact for space-separated scripts; pages with CJK text take the per-character path.
    """
    blocks: dict[int, RawBlock] = {}
    line_key: tuple[int, int] | None = None
    chars: Chars = []
    sizes: Counter[float] = Counter()

    def flush() -> None:
        if line_key is not None and chars:
            raw = blocks.setdefault(line_key[0], RawBlock())
            raw.append_line(chars, union([b for _, b in chars if b is not None]))
            raw.sizes.update(sizes)

    for x0, y0, x1, y1, text, bno, lno, *_ in words:
        if (bno, lno) != line_key:
            flush()
            line_key, chars, sizes = (bno, lno), [], Counter()
        kept = [c for c in text if c.isprintable() and not c.isspace()]
        if not kept:
            continue
        box = norm_box((x0, y0, x1, y1))
        if rotation is not None:
            box = rotate_box(box, rotation)
        if chars:
            chars.append((" ", None))
        chars.extend((c, box) for c in kept)
        sizes[round(box[3] - box[1], 1)] += len(kept)
    flush()
    return [blocks[k] for k in sorted(blocks)]


def continues_paragraph(prev: RawBlock, nxt: RawBlock) -> bool:
    """Is ``nxt`` the next line of ``prev``'s paragraph (MuPDF split them into two blocks)?

    Typical for CJK text set with generous line spacing: each line becomes a block. The test:
    same font size, same left edge, next line right below, and the previous line filled to the
    right edge (a short last line ends a paragraph).
    """
    size = prev.size
    if size <= 0 or abs(nxt.size - size) > 0.1 * size:
        return False
    last, first = prev.line_boxes[-1], nxt.line_boxes[0]
    line_h = last[3] - last[1]
    gap = first[1] - last[3]
    if not -0.2 * line_h <= gap <= 0.8 * line_h:
        return False
    if abs(first[0] - prev.bbox[0]) > size:
        return False
    right = max(prev.bbox[2], nxt.bbox[2])
    return last[2] >= right - 2 * size


def block_words(text: str, chars: Chars, line_starts: list[int]) -> list[Word]:
    """Words of a block: runs of non-space characters, each CJK character on its own, and a
    word hyphenated across two lines split into its two visible parts (one box per line)."""
    words: list[Word] = []
    breaks = set(line_starts)
    start = -1
    boxes: list[Box] = []

    def flush(end: int) -> None:
        if start >= 0 and boxes:
            # In the word-list path every character of a word shares one box object.
            box = boxes[0] if boxes[0] is boxes[-1] else union(boxes)
            words.append(Word(text=text[start:end], bbox=box, start=start))

    for i, (c, box) in enumerate(chars):
        if box is None:
            flush(i)
            start, boxes = -1, []
        elif c >= "\u2e80" and is_cjk(c):
            flush(i)
            words.append(Word(text=c, bbox=box, start=i))
            start, boxes = -1, []
        else:
            if start < 0 or i in breaks:
                flush(i)
                start, boxes = i, []
            boxes.append(box)
    flush(len(chars))
    return words

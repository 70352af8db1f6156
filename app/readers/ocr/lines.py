"""OCR lines of all pages → one text in reading order, each character tied to the rendered text.

The text is what the OCR read (never the source text). The ``LayoutMap`` is used only to say
*where* a read character sits: each OCR character has a page and an x position, the layout says
which rendered character was drawn there, so an answer read from the pixels gets an exact span of
``RenderedDoc.text`` (for evidence boxes) without its wording coming from that text. One thing
is taken from the drawn row: where a blank goes, where the characters on both sides were read as
drawn (``_PageLayout.respaced``) — one the OCR model dropped between two Latin words is put back,
one it read between Chinese characters that were drawn side by side is taken out. No letter or
digit ever comes from the drawn row. One misreading is mended from the language alone: "一"
(one) read as a dash between two Chinese characters (``mended_one``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace

import numpy as np

from app.datamodel import LayoutMap
from app.evidence.match import Sentence, document_sentences
from app.ocr import OcrLine
from app.text import HAN, is_cjk

log = logging.getLogger(__name__)


@dataclass
class OcrText:
    """All read text with, per character, its source offset (-1: none), confidence and page."""

    text: str
    offsets: np.ndarray
    conf: np.ndarray
    page: np.ndarray
    sentences: list[Sentence] = field(default_factory=list)

    def source_span(self, start: int, end: int) -> tuple[int, int] | None:
        """Offsets in the rendered text covered by OCR characters ``start:end``."""
        seg = self.offsets[max(0, start) : end]
        seg = seg[seg >= 0]
        if not len(seg):
            return None
        return int(seg.min()), int(seg.max()) + 1

    def confidence(self, start: int, end: int) -> float:
        """Mean OCR confidence of the non-space characters ``start:end``."""
        chars = self.text[start:end]
        vals = [
            float(c) for ch, c in zip(chars, self.conf[start:end], strict=True) if not ch.isspace()
        ]
        return float(np.mean(vals)) if vals else 0.0

    def pages_of(self, start: int, end: int) -> list[int]:
        seg = self.page[max(0, start) : end]
        return sorted({int(p) for p in seg if p >= 0})


# "一" read as an em dash: the stroke is all the glyph has. Chinese writes its dash doubled
# ("——"), so one dash between two Chinese characters is "一" ("第—个", "统—"). On the probes'
# and dev's Chinese documents (2026-12-07) it was "一" 393 times of 394; once a title's dash.
_DASH_FOR_ONE = re.compile(f"(?<=[{HAN}])\u2014(?=[{HAN}])")


def mended_one(line: OcrLine) -> OcrLine:
    """``line`` with "一" where the OCR read a single em dash between Chinese characters."""
    if "\u2014" not in line.text:
        return line
    return replace(line, text=_DASH_FOR_ONE.sub("一", line.text))


class _PageLayout:
    """The rendered lines of one page: y centre and per-character x ranges, for lookups."""

    def __init__(self, layout: LayoutMap, page: int, text: str | None = None) -> None:
        self.text = text
        idx = np.flatnonzero(layout.page == page)
        self.lines: list[tuple[float, np.ndarray, np.ndarray, np.ndarray]] = []
        if not len(idx):
            self.centres = np.zeros(0)
            return
        line_ids = layout.line[idx]
        cuts = np.flatnonzero(np.diff(line_ids)) + 1
        for a, b in zip(
            np.concatenate(([0], cuts)), np.concatenate((cuts, [len(idx)])), strict=True
        ):
            offs = idx[a:b]
            boxes = layout.boxes[offs]
            order = np.argsort(boxes[:, 0], kind="stable")
            yc = float((boxes[:, 1].min() + boxes[:, 3].max()) / 2)
            self.lines.append((yc, offs[order], boxes[order, 0], boxes[order, 2]))
        self.centres = np.array([ln[0] for ln in self.lines])
        heights = np.diff(np.sort(self.centres))
        self.pitch = float(np.median(heights)) if len(heights) else 10.0

    def _row(self, line: OcrLine) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The drawn row a read line lies on: its characters' offsets and x ranges, left to
        right; None for text read where nothing was rendered (page decoration)."""
        if not self.lines or not len(line.text):
            return None
        i = int(np.argmin(np.abs(self.centres - line.y_centre)))
        if abs(self.centres[i] - line.y_centre) > max(self.pitch, 4.0) * 0.75:
            return None
        _, offs, x0, x1 = self.lines[i]
        return offs, x0, x1

    def respaced(self, line: OcrLine) -> OcrLine:
        """``line`` with its blanks where the drawn row has them.

        The Chinese recognition model often reads two Latin words as one ("LinusTorvalds",
        "debian/rulesbinary", "Linux2.6.30"): on a page rendered at a low resolution the blank
        is narrower than the model notices. It also reads a blank where none was drawn between
        two Chinese characters, mostly before one with room on its left ("剪贴板 上的内容",
        "目 录"): the reader's words then break apart ("目录" is no longer found), and the answer
        shows the gap. Where the characters read on both sides agree with the drawn ones (at
        least ``_AGREE`` each, or one Chinese character each: a misread one is seldom another
        that the row has there), a blank the row has is put back between Latin words, and one
        it lacks is taken out beside a Chinese character. Nothing else of the reading changes: no
        letter, digit or mark is added, dropped or replaced, so a misread word stays misread.
        """
        row = self._row(line) if self.text is not None else None
        if row is None:
            return line
        from rapidfuzz.distance import Levenshtein

        read = line.text
        drawn = "".join(self.text[o] for o in row[0])  # type: ignore[index]
        ops = list(Levenshtein.opcodes(read, drawn))
        cuts: list[int] = []  # put a blank back before this read character
        gaps: list[int] = []  # take out this read blank
        for before, op, after in zip(ops, ops[1:], ops[2:], strict=False):
            if not before.tag == after.tag == "equal":
                continue
            agree = min(before.src_end - before.src_start, after.src_end - after.src_start)
            left, right = read[op.src_start - 1], read[op.src_end]
            if op.tag == "insert" and drawn[op.dest_start : op.dest_end] == " ":
                if agree >= _AGREE and _between_words(left, right):
                    cuts.append(op.src_start)
            elif op.tag == "delete" and read[op.src_start : op.src_end] == " ":
                chinese = is_cjk(left), is_cjk(right)
                if all(chinese) or (any(chinese) and agree >= _AGREE):
                    gaps.append(op.src_start)
        if not cuts and not gaps:
            return line
        text, xs, confs = list(read), list(line.char_x), list(line.char_conf)
        for at in sorted(cuts + gaps, reverse=True):  # right to left: earlier indices hold
            if at in gaps:
                del text[at], xs[at], confs[at]
            else:
                text.insert(at, " ")
                xs.insert(at, (xs[at - 1] + xs[at]) / 2)
                confs.insert(at, min(confs[at - 1], confs[at]))
        return replace(line, text="".join(text), char_x=xs, char_conf=confs)

    def offsets_for(self, line: OcrLine) -> np.ndarray:
        out = np.full(len(line.text), -1, np.int64)
        row = self._row(line)
        if row is None:
            return out
        offs, x0, x1 = row
        xs = np.asarray(line.char_x)
        pos = np.clip(np.searchsorted(x0, xs, side="right") - 1, 0, len(offs) - 1)
        # a centre just right of a character's box belongs to the nearer neighbour
        nxt = np.clip(pos + 1, 0, len(offs) - 1)
        closer = (xs >= x1[pos]) & (np.abs(x0[nxt] - xs) < np.abs(xs - x1[pos]))
        pos = np.where(closer, nxt, pos)
        out[:] = offs[pos]
        if self.text is not None:
            self._align(line.text, offs, out)
        return out

    def _align(self, read: str, offs: np.ndarray, out: np.ndarray) -> None:
        """Refine positions where the read text and the drawn characters agree.

        Positions from x alone can be off by one character on narrow glyphs; aligning the read
        row against the characters drawn on that row fixes them. Only positions change here:
        the text stays what the OCR read.
        """
        from rapidfuzz.distance import Levenshtein

        drawn = "".join(self.text[o] for o in offs)
        for op in Levenshtein.opcodes(read, drawn):
            if op.tag == "equal":
                out[op.src_start : op.src_end] = offs[op.dest_start : op.dest_end]


_AGREE = 2  # characters read as drawn on each side of a blank that is put back


_OPENING = "\"'(“‘[{<"


def _between_words(left: str, right: str) -> bool:
    """A blank between ``left`` and ``right`` separates two Latin words, a word and its option
    ("dpkg -l") or bracket, or a number and what follows it ("1.7. Debian", "V:54, I:226");
    not the blank inside quotes or before a comma, which the typesetting may have but a
    reader does not miss."""
    if not (ord(left) < 0x250 and ord(right) < 0x250) or left.isspace() or right.isspace():
        return False  # CJK needs no blank to read right
    if right.isalnum():
        return left not in _OPENING
    return left.isalnum() and right in "-("


def _separator(left: str, right: str) -> str:
    if not left or not right or left[-1] == "\n" or right[0] == "\n":
        return ""
    if is_cjk(left[-1]) or is_cjk(right[0]):
        return ""
    return " "


def assemble(pages: list[list[OcrLine]], layout: LayoutMap, text: str | None = None) -> OcrText:
    """Join the lines of every page (already in reading order) into one ``OcrText``.

    ``text`` (the rendered text) refines where each read character sits (``_align``), puts
    back the blanks between Latin words that the OCR dropped and takes out those it read
    between Chinese characters drawn side by side (``_PageLayout.respaced``).
    """
    parts: list[str] = []
    offsets: list[np.ndarray] = []
    confs: list[np.ndarray] = []
    page_ids: list[np.ndarray] = []
    last = ""
    for page_index, lines in enumerate(pages):
        if not lines:  # a page not read (yet): nothing to place
            continue
        page_layout = _PageLayout(layout, page_index, text)
        for line in lines:
            if not line.text:
                continue
            line = mended_one(page_layout.respaced(line))
            sep = _separator(last, line.text)
            if sep:
                parts.append(sep)
                offsets.append(np.full(1, -1, np.int64))
                confs.append(np.ones(1, np.float32))
                page_ids.append(np.full(1, page_index, np.int32))
            parts.append(line.text)
            offsets.append(page_layout.offsets_for(line))
            confs.append(np.asarray(line.char_conf, np.float32))
            page_ids.append(np.full(len(line.text), page_index, np.int32))
            last = line.text
    if not parts:
        empty = np.zeros(0, np.int64)
        return OcrText("", empty, empty.astype(np.float32), empty.astype(np.int32))
    joined = "".join(parts)
    result = OcrText(
        text=joined,
        offsets=np.concatenate(offsets),
        conf=np.concatenate(confs),
        page=np.concatenate(page_ids),
    )
    result.sentences = document_sentences(joined)
    return result

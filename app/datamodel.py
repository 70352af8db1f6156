"""Types shared by every stage of the pipeline.

    file/text --ingest--> Document --render--> RenderedDoc (pages + LayoutMap) --reader--> Answer
                                                                               --evidence--> Evidence

Offsets are always character offsets (Python ``str`` indices) into ``Document.text``; the renderer
draws exactly that string, so an offset means the same character in the document, on the page
image and in an answer's evidence. Pixel boxes are ``(x0, y0, x1, y1)`` with x1/y1 exclusive, in the
coordinates of the rendered page image; PDF boxes are in PDF points on the original page.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Box = tuple[float, float, float, float]
"""(x0, y0, x1, y1); x1 and y1 exclusive."""

BLOCK_SEPARATOR = "\n"
"""How ``Document.text`` joins blocks: one newline between consecutive blocks."""


class Note(BaseModel):
    """A user-facing remark in both languages (document notes, reader notes, UI messages).

    ``str(note)`` is the English text; ``note.text(lang)`` the one to show in ``lang``. A plain
    string (records written before notes were bilingual) loads as an English-only note.
    """

    model_config = ConfigDict(frozen=True)

    en: str
    zh: str = ""

    @model_validator(mode="before")
    @classmethod
    def _from_str(cls, value: Any) -> Any:
        return {"en": value} if isinstance(value, str) else value

    def text(self, lang: str = "en") -> str:
        return self.zh if lang.startswith("zh") and self.zh else self.en

    def __str__(self) -> str:
        return self.en


class Mode(StrEnum):
    """What the user asks a reader to do."""

    QA = "qa"
    SUMMARY = "summary"
    EXTRACT = "extract"  # key-information extraction


# ----------------------------------------------------------------------------------------------
# Ingest
# ----------------------------------------------------------------------------------------------


class Word(BaseModel):
    """A word on an original (PDF) page: its text, box in points, and offset inside its block."""

    model_config = ConfigDict(frozen=True)

    text: str
    bbox: Box
    start: int = Field(ge=0, description="offset of the word's first character in TextBlock.text")

    @property
    def end(self) -> int:
        return self.start + len(self.text)


BlockKind = Literal[
    "paragraph", "heading", "list_item", "table_row", "code", "header", "footer", "caption"
]


class TextBlock(BaseModel):
    """A run of text from the source plus where it came from, when known."""

    text: str
    kind: BlockKind = "paragraph"
    source_page: int | None = Field(None, ge=0, description="0-based page of the original file")
    bbox: Box | None = Field(None, description="box on the original page, in points")
    words: list[Word] = Field(default_factory=list, description="word boxes (PDF text layers)")
    level: int | None = Field(None, ge=1, description="heading level, list depth")

    @model_validator(mode="after")
    def _words_inside_text(self) -> TextBlock:
        for word in self.words:
            if self.text[word.start : word.end] != word.text:
                raise ValueError(f"word {word.text!r} is not at offset {word.start} of its block")
        return self


class SourcePage(BaseModel):
    """A page of the original file (PDF, DOCX page estimate not tracked)."""

    index: int = Field(ge=0)
    width: float = Field(gt=0, description="points")
    height: float = Field(gt=0, description="points")
    scanned: bool = Field(False, description="no text layer: read through page images / OCR")


DocFormat = Literal["pdf", "docx", "txt", "markdown", "code", "html", "paste", "collection"]


PARTS_KEY = "parts"  # Document.metadata key of a collection's documents (app.ingest.collection)


@dataclass(frozen=True)
class DocumentPart:
    """One document of a collection: its character range in the joined text and its pages."""

    name: str
    format: str
    start: int
    end: int
    first_page: int = 0
    pages: int = 0
    source_sha256: str | None = None  # the original file's hash (a PDF's stored original)
    original_path: str | None = None  # where the original PDF is stored, when it is


class Document(BaseModel):
    """Extracted text of one input, as blocks joined by newlines, plus source geometry."""

    name: str
    format: DocFormat
    blocks: list[TextBlock]
    pages: list[SourcePage] = Field(default_factory=list)
    language: Literal["zh", "en"] | None = None
    notes: list[Note] = Field(default_factory=list, description="user-facing remarks from ingest")
    metadata: dict[str, Any] = Field(default_factory=dict)
    source_sha256: str | None = Field(None, description="hash of the original bytes")

    @property
    def text(self) -> str:
        return BLOCK_SEPARATOR.join(block.text for block in self.blocks)

    def block_offsets(self) -> list[int]:
        """Start offset of every block in ``text``."""
        offsets, pos = [], 0
        for block in self.blocks:
            offsets.append(pos)
            pos += len(block.text) + len(BLOCK_SEPARATOR)
        return offsets

    def locate(self, offset: int) -> tuple[int, int]:
        """(block index, offset inside that block) of a character offset in ``text``."""
        if not 0 <= offset < max(len(self.text), 1):
            raise IndexError(f"offset {offset} outside the document ({len(self.text)} chars)")
        starts = self.block_offsets()
        idx = int(np.searchsorted(starts, offset, side="right")) - 1
        return idx, offset - starts[idx]

    @property
    def doc_id(self) -> str:
        """Stable id: hash of the extracted text and name (same input ⇒ same id)."""
        digest = hashlib.sha256()
        digest.update(self.name.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
        digest.update(self.text.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()[:16]

    def parts(self) -> list[DocumentPart]:
        """The documents of a collection (``app.ingest.collection``), in order; for a single
        document, one part: the whole."""
        found = self.metadata.get(PARTS_KEY)
        if not found:  # the whole: its length from the blocks, without joining the text
            end = sum(len(b.text) for b in self.blocks) + len(self.blocks) * len(BLOCK_SEPARATOR)
            whole = DocumentPart(self.name, self.format, 0, end, 0, len(self.pages))
            original = self.metadata.get("original_path")
            return [replace(whole, source_sha256=self.source_sha256, original_path=original)]
        return [DocumentPart(**p) for p in found]

    def part_at(self, offset: int) -> DocumentPart | None:
        """The document (of a collection, or this one) that holds character ``offset``."""
        return next((p for p in self.parts() if p.start <= offset < p.end), None)

    def own_page(self, source_page: int | None) -> int | None:
        """Page ``source_page`` (a collection numbers its documents' pages one after another)
        as its document's own page, 0-based."""
        if source_page is None:
            return None
        for part in self.parts():
            if part.first_page <= source_page < part.first_page + part.pages:
                return source_page - part.first_page
        return source_page

    @classmethod
    def from_text(cls, text: str, name: str = "pasted.txt", fmt: DocFormat = "paste") -> Document:
        """One block per line; the simplest way to build a document in code and tests."""
        return cls(
            name=name, format=fmt, blocks=[TextBlock(text=line) for line in text.split("\n")]
        )


# ----------------------------------------------------------------------------------------------
# Render
# ----------------------------------------------------------------------------------------------


def _kebab(name: str) -> str:
    return name.replace("_", "-")


Alignment = Literal["LEFT", "CENTER", "RIGHT", "JUSTIFY"]


class RenderConfig(BaseModel):
    """How text is typeset into page images.

    Accepts Glyph's own config keys unchanged (``page-size``, ``margin-x``, ``font-path``,
    ``newline-markup``, …) as well as the Python names. Lengths are in points (1/72 inch); the
    page image is ``page_size * dpi / 72`` pixels. Unknown keys are kept in ``extra`` so a Glyph
    config round-trips.
    """

    model_config = ConfigDict(
        alias_generator=_kebab, populate_by_name=True, extra="allow", frozen=True
    )

    name: str = "custom"
    page_size: tuple[float, float] = (595.0, 842.0)
    dpi: int = Field(72, ge=24, le=600)
    margin_x: float = Field(10.0, ge=0)
    margin_y: float = Field(10.0, ge=0)
    font_path: str | None = Field(None, description="main font; None ⇒ DejaVu Sans / Noto CJK")
    fallback_fonts: tuple[str, ...] = Field(
        (), description="extra fonts tried, in order, for characters the main font lacks"
    )
    font_size: float = Field(9.0, gt=0, le=200)
    line_height: float = Field(10.0, gt=0, le=400)
    font_color: str = "#000000"
    page_bg_color: str = "#FFFFFF"
    para_bg_color: str = "#FFFFFF"
    alignment: Alignment = "LEFT"
    horizontal_scale: float = Field(1.0, gt=0, le=4)
    first_line_indent: float = 0.0
    left_indent: float = Field(0.0, ge=0)
    right_indent: float = Field(0.0, ge=0)
    space_before: float = Field(0.0, ge=0)
    space_after: float = Field(0.0, ge=0)
    border_width: float = Field(0.0, ge=0)
    border_padding: float = Field(0.0, ge=0)
    auto_crop_width: bool = False
    auto_crop_last_page: bool = False
    newline_markup: str | None = Field(
        None,
        description="Glyph's visible newline marker, e.g. '<font color=\"#FF0000\"> \\n </font>'; "
        "None draws a plain line break",
    )
    remove_line_breaks: bool = False
    tab_size: int = Field(4, ge=1, le=16)
    header: bool = Field(False, description="document name at the top of each page")
    footer: bool = Field(False, description="page number at the bottom of each page")
    position_marks: bool = Field(False, description="light line numbers in the left margin")
    language: Literal["auto", "en", "zh"] = "auto"

    @field_validator("page_size", mode="before")
    @classmethod
    def _parse_page_size(cls, value: object) -> object:
        if isinstance(value, str):  # Glyph writes "595,842"
            parts = [p for p in value.replace("x", ",").split(",") if p.strip()]
            if len(parts) != 2:
                raise ValueError(f"page-size must be 'width,height', got {value!r}")
            return tuple(float(p) for p in parts)
        return value

    @field_validator("alignment", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _fits(self) -> RenderConfig:
        width, height = self.page_size
        if width <= 0 or height <= 0:
            raise ValueError("page-size must be positive")
        if 2 * self.margin_x + self.left_indent + self.right_indent >= width:
            raise ValueError("margins and indents leave no room for text")
        if 2 * self.margin_y + self.line_height > height:
            raise ValueError("margins leave no room for a single line")
        return self

    @property
    def page_pixels(self) -> tuple[int, int]:
        """(width, height) of a full page image in pixels."""
        scale = self.dpi / 72.0
        return round(self.page_size[0] * scale), round(self.page_size[1] * scale)

    def to_glyph_dict(self) -> dict[str, Any]:
        """The config as Glyph-style JSON keys (page-size as 'w,h')."""
        data = self.model_dump(by_alias=True, mode="json")
        data["page-size"] = f"{self.page_size[0]:g},{self.page_size[1]:g}"
        return data

    @classmethod
    def from_json(cls, path_or_text: str) -> RenderConfig:
        text = path_or_text
        if not path_or_text.lstrip().startswith("{"):
            with open(path_or_text, encoding="utf-8") as fh:
                text = fh.read()
        return cls.model_validate(json.loads(text))

    def fingerprint(self) -> str:
        """Hash of every setting: part of cache keys for pages, OCR and model features."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(eq=False)
class Page:
    """One rendered page. The image is kept in memory; PNG bytes are encoded lazily, once."""

    index: int
    image: Image.Image
    _png: bytes | None = field(default=None, repr=False)

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    def png_bytes(self) -> bytes:
        if self._png is None:
            buf = io.BytesIO()
            self.image.save(buf, format="PNG", optimize=False, compress_level=6)
            self._png = buf.getvalue()
        return self._png

    @property
    def sha256(self) -> str:
        """Hash of the pixels (mode, size, raw bytes): the key of OCR and feature caches."""
        digest = hashlib.sha256()
        digest.update(f"{self.image.mode}:{self.image.size}".encode())
        digest.update(self.image.tobytes())
        return digest.hexdigest()


class LayoutMap:
    """Where every character of the rendered text was drawn.

    Arrays indexed by character offset: ``page[i]`` (-1 when the character has no ink position,
    e.g. a newline or a removed character), ``boxes[i] = (x0, y0, x1, y1)`` in page pixels and
    ``line[i]``, a global line number (increasing through the document). Queries are vectorised
    with numpy so that a 1M-character document answers in milliseconds.
    """

    __slots__ = ("_line_starts", "boxes", "line", "page")

    def __init__(self, page: np.ndarray, boxes: np.ndarray, line: np.ndarray) -> None:
        page = np.asarray(page, dtype=np.int32)
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        line = np.asarray(line, dtype=np.int32)
        if not (len(page) == len(boxes) == len(line)):
            raise ValueError("page, boxes and line must have one entry per character")
        drawn = page >= 0
        if np.any(boxes[drawn, 2] < boxes[drawn, 0]) or np.any(boxes[drawn, 3] < boxes[drawn, 1]):
            raise ValueError("boxes must have x1 >= x0 and y1 >= y0")
        if len(line) and np.any(np.diff(line[drawn]) < 0):
            raise ValueError("line numbers must not decrease through the text")
        self.page, self.boxes, self.line = page, boxes, line
        self._line_starts: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.page)

    @classmethod
    def empty(cls) -> LayoutMap:
        return cls(np.zeros(0, np.int32), np.zeros((0, 4), np.float32), np.zeros(0, np.int32))

    def char_box(self, offset: int) -> tuple[int, Box] | None:
        """(page, box) of one character, or None when it was not drawn."""
        if self.page[offset] < 0:
            return None
        return int(self.page[offset]), tuple(float(v) for v in self.boxes[offset])  # type: ignore[return-value]

    def boxes_for_span(self, start: int, end: int) -> list[tuple[int, Box]]:
        """Boxes covering characters ``start:end``, merged into one box per drawn line."""
        start, end = max(0, start), min(len(self), end)
        if start >= end:
            return []
        page, boxes, line = self.page[start:end], self.boxes[start:end], self.line[start:end]
        drawn = page >= 0
        if not drawn.any():
            return []
        page, boxes, line = page[drawn], boxes[drawn], line[drawn]
        # runs of equal line number (lines never span pages)
        cuts = np.flatnonzero(np.diff(line)) + 1
        result: list[tuple[int, Box]] = []
        for seg_start, seg_end in zip(
            np.concatenate(([0], cuts)), np.concatenate((cuts, [len(line)])), strict=True
        ):
            seg = boxes[seg_start:seg_end]
            box = (
                float(seg[:, 0].min()),
                float(seg[:, 1].min()),
                float(seg[:, 2].max()),
                float(seg[:, 3].max()),
            )
            result.append((int(page[seg_start]), box))
        return result

    def span_at(self, page: int, x: float, y: float) -> tuple[int, int] | None:
        """The character drawn at pixel (x, y) of ``page`` as a one-character span, else None."""
        on_page = np.flatnonzero(self.page == page)
        if not len(on_page):
            return None
        b = self.boxes[on_page]
        hit = (b[:, 0] <= x) & (x < b[:, 2]) & (b[:, 1] <= y) & (y < b[:, 3])
        idx = np.flatnonzero(hit)
        if not len(idx):
            return None
        offset = int(on_page[idx[0]])
        return offset, offset + 1

    def pages_of_span(self, start: int, end: int) -> list[int]:
        seg = self.page[max(0, start) : end]
        return sorted({int(p) for p in np.unique(seg) if p >= 0})

    def span_of_page(self, page: int) -> tuple[int, int] | None:
        """First and one-past-last character offsets drawn on ``page``."""
        idx = np.flatnonzero(self.page == page)
        if not len(idx):
            return None
        return int(idx[0]), int(idx[-1]) + 1

    def to_npz(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(buf, page=self.page, boxes=self.boxes, line=self.line)
        return buf.getvalue()

    @classmethod
    def from_npz(cls, data: bytes) -> LayoutMap:
        with np.load(io.BytesIO(data)) as arrays:
            return cls(arrays["page"], arrays["boxes"], arrays["line"])


class TokenStats(BaseModel):
    """What the user is shown about compression and cost."""

    text_tokens: int = Field(0, ge=0, description="estimated tokens of the text as plain text")
    visual_tokens: int = Field(0, ge=0, description="visual tokens of the page images")
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    prefill_s: float | None = None
    decode_s: float | None = None
    peak_memory_mb: float | None = None

    @property
    def compression_ratio(self) -> float:
        """text tokens per visual token (Glyph reports 3-4x)."""
        return self.text_tokens / self.visual_tokens if self.visual_tokens else 0.0


@dataclass(eq=False)
class RenderedDoc:
    """The pages of one document at one config, with the layout of every character."""

    text: str
    config: RenderConfig
    pages: list[Page]
    layout: LayoutMap
    name: str = ""
    stats: TokenStats = field(default_factory=TokenStats)
    document: Document | None = None

    def __post_init__(self) -> None:
        if len(self.layout) != len(self.text):
            raise ValueError(
                f"layout covers {len(self.layout)} characters, text has {len(self.text)}"
            )
        drawn = self.layout.page[self.layout.page >= 0]
        if len(drawn) and int(drawn.max()) >= len(self.pages):
            raise ValueError("layout refers to a page that was not rendered")

    @property
    def key(self) -> str:
        """Cache key: text + config (pages follow deterministically from both)."""
        digest = hashlib.sha256(self.text.encode("utf-8", "surrogatepass"))
        digest.update(self.config.fingerprint().encode())
        return digest.hexdigest()[:24]

    def page_text(self, page: int) -> str:
        span = self.layout.span_of_page(page)
        return "" if span is None else self.text[span[0] : span[1]]


# ----------------------------------------------------------------------------------------------
# Readers and evidence
# ----------------------------------------------------------------------------------------------


class Span(BaseModel):
    """A supporting passage: character offsets into ``RenderedDoc.text``."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str = ""
    score: float = Field(1.0, ge=0.0, le=1.0)
    label: str | None = Field(None, description="for key-information items: what was found")

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end < self.start:
            raise ValueError("span end before start")
        return self


class Evidence(BaseModel):
    """Where an answer is supported: red boxes on a rendered page (and the original page)."""

    page: int = Field(ge=0, description="rendered page index")
    boxes: list[Box] = Field(description="pixel boxes on the rendered page, one per line")
    span: Span
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    needs_review: bool = False
    source_page: int | None = Field(None, description="original PDF page, when known")
    document: str | None = Field(None, description="name of the document the passage is in")
    document_page: int | None = Field(
        None, ge=0, description="that document's own page (0-based; a collection renumbers)"
    )
    source_boxes: list[Box] = Field(default_factory=list, description="boxes there, in points")
    image_path: str | None = Field(None, description="annotated image written for the user")
    source_image_path: str | None = Field(
        None, description="annotated image of the original (PDF) page, when one was written"
    )
    closest: bool = Field(
        False,
        description="not evidence: the passage nearest the question after a not-found answer, "
        "where a person should look (``Answer.closest_evidence``; drawn in blue, not red)",
    )


CheckStatus = Literal["exact", "near", "absent"]


class ValueCheck(BaseModel):
    """One value of an answer (number, date, amount, code, URL, quoted string …) looked up in
    the document's text: ``exact`` (found as written), ``near`` (a form one or two characters
    away is — ``document_value`` says what the document has), ``absent`` (nothing close)."""

    value: str
    status: CheckStatus
    document_value: str | None = Field(None, description="the document's form (exact or near)")
    start: int | None = Field(None, ge=0, description="offset of document_value in the text")
    end: int | None = Field(None, ge=0)
    page: int | None = Field(
        None, ge=0, description="0-based page of the original document (rendered page if none)"
    )
    page_number: int | None = Field(None, ge=1, description="the page as people number it")


class Answer(BaseModel):
    """A reader's final answer."""

    text: str
    mode: Mode = Mode.QA
    reader: str = ""
    thinking: str = ""
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    needs_review: bool = False
    spans: list[Span] = Field(default_factory=list, description="supporting passages")
    stats: TokenStats = Field(default_factory=TokenStats)
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per stage")
    pages_read: list[int] = Field(default_factory=list, description="pages the reader looked at")
    fine_pages: list[int] = Field(
        default_factory=list,
        description="coarse-to-fine reading: the pages (of the document's render) that were "
        "re-rendered at the fine preset and read; empty otherwise",
    )
    found: bool = Field(
        True, description="False: the reader says the document does not answer the question"
    )
    notes: list[Note] = Field(default_factory=list, description="user-facing remarks")
    closest: list[Span] = Field(
        default_factory=list,
        description="a not-found answer: the passage nearest the question, where a person should "
        "look (not evidence; app.evidence names its page in a note)",
    )
    nowhere: bool = Field(
        False,
        description="a not-found answer whose reader checked that the document never mentions "
        "what is asked (an option it does not have): no closest passage is looked for",
    )
    evidence: list[Evidence] = Field(
        default_factory=list, description="red boxes, filled by app.evidence after the reader"
    )
    closest_evidence: list[Evidence] = Field(
        default_factory=list,
        description="a not-found answer: blue boxes on the ``closest`` passage, filled by "
        "app.evidence (where to look, not support: confidence 0, always flagged)",
    )
    checks: list[ValueCheck] = Field(
        default_factory=list,
        description="the answer's values looked up in the document, filled by app.evidence",
    )

    @property
    def shown_evidence(self) -> list[Evidence]:
        """The boxes to draw and list: the evidence, else (a not-found answer) the closest
        passage's."""
        return self.evidence or self.closest_evidence


class AnswerChunk(BaseModel):
    """One streamed piece: thinking text, answer text, a status line, or the final answer."""

    kind: Literal["thinking", "answer", "status", "final"]
    text: str = ""
    note: Note | None = Field(None, description="a status line in both languages")
    answer: Answer | None = None

    @model_validator(mode="after")
    def _final_has_answer(self) -> AnswerChunk:
        if (self.kind == "final") != (self.answer is not None):
            raise ValueError("exactly the 'final' chunk carries the Answer")
        return self


def merge_boxes(boxes: Sequence[Box]) -> Box:
    """The smallest box around all of ``boxes``."""
    if not boxes:
        raise ValueError("no boxes to merge")
    arr = np.asarray(boxes, dtype=np.float64)
    return (
        float(arr[:, 0].min()),
        float(arr[:, 1].min()),
        float(arr[:, 2].max()),
        float(arr[:, 3].max()),
    )


def iter_lines(layout: LayoutMap) -> Iterator[tuple[int, int, int]]:
    """(line number, start offset, end offset) for every drawn line, in order."""
    drawn = np.flatnonzero(layout.page >= 0)
    if not len(drawn):
        return
    lines = layout.line[drawn]
    cuts = np.flatnonzero(np.diff(lines)) + 1
    for a, b in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [len(drawn)])), strict=True):
        yield int(lines[a]), int(drawn[a]), int(drawn[b - 1]) + 1

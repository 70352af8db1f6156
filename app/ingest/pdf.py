"""PDF (PyMuPDF): text in reading order with word boxes on the original pages.

Each text block MuPDF finds becomes one ``TextBlock`` with its page, box and words; a word is a
run of non-space characters, and every CJK character is a word of its own, so evidence can be
outlined character by character on Chinese pages. Lines of a block are joined with a space
(nothing between two CJK characters, nothing after a hyphen that ends a word), so a paragraph
reads as one line of text. Blocks are ordered by ``app.ingest.layout.reading_order``.

Pages with (almost) no text but an image over most of the page are marked ``scanned``, and so
are pages whose text layer cannot be decoded: up to ``GLYPH_OCR_SCANNED_PAGES`` of them are then
drawn one at a time and read by OCR (``app.ingest.scan_ocr``) outside the MuPDF lock, so other
uploads do not wait behind the OCR; their text goes in its place in the reading order with word
boxes on the scan.
Encrypted files raise
``PasswordRequiredError`` until the right password is given; files MuPDF can repair load with a
note, the others fail with a clear ``IngestError``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.datamodel import Document, SourcePage, TextBlock
from app.errors import IngestError
from app.ingest.base import (
    DocumentBuilder,
    Limits,
    Loader,
    PasswordRequiredError,
    page_list,
    too_many_pages,
    unreadable,
)
from app.ingest.layout import reading_order
from app.ingest.pdf_text import (
    RawBlock,
    block_words,
    blocks_from_words,
    continues_paragraph,
    norm_box,
    read_block,
)
from app.ingest.progress import report_scanned
from app.text import CJK_CHAR_RE

if TYPE_CHECKING:
    from PIL import Image

    from app.settings import Settings

log = logging.getLogger(__name__)

SCANNED_MAX_CHARS = 20  # fewer visible characters than this on a page ...
SCANNED_MIN_IMAGE_COVER = 0.5  # ... with images over at least half of it: a scanned page
GARBLED_MIN_SHARE = 0.5  # pages whose text is at least this much U+FFFD are read as images
MAX_PAGE_PIXELS = 80_000_000  # page_image refuses larger renders (e.g. A0 at 600 dpi)
HEADING_RATIO = 1.25  # font size over body size that marks a short block as a heading

_pymupdf: Any = None

MUPDF_LOCK = threading.RLock()
"""PyMuPDF must not be called from two threads at once (it may crash the process); the UI runs
handlers in threads. Every PyMuPDF call in the app holds this lock, other packages included."""


def _fitz() -> Any:
    """PyMuPDF, imported once, with MuPDF's stderr chatter turned into log records."""
    global _pymupdf
    if _pymupdf is None:
        import pymupdf

        pymupdf.TOOLS.mupdf_display_errors(False)
        pymupdf.TOOLS.mupdf_display_warnings(False)
        _pymupdf = pymupdf
    return _pymupdf


def _text_flags() -> int:
    f = _fitz()
    # Ligatures expanded (ﬁ -> f i, so words match what users type). No CID fallback: glyphs
    # without a Unicode mapping come out as U+FFFD, which marks the page unreadable, instead
    # of as plausible-looking wrong characters.
    return f.TEXT_PRESERVE_WHITESPACE | f.TEXT_MEDIABOX_CLIP


def open_pdf(source: bytes | str | Path, name: str, password: str | None = None) -> Any:
    """A ``pymupdf.Document`` ready to read; ``PasswordRequiredError`` / ``IngestError`` else."""
    fitz = _fitz()
    fitz.TOOLS.mupdf_warnings()  # reset, so the log shows this file's warnings only
    try:
        if isinstance(source, bytes):
            doc = fitz.open(stream=source, filetype="pdf")
        else:
            doc = fitz.open(str(source), filetype="pdf")
    except Exception as err:  # FileDataError, EmptyFileError, RuntimeError from MuPDF
        raise unreadable(
            name,
            "the PDF is damaged and could not be repaired",
            "PDF 文件已损坏，且无法修复",
            detail=f"{type(err).__name__}: {err}; {fitz.TOOLS.mupdf_warnings()}",
        ) from None
    if doc.needs_pass:
        if not password:
            doc.close()
            raise PasswordRequiredError(name, wrong=False)
        if not doc.authenticate(password):
            doc.close()
            raise PasswordRequiredError(name, wrong=True)
    return doc


def _page_blocks(page: Any, flags: int) -> list[RawBlock]:
    # MuPDF reports positions on the unrotated page; boxes are wanted where the user sees
    # them, i.e. on the page as displayed and as ``page_image`` renders it.
    rotation = page.rotation_matrix if page.rotation else None
    words = page.get_text("words", flags=flags, sort=False)
    if CJK_CHAR_RE.search("".join(w[4] for w in words)):
        raw = page.get_text("rawdict", flags=flags, sort=False)
        found = [read_block(b, rotation) for b in raw.get("blocks", ()) if b.get("type") == 0]
    else:
        found = blocks_from_words(words, rotation)
    return [b for b in found if b.chars]


def _image_cover(page: Any) -> float:
    """Share of the page covered by images (on a 64x64 grid)."""
    rect = page.rect
    if rect.width <= 0 or rect.height <= 0:
        return 0.0
    grid = np.zeros((64, 64), dtype=bool)
    try:
        infos = page.get_image_info()
    except Exception:  # a broken image stream: treat as no image
        return 0.0
    for info in infos:
        x0, y0, x1, y1 = norm_box(info["bbox"])
        gx0 = int(np.clip((x0 - rect.x0) / rect.width * 64, 0, 64))
        gx1 = int(np.ceil(np.clip((x1 - rect.x0) / rect.width * 64, 0, 64)))
        gy0 = int(np.clip((y0 - rect.y0) / rect.height * 64, 0, 64))
        gy1 = int(np.ceil(np.clip((y1 - rect.y0) / rect.height * 64, 0, 64)))
        grid[gy0:gy1, gx0:gx1] = True
    return float(grid.mean())


def _weighted_median(sizes: Counter[float]) -> float:
    total = sum(sizes.values())
    acc = 0
    for size in sorted(sizes):
        acc += sizes[size]
        if acc * 2 >= total:
            return size
    return 0.0


class PdfLoader(Loader):
    """PDF files: text layer with word boxes; scanned pages marked for OCR."""

    format = "pdf"
    suffixes = (".pdf",)
    label = "PDF"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """The PDF header at the start (``sniff.detect_loader`` also accepts it within the first
        1024 bytes, as readers do, when the file is named .pdf: a text file that merely
        mentions "%PDF-" near its top is not a PDF)."""
        return head.lstrip(b"\x00\t\n\r\x0c ").startswith(b"%PDF-")

    @classmethod
    def load(
        cls, data: bytes, name: str, password: str | None = None, limits: Limits | None = None
    ) -> Document:
        limits = limits or Limits()
        with MUPDF_LOCK:
            doc = open_pdf(data, name, password)
            try:
                extracted = cls._extract(doc, name, limits)
            finally:
                doc.close()
        return extracted.finish(data, password)  # OCR of scanned pages, outside the lock

    @classmethod
    def _extract(cls, doc: Any, name: str, limits: Limits) -> _Extracted:
        page_count = doc.page_count
        if page_count > limits.max_pages:
            raise too_many_pages(name, page_count, limits.max_pages)
        builder = DocumentBuilder(name, "pdf", limits)
        pages: list[SourcePage] = []
        scanned: list[int] = []
        empty: list[int] = []
        failed: list[int] = []
        garbled: list[int] = []
        sizes: Counter[float] = Counter()
        block_sizes: list[tuple[TextBlock, float, int]] = []
        items: list[TextBlock | int] = []  # blocks in reading order; an int: OCR that page here
        to_read = 0
        flags = _text_flags()

        for index in range(page_count):
            try:
                page = doc.load_page(index)
                rect = page.rect
                found = _page_blocks(page, flags)
            except Exception as err:  # one broken page must not lose the others
                log.info("%s: page %d unreadable: %s", name, index + 1, err)
                failed.append(index)
                pages.append(SourcePage(index=index, width=612.0, height=792.0))
                continue
            width, height = max(rect.width, 1.0), max(rect.height, 1.0)
            visible = sum(1 for b in found for c, _ in b.chars if c != " ")
            unmapped = sum(1 for b in found for c, _ in b.chars if c == "\ufffd")
            if visible and unmapped >= GARBLED_MIN_SHARE * visible:
                garbled.append(index)  # fonts without a Unicode map: the text is unreadable
                found = []
            is_scanned = bool(garbled and garbled[-1] == index) or (
                visible < SCANNED_MAX_CHARS and _image_cover(page) >= SCANNED_MIN_IMAGE_COVER
            )
            pages.append(SourcePage(index=index, width=width, height=height, scanned=is_scanned))
            if is_scanned:
                scanned.append(index)
                if to_read < limits.ocr_scanned_pages:
                    items.append(index)
                    to_read += 1
            elif not found:
                empty.append(index)

            order = reading_order([b.bbox for b in found], [len(b.line_boxes) for b in found])
            merged: list[RawBlock] = []
            for i in order:
                if merged and continues_paragraph(merged[-1], found[i]):
                    merged[-1].extend(found[i])
                else:
                    merged.append(found[i])
            for raw_block in merged:
                text = "".join(c for c, _ in raw_block.chars)
                block = TextBlock(
                    text=text,
                    source_page=index,
                    bbox=raw_block.bbox,
                    words=block_words(text, raw_block.chars, raw_block.line_starts),
                )
                items.append(block)
                sizes.update(raw_block.sizes)
                block_sizes.append((block, raw_block.size, len(raw_block.line_boxes)))

        body = _weighted_median(sizes)
        if body > 0:
            for block, size, lines in block_sizes:
                if size >= HEADING_RATIO * body and lines <= 3 and len(block.text) <= 200:
                    block.kind = "heading"
                    block.level = 1 if size >= 1.6 * body else 2

        if empty:
            builder.note(
                f"Page(s) {page_list(empty)} contain no text.",
                f"第 {page_list(empty)} 页没有文字。",
            )
        if failed:
            builder.note(
                f"Page(s) {page_list(failed)} could not be read and were skipped.",
                f"第 {page_list(failed)} 页无法读取，已跳过。",
            )
        if doc.is_repaired:
            builder.note(
                "The PDF was damaged and has been repaired; some content may be missing.",
                "PDF 文件已损坏并已自动修复，部分内容可能缺失。",
            )
        warnings = _fitz().TOOLS.mupdf_warnings()
        if warnings:
            log.debug("%s: MuPDF warnings: %s", name, warnings.replace("\n", "; ")[:2000])
        meta = doc.metadata or {}
        builder.metadata.update(
            page_count=page_count,
            encrypted=bool(doc.is_encrypted or meta.get("encryption")),
            repaired=bool(doc.is_repaired),
            scanned_pages=scanned,
            title=(meta.get("title") or "").strip(),
        )
        return _Extracted(builder, pages, items, scanned, garbled, limits)


def _scan_dpi(page: SourcePage) -> int:
    """``SCAN_DPI``, less for very large pages (a poster at 200 dpi is hundreds of megapixels)."""
    from app.ingest.scan_ocr import SCAN_DPI

    dpi = SCAN_DPI
    while dpi > 18 and (page.width * dpi / 72) * (page.height * dpi / 72) > MAX_PAGE_PIXELS / 4:
        dpi = max(18, int(dpi * 0.75))  # 18: page_image's floor; a 14400-pt page fits at 18
    return dpi


class _Extracted:
    """A PDF's text as read under the MuPDF lock, waiting for the OCR of its scanned pages."""

    def __init__(
        self,
        builder: DocumentBuilder,
        pages: list[SourcePage],
        items: list[TextBlock | int],
        scanned: list[int],
        garbled: list[int],
        limits: Limits,
    ) -> None:
        self.builder, self.pages, self.items = builder, pages, items
        self.scanned, self.garbled, self.limits = scanned, garbled, limits

    def _ocr(
        self, data: bytes, password: str | None, index: int
    ) -> tuple[list[TextBlock], float] | None:
        from app.ingest.scan_ocr import read_scanned_page

        # drawn one page at a time (the lock only while drawing): 100 scanned A4 pages at
        # 200 dpi held at once would be over a gigabyte
        dpi = _scan_dpi(self.pages[index])
        try:
            image = page_image(data, index, dpi, password)
            return read_scanned_page(image, index, dpi, self.limits.ocr_engine)
        except Exception as err:  # no OCR engine, or it failed on this page: keep the others
            log.warning("page %d: OCR failed: %s: %s", index + 1, type(err).__name__, err)
            return None

    def finish(self, data: bytes, password: str | None) -> Document:
        """The ``Document``, with the scanned pages' text read by OCR in its place."""
        builder = self.builder
        read: list[int] = []
        unread: list[int] = []
        weak: list[int] = []
        to_read = sum(1 for item in self.items if not isinstance(item, TextBlock))
        for item in self.items:
            if isinstance(item, TextBlock):
                builder.add_block(item)
                continue
            report_scanned(len(read) + len(unread), to_read)
            result = self._ocr(data, password, item)
            if result is None or not result[0]:
                unread.append(item)
                continue
            blocks, confidence = result
            read.append(item)
            if confidence < 0.8:
                weak.append(item)
            for block in blocks:
                builder.add_block(block)
        report_scanned(to_read, to_read)
        skipped = [i for i in self.scanned if i not in read and i not in unread]
        scans = [i for i in read if i not in self.garbled]
        if scans:
            builder.note(
                f"Page(s) {page_list(scans)} have no text layer (scanned); their text was read "
                "by OCR and may contain reading errors: check answers against the page image.",
                f"第 {page_list(scans)} 页没有文字层（扫描件），其文字由 OCR 识别，可能有识别错误，"
                "请对照页面图像核对答案。",
            )
        garbled = [i for i in read if i in self.garbled]
        if garbled:
            builder.note(
                f"The text layer of page(s) {page_list(garbled)} cannot be decoded (fonts "
                "without a Unicode map); their text was read from the page images by OCR.",
                f"第 {page_list(garbled)} 页的文字层无法解码（字体缺少 Unicode 映射），"
                "其文字已从页面图像经 OCR 识别。",
            )
        if weak:
            builder.note(
                f"OCR was unsure on page(s) {page_list(weak)} (a faint, skewed or small scan).",
                f"第 {page_list(weak)} 页的 OCR 识别把握较低（扫描件模糊、倾斜或字太小）。",
            )
        if unread:
            builder.note(
                f"No text could be read from the image(s) of page(s) {page_list(unread)}.",
                f"第 {page_list(unread)} 页的图像中未能识别出文字。",
            )
        if skipped:
            builder.note(
                f"Page(s) {page_list(skipped)} are scanned and were not read: at most "
                f"{self.limits.ocr_scanned_pages} scanned pages are read by OCR per file "
                "(GLYPH_OCR_SCANNED_PAGES).",
                f"第 {page_list(skipped)} 页为扫描件，未识别：每个文件最多 OCR 识别 "
                f"{self.limits.ocr_scanned_pages} 页扫描页（GLYPH_OCR_SCANNED_PAGES）。",
            )
        builder.metadata["ocr_pages"] = read
        return builder.build(pages=self.pages)


def page_count(source: bytes | str | Path, password: str | None = None) -> int:
    name = "PDF" if isinstance(source, bytes) else Path(str(source)).name
    with MUPDF_LOCK:
        doc = open_pdf(source, name, password)
        try:
            return int(doc.page_count)
        finally:
            doc.close()


def page_image(
    source: Document | bytes | str | Path,
    page_index: int,
    dpi: int = 150,
    password: str | None = None,
    *,
    settings: Settings | None = None,
) -> Image.Image:
    """The original page rendered at ``dpi`` as an RGB image (page images on demand).

    ``source`` is the PDF's bytes or path, or a ``Document`` loaded by ``app.ingest.load``
    (its original is found in the originals store, see ``app.ingest.store``). Pixel ``(x, y)``
    is PDF point ``(x, y) * 72 / dpi``, so word boxes scale by ``dpi / 72``.
    """
    if not 18 <= dpi <= 1200:
        raise ValueError(f"dpi must be between 18 and 1200, got {dpi}")
    with MUPDF_LOCK:
        return _page_image(source, page_index, dpi, password, settings)


def _page_image(
    source: Document | bytes | str | Path,
    page_index: int,
    dpi: int,
    password: str | None,
    settings: Settings | None,
) -> Image.Image:
    from PIL import Image

    if isinstance(source, Document):
        from app.ingest.store import find_original

        path = find_original(source, settings)
        if path is None:
            raise IngestError(
                f"The original PDF of '{source.name}' is no longer available; upload it again.",
                f"“{source.name}”的原始 PDF 已不可用，请重新上传。",
            )
        name, opened = source.name, open_pdf(path, source.name, password)
    else:
        name = Path(str(source)).name if not isinstance(source, bytes) else "PDF"
        opened = open_pdf(source, name, password)
    try:
        if not 0 <= page_index < opened.page_count:
            raise IndexError(f"page {page_index} outside 0..{opened.page_count - 1}")
        page = opened.load_page(page_index)
        scale = dpi / 72.0
        pixels = page.rect.width * scale * page.rect.height * scale
        if pixels > MAX_PAGE_PIXELS:
            raise IngestError(
                f"Page {page_index + 1} of '{name}' at {dpi} dpi would be "
                f"{pixels / 1e6:.0f} megapixels; choose a lower dpi.",
                f"“{name}”第 {page_index + 1} 页在 {dpi} dpi 下将达 {pixels / 1e6:.0f} 百万像素，请降低 dpi。",
            )
        pix = page.get_pixmap(dpi=dpi, alpha=False, colorspace=_fitz().csRGB)
        return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
    finally:
        opened.close()

"""Bad-input corpus: every case either loads with the exact expected content or is rejected with
a specific, bilingual message — never a crash, a traceback or a hang (each case is timed)."""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from ingest_samples import (
    docx_billion_laughs,
    docx_bytes,
    docx_lying_sizes,
    docx_zip_bomb,
    encrypted_pdf,
    pdf_bytes,
    random_bytes,
    scanned_pdf,
    text_image_png,
    zip_bytes,
)

from app.datamodel import Document
from app.errors import IngestError, LimitError
from app.ingest import PasswordRequiredError, load

ZH_TEXT = "差旅费用报销须在出差结束后十五日内提交，并附原始票据。" * 20
EMOJI_RTL = (
    "Family: 👨‍👩‍👧‍👦 flags: 🇨🇳🇺🇸 skin: 👍🏽\n"
    "العربية: مرحبا بالعالم\n"
    "עברית: שלום עולם\n"
    "mixed \u202bRTL embedding\u202c and \u2067isolate\u2069 marks\n"
)


@dataclass
class Case:
    id: str
    make: Callable[[], bytes]
    name: str
    # Either ``loaded`` (a check on the Document) or ``error`` (type + substrings of en / zh).
    loaded: Callable[[Document], None] | None = None
    error: type[IngestError] | None = None
    en: tuple[str, ...] = ()
    zh: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    password: str | None = None
    seconds: float = 20.0  # upper bound on the wall time of this case (2-core CI machine)


def _text_is(expected: str, fmt: str = "txt") -> Callable[[Document], None]:
    def check(doc: Document) -> None:
        assert doc.format == fmt
        assert doc.text == expected

    return check


def _check_pdf_as_txt(doc: Document) -> None:
    assert doc.format == "pdf" and "Quarterly revenue rose." in doc.text
    assert doc.notes[-1].en.startswith("The file is named '.txt' but its content is PDF")


def _check_txt_as_pdf(doc: Document) -> None:
    assert doc.format == "txt" and doc.text == "just some notes"
    assert [n.en for n in doc.notes] == [
        "The file is named '.pdf' but its content is plain text; it was read by its content."
    ]


def _check_repaired(doc: Document) -> None:
    assert "Alpha page." in doc.text and doc.metadata["repaired"] is True
    assert "The PDF was damaged and has been repaired; some content may be missing." in map(
        str, doc.notes
    )


def _check_images_only(doc: Document) -> None:
    assert [p.scanned for p in doc.pages] == [True]
    assert "SCANNED PAGE line 0" in doc.text and "line 19" in doc.text  # read by OCR
    assert [n.en for n in doc.notes] == [
        "Page(s) 1 have no text layer (scanned); their text was read by OCR and may contain "
        "reading errors: check answers against the page image."
    ]


def _check_invalid_utf8(doc: Document) -> None:
    assert doc.text == "Grüße aus Köln — " * 10 + "\ufffd\ufffd end"
    assert [n.en for n in doc.notes] == [
        "2 invalid byte(s) could not be decoded as utf-8 and were replaced by �."
    ]


def _check_huge_line(doc: Document) -> None:
    assert len(doc.blocks) == 1 and len(doc.text) == 10 * 2**20 and set(doc.text) == {"a"}


def _check_encrypted_ok(doc: Document) -> None:
    assert doc.text.strip() == "Confidential quarterly numbers: 42."


def _check_script_html(doc: Document) -> None:
    assert doc.format == "html"
    assert doc.text == "Visible headline\nVisible paragraph."


def _check_control(doc: Document) -> None:
    assert doc.text == "tab\there\nbell and escape [1mbold[0m\nnext"


def _check_path_name(doc: Document) -> None:
    assert doc.name == "evil.txt" and doc.text == "ok"


def _lossy_docx() -> bytes:
    data = bytearray(docx_bytes())
    # Flip bytes in the middle of the compressed document.xml stream.
    start = data.find(b"word/document.xml") + 40
    for i in range(start, start + 64):
        data[i] ^= 0x5A
    return bytes(data)


CASES = [
    Case("zero-bytes-txt", lambda: b"", "empty.txt", error=IngestError,
         en=("'empty.txt' is empty (0 bytes).",), zh=("空文件",)),
    Case("zero-bytes-pdf", lambda: b"", "empty.pdf", error=IngestError,
         en=("'empty.pdf' is empty (0 bytes).",), zh=("空文件",)),
    Case("whitespace-only", lambda: b" \r\n\t\n  ", "blank.txt", error=IngestError,
         en=("'blank.txt' contains no readable text.",), zh=("没有可读取的文字",)),
    Case("pdf-header-only", lambda: b"%PDF-1.7\n", "stub.pdf", error=IngestError,
         en=("the PDF is damaged and could not be repaired",), zh=("已损坏",)),
    Case("pdf-truncated-60-bytes", lambda: pdf_bytes(["Alpha page."])[:60], "cut.pdf",
         error=IngestError, en=("damaged and could not be repaired",), zh=("无法修复",)),
    Case("pdf-truncated-tail", lambda: pdf_bytes(["Alpha page.", "Beta."])[:-300], "tail.pdf",
         loaded=_check_repaired),
    Case("pdf-garbage-after-header", lambda: b"%PDF-1.4\n" + random_bytes(4000), "junk.pdf",
         error=IngestError, en=("damaged and could not be repaired",)),
    Case("pdf-with-fake-txt-extension", lambda: pdf_bytes(["Quarterly revenue rose."]),
         "report.txt", loaded=_check_pdf_as_txt),
    Case("text-with-fake-pdf-extension", lambda: b"just some notes", "notes.pdf",
         loaded=_check_txt_as_pdf),
    Case("binary-with-pdf-extension", lambda: random_bytes(3000, seed=3), "fake.pdf",
         error=IngestError, en=("'fake.pdf' is not a valid PDF file",), zh=("不是有效的 PDF",)),
    Case("empty-pdf-page", lambda: pdf_bytes([""]), "blank.pdf", error=IngestError,
         en=("'blank.pdf' contains no readable text.",)),
    Case("pdf-only-images", lambda: scanned_pdf(1), "scan.pdf", loaded=_check_images_only),
    Case("pdf-encrypted-no-password", lambda: encrypted_pdf(), "locked.pdf",
         error=PasswordRequiredError, en=("is protected by a password",), zh=("受密码保护",)),
    Case("pdf-encrypted-wrong-password", lambda: encrypted_pdf(), "locked.pdf",
         password="guess", error=PasswordRequiredError, en=("password for 'locked.pdf' is not correct",)),
    Case("pdf-encrypted-right-password", lambda: encrypted_pdf(), "locked.pdf",
         password="s3cret", loaded=_check_encrypted_ok),
    Case("pdf-too-many-pages", lambda: pdf_bytes(["a"] * 5), "long.pdf", settings={"max_pages": 4},
         error=LimitError, en=("has 5 pages", "GLYPH_MAX_PAGES"), zh=("GLYPH_MAX_PAGES",)),
    Case("docx-zip-bomb", lambda: docx_zip_bomb(200), "bomb.docx", error=IngestError,
         en=("zip bomb",  # 200 MiB = 210 MB (10⁶ bytes)
            "'word/media/bomb.bin' would expand to 210 MB"), zh=("压缩炸弹",)),
    Case("docx-not-a-zip", lambda: b"\x01\x02" + random_bytes(5000, seed=11), "letter.docx",
         error=IngestError, en=("'letter.docx' is not a valid Word document (it is not a ZIP package).",),
         zh=("不是有效的 Word 文档",)),
    Case("docx-truncated-zip", lambda: docx_bytes()[:3000], "half.docx", error=IngestError,
         en=("it is not a valid DOCX file",), zh=("不是有效的 DOCX",)),
    Case("docx-lying-sizes", docx_lying_sizes, "liar.docx", error=IngestError,
         en=("'liar.docx' cannot be read: the Word document is damaged.",), zh=("已损坏",)),
    Case("docx-billion-laughs", docx_billion_laughs, "laughs.docx", error=IngestError,
         en=("'laughs.docx' cannot be read: the Word document is damaged.",), seconds=5.0),
    Case("docx-corrupted-stream", _lossy_docx, "flipped.docx", error=IngestError,
         en=("the Word document is damaged",)),
    Case("docx-zip-without-word-part", lambda: zip_bytes({"word/other.xml": b"<x/>"}),
         "odd.docx", error=IngestError, en=("a ZIP archive, which is not supported",)),
    Case("xlsx-upload", lambda: zip_bytes({"xl/workbook.xml": b"<w/>", "[Content_Types].xml": b""}),
         "sheet.xlsx", error=IngestError, en=("an Excel workbook (.xlsx), which is not supported",),
         zh=("Excel 工作簿",)),
    Case("legacy-doc", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000), "old.doc",
         error=IngestError, en=("legacy Office file",), zh=("旧版 Office",)),
    Case("png-as-txt", lambda: text_image_png(size=(50, 20)), "image.txt", error=IngestError,
         en=("'image.txt' is a PNG image, which is not supported",), zh=("PNG 图片",)),
    Case("random-binary-as-txt", lambda: random_bytes(4096), "data.txt", error=IngestError,
         en=("'data.txt' is not a text file (it contains binary data)",), zh=("不是文本文件",)),
    Case("invalid-utf8", lambda: "Grüße aus Köln — ".encode() * 10 + b"\xff\xfe end", "de.txt",
         loaded=_check_invalid_utf8),
    Case("gb18030-text", lambda: ZH_TEXT.encode("gb18030"), "gb.txt",
         loaded=_text_is(ZH_TEXT)),
    Case("utf16-le-bom", lambda: codecs.BOM_UTF16_LE + ZH_TEXT.encode("utf-16-le"), "u16.txt",
         loaded=_text_is(ZH_TEXT)),
    Case("utf8-bom-markdown", lambda: codecs.BOM_UTF8 + b"# Title\r\n\r\ntext", "r.md",
         loaded=_text_is("# Title\n\ntext", "markdown")),
    Case("emoji-and-rtl", lambda: EMOJI_RTL.encode(), "mixed.txt",
         loaded=_text_is(EMOJI_RTL.rstrip())),
    Case("control-characters", lambda: b"tab\there\r\nbell\x07 and escape \x1b[1mbold\x1b[0m\x00\rnext",
         "ctl.log", loaded=_check_control),
    Case("ten-mb-single-line", lambda: b"a" * (10 * 2**20), "line.txt", error=LimitError,
         en=("GLYPH_MAX_CHARS", "limit is 2,000,000"), zh=("GLYPH_MAX_CHARS",), seconds=5.0),
    Case("ten-mb-single-line-allowed", lambda: b"a" * (10 * 2**20), "line.txt",
         settings={"max_chars": 20_000_000}, loaded=_check_huge_line, seconds=20.0),
    Case("upload-too-large", lambda: b"x" * 3000, "big.txt", settings={"max_upload_mb": 0.001},
         error=LimitError, en=("upload limit", "GLYPH_MAX_UPLOAD_MB"), zh=("GLYPH_MAX_UPLOAD_MB",)),
    Case("html-with-scripts", lambda: (
            b"<html><head><script>var x = '<p>fake</p>'; alert(1)</script>"
            b"<style>p{}</style></head><body><h1>Visible headline</h1>"
            b"<script src='http://example.invalid/x.js'></script><p>Visible paragraph.</p>"
            b"<p onclick=\"alert('x')\" hidden>hidden</p></body></html>"),
         "page.html", loaded=_check_script_html),
    Case("html-only-scripts", lambda: b"<html><body><script>alert('x')</script></body></html>",
         "script.html", error=IngestError, en=("contains no readable text",)),
    Case("rtf-document", lambda: b"{\\rtf1\\ansi Hello}", "note.rtf", error=IngestError,
         en=("an RTF document, which is not supported",)),
    Case("gzip-archive", lambda: b"\x1f\x8b\x08\x00" + random_bytes(100), "a.txt.gz",
         error=IngestError, en=("a gzip archive",)),
    Case("path-in-name", lambda: b"ok", "../../etc/\x00evil.txt", loaded=_check_path_name),
]  # fmt: skip


def test_corpus_is_large_enough():
    assert len(CASES) >= 25
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, settings):
    for key, value in case.settings.items():
        setattr(settings, key, value)
    data = case.make()
    started = time.perf_counter()
    if case.error is not None:
        with pytest.raises(case.error) as info:
            load(data, name=case.name, password=case.password, settings=settings)
        err = info.value
        for text in case.en:
            assert text in err.en, (text, err.en)
        for text in case.zh:
            assert text in err.zh, (text, err.zh)
        assert err.zh and err.zh != err.en  # a real Chinese message, not the English copy
        assert "Traceback" not in err.en
    else:
        assert case.loaded is not None
        doc = load(data, name=case.name, password=case.password, settings=settings)
        case.loaded(doc)
    elapsed = time.perf_counter() - started
    assert elapsed < case.seconds, f"{case.id} took {elapsed:.1f}s"

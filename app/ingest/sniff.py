"""Choose a loader from the file's content; the file name is only a hint.

Order: PDF header (at the start; within the first 1 KiB when the file is named .pdf); ZIP
packages (DOCX by its directory; XLSX, PPTX, ODT, EPUB named and
refused); other well-known binary signatures (legacy Office, images, archives, executables)
refused by name; HTML markup; then anything that decodes as text. A binary file that matches
nothing is refused with a message that mentions what its name claimed it to be.
"""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import PurePath

from app.errors import IngestError
from app.ingest.base import Loader
from app.ingest.docx import DocxLoader
from app.ingest.html import HtmlLoader
from app.ingest.pdf import PdfLoader
from app.ingest.text import TextLoader

log = logging.getLogger(__name__)

LOADERS: tuple[type[Loader], ...] = (PdfLoader, DocxLoader, HtmlLoader, TextLoader)

# (magic bytes, English name, Chinese name)
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
     "a legacy Office file (Word 97-2003 .doc, .xls, .ppt) or a password-protected Office file",
     "旧版 Office 文件（Word 97-2003 .doc、.xls、.ppt）或受密码保护的 Office 文件"),
    (b"{\\rtf", "an RTF document", "RTF 文档"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "PNG 图片"),
    (b"\xff\xd8\xff", "a JPEG image", "JPEG 图片"),
    (b"GIF87a", "a GIF image", "GIF 图片"),
    (b"GIF89a", "a GIF image", "GIF 图片"),
    (b"II*\x00", "a TIFF image", "TIFF 图片"),
    (b"MM\x00*", "a TIFF image", "TIFF 图片"),
    (b"\x1f\x8b", "a gzip archive", "gzip 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "7-Zip 压缩包"),
    (b"Rar!\x1a\x07", "a RAR archive", "RAR 压缩包"),
    (b"1AY&SY", "a bzip2 archive", "bzip2 压缩包"),  # after 'BZh' + block size, see _magic
    (b"\xfd7zXZ\x00", "an xz archive", "xz 压缩包"),
    (b"\x7fELF", "a program (ELF executable)", "程序文件（ELF 可执行文件）"),
    (b"MZ", "a Windows program", "Windows 程序"),
    (b"%!PS", "a PostScript file", "PostScript 文件"),
    (b"SQLite format 3\x00", "an SQLite database", "SQLite 数据库"),
)  # fmt: skip

_ZIP_KINDS: tuple[tuple[str, str, str], ...] = (
    ("xl/workbook.xml", "an Excel workbook (.xlsx)", "Excel 工作簿（.xlsx）"),
    ("ppt/presentation.xml", "a PowerPoint presentation (.pptx)", "PowerPoint 演示文稿（.pptx）"),
    ("content.xml", "an OpenDocument file (.odt/.ods/.odp)", "OpenDocument 文件（.odt/.ods/.odp）"),
    ("META-INF/container.xml", "an EPUB e-book", "EPUB 电子书"),
)

SUPPORTED_EN = "PDF, DOCX, HTML, TXT, Markdown or source code"
SUPPORTED_ZH = "PDF、DOCX、HTML、TXT、Markdown 或源代码"


def unsupported(name: str, what: str, what_zh: str) -> IngestError:
    return IngestError(
        f"'{name}' is {what}, which is not supported. Supported formats: {SUPPORTED_EN}.",
        f"“{name}”是{what_zh}，暂不支持。支持的格式：{SUPPORTED_ZH}。",
    )


def loader_for_suffix(name: str) -> type[Loader] | None:
    suffix = PurePath(name.lower()).suffix
    for loader in LOADERS:
        if suffix in loader.suffixes:
            return loader
    return None


def _zip_names(data: bytes) -> list[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.namelist()
    # NotImplementedError: a "version needed to extract" zipfile does not know (damaged header)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, NotImplementedError):
        return None


def _magic(head: bytes, magic: bytes) -> bool:
    if magic == b"MZ":  # two letters a text file may start with: also require binary data
        return head.startswith(magic) and b"\x00" in head[:64]
    if magic == b"1AY&SY":
        return head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] == magic
    return head.startswith(magic)


def detect_loader(data: bytes, name: str) -> type[Loader]:
    """The loader for ``data``; ``IngestError`` naming the format when none fits."""
    head = data[:8192]
    hinted = loader_for_suffix(name)
    if PdfLoader.sniff(head) or (hinted is PdfLoader and b"%PDF-" in head[:1024]):
        return PdfLoader

    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        names = _zip_names(data)
        if names is None:
            if hinted is DocxLoader:
                return DocxLoader  # it explains that the package is damaged
            raise unsupported(name, "a damaged ZIP archive", "损坏的 ZIP 压缩包")
        if "word/document.xml" in names:
            return DocxLoader
        for member, what, what_zh in _ZIP_KINDS:
            if member in names:
                raise unsupported(name, what, what_zh)
        raise unsupported(name, "a ZIP archive", "ZIP 压缩包")

    for magic, what, what_zh in _SIGNATURES:
        if _magic(head, magic):
            raise unsupported(name, what, what_zh)

    if HtmlLoader.sniff(head):
        return HtmlLoader
    if TextLoader.sniff(head):
        # Markup without <html> is HTML unless the name says text: a README.md may well
        # start with <div align="center"><h1>…</h1><p>…</p>.
        if hinted is HtmlLoader or (hinted is None and HtmlLoader.sniff_fragment(head)):
            return HtmlLoader
        return TextLoader

    if hinted is PdfLoader:
        raise IngestError(
            f"'{name}' is not a valid PDF file (it does not start with %PDF-).",
            f"“{name}”不是有效的 PDF 文件（文件头不是 %PDF-）。",
        )
    if hinted is DocxLoader:
        raise IngestError(
            f"'{name}' is not a valid Word document (it is not a ZIP package).",
            f"“{name}”不是有效的 Word 文档（不是 ZIP 包）。",
        )
    # Let the text loader decide: it may still find an encoding (e.g. UTF-16 without BOM).
    return TextLoader

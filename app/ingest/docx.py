"""DOCX (python-docx): headings, paragraphs, numbered and bulleted lists, tables as rows,
headers and footers; images, drawings and text boxes are skipped with a note.

Before python-docx sees the file, the ZIP directory is checked: the declared uncompressed sizes
and compression ratios must be plausible for a Word document (zip-bomb protection). Python's
``zipfile`` never inflates a member past its declared size, so the check on declared sizes bounds
what parsing can allocate. python-docx parses XML with entity resolution off (no billion laughs).
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.datamodel import BlockKind, Document
from app.errors import IngestError
from app.ingest.base import (
    DocumentBuilder,
    Limits,
    Loader,
    clean_text,
    too_many_pages,
    unreadable,
)
from app.ingest.docx_numbering import Numbering
from app.settings import MB

log = logging.getLogger(__name__)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
WP_DOC_XML = "word/document.xml"

# ZIP limits. A text-heavy 50 MB .docx inflates to a few hundred MB at most; XML compresses
# about 10-30x, so a member that claims more than 200x (and is big) is not a real document.
MAX_MEMBERS = 10_000
MAX_TOTAL_UNCOMPRESSED = 1 << 30  # 1 GiB
MAX_MEMBER_UNCOMPRESSED = 512 << 20
MAX_RATIO = 200
RATIO_CHECK_ABOVE = 1 << 20  # small members may compress extremely well (runs of spaces)

# Subtrees of a paragraph whose text is not part of the paragraph's running text.
_SKIP_IN_PARA = frozenset(
    {W + "txbxContent", W + "del", W + "moveFrom", W + "instrText", W + "delText", MC_FALLBACK}
)
_TEXT_TAGS = {W + "t": None, W + "tab": "\t", W + "cr": "\n", W + "noBreakHyphen": "-"}


def _wattr(el: Any, name: str) -> str | None:
    return el.get(W + name) if el is not None else None


# ----------------------------------------------------------------------------------------------
# ZIP safety
# ----------------------------------------------------------------------------------------------


def _zip_bomb(name: str, reason: str, reason_zh: str) -> IngestError:
    return IngestError(
        f"'{name}' was rejected: {reason}, which is how a zip bomb looks, not a Word document.",
        f"已拒绝“{name}”：{reason_zh}，这是“压缩炸弹”的特征，不像正常的 Word 文档。",
    )


def check_zip(data: bytes, name: str) -> zipfile.ZipFile:
    """Open ``data`` as a ZIP after checking its directory; raise ``IngestError`` when unsafe."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as err:
        raise unreadable(
            name,
            "it is not a valid DOCX file (the ZIP package is damaged or it is not a ZIP at all)",
            "它不是有效的 DOCX 文件（ZIP 包已损坏或根本不是 ZIP 文件）",
            detail=str(err),
        ) from None
    if len(infos) > MAX_MEMBERS:
        raise _zip_bomb(
            name, f"it contains {len(infos):,} files", f"其中包含 {len(infos):,} 个文件"
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_TOTAL_UNCOMPRESSED:
        raise _zip_bomb(
            name,
            f"its contents would expand to {total / MB:,.0f} MB",
            f"解压后将达到 {total / MB:,.0f} MB",
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER_UNCOMPRESSED or (
            info.file_size > RATIO_CHECK_ABOVE and ratio > MAX_RATIO
        ):
            raise _zip_bomb(
                name,
                f"'{info.filename}' would expand to {info.file_size / MB:,.0f} MB "
                f"(compressed {ratio:,.0f}:1)",
                f"其中“{info.filename}”解压后为 {info.file_size / MB:,.0f} MB（压缩比 {ratio:,.0f}:1）",
            )
    return zf


def _declared_pages(zf: zipfile.ZipFile) -> int | None:
    """Page count Word saved in docProps/app.xml (absent in files written by other tools)."""
    try:
        xml = zf.read("docProps/app.xml")
    except (KeyError, zipfile.BadZipFile, OSError):
        return None
    match = re.search(rb"<(?:\w+:)?Pages>\s*(\d+)\s*<", xml)
    return int(match.group(1)) if match else None


# ----------------------------------------------------------------------------------------------
# Styles and numbering
# ----------------------------------------------------------------------------------------------


@dataclass
class _Style:
    name: str = ""
    based_on: str | None = None
    num: tuple[str, int] | None = None  # (numId, ilvl)
    outline: int | None = None


def _read_styles(document: Any) -> dict[str, _Style]:
    styles: dict[str, _Style] = {}
    try:
        root = document.styles.element
    except Exception:  # a DOCX without styles.xml is valid
        return styles
    for st in root.iterchildren(W + "style"):
        sid = _wattr(st, "styleId")
        if not sid:
            continue
        ppr = st.find(W + "pPr")
        num = None
        outline = None
        if ppr is not None:
            numpr = ppr.find(W + "numPr")
            if numpr is not None:
                num_id = _wattr(numpr.find(W + "numId"), "val")
                ilvl = _wattr(numpr.find(W + "ilvl"), "val")
                if num_id:
                    num = (num_id, int(ilvl) if ilvl and ilvl.isdigit() else 0)
            lvl = _wattr(ppr.find(W + "outlineLvl"), "val")
            outline = int(lvl) if lvl and lvl.isdigit() else None
        styles[sid] = _Style(
            name=(_wattr(st.find(W + "name"), "val") or "").lower(),
            based_on=_wattr(st.find(W + "basedOn"), "val"),
            num=num,
            outline=outline,
        )
    return styles


# ----------------------------------------------------------------------------------------------
# Walking the body
# ----------------------------------------------------------------------------------------------


def iter_block_elements(container: Any) -> Iterator[Any]:
    """w:p and w:tbl children in order, looking through content controls and custom XML."""
    stack = list(reversed(list(container.iterchildren())))
    while stack:
        el = stack.pop()
        tag = el.tag
        if tag in (W + "p", W + "tbl"):
            yield el
        elif tag in (W + "sdt", W + "sdtContent", W + "customXml", W + "ins", W + "moveTo"):
            stack.extend(reversed(list(el.iterchildren())))


def paragraph_text(p: Any) -> str:
    """Running text of a w:p, including hyperlinks, fields and tracked insertions."""
    parts: list[str] = []
    stack = list(reversed(list(p.iterchildren())))
    while stack:
        el = stack.pop()
        tag = el.tag
        if not isinstance(tag, str) or tag in _SKIP_IN_PARA:
            continue
        if tag in _TEXT_TAGS:
            parts.append(el.text or "" if _TEXT_TAGS[tag] is None else _TEXT_TAGS[tag])
        elif tag == W + "br":
            if _wattr(el, "type") in (None, "textWrapping"):
                parts.append("\n")
        elif tag in (W + "drawing", W + "pict", W + "object"):
            continue  # images; their text boxes are counted separately
        else:
            stack.extend(reversed(list(el.iterchildren())))
    return "".join(parts)


def _cell_text(tc: Any) -> str:
    texts = []
    for p in tc.iter(W + "p"):
        text = " ".join(clean_text(paragraph_text(p)).split())
        if text:
            texts.append(text)
    return " ".join(texts)


@dataclass
class _Walker:
    builder: DocumentBuilder
    styles: dict[str, _Style]
    numbering: Numbering
    seen_margins: set[str] = field(default_factory=set)  # header/footer text already added

    def _add(self, text: str, kind: BlockKind, level: int | None = None) -> None:
        if kind in ("header", "footer"):
            if (kind + text) in self.seen_margins:
                return  # the same header in every section is shown once
            self.seen_margins.add(kind + text)
        self.builder.add(text, kind, level=level)

    def style_chain(self, style_id: str | None) -> Iterator[_Style]:
        seen: set[str] = set()
        while style_id and style_id not in seen and len(seen) < 20:
            seen.add(style_id)
            style = self.styles.get(style_id)
            if style is None:
                return
            yield style
            style_id = style.based_on

    def classify(self, p: Any) -> tuple[BlockKind, int | None, str]:
        """(kind, level, list label) of a paragraph from its properties and style chain."""
        ppr = p.find(W + "pPr")
        style_id = _wattr(ppr.find(W + "pStyle"), "val") if ppr is not None else None
        num: tuple[str, int] | None = None
        outline: int | None = None
        if ppr is not None:
            numpr = ppr.find(W + "numPr")
            if numpr is not None:
                num_id = _wattr(numpr.find(W + "numId"), "val")
                ilvl = _wattr(numpr.find(W + "ilvl"), "val")
                num = (num_id or "0", int(ilvl) if ilvl and ilvl.isdigit() else 0)
            lvl = _wattr(ppr.find(W + "outlineLvl"), "val")
            outline = int(lvl) if lvl and lvl.isdigit() else None
        heading: int | None = None
        list_style = False
        for style in self.style_chain(style_id):
            if heading is None:
                if style.name == "title":
                    heading = 1
                elif style.name == "subtitle":
                    heading = 2
                elif m := re.fullmatch(r"heading\s*([1-9])", style.name):
                    heading = int(m.group(1))
            num = num or style.num
            outline = outline if outline is not None else style.outline
            list_style = list_style or style.name.startswith("list")
        if heading is None and outline is not None and outline < 9:
            heading = outline + 1
        if heading is not None:
            return "heading", heading, ""
        if num is not None and num[0] != "0":
            return "list_item", num[1] + 1, self.numbering.label(num[0], num[1])
        if list_style:
            return "list_item", 1, "• "
        return "paragraph", None, ""

    def paragraph(self, p: Any, kind_override: BlockKind | None = None) -> None:
        text = clean_text(paragraph_text(p)).strip()
        if not text:
            return
        kind, level, label = self.classify(p)
        if kind_override is not None:
            kind, level, label = kind_override, None, ""
        self._add(label + text, kind, level)

    def table(self, tbl: Any, kind_override: BlockKind | None = None) -> None:
        for tr in tbl.iter(W + "tr"):
            if tr.getparent() is not tbl and tr.getparent().tag != W + "sdtContent":
                continue  # rows of nested tables are read inside their cell
            cells = [_cell_text(tc) for tc in iter_cells(tr)]
            if any(cells):
                self._add(" | ".join(cells), kind_override or "table_row")

    def walk(self, container: Any, kind_override: BlockKind | None = None) -> None:
        for el in iter_block_elements(container):
            if el.tag == W + "p":
                self.paragraph(el, kind_override)
            else:
                self.table(el, kind_override)


def iter_cells(tr: Any) -> Iterator[Any]:
    stack = list(reversed(list(tr.iterchildren())))
    while stack:
        el = stack.pop()
        if el.tag == W + "tc":
            yield el
        elif el.tag in (W + "sdt", W + "sdtContent", W + "customXml"):
            stack.extend(reversed(list(el.iterchildren())))


def _count_images(body: Any) -> tuple[int, int]:
    """(images and drawings, text boxes) outside markup-compatibility fallbacks."""
    images = boxes = 0
    for el in body.iter(W + "drawing", W + "pict", W + "object"):
        if any(a.tag == MC_FALLBACK for a in el.iterancestors()):
            continue
        if next(el.iter(W + "txbxContent"), None) is not None:
            boxes += 1
        else:
            images += 1
    return images, boxes


class DocxLoader(Loader):
    """Word documents (.docx, .docm); macros are never run, only text is read."""

    format = "docx"
    suffixes = (".docx", ".docm", ".dotx")
    label = "DOCX"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """A ZIP whose directory lists word/document.xml (needs the whole file, not a head)."""
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            with zipfile.ZipFile(io.BytesIO(head)) as zf:
                return WP_DOC_XML in zf.namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            return b"word/" in head[:4096]

    @classmethod
    def load(
        cls, data: bytes, name: str, password: str | None = None, limits: Limits | None = None
    ) -> Document:
        limits = limits or Limits()
        zf = check_zip(data, name)
        names = set(zf.namelist())
        if "EncryptedPackage" in names or WP_DOC_XML not in names:
            raise unreadable(
                name,
                "it is a ZIP file but not a Word document (no word/document.xml)",
                "它是 ZIP 文件，但不是 Word 文档（缺少 word/document.xml）",
            )
        declared_pages = _declared_pages(zf)
        if declared_pages is not None and declared_pages > limits.max_pages:
            raise too_many_pages(name, declared_pages, limits.max_pages)

        import docx

        try:
            document = docx.Document(io.BytesIO(data))
        except IngestError:
            raise
        except Exception as err:  # python-docx raises many types for damaged packages
            raise unreadable(
                name,
                "the Word document is damaged",
                "Word 文档已损坏",
                detail=f"{type(err).__name__}: {err}",
            ) from None

        builder = DocumentBuilder(name, "docx", limits)
        walker = _Walker(builder, _read_styles(document), Numbering.from_document(document))
        body = document.element.body

        headers, footers = _header_footer_parts(document)
        for part in headers:
            walker.walk(part, "header")
        walker.walk(body)
        for part in footers:
            walker.walk(part, "footer")

        breaks = sum(1 for _ in body.iter(W + "lastRenderedPageBreak")) + sum(
            1 for br in body.iter(W + "br") if _wattr(br, "type") == "page"
        )
        pages = max(declared_pages or 0, breaks + 1)  # app.xml may be stale (non-Word writers)
        if pages > limits.max_pages:
            raise too_many_pages(name, pages, limits.max_pages)
        builder.metadata["pages_estimate"] = pages

        images, boxes = _count_images(body)
        if images:
            builder.note(
                f"{images} embedded image(s) or drawing(s) were ignored; only text is read.",
                f"已忽略 {images} 个嵌入的图片或图形，只读取文字。",
            )
        if boxes:
            builder.note(
                f"The text of {boxes} text box(es) was not read.",
                f"{boxes} 个文本框中的文字未读取。",
            )
        builder.metadata["images_ignored"] = images
        return builder.build()


def _header_footer_parts(document: Any) -> tuple[list[Any], list[Any]]:
    """Distinct header and footer elements across sections (each shown once)."""
    headers: list[Any] = []
    footers: list[Any] = []
    seen: set[int] = set()
    try:
        even = bool(document.settings.odd_and_even_pages_header_footer)
    except Exception:
        even = False
    for section in document.sections:
        try:
            first = section.different_first_page_header_footer
        except Exception:
            first = False
        for attr, out in (
            ("first_page_header", headers if first else None),
            ("header", headers),
            ("even_page_header", headers if even else None),
            ("first_page_footer", footers if first else None),
            ("footer", footers),
            ("even_page_footer", footers if even else None),
        ):
            if out is None:
                continue
            try:
                hf = getattr(section, attr)
                if hf.is_linked_to_previous:
                    continue
                element = hf._element  # the w:hdr / w:ftr root
            except Exception:  # a broken relationship: skip that header rather than fail
                log.debug("skipping %s of a section", attr, exc_info=True)
                continue
            if id(element) in seen:
                continue
            seen.add(id(element))
            out.append(element)
    return headers, footers

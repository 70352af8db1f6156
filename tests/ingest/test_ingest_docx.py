"""DOCX loading: structure, lists, tables, headers/footers, images, zip safety, page limit."""

from __future__ import annotations

import io

import docx
import pytest
from ingest_samples import ZH_SENTENCE, docx_bytes, docx_zip_bomb

from app.errors import IngestError, LimitError
from app.ingest import load
from app.ingest.docx import check_zip
from app.ingest.docx_numbering import Numbering, format_number

pytestmark = pytest.mark.timeout(60)


def _kinds(doc):
    return [(b.kind, b.level, b.text) for b in doc.blocks]


def test_docx_structure(settings):
    doc = load(docx_bytes(), name="report.docx", settings=settings)
    assert doc.format == "docx"
    assert _kinds(doc) == [
        ("header", None, "ACME Corp — internal"),
        ("heading", 1, "Annual Report"),
        ("heading", 1, "Introduction"),
        ("paragraph", None, "The year was good for apples."),
        ("heading", 2, "Details"),
        ("list_item", 1, "• First bullet"),
        ("list_item", 1, "• Second bullet"),
        ("list_item", 1, "1. Step one"),
        ("list_item", 1, "2. Step two"),
        ("table_row", None, "Name | Qty | Price"),
        ("table_row", None, "Apple | 3 | 1.20"),
        ("table_row", None, "Pear | 5 | 0.80"),
        ("paragraph", None, "Closing line."),
        ("footer", None, "Page footer text"),
    ]
    assert [n.en for n in doc.notes] == []
    assert doc.language == "en"
    assert doc.source_sha256 and len(doc.source_sha256) == 64


def test_docx_image_ignored_with_note(settings):
    doc = load(docx_bytes(with_image=True), name="pic.docx", settings=settings)
    assert [n.en for n in doc.notes] == [
        "1 embedded image(s) or drawing(s) were ignored; only text is read."
    ]
    assert [n.zh for n in doc.notes] == ["已忽略 1 个嵌入的图片或图形，只读取文字。"]
    assert "Closing line." in doc.text


def test_docx_chinese(settings):
    doc = load(docx_bytes(cjk=True), name="报告.docx", settings=settings)
    assert ZH_SENTENCE in doc.text
    assert doc.name == "报告.docx"
    # The English list/table text dominates this sample by letters, so the language follows it;
    # a document of only the Chinese sentence is 'zh'.
    d = docx.Document()
    d.add_paragraph(ZH_SENTENCE)
    buf = io.BytesIO()
    d.save(buf)
    assert load(buf.getvalue(), name="zh.docx", settings=settings).language == "zh"


def test_docx_merged_cells_nested_table_and_headers_once(settings):
    d = docx.Document()
    table = d.add_table(rows=2, cols=3)
    a = table.cell(0, 0).merge(table.cell(0, 1))
    a.text = "Merged"
    table.cell(0, 2).text = "Right"
    table.cell(1, 0).text = "x"
    inner = table.cell(1, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "in1"
    inner.cell(0, 1).text = "in2"
    table.cell(1, 2).text = "z"
    d.sections[0].header.paragraphs[0].text = "Same header"
    d.add_section()  # the new section's header is linked to the first: shown once
    d.add_paragraph("Second section body.")
    buf = io.BytesIO()
    d.save(buf)
    doc = load(buf.getvalue(), name="t.docx", settings=settings)
    rows = [b.text for b in doc.blocks if b.kind == "table_row"]
    assert rows == ["Merged | Right", "x | in1 in2 | z"]
    assert [b.text for b in doc.blocks if b.kind == "header"] == ["Same header"]


def test_numbering_formats():
    assert [format_number(n, "lowerRoman") for n in (1, 4, 9, 14)] == ["i", "iv", "ix", "xiv"]
    assert [format_number(n, "upperLetter") for n in (1, 26, 27)] == ["A", "Z", "AA"]
    assert [format_number(n, "chineseCounting") for n in (1, 10, 12, 20, 35)] == [
        "一",
        "十",
        "十二",
        "二十",
        "三十五",
    ]
    assert Numbering().label("7", 0) == "• "  # unknown list: a bullet


def test_zip_bomb_rejected_before_parsing(settings):
    with pytest.raises(IngestError) as info:
        load(docx_zip_bomb(200), name="bomb.docx", settings=settings)
    assert "zip bomb" in info.value.en and "压缩炸弹" in info.value.zh
    assert "word/media/bomb.bin" in info.value.en


def test_check_zip_accepts_real_docx():
    zf = check_zip(docx_bytes(), "ok.docx")
    assert "word/document.xml" in zf.namelist()


def test_docx_page_limit_from_app_xml(settings):
    settings.max_pages = 3
    data = docx_bytes()
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/app.xml":
                body = (
                    b'<?xml version="1.0"?><Properties xmlns="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/extended-properties"><Pages>12</Pages></Properties>'
                )
            out.writestr(info, body)
    with pytest.raises(LimitError) as info:
        load(buf.getvalue(), name="long.docx", settings=settings)
    assert "12 pages" in info.value.en and "GLYPH_MAX_PAGES" in info.value.en


def test_docx_page_breaks_count_as_pages(settings):
    settings.max_pages = 2
    d = docx.Document()
    for i in range(3):
        d.add_paragraph(f"page {i}")
        d.add_page_break()
    buf = io.BytesIO()
    d.save(buf)
    with pytest.raises(LimitError):
        load(buf.getvalue(), name="breaks.docx", settings=settings)


def test_multilevel_numbering_with_direct_numpr(settings):
    """Word's usual list markup: 'List Paragraph' plus w:numPr pointing into numbering.xml."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn

    d = docx.Document()
    numbering = d.part.numbering_part.element
    numbering.insert(
        0,
        parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
            '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
            '<w:lvlText w:val="%1."/></w:lvl>'
            '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/>'
            '<w:lvlText w:val="%1.%2)"/></w:lvl>'
            '<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerRoman"/>'
            '<w:lvlText w:val="%3."/></w:lvl>'
            "</w:abstractNum>"
        ),
    )
    numbering.append(
        parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>')
    )
    for text, level in [("one", 0), ("one-a", 1), ("one-b", 1), ("deep", 2), ("two", 0),
                        ("two-a", 1)]:  # fmt: skip
        p = d.add_paragraph(text, style="List Paragraph")
        ppr = p._p.get_or_add_pPr()
        ppr.append(
            parse_xml(
                f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>'
            )
        )
        assert ppr.find(qn("w:numPr")) is not None
    buf = io.BytesIO()
    d.save(buf)
    doc = load(buf.getvalue(), name="lists.docx", settings=settings)
    assert _kinds(doc) == [
        ("list_item", 1, "1. one"),
        ("list_item", 2, "1.a) one-a"),
        ("list_item", 2, "1.b) one-b"),
        ("list_item", 3, "i. deep"),
        ("list_item", 1, "2. two"),
        ("list_item", 2, "2.a) two-a"),
    ]

"""The public ingest API: loader interface, content sniffing, suffixes, reading order helper."""

from __future__ import annotations

import pytest
from ingest_samples import docx_bytes, pdf_bytes, write

from app.ingest import Loader, load, supported_suffixes
from app.ingest.docx import DocxLoader
from app.ingest.html import HtmlLoader
from app.ingest.layout import reading_order
from app.ingest.pdf import PdfLoader
from app.ingest.sniff import LOADERS, detect_loader
from app.ingest.text import TextLoader

pytestmark = pytest.mark.timeout(60)


def test_supported_suffixes_cover_every_format():
    suffixes = supported_suffixes()
    for s in (".pdf", ".docx", ".txt", ".md", ".py", ".html", ".htm", ".json", ".java"):
        assert s in suffixes
    assert suffixes == sorted(set(suffixes))
    assert all(s.startswith(".") and s == s.lower() for s in suffixes)


def test_loaders_share_the_interface():
    for loader in LOADERS:
        assert issubclass(loader, Loader)
        assert loader.supported_suffixes()
        assert loader.format in ("pdf", "docx", "html", "txt")


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"%PDF-1.7 ...", "x.bin", PdfLoader),
        (b"junk before %PDF-1.4\n", "x.pdf", PdfLoader),
        (b"\n\n%PDF-1.4\n", "x", PdfLoader),
        (b'MAGIC = b"%PDF-"  # a program that mentions the header\n', "s.py", TextLoader),
        (b"<div><h1>Title</h1><p>one</p></div>\n\n# Markdown", "README.md", TextLoader),
        (b"<div><h1>Title</h1><p>one</p></div>", "snippet", HtmlLoader),
        (b"<!doctype html><p>x", "x.txt", HtmlLoader),
        (b"  <html lang='en'><body>", "x", HtmlLoader),
        (b"plain words", "x.html", HtmlLoader),  # text content, the name says HTML
        (b"plain words", "x.md", TextLoader),
        (b"MZ is my initials", "x.txt", TextLoader),  # not a Windows program: no binary data
        (b"BZh is not bzip2", "x.txt", TextLoader),
    ],
)
def test_detect_loader(data, name, expected):
    assert detect_loader(data, name) is expected


def test_detect_docx_by_directory():
    assert detect_loader(docx_bytes(), "renamed.bin") is DocxLoader
    assert DocxLoader.sniff(docx_bytes())
    assert not DocxLoader.sniff(b"%PDF-1.4")


def test_load_from_paths(settings, tmp_path):
    pdf = load(write(tmp_path, "a.pdf", pdf_bytes(["From a path."])), settings=settings)
    assert pdf.text == "From a path." and pdf.name == "a.pdf"
    assert pdf.metadata["source_path"] == str((tmp_path / "a.pdf").resolve())
    dx = load(str(write(tmp_path, "b.docx", docx_bytes())), settings=settings)
    assert dx.format == "docx" and "Step two" in dx.text
    named = load(write(tmp_path, "c.txt", b"hello"), name="shown.txt", settings=settings)
    assert named.name == "shown.txt"


def test_notes_have_chinese_twins(settings):
    doc = load(b"%PDF-1.4\n" + pdf_bytes(["x"])[9:], name="x.txt", settings=settings)
    assert len(doc.notes) == len([n for n in doc.notes if n.zh]) >= 1


def test_same_bytes_same_doc_id(settings):
    data = pdf_bytes(["Same."])
    a = load(data, name="a.pdf", settings=settings)
    b = load(data, name="a.pdf", settings=settings)
    assert a.doc_id == b.doc_id and a.source_sha256 == b.source_sha256
    assert a.model_dump() == b.model_dump()


def test_reading_order_table_rows_stay_rows():
    # A 3x3 grid of one-line cells (a table): read row by row.
    boxes = [(x, y, x + 80, y + 12) for y in (100, 120, 140) for x in (50, 150, 250)]
    assert reading_order(boxes, [1] * 9) == list(range(9))


def test_reading_order_columns_with_full_width_parts():
    title = (50, 40, 550, 60)
    left = [(50, 100, 290, 200), (50, 210, 290, 300)]
    right = [(310, 100, 550, 180), (310, 190, 550, 300)]
    footer = (50, 400, 550, 420)
    boxes = [right[1], footer, left[1], title, right[0], left[0]]
    lines = [5, 1, 5, 1, 5, 5]
    order = [boxes[i] for i in reading_order(boxes, lines)]
    assert order == [title, left[0], left[1], right[0], right[1], footer]


def test_reading_order_degenerate_inputs():
    assert reading_order([]) == []
    assert reading_order([(0, 0, 10, 10)]) == [0]
    # identical boxes: stable top-to-bottom, left-to-right
    assert reading_order([(0, 0, 10, 10)] * 3) == [0, 1, 2]
    # flipped coordinates are normalised
    assert reading_order([(10, 30, 0, 20), (0, 0, 10, 10)]) == [1, 0]

"""Fuzzing (hypothesis, bounded): the renderer and its layout map keep their invariants on any
Unicode; the ingest sniffers and loaders turn any bytes or text into a ``Document`` or an
``IngestError`` and nothing else. Example counts are small so the default run stays fast; set
``GLYPH_FUZZ_EXAMPLES`` for a longer hunt."""

from __future__ import annotations

import io
import logging
import os
import zipfile
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from app.datamodel import Document
from app.errors import IngestError
from app.settings import Settings

EXAMPLES = int(os.environ.get("GLYPH_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # the first PDF/DOCX parse warms imports up; bounded by example count
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=os.environ.get("GLYPH_FUZZ_RANDOM") is None,  # CI: the same examples each run
)

# --- renderer + layout map -------------------------------------------------------------------


@cache
def _configs():
    from app.render import resolve_config

    return [
        resolve_config("en", page_size=(160, 110), dpi=72),
        resolve_config("zh", page_size=(140, 120), dpi=96, newline_markup=None),
        resolve_config("en", page_size=(120, 90), alignment="JUSTIFY", header=True, footer=True),
    ]


WORDS = [
    "alpha",
    "β",
    "中文",
    "段落",
    "\n",
    "\t",
    "—",
    "x\u0301",
    "\U0001f600",
    "a-b",
    "\u200b",
    "ok.",
]
TEXT = st.one_of(
    st.text(st.characters(codec=None, categories=None), max_size=200),
    st.text(st.sampled_from(list("ab 中文\n\t\u200b\u0301\U0001f600-—.,;")), max_size=400),
    # long enough for several pages: page breaks, lines that end a page
    st.lists(st.sampled_from(WORDS), min_size=30, max_size=300).map(" ".join),
)


@FUZZ
@given(text=TEXT, which=st.integers(0, 2), data=st.data())
def test_layout_map_queries_agree_with_the_boxes(text, which, data):
    from app.datamodel import LayoutMap
    from app.render import render

    doc = render(text, _configs()[which], name="fuzz")
    layout = doc.layout
    assert len(layout) == len(text)
    drawn = np.flatnonzero(layout.page >= 0)
    event(f"pages: {min(len(doc.pages), 3)}{'+' if len(doc.pages) > 3 else ''}")
    event("some characters drawn" if len(drawn) else "nothing drawn")
    for i in range(len(text)):
        got = layout.boxes_for_span(i, i + 1)
        if layout.page[i] < 0:
            assert got == [] and layout.char_box(i) is None
        else:
            page, box = layout.char_box(i)
            assert got == [(page, box)]
            w, h = doc.pages[page].size
            assert 0 <= box[0] <= box[2] <= w + 1e-3 and 0 <= box[1] <= box[3] <= h + 1e-3
    if len(drawn):
        # the character at a box's centre is one whose box contains that point, on that page
        i = int(data.draw(st.sampled_from(list(drawn))))
        page, (x0, y0, x1, y1) = layout.char_box(i)
        if x1 > x0 and y1 > y0:
            x, y = (x0 + x1) / 2, (y0 + y1) / 2
            hit = layout.span_at(page, x, y)
            assert hit is not None and hit[1] == hit[0] + 1
            hx0, hy0, hx1, hy1 = layout.char_box(hit[0])[1]
            assert layout.page[hit[0]] == page and hx0 <= x < hx1 and hy0 <= y < hy1
    # any span: one merged box per drawn line, covering exactly the characters' boxes
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    spans = layout.boxes_for_span(a, b)
    inside = drawn[(drawn >= a) & (drawn < b)]
    assert len(spans) == len(np.unique(layout.line[inside]))
    assert sorted({p for p, _ in spans}) == layout.pages_of_span(a, b)
    if len(inside):
        boxes = layout.boxes[inside]
        union = (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())
        got = np.array([box for _, box in spans])
        assert np.allclose(
            (got[:, 0].min(), got[:, 1].min(), got[:, 2].max(), got[:, 3].max()), union
        )
    for page in range(len(doc.pages)):
        span = layout.span_of_page(page)
        on_page = np.flatnonzero(layout.page == page)
        assert (span is None) == (len(on_page) == 0)
        if span:
            assert span == (int(on_page[0]), int(on_page[-1]) + 1)
    again = LayoutMap.from_npz(layout.to_npz())
    assert np.array_equal(again.page, layout.page) and np.array_equal(again.boxes, layout.boxes)


# --- ingest: sniffers and loaders ------------------------------------------------------------


@pytest.fixture(scope="module")
def ingest_settings(tmp_path_factory):
    data = tmp_path_factory.mktemp("fuzz-data")
    return Settings(_env_file=None, data_dir=data, max_pages=20, max_chars=50_000)


@cache
def _seeds() -> dict[str, bytes]:
    """Real documents to mutate: a text PDF, a DOCX, HTML, UTF-16 text."""
    import pymupdf

    from tests.helpers.documents import memo_docx

    pdf = pymupdf.open()
    pdf.new_page().insert_text((72, 72), "Invoice 4471: total 980 EUR, due 1 May.", fontsize=11)
    pdf_bytes = pdf.tobytes()
    pdf.close()
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        docx_bytes = memo_docx(Path(tmp) / "m.docx").read_bytes()
    return {
        "a.pdf": pdf_bytes,
        "m.docx": docx_bytes,
        "p.html": b"<html><head><title>T</title></head><body><p>Hello <b>world</b></p></body></html>",
        "u.txt": "Größe 中文 text\n".encode("utf-16"),
    }


NAMES = st.sampled_from(
    ["a.pdf", "m.docx", "p.html", "u.txt", "n.md", "c.py", "noext", "x.xlsx", "y.doc", "z.png"]
)
PREFIXES = st.sampled_from(
    [b"", b"%PDF-1.7\n", b"PK\x03\x04", b"<html><body>", b"\xef\xbb\xbf", b"\xff\xfe", b"{\\rtf1"]
)


def _check(data: bytes, name: str, ingest_settings: Settings) -> None:
    from app.ingest import load

    try:
        doc = load(data, name=name, settings=ingest_settings)
    except IngestError as err:
        assert err.en and err.zh  # a message for the user in both languages
        return
    assert isinstance(doc, Document) and doc.text.strip()
    assert len(doc.text) <= ingest_settings.max_chars


@FUZZ
@given(prefix=PREFIXES, body=st.binary(max_size=3000), name=NAMES)
def test_any_bytes_become_a_document_or_an_ingest_error(prefix, body, name, ingest_settings):
    _check(prefix + body, name, ingest_settings)


@FUZZ
@given(
    which=st.sampled_from(["a.pdf", "m.docx", "p.html", "u.txt"]),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=12),
    name=NAMES,
)
def test_damaged_real_documents_become_a_document_or_an_ingest_error(
    which, cut, flips, name, ingest_settings
):
    data = bytearray(_seeds()[which])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    data = bytes(data[: max(1, int(len(data) * cut))]) if cut < 0.98 else bytes(data)
    _check(data, name, ingest_settings)


@FUZZ
@given(members=st.lists(st.sampled_from(["word/document.xml", "[Content_Types].xml", "x"]),
                        max_size=3), xml=st.binary(max_size=400))  # fmt: skip
def test_hostile_zip_packages(members, xml, ingest_settings):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for member in members:
            zf.writestr(member, xml)
    _check(buf.getvalue(), "m.docx", ingest_settings)


@FUZZ
@given(text=st.text(st.characters(codec=None, categories=None), max_size=500))
def test_any_pasted_text_becomes_a_document_or_an_ingest_error(text, ingest_settings):
    from app.ingest import load_text

    try:
        doc = load_text(text, settings=ingest_settings)
    except IngestError:
        return
    assume(doc is not None)
    assert doc.text.strip() and "\x00" not in doc.text


def test_unexpected_parser_failures_are_logged_once_and_wrapped(ingest_settings, caplog):
    """The safety net the properties above rely on: a loader bug is an IngestError for the user
    and a logged traceback for the developer."""
    from app.ingest import load
    from app.ingest.text import TextLoader

    def boom(*_args, **_kwargs):
        raise KeyError("parser bug")

    original = TextLoader.load
    TextLoader.load = classmethod(boom)  # type: ignore[method-assign]
    try:
        with (
            caplog.at_level(logging.ERROR, logger="app.ingest"),
            pytest.raises(IngestError, match="could not be read"),
        ):
            load(b"plain words", name="n.txt", settings=ingest_settings)
    finally:
        TextLoader.load = original  # type: ignore[method-assign]
    assert "unexpected error while reading" in caplog.text


def test_zip_needing_an_unknown_version_is_an_ingest_error(ingest_settings):
    """Found by fuzzing: a DOCX whose central directory asks for "zip version 12.0" made
    zipfile raise NotImplementedError in the sniffer, outside the loaders' safety net."""
    data = bytearray(_seeds()["m.docx"])
    at = data.index(b"PK\x01\x02")  # first central-directory entry; +6: version needed
    data[at + 6 : at + 8] = (120).to_bytes(2, "little")
    from app.ingest import load

    with pytest.raises(IngestError, match=r"m\.docx"):
        load(bytes(data), name="m.docx", settings=ingest_settings)

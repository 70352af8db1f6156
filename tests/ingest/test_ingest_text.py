"""Text, Markdown, code and pasted text: encodings, newlines, control characters, formats."""

from __future__ import annotations

import codecs

import pytest
from ingest_samples import write

from app.errors import IngestError, LimitError
from app.ingest import load, load_text
from app.ingest.base import clean_text, page_list, paragraph_blocks
from app.ingest.text import decode_bytes, markdown_blocks
from app.text import detect_language

pytestmark = pytest.mark.timeout(60)

ZH = "第一章 总则\n本办法适用于所有员工的差旅报销。报销须在出差结束后十五日内提交。\n"


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [
        ("utf-8", b""),
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("gb18030", b""),
        ("big5", b""),
    ],
)
def test_encodings_round_trip(settings, encoding, prefix):
    text = ZH * 5 if encoding != "big5" else "繁體中文的文件，內容是報銷辦法與差旅規定。\n" * 5
    data = prefix + text.encode(encoding)
    doc = load(data, name="zh.txt", settings=settings)
    assert doc.text == text.rstrip()
    assert doc.language == "zh"
    assert doc.format == "txt"


def test_cp1252_detected(settings):
    text = "Le café est très bon. Les élèves étudient à l'école près du théâtre.\n" * 8
    doc = load(text.encode("cp1252"), name="fr.txt", settings=settings)
    assert doc.text == text.rstrip()
    assert doc.language == "en"  # not CJK


def test_utf16_without_bom(settings):
    text = "Plain ASCII content stored as UTF-16 without a byte-order mark.\n" * 4
    doc = load(text.encode("utf-16-le"), name="w.txt", settings=settings)
    assert doc.text == text.rstrip()
    assert doc.metadata["encoding"] == "utf-16-le"


def test_invalid_utf8_bytes_replaced_with_note(settings):
    data = "naïve café — ".encode() * 20 + b"\xff\xfe broken " + "déjà vu".encode()
    doc = load(data, name="bad.txt", settings=settings)
    assert doc.text.count("\ufffd") == 2
    assert doc.text.endswith("broken déjà vu")
    assert [n.en for n in doc.notes] == [
        "2 invalid byte(s) could not be decoded as utf-8 and were replaced by �."
    ]


def test_crlf_control_chars_tabs(settings):
    data = b"line one\r\nline\ttwo\rline\x00 three\x1b[0m\x07\r\n\x0cpage two\r\n\r\n"
    doc = load(data, name="c.txt", settings=settings)
    assert doc.text == "line one\nline\ttwo\nline three[0m\n\npage two"


def test_code_keeps_tabs_and_indentation(settings, tmp_path):
    src = "def f(x):\n\tif x:\n\t\treturn 1\n\n\n    return 2  # 注释\n"
    doc = load(write(tmp_path, "m.py", src.encode()), settings=settings)
    assert doc.format == "code"
    assert doc.text == src.rstrip()
    assert {b.kind for b in doc.blocks} == {"code"}
    assert doc.name == "m.py"


def test_shebang_without_suffix_is_code(settings):
    doc = load(b"#!/bin/sh\necho hi\n", name="run", settings=settings)
    assert doc.format == "code"


def test_markdown_kinds(settings):
    md = "# Title\n\nSome *text*.\n\n## Part\n- a\n  - b\n1. one\n```\n# not a heading\n```\n"
    doc = load(md.encode(), name="r.md", settings=settings)
    assert doc.format == "markdown"
    assert doc.text == md.rstrip()
    got = [(b.kind, b.level) for b in doc.blocks if b.text]
    assert got == [
        ("heading", 1),
        ("paragraph", None),
        ("heading", 2),
        ("list_item", 1),
        ("list_item", 2),
        ("list_item", 1),
        ("code", None),  # the fenced block, fences included, is one block
    ]
    fenced = [b.text for b in doc.blocks if b.kind == "code"]
    assert fenced == ["```\n# not a heading\n```"]
    assert markdown_blocks("plain")[0] == ("plain", "paragraph", None)


def test_blocks_join_back_exactly():
    text = "a\nb\n\n\nc\n  \nd"
    blocks = paragraph_blocks(text)
    assert "\n".join(t for t, _ in blocks) == text
    for sample in ("", "\n", "\n\nx", "x\n\n", "a\n \n\t\nb"):
        assert "\n".join(t for t, _ in paragraph_blocks(sample)) == sample
        assert "\n".join(t for t, _, _ in markdown_blocks(sample)) == sample
    assert [t for t, _ in blocks] == ["a\nb", "\n", "c", "  ", "d"]


def test_clean_text_and_helpers():
    assert clean_text("a\r\nb\u2028c\x00d\ufeffe\ud800f\tg") == "a\nb\ncdef\tg"
    assert page_list([0, 1, 2, 5, 7, 8]) == "1–3, 6, 8–9"
    # the document's language: app.text's rule, None when the text has no letters at all
    assert detect_language("", default=None) is None
    assert detect_language("12345 !!!", default=None) is None
    assert detect_language("这是一个关于 GPU 显存的中文句子", default=None) == "zh"
    assert detect_language("An English sentence with one 词.", default=None) == "en"


def test_decode_rejects_binary():
    from app.ingest.text import NotTextError

    with pytest.raises(NotTextError):
        decode_bytes(bytes(range(256)) * 4, "b.bin")


def test_paste(settings):
    doc = load_text("你好，世界\r\n\r\nworld\x00!", settings=settings)
    assert doc.format == "paste" and doc.name == "pasted.txt"
    assert doc.text == "你好，世界\n\nworld!"
    assert doc.source_sha256 and doc.language == "zh"


def test_paste_limit(settings):
    settings.max_paste_chars = 100
    assert load_text("x" * 100, settings=settings).text == "x" * 100
    with pytest.raises(LimitError) as info:
        load_text("x" * 101, settings=settings)
    err = info.value
    assert "101" in err.en and "100" in err.en and "GLYPH_MAX_PASTE_CHARS" in err.en
    assert "GLYPH_MAX_PASTE_CHARS" in err.zh and err.zh != err.en


def test_paste_default_limit_is_100k(settings):
    assert len(load_text("字" * 100_000, settings=settings).text) == 100_000
    with pytest.raises(LimitError):
        load_text("字" * 100_001, settings=settings)


def test_paste_empty(settings):
    with pytest.raises(IngestError, match="empty"):
        load_text(" \n\t\x00 ", settings=settings)


def test_path_errors(settings, tmp_path):
    with pytest.raises(IngestError, match="does not exist"):
        load(tmp_path / "missing.txt", settings=settings)
    with pytest.raises(IngestError, match="is not a file"):
        load(tmp_path, settings=settings)
    settings.max_upload_mb = 0.001
    big = write(tmp_path, "big.txt", b"a" * 5000)
    with pytest.raises(LimitError) as info:
        load(big, settings=settings)
    assert "GLYPH_MAX_UPLOAD_MB" in info.value.en and info.value.actual == 5000
    with pytest.raises(LimitError):
        load(b"a" * 5000, name="big.txt", settings=settings)


@pytest.mark.timeout(120)
def test_any_text_round_trips(settings):
    """Property: whatever the text, the document is that text with newlines normalised and
    control characters removed, and its blocks join back to it exactly."""
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings
    from hypothesis import strategies as st

    # Private-use characters and U+FFFD are excluded: many of them mark a file as binary data.
    alphabet = st.characters(exclude_categories=("Cs", "Co"), exclude_characters="\ufffd")

    @hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.text(alphabet, min_size=1, max_size=300))
    def check(text: str) -> None:
        expected = clean_text(text).rstrip()
        if not expected.strip():
            with pytest.raises(IngestError):
                load_text(text, settings=settings)
            return
        doc = load_text(text, settings=settings)
        assert doc.text == expected
        blocks = paragraph_blocks(expected)
        assert "\n".join(t for t, _ in blocks) == expected
        # and through the file path, as UTF-8 bytes with a code suffix (no re-guessing)
        data = expected.encode("utf-8")
        assert load(data, name="p.py", settings=settings).text == expected

    check()

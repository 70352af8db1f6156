"""PDF loading: reading order, word boxes, scanned pages, encryption, repair, limits, page images."""

from __future__ import annotations

import pymupdf
import pytest
from ingest_samples import (
    LEFT_PARAS,
    RIGHT_PARAS,
    ZH_SENTENCE,
    cjk_pdf,
    encrypted_pdf,
    pdf_bytes,
    scanned_pdf,
    two_column_pdf,
    write,
)

from app.errors import IngestError, LimitError
from app.ingest import PasswordRequiredError, load
from app.ingest.pdf import page_image
from app.ingest.store import find_original

pytestmark = pytest.mark.timeout(60)


def _positions(text: str, needles: list[str]) -> list[int]:
    return [text.index(n) for n in needles]


@pytest.mark.parametrize("aligned", [False, True], ids=["staggered", "aligned-gaps"])
def test_two_column_reading_order(settings, aligned):
    doc = load(two_column_pdf(aligned=aligned), name="columns.pdf", settings=settings)
    text = doc.text
    marks = (
        ["Orchards and Rivers"]
        + [f"Left paragraph {i}" for i in (1, 2, 3)]
        + [f"Right paragraph {i}" for i in (1, 2, 3)]
        + ["Closing remarks"]
    )
    pos = _positions(text, marks)
    assert pos == sorted(pos), f"reading order wrong: {list(zip(marks, pos, strict=True))}"
    # No line of the right column sneaks into the left column's text.
    left_end = text.index("Right paragraph 1")
    assert "rivers" not in text[:left_end]
    assert doc.blocks[0].kind == "heading" and doc.blocks[0].level == 1
    assert doc.language == "en"


def test_paragraph_lines_joined_and_complete(settings):
    doc = load(two_column_pdf(aligned=False), name="columns.pdf", settings=settings)
    squashed = " ".join(doc.text.split())
    for para in LEFT_PARAS + RIGHT_PARAS:
        assert " ".join(para.split()) in squashed


def test_word_boxes_match_page_positions(settings):
    data = two_column_pdf(aligned=False)
    doc = load(data, name="columns.pdf", settings=settings)
    pdf = pymupdf.open(stream=data, filetype="pdf")
    page = pdf[0]
    checked = 0
    for block in doc.blocks:
        assert block.source_page == 0 and block.bbox is not None
        non_space = block.text.replace(" ", "")
        assert "".join(w.text for w in block.words) == non_space  # words cover every character
        for word in block.words:
            assert block.text[word.start : word.end] == word.text
            x0, y0, x1, y1 = word.bbox
            bx0, by0, bx1, by1 = block.bbox
            assert bx0 - 0.01 <= x0 <= x1 <= bx1 + 0.01 and by0 - 0.01 <= y0 <= y1 <= by1 + 0.01
        # The box of a word is where MuPDF finds that word on the page.
        for word in block.words[:5]:
            if len(word.text) < 4 or not word.text.isalpha():
                continue
            hits = page.search_for(word.text)
            assert any(
                abs(h.x0 - word.bbox[0]) < 1.5 and abs(h.y1 - word.bbox[3]) < 3 for h in hits
            ), (word, hits)
            checked += 1
    assert checked >= 10


def test_cjk_pdf_characters_are_words_and_lines_join_without_spaces(settings):
    doc = load(cjk_pdf(), name="zh.pdf", settings=settings)
    assert doc.language == "zh"
    assert ZH_SENTENCE * 2 in doc.text  # wrapped lines joined with no space between them
    first = doc.blocks[0]
    assert all(len(w.text) == 1 for w in first.words)
    assert len(first.words) == len(first.text)
    assert "GPU 显存 24GB" in doc.text
    mixed = next(b for b in doc.blocks if "GPU" in b.text)
    assert [w.text for w in mixed.words] == ["GPU", "显", "存", "24GB"]


def test_scanned_pdf_marked_with_note_and_page_images(settings):
    doc = load(scanned_pdf(2), name="scan.pdf", settings=settings)
    assert [p.scanned for p in doc.pages] == [True, True]
    assert doc.text == ""
    assert doc.notes and "1–2" in doc.notes[0] and "scanned" in doc.notes[0]
    assert "扫描件" in doc.metadata["notes_zh"][0]
    assert doc.metadata["scanned_pages"] == [0, 1]
    img = page_image(doc, 1, dpi=144, settings=settings)
    assert img.size == (1190, 1684) and img.mode == "RGB"
    assert img.convert("L").getextrema()[0] < 100  # the scanned text is on the image


def test_mixed_text_and_scanned_pages(settings):
    doc = load(scanned_pdf(3, text_first=True), name="mixed.pdf", settings=settings)
    assert [p.scanned for p in doc.pages] == [False, True, True]
    assert "A real text layer." in doc.text
    assert "2–3" in doc.notes[0]


def test_encrypted_pdf_needs_password(settings):
    data = encrypted_pdf("s3cret")
    with pytest.raises(PasswordRequiredError) as info:
        load(data, name="locked.pdf", settings=settings)
    assert not info.value.wrong and "password" in info.value.en and "密码" in info.value.zh
    with pytest.raises(PasswordRequiredError) as info:
        load(data, name="locked.pdf", password="nope", settings=settings)
    assert info.value.wrong and "not correct" in info.value.en
    doc = load(data, name="locked.pdf", password="s3cret", settings=settings)
    assert "Confidential quarterly numbers: 42." in doc.text
    assert doc.metadata["encrypted"] is True
    # Page images of the stored (still encrypted) original need the password again.
    with pytest.raises(PasswordRequiredError):
        page_image(doc, 0, dpi=72, settings=settings)
    assert page_image(doc, 0, dpi=72, password="s3cret", settings=settings).size == (595, 842)


def test_damaged_pdf_repaired_with_note(settings):
    data = pdf_bytes(["First page survives.", "Second page.", "Third page."])
    damaged = data[: int(len(data) * 0.9)]  # cross-reference table and trailer lost
    doc = load(damaged, name="cut.pdf", settings=settings)
    assert "First page survives." in doc.text
    assert doc.metadata["repaired"] is True
    assert any("repaired" in n for n in doc.notes)


def test_unrepairable_pdf_clear_error(settings):
    data = pdf_bytes(["hello"])
    with pytest.raises(IngestError) as info:
        load(data[:60], name="broken.pdf", settings=settings)
    assert "damaged and could not be repaired" in info.value.en
    assert "已损坏" in info.value.zh


def test_empty_page_noted(settings):
    doc = load(pdf_bytes(["Some text here.", ""]), name="gap.pdf", settings=settings)
    assert doc.notes == ["Page(s) 2 contain no text."]
    assert [p.scanned for p in doc.pages] == [False, False]


def test_page_limit(settings):
    settings.max_pages = 2
    with pytest.raises(LimitError) as info:
        load(pdf_bytes(["a", "b", "c"]), name="long.pdf", settings=settings)
    assert "GLYPH_MAX_PAGES" in info.value.en and "GLYPH_MAX_PAGES" in info.value.zh
    assert info.value.setting == "GLYPH_MAX_PAGES" and info.value.actual == 3


def test_char_limit(settings):
    settings.max_chars = 500
    with pytest.raises(LimitError) as info:
        load(pdf_bytes(["word " * 400]), name="big.pdf", settings=settings)
    assert "GLYPH_MAX_CHARS" in info.value.en


def test_original_stored_and_found_by_hash(settings, tmp_path):
    path = write(tmp_path, "report.pdf", pdf_bytes(["Stored original."]))
    doc = load(path, settings=settings)
    assert doc.name == "report.pdf"
    stored = find_original(doc, settings)
    assert stored is not None and stored.read_bytes() == path.read_bytes()
    assert stored.parent.parent == settings.data_dir / "originals"
    # Without the recorded paths (e.g. a Document sent through a job queue) the hash finds it.
    path.unlink()
    bare = doc.model_copy(update={"metadata": {}})
    assert find_original(bare, settings) == stored
    # Loading the same bytes again reuses the same file.
    again = load(stored.read_bytes(), name="copy.pdf", settings=settings)
    assert again.metadata["original_path"] == str(stored)


def test_page_image_from_bytes_and_bounds(settings):
    data = pdf_bytes(["Page image test."])
    img = page_image(data, 0, dpi=36)
    assert img.size == (298, 421)
    with pytest.raises(IndexError):
        page_image(data, 3, dpi=72)
    with pytest.raises(ValueError):
        page_image(data, 0, dpi=5000)
    doc = load(data, name="p.pdf", settings=settings)
    for key in ("original_path", "source_path"):
        doc.metadata.pop(key, None)
    missing = doc.model_copy(update={"source_sha256": "0" * 64})
    with pytest.raises(IngestError) as info:
        page_image(missing, 0, settings=settings)
    assert "no longer available" in info.value.en

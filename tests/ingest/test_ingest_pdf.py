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
    settings.ocr_scanned_pages = 0  # marked only (tests/ingest/test_ingest_scanned.py reads them)
    doc = load(scanned_pdf(2), name="scan.pdf", settings=settings)
    assert [p.scanned for p in doc.pages] == [True, True]
    assert doc.text == ""
    assert doc.notes and "1–2" in doc.notes[0].en and "scanned" in doc.notes[0].en
    assert "扫描件" in doc.notes[0].zh
    assert doc.metadata["scanned_pages"] == [0, 1]
    img = page_image(doc, 1, dpi=144, settings=settings)
    assert img.size == (1190, 1684) and img.mode == "RGB"
    assert img.convert("L").getextrema()[0] < 100  # the scanned text is on the image


def test_mixed_text_and_scanned_pages(settings):
    doc = load(scanned_pdf(3, text_first=True), name="mixed.pdf", settings=settings)
    assert [p.scanned for p in doc.pages] == [False, True, True]
    assert "A real text layer." in doc.text
    assert "2–3" in doc.notes[0].en


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
    assert any("repaired" in n for n in map(str, doc.notes))


def test_unrepairable_pdf_clear_error(settings):
    data = pdf_bytes(["hello"])
    with pytest.raises(IngestError) as info:
        load(data[:60], name="broken.pdf", settings=settings)
    assert "damaged and could not be repaired" in info.value.en
    assert "已损坏" in info.value.zh


def test_empty_page_noted(settings):
    doc = load(pdf_bytes(["Some text here.", ""]), name="gap.pdf", settings=settings)
    assert [n.en for n in doc.notes] == ["Page(s) 2 contain no text."]
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


def _ink_box(img):
    import numpy as np

    a = np.asarray(img.convert("L"))
    ys, xs = np.where(a < 128)
    return xs.min(), ys.min(), xs.max(), ys.max()


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_word_boxes_on_rotated_and_cropped_pages(settings, rotation):
    """Boxes are where the text is on the page as displayed (and as page_image renders it)."""
    doc_in = pymupdf.open()
    page = doc_in.new_page(width=595, height=842)
    page.insert_text((172, 300), "Rotated hello world", fontsize=20)
    page.set_cropbox(pymupdf.Rect(100, 200, 500, 700))
    page.set_rotation(rotation)
    data = doc_in.tobytes()
    doc = load(data, name="rot.pdf", settings=settings)
    src = doc.pages[0]
    assert (src.width, src.height) == ((400, 500) if rotation in (0, 180) else (500, 400))
    img = page_image(data, 0, dpi=72)
    assert img.size == (round(src.width), round(src.height))
    x0, y0, x1, y1 = _ink_box(img)
    bx0, by0, bx1, by1 = doc.blocks[0].bbox
    assert bx0 - 1 <= x0 and by0 - 1 <= y0 and x1 <= bx1 + 1 and y1 <= by1 + 1
    # and the box is tight around the ink (not the whole page)
    assert (bx1 - bx0) * (by1 - by0) < 3 * (x1 - x0 + 1) * (y1 - y0 + 1)


def test_hyphenated_word_joined_with_one_box_per_line(settings):
    pdf = pymupdf.open()
    page = pdf.new_page()
    page.insert_text((72, 100), "This sentence has an infor-", fontsize=11)
    page.insert_text((72, 113), "mation word split over lines.", fontsize=11)
    doc = load(pdf.tobytes(), name="h.pdf", settings=settings)
    assert doc.text == "This sentence has an infor-mation word split over lines."
    words = {w.text: w for w in doc.blocks[0].words}
    assert "infor-" in words and "mation" in words
    assert words["mation"].bbox[1] > words["infor-"].bbox[1] + 5  # on the next line
    assert words["mation"].bbox[0] < words["infor-"].bbox[0]


def test_word_list_path_matches_character_path():
    """Latin pages use MuPDF's word list (fast); CJK pages per-character boxes. Same result."""
    from app.ingest.pdf import _text_flags
    from app.ingest.pdf_text import block_words, blocks_from_words, read_block

    pdf = pymupdf.open(stream=two_column_pdf(aligned=False), filetype="pdf")
    page = pdf[0]
    flags = _text_flags()
    fast = blocks_from_words(page.get_text("words", flags=flags, sort=False))
    raw = page.get_text("rawdict", flags=flags, sort=False)
    slow = [read_block(b) for b in raw["blocks"] if b["type"] == 0]
    slow = [b for b in slow if b.chars]
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        text_a = "".join(c for c, _ in a.chars)
        text_b = "".join(c for c, _ in b.chars)
        assert text_a == text_b
        wa = block_words(text_a, a.chars, a.line_starts)
        wb = block_words(text_b, b.chars, b.line_starts)
        assert [w.text for w in wa] == [w.text for w in wb]
        for x, y in zip(wa, wb, strict=True):
            assert all(abs(p - q) < 0.5 for p, q in zip(x.bbox, y.bbox, strict=True))


def test_threads_share_pymupdf_safely(settings):
    """The UI serves uploads from several threads; PyMuPDF calls are serialised by a lock."""
    from concurrent.futures import ThreadPoolExecutor

    data = [pdf_bytes([f"Thread document {i}. " * 50] * 3) for i in range(4)]

    def work(i: int) -> tuple[str, tuple[int, int]]:
        doc = load(data[i], name=f"t{i}.pdf", settings=settings)
        return doc.text, page_image(data[i], 1, dpi=50).size

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, [0, 1, 2, 3] * 3))
    for k, (text, size) in enumerate(results):
        assert text.startswith(f"Thread document {k % 4}.") and size == (414, 585)


def test_page_image_pixel_cap():
    pdf = pymupdf.open()
    pdf.new_page(width=3000, height=3000)  # a poster-sized page
    with pytest.raises(IngestError, match="megapixels"):
        page_image(pdf.tobytes(), 0, dpi=300)


def test_text_layer_without_unicode_map_is_read_as_images(settings):
    """Fonts without a ToUnicode map give no usable text: such pages go the scanned route
    instead of producing plausible-looking wrong characters."""
    from ingest_samples import CJK_FONT

    pdf = pymupdf.open()
    good = pdf.new_page()
    good.insert_text((72, 100), "A normal first page.", fontsize=12)
    bad = pdf.new_page()
    bad.insert_font(fontname="n", fontfile=CJK_FONT)
    bad.insert_text((72, 100), ZH_SENTENCE, fontname="n", fontsize=12)
    font_xref = bad.get_fonts()[0][0]
    pdf.xref_set_key(font_xref, "ToUnicode", "null")
    doc = load(pdf.tobytes(), name="garbled.pdf", settings=settings)
    assert doc.text.startswith("A normal first page.\n")
    assert ZH_SENTENCE[:6] in doc.text  # the page as drawn, read by OCR
    assert [p.scanned for p in doc.pages] == [False, True]
    assert [n.en for n in doc.notes] == [
        "The text layer of page(s) 2 cannot be decoded (fonts without a Unicode map); "
        "their text was read from the page images by OCR."
    ]
    assert doc.metadata["scanned_pages"] == [1]


def test_scan_dpi_fits_the_largest_pdf_page():
    """#21: a 14400 x 14400 pt scanned page (PDF's largest) was asked for at 72 dpi, 207
    megapixels, which page_image refuses; it is drawn smaller instead."""
    from app.datamodel import SourcePage
    from app.ingest.pdf import _scan_dpi

    assert _scan_dpi(SourcePage(index=0, width=595, height=842)) == 200
    dpi = _scan_dpi(SourcePage(index=0, width=14400, height=14400))
    assert 18 <= dpi < 72
    pdf = pymupdf.open()
    pdf.new_page(width=14400, height=14400)
    image = page_image(pdf.tobytes(), 0, dpi)
    assert image.width == image.height and image.width <= 14400 * dpi / 72 + 1

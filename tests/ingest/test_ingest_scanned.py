"""Scanned PDF pages are read by OCR at upload: their text, in reading order, with word boxes on
the scan, so every reader and the evidence on the original page work as for a text PDF."""

from __future__ import annotations

import pymupdf
import pytest
from ingest_samples import SCAN_EN, SCAN_ZH, pdf_bytes, scanned_text_pdf
from rapidfuzz.distance import Levenshtein

from app.ingest import load


def _cer(got: str, want: str) -> float:
    return Levenshtein.distance(got, want) / max(1, len(want))


def test_scanned_page_text_and_word_boxes(settings):
    scan, source = scanned_text_pdf([SCAN_EN])
    doc = load(scan, name="depot-scan.pdf", settings=settings)
    assert [p.scanned for p in doc.pages] == [True]
    assert _cer(doc.text, "\n".join(SCAN_EN)) < 0.02
    assert [b.text.split()[0] for b in doc.blocks] == ["Quarterly", "The", "The"]  # paragraphs
    assert doc.metadata["ocr_pages"] == [0]
    assert [n.en for n in doc.notes] == [
        "Page(s) 1 have no text layer (scanned); their text was read by OCR and may contain "
        "reading errors: check answers against the page image."
    ]
    assert "OCR" in doc.notes[0].zh
    # each word's box lies on the word as printed (PDF points on the original page)
    printed = pymupdf.open(stream=source, filetype="pdf")[0]
    checked = 0
    for block in doc.blocks:
        assert block.source_page == 0 and block.bbox is not None
        for word in block.words:
            if word.text not in ("pump", "Hansen", "corrosion", "18,400"):
                continue
            truth = printed.search_for(word.text)[0]
            x0, y0, x1, y1 = word.bbox
            assert abs(x0 - truth.x0) < 4 and abs(x1 - truth.x1) < 4, (word, truth)
            assert y0 - 6 < truth.y0 and truth.y1 < y1 + 6 and y1 - y0 < 3 * truth.height
            checked += 1
    assert checked == 4


def test_scanned_chinese_page(settings):
    scan, _ = scanned_text_pdf([SCAN_ZH], cjk=True)
    doc = load(scan, name="扫描件.pdf", settings=settings)
    assert _cer(doc.text, "\n".join(SCAN_ZH)) < 0.05
    assert doc.language == "zh"
    block = next(b for b in doc.blocks if "锈" in b.text)
    assert all(len(w.text) == 1 for w in block.words if "\u4e00" <= w.text[0] <= "\u9fff")


def test_scans_between_text_pages_keep_the_page_order(settings):
    scan, _ = scanned_text_pdf([SCAN_EN])
    merged = pymupdf.open(stream=pdf_bytes(["Cover page of the depot file."]), filetype="pdf")
    merged.insert_pdf(pymupdf.open(stream=scan, filetype="pdf"))
    merged.insert_pdf(pymupdf.open(stream=pdf_bytes(["Closing remarks page."]), filetype="pdf"))
    doc = load(merged.tobytes(), name="mixed.pdf", settings=settings)
    assert [p.scanned for p in doc.pages] == [False, True, False]
    assert [b.source_page for b in doc.blocks] == [0, 1, 1, 1, 2]
    assert doc.text.index("Cover") < doc.text.index("Hansen") < doc.text.index("Closing")


@pytest.mark.parametrize("budget", [0, 1])
def test_at_most_glyph_ocr_scanned_pages_are_read(settings, budget):
    scan, _ = scanned_text_pdf([SCAN_EN[:1], SCAN_EN[1:]])
    settings.ocr_scanned_pages = budget
    doc = load(scan, name="scan.pdf", settings=settings)
    assert doc.metadata["scanned_pages"] == [0, 1]
    assert doc.metadata["ocr_pages"] == list(range(budget))
    skipped = "1–2" if budget == 0 else "2"
    assert doc.notes[-1].en == (
        f"Page(s) {skipped} are scanned and were not read: at most {budget} scanned pages are "
        "read by OCR per file (GLYPH_OCR_SCANNED_PAGES)."
    )
    assert ("Quarterly" in doc.text) is (budget == 1)
    assert "Hansen" not in doc.text


def test_a_blank_scan_says_nothing_was_read(settings):
    pdf = pymupdf.open()
    page = pdf.new_page(width=595, height=842)
    pix = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, 400, 560), False)
    pix.clear_with(255)
    page.insert_image(page.rect, pixmap=pix)
    doc = load(pdf.tobytes(), name="blank-scan.pdf", settings=settings)
    assert doc.text == "" and doc.metadata["ocr_pages"] == []
    assert [n.en for n in doc.notes] == ["No text could be read from the image(s) of page(s) 1."]


def test_scanned_pdf_question_and_evidence_on_the_scan(settings, tmp_path):
    """Upload a scan, ask with the built-in reader: the answer, and red boxes on the scan."""
    import numpy as np

    from app.evidence import annotate_source_pages
    from app.pipeline import Pipeline

    scan, source = scanned_text_pdf([SCAN_EN])
    path = tmp_path / "depot-scan.pdf"
    path.write_bytes(scan)
    pipeline = Pipeline(settings)
    try:
        doc = pipeline.open_document(path)
        answer = pipeline.ask_once(pipeline.render(doc), "How much are the repair costs?", "qa")
    finally:
        pipeline.close()
    assert "18,400" in answer.text
    ev = next(e for e in answer.evidence if e.source_boxes)
    assert ev.source_page == 0
    truth = pymupdf.open(stream=source, filetype="pdf")[0].search_for("18,400")[0]
    assert any(b[0] - 4 < truth.x0 and truth.x1 < b[2] + 4 for b in ev.source_boxes)
    image = np.asarray(annotate_source_pages(path, answer.evidence, dpi=72)[0])
    red = (image[..., 0] > 200) & (image[..., 1] < 60) & (image[..., 2] < 60)
    assert red.any()


def test_an_encrypted_scan_is_read_with_its_password(settings):
    scan, _ = scanned_text_pdf([SCAN_EN[:2]])
    locked = pymupdf.open(stream=scan, filetype="pdf").tobytes(
        encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw", owner_pw="owner"
    )
    doc = load(locked, name="locked-scan.pdf", password="pw", settings=settings)
    assert "Hansen Hydraulics" in doc.text and doc.metadata["ocr_pages"] == [0]

"""Evidence on the user's own PDF pages: word boxes from ingest → red boxes on the original."""

import numpy as np
import pytest

from app.datamodel import Answer
from app.evidence import annotate_source_pages, attach, save_annotated_sources
from tests.helpers.fake_render import fake_render

pymupdf = pytest.importorskip("pymupdf")


def _pdf(path):
    pdf = pymupdf.open()
    pdf.new_page(width=595, height=842).insert_text((72, 100), "Introduction to the report.")
    page = pdf.new_page(width=595, height=842)
    page.insert_text((72, 200), "Total amount due: 420 EUR by 1 June.", fontsize=12)
    pdf.save(path)
    return path


def test_answer_boxes_land_on_the_original_pdf_page(tmp_path, settings):
    from app.ingest import load

    doc = load(_pdf(tmp_path / "inv.pdf"), settings=settings)
    rendered = fake_render(doc)
    answer = attach(rendered, Answer(text="420 EUR", confidence=0.9))
    ev = next(e for e in answer.evidence if e.source_boxes)
    assert ev.source_page == 1
    (x0, y0, x1, y1) = ev.source_boxes[0]
    assert 150 < x0 < x1 < 320 and 185 < y0 < y1 < 205  # where "420 EUR" was written
    images = annotate_source_pages(tmp_path / "inv.pdf", answer.evidence, dpi=72)
    arr = np.asarray(images[1])
    red = (arr[..., 0] > 200) & (arr[..., 1] < 60) & (arr[..., 2] < 60)
    ys, xs = np.nonzero(red)
    assert red.any() and xs.min() >= x0 - 5 and xs.max() <= x1 + 5 and ys.min() >= y0 - 5
    paths = save_annotated_sources(tmp_path / "inv.pdf", answer.evidence, tmp_path / "out")
    assert paths[1].name == "evidence-original-page002.png" and ev.source_image_path == str(
        paths[1]
    )
    assert annotate_source_pages(tmp_path / "inv.pdf", []) == {}

"""Long documents: the pages that match the question are read first; the answer still comes from
their pixels, and the rest of the document is read in the background for follow-ups."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.pipeline import Pipeline
from app.render import render, resolve_config

FILLER = (
    "The harbour office keeps records of every vessel, its cargo and its berth. "
    "Inspections follow the schedule agreed with the port authority each spring. "
)


def _document() -> str:
    parts = []
    for page in range(4):
        parts.append(f"Chapter {page + 1}. " + FILLER * 9)
        if page == 2:
            parts.append("The special magic number for Valparaiso is 4417093.")
    return "\n".join(parts)


@pytest.fixture
def long_doc():
    text = _document()
    rendered = render(text, resolve_config("en", page_size=(595, 180)))
    assert len(rendered.pages) >= 4
    return rendered


@pytest.mark.parametrize("first", [1, pytest.param(0, marks=pytest.mark.slow)])
def test_best_pages_first_then_the_rest_in_background(tmp_path, long_doc, first):
    from app.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path, ocr_first_pages=first, ocr_first_lines=0)
    pipeline = Pipeline(settings)
    reader = pipeline.reader("ocr").reader
    question = "What is the special magic number for Valparaiso?"
    answer = pipeline.ask_once(long_doc, question, reader="ocr")
    assert answer.text == "4417093"
    needle = long_doc.text.index("4417093")
    needle_page = long_doc.layout.char_box(needle)[0]
    assert answer.evidence and answer.evidence[0].page == needle_page
    if first:
        assert answer.pages_read == [needle_page]
        assert any("first" in note for note in map(str, answer.notes))
        reader.background.join(timeout=300)
        follow = pipeline.ask_once(long_doc, "Which chapter comes first?", reader="ocr")
        assert follow.pages_read == list(range(len(long_doc.pages)))  # whole document now read
    else:
        assert answer.pages_read == list(range(len(long_doc.pages)))
        assert reader.background is None
    pipeline.close()


def test_the_matching_lines_are_read_before_whole_pages(tmp_path, long_doc, monkeypatch):
    """Only strips of the page image around the lines that match the question are OCR'd for the
    first answer (the layout map says where they were drawn); the words still come from pixels."""
    from app.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path, ocr_first_lines=1, ocr_first_pages=0)
    pipeline = Pipeline(settings)
    reader = pipeline.reader("ocr").reader
    seen: list[int] = []  # rows of each image read that hold anything (the rest is white)
    real_read = reader.engine.read

    def spy(image, language="auto", pause=None):
        if threading.current_thread() is threading.main_thread():  # the question's own reads,
            inked = np.asarray(image.convert("L")).min(axis=1) < 250  # not the background's
            seen.append(int(inked.sum()))
        return real_read(image, language, pause)

    monkeypatch.setattr(reader.engine, "read", spy)  # the engine is shared: this test only
    answer = pipeline.ask_once(
        long_doc, "What is the special magic number for Valparaiso?", reader="ocr"
    )
    assert answer.text == "4417093"
    needle_page = long_doc.layout.char_box(long_doc.text.index("4417093"))[0]
    assert answer.pages_read == [needle_page] and answer.evidence[0].page == needle_page
    assert any("lines that match the question" in str(n) for n in answer.notes)
    page_height = long_doc.pages[0].image.height
    assert len(seen) == 1 and seen[0] < page_height / 2  # strips, much less than a page
    reader.background.join(timeout=300)
    pipeline.close()

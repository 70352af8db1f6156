"""Long documents: the pages that match the question are read first; the answer still comes from
their pixels, and the rest of the document is read in the background for follow-ups."""

from __future__ import annotations

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


@pytest.mark.parametrize("first", [1, 0])
def test_best_pages_first_then_the_rest_in_background(tmp_path, long_doc, first):
    from app.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path, ocr_first_pages=first)
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
        assert any("first" in note for note in answer.notes)
        reader.background.join(timeout=300)
        follow = pipeline.ask_once(long_doc, "Which chapter comes first?", reader="ocr")
        assert follow.pages_read == list(range(len(long_doc.pages)))  # whole document now read
    else:
        assert answer.pages_read == list(range(len(long_doc.pages)))
        assert reader.background is None
    pipeline.close()

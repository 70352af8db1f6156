"""One answer record for every output (``ask --json``, UI downloads, job and batch results) with
one page-numbering rule: ``page`` 0-based for code, ``page_number`` 1-based for people."""

from __future__ import annotations

import json

from app.datamodel import Answer, Evidence, Mode, Note, Span
from app.report import SCHEMA, answer_json, answer_markdown, answer_record
from tests.helpers.fake_render import fake_render


def _answer() -> Answer:
    span = Span(start=0, end=5, text="Total")
    evidence = [
        Evidence(
            page=2, boxes=[(1, 2, 3, 4)], span=span, source_page=6, source_boxes=[(5, 6, 7, 8)]
        )
    ]
    return Answer(
        text="42",
        mode=Mode.QA,
        reader="ocr",
        confidence=0.5,
        needs_review=True,
        pages_read=[2, 3],
        fine_pages=[2],
        evidence=evidence,
        notes=[Note(en="Read by OCR.", zh="由 OCR 读取。")],
    )


def test_pages_are_named_both_ways():
    record = answer_record(_answer(), "What?", fake_render("Total 42"), file="a.pdf")
    (ev,) = record["evidence"]
    assert (ev["page"], ev["page_number"]) == (2, 3)
    assert (ev["source_page"], ev["source_page_number"]) == (6, 7)
    assert record["pages_read"] == [2, 3] and record["page_numbers_read"] == [3, 4]
    assert record["fine_pages"] == [2] and record["fine_page_numbers"] == [3]
    assert record["schema"] == SCHEMA and record["file"] == "a.pdf" and record["found"] is True
    assert record["notes"] == [{"en": "Read by OCR.", "zh": "由 OCR 读取。"}]
    assert record["review"] and record["document"]["pages"] >= 1


def test_json_and_markdown_come_from_the_record():
    answer = _answer()
    assert json.loads(answer_json(answer, "What?")) == answer_record(answer, "What?")
    markdown = answer_markdown(answer, "What?")
    assert "page 3 (original page 7)" in markdown  # the numbers people read


def test_a_not_found_answer_names_its_closest_passage_apart_from_evidence():
    """The closest passage of a "not found" answer is where to look, never evidence: its own
    list in the record and its own heading in the report."""
    span = Span(start=0, end=5, text="Total")
    pointer = Evidence(page=1, boxes=[(1, 2, 3, 4)], span=span, confidence=0.0, closest=True)
    answer = Answer(
        text="Not found in the document.", found=False, closest=[span], closest_evidence=[pointer]
    )
    record = answer_record(answer, "What?")
    assert record["evidence"] == [] and record["found"] is False
    (place,) = record["closest"]
    assert place["page_number"] == 2 and place["text"] == "Total" and place["confidence"] == 0
    markdown = answer_markdown(answer, "What?")
    assert "## Evidence" not in markdown
    assert "## Closest passage, not an answer / 最接近的段落（并非答案）" in markdown
    assert "- page 2: “Total”" in markdown
    assert answer_record(_answer(), "What?")["closest"] == []


def test_every_writer_uses_the_one_record():
    """The CLI, the job runner and the UI import the record instead of building their own."""
    import inspect

    import app.commands.ask
    import app.jobs.answering
    import app.ui.manager

    for module in (app.commands.ask, app.jobs.answering, app.ui.manager):
        source = inspect.getsource(module)
        assert "from app.report import" in source, module.__name__
        assert '"page_number"' not in source  # no second shape of the evidence

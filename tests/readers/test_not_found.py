"""A reader that says the document does not answer sets ``Answer.found`` False; the evidence
step then draws no box and flags the answer — for every reader, with or without coarse-to-fine
reading, in English and Chinese (before, "Not found in the document." got a box on an unrelated
sentence and no review flag when coarse-to-fine was on)."""

from __future__ import annotations

import pytest

from app.datamodel import Answer
from app.evidence import attach
from app.pipeline import Pipeline
from app.readers.base import NOT_FOUND, says_not_found
from tests.helpers.fake_render import fake_render
from tests.helpers.openai_server import FakeServer

DOC = "\n".join(
    f"Section {i}. The parcel service ships from Berlin on weekdays; the not found desk is "
    f"open until {8 + i % 9} pm."
    for i in range(120)
)


@pytest.fixture
def server():
    s = FakeServer()
    yield s
    s.close()


@pytest.mark.parametrize("coarse_to_fine", [True, False])
@pytest.mark.parametrize(
    "reply", [NOT_FOUND["en"], NOT_FOUND["zh"], "The document does not mention a fee.", "未找到。"]
)
def test_a_model_saying_not_found_gets_no_box_and_the_review_flag(
    settings, server, reply, coarse_to_fine
):
    server.say(reply)
    pipeline = Pipeline(
        settings.model_copy(
            update={"reader": "openai", "openai_base_url": server.url, "openai_api_key": "k"}
        )
    )
    rendered = pipeline.render(DOC, "coarse")
    answer = pipeline.ask_once(rendered, "What is the parcel fee?", coarse_to_fine=coarse_to_fine)
    assert answer.text == reply and answer.found is False
    assert answer.evidence == [] and answer.spans == [] and answer.needs_review
    pipeline.close()


def test_an_answer_is_still_boxed(settings, server):
    server.say("It ships from Berlin on weekdays.")
    pipeline = Pipeline(
        settings.model_copy(
            update={"reader": "openai", "openai_base_url": server.url, "openai_api_key": "k"}
        )
    )
    rendered = pipeline.render(DOC, "coarse")
    answer = pipeline.ask_once(rendered, "Where does it ship from?", coarse_to_fine=True)
    assert answer.found and answer.evidence and "Berlin" in answer.evidence[0].span.text
    pipeline.close()


def test_says_not_found_reads_the_start_of_the_answer_only():
    for text in (
        "Not found in the document.",
        "  not found",
        "No answer.",
        "文档中未找到答案。",
        "",
    ):
        assert says_not_found(text), text
    for text in ("The 'not found' desk closes at 5 pm.", "Berlin", "文件未找到时返回 404。"):
        assert not says_not_found(text), text


def test_the_evidence_step_reads_the_field_not_the_words():
    rendered = fake_render(DOC)
    flagged = attach(rendered, Answer(text="Open until 9 pm.", found=False))
    assert flagged.evidence == [] and flagged.needs_review and not flagged.found

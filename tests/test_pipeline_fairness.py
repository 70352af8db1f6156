"""Issue #21: one question on a long document must not hold the reader for everyone.

A question reads within its budget and then answers from the pages read so far (the rest is
read in the background); a question waiting for the reader makes a long one give way; a stopped
question frees the reader at once; queued jobs wait for questions from the UI."""

from __future__ import annotations

import threading
import time

import pytest

from app.datamodel import Mode
from app.pipeline import STOPPED, Pipeline
from app.render import render, resolve_config
from app.settings import Settings
from tests.helpers.long_text import NOTE, long_text

UNANSWERABLE = "What is the phone number of the harbour master?"
PHONE = "What is the porter's phone number?"


@pytest.fixture(scope="module")
def long_doc():
    rendered = render(long_text(50_000), resolve_config("en"))
    assert len(rendered.pages) >= 5  # reading every page takes well over the budget here
    return rendered


@pytest.fixture
def pipeline(tmp_path):
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        reader="ocr",
        question_budget_s=3.0,
        question_yield_s=1.0,
    )
    pipeline = Pipeline(settings)
    yield pipeline
    pipeline.close()


def test_a_short_question_is_answered_while_a_long_one_reads(pipeline, long_doc):
    note = pipeline.render(pipeline.open_text(NOTE))
    pipeline.ask_once(note, "Who is the porter?")  # load the engine first: timings below are reads
    results: dict[str, object] = {}

    def ask_a() -> None:
        started = time.monotonic()
        results["a"] = pipeline.ask_once(long_doc, UNANSWERABLE, bounded=True)
        results["a_s"] = time.monotonic() - started

    a = threading.Thread(target=ask_a)
    a.start()
    time.sleep(1.0)  # A holds the reader now
    started = time.monotonic()
    b = pipeline.ask_once(note, PHONE, bounded=True)
    b_s = time.monotonic() - started
    a.join(timeout=60)
    assert "7946 0321" in b.text and b_s < 20, b_s
    answer_a = results["a"]
    assert results["a_s"] < 3.0 + 15, results["a_s"]  # its budget, plus a page or two
    assert not answer_a.found and answer_a.needs_review
    total = len(long_doc.pages)
    assert f"of {total})" in answer_a.text and "background" in answer_a.text
    assert len(answer_a.pages_read) < total


def test_the_budget_note_in_the_questions_language(pipeline, long_doc):
    zh = pipeline.ask_once(long_doc, "港务长的电话号码是多少？", bounded=True)
    total = len(long_doc.pages)
    assert (
        not zh.found
        and zh.text.startswith("在已读的")
        and f"/{total} 张页面图像中未找到" in zh.text
    )
    assert zh.notes[-1].en.startswith("Not found in the page images read so far")
    assert zh.notes[-1].zh == zh.text


@pytest.mark.slow
def test_a_follow_up_after_the_background_read_answers_from_the_whole_document(tmp_path):
    text = long_text(15_000) + "\n\nThe special magic number for Valparaiso is 4417093.\n"
    rendered = render(text, resolve_config("en"))
    settings = Settings(_env_file=None, data_dir=tmp_path, reader="ocr", question_budget_s=0.5,
                        ocr_first_lines=0, ocr_first_pages=0)  # fmt: skip
    pipeline = Pipeline(settings)
    try:
        first = pipeline.ask_once(rendered, "Which licence is this?", bounded=True)
        assert len(first.pages_read) < len(rendered.pages) and first.needs_review
        reader = pipeline.reader().reader
        reader.background.join(timeout=120)
        follow = pipeline.ask_once(
            rendered, "What is the special magic number for Valparaiso?", bounded=True
        )
        assert follow.pages_read == list(range(len(rendered.pages)))
        assert follow.text == "4417093" and follow.found
    finally:
        pipeline.close()


@pytest.mark.slow
def test_scripts_and_the_cli_are_not_cut_short(tmp_path):
    """No one else shares their process, and a background read would end with it."""
    rendered = render(long_text(15_000), resolve_config("en"))
    settings = Settings(_env_file=None, data_dir=tmp_path, reader="ocr", question_budget_s=0.5,
                        ocr_first_lines=0, ocr_first_pages=0)  # fmt: skip
    pipeline = Pipeline(settings)
    try:
        whole = pipeline.ask_once(rendered, "Which ferry leaves the harbour at midnight?")
        assert whole.pages_read == list(range(len(rendered.pages))) and len(whole.pages_read) > 1
        assert "read so far" not in whole.text
    finally:
        pipeline.close()


def test_a_stopped_question_frees_the_reader_at_once(pipeline, long_doc):
    note = pipeline.render(pipeline.open_text(NOTE))
    pipeline.settings.question_budget_s = 300.0
    cancel = threading.Event()
    chunks = pipeline.ask(long_doc, UNANSWERABLE, cancel=cancel)
    engine = pipeline.reader().reader.engine
    first = next(chunks)
    assert first.kind == "status" and pipeline.reader_lock.locked()
    stopped_at = time.monotonic()
    cancel.set()
    rest = list(chunks)
    assert rest[-1].note == STOPPED and all(c.kind == "status" for c in rest)
    assert time.monotonic() - stopped_at < 15  # the page in progress, no more
    assert not pipeline.reader_lock.locked()
    started = time.monotonic()
    assert "7946 0321" in pipeline.ask_once(note, PHONE, bounded=True).text
    assert time.monotonic() - started < 15
    assert engine is pipeline.reader().reader.engine


def test_a_waiting_question_goes_before_a_queued_job(pipeline):
    lock = pipeline.reader_lock
    order: list[str] = []
    assert lock.acquire()
    with lock.queued(interactive=True):
        job = threading.Thread(
            target=lambda: (lock.acquire(interactive=False), order.append("job"), lock.release())
        )
        job.start()
        lock.release()
        time.sleep(0.2)
        assert order == []  # the job waits while a question waits
        assert lock.acquire(timeout=2)
        order.append("question")
    lock.release()
    job.join(timeout=5)
    assert order == ["question", "job"]


@pytest.mark.slow
def test_a_job_lends_the_reader_to_a_waiting_question(pipeline):
    from app.readers.control import foreground

    long_doc = render(long_text(20_000), resolve_config("en"))
    assert len(long_doc.pages) >= 2
    note = pipeline.render(pipeline.open_text(NOTE))
    pipeline.ask_once(note, "Who is the porter?")
    done: dict[str, float] = {}

    def job() -> None:  # a queued job: no budget, read to the end
        chunks = pipeline.ask(long_doc, UNANSWERABLE, Mode.QA, stream=False, interactive=False)
        answer = [c for c in chunks if c.kind == "final"][-1].answer
        done["job"] = time.monotonic()
        done["pages"] = len(answer.pages_read)

    thread = threading.Thread(target=job)
    thread.start()
    time.sleep(1.5)
    started = time.monotonic()
    assert "7946 0321" in pipeline.ask_once(note, PHONE, bounded=True).text
    assert time.monotonic() - started < 20
    assert "job" not in done  # answered while the job was still reading
    thread.join(timeout=300)
    assert done["pages"] == len(long_doc.pages) and not foreground.active


def test_the_note_says_when_the_background_read_should_be_done():
    from app.readers.ocr.reader import _so_far_notes

    missing, partial = _so_far_notes(1, 175, 6.0)  # 174 pages left at 6 s each: 17 minutes
    assert "(1 of 175)" in missing.en and "ask again in about 17 minutes" in missing.en
    assert "约 17 分钟后" in missing.zh and "约 17 分钟后" in partial.zh
    assert "in about a minute" in _so_far_notes(4, 6, 6.0)[0].en  # never "0 minutes"
    assert "about 3 minutes" in _so_far_notes(70, 100, None)[1].en  # before any page was timed


@pytest.mark.slow  # 20 s of page OCR; bench/server_memory.py measures reading ahead too
def test_reading_ahead_on_open_stops_at_prefetch_pages(tmp_path):
    rendered = render(long_text(20_000), resolve_config("en"))
    assert len(rendered.pages) >= 3
    settings = Settings(_env_file=None, data_dir=tmp_path, reader="ocr", prefetch_pages=1)
    pipeline = Pipeline(settings)
    try:
        reader = pipeline.reader().reader
        pipeline.prefetch(rendered)
        reader.background.join(timeout=120)
        key = reader._doc_key(rendered)
        assert len(reader._partial[key]) == 1 and not reader._is_read(rendered)
        answer = pipeline.ask_once(rendered, "Which ferry leaves the harbour at midnight?")
        assert answer.pages_read == list(range(len(rendered.pages)))  # the rest read when asked
        settings.prefetch_pages = 0
        other = render(long_text(25_000)[20_000:], resolve_config("en"))
        before = reader.background
        pipeline.prefetch(other)  # 0: nothing is read ahead
        assert reader.background is before and reader._doc_key(other) not in reader._partial
    finally:
        pipeline.close()

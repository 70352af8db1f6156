"""The façade owns the cross-stage decisions: the reader (loaded once, a fallback re-tried only
between questions, under the lock), one question at a time, one coarse-to-fine wrapper per
reader, the default question of each mode, background reading."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from app.datamodel import Answer, AnswerChunk, Mode, Note
from app.pipeline import DEFAULT_QUESTIONS, WAITING, Pipeline, question_for
from app.readers import ReaderChoice
from app.readers.base import Reader, ReaderCapabilities

TEXT = "Shipping note. The parcel weighs 12 kg and ships on 3 May 2025 to Anna Berg. " * 40


class FakeReader(Reader):
    name = "fake"

    def __init__(self, log: list[str], gate: threading.Event | None = None) -> None:
        self.log, self.gate = log, gate
        self.closed = False
        self.prefetched: list[bool] = []

    @property
    def capabilities(self) -> ReaderCapabilities:
        return ReaderCapabilities(description="fake")

    def answer(self, rendered, question, mode=Mode.QA, *, stream=True) -> Iterator[AnswerChunk]:
        self.log.append(f"answer:{question}")
        yield AnswerChunk(kind="status", text="reading")
        if self.gate is not None:
            self.gate.wait(10)
        yield AnswerChunk(kind="final", answer=Answer(text="12 kg", mode=mode, reader=self.name))

    def prefetch(self, rendered, *, if_idle: bool = False, limit: int | None = None) -> None:
        self.prefetched.append(if_idle)

    def close(self) -> None:
        self.closed = True
        self.log.append("close")


@pytest.fixture
def fallback(settings, monkeypatch):
    """resolve_reader: the first call falls back (with a note), later ones are clean."""
    log: list[str] = []
    readers: list[FakeReader] = []

    def fake_resolve(_settings, key):
        log.append(f"resolve:{key}")
        reader = FakeReader(log)
        readers.append(reader)
        notes = (
            [Note(en="vlm: not ready — falling back", zh="vlm：未就绪")]
            if len(readers) == 1
            else []
        )
        return ReaderChoice(reader, key, notes)

    monkeypatch.setattr("app.pipeline.resolve_reader", fake_resolve)
    return Pipeline(settings), log, readers


def test_reader_is_loaded_once_and_never_swapped_outside_a_question(fallback, monkeypatch):
    pipeline, log, readers = fallback
    first = pipeline.reader("auto")
    monkeypatch.setattr(Pipeline, "RETRY_FALLBACK_S", 0.0)
    # status calls and prefetches (the UI makes them all the time) never re-resolve
    assert pipeline.reader("auto") is first and pipeline.reader("auto") is first
    pipeline.prefetch(pipeline.render(TEXT), reader="auto")
    assert log == ["resolve:auto"] and not readers[0].closed


def test_a_fallback_is_retried_at_the_next_question_under_the_lock(fallback, monkeypatch):
    pipeline, log, readers = fallback
    rendered = pipeline.render(TEXT)
    pipeline.reader("auto")
    monkeypatch.setattr(Pipeline, "RETRY_FALLBACK_S", 0.0)
    answer = pipeline.ask_once(rendered, "How heavy?", reader="auto", coarse_to_fine=False)
    assert log[:3] == ["resolve:auto", "close", "resolve:auto"]
    assert readers[0].closed and not readers[1].closed
    assert answer.text == "12 kg" and not answer.notes  # the clean reader answered
    assert pipeline.reader("auto").reader is readers[1]


def test_a_request_in_flight_keeps_its_reader(fallback, monkeypatch):
    """A fallen-back reader is not closed under a question that is being answered."""
    pipeline, log, _ = fallback
    rendered = pipeline.render(TEXT)
    gate = threading.Event()
    readers_first = pipeline.reader("auto")
    readers_first.reader.gate = gate
    monkeypatch.setattr(Pipeline, "RETRY_FALLBACK_S", 3600.0)
    stream = pipeline.ask(rendered, "How heavy?", reader="auto", coarse_to_fine=False)
    chunks = [next(stream), next(stream)]  # the fallback note, then the reader's status
    assert [c.kind for c in chunks] == ["status", "status"] and chunks[0].note.zh == "vlm：未就绪"
    monkeypatch.setattr(Pipeline, "RETRY_FALLBACK_S", 0.0)
    for _ in range(3):  # the UI's status line and prefetch while the reader works
        assert pipeline.reader("auto") is readers_first
        pipeline.prefetch(rendered, reader="auto")
    assert not readers_first.reader.closed
    gate.set()
    rest = list(stream)
    assert rest[-1].answer.text == "12 kg"
    assert "close" not in log and pipeline.reader_lock.acquire(blocking=False)
    pipeline.reader_lock.release()


def test_one_question_at_a_time_and_the_wait_is_said(settings, monkeypatch):
    log: list[str] = []
    gate = threading.Event()
    reader = FakeReader(log, gate)
    monkeypatch.setattr("app.pipeline.resolve_reader", lambda _s, key: ReaderChoice(reader, key))
    pipeline = Pipeline(settings)
    rendered = pipeline.render(TEXT)
    first = pipeline.ask(rendered, "one", coarse_to_fine=False)
    assert next(first).text == "reading"  # holds the lock now
    second = pipeline.ask(rendered, "two", coarse_to_fine=False)
    waiting = next(second)
    assert waiting.kind == "status" and waiting.note == WAITING and WAITING.zh
    done: list[AnswerChunk] = []
    thread = threading.Thread(target=lambda: done.extend(second))
    thread.start()
    thread.join(0.3)
    assert thread.is_alive() and log == ["answer:one"]  # the second waits for the first
    gate.set()
    assert list(first)[-1].kind == "final"
    thread.join(10)
    assert log == ["answer:one", "answer:two"] and done[-1].kind == "final"


def test_prefetch_goes_to_the_reader_base_class_no_op_for_others(settings, monkeypatch):
    reader = FakeReader([])
    monkeypatch.setattr("app.pipeline.resolve_reader", lambda _s, key: ReaderChoice(reader, key))
    pipeline = Pipeline(settings)
    pipeline.prefetch(pipeline.render(TEXT))
    assert reader.prefetched == [True]  # only when the reader is idle
    assert Reader.prefetch(reader, pipeline.render(TEXT)) is None  # base class: nothing to do


def test_one_coarse_to_fine_wrapper_per_reader_and_its_cache_hits(settings, monkeypatch):
    import app.readers.coarse_to_fine as c2f

    log: list[str] = []
    reader = FakeReader(log)
    monkeypatch.setattr("app.pipeline.resolve_reader", lambda _s, key: ReaderChoice(reader, key))
    built: list[tuple[int, ...]] = []
    real_build = c2f.build_view

    def counting_build(coarse, pages, fine=c2f.FINE_PRESET):
        built.append(tuple(pages))
        return real_build(coarse, pages, fine)

    monkeypatch.setattr(c2f, "build_view", counting_build)
    pipeline = Pipeline(settings)
    rendered = pipeline.render(TEXT * 3, "coarse")
    first = pipeline.ask_once(rendered, "How much does the parcel weigh?", coarse_to_fine=True)
    again = pipeline.ask_once(rendered, "How much does the parcel weigh?", coarse_to_fine=True)
    assert first.fine_pages and again.fine_pages == first.fine_pages
    assert len(built) == 1  # the follow-up used the wrapper's cached fine view


def test_default_question_per_mode_is_written_once():
    assert question_for(Mode.SUMMARY, "  ") == DEFAULT_QUESTIONS[Mode.SUMMARY]
    assert question_for(Mode.EXTRACT, None) == DEFAULT_QUESTIONS[Mode.EXTRACT]
    assert question_for(Mode.QA, " Who? ") == "Who?"
    assert question_for("summary", "In two sentences.") == "In two sentences."

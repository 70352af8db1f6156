"""A question on a document not read yet: the best-matching lines are read first, each line read
is kept (a later question does not read it again), and the background read of the rest gives way
to questions between small steps, starting with the documents an answer cited."""

from __future__ import annotations

import threading
import time

import pytest

from app.datamodel import Document
from app.ingest.collection import merge_documents
from app.pipeline import Pipeline
from app.readers.ocr import reader as ocr_reader
from app.render import render, resolve_config
from app.settings import Settings

FILLER = (
    "The harbour office keeps records of every vessel, its cargo and its berth. "
    "Inspections follow the schedule agreed with the port authority each spring. "
)
QUESTION = "What is the special magic number for Valparaiso?"


@pytest.fixture
def long_doc():
    parts = []
    for page in range(4):  # "number" on other lines too: more candidates than the first round
        parts.append(f"Chapter {page + 1}. " + FILLER * 4 + f"Berth number {page + 7} is kept "
                     "free for inspections. " + FILLER * 5)  # fmt: skip
        if page == 2:
            parts.append("The special magic number for Valparaiso is 4417093.")
    rendered = render("\n".join(parts), resolve_config("en", page_size=(595, 180)))
    assert len(rendered.pages) >= 4
    return rendered


def _settings(tmp_path, **kw) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, ocr_first_pages=0, **kw)


def _row_keys(reader, rendered, rows) -> list[str]:
    return [
        ocr_reader._row_key(rendered.pages[page].sha256, top, bottom)
        for page, spans in rows.items()
        for top, bottom in spans
    ]


def _cached(reader, key: str) -> bool:
    return reader.cache.get(reader.engine_name, reader.engine.version, key) is not None


def test_the_best_lines_answer_first_and_the_other_candidates_stay_unread(tmp_path, long_doc):
    pipeline = Pipeline(_settings(tmp_path, ocr_first_lines=8))
    reader = pipeline.reader("ocr").reader
    ranked = reader._candidate_lines(long_doc, QUESTION)
    assert len(ranked) > ocr_reader.FIRST_ROUND_LINES
    first = reader._candidate_rows(long_doc, ranked[: ocr_reader.FIRST_ROUND_LINES])
    every = reader._candidate_rows(long_doc, ranked)
    first_keys = set(_row_keys(reader, long_doc, first))
    later_keys = set(_row_keys(reader, long_doc, every)) - first_keys
    assert later_keys  # the other candidates would have meant more lines to read

    answer = pipeline.ask_once(long_doc, QUESTION, reader="ocr")
    pipeline.close()
    assert answer.text == "4417093"
    assert any("lines that match the question" in str(n) for n in answer.notes)
    assert all(_cached(reader, key) for key in first_keys)  # read, and kept line by line
    # the background read after the answer reads whole pages, never the other candidate lines
    assert not any(_cached(reader, key) for key in later_keys)


def test_a_line_read_once_is_not_read_again(tmp_path, long_doc, monkeypatch):
    reader = Pipeline(_settings(tmp_path, ocr_first_lines=8)).reader("ocr").reader
    ranked = reader._candidate_lines(long_doc, QUESTION)
    first = reader._candidate_rows(long_doc, ranked[:3])
    every = reader._candidate_rows(long_doc, ranked)
    strips: list[list[tuple[int, int, int]]] = []
    real = reader._read_strips

    def spy(rendered, asked):
        strips.append(list(asked))
        return real(rendered, asked)

    monkeypatch.setattr(reader, "_read_strips", spy)
    *_, part = reader._read_rows(long_doc, first)
    assert "4417093" in part.ocr.text and len(strips) == 1
    *_, again = reader._read_rows(long_doc, first)
    assert len(strips) == 1 and again.ocr.text == part.ocr.text  # all from the cache
    *_, more = reader._read_rows(long_doc, every)
    assert len(strips) == 2 and "4417093" in more.ocr.text
    # the second read cut out only rows that were not read before
    for page, top, bottom in strips[1]:
        assert not any(top <= a and b <= bottom for a, b in first.get(page, []))


def test_background_reads_give_way_between_waves_of_lines(tmp_path, long_doc):
    """The engine calls ``pause`` on the reading thread before detection and before each wave
    of recognised lines (a pool thread held there would hold up the question), and reads the
    same lines as without it."""
    reader = Pipeline(_settings(tmp_path)).reader("ocr").reader
    engine = reader.engine
    image = long_doc.pages[0].image
    calls: list[threading.Thread] = []
    paused = engine.read(image, "en", lambda: calls.append(threading.current_thread()))
    plain = engine.read(image, "en")
    assert [line.text for line in paused] == [line.text for line in plain]
    assert len(calls) >= 3 and set(calls) == {threading.current_thread()}


@pytest.mark.slow
def test_only_background_reads_are_given_a_pause(tmp_path, long_doc, monkeypatch):
    pipeline = Pipeline(_settings(tmp_path, ocr_first_lines=0))
    reader = pipeline.reader("ocr").reader
    seen: list[tuple[bool, bool]] = []  # (main thread, given a pause)
    real = reader.engine.read

    def spy(image, language="auto", pause=None):
        seen.append((threading.current_thread() is threading.main_thread(), pause is not None))
        return real(image, language, pause)

    monkeypatch.setattr(reader.engine, "read", spy)
    reader.prefetch(long_doc).join(timeout=300)
    other = render("A second document. " * 30, long_doc.config)
    pipeline.ask_once(other, "What is this?", reader="ocr")
    pipeline.close()
    assert (False, True) in seen and (True, True) not in seen and (True, False) in seen


def test_the_cited_document_is_read_first_in_the_background(tmp_path, monkeypatch):
    # every page different: a page with the same pixels as another is read once
    texts = {name: " ".join(f"{name} clause {i}. {FILLER}" for i in range(20))
             for name in ("alpha", "beta", "gamma")}  # fmt: skip
    docs = [Document.from_text(text, name=f"{n}.txt", fmt="txt") for n, text in texts.items()]
    collection = merge_documents(docs)
    pipeline = Pipeline(_settings(tmp_path))
    cfg = resolve_config("en", page_size=(595, 120))
    rendered = pipeline.render(collection, cfg)
    reader = pipeline.reader("ocr").reader
    gamma = collection.parts()[2]
    gamma_pages = rendered.layout.pages_of_span(gamma.start, gamma.end)
    assert len(gamma_pages) >= 2 and gamma_pages[0] > 0
    from app.datamodel import Answer, Mode, Span

    cited = Answer(text="x", mode=Mode.QA, reader="ocr", spans=[Span(start=gamma.start + 5,
                                                                     end=gamma.start + 20)])  # fmt: skip
    assert ocr_reader._cited_documents_pages(rendered, cited) == gamma_pages
    single = render(docs[0].text, cfg)
    assert ocr_reader._cited_documents_pages(single, cited) == []

    order: list[int] = []
    ids = {page.image.tobytes(): page.index for page in rendered.pages}

    def slow(image, language="auto", pause=None):
        order.append(ids[image.tobytes()])
        time.sleep(0.05)
        return []

    monkeypatch.setattr(reader.engine, "read", slow)
    reader.prefetch(rendered, first=gamma_pages).join(timeout=120)
    pipeline.close()
    assert order[: len(gamma_pages)] == gamma_pages, (order, len(rendered.pages))
    assert sorted(order) == list(range(len(rendered.pages)))  # then all the others, once each


def test_the_line_index_is_made_once_when_a_question_meets_the_background(tmp_path, long_doc,
                                                                           monkeypatch):  # fmt: skip
    reader = Pipeline(_settings(tmp_path)).reader("ocr").reader
    made: list[int] = []
    real = ocr_reader.OcrReader._build_line_index

    def slow_build(rendered):
        made.append(1)
        time.sleep(0.3)
        return real(rendered)

    monkeypatch.setattr(ocr_reader.OcrReader, "_build_line_index", staticmethod(slow_build))
    threads = [threading.Thread(target=reader._line_index, args=(long_doc,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert made == [1] and reader._line_index(long_doc)[0]


def test_closing_stops_a_background_read_inside_its_page(tmp_path, long_doc, monkeypatch):
    """close() does not wait for the page in progress to be read to its end (seconds of a dense
    page): the read stops at its next step, and the half-read page is not cached."""
    reader = Pipeline(_settings(tmp_path)).reader("ocr").reader
    steps: list[int] = []
    started = threading.Event()

    def slow_page(image, language="auto", pause=None):  # 50 steps of 0.1 s: 5 s a page
        for n in range(50):
            started.set()
            if pause is not None:
                pause()
            steps.append(n)
            time.sleep(0.1)
        return []

    monkeypatch.setattr(reader.engine, "read", slow_page)
    thread = reader.prefetch(long_doc)
    assert thread is not None and started.wait(10)
    t0 = time.perf_counter()
    reader.close()
    assert time.perf_counter() - t0 < 2 and not thread.is_alive()
    assert len(steps) < 50
    assert reader.cache.get(reader.engine_name, reader.engine.version,
                            long_doc.pages[0].sha256) is None  # fmt: skip


def test_a_strip_holds_its_own_lines_and_no_half_of_the_next(tmp_path):
    """The strips cut for a question's lines end where those lines were drawn: a margin of the
    page around them held the top or bottom half of the next line, which OCR read as garbage
    ("Dart" for "part", "aull dock … ledaer" for "gull dock … ledger") and which, when it lay
    near a wanted row, stood in the text answers are taken from."""
    import random

    from rapidfuzz import fuzz

    words = [
        "harbour",
        "ledger",
        "walnut",
        "quince",
        "berth",
        "crane",
        "pilot",
        "tide",
        "invoice",
        "customs",
        "barrel",
        "anchor",
        "signal",
        "ferry",
        "cargo",
        "winter",
        "lantern",
        "rope",
        "compass",
        "gull",
        "dock",
        "rudder",
        "mast",
        "keel",
        "hull",
        "sail",
        "buoy",
        "reef",
        "gale",
        "storm",
        "voyage",
        "helm",
        "chart",
        "deck",
        "galley",
        "bosun",
        "tanker",
        "tugboat",
        "jetty",
        "quay",
    ]
    pick = random.Random(7)
    # every line different: a half line read as garbage must not pass for a wanted line
    text = "\n".join(" ".join(pick.sample(words, 13)) for _ in range(30))
    rendered = render(text, resolve_config("en", page_size=(595, 400)))
    reader = Pipeline(_settings(tmp_path)).reader("ocr").reader
    lines, _ = reader._line_index(rendered)
    middle = len(lines) // 2
    rows = reader._candidate_rows(rendered, [middle])  # the line and two on either side
    wanted = " ".join(rendered.text[a:b] for _, a, b in lines[middle - 2 : middle + 3])
    strips = [
        (page, top, bottom)
        for page, spans in rows.items()
        for top, bottom in ocr_reader._bands(spans, rendered.pages[page].image.height)
    ]
    read = [line.text for strip in reader._read_strips(rendered, strips) for line in strip]
    assert len(read) >= 5
    for line in read:  # every line read is one of the wanted lines
        assert fuzz.partial_ratio(" ".join(line.split()), wanted) >= 90, (line, wanted)
    *_, part = reader._read_rows(rendered, rows)
    middle_text = " ".join(rendered.text[lines[middle][1] : lines[middle][2]].split())
    assert fuzz.partial_ratio(middle_text, " ".join(part.ocr.text.split())) >= 90

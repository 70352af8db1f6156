"""The built-in OCR reader end to end on real rendered pages: engines, QA in English and Chinese,
summary and key information with evidence, streaming, review flags, the OCR cache, and proof that
answers come from the pixels (not from the source text)."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.datamodel import Mode
from app.pipeline import Pipeline
from app.readers.ocr import OcrReader
from app.render import render, resolve_config
from tests.helpers.reading import ask

pytest.importorskip("rapidocr")

EXAMPLES = Path(__file__).resolve().parents[2] / "app" / "ui" / "examples"


@pytest.fixture(scope="module")
def shared_settings(tmp_path_factory):
    """Settings whose OCR cache is shared by this module's tests (each page is read once)."""
    from app.settings import Settings

    return Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("ocr-data"))


@pytest.fixture(scope="module")
def pipeline(shared_settings):
    pipe = Pipeline(shared_settings)
    yield pipe
    pipe.close()


@pytest.fixture(scope="module")
def agreement(pipeline):
    return pipeline.render(pipeline.open_document(EXAMPLES / "service_agreement.md"))


@pytest.fixture(scope="module")
def report(pipeline):
    return pipeline.render(pipeline.open_document(EXAMPLES / "年度财报摘要.txt"))


def _on_line(rendered, evidence, start, end) -> bool:
    """Some red box lies on the rendered line of characters ``start:end``."""
    page, box = rendered.layout.boxes_for_span(start, end)[0]
    return any(
        ev.page == page and any(b[1] < box[3] and box[1] < b[3] for b in ev.boxes)
        for ev in evidence
    )


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_tesseract_engine_is_selectable(tmp_path):
    from app.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path, ocr_engine="tesseract")
    reader = OcrReader(settings)
    assert "tesseract" in reader.capabilities.description
    text = "The annual subscription fee is EUR 186,400, invoiced quarterly in advance."
    rendered = render(text, resolve_config("en"))
    answer = ask(reader, rendered, "What is the annual subscription fee?")
    assert answer.text == "EUR 186,400"
    assert answer.spans[0].text == "EUR 186,400"


def test_new_users_path_english(pipeline, agreement):
    answer = pipeline.ask_once(agreement, "What is the annual subscription fee?", reader="ocr")
    assert answer.text == "EUR 186,400"
    # confidence is the calibrated chance of being right (app/readers/ocr/answer_policy.py);
    # the review flag is that chance against the threshold (0.9 by default)
    threshold = pipeline.settings.review_threshold
    assert answer.reader == "ocr" and answer.confidence >= 0.6
    assert answer.needs_review == (answer.confidence < threshold)
    assert all(check.status == "exact" for check in answer.checks) and answer.checks
    start = agreement.text.index("EUR 186,400")
    assert answer.spans[0].start == start and answer.spans[0].end == start + len("EUR 186,400")
    assert _on_line(agreement, answer.evidence, start, start + 11)
    assert not any("supporting" in str(n) for n in answer.notes)  # user-facing remarks
    assert answer.timings["ocr"] >= 0 and answer.stats.visual_tokens > 0


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who is the data protection officer?", "Dr. Amelia Hart"),
        ("When does the Agreement start?", "1 April 2025"),
        ("What is the contract reference?", "NW-BF-2025-0314"),
        ("How long is the initial term?", "24 months"),
    ],
)
def test_more_english_questions(pipeline, agreement, question, expected):
    answer = pipeline.ask_once(agreement, question, reader="ocr")
    assert answer.text == expected
    start = agreement.text.index(expected)
    assert _on_line(agreement, answer.evidence, start, start + len(expected))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("公司2024年营业收入是多少？", "38.62 亿元"),
        ("董事长是谁？", "林雨晨"),
        ("公司总资产是多少？", "92.40 亿元"),
    ],
)
def test_chinese_questions(pipeline, report, question, expected):
    answer = pipeline.ask_once(report, question, reader="ocr")
    assert answer.text == expected
    assert answer.needs_review == (answer.confidence < pipeline.settings.review_threshold)
    assert all(check.status == "exact" for check in answer.checks)  # values are the document's
    start = report.text.index(expected)
    assert _on_line(report, answer.evidence, start, start + len(expected))


def test_several_values_of_the_asked_kind_give_the_sentence_not_a_guess(pipeline, report):
    """ "每10股派发现金红利多少元" — the sentence holds 3.60 元 and 1.51 亿元: the reader quotes
    the sentence instead of picking one of them."""
    answer = pipeline.ask_once(report, "每10股派发现金红利多少元？", reader="ocr")
    assert "3.60 元" in answer.text and "1.51 亿元" in answer.text and len(answer.text) <= 300
    assert any("answer kind: sentence" in str(n) for n in answer.notes)


def test_unanswerable_question_is_flagged_for_review(pipeline, agreement):
    answer = pipeline.ask_once(agreement, "What is the capital of France?", reader="ocr")
    assert answer.needs_review and answer.confidence < 0.6 and answer.evidence == []


def test_summary_is_extractive_with_a_length_control(pipeline, agreement):
    answer = pipeline.ask_once(agreement, "Summarise in 3 sentences", Mode.SUMMARY, reader="ocr")
    assert answer.mode is Mode.SUMMARY and 1 <= len(answer.spans) <= 3
    for span in answer.spans:
        assert agreement.text[span.start : span.end] == span.text
    assert answer.evidence and {ev.span.start for ev in answer.evidence} <= {
        s.start for s in answer.spans
    }
    longer = pipeline.ask_once(agreement, "Summarise in 6 sentences", Mode.SUMMARY, reader="ocr")
    assert len(longer.spans) > len(answer.spans)


def test_key_information_items_each_have_evidence(pipeline, agreement, report):
    answer = pipeline.ask_once(agreement, "key facts", Mode.EXTRACT, reader="ocr")
    labels = {s.label for s in answer.spans}
    assert {"date", "amount", "percent", "email", "phone", "code"} <= labels
    texts = {s.text for s in answer.spans}
    assert {"EUR 186,400", "14 March 2025", "dpo@bluefin-analytics.example"} <= texts
    assert "- Amount: EUR 186,400" in answer.text.splitlines()
    assert len(answer.evidence) >= min(len(answer.spans), 8)
    zh = pipeline.ask_once(report, "关键信息", Mode.EXTRACT, reader="ocr")
    assert "- 金额: 38.62 亿元" in zh.text.splitlines()
    assert any(s.label == "org" and "星河智能科技股份有限公司" in s.text for s in zh.spans)


def test_streaming_order_status_answer_final(tmp_path, agreement):
    from app.settings import Settings

    pipe = Pipeline(Settings(_env_file=None, data_dir=tmp_path))
    chunks = list(pipe.ask(agreement, "What is the one-off onboarding fee?", reader="ocr"))
    kinds = [c.kind for c in chunks]
    assert kinds[-1] == "final" and kinds[-2] == "answer" and kinds.count("final") == 1
    assert "OCR page 1/1" in [c.text for c in chunks if c.kind == "status"]
    assert chunks[-2].text == chunks[-1].answer.text == "EUR 12,750"
    # the same document again in a new process-like reader: OCR comes from the disk cache
    again = Pipeline(Settings(_env_file=None, data_dir=tmp_path))
    statuses = [c.text for c in again.ask(agreement, "fee?", reader="ocr") if c.kind == "status"]
    assert "OCR page 1/1 (cached)" in statuses


def test_follow_ups_and_reopens_do_not_ocr_again(tmp_path, monkeypatch, report):
    from app.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path)
    reader = OcrReader(settings)
    calls = []
    real_read = reader.engine.read
    monkeypatch.setattr(
        reader.engine, "read", lambda *a, **k: calls.append(1) or real_read(*a, **k)
    )
    ask(reader, report, "董事长是谁？")
    assert len(calls) == len(report.pages)
    ask(reader, report, "公司总资产是多少？")  # follow-up: in memory
    ask(OcrReader(settings), report, "公司总资产是多少？")  # re-open: from disk
    assert len(calls) == len(report.pages)
    # a corrupted cache entry is read again, not fatal
    for path in (settings.resolved_cache_dir / "ocr").rglob("*.json"):
        path.write_bytes(b"\x00garbage")
    assert ask(OcrReader(settings), report, "董事长是谁？").text == "林雨晨"
    assert len(calls) == 2 * len(report.pages)


def test_the_answer_is_what_the_pixels_say(tmp_path):
    """Paint a different figure over the page image: the reader answers what it sees there,
    while the evidence still points at the place in the text."""
    from app.settings import Settings

    text = "Project notes.\nThe special magic number for Quito is 5318008.\nEnd of notes."
    rendered = render(text, resolve_config("en"))
    start = text.index("5318008")
    (page, box), *_ = rendered.layout.boxes_for_span(start, start + 7)
    image = rendered.pages[page].image.copy()
    draw = ImageDraw.Draw(image)
    draw.rectangle(box, fill="white")
    font = _font(rendered)
    draw.text((box[0], box[1] + 0.5), "5318009", fill="black", font=font)
    rendered.pages[page] = type(rendered.pages[page])(page, image)
    answer = ask(
        OcrReader(Settings(_env_file=None, data_dir=tmp_path)),
        rendered,
        "What is the special magic number for Quito?",
    )
    assert answer.text == "5318009"  # read from the pixels, not copied from the text
    assert answer.spans[0].start == start


def _font(rendered):
    from PIL import ImageFont

    from app.render.fonts import DEJAVU_SANS, find_font

    size = round(rendered.config.font_size * rendered.config.dpi / 72)
    return ImageFont.truetype(str(find_font(DEJAVU_SANS)), size)


def test_blank_pages_give_no_answer(tmp_path):
    from app.settings import Settings

    rendered = render("x", resolve_config("en"))
    white = Image.fromarray(np.full((200, 300, 3), 255, np.uint8))
    rendered.pages[0] = type(rendered.pages[0])(0, white)
    answer = ask(OcrReader(Settings(_env_file=None, data_dir=tmp_path)), rendered, "What is it?")
    assert answer.needs_review and answer.spans == []


def test_prefetch_reads_in_the_background_and_questions_wait_for_it(tmp_path, monkeypatch, report):
    from app.settings import Settings

    reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path))
    calls = []
    real_read = reader.engine.read
    monkeypatch.setattr(
        reader.engine, "read", lambda *a, **k: calls.append(1) or real_read(*a, **k)
    )
    thread = reader.prefetch(report)
    answer = ask(reader, report, "公司总资产是多少？")  # asked while the pages are being read
    thread.join(timeout=120)
    assert answer.text == "92.40 亿元"
    assert len(calls) == len(report.pages)  # read once, not twice


def test_close_waits_for_every_background_read(tmp_path, monkeypatch):
    """Each question can start a background read; close() stops and joins all of them, not
    only the latest (a read left running aborts onnxruntime at interpreter exit)."""
    import threading
    import time

    from app.settings import Settings

    reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path))
    started = threading.Event()

    cfg = resolve_config("en", page_size=(595, 160))
    first = render("First document. " * 400, cfg)
    second = render("Second document. " * 400, cfg)
    slow = {id(page.image) for page in first.pages}  # the first read outlasts the second

    def slow_read(image, language="auto", pause=None):
        started.set()
        time.sleep(1.0 if id(image) in slow else 0.05)
        return []

    # the engine is shared by every reader of the process: patch it for this test only
    monkeypatch.setattr(reader.engine, "read", slow_read)
    assert len(first.pages) >= 4 and len(second.pages) >= 4
    threads = [reader.prefetch(first), reader.prefetch(second)]
    assert all(t is not None for t in threads) and started.wait(5)
    reader.close()
    assert not any(t.is_alive() for t in threads)
    assert reader.prefetch(first) is None  # a closed reader starts no new reads


def test_key_information_leaves_out_an_item_misread(tmp_path):
    """An item read with a slip is not listed: the text drawn where it was read says what the
    page shows ("debian-l10n-english@…", ".../~adl/..."), and a misread address or URL shown
    as key information would send someone to the wrong place. Items read right stay listed."""
    from dataclasses import replace

    from app.settings import Settings

    reader = OcrReader(Settings(_env_file=None, data_dir=tmp_path))
    read = reader.engine.read

    def slipping(image, lang, pause=None):  # the misreads rapidocr made on real manuals
        lines = read(image, lang, pause)
        slips = {"l10n": "I10n", "~adl": "-adl"}
        out = []
        for line in lines:
            text = line.text
            for right, wrong in slips.items():
                text = text.replace(right, wrong)
            out.append(replace(line, text=text))
        return out

    reader.engine.read = slipping
    text = (
        "Translators write to debian-l10n-english@lists.debian.org about the templates.\n"
        "The autotools tutorial is at http://www.lrde.epita.fr/~adl/autotools.html today.\n"
        "Questions go to help@example.org before 14 March 2025."
    )
    try:
        answer = ask(reader, render(text, resolve_config("en")), "key facts", Mode.EXTRACT)
    finally:
        reader.close()
    assert "help@example.org" in answer.text and "14 March 2025" in answer.text, answer.text
    assert "I10n" not in answer.text and "-adl" not in answer.text, answer.text
    assert "l10n" not in answer.text and "lrde" not in answer.text  # not "corrected" either
    for span in answer.spans:
        assert span.text in text

"""What the panes show, without a browser: the answer pane as a pure function of the answer and
the language, notes in the chosen language, and handlers that only name their own outputs."""

from __future__ import annotations

import gradio as gr
import pytest

from app.datamodel import Answer, AnswerChunk, Evidence, Note, Span
from app.errors import IngestError
from app.pipeline import WAITING, Pipeline
from app.ui.ask_pane import AskPane
from app.ui.document_pane import DocumentEvents, DocumentPane, PreviewPane
from app.ui.manager import AnswerView, UIManager, chunk_status, final_view
from app.ui.session import Session
from app.ui.view import Panes, _error_text

DOC_NOTE = Note(en="Page(s) 2 contain no text.", zh="第 2 页没有文字。")
ANSWER_NOTE = Note(
    en="Read by OCR (tesseract); answer kind: amount.", zh="由 OCR 读取；答案类型：金额。"
)
NOTE_TEXT = "Parcel note. The parcel weighs 12 kg and ships to Anna Berg in Uppsala."


@pytest.fixture(scope="module")
def manager(tmp_path_factory):
    from app.settings import Settings

    data = tmp_path_factory.mktemp("data")
    return UIManager(Pipeline(Settings(_env_file=None, data_dir=data, reader="ocr")))


def _answer(evidence_pages: tuple[int, ...] = (), source_page=None, **fields) -> Answer:
    span = Span(start=0, end=5, text="12 kg")
    evidence = [
        Evidence(page=p, boxes=[(1, 2, 3, 4)], span=span, source_page=source_page)
        for p in evidence_pages
    ]
    defaults = {"text": "12 kg", "confidence": 0.8, "notes": [ANSWER_NOTE]}
    return Answer(**{**defaults, **fields}, evidence=evidence)


def test_final_view_is_the_answer_in_the_chosen_language():
    answer = _answer((2, 0, 2), needs_review=True, pages_read=[0, 2], thinking="hmm")
    en, zh = final_view(answer, "en"), final_view(answer, "zh")
    assert isinstance(en, AnswerView) and en.text == "12 kg" and en.thinking == "hmm"
    # one span drawn on three rendered pages is one cited place
    (label, value), *more = en.evidence_choices
    assert not more and label == "passage 1 · “12 kg” · support 100%" and en.first_page == 2
    assert en.first_choice == value and value.endswith(":0")
    assert zh.evidence_choices == [("第 1 处 · “12 kg” · 支持度 100%", value)]
    # on a PDF: the document's own page number
    pdf = final_view(_answer((0, 1), source_page=11), "en")
    assert [label for label, _ in pdf.evidence_choices] == ["page 12 · “12 kg” · support 100%"]
    assert pdf.first_choice != value  # another answer, another value: it is shown anew
    assert "Confidence: **80%**" in en.confidence and "needs review" in en.confidence
    assert "Page images read: 1, 3" in en.confidence and ANSWER_NOTE.en in en.confidence
    assert "置信度：**80%**" in zh.confidence and "需人工确认" in zh.confidence
    assert "已读页面图像：1, 3" in zh.confidence
    assert ANSWER_NOTE.zh in zh.confidence and ANSWER_NOTE.en not in zh.confidence
    assert "No evidence" not in en.confidence
    assert final_view(answer, "zh") == zh  # pure: the same answer and language, the same view


def test_a_confidence_just_under_the_review_threshold_never_reads_as_the_threshold():
    # 0.8497 is flagged under a 0.85 threshold; ".0%" showed it as "85%" beside "needs review"
    flagged = final_view(_answer(confidence=0.8497, needs_review=True), "en")
    assert "Confidence: **84%**" in flagged.confidence and "needs review" in flagged.confidence
    sure = final_view(_answer(confidence=0.9999), "zh")
    assert "置信度：**99%**" in sure.confidence  # only a certainty reads 100%
    assert "**100%**" in final_view(_answer(confidence=1.0), "en").confidence


def test_final_view_without_evidence_says_so():
    view = final_view(_answer(), "zh")
    assert view.evidence_choices == [] and view.first_page is None and view.first_choice is None
    assert view.confidence.endswith("未定位到证据。")
    assert final_view(_answer(), "en").confidence.endswith("No evidence located.")


def test_document_notes_and_info_line_in_the_chosen_language(manager):
    s = Session(lang="zh")
    manager.open_text(s, NOTE_TEXT)
    s.document = s.document.model_copy(update={"notes": [DOC_NOTE]})
    info = manager.document_info(s)
    assert "字符" in info and DOC_NOTE.zh in info and DOC_NOTE.en not in info
    s.lang = "en"
    info = manager.document_info(s)
    assert f"{len(s.document.text):,} chars" in info and DOC_NOTE.en in info


def test_streamed_status_lines_in_the_chosen_language(manager):
    chunk = AnswerChunk(kind="status", text=WAITING.en, note=WAITING)
    assert chunk_status(chunk, "zh") == WAITING.zh and chunk_status(chunk, "en") == WAITING.en
    assert chunk_status(AnswerChunk(kind="status", text="plain"), "zh") == "plain"

    # another question holds the reader: this one says so, in Chinese, and waits its turn
    s = Session(lang="zh")
    manager.open_text(s, NOTE_TEXT)
    lock = manager.pipeline.reader_lock
    assert lock.acquire(blocking=False)
    updates = manager.ask(s, "How much does the parcel weigh?", "qa")
    try:
        assert next(updates).status == "正在阅读页面图像……"
        assert next(updates).status == WAITING.zh
    finally:
        lock.release()
    rest = list(updates)
    final = rest[-1].final
    assert final is not None and "12" in final.text and rest[-1].status.startswith("完成")
    assert any(note.zh in final_view(final, "zh").confidence for note in final.notes)
    assert lock.acquire(blocking=False)  # released once the answer is complete
    lock.release()


def test_a_closed_answer_stream_releases_the_reader(manager):
    s = Session()
    manager.open_text(s, NOTE_TEXT)
    updates = manager.ask(s, "How much does the parcel weigh?", "qa")
    next(updates)
    next(updates)  # the pipeline's stream has started: it holds the reader
    updates.close()  # the browser went away
    assert manager.pipeline.reader_lock.acquire(blocking=False)
    manager.pipeline.reader_lock.release()


def test_handlers_name_only_their_declared_outputs(manager):
    with gr.Blocks():
        session, message = gr.State(), gr.Markdown()
        doc, preview = DocumentPane.build(None), PreviewPane.build()
        ask = AskPane.build(message, queue=True)
    events = DocumentEvents(manager, session, message, doc, preview, _error_text)
    s = Session()
    assert set(events.on_paste(s, NOTE_TEXT)) <= set(events.outputs)
    shown = events.shown(s)
    # a render updates the sliders too; the upload box keeps the file it opened
    assert set(shown) == set(events.outputs) - {doc.upload}
    assert set(events.shown(s, clear_upload=True)) == set(events.outputs)
    assert shown[doc.settings.dpi] == s.rendered.config.dpi and shown[message] == ""
    failed = events.failed(IngestError("bad file", "坏文件"), Session(lang="zh"))
    assert failed[message] == "⚠ 坏文件" and set(failed) <= set(events.outputs)
    assert events.on_paste_live(s, "  ") == {session: s}

    view = final_view(_answer((1,)), "en")
    final = ask.show_final(view, "Done", None, (None, None), note="disk full")
    assert set(final) == set(ask.outputs) and final[ask.message] == "⚠ disk full"
    assert final[ask.evidence_pages]["value"] == view.first_choice
    assert set(ask.show_summary("Batch: 3 of 3")) == set(ask.outputs)
    error = ask.show_error("⚠ x", clear_answer=True)
    assert set(error) < set(ask.outputs) and error[ask.answer] == ""
    assert ask.answer not in ask.show_error("⚠ x")  # the answer shown before stays


def test_a_language_switch_shows_labels_notes_and_the_answer_in_it(manager):
    with gr.Blocks():
        panes = Panes.build(None, queue=True)
    zh = panes.relabel("zh")
    assert zh[panes.ask.ask]["value"] == "提问" and zh[panes.doc.upload]["label"].startswith("上传")
    assert zh[panes.ask.mode]["choices"][0] == ("问答", "qa")
    assert zh[panes.jobs.show]["value"] == "查看结果"
    assert set(zh) == set(panes.relabel("en"))

    s = Session()
    manager.open_text(s, NOTE_TEXT)
    s.document = s.document.model_copy(update={"notes": [DOC_NOTE]})
    s.shown = _answer((0,))  # the answer on screen, asked in English
    s.lang = "zh"
    page = panes.in_language(manager, s)
    assert DOC_NOTE.zh in page[panes.doc.info] and "张页面图像" in page[panes.preview.stats]
    assert "阅读器" in page[panes.ask.reader]
    assert ANSWER_NOTE.zh in page[panes.ask.confidence]
    assert page[panes.ask.evidence_pages]["choices"][0][0].startswith("第 1 处")
    assert page[panes.ask.evidence_pages]["label"] == "引用位置"
    s.shown = None  # nothing (or a batch summary) shown: the answer pane is left alone
    assert panes.ask.confidence not in panes.in_language(manager, s)

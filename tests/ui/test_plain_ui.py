"""A UI staff read without help, without a browser: the statistics in plain words, one progress
indicator per document event, an honest overall fraction, the upload box and the open document
in agreement, a jobs table that fits, and the drop zone in the page's language."""

from __future__ import annotations

import gradio as gr
import pytest

from app.datamodel import Document, SourcePage
from app.errors import IngestError
from app.ingest.base import PasswordRequiredError
from app.jobs import Job, JobKind, JobStatus
from app.pipeline import Pipeline
from app.ui.document_pane import DocumentEvents, DocumentPane, PreviewPane, pane_css
from app.ui.jobs_pane import jobs_css
from app.ui.jobs_view import COLUMN_WIDTHS, COLUMNS, JobsManager
from app.ui.manager import UIManager, stats_line
from app.ui.session import Session
from app.ui.view import Panes, _error_text, page_css

TEXT = "Parcel note. The parcel weighs 12 kg and ships to Anna Berg in Uppsala. " * 40


@pytest.fixture(scope="module")
def manager(tmp_path_factory):
    from app.settings import Settings

    data = tmp_path_factory.mktemp("data")
    pipeline = Pipeline(Settings(_env_file=None, data_dir=data, reader="ocr"))
    yield UIManager(pipeline)
    pipeline.close()


@pytest.fixture
def events(manager):
    with gr.Blocks():
        session, message = gr.State(), gr.Markdown()
        doc, preview = DocumentPane.build(None), PreviewPane.build()
    return DocumentEvents(manager, session, message, doc, preview, _error_text)


# --- 1. the statistics in plain words -----------------------------------------------------------
def test_statistics_in_plain_words_with_the_figures_on_hover(manager):
    s = Session()
    manager.open_text(s, TEXT)
    line = stats_line(s.rendered, "en")
    chars = f"{len(s.rendered.text):,}"
    assert f"**{chars}** characters → **1** page image · **" in line
    assert "×** fewer tokens than the plain text" in line
    for jargon in ("visual", "dpi", " pt", "compression"):  # only in the hover text
        visible = line.split(">", 1)[1]
        assert jargon not in visible, jargon
    title = line.split('title="', 1)[1].split('"', 1)[0]
    stats, cfg = s.rendered.stats, s.rendered.config
    assert f"{stats.text_tokens:,} tokens" in title and f"{stats.visual_tokens:,} visual" in title
    assert f"{cfg.dpi} dpi" in title and f"font {cfg.font_size:g} pt" in title
    zh = stats_line(s.rendered, "zh")
    assert "字 → **1** 张页面图像 · token 压缩约 **" in zh and "视觉 token" in zh

    # a PDF counts its pages; a render that costs more tokens than the text says so
    doc = s.document.model_copy(
        update={"pages": [SourcePage(index=i, width=595, height=842) for i in range(36)]}
    )
    rendered = manager.pipeline.render(doc, "en", dpi=200)
    assert rendered.stats.compression_ratio < 1
    line = stats_line(rendered, "en")
    assert line.count("**36** pages → ") == 1 and "×** more tokens than the plain text" in line
    assert "为纯文本的" in stats_line(rendered, "zh")


def test_the_preview_line_is_the_plain_line(manager):
    s = Session(lang="zh")
    manager.open_text(s, TEXT)
    assert manager.preview(s)[1].startswith(stats_line(s.rendered, "zh"))


# --- 2. one progress indicator, one overall fraction ---------------------------------------------
def test_document_events_show_one_progress_indicator(manager):
    with gr.Blocks() as demo:
        panes = Panes.build(None, queue=True)
        session = gr.State()
        message = panes.header.message
        DocumentEvents(manager, session, message, panes.doc, panes.preview, _error_text).wire()
    gallery = panes.preview.gallery._id
    deps = [d for d in demo.config["dependencies"] if gallery in d["outputs"]]
    assert len(deps) >= 8  # upload, paste, live paste, unlock ×2, example, settings, hi-res
    for dep in deps:
        assert dep["show_progress"] == "hidden" or dep["show_progress_on"] == [gallery], dep


def test_scanned_pages_are_reported_page_by_page_in_one_rising_fraction(manager, monkeypatch):
    """The OCR of scanned pages is most of an upload's time: "page 2 of 3", never restarting."""
    reports: list[tuple[float | None, str]] = []

    def open_document(path, *, name, password, scanned):
        for done in range(4):
            scanned(done, 3)
        return Document.from_text(TEXT, name=name, fmt="pdf")

    monkeypatch.setattr(manager.pipeline, "open_document", open_document)
    s = Session()
    manager.open_file(s, "scan.pdf", lambda f, desc: reports.append((f, desc)))
    fractions = [f for f, _ in reports if f is not None]
    assert fractions == sorted(fractions) and fractions[0] >= 0 and fractions[-1] <= 1
    lines = [desc for _, desc in reports]
    assert "Reading scanned page 2 of 3 by OCR…" in lines
    assert lines[0] == "Reading the document…" and lines[-1] == "Rendering pages…"
    assert reports[-1][0] is None  # rendering has no measurable parts: no made-up percentage


@pytest.mark.slow
def test_a_scanned_pdf_reports_each_page_to_the_pipeline_caller(settings):
    pytest.importorskip("rapidocr")
    from tests.ingest.ingest_samples import scanned_pdf

    calls: list[tuple[int, int]] = []
    doc = Pipeline(settings).open_document(
        scanned_pdf(pages=2), name="scan.pdf", scanned=lambda d, n: calls.append((d, n))
    )
    assert calls == [(0, 2), (1, 2), (2, 2)] and doc.text.strip()


# --- 3. the upload box and the open document agree ----------------------------------------------
def test_a_rejected_upload_leaves_the_box_and_says_what_is_still_open(manager, events):
    doc, message = events.doc, events.message
    s = Session()
    manager.open_text(s, TEXT)
    failed = events.failed(
        IngestError("'bad.pdf' is not a PDF.", "“bad.pdf”不是 PDF。"), s, "upload"
    )
    assert failed[doc.upload] is None  # the rejected file is taken out of the box
    assert (
        failed[message]
        == "⚠ 'bad.pdf' is not a PDF. The earlier document, pasted.txt, is still open."
    )
    s.lang = "zh"
    failed = events.failed(IngestError("bad", "“bad.pdf”不是 PDF。"), s, "upload")
    assert failed[message] == "⚠ “bad.pdf”不是 PDF。之前的文档“pasted.txt”仍保持打开。"
    # pasted text or an example that fails leaves the box (it may show the open document)
    assert doc.upload not in events.failed(IngestError("x", "x"), s, "other")
    assert doc.upload not in events.failed(IngestError("x", "x"), s)  # a re-render
    # a locked PDF stays in the box while its password is asked for
    s.pending_path = s.workdir() / "locked.pdf"
    locked = events.failed(PasswordRequiredError("locked.pdf", wrong=False), s, "upload")
    assert doc.upload not in locked and locked[doc.password_row]["visible"] is True
    # no earlier document: nothing to say about one
    nothing = events.failed(IngestError("bad", "坏"), Session(), "upload")
    assert nothing[message] == "⚠ bad" and nothing[doc.upload] is None


def test_pasted_text_or_an_example_empties_the_upload_box(events):
    s = Session()
    assert events.on_paste(s, TEXT)[events.doc.upload] is None
    assert events.on_example(s, 0)[events.doc.upload] is None
    assert events.doc.upload not in events.on_hires(s)  # a re-render keeps it


# --- 4. the jobs table ------------------------------------------------------------------------
def _job(status: JobStatus, **fields) -> Job:
    base = {"id": "0123456789abcdef", "kind": JobKind.ASK, "title": "Fee? · a.md", "spec": {}}
    return Job(**{**base, "status": status, **fields})


def test_jobs_table_has_four_short_columns_with_status_details():
    assert len(COLUMNS) == len(COLUMN_WIDTHS) == 4
    assert sum(float(w.rstrip("%")) for w in COLUMN_WIDTHS) == 100
    assert JobsManager.headers("en") == ["Status", "Question · file", "Time", "Job"]
    assert JobsManager.headers("zh") == ["状态", "问题 · 文档", "时间", "任务"]
    running = _job(JobStatus.RUNNING, progress=0.4, progress_text="OCR page 3/8")
    assert JobsManager.status_text(running, "en") == "Running · 40% · OCR page 3/8"
    failed = _job(JobStatus.FAILED, error="The file is gone.", error_zh="文件不见了。")
    assert JobsManager.status_text(failed, "en") == "Failed: The file is gone."
    assert JobsManager.status_text(failed, "zh") == "失败：文件不见了。"
    assert JobsManager.status_text(_job(JobStatus.DONE), "zh") == "已完成"
    css = jobs_css()
    assert "word-break: keep-all" in css and css in page_css()


# --- 6. the drop zone in the page's language ----------------------------------------------------
def test_the_drop_zone_follows_the_language_switch():
    with gr.Blocks():
        panes = Panes.build(None, queue=True)
    upload = panes.doc.upload
    assert upload.elem_classes == ["lang-en"]
    assert panes.relabel("zh")[upload]["elem_classes"] == ["lang-zh"]
    css = pane_css()
    assert '#upload.lang-zh [data-testid="upload-text"]::after' in css
    assert '"将文件拖放到此处\\A 或\\A 点击选择文件"' in css
    assert '"Drop files here\\A or\\A click to choose"' in css
    assert css in page_css()


def test_ask_events_show_one_progress_indicator(manager):
    """Asking shows its progress on the answer box only (the issue saw three overlays stacked:
    answer, evidence and the confidence line)."""
    from app.ui.view import build

    demo = build(manager)
    by_id = {block._id: block for block in demo.blocks.values()}
    answer = next(i for i, b in by_id.items() if getattr(b, "elem_id", None) == "answer")
    deps = [d for d in demo.config["dependencies"] if answer in d["outputs"]]
    asks = [d for d in deps if d["show_progress"] != "hidden"]
    assert asks, deps  # the click and the Enter key on the question
    for dep in asks:
        assert dep["show_progress_on"] == [answer], dep

"""The UI logic without a browser: real pipeline, real built-in reader."""

from __future__ import annotations

import json

import pytest

from app.errors import IngestError
from app.pipeline import Pipeline
from app.ui.manager import UIManager, UserError
from app.ui.session import Session
from app.ui.texts import TEXTS, pick_lang, t
from app.ui.view import EXAMPLES_DIR
from tests.helpers.documents import report_pdf


@pytest.fixture(scope="module")
def manager(tmp_path_factory):
    from app.settings import Settings

    data = tmp_path_factory.mktemp("data")
    return UIManager(Pipeline(Settings(_env_file=None, data_dir=data)))


def test_every_text_exists_in_both_languages():
    for key, entry in TEXTS.items():
        assert set(entry) == {"en", "zh"}, key
        assert entry["en"].strip() and entry["zh"].strip(), key
    assert pick_lang("zh-CN") == "zh" and pick_lang("en-GB") == "en" and pick_lang(None) == "en"


def test_open_preview_ask_export(manager, tmp_path):
    s = Session()
    manager.open_file(s, EXAMPLES_DIR / "service_agreement.md")
    items, line = manager.preview(s)
    assert len(items) == len(s.rendered.pages) >= 1
    assert "characters → **1** page image" in line and "fewer tokens" in line
    assert 'title="Text ≈' in line and "dpi" in line  # the technical figures on hover
    assert "service_agreement.md" in manager.document_info(s)

    updates = list(manager.ask(s, "What is the annual subscription fee?", "qa"))
    assert len(updates) >= 2 and updates[0].final is None  # streamed before the final answer
    final = updates[-1].final
    assert final is not None and "186,400" in final.text
    assert updates[-1].evidence_pages
    crop = manager.evidence_image(s, None)
    page_image = s.rendered.pages[updates[-1].evidence_pages[0]].image
    assert crop.width >= 800 and crop.height < crop.width  # enlarged window, not the whole page
    assert crop.width / page_image.width > 1.3  # dense page text enlarged to be legible
    label, value = manager.evidence_choices(final, "en")[0]
    assert "passage 1 · “" in label and "186,400" in label
    s.shown = final  # a Markdown file has no pages: the passage, the fee highlighted
    shown = manager.evidence_place(s, value)
    assert "<mark" in shown.passage and "186,400</mark>" in shown.passage.replace("\n", "")
    assert shown.original is None and "**Passage 1** of" in shown.caption
    assert shown.rendered is not None and shown.preview_page in updates[-1].evidence_pages

    data = json.loads(manager.export(s, "json", tmp_path).read_text())
    assert data["question"] == "What is the annual subscription fee?"
    assert data["evidence"] and data["evidence"][0]["page_number"] >= 1
    md = manager.export(s, "md", tmp_path).read_text()
    assert "186,400" in md and "## Evidence" in md


def test_errors_keep_earlier_work(manager, tmp_path):
    s = Session()
    manager.open_file(s, EXAMPLES_DIR / "service_agreement.md")
    before = s.rendered
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n garbage that is not a pdf")
    with pytest.raises(IngestError):
        manager.open_file(s, bad)
    assert s.rendered is before and s.document.name == "service_agreement.md"
    with pytest.raises(UserError):
        list(manager.ask(s, "   ", "qa"))
    with pytest.raises(UserError):
        list(manager.ask(Session(), "anything", "qa"))


def test_pdf_upload_and_higher_resolution(manager, tmp_path):
    s = Session()
    manager.open_file(s, report_pdf(tmp_path / "report.pdf"))
    assert s.document.format == "pdf"
    dpi = s.rendered.config.dpi
    manager.higher_resolution(s)
    assert s.rendered.config.dpi > dpi
    assert s.rendered.pages[0].size[0] > 0


def test_encrypted_pdf_asks_for_a_password(manager, tmp_path):
    import pymupdf

    from app.ingest.base import PasswordRequiredError

    path = tmp_path / "locked.pdf"
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Secret budget: 9,900 EUR", fontsize=12)
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw1", owner_pw="own")
    s = Session()
    with pytest.raises(PasswordRequiredError):
        manager.open_file(s, path)
    assert s.pending_path == path
    with pytest.raises(PasswordRequiredError):
        manager.unlock(s, "wrong")
    manager.unlock(s, "pw1")
    assert s.pending_path is None and "9,900" in s.document.text


def test_render_options_reach_the_renderer(manager):
    s = Session()
    manager.open_file(s, EXAMPLES_DIR / "年度财报摘要.txt")
    assert s.rendered.config.language == "zh" or s.rendered.config.name == "zh"
    s.options.granularity = "coarse"
    s.options.newline_marker = False
    s.options.font_size = 10
    manager.rerender(s)
    cfg = s.rendered.config
    assert cfg.font_size == 10 and cfg.newline_markup is None


def test_reader_status_is_honest(manager):
    line = manager.reader_status("en")
    assert "built-in OCR reader" in line
    assert "内置 OCR 阅读器" in manager.reader_status("zh")
    assert t("needs_review", "zh") == "⚠ 需人工确认"


def test_a_model_that_fails_to_load_falls_back_and_says_why(tmp_path):
    from app.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path, model=str(tmp_path / "no-such-model"))
    line = UIManager(Pipeline(settings)).reader_status("en")
    assert "built-in OCR reader" in line or "Reader:" in line
    assert "falling back to the built-in OCR reader" in line


def test_evidence_crop_keeps_every_red_box():
    import numpy as np
    from PIL import Image, ImageDraw

    from app.ui.manager import crop_around

    page = Image.new("RGB", (595, 842), "white")
    draw = ImageDraw.Draw(page)
    boxes = [(400, 300, 560, 312), (20, 313, 120, 325)]  # an answer wrapped onto the next line
    for box in boxes:
        draw.rectangle(box, outline=(230, 0, 0), width=2)
    crop = np.asarray(crop_around(page, boxes))
    red = (crop[..., 0] > 150) & (crop[..., 1] < 100)
    _, xs = np.nonzero(red)
    assert xs.min() < 0.2 * crop.shape[1] and xs.max() > 0.8 * crop.shape[1]  # both boxes in
    assert crop.shape[0] < 200 * crop.shape[1] / 595  # a few lines, not the page
    short = crop_around(page, [(500, 700, 530, 712)])
    assert 880 <= short.width <= 920 and short.height < 300  # one word: 360 px of its line, 2.5x
    assert crop_around(page, []) is page


def test_stop_says_stopped_only_for_a_question_that_was_stopped(manager):
    """Stop shows "Stopped." after the question has ended — also when Gradio's cancel of the
    event closed the stream before Stop's own handler ran — and nothing after an answer."""
    import threading
    import time

    from tests.helpers.long_text import NOTE, long_text

    phone, unanswerable = "What is the porter's phone number?", "Who is the harbour master?"
    s = Session()
    assert manager.stop(s) is False  # nothing asked yet
    manager.open_text(s, NOTE)
    assert "7946 0321" in list(manager.ask(s, phone, "qa"))[-1].final.text
    assert manager.stop(s) is False  # answered: nothing to stop

    manager.open_text(s, long_text(60_000))
    updates: list = []
    asking = threading.Thread(target=lambda: updates.extend(manager.ask(s, unanswerable, "qa")))
    asking.start()
    deadline = time.monotonic() + 30
    while not manager.pipeline.reader_lock.locked():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert manager.stop(s, wait_s=60) is True
    asking.join(5)  # the question had ended when stop() returned; its thread is finishing
    assert not asking.is_alive()
    assert updates[-1].final is None and updates[-1].status == "Stopped."

    stream = manager.ask(s, unanswerable, "qa")
    next(stream)
    next(stream)  # reading
    stream.close()  # what Gradio's cancel does to the event, possibly before Stop's handler runs
    assert manager.stop(s) is True and not manager.pipeline.reader_lock.locked()


def test_a_closed_tab_leaves_nothing_behind(manager):
    """When Gradio drops a tab's state, its last question and its private directory go too."""
    from tests.helpers.long_text import NOTE

    s = Session()
    manager.open_text(s, NOTE)
    list(manager.ask(s, "What is the porter's phone number?", "qa"))
    workdir = s.workdir()
    assert s.id in manager._questions and workdir.exists()
    manager.end_session(s)
    assert s.id not in manager._questions and not workdir.exists()
    assert manager.stop(s) is False  # nothing left to stop

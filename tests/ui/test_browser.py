"""The UI in Debian's chromium: upload, preview, ask, red boxes, language, bad input."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from tests.helpers.documents import memo_docx, report_pdf

pytestmark = pytest.mark.browser


def _answer(page) -> str:
    return page.locator("#answer textarea").input_value()


def _wait_answer(page, pattern: str, timeout: float = 120_000) -> str:
    page.wait_for_function(
        "(p) => new RegExp(p).test(document.querySelector('#answer textarea').value)",
        arg=pattern,
        timeout=timeout,
    )
    return _answer(page)


def _red_pixels(page, url: str) -> int:
    img = Image.open(io.BytesIO(page.request.get(url).body())).convert("RGB")
    a = np.asarray(img).astype(int)
    return int(((a[..., 0] > 180) & (a[..., 1] < 80) & (a[..., 2] < 80)).sum())


def _upload(page, path) -> None:
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.wait_for_function(
        "() => document.querySelectorAll('#gallery img').length > 0", timeout=120_000
    )


def test_pdf_upload_preview_ask_and_red_boxes(ui_server, page_factory, tmp_path, shots):
    page = page_factory("en-US")
    page.goto(ui_server)
    page.locator("#reader").get_by_text("built-in OCR reader").wait_for()
    _upload(page, report_pdf(tmp_path / "report.pdf", pages=2))
    stats = page.locator("#stats").inner_text()
    assert re.search(r"\d+ pages → \d+ page images? · [\d.]+× fewer tokens", stats), stats

    page.locator("#question textarea").fill("What is the magic number of the orange project?")
    page.locator("#ask").click()
    assert "58213" in _wait_answer(page, "58213")
    page.locator("#confidence").get_by_text("Confidence").wait_for()
    evidence = page.locator("#evidence-original img")  # the PDF's own page, red boxes on it
    evidence.wait_for()
    assert _red_pixels(page, evidence.get_attribute("src")) > 20
    assert page.locator("#evidence-pages").get_by_text(re.compile(r"page \d+")).count() >= 1

    page.screenshot(path=str(shots / "full.png"), full_page=True)
    for pane in ("pane-input", "pane-preview", "pane-reasoning"):
        page.locator(f"#{pane}").screenshot(path=str(shots / f"{pane}.png"))


def test_docx_upload_and_question(ui_server, page_factory, tmp_path):
    page = page_factory("en-US")
    page.goto(ui_server)
    _upload(page, memo_docx(tmp_path / "memo.docx"))
    assert "memo.docx" in page.locator("#doc-info").inner_text()
    page.locator("#question textarea").fill("What is the project budget?")
    page.locator("#ask").click()
    assert "2.4 million" in _wait_answer(page, "2\\.4")
    page.locator("#dl-json").wait_for()


def test_language_follows_browser_and_switches(ui_server, page_factory):
    page = page_factory("zh-CN")
    page.goto(ui_server)
    page.locator("#ask").get_by_text("提问").wait_for()
    assert "阅读器" in page.locator("#reader").inner_text()
    page.locator("#lang").get_by_text("English").click()
    page.locator("#ask").get_by_text("Ask").wait_for()
    assert "Reader" in page.locator("#reader").inner_text()


def test_chinese_ui_shows_document_and_answer_notes_in_chinese(ui_server, page_factory, tmp_path):
    import pymupdf

    doc = pymupdf.open(report_pdf(tmp_path / "one.pdf", pages=1))
    doc.new_page()  # an empty second page: the document gets a note saying so
    doc.save(tmp_path / "blank-page.pdf")
    page = page_factory("zh-CN")
    page.goto(ui_server)
    page.locator("#ask").get_by_text("提问").wait_for()
    _upload(page, tmp_path / "blank-page.pdf")
    info = page.locator("#doc-info")
    info.get_by_text("第 2 页没有文字。").wait_for()
    assert "字符" in info.inner_text() and "contain no text" not in info.inner_text()
    page.locator("#question textarea").fill("What is the magic number of the orange project?")
    page.locator("#ask").click()
    assert "58213" in _wait_answer(page, "58213")
    confidence = page.locator("#confidence")
    confidence.get_by_text("由 OCR").wait_for()  # the reader's note on the answer
    assert "置信度" in confidence.inner_text() and "Read by OCR" not in confidence.inner_text()
    assert page.locator("#status").inner_text().startswith("完成")
    # switching the language re-shows the notes on screen in the other language
    page.locator("#lang").get_by_text("English").click()
    confidence.get_by_text("Read by OCR").wait_for()
    info.get_by_text("Page(s) 2 contain no text.").wait_for()
    assert "chars" in info.inner_text() and "由 OCR" not in confidence.inner_text()


def test_bad_file_shows_an_error_and_the_app_keeps_working(ui_server, page_factory, tmp_path):
    page = page_factory("en-US")
    page.goto(ui_server)
    page.locator("#examples").get_by_text("service_agreement.md").click()
    page.wait_for_function("() => document.querySelectorAll('#gallery img').length > 0")
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"\x00\x01 definitely not a PDF \xff" * 50)
    page.locator("#upload input[type=file]").set_input_files(str(bad))
    page.locator("#message").get_by_text("not a valid PDF").wait_for()
    # the earlier document is still there and answers questions
    assert "service_agreement.md" in page.locator("#doc-info").inner_text()
    assert page.locator("#gallery img").count() > 0
    page.locator("#question textarea").fill("What is the annual subscription fee?")
    page.locator("#ask").click()
    assert "186,400" in _wait_answer(page, "186,400")

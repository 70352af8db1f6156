"""Evidence in Debian's chromium at 1600×1000: the original PDF page with red boxes and its own
page number, a highlighted DOCX passage, every cited place clickable, the image enlarged on a
click, "Show in preview", no Thinking panel for the built-in reader, a new question clearing
the old answer."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.documents import memo_docx

pytestmark = pytest.mark.browser

MAGIC = "What is the magic number of the orange project?"
NEEDLE = "The magic number of the orange project is 58213."


def long_pdf(path: Path, pages: int = 6) -> Path:
    """Pages of ledger lines (several rendered pages); the needle on the last PDF page."""
    import pymupdf

    doc = pymupdf.open()
    for p in range(pages):
        page = doc.new_page()
        y = 60
        for i in range(42):
            line = (
                f"Aisle {p * 42 + i} of warehouse {p + 1} held {1000 + 7 * i} crates of "
                f"goods checked on day {i + 1}."
            )
            if p == pages - 1 and i == 20:
                line = NEEDLE
            page.insert_text((60, y), line, fontsize=11)
            y += 17
    doc.save(path)
    doc.close()
    return path


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(120_000)
    yield tab
    context.close()


def _image(tab, selector: str) -> Image.Image:
    src = tab.locator(selector).get_attribute("src")
    return Image.open(io.BytesIO(tab.request.get(src).body())).convert("RGB")


def _red(image: Image.Image) -> int:
    a = np.asarray(image).astype(int)
    return int(((a[..., 0] > 180) & (a[..., 1] < 80) & (a[..., 2] < 80)).sum())


def _open(tab, url: str, path: Path) -> None:
    tab.goto(url)
    tab.locator("#reader").get_by_text("built-in OCR reader").wait_for()
    tab.locator("#upload input[type=file]").set_input_files(str(path))
    tab.wait_for_function("() => document.querySelectorAll('#gallery img').length > 0")


def _ask(tab, question: str) -> None:
    tab.locator("#question textarea").fill(question)
    tab.locator("#ask").click()


def test_a_pdf_answer_on_its_original_page(ui_server, page, tmp_path, shots):
    _open(page, ui_server, long_pdf(tmp_path / "ledger.pdf"))
    assert not page.locator("#thinking").is_visible()  # the built-in reader does not think
    _ask(page, MAGIC)
    where = page.locator("#evidence-where")
    where.get_by_text("Page 6").wait_for()
    assert re.search(r"Page 6\s+of 6 · ledger\.pdf", where.inner_text())
    places = page.locator("#evidence-pages label")
    assert places.count() >= 1 and all("page 6 · “" in t for t in places.all_inner_texts())
    original = page.locator("#evidence-original img")
    original.wait_for()
    image = _image(page, "#evidence-original img")
    # the PDF's text column at 150 dpi, several lines around the answer: legible, not a strip
    assert image.width >= 700 and image.height >= 300 and _red(image) > 50
    shown = original.bounding_box()
    assert shown["width"] >= 480 and shown["height"] >= 150
    assert "58213" in page.locator("#answer textarea").input_value()
    page.locator("#evidence-tabs").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "evidence-pdf.png"))

    # every cited place: a click on the second one shows it
    if places.count() > 1:
        before = original.get_attribute("src")
        places.nth(1).click()
        page.wait_for_function(
            "(src) => document.querySelector('#evidence-original img').src !== src", arg=before
        )
        assert _red(_image(page, "#evidence-original img")) > 50

    # a click on the image shows it full screen (Escape closes it)
    original.click()
    page.wait_for_function(
        "() => document.querySelector('#evidence-original img').getBoundingClientRect().width"
        " > 1000"
    )
    page.screenshot(path=str(shots / "evidence-fullscreen.png"))
    page.keyboard.press("Escape")
    page.wait_for_function(
        "() => document.querySelector('#evidence-original img').getBoundingClientRect().width < 700"
    )

    # "Show in preview" opens the rendered page that holds the answer in the gallery
    rendered = int(re.search(r"rendered page (\d+)", where.inner_text())[1])
    page.locator("#show-in-preview").click()
    page.locator("#gallery .preview").wait_for()
    selected = page.locator("#gallery button.thumbnail-small.selected")
    selected.wait_for()
    assert selected.get_attribute("aria-label").startswith(f"Thumbnail {rendered} of ")
    assert rendered > 1  # the answer is not on the first rendered page: the jump is visible

    # the dense page the reader read is the second view
    page.locator("#evidence-tabs").get_by_role("tab", name="What the model read").click()
    page.locator("#evidence img").wait_for()
    assert _red(_image(page, "#evidence img")) > 20


def _blue(image: Image.Image) -> int:
    a = np.asarray(image).astype(int)
    return int(((a[..., 0] < 60) & (a[..., 1] > 70) & (a[..., 1] < 140) & (a[..., 2] > 180)).sum())


def test_not_found_shows_the_closest_passage_in_blue(ui_server, page, tmp_path, shots):
    """ "Not found, please check page 6": the page is listed as the closest passage, no answer,
    and shown with a blue box, not a red one."""
    _open(page, ui_server, long_pdf(tmp_path / "ledger.pdf"))
    _ask(page, "What is the phone number of the orange project?")
    where = page.locator("#evidence-where")
    where.get_by_text("closest passage, not an answer").wait_for()
    assert re.search(r"Page 6\s+of 6 · ledger\.pdf", where.inner_text())
    assert "Not found" in page.locator("#answer textarea").input_value()
    (label,) = page.locator("#evidence-pages label").all_inner_texts()
    assert label.startswith("🔍 page 6 · closest passage, not an answer · “The magic number")
    assert "outlined in blue" in page.locator("#confidence").inner_text()
    page.locator("#evidence-original img").wait_for()
    image = _image(page, "#evidence-original img")
    assert _blue(image) > 50 and _red(image) == 0
    page.locator("#evidence-tabs").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "evidence-not-found-closest.png"))


def test_a_docx_answer_as_a_highlighted_passage(ui_server, page, tmp_path, shots):
    _open(page, ui_server, memo_docx(tmp_path / "memo.docx"))
    _ask(page, "What is the project budget?")
    mark = page.locator("#evidence-passage mark").first
    mark.wait_for()
    assert "2.4 million" in mark.inner_text()
    passage = page.locator("#evidence-passage").inner_text()
    assert "The project budget is 2.4 million euros." in passage
    assert not page.locator("#evidence-original img").is_visible()
    where = page.locator("#evidence-where").inner_text()
    assert re.search(r"Passage 1\s+of \d+ · memo\.docx", where)
    labels = page.locator("#evidence-pages label")
    assert "passage 1 · “" in labels.first.inner_text()  # "⚠ " first when it needs review
    page.locator("#evidence-tabs").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "evidence-docx.png"))
    if labels.count() > 1:  # the second place: its own passage
        first = mark.inner_text()
        labels.nth(1).click()
        page.wait_for_function(
            "(t) => document.querySelector('#evidence-passage mark').innerText !== t", arg=first
        )
        page.locator("#evidence-where").get_by_text("Passage 2").wait_for()


def test_a_new_question_clears_the_old_answer(ui_server, page, tmp_path):
    _open(page, ui_server, memo_docx(tmp_path / "memo.docx"))
    _ask(page, "What is the project budget?")
    page.locator("#evidence-passage mark").wait_for()
    page.locator("#dl-json").wait_for()
    # queued as a job: nothing of the earlier answer stays under the new question
    page.locator("#compute").get_by_text("Queue (异步队列)").click()
    _ask(page, "Who is the owner?")
    page.locator("#status").get_by_text("queued").wait_for()
    assert page.locator("#answer textarea").input_value() == ""
    assert page.locator("#evidence-passage mark").count() == 0
    assert page.locator("#evidence-where").inner_text().strip() == ""
    assert page.locator("#evidence-pages label").count() == 0
    assert not page.locator("#dl-json").is_visible()
    # asked now: the old answer goes at once, before the new one arrives
    page.locator("#compute").get_by_text("Run now (网页推理)").click()
    _ask(page, "What is the project budget?")
    page.locator("#evidence-passage mark").wait_for()
    _ask(page, "Where does the kickoff meeting take place?")
    page.wait_for_function("() => document.querySelector('#answer textarea').value === ''")
    page.wait_for_function(
        "() => document.querySelector('#answer textarea').value.includes('Rotterdam')"
    )
    page.locator("#evidence-passage mark").get_by_text("Rotterdam").wait_for()

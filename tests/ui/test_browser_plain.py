"""A UI staff read without help, in Debian's chromium at 1600×1000: one progress indicator that
counts scanned pages, the statistics in plain words, the upload box that never shows a rejected
file, the drop zone in the chosen language, and a jobs table that fits and opens a result."""

from __future__ import annotations

import re
import time

import pytest

from tests.ingest.ingest_samples import SCAN_EN, scanned_text_pdf

pytestmark = pytest.mark.browser

FEE = "What is the annual subscription fee?"

VISIBLE_TRACKERS = """() => [...document.querySelectorAll('[data-testid="status-tracker"]')]
    .filter(e => !e.classList.contains('hide') && e.offsetParent !== null && e.innerText.trim())
    .map(e => e.innerText.trim())"""

DROP_TEXT = """() => getComputedStyle(
    document.querySelector('#upload [data-testid="upload-text"]'), '::after').content"""

# the header cells with a word broken over two lines: two letters of a word on different lines
BROKEN_HEADERS = """() => [...document.querySelectorAll('#jobs-table th .header')].filter(el => {
    const node = [...el.childNodes].find(n => n.nodeType === Node.TEXT_NODE);
    if (!node) return false;
    const text = node.textContent, range = document.createRange(), tops = [];
    for (let i = 0; i < text.length; i++) {
        range.setStart(node, i); range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        tops.push(rect ? Math.round(rect.top) : null);
    }
    for (let i = 1; i < text.length; i++) {
        if (/\\S/.test(text[i]) && /\\S/.test(text[i - 1]) && tops[i] !== tops[i - 1]) return true;
    }
    return false;
}).map(el => el.textContent)"""


@pytest.fixture
def page_at(browser):
    """A tab at 1600×1000 in ``locale``."""
    contexts = []

    def make(locale: str = "en-US"):
        context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(60_000)
        return page

    yield make
    for context in contexts:
        context.close()


def _gallery(page, timeout: float = 60_000) -> None:
    page.wait_for_function(
        "() => document.querySelectorAll('#gallery img').length > 0", timeout=timeout
    )


def _example(page, name: str = "service_agreement.md") -> None:
    page.locator("#examples").get_by_text(name).click()
    _gallery(page)


@pytest.mark.slow
def test_scanned_upload_one_progress_indicator_counting_pages(ui_server, page_at, tmp_path, shots):
    scan, _ = scanned_text_pdf([SCAN_EN] * 3)
    path = tmp_path / "depot-scan.pdf"
    path.write_bytes(scan)
    page = page_at("en-US")
    page.goto(ui_server)
    page.locator("#reader").get_by_text("built-in OCR reader").wait_for()
    page.locator("#upload input[type=file]").set_input_files(str(path))
    seen: list[list[str]] = []
    deadline = time.monotonic() + 240
    while not page.evaluate("() => document.querySelectorAll('#gallery img').length > 0"):
        seen.append(page.evaluate(VISIBLE_TRACKERS))
        if any("scanned page 2 of 3" in text for text in seen[-1]):
            page.screenshot(path=str(shots / "scan-progress.png"))
        assert time.monotonic() < deadline, seen[-5:]
        time.sleep(0.25)
    assert max(len(trackers) for trackers in seen) == 1, [s for s in seen if len(s) > 1][:3]
    texts = [text for trackers in seen for text in trackers]
    assert any(
        re.search(r"Reading scanned page [123] of 3 by OCR… - \d+(\.\d)?%", t) for t in texts
    )
    percents = [float(m[1]) for t in texts if (m := re.search(r"- (\d+(?:\.\d)?)%", t))]
    assert percents == sorted(percents)  # one overall fraction: it never starts again

    stats = page.locator("#stats")
    assert re.search(r"^3 pages → \d+ page images? · [\d.]+× fewer tokens", stats.inner_text())
    title = stats.locator("span[title]").get_attribute("title")
    assert "visual tokens" in title and "dpi" in title and "dpi" not in stats.inner_text()
    page.screenshot(path=str(shots / "scan-done.png"))


@pytest.mark.slow
def test_a_rejected_upload_is_taken_out_of_the_box(ui_server, page_at, tmp_path, shots):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"\x00\x01 definitely not a PDF \xff" * 50)
    for locale, still_open in (("en-US", "is still open"), ("zh-CN", "仍保持打开")):
        page = page_at(locale)
        page.goto(ui_server)
        page.locator("#reader").wait_for()
        _example(page)
        page.locator("#upload input[type=file]").set_input_files(str(bad))
        message = page.locator("#message")
        message.get_by_text(still_open).wait_for()
        assert "service_agreement.md" in message.inner_text()
        # the box is empty again (its drop zone), not showing the rejected file
        page.locator('#upload [data-testid="upload-text"]').wait_for()
        assert "broken.pdf" not in page.locator("#upload").inner_text()
        assert "service_agreement.md" in page.locator("#doc-info").inner_text()
        page.screenshot(path=str(shots / f"rejected-{locale}.png"))


def test_the_drop_zone_speaks_the_chosen_language(ui_server, page_at):
    page = page_at("en-US")
    page.goto(ui_server)
    page.locator("#ask").get_by_text("Ask").wait_for()
    assert "Drop files here" in page.evaluate(DROP_TEXT)
    page.locator("#lang").get_by_text("中文").click()
    page.wait_for_function(f"() => ({DROP_TEXT})().includes('将文件拖放到此处')")
    # Gradio's own words (in the browser's language) take no room on the screen
    size = "() => getComputedStyle(document.querySelector('#upload [data-testid=upload-text]'))"
    assert page.evaluate(f"{size}.fontSize") == "0px"
    page.locator("#lang").get_by_text("English").click()
    page.wait_for_function(f"() => ({DROP_TEXT})().includes('Drop files here')")


def test_jobs_table_fits_and_a_row_opens_its_answer(ui_server, page_at, shots):
    page = page_at("en-US")
    page.goto(ui_server)
    _example(page)
    page.locator("#compute").get_by_text("Queue (异步队列)").click()
    page.locator("#question textarea").fill(FEE)
    page.locator("#ask").click()
    page.locator("#status").get_by_text("queued").wait_for()
    page.wait_for_function(
        "() => document.querySelector('#jobs-table').innerText.includes('Done')", timeout=180_000
    )
    assert page.evaluate(BROKEN_HEADERS) == []
    assert page.locator("#answer textarea").input_value() == ""
    page.locator("#jobs-table").get_by_test_id("cell-0-1").click()  # the question of the row
    page.wait_for_function(
        "() => document.querySelector('#answer textarea').value.includes('186,400')",
        timeout=60_000,
    )
    assert re.fullmatch(r"[0-9a-f]{16}", page.locator("#job-id input").input_value())
    assert page.locator("#status").get_by_text("Result of job").count() == 1
    page.locator("#pane-reasoning").screenshot(path=str(shots / "jobs-row.png"))
    page.locator("#lang").get_by_text("中文").click()
    page.wait_for_function(
        "() => document.querySelector('#jobs-table').innerText.includes('已完成')"
    )
    assert "问题 · 文档" in page.locator("#jobs-table").inner_text()

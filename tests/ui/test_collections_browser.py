"""Several documents in Debian's chromium (issue 20): upload two at once, the document list and
the preview's selector, a question to some of them, a saved collection re-opened in a new tab,
removal, deletion."""

from __future__ import annotations

import re

import pytest

from tests.helpers.documents import memo_docx

pytestmark = pytest.mark.browser

BUDGET_Q = "What is the project budget?"


def _licence(tmp_path):
    from pathlib import Path

    path = tmp_path / "apache-2.0.txt"
    path.write_bytes(Path("/usr/share/common-licenses/Apache-2.0").read_bytes())
    return path


def _ask(page, question: str) -> str:
    status = page.locator("#status")
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    # the question clears the last answer's line, then its own "Done in … s" comes
    page.wait_for_function(
        "() => !document.querySelector('#status').innerText.includes('Done in')", timeout=30_000
    )
    status.get_by_text("Done in").wait_for(timeout=120_000)
    return page.locator("#answer textarea").input_value()


def _pick(page, dropdown: str, option: str) -> None:
    page.locator(f"#{dropdown} input").click()
    page.get_by_role("option", name=option).click()


@pytest.mark.slow
def test_two_documents_one_question_saved_and_reopened(ui_server, page_factory, tmp_path, shots):
    page = page_factory("en-US")
    page.goto(ui_server)
    page.locator("#reader").get_by_text("built-in OCR reader").wait_for()
    memo, licence = memo_docx(tmp_path / "memo.docx"), _licence(tmp_path)
    broken = tmp_path / "scan.pdf"
    broken.write_bytes(b"%PDF-1.4 cut off in the middle")
    files = [str(memo), str(licence), str(broken)]
    page.locator("#upload input[type=file]").set_input_files(files)
    doc_list = page.locator("#doc-list")
    doc_list.get_by_text("apache-2.0.txt").wait_for(timeout=120_000)
    assert doc_list.get_by_role("checkbox").count() == 2
    # the file that could not be opened is listed under the others, with why
    status = page.locator("#doc-status")
    status.get_by_text("Not opened (1)").wait_for()
    assert "scan.pdf" in status.inner_text()
    assert page.locator("#preview-doc").is_visible()

    answer = _ask(page, BUDGET_Q)
    assert "2.4" in answer, answer
    page.locator("#evidence-pages").get_by_text(re.compile("^memo.docx")).first.wait_for()

    # the preview shows one document at a time
    _pick(page, "preview-doc", "apache-2.0.txt")
    page.locator("#stats").get_by_text("Showing apache-2.0.txt").wait_for()
    page.screenshot(path=str(shots / "collection.png"), full_page=True)

    # questions to the licence only: the memo's budget is not there
    doc_list.locator("label", has_text="memo.docx").click()  # untick it
    answer = _ask(page, BUDGET_Q)
    assert "2.4" not in answer, answer
    assert page.locator("#evidence-pages").get_by_text(re.compile("^memo.docx")).count() == 0

    # saved, then re-opened in a new tab (a new session)
    page.locator("#collections").get_by_text("Saved collections").click()
    page.locator("#coll-name textarea").fill("Team documents")
    page.locator("#coll-save").click()
    page.locator("#message").get_by_text("Saved “Team documents” (2 documents).").wait_for()

    other = page_factory("en-US")
    other.goto(ui_server)
    other.locator("#collections").get_by_text("Saved collections").click()
    _pick(other, "coll-list", "Team documents · 2 documents")
    other.locator("#coll-open").click()
    other.locator("#doc-list").get_by_text("memo.docx").wait_for(timeout=120_000)
    assert "2.4" in _ask(other, BUDGET_Q)

    # removing the document the preview shows; one document left: no list, no selector
    _pick(other, "preview-doc", "memo.docx")
    other.locator("#remove-doc").click()
    other.locator("#doc-list").wait_for(state="hidden")
    assert "apache-2.0.txt" in other.locator("#doc-info").inner_text()

    _pick(other, "coll-list", "Team documents · 2 documents")
    other.locator("#coll-delete").click()
    other.locator("#message").get_by_text("Deleted “Team documents”.").wait_for()

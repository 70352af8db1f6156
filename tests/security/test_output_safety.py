"""Document text, file names, questions and messages are shown as text, never as HTML/JS."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ui.manager import UIManager
from app.ui.safety import md_escape
from app.ui.session import Session

XSS_NAME = "<img src=x onerror=alert(1)>.txt"
XSS_TEXT = (
    "Incident report. The attacker typed <script>alert(2)</script> into the form, "
    "then <img src=x onerror=alert(3)> and [click](javascript:alert(4)). "
    "The ticket number is 55817."
)


def _markdown():
    import markdown_it

    return markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _visible(md: str) -> str:
    """What a Markdown renderer shows for ``md``: tags dropped, entities decoded."""
    rendered = _markdown().render(md)
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).replace("\xa0", " ")


MARKUP = st.text(
    st.sampled_from(list("<>&\"'`*_~[]()#!|=+-.:/\\$ \n\tab1é中")), min_size=1, max_size=40
)


@settings(max_examples=300, deadline=None)
@given(MARKUP)
def test_escaped_markdown_shows_exactly_the_text(text):
    expected = " ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    shown = " ".join(_visible(md_escape(text)).split())
    assert shown == " ".join(expected.split())
    assert "<" not in _markdown().render(md_escape(text)).replace("<p>", "").replace(
        "</p>", ""
    ).replace("<br />", "")


def test_document_info_quotes_names_and_notes_literally():
    from app.datamodel import Note
    from app.ingest import load_text
    from app.settings import Settings

    doc = load_text("x", settings=Settings(_env_file=None))
    s = Session()
    s.document = doc.model_copy(
        update={
            "name": "# __init__ [x](javascript:alert(1)) <b>bold</b>.py",
            "notes": [Note(en="<img src=x onerror=alert(1)> **not bold**", zh="<b>粗</b>")],
        }
    )
    info = UIManager.document_info(None, s)  # type: ignore[arg-type]
    rendered = _markdown().render(info)
    assert "<img" not in rendered and "<a " not in rendered and "<h1" not in rendered
    assert "<b>" not in rendered and "<em>" not in rendered
    shown = _visible(info)
    assert "# __init__ [x](javascript:alert(1)) <b>bold</b>.py" in shown
    assert "<img src=x onerror=alert(1)> **not bold**" in shown


@pytest.mark.browser
def test_script_in_names_text_questions_and_ids_shows_literally(
    limits_server, page_factory, tmp_path
):
    fired: list[str] = []
    page = page_factory("en-US")
    page.on("dialog", lambda d: (fired.append(d.message), d.dismiss()))
    page.goto(limits_server.url)

    doc = tmp_path / XSS_NAME
    doc.write_text(XSS_TEXT, encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(str(doc))
    page.wait_for_function("() => document.querySelectorAll('#gallery img').length > 0")
    # Gradio strips '<' and '>' from uploaded file names; the rest must show as typed
    page.locator("#doc-info").get_by_text("img src=x onerror=alert(1).txt").wait_for()
    assert page.locator("#doc-info img, #doc-info script").count() == 0

    # the answer quotes the text (summaries leave markup out; a question's sentence keeps it)
    page.locator("#question textarea").fill("What did the attacker type into the form?")
    page.locator("#ask").click()
    page.wait_for_function(
        "() => document.querySelector('#answer textarea').value.includes('alert')",
        timeout=120_000,
    )
    assert "<script>" in page.locator("#answer textarea").input_value()
    assert page.locator("#pane-reasoning script, #pane-reasoning img[src='x']").count() == 0

    # a Markdown-looking name is not turned into a heading, emphasis or a link
    tricky = tmp_path / "# Title _x_ [a](b) ~~s~~.txt"
    tricky.write_text("A parcel of 12 kg.", encoding="utf-8")
    page.locator("#upload button[aria-label='Clear']").click()
    page.locator("#upload input[type=file]").set_input_files(str(tricky))
    page.locator("#doc-info").get_by_text("# Title _x_ [a](b) ~~s~~.txt").wait_for()
    assert page.locator("#doc-info h1, #doc-info em, #doc-info a, #doc-info del").count() == 0

    # a question queued as a job: the jobs table shows it as text
    page.locator("#mode").get_by_text("Question answering").click()
    page.locator("#compute").get_by_text("Queue (异步队列)").click()
    page.locator("#question textarea").fill("<img src=x onerror=alert(5)> weight?")
    page.locator("#ask").click()
    page.locator("#jobs-table span").get_by_text("<img src=x onerror=alert(5)> weight?").wait_for()
    assert page.locator("#jobs-table img").count() == 0

    # an error message quoting what was typed (an unknown job id)
    page.locator("#job-id input").fill("<img src=x onerror=alert(6)><script>alert(7)</script>")
    page.locator("#job-show").click()
    page.locator("#message").get_by_text(
        "No job with id '<img src=x onerror=alert(6)><script>alert(7)</script>'."
    ).wait_for()
    assert page.locator("#message img, #message script").count() == 0
    page.wait_for_timeout(500)  # give any injected handler the chance to fire
    assert fired == []

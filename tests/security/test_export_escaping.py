"""#21: the Markdown download quotes the question, answer, thinking, evidence and names literally:
rendered by a real Markdown library it has no images, no links, no raw HTML from the input."""

from __future__ import annotations

import html
import re

import pytest

from app.datamodel import Answer, Evidence, Mode, Span
from app.markup import md_block, md_inline
from app.report import answer_markdown
from tests.helpers.fake_render import fake_render

HOSTILE = (
    "<img src=x onerror=alert(1)> <script>alert(2)</script> [link](javascript:alert(1)) "
    "![pic](javascript:alert(3)) <javascript:alert(4)> **bold** `code`"
)
# what the report's own markup may produce; anything else came from the input
ALLOWED_TAGS = {"h1", "h2", "p", "ul", "li", "strong", "br", "details", "summary"}


def _renderers():
    import markdown_it

    yield markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render
    try:
        import markdown  # Python-Markdown, when installed
    except ImportError:
        return
    yield markdown.markdown


def _report() -> str:
    text = f"Line one {HOSTILE}\n# not a heading\n- not a list\n\n1. not a list either"
    rendered = fake_render(f"Total {HOSTILE}")
    rendered.name = f"{HOSTILE}.txt"
    span = Span(start=6, end=6 + len(HOSTILE), text=HOSTILE)
    answer = Answer(
        text=text,
        mode=Mode.QA,
        reader=f"ocr {HOSTILE}",
        thinking=f"thinking {HOSTILE}\n</details><img src=y onerror=alert(5)>",
        confidence=0.5,
        evidence=[Evidence(page=0, boxes=[(1, 2, 3, 4)], span=span)],
    )
    return answer_markdown(answer, f"Why {HOSTILE}\n## sub", rendered)


@pytest.mark.parametrize("render", list(_renderers()))
def test_markdown_report_interprets_nothing_from_the_input(render):
    out = render(_report())
    tags = {t.lower() for t in re.findall(r"</?\s*([a-zA-Z][a-zA-Z0-9]*)", out)}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert "<img" not in out and "<script" not in out and "<a " not in out and "href" not in out
    assert "<code>" not in out and "<em>" not in out
    assert out.count("<h1>") == 1 and out.count("<li>") == 1  # the evidence item only
    visible = html.unescape(re.sub(r"<[^>]+>", "", out))
    assert "[link](javascript:alert(1))" in visible and "<img src=x onerror=alert(1)>" in visible
    assert f"Why {HOSTILE} ## sub" in visible  # the question, literally, on the heading's line


def test_markdown_answer_keeps_its_lines():
    import markdown_it

    out = markdown_it.MarkdownIt("commonmark").render(md_block("a\n- b\n\nc"))
    assert out == "<p>a<br />\n- b</p>\n<p>c</p>\n"
    assert md_inline("x\ny  z") == "x y z"

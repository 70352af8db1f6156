"""HTML loading: visible text only, structure as lines, encodings, nothing executed or fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ingest import load

pytestmark = pytest.mark.timeout(60)

PAGE = """<!DOCTYPE html>
<html><head><title>Travel Policy</title>
<meta charset="utf-8"><style>body { color: red }</style>
<script>document.write("INJECTED"); fetch("http://example.invalid/x")</script>
<link rel="stylesheet" href="http://example.invalid/s.css"></head>
<body>
<nav>Home &amp; <a href="/a">About</a></nav>
<h1>Travel   Policy</h1>
<p>Claims are due within <b>15 days</b>.<br>Receipts are required.</p>
<h2>Rules</h2>
<ul><li>Economy class</li><li>Hotels under&nbsp;$200<ul><li>Nested rule</li></ul></li></ul>
<ol start="3"><li>Third</li><li>Fourth</li></ol>
<table><caption>Rates</caption>
<tr><th>City</th><th>Rate</th></tr>
<tr><td>Paris</td><td><p>180</p><p>EUR</p></td></tr>
</table>
<div hidden>SECRET hidden div</div>
<p style="display: none">SECRET display none</p>
<noscript>SECRET enable javascript</noscript>
<template><p>SECRET template</p></template>
<iframe src="http://example.invalid/frame">SECRET iframe fallback</iframe>
<svg><text>SECRET svg text</text></svg>
<pre>  code  line
\tindented</pre>
<!-- SECRET comment -->
<p>The end.</p>
<script>alert("SECRET script 2")</script>
</body></html>
"""


def test_visible_text_and_structure(settings):
    doc = load(PAGE.encode(), name="policy.html", settings=settings)
    assert doc.format == "html"
    assert "SECRET" not in doc.text and "INJECTED" not in doc.text and "color" not in doc.text
    got = [(b.kind, b.level, b.text) for b in doc.blocks]
    assert got == [
        ("paragraph", None, "Home & About"),
        ("heading", 1, "Travel Policy"),
        ("paragraph", None, "Claims are due within 15 days."),
        ("paragraph", None, "Receipts are required."),
        ("heading", 2, "Rules"),
        ("list_item", 1, "• Economy class"),
        ("list_item", 1, "• Hotels under $200"),
        ("list_item", 2, "• Nested rule"),
        ("list_item", 1, "3. Third"),
        ("list_item", 1, "4. Fourth"),
        ("caption", None, "Rates"),
        ("table_row", None, "City | Rate"),
        ("table_row", None, "Paris | 180 EUR"),
        ("code", None, "  code  line\n\tindented"),
        ("paragraph", None, "The end."),
    ]
    # The <title> repeats the h1, so it is not added as a block of its own.
    assert doc.metadata["title"] == "Travel Policy"


def test_title_added_when_different(settings):
    html = b"<html><head><title>Doc Title</title></head><body><p>Body text.</p></body></html>"
    doc = load(html, name="t.html", settings=settings)
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("heading", "Doc Title"),
        ("paragraph", "Body text."),
    ]


def test_meta_charset_gb2312(settings):
    html = '<html><head><meta charset="gb2312"></head><body><p>差旅报销办法</p></body></html>'
    doc = load(html.encode("gb18030"), name="zh.htm", settings=settings)
    assert doc.text == "差旅报销办法"
    assert doc.metadata["encoding"] == "gb18030"
    assert doc.language == "zh"


def test_html_fragment_detected_by_content(settings):
    frag = b"<div><h1>Heading</h1><p>one</p><p>two</p></div>"
    doc = load(frag, name="fragment", settings=settings)
    assert doc.format == "html"
    assert doc.text == "Heading\none\ntwo"
    # The name says text: the markup stays as written.
    doc = load(frag, name="fragment.md", settings=settings)
    assert doc.format == "markdown" and doc.text == frag.decode()


def test_entities_not_expanded_from_internal_dtd(settings):
    html = b"""<!DOCTYPE html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>
<html><body><p>x&b;y</p></body></html>"""
    doc = load(html, name="laughs.html", settings=settings)
    assert "aaaaaaaaaa" not in doc.text


@pytest.mark.timeout(30)
def test_deeply_nested_page(settings):
    html = "<html><body>" + "<div>" * 100_000 + "deep text" + "</div>" * 100_000
    doc = load(html.encode(), name="deep.html", settings=settings)
    assert doc.text == "deep text"


def test_heading_permalinks_dropped(settings):
    """The "¶" or "#" a documentation generator puts beside each heading (shown on hover) is no
    part of the heading; an ordinary link to a part of the page keeps its words."""
    html = (
        b'<html><body><h2>Rules<a class="headerlink" href="#rules" title="Link to this heading">'
        b'\xc2\xb6</a></h2><h3>Limits<a href="#limits" title="Permalink to this headline">'
        b'\xc2\xb6</a></h3><h3><a class="header-anchor" href="#cost">#</a> Cost</h3>'
        b'<p>See <a href="#rules">the rules</a> and <a class="headerlink" href="https://x.invalid/">'
        b"the site</a>.</p></body></html>"
    )
    doc = load(html, name="doc.html", settings=settings)
    assert [b.text for b in doc.blocks] == [
        "Rules",
        "Limits",
        "Cost",
        "See the rules and the site.",
    ]


SPHINX_CHAPTER = Path("/usr/share/doc/debian-policy/policy.html/ch-sharedlibs.html")


@pytest.mark.skipif(not SPHINX_CHAPTER.exists(), reason="debian-policy (scripts/setup.sh) missing")
def test_sphinx_chapter_headings_without_pilcrow(settings):
    """A real Sphinx page (Debian Policy, installed by set-up): its headings read as written."""
    doc = load(SPHINX_CHAPTER, settings=settings)
    headings = [b.text for b in doc.blocks if b.kind == "heading"]
    assert "Generating dependencies on shared libraries" in " ".join(headings)
    assert len(headings) >= 10
    assert "¶" not in doc.text


def test_hidden_alternatives_that_a_script_shows_one_of_are_read(settings):
    """LibreOffice's help puts the text for each application in a hidden case of a "switch" and
    its viewer shows one: read as a file, the page said nothing of what it documents. Every case
    is read (inline ones side by side: "Command / Ctrl"), and so are hidden tab panels; an element
    hidden beside visible text stays hidden."""
    html = """<html><body><h1>Paste Special</h1>
<span class="switch">
  <span hidden="true" class="MATH"></span>
  <span hidden="true" class="CALC"><p>Calc pastes cells with their formats.</p></span>
  <span hidden="true" id="default"><p>Choose Edit - Paste Special.</p></span>
</span>
<p>Press <span class="switchinline"><span hidden="true" class="MAC"><span>Command</span></span>
<span hidden="true" id="defaultsys"><span>Ctrl</span></span></span> + Shift + V.</p>
<div role="tablist"><div role="tabpanel">On Linux run apt.</div>
<div role="tabpanel" hidden>On Windows run the installer.</div></div>
<div hidden>SECRET beside visible text</div>
<div><script>var x = 1;</script><div hidden>Loading the viewer</div></div>
</body></html>"""
    doc = load(html.encode(), name="paste.html", settings=settings)
    assert [b.text for b in doc.blocks] == [
        "Paste Special",
        "Calc pastes cells with their formats.",
        "Choose Edit - Paste Special.",
        "Press Command / Ctrl + Shift + V.",
        "On Linux run apt.",
        "On Windows run the installer.",
        "Loading the viewer",
    ]

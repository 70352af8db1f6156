"""HTML: the text a reader would see, as blocks (headings, paragraphs, list items, table rows).

The page is parsed by libxml2's HTML parser in event mode (lxml ``target=``), so no tree is built,
nothing is fetched and nothing runs: scripts, styles, templates, embedded objects and elements
hidden with ``hidden`` or ``display:none`` are dropped — except alternatives that a script shows
one of (``_Alternatives``: LibreOffice's help, whose text for Writer and for Calc sits in hidden
cases of a "switch", tab panels) — and so are the permalink signs that
documentation generators put beside each heading ("¶" of Sphinx and MkDocs, "#" of VuePress:
shown only on hover, they are not part of the heading a reader sees), and the rest is laid out
the way a text browser would — block elements start new lines, whitespace collapses except inside ``<pre>``,
list items get their bullet or number, table rows become ``cell | cell``. Event mode also means
no nesting-depth limit: a page with 100,000 nested ``<div>`` elements parses in linear time.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from app.datamodel import BlockKind, Document
from app.errors import IngestError
from app.ingest.base import DocumentBuilder, Limits, Loader, clean_text, too_many_chars
from app.ingest.text import decode_bytes

log = logging.getLogger(__name__)

# Elements whose content is never shown as text.
SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "iframe", "object", "embed", "svg",
     "canvas", "audio", "video", "map", "select", "datalist", "button", "input", "meta",
     "link", "base", "frameset", "frame", "param", "source", "track"}
)  # fmt: skip
BLOCK_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog",
     "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1",
     "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main",
     "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "caption", "tbody",
     "thead", "tfoot", "tr", "td", "th", "ul", "textarea", "title", "br", "option"}
)  # fmt: skip
HEADINGS = {f"h{i}": i for i in range(1, 7)}
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_WS_RE = re.compile(r"[ \t\n\r\f\v\u00a0\u200b]+")
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HTML_START_RE = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b",
    re.I | re.S,
)
_HTML_TAG_RE = re.compile(rb"<(?:html|head|body|div|p|h1|table|title|meta)\b[^>]*>", re.I)


# the classes documentation generators give a heading's permalink (Sphinx and MkDocs "headerlink",
# VuePress "header-anchor", AnchorJS "anchorjs-link")
_PERMALINK_CLASSES = frozenset({"headerlink", "header-anchor", "anchorjs-link"})


def _permalink(attrib: Any) -> bool:
    """An ``<a>`` that only links to its own heading, drawn as "¶" or "#"."""
    href = attrib.get("href") or ""
    if not href.startswith("#"):
        return False
    classes = set((attrib.get("class") or "").split())
    title = (attrib.get("title") or "").lower()
    return bool(classes & _PERMALINK_CLASSES) or title.startswith("permalink")


def _hidden(attrib: Any) -> bool:
    if "hidden" in attrib:
        return True
    style = attrib.get("style")
    return bool(style and _HIDDEN_STYLE_RE.search(style))


class _Alternatives:
    """lxml parser target for a first pass: which hidden elements are alternatives that a script
    shows one of, by their order among the page's elements. An element hidden by the ``hidden``
    attribute is one when none of its siblings shows any text, or when it is a tab panel.
    LibreOffice's help puts each application's text in a hidden case of a "switch" (the Calc
    case, the Writer case, the default) and its viewer shows the one it was opened from: read as
    a file, every case is hidden and the page said nothing of it. Beside visible text, or hidden
    by style, an element stays hidden. Event mode like the collector: no tree, no depth limit."""

    def __init__(self) -> None:
        self.hidden: list[bool] = []
        self.tab: list[bool] = []
        self.skipped: list[bool] = []  # a script, a style: its text is never shown
        self.parent: list[int] = []
        self.texts: list[bool] = []  # holds text, its own or a child's
        self.shows: list[bool] = []  # shows text outside its hidden children
        self.stack: list[int] = []

    def start(self, tag: Any, attrib: Any) -> None:
        tag = tag.lower() if isinstance(tag, str) else ""
        self.parent.append(self.stack[-1] if self.stack else -1)
        self.hidden.append("hidden" in attrib)
        self.tab.append("hidden" in attrib and attrib.get("role") == "tabpanel")
        self.skipped.append(tag in SKIP_TAGS)
        self.texts.append(False)
        self.shows.append(False)
        self.stack.append(len(self.hidden) - 1)

    def end(self, tag: Any) -> None:
        if not self.stack:
            return
        i = self.stack.pop()
        up = self.parent[i]
        if up >= 0 and self.texts[i] and not self.skipped[i]:
            self.texts[up] = True
            self.shows[up] = self.shows[up] or not self.hidden[i]

    def data(self, text: str) -> None:
        if self.stack and text.strip():
            self.texts[self.stack[-1]] = True
            self.shows[self.stack[-1]] = True

    def close(self) -> frozenset[int]:
        return frozenset(
            i
            for i, up in enumerate(self.parent)
            if self.hidden[i] and (self.tab[i] or (up >= 0 and not self.shows[up]))
        )


@dataclass
class _List:
    ordered: bool
    counter: int = 1


@dataclass
class _Collector:
    """lxml parser target: turns start/end/data events into blocks."""

    builder: DocumentBuilder
    alternatives: frozenset[int] = frozenset()  # hidden elements shown all the same (_Alternatives)
    elements: int = 0  # start tags seen, the index _Alternatives gives them
    after_alternative: bool = False  # an inline alternative just ended with text: "Command / Ctrl"
    said: int = 0  # pieces of text kept so far
    skip: int = 0
    pre: int = 0
    buf: list[str] = field(default_factory=list)
    # (tag, starts a skip, pieces of text said before it when it is a shown alternative)
    stack: list[tuple[str, bool, int | None]] = field(default_factory=list)
    lists: list[_List] = field(default_factory=list)
    heading: int | None = None
    in_li: int = 0
    cells: list[str] | None = None  # the current table row's finished cells
    cell_depth: int = 0
    in_caption: int = 0
    title: str = ""
    in_title: bool = False

    # --- lxml target interface ----------------------------------------------------------------
    def start(self, tag: Any, attrib: Any) -> None:
        tag = tag.lower() if isinstance(tag, str) else ""
        alternative = self.elements in self.alternatives
        self.elements += 1
        starts_skip = (
            (tag in SKIP_TAGS and tag != "head")
            or (_hidden(attrib) and not alternative)
            or (tag == "a" and _permalink(attrib))
        )
        self.stack.append((tag, starts_skip, self.said if alternative else None))
        if (  # side by side in one line of text: "Command / Ctrl"
            alternative
            and self.after_alternative
            and not self.skip
            and tag not in BLOCK_TAGS
            and any(piece.strip() for piece in self.buf)
        ):
            self.buf.append(" / ")
        self.after_alternative = False
        if tag == "title" and not self.skip:
            self.in_title = True
            return
        if starts_skip:
            self.skip += 1
        if self.skip:
            return
        if tag in BLOCK_TAGS:
            self._boundary()
        if tag in HEADINGS:
            self.heading = HEADINGS[tag]
        elif tag in ("ul", "ol", "menu", "dir"):
            start = attrib.get("start", "1")
            self.lists.append(
                _List(ordered=tag == "ol", counter=int(start) if start.isdigit() else 1)
            )
        elif tag == "li":
            self.in_li += 1
            lst = self.lists[-1] if self.lists else _List(ordered=False)
            if self.cells is None:
                self.buf.append(f"{lst.counter}. " if lst.ordered else "• ")
            lst.counter += 1
        elif tag == "tr" and self.cell_depth == 0:
            self.cells = []
        elif tag in ("td", "th"):
            self.cell_depth += 1
        elif tag == "pre":
            self.pre += 1
        elif tag in ("figcaption", "caption"):
            self.in_caption += 1
        elif tag == "hr":
            self._boundary()

    def end(self, tag: Any) -> None:
        if not self.stack:
            return
        tag, started_skip, said_before = self.stack.pop()
        if said_before is not None and not self.skip:
            self.after_alternative = self.said > said_before
        if tag == "title" and self.in_title:
            self.in_title = False
            return
        if self.skip:
            if started_skip:
                self.skip -= 1
            return
        if tag in ("td", "th"):
            self.cell_depth = max(0, self.cell_depth - 1)
            if self.cell_depth == 0 and self.cells is not None:
                self.cells.append(self._take())
                return
        if tag == "tr" and self.cells is not None and self.cell_depth == 0:
            leftover = self._take()
            cells = [*self.cells, leftover] if leftover else self.cells
            self.cells = None
            if any(cells):
                self.builder.add(" | ".join(cells), "table_row")
            return
        if tag in BLOCK_TAGS:
            self._boundary()
        if tag in HEADINGS:
            self.heading = None
        elif tag in ("ul", "ol", "menu", "dir") and self.lists:
            self.lists.pop()
        elif tag == "li":
            self.in_li = max(0, self.in_li - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        elif tag in ("figcaption", "caption"):
            self.in_caption = max(0, self.in_caption - 1)

    def data(self, text: str) -> None:
        if self.in_title:
            self.title += text
        elif not self.skip:
            self.buf.append(text)
            if text.strip():
                self.said += 1
                self.after_alternative = False

    def close(self) -> _Collector:
        self._boundary()
        if self.cells:  # a table row left open at the end of the file
            self.builder.add(" | ".join(self.cells), "table_row")
            self.cells = None
        return self

    # --- helpers ------------------------------------------------------------------------------
    def _take(self) -> str:
        raw = clean_text("".join(self.buf))
        self.buf = []
        if self.pre:
            return raw.replace("\u00a0", " ").strip("\n")
        return _WS_RE.sub(" ", raw).strip()

    def _boundary(self) -> None:
        """A block element starts or ends: the pending inline text becomes a block."""
        if self.cell_depth and self.cells is not None:
            self.buf.append(" ")  # blocks inside a table cell stay in that cell
            return
        text = self._take()
        if not text or (self.in_li and (text == "•" or re.fullmatch(r"\d+\.", text))):
            return  # an empty list item: only its bullet
        kind: BlockKind = "paragraph"
        level: int | None = None
        if self.heading is not None:
            kind, level = "heading", self.heading
        elif self.pre:
            kind = "code"
        elif self.in_li:
            kind, level = "list_item", max(len(self.lists), 1)
        elif self.in_caption:
            kind = "caption"
        self.builder.add(text, kind, level=level)


def _parse(text: str, target: Any) -> Any:
    """Feed ``text`` to libxml2's HTML parser with ``target``; what the target's close returns.
    no_network: never fetch a DTD or entity; remove_pis/comments: not visible text."""
    from lxml import etree

    parser = etree.HTMLParser(target=target, no_network=True, remove_comments=True, remove_pis=True)
    # Feeding in pieces keeps peak memory flat for large pages.
    for pos in range(0, len(text), 1 << 20):
        parser.feed(text[pos : pos + (1 << 20)])
    return parser.close()


def _declared_charset(data: bytes) -> str | None:
    match = _META_CHARSET_RE.search(data[:4096])
    if not match:
        return None
    label = match.group(1).decode("ascii", "ignore").lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # What browsers do (WHATWG encoding standard): these labels mean the superset encodings.
    return {"latin-1": "cp1252", "iso8859-1": "cp1252", "gb2312": "gb18030", "gbk": "gb18030"}.get(
        name, name
    )


def decode_html(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding): BOM, then ``<meta charset>``, then the text module's detection."""
    if not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        declared = _declared_charset(data)
        if declared and declared not in ("utf-16-le", "utf-16-be", "utf-16"):
            try:
                return data.decode(declared), declared
            except UnicodeDecodeError:
                log.info("%s: declared charset %s does not fit; detecting", name, declared)
    decoded = decode_bytes(data, name)
    return decoded.text, decoded.encoding


class HtmlLoader(Loader):
    """Visible text of an HTML page; nothing is executed or fetched."""

    format = "html"
    suffixes = (".html", ".htm", ".xhtml")
    label = "HTML"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """A full HTML document: doctype, <html>, <head> or <body> first."""
        return bool(_HTML_START_RE.match(head[:4096].removeprefix(codecs.BOM_UTF8)))

    @classmethod
    def sniff_fragment(cls, head: bytes) -> bool:
        """Markup without <html>: starts with a tag and has several structural tags."""
        head = head[:4096].removeprefix(codecs.BOM_UTF8)
        return head.lstrip().startswith(b"<") and len(_HTML_TAG_RE.findall(head)) >= 3

    @classmethod
    def load(
        cls, data: bytes, name: str, password: str | None = None, limits: Limits | None = None
    ) -> Document:
        from lxml import etree

        limits = limits or Limits()
        text, encoding = decode_html(data, name)
        builder = DocumentBuilder(name, "html", limits)
        builder.metadata["encoding"] = encoding
        try:
            # a page that hides nothing needs no first pass
            alternatives = _parse(text, _Alternatives()) if "hidden" in text else frozenset()
            collector = _parse(text, _Collector(builder, alternatives))
        except IngestError:
            raise
        except etree.LxmlError as err:
            raise IngestError(
                f"'{name}' cannot be read as HTML.",
                f"无法将“{name}”作为 HTML 读取。",
                detail=str(err),
            ) from None
        title = _WS_RE.sub(" ", clean_text(collector.title)).strip()
        if title:
            builder.metadata["title"] = title
            # Pages usually repeat the title in a heading; add it only when it is not there.
            if not any(b.text == title for b in builder.blocks[:50]):
                if len(title) + 1 + builder.chars > limits.max_chars:
                    raise too_many_chars(name, builder.chars + len(title), limits.max_chars)
                from app.datamodel import TextBlock

                builder.blocks.insert(0, TextBlock(text=title, kind="heading", level=1))
        return builder.build()

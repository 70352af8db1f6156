"""Text from documents, file names, questions, readers and errors placed in Markdown, literally.

Markdown renders Markdown and (often) HTML. A file named ``<img src=x onerror=alert(1)>.txt`` or
a question ending in ``[link](javascript:alert(1))`` must appear as those characters, not as an
image or a link, and a name like ``__init__.py`` must not turn bold. ``md_escape`` turns
``& < >`` into entities and backslash-escapes the Markdown characters that could start markup
where they stand, so the rendered text equals the input while ordinary names
(``report_2024.pdf``) stay readable in the Markdown source. Used by the UI's Markdown components
(``app.ui.safety``) and by the Markdown export (``app.report``).

``percent`` writes a confidence for people: a whole percent, rounded down, so that a confidence
just under the review threshold never reads as the threshold itself.
"""

from __future__ import annotations

import math
import re

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# emphasis, code, links, tables, strike-through, math, escapes: anywhere in a line
_ALWAYS = re.compile(r"([\\`*\[\]|~$])")
# '_' is emphasis only at a word edge (CommonMark: intraword underscores are literal)
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# block markup at the start of a line: headings, lists, quotes, setext/rules, ordered lists
_LINE_START = re.compile(r"^([ \t]*)([#+\-=]|\d+[.)])", re.MULTILINE)


def md_escape(text: str) -> str:
    """``text`` for Markdown, shown exactly as written (newlines kept)."""
    text = "".join(_HTML.get(c, c) for c in str(text))
    text = _ALWAYS.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    # leading blanks would make an indented code block; a non-breaking space looks the same
    text = re.sub(r"^[ \t]+", lambda m: "&nbsp;" * len(m.group(0)), text, flags=re.MULTILINE)
    return _LINE_START.sub(lambda m: m.group(1) + _escape_marker(m.group(2)), text)


def md_inline(text: str) -> str:
    """``text`` on one line of Markdown (a heading, a list item): newlines become spaces."""
    return md_escape(" ".join(str(text).split()))


def md_block(text: str) -> str:
    """Multi-line ``text`` as Markdown paragraphs that keep its line breaks (two trailing spaces:
    a hard break in CommonMark and in Python-Markdown); blank lines still separate paragraphs."""
    lines = md_escape(str(text).strip()).splitlines()
    out = []
    for i, line in enumerate(lines):
        more = i + 1 < len(lines) and lines[i + 1].strip()
        out.append(line.rstrip() + ("  " if line.strip() and more else ""))
    return "\n".join(out)


def _escape_marker(marker: str) -> str:
    if marker[0].isdigit():  # "1." → "1\." (the number stays)
        return marker[:-1] + "\\" + marker[-1]
    return "\\" + marker


def percent(value: float) -> str:
    """``value`` (0-1) as a whole percent rounded down: 0.8497, flagged for review under a 0.85
    threshold, reads "84%" and not the "85%" that passes it; only a certainty reads "100%"."""
    share = min(1.0, max(0.0, float(value)))
    return f"{math.floor(round(share * 100, 6))}%"

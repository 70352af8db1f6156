"""Tables in the typeset text: a row is read with the header of its table.

A question about a table cell names its column or its table ("拨号 PPP 连接的 MTU 一般设成多少？",
"B 类私有地址段一共包含多少个子网？"), and the row that answers ("拨号连接(IP: PPP) | 576 | 标准的")
holds none of those words: they are in the header row and the caption above it. The typeset text
says where the tables are (rows of cells joined by " | "); the words matched stay the ones read
in the pixels — the header's own OCR sentences.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from app.evidence.match import Sentence
from app.readers.ocr.answer_policy import CAPTION
from app.readers.ocr.lines import OcrText

_ROW = re.compile(r"\S \| \S")  # cells on both sides: not a " | 注意" admonition


class TableRow(NamedTuple):
    """A table's body row in the typeset text, with where its header is."""

    start: int  # the row's line
    end: int
    head_start: int  # the caption's line when there is one, else the header row's
    header: int  # the header row's line
    head_end: int


@dataclass
class Tables:
    """A document's tables as read: what each row is read with, and which sentences are
    headers."""

    headers: dict[int, str] = field(default_factory=dict)  # body row → its caption and header
    heads: set[int] = field(default_factory=set)  # sentences read from a header row


def table_rows(source: str) -> list[TableRow]:
    """Every body row of every table in ``source``: two or more lines in a row whose cells are
    joined by " | "; the first is the header, with the caption line above it when there is
    one."""
    lines: list[tuple[int, int, str]] = []
    pos = 0
    for line in source.split("\n"):
        lines.append((pos, pos + len(line), line))
        pos += len(line) + 1
    rows: list[TableRow] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _ROW.search(lines[j][2]):
            j += 1
        if j - i >= 2:
            header, head_end = lines[i][0], lines[i][1]
            head_start = lines[i - 1][0] if i > 0 and CAPTION.match(lines[i - 1][2]) else header
            rows.extend(
                TableRow(a, b, head_start, header, head_end) for a, b, _ in lines[i + 1 : j]
            )
        i = max(j, i + 1)
    return rows


def read_tables(ocr: OcrText, source: str) -> Tables:
    """Cut ``ocr``'s sentences at the rows of the tables in ``source`` (the rendered text), and
    find, for each sentence read from a body row, the OCR text of its table's caption and
    header, and the sentences read from a header row."""
    rows = table_rows(source)
    if not rows:
        return Tables()
    spans = split_rows(ocr, rows)
    starts = sorted((span[0], idx) for idx, span in enumerate(spans) if span is not None)
    row_starts = [r.start for r in rows]
    header_lines = sorted({(r.header, r.head_end) for r in rows})
    header_starts = [a for a, _ in header_lines]
    tables = Tables()
    of_row: dict[int, tuple[int, int]] = {}
    for at, idx in starts:
        k = bisect.bisect_right(row_starts, at) - 1
        if k >= 0 and at < rows[k].end:
            of_row[idx] = (rows[k].head_start, rows[k].head_end)
        h = bisect.bisect_right(header_starts, at) - 1
        if h >= 0 and at < header_lines[h][1]:
            tables.heads.add(idx)
    texts: dict[tuple[int, int], str] = {}
    for head in set(of_row.values()):
        lo = bisect.bisect_left(starts, (head[0], -1))
        hi = bisect.bisect_left(starts, (head[1] + 1, -1))
        texts[head] = " ".join(ocr.sentences[idx].text for _, idx in starts[lo:hi])
    tables.headers = {idx: texts[head] for idx, head in of_row.items() if texts[head]}
    return tables


def split_rows(ocr: OcrText, rows: list[TableRow]) -> list[tuple[int, int] | None]:
    """Cut the OCR sentences where a table's lines end: the rows carry no full stop, so the
    sentence splitter runs them together ("evolution | … | 个人信息管理 thunderbird | … | 电子邮件
    客户端"), and a question about one row got two; a caption runs into the header, the last row
    into the paragraph after the table. Returns each sentence's span in the rendered text
    (``OcrText.source_span``)."""
    # each row's line, the caption's, the header's and the line after the table
    cuts = sorted(
        {c for r in rows for c in (r.start, r.head_start, r.header, r.head_end + 1, r.end + 1)}
    )
    out: list[Sentence] = []
    spans: list[tuple[int, int] | None] = []
    for sent in ocr.sentences:
        span = ocr.source_span(sent.start, sent.end)
        inside = (
            []
            if span is None
            else cuts[bisect.bisect_right(cuts, span[0]) : bisect.bisect_left(cuts, span[1])]
        )
        if not inside:
            out.append(sent)
            spans.append(span)
            continue
        offsets = ocr.offsets[sent.start : sent.end]
        bounds = [sent.start]
        for cut in inside:
            # the first character read from the next line of the table
            after = np.flatnonzero(offsets >= cut)
            if len(after) and sent.start + int(after[0]) > bounds[-1]:
                bounds.append(sent.start + int(after[0]))
        bounds.append(sent.end)
        for a, b in itertools.pairwise(bounds):
            piece = ocr.text[a:b]
            lead = len(piece) - len(piece.lstrip())
            text = piece.strip()
            if text:
                out.append(Sentence(a + lead, a + lead + len(text), text))
                spans.append(ocr.source_span(a + lead, a + lead + len(text)))
    ocr.sentences = out
    return spans


_MAN_SECTION = re.compile(r"\(\d\w?\)$")  # "ifconfig(8)"


def labelled(row: str, terms: tuple[str, ...]) -> bool:
    """The row's first cell is one of the question's ``terms`` ("systemd | V:857 | 9572 | …" for
    "systemd 软件包的大小是多少？"): the row asked about, not one that only mentions it."""
    cell = row.strip().split("|", 1)[0].strip().lower()
    # OCR may miss the bar after the first cell ("systemd V:857,1:951 |9572 | …")
    labels = {_MAN_SECTION.sub("", c) for c in (cell, *cell.split()[:1])} - {""}
    return bool(labels & {t.lower() for t in terms})

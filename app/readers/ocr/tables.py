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

import numpy as np

from app.evidence.match import Sentence
from app.readers.ocr.lines import OcrText

_ROW = re.compile(r"\S \| \S")  # cells on both sides: not a " | 注意" admonition
_CAPTION = re.compile(r"^\s*(?:表|图|Table|Figure|Fig\.)\s*\d", re.I)


def _table_lines(source: str) -> list[tuple[int, int, str]]:
    lines: list[tuple[int, int, str]] = []
    pos = 0
    for line in source.split("\n"):
        lines.append((pos, pos + len(line), line))
        pos += len(line) + 1
    return lines


def table_rows(source: str) -> list[tuple[int, int, int, int]]:
    """(row start, row end, header start, header end) in ``source`` for every body row of every
    table: two or more lines in a row whose cells are joined by " | "; the first is the header,
    with the caption line above it when there is one."""
    lines = _table_lines(source)
    rows: list[tuple[int, int, int, int]] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and _ROW.search(lines[j][2]):
            j += 1
        if j - i >= 2:
            head_start, head_end = lines[i][0], lines[i][1]
            if i > 0 and _CAPTION.match(lines[i - 1][2]):
                head_start = lines[i - 1][0]
            rows.extend((a, b, head_start, head_end) for a, b, _ in lines[i + 1 : j])
        i = max(j, i + 1)
    return rows


def row_headers(ocr: OcrText, rows: list[tuple[int, int, int, int]]) -> dict[int, str]:
    """Sentence index → the OCR text of its table's caption and header, for the sentences read
    from a table's body rows (``rows``: ``table_rows`` of the rendered text)."""
    if not rows:
        return {}
    row_starts = [r[0] for r in rows]
    starts: list[tuple[int, int]] = []  # (source offset, sentence index), sorted
    of_row: dict[int, tuple[int, int]] = {}
    for idx, sent in enumerate(ocr.sentences):
        span = ocr.source_span(sent.start, sent.end)
        if span is None:
            continue
        starts.append((span[0], idx))
        k = bisect.bisect_right(row_starts, span[0]) - 1
        if k >= 0 and rows[k][0] <= span[0] < rows[k][1]:
            of_row[idx] = (rows[k][2], rows[k][3])
    starts.sort()
    texts: dict[tuple[int, int], str] = {}
    for head in set(of_row.values()):
        lo = bisect.bisect_left(starts, (head[0], -1))
        hi = bisect.bisect_left(starts, (head[1] + 1, -1))
        texts[head] = " ".join(ocr.sentences[idx].text for _, idx in starts[lo:hi])
    return {idx: texts[head] for idx, head in of_row.items() if texts[head]}


def split_rows(ocr: OcrText, rows: list[tuple[int, int, int, int]]) -> None:
    """Cut the OCR sentences where a table's row ends: the rows carry no full stop, so the
    sentence splitter runs them together ("evolution | … | 个人信息管理 thunderbird | … | 电子邮件
    客户端"), and a question about one row got two."""
    cuts = sorted({r[0] for r in rows} | {r[2] for r in rows} | {r[3] + 1 for r in rows})
    if not cuts:
        return
    out: list[Sentence] = []
    for sent in ocr.sentences:
        span = ocr.source_span(sent.start, sent.end)
        inside = (
            []
            if span is None
            else cuts[bisect.bisect_right(cuts, span[0]) : bisect.bisect_left(cuts, span[1])]
        )
        if not inside:
            out.append(sent)
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
    ocr.sentences = out


def header_sentences(ocr: OcrText, source: str, rows: list[tuple[int, int, int, int]]) -> set[int]:
    """The sentences read from a table's header row: no answer themselves (every row is read
    with them), and a header with the row below it would answer for the first row only."""
    lines = sorted({(source.rfind("\n", 0, r[3]) + 1, r[3]) for r in rows})
    starts = [a for a, _ in lines]
    found: set[int] = set()
    for idx, sent in enumerate(ocr.sentences):
        span = ocr.source_span(sent.start, sent.end)
        if span is None:
            continue
        k = bisect.bisect_right(starts, span[0]) - 1
        if k >= 0 and span[0] < lines[k][1]:
            found.add(idx)
    return found


_MAN_SECTION = re.compile(r"\(\d\w?\)$")  # "ifconfig(8)"


def labelled(row: str, terms: tuple[str, ...]) -> bool:
    """The row's first cell is one of the question's ``terms`` ("systemd | V:857 | 9572 | …" for
    "systemd 软件包的大小是多少？"): the row asked about, not one that only mentions it."""
    cell = row.strip().split("|", 1)[0].strip().lower()
    # OCR may miss the bar after the first cell ("systemd V:857,1:951 |9572 | …")
    labels = {_MAN_SECTION.sub("", c) for c in (cell, *cell.split()[:1])} - {""}
    return bool(labels & {t.lower() for t in terms})

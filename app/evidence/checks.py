"""Values checked against the document — the same for every reader.

Each value of an answer (number, date, amount, percentage, code/ID, version, phone number,
e-mail, URL, quoted string) is looked up in ``RenderedDoc.text``:

* ``exact``: it occurs as written, at token boundaries ("400" is not found inside "186,400",
  "17" not inside "17:30"). White space counts only between two Latin letters or digits:
  "186,400 元" is the document's "186,400元", "USD 1,200" is not "USD1,200". An amount,
  percentage, duration or count whose number occurs with a compatible unit next to it ("€" for
  "EUR", "%" for "percent"), or bare near the answer's evidence (a table column under "EUR"),
  is exact too. A value of one digit is held to the same boundaries: "7" is in "page 7", not
  in "2017";
* ``near``: not as written, but a form one or two edits away is — after NFKC, case folding,
  OCR confusions (0/O, 1/l/I, 5/S, 8/B, 2/Z) and separators are set aside — or the same date
  written another way, or the same number with another currency, scale or unit, or the same
  characters with a space more or less next to a symbol (OCR's "utf8-t" for "utf8 -t").
  ``document_value`` says what the document has. Values of up to three key characters ("56")
  look for a near form only around the evidence: anywhere, every short number has one;
* ``absent``: nothing close.

The document is indexed once (white-space-normalised text with an offset map back, cached per
text); the candidates of near matches (tokens with a digit or an underscore, dates, phones,
e-mails, URLs) are indexed on the first near search, by shape (digits, Latin, CJK) and key
length, and compared with rapidfuzz's optimal-string-alignment distance (a swap of two
neighbours is one edit). Quoted strings are searched by three disjoint chunks (two edits leave
one intact) and aligned around each hit.

``check_answer`` decides what needs review: every ``near`` or ``absent`` value of a question's
answer or of a key-information item (its value, not its label); in a summary, which rounds and
combines numbers, only a ``near`` miss of an identifier-like value (code, version, date, phone,
e-mail, URL). Each gets a note in English and Chinese saying what the document has.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from app.datamodel import Mode, Note, RenderedDoc, Span, ValueCheck
from app.evidence.boxes import source_parts
from app.evidence.values import (
    _AL,
    _CJK_UNIT,
    _CUR_PRE,
    _CUR_WORD,
    _DOC_FINDERS,
    _DURATION,
    _ISO_DATE,
    _PCT,
    _SCALE,
    Unit,
    Value,
    _plain,
    _shape,
    _unit,
    answer_values,
    date_of,
    find_values,
    flatten,
    key,
)

# --- the document index -----------------------------------------------------------------------


@dataclass
class _Candidates:
    spans: list[tuple[int, int]]  # in the flat text
    buckets: dict[tuple[str, int], tuple[list[str], list[int]]]  # (shape, key length) → keys
    dates: dict[tuple[int, int, int], list[int]]


# superscript and subscript digits are their digits to a reader ("GOsa²" read "GOsa2", "m³"):
# one character for one, so the flat text's offsets stay the original's
_SCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉", "01234567890123456789")


class DocIndex:
    """A document's text made ready for checks: the flat text (``flatten``, superscript and
    subscript digits as digits) for exact search, and on first need the candidates of near
    matches."""

    def __init__(self, text: str) -> None:
        self.text = text
        flat, self.offsets = flatten(text)
        self.flat = flat.translate(_SCRIPT_DIGITS)

    def original(self, a: int, b: int) -> tuple[int, int]:
        """A span of the flat text as a span of the original text."""
        return int(self.offsets[a]), int(self.offsets[b - 1]) + 1

    @cached_property
    def candidates(self) -> _Candidates:
        spans: list[tuple[int, int]] = []
        buckets: dict[tuple[str, int], tuple[list[str], list[int]]] = defaultdict(lambda: ([], []))
        dates: dict[tuple[int, int, int], list[int]] = defaultdict(list)
        for a, b, kind in find_values(self.flat, _DOC_FINDERS):
            raw = self.flat[a:b]
            k = key(raw)
            if not k:
                continue
            spans.append((a, b))
            keys, ids = buckets[(_shape(k), len(k))]
            keys.append(k)
            ids.append(len(spans) - 1)
            dated = kind == "date" or (kind == "token" and _ISO_DATE.fullmatch(raw))
            if dated and (date := date_of(raw)) is not None:
                dates[date].append(len(spans) - 1)
        return _Candidates(spans, dict(buckets), dict(dates))


@lru_cache(maxsize=4)
def doc_index(text: str) -> DocIndex:
    """The index of a document's text, kept for the last few documents asked about."""
    return DocIndex(text)


# --- checks -----------------------------------------------------------------------------------

MAX_HITS = 2000  # occurrences of one value looked at to pick the one nearest the evidence
NEIGHBOURHOOD = 600  # characters around the evidence where short values may have a near match
_UNIT_BEFORE = re.compile(rf"(?P<pre>{_CUR_PRE})\s?$")
_UNIT_AFTER = re.compile(
    rf"\s?(?:(?P<scale>{_SCALE})\s?)?(?P<post>{_DURATION}|{_CJK_UNIT}|{_CUR_WORD}|{_PCT})?",
    re.IGNORECASE,
)


def _is_word(ch: str) -> bool:
    return bool(re.match(f"[{_AL}]", ch))


def _pattern(needle: str, whole: bool = False) -> re.Pattern[str]:
    """``needle`` not inside a longer word, number or time: "400" is not in "186,400", "12." not
    in "12.6", "7" not in "2017", "17" not in "17:30"; ``whole``: nor the start of a longer address ("a@b" is not in
    "a@b-c.com")."""
    left = right = ""
    if _is_word(needle[0]):
        left = rf"(?<![{_AL}])" + (r"(?<!\d[.,:])" if needle[0].isdigit() else "")
    elif len(needle) > 1 and _is_word(needle[1]):
        left = rf"(?<![{_AL}])"
    if _is_word(needle[-1]):
        right = rf"(?![{_AL}])" + (r"(?![.,:]\d)" if needle[-1].isdigit() else "")
    elif len(needle) > 1 and _is_word(needle[-2]):
        right = rf"(?![{_AL}])"
    if whole:
        right += rf"(?![-.][{_AL}])"
    return re.compile(left + re.escape(needle) + right)


class _Checker:
    """Checks the values of one answer against one document index."""

    def __init__(self, index: DocIndex, near: list[Span]) -> None:
        self.index = index
        self.near = [(s.start, s.end) for s in near]

    def distance(self, a: int, b: int) -> float:
        """How far flat span ``a:b`` is from the answer's evidence (inf without evidence)."""
        start, end = self.index.original(a, b)
        gaps = [max(s - end, start - e, 0) for s, e in self.near]
        return min(gaps) if gaps else float("inf")

    def closest(self, spans: list[tuple[int, int]]) -> tuple[int, int]:
        return min(spans, key=lambda ab: (self.distance(*ab), ab[0])) if self.near else spans[0]

    def _tried(self, anchor: str, pattern: re.Pattern[str]) -> Iterator[re.Match[str] | None]:
        """``pattern`` tried where ``anchor`` (its literal start) occurs in the flat text: found
        with ``str.find`` first, as a pattern starting with look-behinds would be tested at
        every position. One item per occurrence: the match there, or None."""
        flat = self.index.flat
        pos = flat.find(anchor)
        while pos >= 0:
            yield pattern.match(flat, pos)
            pos = flat.find(anchor, pos + 1)

    def exact(self, needle: str, whole: bool = False) -> list[tuple[int, int]]:
        """Where ``needle`` stands as a whole value (its boundaries checked)."""
        if not needle:
            return []
        found = (m for m in self._tried(needle, _pattern(needle, whole)) if m is not None)
        return [m.span() for m in itertools.islice(found, MAX_HITS)]

    def unit_at(self, a: int, b: int) -> tuple[int, int, Unit]:
        """The number at flat ``a:b`` widened to the currency, scale or % written next to it."""
        flat = self.index.flat
        before = _UNIT_BEFORE.search(flat, max(0, a - 6), a)
        after = _UNIT_AFTER.match(flat, b)
        pre = before.group("pre") if before else None
        scale, post = (after.group("scale"), after.group("post")) if after else (None, None)
        end = after.end("post") if post else after.end("scale") if scale else b  # type: ignore[union-attr]
        return (before.start() if before else a), end, _unit(pre, scale, post)

    def snap(self, a: int, b: int) -> tuple[int, int]:
        """``a:b`` widened to whole words."""
        flat = self.index.flat
        while 0 < a < b and _is_word(flat[a - 1]) and _is_word(flat[a]):
            a -= 1
        while a < b < len(flat) and _is_word(flat[b - 1]) and _is_word(flat[b]):
            b += 1
        return a, b

    def near_key(self, needle: str) -> tuple[int, int] | None:
        """The document token closest to ``needle`` in key space (≤ 1 edit up to 4 key
        characters, ≤ 2 beyond), of the same shape; short values only near the evidence."""
        k = key(needle)
        if not k:
            return None
        max_d = 1 if len(k) <= 4 else 2
        cands = self.index.candidates
        shape, plain, best = _shape(k), _plain(needle), None
        for length in range(max(1, len(k) - max_d), len(k) + max_d + 1):
            keys, ids = cands.buckets.get((shape, length), ([], []))
            for _, dist, pos in process.extract(
                k, keys, scorer=OSA.distance, score_cutoff=max_d, limit=None
            ):
                a, b = cands.spans[ids[pos]]
                if self.index.flat[a:b] == needle:
                    continue
                # separators may differ, but not all of them ("1,234" is not "1.2.3.4")
                apart = OSA.distance(plain, _plain(self.index.flat[a:b]))
                gap = self.distance(a, b)
                if apart > max_d + 1 or (len(k) <= 3 and gap > NEIGHBOURHOOD):
                    continue
                rank = (dist, apart, gap, a)
                if best is None or rank < best[0]:
                    best = (rank, (a, b))
        return None if best is None else best[1]

    def near_spacing(self, needle: str) -> tuple[int, int] | None:
        """``needle`` with a space more or less next to a symbol: OCR drops or adds one there
        ("utf8-t" read for the command's "utf8 -t", "v 2.1" for "v2.1"); spaces between two
        words must stay. The occurrence nearest the evidence."""
        pieces = re.findall(r"[^\W_]+|\S", needle)
        if len(pieces) < 2:
            return None
        joined = re.escape(pieces[0])
        for left, right in itertools.pairwise(pieces):
            words = _is_word(left[-1]) and _is_word(right[0])
            joined += (r"\s" if words else r"\s?") + re.escape(right)
        pattern = re.compile(rf"(?<![{_AL}]){joined}(?![{_AL}])")
        tried = itertools.islice(self._tried(pieces[0], pattern), MAX_HITS)
        hits = [m.span() for m in tried if m is not None and m.group(0) != needle]
        return self.closest(hits) if hits else None

    def near_date(self, needle: str) -> tuple[int, int] | None:
        date = date_of(needle)
        ids = self.index.candidates.dates.get(date, []) if date else []
        spans = [self.index.candidates.spans[i] for i in ids]
        return self.closest(spans) if spans else None

    def near_text(self, needle: str) -> tuple[int, int] | None:
        """A passage of about ``needle``'s length at most two edits away: one of three disjoint
        chunks of ``needle`` survives two edits, so each chunk's occurrences are aligned."""
        size, flat = len(needle) // 3, self.index.flat
        if size < 2:
            return None
        best = None
        for off in (0, size, 2 * size):
            chunk = needle[off : off + size]
            pos = flat.find(chunk)
            for _ in range(200):
                if pos < 0:
                    break
                base = pos - off
                for a in range(max(0, base - 2), base + 3):
                    for b in range(a + len(needle) - 2, min(len(flat), a + len(needle) + 2) + 1):
                        d = OSA.distance(needle, flat[a:b], score_cutoff=2)
                        if d <= 2 and flat[a:b] != needle:
                            rank = (d, abs(b - a - len(needle)), self.distance(a, b), a)
                            if best is None or rank < best[0]:
                                best = (rank, (a, b))
                pos = flat.find(chunk, pos + 1)
        return None if best is None else self.snap(*best[1])

    def check(self, value: Value) -> tuple[str, tuple[int, int] | None]:
        """(status, flat span of the document's value) for one value."""
        needle = flatten(value.text)[0]
        hits = self.exact(needle, whole=value.kind == "email")
        if not hits and value.kind == "url":  # the address with or without scheme, final "/"
            hits = self.exact(re.sub(r"^https?://", "", needle).rstrip("/"))
        if hits:
            return "exact", self.closest(hits)
        if value.kind in ("amount", "percent", "duration") and value.number:
            return self.check_number(value)
        spaced = self.near_spacing(needle)
        if value.kind == "quote":
            return self.found_near(spaced or self.near_text(needle))
        return self.found_near(spaced or self.near_date(needle) or self.near_key(needle))

    def check_number(self, value: Value) -> tuple[str, tuple[int, int] | None]:
        """An amount or percentage written differently: its number with a compatible unit next
        to it is exact, and so is the bare number near the evidence (a table column under
        "EUR" or "%"); with another unit it is near; else the nearest number."""
        fits, bare, clashes = [], [], []
        for a, b in self.exact(value.number):
            start, end, unit = self.unit_at(a, b)
            if unit == (None, frozenset()):
                # bare: nothing after it that could be another unit ("17日", "20 7946")
                after = self.index.flat[end : end + 2].lstrip()[:1]
                if not after.isalnum():
                    bare.append((start, end))
            else:
                (fits if _compatible(value.unit, unit) else clashes).append((start, end))
        bare_here = [ab for ab in bare if self.distance(*ab) <= NEIGHBOURHOOD]
        if fits or bare_here:
            return "exact", self.closest(fits or bare_here)
        if clashes:
            return "near", self.closest(clashes)
        near = self.near_key(value.number)
        if near is not None:
            return "near", self.unit_at(*near)[:2]
        return self.found_near(self.closest(bare) if bare else None)

    @staticmethod
    def found_near(span: tuple[int, int] | None) -> tuple[str, tuple[int, int] | None]:
        return ("absent", None) if span is None else ("near", span)


def _compatible(want: Unit | None, have: Unit) -> bool:
    """A unit in the answer fits the document's: the same scale and no contradicting currency."""
    if want is None:
        return True
    if want[0] != have[0]:
        return False
    return not (want[1] and have[1]) or bool(want[1] & have[1])


def _page(rendered: RenderedDoc, start: int, end: int) -> int | None:
    """The original document's page of ``start:end`` when known (PDF), else the rendered one."""
    if rendered.document is not None:
        parts = source_parts(rendered.document, start, end)
        if parts and parts[0][0] is not None:
            return parts[0][0]
    pages = rendered.layout.pages_of_span(start, end)
    return pages[0] if pages else None


def check_values(
    rendered: RenderedDoc, text: str, *, near: list[Span] | None = None, limit: int = 40
) -> list[tuple[Value, ValueCheck]]:
    """Every value of ``text`` looked up in ``rendered.text``; ``near`` (the answer's evidence)
    picks the occurrence to link when a value occurs more than once."""
    checker = _Checker(doc_index(rendered.text), near or [])
    out = []
    for value in answer_values(text)[:limit]:
        status, span = checker.check(value)
        check = ValueCheck(value=value.text, status=status)  # type: ignore[arg-type]
        if span is not None:
            start, end = checker.index.original(*span)
            page = _page(rendered, start, end)
            check = check.model_copy(
                update={
                    "document_value": rendered.text[start:end],
                    "start": start,
                    "end": end,
                    "page": page,
                    "page_number": None if page is None else page + 1,
                }
            )
        out.append((value, check))
    return out


# --- the answer's review ----------------------------------------------------------------------

MAX_NOTES = 5
_ITEM = re.compile(r"^\s*(?:[-*•]\s*)?(?:\*\*)?[^:：\n]{1,40}?(?:\*\*)?\s*[:：]\s*(.+?)\s*$")
_SUMMARY_FLAGS = ("url", "email", "uuid", "phone", "date")


def _checked_text(text: str, mode: Mode) -> str:
    """What is checked: the answer; for key information each item's value, not its label."""
    if mode is not Mode.EXTRACT:
        return text
    lines = []
    for line in text.splitlines():
        match = _ITEM.match(line)
        lines.append(match.group(1) if match else line)
    return "\n".join(lines)


def _flags(value: Value, check: ValueCheck, mode: Mode) -> bool:
    """Whether a check asks for review. Summaries round and combine numbers: there only a near
    miss of an identifier-like value (code, version, date, phone, e-mail, URL) counts."""
    if check.status == "exact":
        return False
    if mode is not Mode.SUMMARY:
        return True
    identifier = value.kind in _SUMMARY_FLAGS or (
        value.kind == "token"
        and (any(ch.isalpha() or ch == "_" for ch in value.text) or date_of(value.text))
    )
    return check.status == "near" and identifier


def _shown(text: str, quoted: bool) -> str:
    text = " ".join(text.split())
    return f"“{text}”" if quoted else text


def check_note(value: Value, check: ValueCheck) -> Note:
    """The user-facing reason a value needs review, in English and Chinese."""
    mine = _shown(check.value, value.kind == "quote")
    if check.status == "absent" or check.document_value is None:
        return Note(en=f"{mine} does not appear in the document.", zh=f"文档中没有 {mine}。")
    theirs = _shown(check.document_value, value.kind == "quote")
    if check.page_number is None:
        return Note(
            en=f"The document says {theirs}, not {mine}.", zh=f"文档中为 {theirs}，而不是 {mine}。"
        )
    return Note(
        en=f"The document says {theirs}, not {mine} (page {check.page_number}).",
        zh=f"文档中为 {theirs}，而不是 {mine}（第 {check.page_number} 页）。",
    )


def check_answer(
    rendered: RenderedDoc, text: str, mode: Mode, spans: list[Span]
) -> tuple[list[ValueCheck], list[Note]]:
    """The checks of an answer's values and a note for each one that needs review."""
    results = check_values(rendered, _checked_text(text, mode), near=spans)
    flagged = [(v, c) for v, c in results if _flags(v, c, mode)]
    notes = [check_note(v, c) for v, c in flagged[:MAX_NOTES]]
    if len(flagged) > MAX_NOTES:
        more = len(flagged) - MAX_NOTES
        notes.append(
            Note(
                en=f"{more} more values differ from the document.",
                zh=f"另有 {more} 个值与文档不符。",
            )
        )
    return [c for _, c in results], notes

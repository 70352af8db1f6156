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
  written another way, or the same number with another currency, scale or unit.
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

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from app.datamodel import Mode, Note, RenderedDoc, Span, ValueCheck
from app.evidence.boxes import source_parts
from app.text import CJK_CHAR_RE

# --- patterns ---------------------------------------------------------------------------------

_AL = "0-9A-Za-z_\u00c0-\u024f\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff3f"  # word characters
_SEP = ".,:/\\-\u2013~\uff0c\uff0e\uff1a\uff0f\uff0d"  # inside a token: 1.2, 186,400, 2019–2024
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_NUM = rf"(?<![{_AL}.,，])\d+(?:[,，.]\d+)*(?![{_AL}]|[.,]\d)"
_CUR_PRE = r"(?:US\$|HK\$|EUR|USD|GBP|CNY|RMB|JPY|CHF|HKD|€|\$|£|¥|￥)"
_CUR_WORD = r"(?:EUR|USD|GBP|CNY|RMB|JPY|CHF|HKD|dollars?|euros?|pounds?|yuan)\b"
_SCALE = r"(?:million|billion|thousand|bn|mn)\b|万亿|亿|万|千"
_COUNTERS = "项个人名家次股件台条页份篇张套户"  # Chinese measure words: "412 项" is not "12 项"
_CJK_UNIT = rf"(?:美元|欧元|港元|英镑|日元|元|[{_COUNTERS}])"
_PCT = r"(?:%|％|percent\b|per cent\b|个百分点)"
_DURATION = (
    r"(?:days?|weeks?|months?|years?|hours?|minutes?)\b|个工作日|工作日|个月|小时|分钟|天|周"
)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "url",
        re.compile(
            # a scheme with a slip ("https//", "https:/") still starts an address
            r"(?:[A-Za-z][A-Za-z0-9+.-]{1,15}(?::/{1,3}|:?//)|www\.)[^\s<>\"'“”‘’「」()（）\[\]，。；！？、]+"
        ),
    ),
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")),
    (
        "quote",
        re.compile(
            r"\"(?P<q1>[^\"\n]{3,300})\"|“(?P<q2>[^”\n]{3,300})”|「(?P<q3>[^」\n]{3,300})」"
            r"|『(?P<q4>[^』\n]{3,300})』|‘(?P<q5>[^’\n]{3,300})’"
            rf"|(?<![{_AL}])'(?P<q6>[^'\s][^'\n]{{1,298}}[^'\s])'(?![{_AL}])"
        ),
    ),
    (
        "uuid",
        re.compile(r"(?<![0-9A-Fa-f-])[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}"),
    ),
    (
        "date",
        re.compile(
            # "\d(?<!\d\d)": a first digit, then the look-behind (4× faster than the other order)
            r"\d(?<!\d\d)\d{3}\s?年\s?\d{1,2}\s?月(?:\s?\d{1,2}\s?[日号])?"
            r"|\d(?<!\d\d)\d?\s?月\s?\d{1,2}\s?[日号]"
            rf"|(?=[0-9JFMASONDjfmasond])(?<![A-Za-z0-9])(?:"
            rf"\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}\.?,?\s+\d{{4}}(?!\d)"
            rf"|{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}(?!\d)"
            rf"|{_MONTHS}\s+\d{{4}}(?!\d))",
            re.IGNORECASE,
        ),
    ),
    ("duration", re.compile(rf"(?P<num>{_NUM}[.,]?)\s?(?P<post>{_DURATION})", re.IGNORECASE)),
    (
        "amount",
        re.compile(
            rf"(?P<pre>{_CUR_PRE})\s?(?P<num>{_NUM})(?:\s?(?P<scale>{_SCALE}))?(?:\s?(?P<post>{_CJK_UNIT}|{_CUR_WORD}))?"
            rf"|(?P<num2>{_NUM})\s?(?:(?P<scale2>{_SCALE})\s?)?(?P<post2>{_CJK_UNIT}|{_CUR_WORD})"
            rf"|(?P<num3>{_NUM})\s?(?P<scale3>{_SCALE})",
            re.IGNORECASE,
        ),
    ),
    # a stray separator before the unit stays in the value ("12.%" is not "12%")
    ("percent", re.compile(rf"(?P<num>{_NUM}[.,]?)\s?(?P<post>{_PCT})", re.IGNORECASE)),
    (
        "phone",
        re.compile(
            rf"(?<![{_AL}.+\-])(?:\+\d{{1,3}}[ \-]?)?(?:\(\d{{1,5}}\)[ \-]?)?\d{{1,5}}"
            rf"(?:[ \-]\d{{2,5}}){{1,4}}(?![{_AL}]|-[{_AL}]|[:.,/]\d)"
        ),
    ),
    # three or more groups of digits (an account "3100 2045 8812", an OID "1 2 840 10040")
    ("digits", re.compile(rf"(?<![{_AL}.,:])\d+(?: \d+){{2,}}(?![{_AL}]|[.,:]\d)")),
    # a digit or an underscore ahead (checked by _keep): skips plain words fast
    (
        "token",
        re.compile(rf"(?<![{_AL}])(?=[{_AL}{_SEP}]*[\d_＿])[{_AL}]+(?:[{_SEP}]{{1,2}}[{_AL}]+)*"),
    ),
]
Finder = Callable[[str], Iterable[re.Match[str]]]


def _anchored(pattern: re.Pattern[str], anchor: str, reach: int = 80) -> Finder:
    """``pattern`` run only around the places ``anchor`` is found (an e-mail has an "@"):
    scanning a long document for a cheap anchor is much faster than for the whole pattern."""
    anchor_re = re.compile(anchor)

    def find(text: str) -> Iterator[re.Match[str]]:
        windows: list[list[int]] = []
        for m in anchor_re.finditer(text):
            lo, hi = max(0, m.start() - reach), min(len(text), m.end() + reach)
            if windows and lo <= windows[-1][1]:
                windows[-1][1] = hi
            else:
                windows.append([lo, hi])
        for lo, hi in windows:
            yield from pattern.finditer(text, lo, hi)

    return find


# The near-match candidates of a document, found faster than with the answer's patterns (a
# document spells months with a capital, its addresses have a scheme or "www."): near kinds.
_DOC_FINDERS: list[tuple[str, Finder]] = [
    (
        "url",
        re.compile(
            r"[hfw](?:ttps?://|tp://|ww\.)[^\s<>\"'“”‘’「」()（）\[\]，。；！？、]+"
        ).finditer,
    ),
    ("email", _anchored(dict(_PATTERNS)["email"], "@")),
    ("uuid", _anchored(dict(_PATTERNS)["uuid"], r"-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-")),
    (
        "date",
        re.compile(
            r"\d(?<!\d\d)\d{3}\s?年\s?\d{1,2}\s?月(?:\s?\d{1,2}\s?[日号])?"
            rf"|(?=[0-9JFMASOND])\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTHS}\.?,?\s+\d{{4}}(?!\d)"
            rf"|{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}(?!\d))"
        ).finditer,
    ),
    ("phone", dict(_PATTERNS)["phone"].finditer),
    ("token", dict(_PATTERNS)["token"].finditer),
]
_LIST_MARKER = re.compile(r"^(\s*)\d{1,3}[.)](?=\s)", re.MULTILINE)
_MARKUP = re.compile(r"<\|[a-z_]+\|>")


Unit = tuple[float | None, frozenset[str]]
"""(scale factor, currency codes) of an amount or percentage."""


@dataclass(frozen=True)
class Value:
    """One value of an answer: its kind, the text checked, and for amounts and percentages the
    number inside it and its unit."""

    kind: str
    text: str
    number: str = ""
    unit: Unit | None = None


_DIGIT_OR_UNDERSCORE = re.compile(r"[\d_＿]")


def _keep(kind: str, text: str) -> bool:
    if kind == "phone":
        digits = sum(ch.isdigit() for ch in text)
        if _ISO_DATE.match(text):  # "2024-10-31 17" is a date and an hour
            return False
        return digits >= 7 and (text[0] in "+(0" or ("-" in text and " " in text))
    if kind == "token":
        return _DIGIT_OR_UNDERSCORE.search(text) is not None
    return True


def find_values(
    text: str, finders: list[tuple[str, Finder]] | None = None
) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, kind) of the values in ``text``, the more specific kind
    winning an overlap (``_PATTERNS``' order, or ``finders``')."""
    found: list[tuple[int, int, str]] = []
    taken = bytearray(len(text) + 1)
    for kind, finder in finders or [(kind, p.finditer) for kind, p in _PATTERNS]:
        for m in finder(text):
            inner = [g for g, v in m.groupdict().items() if v] if kind == "quote" else []
            a, b = m.span(inner[0]) if inner else m.span()
            if kind == "url":
                while b > a and text[b - 1] in ".,;:!?/'\"":
                    b -= 1
            if b <= a or taken.find(1, a, b) >= 0 or not _keep(kind, text[a:b]):
                continue
            taken[a:b] = b"\x01" * (b - a)
            found.append((a, b, kind))
    return sorted(found)


_CURRENCIES = {
    "EUR": ("€", "eur", "euro", "euros", "欧元"),
    "USD": ("$", "us$", "usd", "dollar", "dollars", "美元"),
    "GBP": ("£", "gbp", "pound", "pounds", "英镑"),
    "CNY": ("¥", "￥", "cny", "rmb", "yuan", "元"),
    "JPY": ("¥", "￥", "jpy", "日元"),
    "HKD": ("hk$", "hkd", "港元"),
    "CHF": ("chf",),
    "PCT": ("%", "％", "percent", "per cent"),
    "PP": ("个百分点",),
    "DAY": ("day", "days", "天", "日"),
    "WORKDAY": ("工作日", "个工作日"),
    "WEEK": ("week", "weeks", "周"),
    "MONTH": ("month", "months", "个月"),
    "YEAR": ("year", "years"),
    "HOUR": ("hour", "hours", "小时"),
    "MINUTE": ("minute", "minutes", "分钟"),
    **{f"COUNT {ch}": (ch,) for ch in _COUNTERS},
}
_SCALES = {"thousand": 1e3, "千": 1e3, "万": 1e4, "million": 1e6, "mn": 1e6, "亿": 1e8}
_SCALES |= {"billion": 1e9, "bn": 1e9, "万亿": 1e12}


def _unit(pre: str | None, scale: str | None, post: str | None) -> Unit:
    """(scale, currency codes) of the words around a number ("¥", "亿", "元" → (1e8, {CNY, JPY}))."""
    codes = {
        code
        for word in (pre, post)
        if word
        for code, names in _CURRENCIES.items()
        if word.strip().lower() in names
    }
    return _SCALES.get((scale or "").strip().lower()), frozenset(codes)


def answer_values(text: str) -> list[Value]:
    """The values of an answer, in order, each once."""
    text = _LIST_MARKER.sub(lambda m: m.group(1) + " " * (m.end() - m.end(1)), text)
    text = _MARKUP.sub(lambda m: " " * len(m.group()), text)
    values: dict[str, Value] = {}
    for a, b, kind in find_values(text):
        raw = text[a:b]
        value = Value(kind, raw)
        if kind in ("amount", "percent", "duration"):
            m = dict(_PATTERNS)[kind].fullmatch(raw)
            groups = {k: v for k, v in (m.groupdict() if m else {}).items() if v}
            number = groups.get("num") or groups.get("num2") or groups.get("num3") or ""
            unit = _unit(
                groups.get("pre"),
                groups.get("scale") or groups.get("scale2") or groups.get("scale3"),
                groups.get("post") or groups.get("post2"),
            )
            value = Value(kind, raw, number, unit)
        values.setdefault(flatten(raw)[0], value)
    return list(values.values())


# --- normal forms -----------------------------------------------------------------------------

_WS_TABLE = np.zeros(0x3001, dtype=bool)
for _ch in range(0x3001):
    _WS_TABLE[_ch] = chr(_ch).isspace()
_CJK_BOUNDS = [
    (0x1100, 0x11FF),
    (0x2E80, 0x2FDF),
    (0x3000, 0x30FF),
    (0x3100, 0x312F),
    (0x31A0, 0x31BF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
    (0xFF00, 0xFFEF),
    (0x20000, 0x3134F),
]


def flatten(text: str) -> tuple[str, np.ndarray]:
    """``text`` with white space normalised, and the offset in ``text`` of each character.

    A run of white space becomes one space between two non-CJK characters and disappears next
    to a CJK character, after an underscore (a PDF line broken inside ``ASN1_MAX_`` ``NAME``) and
    at both ends. ``app.text.is_cjk`` in vector form."""
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    n = len(cp)
    ws = (cp < 0x3001) & _WS_TABLE[np.minimum(cp, 0x3000)]
    cjk = np.zeros(n, dtype=bool)
    for lo, hi in _CJK_BOUNDS:
        cjk |= (cp >= lo) & (cp <= hi)
    cjk &= ~ws
    before = np.concatenate(([False], ws[:-1])) if n else ws
    after = np.concatenate((ws[1:], [False])) if n else ws
    starts, ends = np.flatnonzero(ws & ~before), np.flatnonzero(ws & ~after) + 1
    inside = (starts > 0) & (ends < n)
    prev_cp = cp[np.maximum(starts - 1, 0)]
    next_i = np.minimum(ends, n - 1)
    space = inside & ~cjk[np.maximum(starts - 1, 0)] & ~cjk[next_i] & (prev_cp != ord("_"))
    keep = ~ws
    keep[starts[space]] = True
    offsets = np.flatnonzero(keep)
    flat = cp[offsets].copy()
    flat[ws[offsets]] = ord(" ")
    return flat.tobytes().decode("utf-32-le", "surrogatepass"), offsets


_CONFUSABLE = str.maketrans({"o": "0", "l": "1", "i": "1", "|": "1", "s": "5", "b": "8", "z": "2"})
_KEY_DROP = re.compile(r"[\s.,:;/\\\-\u2013~_'·]+")


def key(text: str) -> str:
    """The form near matches compare: NFKC, case-folded, OCR confusions merged, no separators."""
    return _KEY_DROP.sub("", unicodedata.normalize("NFKC", text).casefold().translate(_CONFUSABLE))


def _plain(text: str) -> str:
    """The form two candidates are told apart by: as ``key``, with the separators kept."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().translate(_CONFUSABLE).split())


def _shape(k: str) -> str:
    if k.isdigit():
        return "digits"
    return "cjk" if CJK_CHAR_RE.search(k) else "latin"


_MONTH_NUMBERS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DATE_FORMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(\d{4})\s?年\s?(\d{1,2})\s?月(?:\s?(\d{1,2})\s?[日号])?"), "ymd"),
    (re.compile(r"(\d{4})[-/.\uff0d\uff0f](\d{1,2})[-/.\uff0d\uff0f](\d{1,2})"), "ymd"),
    (re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTHS})\.?,?\s+(\d{{4}})", re.I), "dmy"),
    (re.compile(rf"({_MONTHS})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})", re.I), "mdy"),
    (re.compile(rf"({_MONTHS})\s+(\d{{4}})", re.I), "my"),
]


def date_of(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) of a date written in one of the common forms (day 0: none given)."""
    text = unicodedata.normalize("NFKC", text)
    for pattern, order in _DATE_FORMS:
        m = pattern.fullmatch(text)
        if not m:
            continue
        parts = dict(zip(order, m.groups(), strict=True))
        month = parts["m"]
        month_n = int(month) if month.isdigit() else _MONTH_NUMBERS[month[:3].lower()]
        date = (int(parts["y"]), month_n, int(parts.get("d") or 0))
        return date if 1 <= date[1] <= 12 and date[2] <= 31 else None
    return None


# --- the document index -----------------------------------------------------------------------


_ISO_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")


@dataclass
class _Candidates:
    spans: list[tuple[int, int]]  # in the flat text
    buckets: dict[tuple[str, int], tuple[list[str], list[int]]]  # (shape, key length) → keys
    dates: dict[tuple[int, int, int], list[int]]


class DocIndex:
    """A document's text made ready for checks: the flat text (``flatten``) for exact search,
    and on first need the candidates of near matches."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.flat, self.offsets = flatten(text)

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

    def exact(self, needle: str, whole: bool = False) -> list[tuple[int, int]]:
        """Where ``needle`` stands as a whole value (``str.find``, then the boundaries: a
        pattern starting with look-behinds would test them at every position)."""
        if not needle:
            return []
        pattern, flat, hits = _pattern(needle, whole), self.index.flat, []
        pos = flat.find(needle)
        while pos >= 0 and len(hits) < MAX_HITS:
            if pattern.match(flat, pos):
                hits.append((pos, pos + len(needle)))
            pos = flat.find(needle, pos + 1)
        return hits

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
        if value.kind == "quote":
            return self.found_near(self.near_text(needle))
        return self.found_near(self.near_date(needle) or self.near_key(needle))

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

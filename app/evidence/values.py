"""The values an answer is checked by (app/evidence/checks.py): numbers, dates, amounts,
percentages, durations, codes/IDs, versions, phone numbers, e-mails, URLs and quoted strings,
found in an answer's text (``answer_values``) or a document's (``find_values``), each with its
kind and, for amounts and counts, its unit (currency, scale, unit word)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from app.text import CJK_CHAR_RE

_ISO_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")

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

"""List labels of Word documents: '1.', 'a)', 'iv.', '三、' or '•' as Word would print them.

numbering.xml maps a paragraph's (numId, level) to a number format and a label template such as
'%1.%2.'; counters run per list and restart sub-levels when a parent item is numbered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _wattr(el: Any, name: str) -> str | None:
    return el.get(W + name) if el is not None else None


_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
          (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]  # fmt: skip
_CN_DIGITS = "〇一二三四五六七八九"


def _roman(n: int) -> str:
    out = []
    for value, sym in _ROMAN:
        while n >= value:
            out.append(sym)
            n -= value
    return "".join(out)


def _letters(n: int) -> str:
    # Word repeats the letter: a..z, aa..zz, aaa...
    n = max(n, 1)
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _chinese(n: int) -> str:
    if 0 < n < 10:
        return _CN_DIGITS[n]
    if 10 <= n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")
    return str(n)


def format_number(n: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return _letters(n)
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    if fmt in ("chineseCounting", "chineseCountingThousand", "ideographTraditional",
               "chineseLegalSimplified", "taiwaneseCounting"):  # fmt: skip
        return _chinese(n)
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt in ("decimalEnclosedParen", "decimalEnclosedFullstop"):
        return str(n)
    return str(n)


@dataclass
class _Level:
    fmt: str = "decimal"
    text: str = "%1."
    start: int = 1


@dataclass
class Numbering:
    """List labels ('1.', 'a)', '•') as Word would print them, from numbering.xml."""

    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)  # numId -> ilvl -> level
    counters: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def from_document(cls, document: Any) -> Numbering:
        numbering = cls()
        try:
            root = document.part.numbering_part.element
        except Exception:  # no numbering part: lists fall back to bullets
            return numbering
        abstract: dict[str, dict[int, _Level]] = {}
        for an in root.iterchildren(W + "abstractNum"):
            levels: dict[int, _Level] = {}
            for lvl in an.iterchildren(W + "lvl"):
                ilvl = _wattr(lvl, "ilvl")
                start = _wattr(lvl.find(W + "start"), "val")
                levels[int(ilvl) if ilvl and ilvl.isdigit() else 0] = _Level(
                    fmt=_wattr(lvl.find(W + "numFmt"), "val") or "decimal",
                    text=_wattr(lvl.find(W + "lvlText"), "val") or "",
                    start=int(start) if start and start.lstrip("-").isdigit() else 1,
                )
            abstract[_wattr(an, "abstractNumId") or ""] = levels
        for num in root.iterchildren(W + "num"):
            abs_id = _wattr(num.find(W + "abstractNumId"), "val") or ""
            numbering.levels[_wattr(num, "numId") or ""] = abstract.get(abs_id, {})
        return numbering

    def label(self, num_id: str, ilvl: int) -> str:
        levels = self.levels.get(num_id)
        level = levels.get(ilvl) if levels else None
        if level is None:
            return "• "
        if level.fmt == "bullet":
            return "• "
        if level.fmt == "none":
            return ""
        counters = self.counters.setdefault(num_id, [])
        while len(counters) <= ilvl:
            lvl = levels.get(len(counters)) if levels else None
            counters.append((lvl.start if lvl else 1) - 1)
        counters[ilvl] += 1
        for deeper in range(ilvl + 1, len(counters)):  # a new item restarts its sub-lists
            lvl = levels.get(deeper) if levels else None
            counters[deeper] = (lvl.start if lvl else 1) - 1

        def sub(match: re.Match[str]) -> str:
            k = int(match.group(1)) - 1
            lvl = levels.get(k) if levels else None
            value = counters[k] if k < len(counters) else 1
            return format_number(max(value, 1), lvl.fmt if lvl else "decimal")

        text = re.sub(r"%(\d)", sub, level.text) if level.text else ""
        return f"{text} " if text else ""

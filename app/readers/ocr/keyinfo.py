"""Key-information mode: dates, amounts, percentages, organisations, people, e-mails, phones, IDs.

Patterns (``patterns.py``) run over the OCR text; every item keeps where it was read so that it
gets its own evidence box. Repeats of the same value are listed once (first occurrence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.readers.ocr.patterns import YEAR_RANGE, find_values
from app.text import has_cjk

KINDS = ("date", "amount", "percent", "org", "person", "email", "phone", "code", "url")
LABELS = {
    "en": {
        "date": "Date",
        "amount": "Amount",
        "percent": "Percentage",
        "org": "Organisation",
        "person": "Person",
        "email": "E-mail",
        "phone": "Phone",
        "code": "ID / code",
        "url": "URL",
    },
    "zh": {
        "date": "日期",
        "amount": "金额",
        "percent": "百分比",
        "org": "机构",
        "person": "人物",
        "email": "邮箱",
        "phone": "电话",
        "code": "编号",
        "url": "网址",
    },
}
MAX_ITEMS = 60


@dataclass(frozen=True)
class Item:
    kind: str
    start: int
    end: int
    text: str


_TITLE = re.compile(r"^(?:Dr|Mr|Mrs|Ms|Prof|Sir)\.?\s")
_CJK_PARTICLES = set("的着了地得之与和及或在是为将把被从对向")


_NAME_HEAD = re.compile(r"[A-Za-z]{2}")
_ZIP_PLUS_4 = re.compile(r"\d{5}-\d{4}")


def precise(kind: str, value: str) -> bool:
    """Only what the patterns read without guessing: a person named with a title or after a
    role word (not any two capitalised words: "Fifth Floor", "Debian Bug"), a phone number that
    is not a year range or two cells of a table, a code with digits in it (not a hyphenated word:
    "OP-TIONAL"; not a name with a version: "WPA2")."""
    value = value.strip()
    if kind == "person":
        # a Chinese name after a role word: 2-3 characters, not a grammatical particle
        # ("的主页", "着变量" are what follows 作者/代表 in running text)
        return bool(_TITLE.match(value)) or (
            has_cjk(value) and len(value) <= 3 and value[0] not in _CJK_PARTICLES
        )
    if kind == "phone":
        # one line, no table cell between its parts ("889 | 2408" is two figures of a table),
        # not a US postcode with its +4 ("Boston, MA 02110-1301")
        return (
            not YEAR_RANGE.fullmatch(value)
            and not _ZIP_PLUS_4.fullmatch(value)
            and not any(ch in value for ch in "|\n")
        )
    if kind == "percent":
        # "%" alone is an operator ("${var%suffix}"), whatever digit OCR read beside it
        return any(ch.isdigit() for ch in value)
    if kind == "code":
        digits = sum(ch.isdigit() for ch in value)
        return (
            digits > 0
            and any(ch.isalpha() for ch in value)
            and not any(ch.isspace() for ch in value)  # "SONAME 1", "5 UTF": words, not a code
            # without a separator a code is a name with a number in it ("WPA2", "IPROUTE2"),
            # unless the number is an identifier's ("RFC822", "ISO9001")
            and (digits >= 3 or any(ch in value for ch in "-/"))
            # names joined by a slash are two names, not one code ("SMTP/POP3", "UTF-16/UCS-2")
            and not ("/" in value and all(_NAME_HEAD.match(part) for part in value.split("/")))
        )
    if kind == "amount" and value[:1] in "$€£¥￥":
        # "$1" and "$ 3" are shell variables and prompts; money has a separator or more digits
        digits = sum(ch.isdigit() for ch in value)
        return digits >= 2 or any(ch in value for ch in ".,") or any(ch.isalpha() for ch in value)
    if kind == "url":
        # "https://people.debian.org/~" is cut where a placeholder followed ("~your-id/")
        # one address: no space inside (OCR glues "devel.html (https://…" into one), no cut
        return (
            "." in value.split("://", 1)[-1].strip("/")
            and not any(ch.isspace() for ch in value)
            and not value.endswith(("&gt;", ">", "~", "=", "?", "&", "-"))
        )
    return True


def key_information(text: str, max_items: int = MAX_ITEMS) -> list[Item]:
    """Items in reading order, grouped by kind order of ``KINDS``, without duplicates; only
    the precise ones (``precise``)."""
    seen: set[tuple[str, str]] = set()
    items: list[Item] = []
    for match in find_values(text, KINDS):
        if not precise(match.kind, match.text):
            continue
        norm = " ".join(match.text.split()).lower()
        if (match.kind, norm) in seen:
            continue
        seen.add((match.kind, norm))
        items.append(Item(match.kind, match.start, match.end, match.text))
    items.sort(key=lambda it: (KINDS.index(it.kind), it.start))
    return items[:max_items]


def format_items(items: list[Item], lang: str) -> str:
    labels = LABELS["zh" if lang == "zh" else "en"]
    return "\n".join(f"- {labels[it.kind]}: {' '.join(it.text.split())}" for it in items)

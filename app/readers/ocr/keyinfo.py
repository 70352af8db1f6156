"""Key-information mode: dates, amounts, percentages, organisations, people, e-mails, phones, IDs.

Patterns (``patterns.py``) run over the OCR text; every item keeps where it was read so that it
gets its own evidence box. Repeats of the same value are listed once (first occurrence).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.readers.ocr.patterns import find_values

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


def key_information(text: str, max_items: int = MAX_ITEMS) -> list[Item]:
    """Items in reading order, grouped by kind order of ``KINDS``, without duplicates."""
    seen: set[tuple[str, str]] = set()
    items: list[Item] = []
    for match in find_values(text, KINDS):
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

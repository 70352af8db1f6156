"""Metrics of the real-document QA set — pure functions, no ``app`` imports.

Normalisation for "the answer contains a gold answer": Unicode NFKC (full-width → half-width),
lower case, punctuation → space, white space collapsed, and no space kept next to a CJK character
(``6 到8 个字符`` = ``6到8个字符``). A gold alias matches when its normalised form occurs in the
normalised answer and, where it starts or ends with a Latin letter or digit, is not glued to
another one (``vac`` does not match ``vacation``, ``10`` does not match ``100``). Aliases that
normalise to nothing (pure punctuation) never match.

Passages are located in the rendered text with white space ignored (and NFKC applied per
character), so a passage quoted from a PDF line that wraps still matches; every occurrence
counts, and so do the question's ``alt_passages`` (the same statement made again elsewhere).
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

MAX_ANSWER_CHARS = 300
NOT_FOUND_MARKERS = (
    "not found",
    "no answer",
    "cannot be found",
    "does not say",
    "doesn't say",
    "not mentioned",
    "未找到",
    "无法回答",
    "没有找到",
    "文档中没有",
    "未提及",
)

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_SPACE_NEXT_TO_CJK = re.compile(
    r"(?<=[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]) +"
    r"| +(?=[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af])"
)


def _is_punct(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in ("P", "S")


def normalize(text: str) -> str:
    """Text as compared for answer matching (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(" " if _is_punct(ch) else ch for ch in text)
    text = " ".join(text.split())
    return _SPACE_NEXT_TO_CJK.sub("", text)


def _ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def contains_alias(answer: str, aliases: Iterable[str]) -> str | None:
    """The first alias found in ``answer`` (normalised, on word boundaries), else None."""
    hay = normalize(answer)
    for alias in aliases:
        needle = normalize(alias)
        if not needle:
            continue
        start = hay.find(needle)
        while start != -1:
            end = start + len(needle)
            left_ok = not (_ascii_alnum(needle[0]) and start > 0 and _ascii_alnum(hay[start - 1]))
            right_ok = not (_ascii_alnum(needle[-1]) and end < len(hay) and _ascii_alnum(hay[end]))
            if left_ok and right_ok:
                return alias
            start = hay.find(needle, start + 1)
    return None


def is_not_found(answer: str) -> bool:
    """The reader says the document does not answer (or says nothing)."""
    text = answer.strip().lower()
    return not text or any(marker in text for marker in NOT_FOUND_MARKERS)


# ----------------------------------------------------------------------------------------------
# locating passages
# ----------------------------------------------------------------------------------------------


def squash(text: str) -> tuple[str, list[int]]:
    """``text`` with white space removed and NFKC applied per character, plus for every
    character of the result the offset in ``text`` it came from."""
    out: list[str] = []
    index: list[int] = []
    for offset, ch in enumerate(text):
        if ch.isspace():
            continue
        norm = unicodedata.normalize("NFKC", ch)
        for c in norm:
            if c.isspace():
                continue
            out.append(c)
            index.append(offset)
    return "".join(out), index


def find_passage(
    text: str, passage: str, squashed: tuple[str, list[int]] | None = None
) -> list[tuple[int, int]]:
    """Every (start, end) range of ``text`` that equals ``passage`` up to white space."""
    hay, index = squashed if squashed is not None else squash(text)
    needle, _ = squash(passage)
    if not needle:
        return []
    ranges = []
    pos = hay.find(needle)
    while pos != -1:
        ranges.append((index[pos], index[pos + len(needle) - 1] + 1))
        pos = hay.find(needle, pos + 1)
    return ranges


def gold_passages(question: dict[str, Any]) -> list[str]:
    """The gold passage and its alternatives (``alt_passages``: the same statement made again
    elsewhere in the document, e.g. a lesson's summary)."""
    if not question.get("answerable"):
        return []
    return [question["passage"], *question.get("alt_passages", [])]


def find_gold(
    text: str, question: dict[str, Any], squashed: tuple[str, list[int]] | None = None
) -> list[tuple[int, int]]:
    """Every range of ``text`` holding the gold passage or one of its alternatives."""
    squashed = squashed if squashed is not None else squash(text)
    ranges: list[tuple[int, int]] = []
    for passage in gold_passages(question):
        ranges.extend(find_passage(text, passage, squashed))
    return sorted(set(ranges))


def overlaps(spans: Iterable[tuple[int, int]], ranges: Iterable[tuple[int, int]]) -> bool:
    ranges = list(ranges)
    return any(a < d and c < b for a, b in spans for c, d in ranges)


def boxes_intersect(
    boxes: Iterable[tuple[int, Sequence[float]]], gold: Iterable[tuple[int, Sequence[float]]]
) -> bool:
    """Some (page, box) of ``boxes`` intersects some (page, box) of ``gold`` (same page)."""
    gold = list(gold)
    for page, (x0, y0, x1, y1) in boxes:
        for gpage, (gx0, gy0, gx1, gy1) in gold:
            if page == gpage and x0 < gx1 and gx0 < x1 and y0 < gy1 and gy0 < y1:
                return True
    return False


# ----------------------------------------------------------------------------------------------
# per-question judgement and aggregation
# ----------------------------------------------------------------------------------------------


def judge(
    question: dict[str, Any],
    *,
    answer_text: str,
    needs_review: bool,
    evidence_on_gold: bool,
    box_on_gold: bool,
    closest_on_gold: bool = False,
) -> dict[str, Any]:
    """The scores of one answer (the fields ``summarize`` aggregates); ``closest_on_gold``: a
    "not found" answer points at the gold passage as the place to check."""
    not_found = is_not_found(answer_text)
    alias = None if not_found else contains_alias(answer_text, question.get("answers", []))
    short = len(answer_text.strip()) <= MAX_ANSWER_CHARS
    # answerable: a short answer with the gold answer, pointed at the gold passage;
    # unanswerable: saying so
    correct = (bool(alias) and short and evidence_on_gold) if question["answerable"] else not_found
    return {
        "not_found": not_found,
        "matched_alias": alias,
        "contains_gold": alias is not None,
        "short": short,
        "evidence_on_gold": evidence_on_gold,
        "box_on_gold": box_on_gold,
        "correct": correct,
        "unanswerable_handled": (not_found or needs_review) if not question["answerable"] else None,
        "not_found_pointed": (
            bool(closest_on_gold) if question["answerable"] and not_found else None
        ),
    }


def _rate(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate judged records (each: question fields + ``judge`` output + ``needs_review``,
    ``seconds``, and optionally ``free_form_box_on_gold``)."""
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    unflagged = [r for r in records if not r["needs_review"]]
    free = [
        r["free_form_box_on_gold"] for r in answerable if r.get("free_form_box_on_gold") is not None
    ]
    seconds = [r["seconds"] for r in records if r.get("seconds") is not None]
    return {
        "questions": len(records),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "correct": _rate([r["correct"] for r in answerable]),
        "contains_gold": _rate([r["contains_gold"] for r in answerable]),
        "evidence_on_gold": _rate([r["evidence_on_gold"] for r in answerable]),
        "box_on_gold": _rate([r["box_on_gold"] for r in answerable]),
        "answered_not_found": _rate([r["not_found"] for r in answerable]),
        # answerable questions answered "not found" whose note points at the gold passage
        "not_found_pointed": _rate(
            [r["not_found_pointed"] for r in answerable if r.get("not_found_pointed") is not None]
        ),
        "flagged": _rate([r["needs_review"] for r in records]),
        "unflagged": len(unflagged),
        "unflagged_correct": _rate([r["correct"] for r in unflagged]),
        "unanswerable_handled": _rate([r["unanswerable_handled"] for r in unanswerable]),
        "free_form_box_on_gold": _rate(free),
        "seconds_mean": round(statistics.fmean(seconds), 3) if seconds else None,
        "seconds_p50": round(statistics.median(seconds), 3) if seconds else None,
        "seconds_total": round(sum(seconds), 1) if seconds else None,
    }


def breakdown(records: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[str(r[key])].append(r)
    return {k: summarize(v) for k, v in sorted(groups.items())}


def key_info_precision(judgements: list[dict[str, Any]]) -> dict[str, Any]:
    """Precision of extracted key-information items judged by a person."""
    items = [j for j in judgements if j.get("real_and_correct_type") is not None]
    by_lang: dict[str, list[bool]] = defaultdict(list)
    for j in items:
        by_lang[j.get("language", "?")].append(bool(j["real_and_correct_type"]))
    return {
        "items": len(items),
        "precision": _rate([bool(j["real_and_correct_type"]) for j in items]),
        "by_language": {k: {"items": len(v), "precision": _rate(v)} for k, v in by_lang.items()},
    }

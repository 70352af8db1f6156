"""Evidence: map an answer to source spans and spans to red boxes — the same for every reader.

``attach`` takes a reader's ``Answer``: when the reader already gave supporting spans (the OCR
reader does) they are used as they are; otherwise the answer text is located in the document
(exact → fuzzy → best-supporting sentence). Spans become ``Evidence`` with pixel boxes on the
rendered pages (and PDF boxes on the original pages), and weak support flags the answer for
human review. Each value of the answer (numbers, dates, amounts, codes, quoted strings …) is
looked up in the document (``app.evidence.checks``): ``Answer.checks``, and a value the document
does not have as written flags the answer, with a note saying what the document has.
"""

from __future__ import annotations

import re

from app.datamodel import Answer, Evidence, Mode, Note, RenderedDoc, Span
from app.evidence.boxes import evidence_for_span, source_boxes
from app.evidence.checks import check_answer
from app.evidence.draw import (
    annotate_pages,
    annotate_source_pages,
    draw_boxes,
    save_annotated,
    save_annotated_sources,
)
from app.evidence.match import (
    closest_passage,
    locate_answer,
    split_sentences,
    supporting_sentences,
)
from app.text import is_cjk

MAX_EVIDENCE = 8
_ITEM = re.compile(r"^\s*(?:[-*•]\s*)?(?:\*\*)?([^:：]{1,40}?)(?:\*\*)?\s*[:：]\s*(.+?)\s*$")


def _spans_for(rendered: RenderedDoc, answer: Answer, question: str) -> list[Span]:
    text = rendered.text
    if answer.mode is Mode.QA:
        return locate_answer(text, answer.text, question)
    pieces: list[str] = []
    if answer.mode is Mode.EXTRACT:
        for line in answer.text.splitlines():
            match = _ITEM.match(line)
            if match:
                pieces.append(match.group(2))
            elif line.strip():
                pieces.append(line.strip(" -*•"))
    else:  # summary: each summary sentence back to its best source sentence
        pieces = [s.text for s in split_sentences(answer.text)]
    spans: list[Span] = []
    seen: set[tuple[int, int]] = set()
    for piece in pieces[: MAX_EVIDENCE * 2]:
        found = locate_answer(text, piece, question) or supporting_sentences(text, piece)
        for span in found[:1]:
            if (span.start, span.end) not in seen:
                seen.add((span.start, span.end))
                spans.append(span)
    return spans


def _word_char(ch: str) -> bool:
    # letters and digits of alphabetic scripts; CJK text has no spaces to snap to
    return (ch.isalnum() or ch in "_") and not is_cjk(ch)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _time_designator(text: str, i: int) -> bool:
    """ISO 8601's "T" between a date and its time ("2022-09-28T06:49"): where a date ends."""
    return (
        text[i] == "T"
        and i >= 10
        and _ISO_DATE.fullmatch(text, i - 10, i) is not None
        and text[i + 1 : i + 2].isdigit()
    )


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """``start:end`` widened so that it neither starts nor ends inside a word or number
    ("fault priority value is 50, and the maximum is 1" → "default … is 100")."""
    start, end = max(0, start), min(len(text), end)
    while 0 < start < end and _word_char(text[start - 1]) and _word_char(text[start]):
        start -= 1
    while (
        start < end < len(text)
        and _word_char(text[end - 1])
        and _word_char(text[end])
        and not _time_designator(text, end)
    ):
        end += 1
    # decimals and thousands: "4.5" and "12,000" are one value
    while (
        end + 1 < len(text)
        and text[end] in ".,"
        and text[end - 1].isdigit()
        and text[end + 1].isdigit()
    ):
        end += 2
        while end < len(text) and text[end].isdigit():
            end += 1
    return start, end


def _valid(span: Span, text: str) -> Span | None:
    start, end = snap_to_words(text, span.start, span.end)
    if start >= end:
        return None
    if span.start == start and span.end == end and span.text == text[start:end]:
        return span
    return span.model_copy(update={"start": start, "end": end, "text": text[start:end]})


def _closest(rendered: RenderedDoc, answer: Answer, question: str) -> list[Span]:
    """Where a person should look after a "not found" answer to a question: the reader's nearest
    passage, else the sentence holding most of the question's rare words (none when weak, or
    when the reader found that the document never mentions what is asked)."""
    if answer.mode is not Mode.QA or not question.strip() or answer.nowhere:
        return []
    spans = [s for s in (_valid(s, rendered.text) for s in answer.closest) if s is not None]
    if not spans:
        found = closest_passage(rendered.text, question)
        spans = [found] if found is not None else []
    return spans[:1]


def _closest_evidence(rendered: RenderedDoc, closest: list[Span]) -> list[Evidence]:
    """Blue boxes on the closest passage: where to look, not support (confidence 0, flagged)."""
    return [
        place.model_copy(update={"closest": True})
        for span in closest
        for place in evidence_for_span(
            rendered.layout, span, confidence=0.0, needs_review=True, document=rendered.document
        )
    ]


def _weak_places(evidence: list[Evidence]) -> Note:
    """Why a confident answer is flagged: none of its places supports it well enough."""
    best = round(100 * max(ev.confidence for ev in evidence))
    return Note(
        en=f"The boxed passage supports the answer only in part ({best}% at best); please "
        "check it.",
        zh=f"框出的段落只能部分支持这个答案（最高 {best}%），请核对。",
    )


def _where_to_look(closest: list[Evidence]) -> list[Note]:
    """ "Not found — please check page 7": the closest passage's page and its first words."""
    notes = []
    for place in closest[:1]:
        page = place.source_page if place.source_page is not None else place.page
        if place.document is not None:  # a collection: the document, and its own page if paged
            page = place.document_page if place.document_page is not None else page
            where_en = f"in {place.document}, page {page + 1}"
            where_zh = f"在《{place.document}》第 {page + 1} 页"
        else:
            where_en, where_zh = f"on page {page + 1}", f"在第 {page + 1} 页"
        quote = _quote(place.span.text)
        notes.append(
            Note(
                en=f"The closest passage is {where_en} (outlined in blue): “{quote}” It may not "
                "answer the question; please check there.",
                zh=f"最接近的段落{where_zh}（蓝框标出）：“{quote}” 它未必回答了问题，请到那里核对。",
            )
        )
    return notes


def _quote(text: str, limit: int = 120) -> str:
    """The passage's first ``limit`` characters, cut at a space (Latin text) with '…'."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit]
    if not is_cjk(cut[-1]) and " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"


def attach(
    rendered: RenderedDoc,
    answer: Answer,
    *,
    question: str = "",
    review_threshold: float = 0.85,
) -> Answer:
    """A copy of ``answer`` with spans and evidence boxes filled and the review flag set.

    An answer the reader marked as not found (``Answer.found`` False) gets no evidence and the
    review flag: nothing in the document supports it, and a person should look.
    """
    if not answer.found or not answer.text.strip():
        closest = _closest(rendered, answer, question)
        pointers = _closest_evidence(rendered, closest)
        return answer.model_copy(
            update={
                "found": False,
                "spans": [],
                "closest": closest,
                "closest_evidence": pointers,
                "notes": [*answer.notes, *_where_to_look(pointers)],
                "evidence": [],
                "checks": [],
                "needs_review": True,
            }
        )
    spans = [s for s in (_valid(s, rendered.text) for s in answer.spans) if s is not None]
    if not spans:
        located = _spans_for(rendered, answer, question)
        spans = [s for s in (_valid(s, rendered.text) for s in located) if s is not None]
    evidence: list[Evidence] = []
    for span in spans[:MAX_EVIDENCE]:
        confidence = round(answer.confidence * span.score, 4)
        evidence.extend(
            evidence_for_span(
                rendered.layout,
                span,
                confidence=confidence,
                needs_review=confidence < review_threshold,
                document=rendered.document,
            )
        )
    needs_review = answer.needs_review or answer.confidence < review_threshold
    weak: list[Note] = []
    if not evidence or all(ev.needs_review for ev in evidence):
        # an answer nobody can point at must be checked by a person; a sure answer flagged only
        # for this says why (else "94 % · ⚠ needs review" on the screen, and no reason)
        weak = [] if needs_review or not evidence else [_weak_places(evidence)]
        needs_review = True
    checks, check_notes = check_answer(rendered, answer.text, answer.mode, spans)
    needs_review = needs_review or bool(check_notes)
    if not needs_review:
        # "⚠ needs review" means one thing on the screen: the places of an answer that needs
        # none are not marked for checking either (a sentence around a sure value may hold few of
        # the question's words; its support figure says so)
        evidence = [ev.model_copy(update={"needs_review": False}) for ev in evidence]
    return answer.model_copy(
        update={
            "spans": spans,
            "evidence": evidence,
            "checks": checks,
            "notes": [*answer.notes, *weak, *check_notes],
            "needs_review": needs_review,
        }
    )


__all__ = [
    "annotate_pages",
    "annotate_source_pages",
    "attach",
    "draw_boxes",
    "evidence_for_span",
    "locate_answer",
    "save_annotated",
    "save_annotated_sources",
    "source_boxes",
    "split_sentences",
    "supporting_sentences",
]

"""Evidence: map an answer to source spans and spans to red boxes — the same for every reader.

``attach`` takes a reader's ``Answer``: when the reader already gave supporting spans (the OCR
reader does) they are used as they are; otherwise the answer text is located in the document
(exact → fuzzy → best-supporting sentence). Spans become ``Evidence`` with pixel boxes on the
rendered pages (and PDF boxes on the original pages), and weak support flags the answer for
human review.
"""

from __future__ import annotations

import re

from app.datamodel import Answer, Evidence, Mode, RenderedDoc, Span
from app.evidence.boxes import evidence_for_span, source_boxes
from app.evidence.draw import (
    annotate_pages,
    annotate_source_pages,
    draw_boxes,
    save_annotated,
    save_annotated_sources,
)
from app.evidence.match import locate_answer, split_sentences, supporting_sentences

MAX_EVIDENCE = 8
_ITEM = re.compile(r"^\s*(?:[-*•]\s*)?(?:\*\*)?([^:：]{1,40}?)(?:\*\*)?\s*[:：]\s*(.+?)\s*$")
_NO_ANSWER = ("not found", "no answer", "未找到", "无法回答", "没有找到")


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


def _valid(span: Span, text: str) -> Span | None:
    start, end = max(0, span.start), min(len(text), span.end)
    if start >= end:
        return None
    if span.start == start and span.end == end and span.text == text[start:end]:
        return span
    return span.model_copy(update={"start": start, "end": end, "text": text[start:end]})


def attach(
    rendered: RenderedDoc,
    answer: Answer,
    *,
    question: str = "",
    review_threshold: float = 0.6,
) -> Answer:
    """A copy of ``answer`` with spans and evidence boxes filled and the review flag set."""
    spans = [s for s in (_valid(s, rendered.text) for s in answer.spans) if s is not None]
    no_answer = not answer.text.strip() or answer.text.strip().lower().startswith(_NO_ANSWER)
    if not spans and not no_answer:
        spans = _spans_for(rendered, answer, question)
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
    if not no_answer and (not evidence or all(ev.needs_review for ev in evidence)):
        needs_review = True  # an answer nobody can point at must be checked by a person
    return answer.model_copy(
        update={"spans": spans, "evidence": evidence, "needs_review": needs_review}
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

"""The one interface every reader implements.

A reader turns a ``RenderedDoc`` and a question into a stream of ``AnswerChunk``s: optional
``status`` lines ("OCR page 3/12"), ``thinking`` and ``answer`` text deltas, and exactly one
``final`` chunk carrying the complete ``Answer`` (with supporting spans, confidence and stats).
Evidence boxes are added afterwards by ``app.evidence`` for every reader alike.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator

from pydantic import BaseModel, Field

from app.datamodel import Answer, AnswerChunk, Mode, RenderedDoc
from app.errors import ReaderError
from app.readers.control import QuestionControl

log = logging.getLogger(__name__)

NOT_FOUND = {"en": "Not found in the document.", "zh": "文档中未找到答案。"}
"""What a reader answers when the document does not answer the question (``Answer.found`` is
False then); the VLM prompts ask models for the same words."""

# How models phrase "no answer" at the start of their reply (prompted with NOT_FOUND, but they
# paraphrase). Only a reader reading a model's free text needs this: it sets ``Answer.found``.
_NOT_FOUND_START = re.compile(
    r"^\W*(not found|no answer|(the )?(document|text) does not (contain|say|mention)|"
    r"未找到|找不到|没有找到|无法回答|文档中(没有|未)(找到|提及|包含|相关))",
    re.IGNORECASE,
)


def says_not_found(text: str) -> bool:
    """True when a model's answer says the document holds no answer (or is empty)."""
    return not text.strip() or bool(_NOT_FOUND_START.match(text.strip()))


class ReaderCapabilities(BaseModel):
    """What a reader can do, shown in the UI so that the active reader is stated honestly."""

    thinking: bool = Field(False, description="may stream a reasoning trace before answering")
    description: str = Field(
        "", description="one line for the UI, e.g. 'built-in OCR reader (CPU)'"
    )


class Reader(ABC):
    """Base class of the built-in OCR reader, the in-process VLM and the OpenAI-compatible client."""

    name: str = "reader"
    control: QuestionControl | None = None
    """The current question's limits (budget, cancel flag), set by the pipeline while it holds
    the reader lock; a reader that works in units (pages) checks ``control.over()`` between them."""

    @property
    @abstractmethod
    def capabilities(self) -> ReaderCapabilities: ...

    @abstractmethod
    def answer(
        self, rendered: RenderedDoc, question: str, mode: Mode = Mode.QA, *, stream: bool = True
    ) -> Iterator[AnswerChunk]:
        """Yield chunks; the last one is ``kind='final'`` with the ``Answer``."""

    def prefetch(  # noqa: B027
        self, rendered: RenderedDoc, *, if_idle: bool = False, limit: int | None = None
    ) -> None:
        """Start reading ``rendered`` in the background, if this reader can (``if_idle``: only
        when no other background read is running; ``limit``: at most this many pages). Most
        readers read when asked."""

    def close(self) -> None:  # noqa: B027 - optional hook, most readers hold nothing
        """Release models, sessions or caches."""


def final_answer(chunks: Iterable[AnswerChunk], who: str = "reader") -> Answer:
    """Run a stream of chunks to its end and return the final ``Answer`` (the stream is always
    exhausted, so a generator holding a lock releases it)."""
    final: Answer | None = None
    for chunk in chunks:
        if chunk.kind == "final":
            final = chunk.answer
    if final is None:
        raise ReaderError(f"The {who} ended without an answer.", f"{who} 未给出答案。")
    return final


def model_answer(
    reader: str,
    mode: Mode,
    text: str,
    thinking: str,
    confidence: float,
    needs_review: bool,
    pages: list[int],
    notes: list,
    **fields: object,
) -> Answer:
    """The ``Answer`` of a model reader (VLM, OpenAI-compatible): whether it says "not found"
    is read from its text once, here; timings are rounded for the record."""
    timings = fields.pop("timings", {})
    return Answer(
        text=text,
        mode=mode,
        reader=reader,
        thinking=thinking,
        confidence=round(confidence, 4),
        needs_review=needs_review,
        found=not says_not_found(text),
        timings={k: round(v, 4) for k, v in timings.items()},  # type: ignore[attr-defined]
        pages_read=list(pages),
        notes=notes,
        **fields,  # type: ignore[arg-type]
    )

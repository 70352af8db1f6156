"""The one interface every reader implements.

A reader turns a ``RenderedDoc`` and a question into a stream of ``AnswerChunk``s: optional
``status`` lines ("OCR page 3/12"), ``thinking`` and ``answer`` text deltas, and exactly one
``final`` chunk carrying the complete ``Answer`` (with supporting spans, confidence and stats).
Evidence boxes are added afterwards by ``app.evidence`` for every reader alike.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator

from pydantic import BaseModel, Field

from app.datamodel import Answer, AnswerChunk, Mode, RenderedDoc
from app.errors import ReaderError

log = logging.getLogger(__name__)


class ReaderCapabilities(BaseModel):
    """What a reader can do, shown in the UI so that the active reader is stated honestly."""

    modes: frozenset[Mode] = frozenset(Mode)
    streaming: bool = True
    thinking: bool = False
    device: str = "cpu"
    description: str = Field(
        "", description="one line for the UI, e.g. 'built-in OCR reader (CPU)'"
    )


class Reader(ABC):
    """Base class of the built-in OCR reader, the in-process VLM and the OpenAI-compatible client."""

    name: str = "reader"

    @property
    @abstractmethod
    def capabilities(self) -> ReaderCapabilities: ...

    @abstractmethod
    def answer(
        self, rendered: RenderedDoc, question: str, mode: Mode = Mode.QA, *, stream: bool = True
    ) -> Iterator[AnswerChunk]:
        """Yield chunks; the last one is ``kind='final'`` with the ``Answer``."""

    def ask(self, rendered: RenderedDoc, question: str, mode: Mode = Mode.QA) -> Answer:
        """Run ``answer`` to completion and return the final ``Answer``."""
        final: Answer | None = None
        for chunk in self.answer(rendered, question, mode, stream=False):
            if chunk.kind == "final":
                final = chunk.answer
        if final is None:
            raise ReaderError(
                f"The {self.name} reader ended without an answer.",
                f"{self.name} 阅读器未给出答案。",
            )
        return final

    def close(self) -> None:  # noqa: B027 - optional hook, most readers hold nothing
        """Release models, sessions or caches."""

"""Run a reader on its own (no pipeline, no evidence step) to its final answer."""

from __future__ import annotations

from app.datamodel import Answer, Mode, RenderedDoc
from app.readers.base import Reader, final_answer


def ask(reader: Reader, rendered: RenderedDoc, question: str, mode: Mode = Mode.QA) -> Answer:
    return final_answer(reader.answer(rendered, question, mode, stream=False), reader.name)

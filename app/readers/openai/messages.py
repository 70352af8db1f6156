"""Chat-completions payloads for an OpenAI-compatible server (vLLM, SGLang) serving Glyph.

The pages go first, each as an ``image_url`` part holding a base64 PNG data URL, then the text
part with the mode's prompt template — the same order the in-process reader uses, which also lets
vLLM's prefix caching reuse the document for follow-up questions.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from app.datamodel import Mode, Page
from app.readers.vlm.prompts import instruction
from app.text import detect_language


def data_url(page: Page) -> str:
    """The page image as ``data:image/png;base64,…`` (PNG bytes are encoded once per page)."""
    return "data:image/png;base64," + base64.b64encode(page.png_bytes()).decode("ascii")


def chat_messages(
    pages: Sequence[Page], question: str, mode: Mode, *, document_text: str = ""
) -> list[dict[str, Any]]:
    lang = detect_language(question, document_text)
    content: list[dict[str, Any]] = [
        {"type": "image_url", "image_url": {"url": data_url(page)}} for page in pages
    ]
    content.append({"type": "text", "text": instruction(mode, question, len(pages), lang)})
    return [{"role": "user", "content": content}]


def reasoning_of(delta: Any) -> str:
    """The reasoning text of a streamed delta: vLLM sends ``reasoning_content`` (newer versions
    ``reasoning``) when started with a reasoning parser; both are extra fields to the SDK."""
    for name in ("reasoning_content", "reasoning"):
        value = getattr(delta, name, None)
        if value is None and getattr(delta, "model_extra", None):
            value = delta.model_extra.get(name)
        if isinstance(value, str) and value:
            return value
    return ""

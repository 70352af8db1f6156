"""Readers: the built-in OCR reader (CPU default), the in-process VLM, an OpenAI-compatible client.

``resolve_reader`` picks one from the settings. Implementations are imported lazily so that the
light paths (render preview, CLI help) never import torch or transformers.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field

from app.datamodel import Note
from app.errors import GlyphError, ReaderError
from app.readers.base import Reader, ReaderCapabilities
from app.settings import Settings

log = logging.getLogger(__name__)

# name -> "module:Class"; each class takes the Settings as its only constructor argument.
READERS: dict[str, str] = {
    "ocr": "app.readers.ocr:OcrReader",
    "vlm": "app.readers.vlm:VlmReader",
    "openai": "app.readers.openai:OpenAIReader",
}


@dataclass
class ReaderChoice:
    """The reader in use, and why (shown in the UI: e.g. a model that failed to load)."""

    reader: Reader
    requested: str
    notes: list[Note] = field(default_factory=list)

    def user_notes(self, lang: str = "en") -> list[str]:
        return [note.text(lang) for note in self.notes]


def load_reader(name: str, settings: Settings) -> Reader:
    """Instantiate reader ``name``; raises ``ReaderError`` with a user-facing reason."""
    if name not in READERS:
        raise ReaderError(
            f"Unknown reader '{name}'. Choose one of: {', '.join(READERS)}.",
            f"未知的阅读器 '{name}'，可选：{', '.join(READERS)}。",
        )
    module_name, cls_name = READERS[name].split(":")
    module = importlib.import_module(module_name)
    return getattr(module, cls_name)(settings)


def resolve_reader(settings: Settings, name: str | None = None) -> ReaderChoice:
    """The reader for ``name`` (default ``settings.reader``).

    'auto' means: the VLM when a model is configured, else an OpenAI-compatible server when one is
    configured, else the built-in OCR reader. If the chosen model cannot be loaded, fall back to
    the OCR reader and say why in ``notes``.
    """
    requested = name or settings.reader
    candidates: list[str]
    if requested == "auto":
        candidates = []
        if settings.model:
            candidates.append("vlm")
        if settings.openai_base_url:
            candidates.append("openai")
        candidates.append("ocr")
    else:
        candidates = [requested] if requested == "ocr" else [requested, "ocr"]
    notes: list[Note] = []
    for candidate in candidates:
        try:
            return ReaderChoice(load_reader(candidate, settings), requested, notes)
        except GlyphError as err:
            if candidate == "ocr":
                raise
            log.warning("reader %s unavailable: %s", candidate, err.detail or err)
            notes.append(
                Note(
                    en=f"{candidate}: {err.en} — falling back to the built-in OCR reader.",
                    zh=f"{candidate}：{err.zh}——已改用内置 OCR 阅读器。",
                )
            )
        except Exception as err:  # a broken checkpoint must not take the server down
            if candidate == "ocr":
                raise
            log.exception("reader %s failed to load", candidate)
            notes.append(
                Note(
                    en=f"{candidate}: failed to load ({type(err).__name__}: {err}) — "
                    "falling back to the built-in OCR reader.",
                    zh=f"{candidate}：加载失败（{type(err).__name__}: {err}）——已改用内置 OCR 阅读器。",
                )
            )
    raise ReaderError("No reader is available.", "没有可用的阅读器。")


__all__ = [
    "READERS",
    "Reader",
    "ReaderCapabilities",
    "ReaderChoice",
    "load_reader",
    "resolve_reader",
]

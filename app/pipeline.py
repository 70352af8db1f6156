"""The one façade the UI, CLI and job workers call: open a document, render it, ask about it.

No UI code here and no stage logic either: each step delegates to its package (``app.ingest``,
``app.render``, ``app.readers``, ``app.evidence``). Readers are loaded once and reused, because
loading a VLM takes minutes and its caches are what make follow-up questions cheap.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.datamodel import Answer, AnswerChunk, Document, Mode, RenderConfig, RenderedDoc
from app.readers import ReaderChoice, resolve_reader
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)


class Pipeline:
    """ingest → render → reader → evidence, configured by one ``Settings``."""

    RETRY_FALLBACK_S = 60.0  # a reader that fell back is re-tried after this many seconds

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._readers: dict[str, ReaderChoice] = {}
        self._resolved_at: dict[str, float] = {}
        self._reader_lock = threading.Lock()

    # --- ingest ---------------------------------------------------------------------------------
    def open_document(
        self, source: str | Path | bytes, *, name: str | None = None, password: str | None = None
    ) -> Document:
        """Read a file (path or bytes) into a ``Document``; raises ``IngestError``."""
        from app.ingest import load

        return load(source, name=name, password=password, settings=self.settings)

    def open_text(self, text: str, *, name: str = "pasted.txt") -> Document:
        """Pasted text into a ``Document`` (limited to ``settings.max_paste_chars``)."""
        from app.ingest import load_text

        return load_text(text, name=name, settings=self.settings)

    # --- render ---------------------------------------------------------------------------------
    def render(
        self,
        doc: Document | str,
        config: RenderConfig | str | None = None,
        **overrides: Any,
    ) -> RenderedDoc:
        """Typeset a document (or plain text) into pages with a layout map.

        ``config`` is a ``RenderConfig``, a preset name ('auto', 'en', 'zh', 'fine', …) or a path
        to a Glyph-style JSON; ``overrides`` replace single fields (``font_size=10``).
        """
        from app.render import render, resolve_config

        text = doc if isinstance(doc, str) else doc.text
        name = "" if isinstance(doc, str) else doc.name
        spec = config if config is not None else self.settings.render_preset
        cfg = resolve_config(spec, text=text, **overrides)
        rendered = render(text, cfg, name=name)
        if isinstance(doc, Document):
            rendered.document = doc
        return rendered

    # --- read -----------------------------------------------------------------------------------
    def reader(self, name: str | None = None) -> ReaderChoice:
        """The reader for ``name`` (default from settings), loaded once per process."""
        key = name or self.settings.reader
        with self._reader_lock:
            choice = self._readers.get(key)
            # A fallback (model still loading, vLLM restarting) is not forever: try again later.
            stale = (
                choice is not None
                and choice.notes
                and time.monotonic() - self._resolved_at[key] > self.RETRY_FALLBACK_S
            )
            if choice is None or stale:
                if choice is not None:
                    choice.reader.close()
                choice = resolve_reader(self.settings, key)
                self._readers[key] = choice
                self._resolved_at[key] = time.monotonic()
            return choice

    def ask(
        self,
        rendered: RenderedDoc,
        question: str,
        mode: Mode | str = Mode.QA,
        *,
        reader: str | None = None,
        stream: bool = True,
        coarse_to_fine: bool | None = None,
    ) -> Iterator[AnswerChunk]:
        """Stream the reader's chunks; the final chunk's answer carries evidence boxes.

        ``coarse_to_fine`` (default ``settings.coarse_to_fine``): ``rendered`` is the overview;
        the pages matching the question are re-rendered fine and only those are read
        (``app.readers.coarse_to_fine``). Evidence boxes are on ``rendered``'s pages either way.
        """
        from app.evidence import attach

        mode = Mode(mode)
        choice = self.reader(reader)
        for note in choice.notes:
            yield AnswerChunk(kind="status", text=note)
        active = choice.reader
        if self.settings.coarse_to_fine if coarse_to_fine is None else coarse_to_fine:
            from app.readers.coarse_to_fine import CoarseToFineReader

            active = CoarseToFineReader(choice.reader, self.settings)
        for chunk in active.answer(rendered, question, mode, stream=stream):
            if chunk.kind != "final":
                yield chunk
                continue
            assert chunk.answer is not None
            started = time.perf_counter()
            answer = attach(
                rendered,
                chunk.answer,
                question=question,
                review_threshold=self.settings.review_threshold,
            )
            answer.timings["evidence"] = time.perf_counter() - started
            answer.notes = [*choice.notes, *answer.notes]
            yield AnswerChunk(kind="final", answer=answer)

    def ask_once(
        self,
        rendered: RenderedDoc,
        question: str,
        mode: Mode | str = Mode.QA,
        *,
        reader: str | None = None,
        coarse_to_fine: bool | None = None,
    ) -> Answer:
        """``ask`` run to completion."""
        final: Answer | None = None
        chunks = self.ask(
            rendered, question, mode, reader=reader, stream=False, coarse_to_fine=coarse_to_fine
        )
        for chunk in chunks:
            if chunk.kind == "final":
                final = chunk.answer
        assert final is not None, "every reader ends with a final chunk"
        return final

    def close(self) -> None:
        with self._reader_lock:
            for choice in self._readers.values():
                choice.reader.close()
            self._readers.clear()

"""The one façade the UI, CLI and job workers call: open a document, render it, ask about it.

No UI code here and no stage logic either: each step delegates to its package (``app.ingest``,
``app.render``, ``app.readers``, ``app.evidence``). The pipeline owns the decisions that span
stages: which reader answers (loaded once and reused: loading a VLM takes minutes and its caches
are what make follow-up questions cheap), the lock that lets one question at a time use it, the
coarse-to-fine wrapper around it, the default question of each mode and background reading.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from app.datamodel import Answer, AnswerChunk, Document, Mode, Note, RenderConfig, RenderedDoc
from app.memory import release_free_memory
from app.readers import ReaderChoice, resolve_reader
from app.readers.base import Reader, final_answer
from app.readers.control import QuestionControl, QuestionLock, foreground
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)

DEFAULT_QUESTIONS: dict[Mode, str] = {
    Mode.SUMMARY: "Summarize the document.",
    Mode.EXTRACT: "Extract the key information.",
}
"""What is asked in summary and key-information mode when the user types nothing."""

WAITING = Note(
    en="Waiting for the reader: another question is being answered.",
    zh="等待阅读器：正在回答另一个问题。",
)
STOPPED = Note(en="Stopped.", zh="已停止。")
WAIT_STEP_S = 1.0  # a waiting question says so again this often (a closed stream ends then)


def question_for(mode: Mode | str, question: str | None) -> str:
    """The question to ask: the user's, or the mode's default when it is blank (not for QA)."""
    mode = Mode(mode)
    text = (question or "").strip()
    return text or DEFAULT_QUESTIONS.get(mode, "")


class Pipeline:
    """ingest → render → reader → evidence, configured by one ``Settings``."""

    RETRY_FALLBACK_S = 60.0  # a reader that fell back is re-tried after this many seconds

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._readers: dict[str, ReaderChoice] = {}
        self._coarse_to_fine: dict[str, Reader] = {}
        self._resolved_at: dict[str, float] = {}
        self._resolve_lock = threading.Lock()
        # One question at a time per pipeline: the UI's sessions and the in-process job worker
        # share one loaded model, and reading one document at a time keeps GPU memory bounded.
        # Not thread-owned: ``ask`` holds it across generator steps that Gradio may resume on
        # different threads. Questions from the UI go before queued jobs (``interactive``).
        self.reader_lock = QuestionLock()

    # --- ingest ---------------------------------------------------------------------------------
    def open_document(
        self,
        source: str | Path | bytes,
        *,
        name: str | None = None,
        password: str | None = None,
        scanned: Callable[[int, int], None] | None = None,
    ) -> Document:
        """Read a file (path or bytes) into a ``Document``; raises ``IngestError``.

        ``scanned(done, total)`` follows the OCR of scanned PDF pages, page by page."""
        from app.ingest import load
        from app.ingest.progress import scanned_progress

        with scanned_progress(scanned):
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
        *,
        cache: dict[str, RenderedDoc] | None = None,
        **overrides: Any,
    ) -> RenderedDoc:
        """Typeset a document (or plain text) into pages with a layout map.

        ``config`` is a ``RenderConfig``, a preset name ('auto', 'en', 'zh', 'fine', …) or a path
        to a Glyph-style JSON; ``overrides`` replace single fields (``font_size=10``). A
        collection (``app.ingest.collection``) is rendered one document at a time, each on its
        own pages, with the one config chosen for the whole (``app.render.join``); ``cache``
        (filled here) keeps each document's render for the next call, so adding a document to a
        collection or asking a part of it renders nothing twice.
        """
        from app.render import render, resolve_config

        text = doc if isinstance(doc, str) else doc.text
        name = "" if isinstance(doc, str) else doc.name
        spec = config if config is not None else self.settings.render_preset
        cfg = resolve_config(spec, text=text, **overrides)
        if isinstance(doc, Document) and len(doc.parts()) > 1:
            rendered = self._render_parts(doc, text, cfg, {} if cache is None else cache)
        else:
            rendered = render(text, cfg, name=name)
        release_free_memory()  # the typesetter's scratch buffers
        if isinstance(doc, Document):
            rendered.document = doc
        return rendered

    @staticmethod
    def _render_parts(
        doc: Document, text: str, cfg: RenderConfig, cache: dict[str, RenderedDoc]
    ) -> RenderedDoc:
        """A collection's documents rendered one by one (or taken from ``cache``) and joined."""
        import hashlib

        from app.datamodel import BLOCK_SEPARATOR
        from app.render import render
        from app.render.join import join_rendered

        parts = []
        for part in doc.parts():
            own = text[part.start : part.end - len(BLOCK_SEPARATOR)]
            digest = hashlib.sha256(f"{part.name}\0{own}".encode("utf-8", "surrogatepass"))
            key = f"{digest.hexdigest()[:24]}:{cfg.fingerprint()}"
            if key not in cache:
                cache[key] = render(own, cfg, name=part.name)
            parts.append(cache[key])
        return join_rendered(parts, BLOCK_SEPARATOR, name=doc.name)

    # --- read -----------------------------------------------------------------------------------
    def reader(self, name: str | None = None) -> ReaderChoice:
        """The reader for ``name`` (default from settings), loaded once per process.

        Never swaps a loaded reader: a fallen-back reader is re-tried only by ``ask``, under the
        reader lock, between questions (``_refresh``).
        """
        key = name or self.settings.reader
        with self._resolve_lock:
            choice = self._readers.get(key)
            if choice is None:
                choice = self._readers[key] = resolve_reader(self.settings, key)
                self._resolved_at[key] = time.monotonic()
            return choice

    def _refresh(self, name: str | None) -> ReaderChoice:
        """``reader(name)``, re-resolved when it fell back long enough ago (a model that was
        still loading, a vLLM server restarting). Called with the reader lock held."""
        key = name or self.settings.reader
        with self._resolve_lock:
            choice = self._readers.get(key)
            stale = (
                choice is not None
                and choice.notes
                and time.monotonic() - self._resolved_at[key] > self.RETRY_FALLBACK_S
            )
            if stale:
                assert choice is not None
                choice.reader.close()
                self._coarse_to_fine.pop(key, None)
                del self._readers[key]
        return self.reader(name)

    def _active(self, key: str, choice: ReaderChoice, coarse_to_fine: bool) -> Reader:
        """The reader itself, or its one coarse-to-fine wrapper (whose cache of fine views
        serves follow-up questions)."""
        if not coarse_to_fine:
            return choice.reader
        from app.readers.coarse_to_fine import CoarseToFineReader

        with self._resolve_lock:
            wrapper = self._coarse_to_fine.get(key)
            if wrapper is None or getattr(wrapper, "inner", None) is not choice.reader:
                wrapper = self._coarse_to_fine[key] = CoarseToFineReader(
                    choice.reader, self.settings
                )
            return wrapper

    def prefetch(self, rendered: RenderedDoc, *, reader: str | None = None) -> None:
        """Let the reader start on the pages while the user reads the preview and types (the
        built-in reader OCRs up to ``settings.prefetch_pages`` of them in the background, one
        document at a time)."""
        try:
            choice = self.reader(reader)
        except Exception:  # reader problems are reported when the user asks
            log.debug("no reader to prefetch with", exc_info=True)
            return
        limit = self.settings.prefetch_pages
        if limit > 0:
            choice.reader.prefetch(rendered, if_idle=True, limit=limit)

    def ask(
        self,
        rendered: RenderedDoc,
        question: str,
        mode: Mode | str = Mode.QA,
        *,
        reader: str | None = None,
        stream: bool = True,
        coarse_to_fine: bool | None = None,
        cancel: threading.Event | None = None,
        interactive: bool = True,
        bounded: bool | None = None,
    ) -> Iterator[AnswerChunk]:
        """Stream the reader's chunks; the final chunk's answer carries evidence boxes.

        One question at a time: while another is answered, a ``status`` chunk says so (again
        every ``WAIT_STEP_S``) and the generator waits for the reader lock (held until it is
        exhausted or closed); ``interactive=False`` (queued jobs) also waits while a question
        from the UI waits. A ``bounded`` question (default: the interactive ones, i.e. the UI's)
        reads for at most ``settings.question_budget_s`` and gives way to a waiting one after
        ``settings.question_yield_s`` (the reader answers from what it has read and reads the rest
        in the background); an unbounded one (the CLI, scripts: nobody else shares the process,
        and a background read would die with it) reads what it needs. ``cancel`` set: the question stops
        between the reader's units of work and ends with a ``Stopped`` status, no final chunk.
        ``coarse_to_fine`` (default ``settings.coarse_to_fine``): ``rendered`` is the overview;
        the pages matching the question are re-rendered fine and only those are read
        (``app.readers.coarse_to_fine``). Evidence boxes are on ``rendered``'s pages either way.
        """
        mode = Mode(mode)
        question = question_for(mode, question)
        lock = self.reader_lock
        if not lock.acquire(blocking=False, interactive=interactive):
            with lock.queued(interactive):
                while not lock.acquire(timeout=WAIT_STEP_S, interactive=interactive):
                    if cancel is not None and cancel.is_set():
                        yield AnswerChunk(kind="status", text=STOPPED.en, note=STOPPED)
                        return
                    yield AnswerChunk(kind="status", text=WAITING.en, note=WAITING)
        try:
            with foreground.answering():
                control = self._control(
                    cancel, interactive, interactive if bounded is None else bounded
                )
                chunks = self._ask_locked(rendered, question, mode, reader, stream, coarse_to_fine,
                                          control)  # fmt: skip
                try:
                    for chunk in chunks:
                        if control.cancelled():
                            yield AnswerChunk(kind="status", text=STOPPED.en, note=STOPPED)
                            return
                        yield chunk
                finally:
                    chunks.close()
        finally:
            lock.release()
            release_free_memory()  # the question's page crops and OCR buffers are gone now

    def _control(
        self, cancel: threading.Event | None, interactive: bool, bounded: bool
    ) -> QuestionControl:
        """A bounded question's budget; a job's pause for waiting questions instead (a job is
        read to the end: nobody is there to ask again); neither for an unbounded question."""
        if not interactive:
            return QuestionControl(cancel=cancel, pause=self._let_questions_go)
        if not bounded:
            return QuestionControl(cancel=cancel)
        now = time.monotonic()
        budget, give_way = self.settings.question_budget_s, self.settings.question_yield_s
        return QuestionControl(
            deadline=now + budget if budget > 0 else None,
            cancel=cancel,
            others_waiting=lambda: self.reader_lock.waiting > 0,
            yield_after=now + give_way if give_way > 0 else None,
        )

    def _let_questions_go(self) -> None:
        """A job's reader between two pages: while questions from the UI wait, hand them the
        reader lock and take it back after them (the job's own read state stays as it is)."""
        lock = self.reader_lock
        if not lock.waiting:
            return
        foreground.leave()
        lock.release()
        lock.acquire(interactive=False)  # after every question waiting now
        foreground.enter()

    def _ask_locked(
        self,
        rendered: RenderedDoc,
        question: str,
        mode: Mode,
        reader: str | None,
        stream: bool,
        coarse_to_fine: bool | None,
        control: QuestionControl | None = None,
    ) -> Iterator[AnswerChunk]:
        from app.evidence import attach

        key = reader or self.settings.reader
        choice = self._refresh(reader)
        for note in choice.notes:
            yield AnswerChunk(kind="status", text=note.en, note=note)
        c2f = self.settings.coarse_to_fine if coarse_to_fine is None else coarse_to_fine
        active = self._active(key, choice, c2f)
        # under the reader lock: the reader's one current question (readers without units of
        # work to check between ignore it)
        choice.reader.control = control
        try:
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
        finally:
            choice.reader.control = None

    def ask_once(
        self,
        rendered: RenderedDoc,
        question: str,
        mode: Mode | str = Mode.QA,
        *,
        reader: str | None = None,
        coarse_to_fine: bool | None = None,
        bounded: bool = False,
    ) -> Answer:
        """``ask`` run to completion; unbounded unless ``bounded`` (scripts, evaluations and the
        CLI get the answer from every page they need, not one cut short by the UI's budget)."""
        chunks = self.ask(
            rendered,
            question,
            mode,
            reader=reader,
            stream=False,
            coarse_to_fine=coarse_to_fine,
            bounded=bounded,
        )
        return final_answer(chunks, "pipeline")

    def close(self) -> None:
        with self._resolve_lock:
            for wrapper in self._coarse_to_fine.values():
                wrapper.close()
            for choice in self._readers.values():
                choice.reader.close()
            self._coarse_to_fine.clear()
            self._readers.clear()

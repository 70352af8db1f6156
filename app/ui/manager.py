"""The UI's logic, beside the thin Gradio view (app/ui/view.py).

Every method takes a ``Session`` and returns plain Python values; it raises ``GlyphError`` for
anything the user should be told. The pipeline does the work; this module only decides what the
three panes show.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image

from app.datamodel import Answer, AnswerChunk, Evidence, Mode, Note, RenderedDoc
from app.errors import GlyphError
from app.evidence import annotate_pages
from app.pipeline import Pipeline, question_for
from app.report import answer_json, answer_markdown
from app.ui import storage
from app.ui.safety import md_escape
from app.ui.session import DPI_STEPS, Session
from app.ui.texts import t

log = logging.getLogger(__name__)

PREVIEW_MAX_PAGES = 60  # the gallery shows at most this many pages; the reader sees them all

Progress = Callable[[float, str], None]


def _no_progress(_fraction: float, _desc: str) -> None:
    return None


EVIDENCE_MIN_WIDTH = 360  # page pixels: about 60 characters of a dense 9 pt line
EVIDENCE_ZOOM_TO = 900  # crops narrower than this are enlarged to it (at most 3x)


def crop_around(image: Image.Image, boxes: list, context: float = 0.04) -> Image.Image:
    """A window on the red boxes, enlarged so the dense page text is legible in the narrow pane.

    Horizontally: the boxes plus a margin, at least ``EVIDENCE_MIN_WIDTH`` wide (a line of context
    either side of a short answer); vertically: the boxes plus ``context`` of the page height
    (a few lines) on each side. The window is then scaled up to ``EVIDENCE_ZOOM_TO`` pixels wide
    (Lanczos, at most 3x): the reader's pages are 72-96 dpi, too small to read when a whole page
    width is squeezed into the answer column.
    """
    if not boxes:
        return image
    w, h = image.size
    x0, x1 = min(b[0] for b in boxes), max(b[2] for b in boxes)
    y0, y1 = min(b[1] for b in boxes), max(b[3] for b in boxes)
    want = min(w, max(EVIDENCE_MIN_WIDTH, (x1 - x0) + 2 * 24))
    left = int(max(0, min(w - want, (x0 + x1) / 2 - want / 2)))
    pad = max(24, int(h * context))
    top, bottom = max(0, int(y0) - pad), min(h, int(y1) + pad)
    crop = image.crop((left, top, int(left + want), bottom))
    zoom = min(3.0, EVIDENCE_ZOOM_TO / crop.width)
    if zoom > 1.05:
        crop = crop.resize((round(crop.width * zoom), round(crop.height * zoom)), Image.LANCZOS)
    return crop


class UserError(GlyphError):
    """A UI-level problem (no document yet, empty question)."""

    code = "ui"


def note_text(note: Note | str, lang: str) -> str:
    """A note in ``lang`` (a plain string, from a record made before notes were bilingual, as is)."""
    return note.text(lang) if isinstance(note, Note) else str(note)


def chunk_status(chunk: AnswerChunk, lang: str) -> str:
    """A streamed status chunk's line in ``lang``."""
    return chunk.note.text(lang) if chunk.note else chunk.text


@dataclass(frozen=True)
class AnswerView:
    """What the reasoning pane shows of a final answer (the evidence image and the download
    files come from the session: ``UIManager.evidence_image``, ``UIManager.downloads``)."""

    text: str
    thinking: str
    confidence: str  # the confidence line, the answer's notes and "no evidence" when so
    evidence_choices: list[tuple[str, int]]  # (label, rendered page) of each evidence page

    @property
    def first_page(self) -> int | None:
        return self.evidence_choices[0][1] if self.evidence_choices else None


def final_view(answer: Answer, lang: str) -> AnswerView:
    """The answer pane for ``answer`` in ``lang``: a pure function of the two."""
    confidence = UIManager.confidence_line(answer, lang)
    if not answer.evidence:
        confidence += "\n\n" + t("no_evidence", lang)
    choices = UIManager.evidence_choices(answer.evidence, lang)
    return AnswerView(answer.text, answer.thinking, confidence, choices)


@dataclass
class AskUpdate:
    """One refresh of the right pane while an answer streams in."""

    answer: str = ""
    thinking: str = ""
    status: str = ""
    final: Answer | None = None
    evidence_pages: list[int] = field(default_factory=list)


class UIManager:
    """What the buttons do."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    # --- reader ---------------------------------------------------------------------------------
    def reader_status(self, lang: str) -> str:
        """One honest line about the active reader (and why a configured model is not used)."""
        try:
            choice = self.pipeline.reader()
        except GlyphError as err:
            return f"⚠ {err.user_message(lang)}"
        except Exception as err:  # a broken reader install must not break the page
            log.exception("no reader could be loaded")
            return f"⚠ {t('err_unexpected', lang, kind=type(err).__name__)}"
        caps = choice.reader.capabilities
        if choice.reader.name == "ocr":
            line = t("reader_ocr_active", lang)
            if not self.pipeline.settings.model and not self.pipeline.settings.openai_base_url:
                line += t("reader_no_model", lang)
        else:
            line = t("reader_active", lang, desc=md_escape(caps.description or choice.reader.name))
        notes = "".join(f"\n\n⚠ {md_escape(note)}" for note in choice.user_notes(lang))
        return line + notes

    # --- input ----------------------------------------------------------------------------------
    def open_file(
        self,
        session: Session,
        path: str | Path,
        progress: Progress = _no_progress,
        password: str | None = None,
    ):
        """Open an uploaded file; an encrypted PDF is remembered until its password arrives."""
        from app.ingest.base import PasswordRequiredError

        progress(0.1, t("status_ingest", session.lang))
        path = Path(path)
        try:
            document = self.pipeline.open_document(path, name=path.name, password=password)
        except PasswordRequiredError:
            session.pending_path = path
            raise
        session.pending_path = None
        rendered = self._set_document(session, document, progress)
        session.source_path = path
        return rendered

    def open_upload(self, session: Session, path: str | Path, progress: Progress = _no_progress):
        """Open a browser upload from a private copy in the session's directory.

        Gradio's temp copy is shared by content hash and outlives the session; the session's
        copy goes with the session. Only the open document's (and a pending encrypted one's)
        copy is kept: a failed upload leaves the session as it was.
        """
        workdir = session.workdir()
        copy = storage.copy_upload(workdir, path)
        try:
            rendered = self.open_file(session, copy, progress)
        finally:
            storage.prune_uploads(workdir, keep={session.source_path, session.pending_path})
        return rendered

    def unlock(self, session: Session, password: str, progress: Progress = _no_progress):
        """Retry the encrypted upload with ``password``."""
        if session.pending_path is None:
            raise UserError(t("err_no_document", "en"), t("err_no_document", "zh"))
        return self.open_file(session, session.pending_path, progress, password=password or "")

    def open_text(self, session: Session, text: str, progress: Progress = _no_progress):
        progress(0.1, t("status_ingest", session.lang))
        document = self.pipeline.open_text(text or "")
        rendered = self._set_document(session, document, progress)
        session.source_path = None
        return rendered

    def _set_document(self, session: Session, document, progress: Progress) -> RenderedDoc:
        # render before replacing anything, so a failure leaves the session as it was
        rendered = self._render(session, document, progress)
        session.document, session.rendered = document, rendered
        session.evidence_images = {}
        return rendered

    def rerender(self, session: Session, progress: Progress = _no_progress) -> RenderedDoc | None:
        if session.document is None:
            return None
        session.rendered = self._render(session, session.document, progress)
        session.evidence_images = {}
        return session.rendered

    def higher_resolution(self, session: Session, progress: Progress = _no_progress):
        """Step the dpi up (72 → 96 → 120 → 144 → 200) and re-render."""
        current = session.rendered.config.dpi if session.rendered else 72
        session.options.dpi = next((d for d in DPI_STEPS if d > current), DPI_STEPS[-1])
        return self.rerender(session, progress)

    def _render(self, session: Session, document, progress: Progress) -> RenderedDoc:
        progress(0.5, t("status_render", session.lang))
        opts = session.options
        rendered = self.pipeline.render(document, opts.spec(), **opts.overrides())
        if not opts.coarse_to_fine:  # the reader starts on the pages while the user types
            self.pipeline.prefetch(rendered)
        return rendered

    # --- preview --------------------------------------------------------------------------------
    def preview(self, session: Session) -> tuple[list[tuple[Image.Image, str]], str]:
        """(gallery items, stats line) for the middle pane."""
        rendered = session.rendered
        if rendered is None:
            return [], t("no_document", session.lang)
        pages = rendered.pages[:PREVIEW_MAX_PAGES]
        items = [(p.image, f"{p.index + 1}") for p in pages]
        stats = rendered.stats
        line = t(
            "stats",
            session.lang,
            pages=len(rendered.pages),
            text_tokens=stats.text_tokens,
            visual_tokens=stats.visual_tokens,
            ratio=stats.compression_ratio,
        )
        cfg = rendered.config
        line += f" · {cfg.name} · {cfg.dpi} dpi · {cfg.font_size:g} pt"
        if session.options.coarse_to_fine:
            line += " · " + t("coarse_to_fine_note", session.lang)
        if len(rendered.pages) > PREVIEW_MAX_PAGES:
            line += " · " + t("preview_first", session.lang, pages=PREVIEW_MAX_PAGES)
        return items, line

    def document_info(self, session: Session) -> str:
        """The document line (name, format, size) and its notes, in the session's language."""
        doc, lang = session.document, session.lang
        if doc is None:
            return ""
        parts = [
            f"**{md_escape(doc.name)}**",
            doc.format,
            t("doc_chars", lang, chars=len(doc.text)),
        ]
        if doc.pages:
            parts.append(t("doc_source_pages", lang, pages=len(doc.pages)))
        if doc.language:
            parts.append(md_escape(doc.language))
        info = " · ".join(parts)
        return info + "".join(f"\n\nℹ {md_escape(note_text(n, lang))}" for n in doc.notes)

    # --- ask ------------------------------------------------------------------------------------
    def ask(
        self,
        session: Session,
        question: str,
        mode: str,
        progress: Progress = _no_progress,
    ) -> Iterator[AskUpdate]:
        """Stream updates; the last one carries the final answer with evidence."""
        if session.rendered is None:
            raise UserError(t("err_no_document", "en"), t("err_no_document", "zh"))
        mode_ = Mode(mode)
        if mode_ is Mode.QA and not (question or "").strip():
            raise UserError(t("err_no_question", "en"), t("err_no_question", "zh"))
        question = question_for(mode_, question)
        started = time.perf_counter()
        update = AskUpdate(status=t("status_reading", session.lang))
        progress(0.05, update.status)
        yield replace(update)
        # the pipeline lets one question at a time use the reader (a status chunk says when this
        # one waits) and releases it when the stream ends or is closed (a cancelled request)
        chunks = self.pipeline.ask(
            session.rendered, question, mode_, coarse_to_fine=session.options.coarse_to_fine
        )
        try:
            yield from self._stream(session, chunks, update, question, started, progress)
        finally:
            chunks.close()

    def _stream(
        self,
        session: Session,
        chunks: Iterator[AnswerChunk],
        update: AskUpdate,
        question: str,
        started: float,
        progress: Progress,
    ) -> Iterator[AskUpdate]:
        """The reader's chunks as pane updates, status lines in the session's language."""
        for chunk in chunks:
            if chunk.kind == "status":
                line = chunk_status(chunk, session.lang)
                update.status = md_escape(line)
                progress(0.5, line)
            elif chunk.kind == "thinking":
                update.thinking += chunk.text
            elif chunk.kind == "answer":
                update.answer += chunk.text
            else:
                answer = chunk.answer
                assert answer is not None
                update.final = answer
                update.answer = answer.text
                update.thinking = answer.thinking or update.thinking
                update.status = t(
                    "status_done", session.lang, seconds=time.perf_counter() - started
                )
                session.answers.append(answer)
                session.questions.append(question)
                session.evidence_images = annotate_pages(session.rendered, answer.evidence)
                update.evidence_pages = sorted(session.evidence_images)
            yield replace(update)

    def evidence_image(self, session: Session, page: int | None) -> Image.Image | None:
        """The annotated page, cropped to a readable window around its red boxes."""
        if not session.evidence_images or not session.answers:
            return None
        if page is None or page not in session.evidence_images:
            page = min(session.evidence_images)
        image = session.evidence_images[page]
        boxes = [b for ev in session.answers[-1].evidence if ev.page == page for b in ev.boxes]
        return crop_around(image, boxes)

    @staticmethod
    def confidence_line(answer: Answer, lang: str) -> str:
        line = t("confidence", lang, value=answer.confidence)
        if answer.needs_review:
            line += " · " + t("needs_review", lang)
        if answer.fine_pages:  # coarse-to-fine: say which pages were re-read at fine resolution
            pages = ", ".join(str(p + 1) for p in answer.fine_pages[:30])
            line += " · " + t("pages_read_fine", lang, pages=pages)
        elif answer.pages_read:
            pages = ", ".join(str(p + 1) for p in answer.pages_read[:30])
            line += " · " + t("pages_read", lang, pages=pages)
        notes = "".join(f"\n\nℹ {md_escape(note_text(n, lang))}" for n in answer.notes)
        return line + notes

    @staticmethod
    def evidence_choices(evidence: list[Evidence], lang: str) -> list[tuple[str, int]]:
        pages = sorted({ev.page for ev in evidence})
        return [(t("evidence_item", lang, page=p + 1), p) for p in pages]

    # --- export ---------------------------------------------------------------------------------
    def downloads(self, session: Session) -> tuple[Path | None, Path | None, str]:
        """(JSON path, Markdown path, note): the note says why there are none (disk full)."""
        try:
            return self.export(session, "json"), self.export(session, "md"), ""
        except OSError as err:
            log.warning("cannot write the downloads of session %s: %s", session.id, err)
            reason = storage.storage_error(err, "the downloads", "下载文件")
            return (
                None,
                None,
                t("err_export", session.lang, reason=reason.user_message(session.lang)),
            )

    def export(self, session: Session, fmt: str, root: Path | None = None) -> Path | None:
        """Write the latest answer (+ evidence) as JSON or Markdown into the session's dir."""
        if not session.answers or session.rendered is None:
            return None
        answer, question = session.answers[-1], session.questions[-1]
        out = session.workdir(root)
        n = len(session.answers)
        if fmt == "json":
            path = out / f"answer-{n}.json"
            path.write_text(answer_json(answer, question, session.rendered), encoding="utf-8")
        else:
            path = out / f"answer-{n}.md"
            path.write_text(answer_markdown(answer, question, session.rendered), "utf-8")
        return path

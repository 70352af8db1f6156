"""The UI's logic, beside the thin Gradio view (app/ui/view.py).

Every method takes a ``Session`` and returns plain Python values; it raises ``GlyphError`` for
anything the user should be told. The pipeline does the work; this module only decides what the
three panes show.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image

from app.datamodel import Answer, AnswerChunk, Mode, Note, RenderedDoc
from app.errors import GlyphError
from app.evidence import annotate_pages
from app.evidence.draw import box_color
from app.ingest.collection import numbered
from app.markup import percent
from app.pipeline import Pipeline, question_for
from app.report import answer_json, answer_markdown
from app.ui import evidence_view as ev_view
from app.ui import storage
from app.ui.evidence_view import crop_around
from app.ui.safety import md_escape
from app.ui.session import DPI_STEPS, OpenedFile, Session
from app.ui.texts import t

log = logging.getLogger(__name__)

PREVIEW_MAX_PAGES = 60  # the gallery shows at most this many pages; the reader sees them all
MAX_DOCUMENTS = 100  # documents in one session's collection

Progress = Callable[[float | None, str], None]
"""(overall fraction of the event, or None where it cannot be measured; what is being done)"""


def _no_progress(_fraction: float | None, _desc: str) -> None:
    return None


def stats_line(rendered: RenderedDoc, lang: str) -> str:
    """The preview's statistics in plain words ("36 pages → 8 page images · 3.8× fewer tokens
    than the plain text"); the technical figures (tokens, dpi, font, preset) are its hover text."""
    doc, stats, cfg = rendered.document, rendered.stats, rendered.config
    if doc is not None and doc.pages:
        n = len(doc.pages)
        source = t("stats_page", lang) if n == 1 else t("stats_pages", lang, n=n)
    else:
        source = t("stats_chars", lang, n=len(rendered.text))
    n = len(rendered.pages)
    images = t("stats_image", lang) if n == 1 else t("stats_images", lang, n=n)
    ratio = stats.compression_ratio
    if ratio >= 1.05:
        gain = t("stats_fewer", lang, ratio=ratio)
    elif 0 < ratio <= 1 / 1.05:
        gain = t("stats_more", lang, ratio=1 / ratio)
    else:
        gain = t("stats_same", lang)
    detail = t(
        "stats_detail",
        lang,
        text_tokens=stats.text_tokens,
        visual_tokens=stats.visual_tokens,
        ratio=ratio,
        preset=cfg.name,
        dpi=cfg.dpi,
        font=cfg.font_size,
    )
    line = t("stats_line", lang, source=source, images=images, gain=gain)
    return f'<span class="stats-plain" title="{html.escape(detail)}">{line} ⓘ</span>'


class UserError(GlyphError):
    """A UI-level problem (no document yet, empty question)."""

    code = "ui"


def file_note(name: str, err: GlyphError) -> Note:
    """Why the file ``name`` of several was not opened, in both languages."""
    from app.ingest.base import PasswordRequiredError

    if isinstance(err, PasswordRequiredError):
        return Note(en=t("err_locked_in_batch", "en", name=name),
                    zh=t("err_locked_in_batch", "zh", name=name))  # fmt: skip
    en, zh = err.user_message("en"), err.user_message("zh")
    return Note(en=en if name in en else f"{name}: {en}", zh=zh if name in zh else f"{name}：{zh}")


def failed_all(failed: list[tuple[str, Note]]) -> GlyphError:
    """The error when none of the files could be opened."""
    if len(failed) == 1:
        note = failed[0][1]
        return UserError(note.en, note.zh)
    lines = [note for _, note in failed[:8]]
    return UserError(
        t("err_none_opened", "en", n=len(failed)) + " " + " · ".join(n.en for n in lines),
        t("err_none_opened", "zh", n=len(failed)) + " " + " · ".join(n.text("zh") for n in lines),
    )


def too_many_documents(name: str) -> tuple[str, Note]:
    return name, Note(
        en=t("err_too_many_documents", "en", name=name, limit=MAX_DOCUMENTS),
        zh=t("err_too_many_documents", "zh", name=name, limit=MAX_DOCUMENTS),
    )


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
    evidence_choices: list[tuple[str, str]]  # (label, value) of each cited place
    first_page: int | None = None  # the rendered page of the first place (the API's image)

    @property
    def first_choice(self) -> str | None:
        return self.evidence_choices[0][1] if self.evidence_choices else None


def final_view(answer: Answer, lang: str, named: bool = False) -> AnswerView:
    """The answer pane for ``answer`` in ``lang``: a pure function of the two (``named``: the
    answer is from several documents, each cited place names its own)."""
    confidence = UIManager.confidence_line(answer, lang)
    if not answer.evidence:
        closest = "no_evidence_closest" if answer.closest_evidence else "no_evidence"
        confidence += "\n\n" + t(closest, lang)
    choices = UIManager.evidence_choices(answer, lang, named)
    shown = answer.shown_evidence
    first_page = shown[0].page if shown else None
    return AnswerView(answer.text, answer.thinking, confidence, choices, first_page)


@dataclass(frozen=True)
class EvidenceShown:
    """One cited place as the Ask pane shows it (``UIManager.evidence_place``)."""

    caption: str  # Markdown: where it is (the document's page, or passage n of m)
    original: Image.Image | None  # the original PDF page, cut around its red boxes
    passage: str  # or HTML: the passage with the cited text in <mark> (documents without pages)
    rendered: Image.Image | None  # the dense page the reader read, cropped around the boxes
    preview_page: int | None  # the page of the preview gallery that shows it (None: not there)
    preview_document: str | None = None  # the document the preview must show for that page


@dataclass
class AskUpdate:
    """One refresh of the right pane while an answer streams in."""

    answer: str = ""
    thinking: str = ""
    status: str = ""
    final: Answer | None = None
    evidence_pages: list[int] = field(default_factory=list)


@dataclass
class _Question:
    """A session's question in progress (or its last one): the stop flag, and whether it ended
    and how; kept until the session's next question so that Stop can say what happened even when
    Gradio's own cancel of the event closed the stream first."""

    cancel: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    stopped: bool = False  # by Stop, a closed tab or a client that gave up


class UIManager:
    """What the buttons do."""

    def __init__(self, pipeline: Pipeline) -> None:
        from app.ui.collections import CollectionStore

        self.pipeline = pipeline
        self.collections = CollectionStore(pipeline.settings.data_dir / "collections")
        self._questions: dict[str, _Question] = {}  # session id → its question (the last one)

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

        lang = session.lang
        progress(None, t("status_ingest", lang))

        def scanned(done: int, total: int) -> None:  # OCR of scanned pages: most of the time
            page = min(done + 1, total)
            progress(0.9 * done / total, t("status_scan", lang, page=page, total=total))

        path = Path(path)
        try:
            document = self.pipeline.open_document(
                path, name=path.name, password=password, scanned=scanned
            )
        except PasswordRequiredError:
            session.pending_path = path
            raise
        session.pending_path = None
        opened = OpenedFile(document.name, document, path)
        rendered = self._set_files(session, [opened], progress)
        session.collection = None  # a new document, not a saved collection
        return rendered

    def open_upload(self, session: Session, path: str | Path, progress: Progress = _no_progress):
        """Open a browser upload from a private copy in the session's directory.

        Gradio's temp copy is shared by content hash and outlives the session; the session's
        copy goes with the session. Only the open documents' (and a pending encrypted one's)
        copies are kept: a failed upload leaves the session as it was.
        """
        workdir = session.workdir()
        copy = storage.copy_upload(workdir, path)
        try:
            rendered = self.open_file(session, copy, progress)
        finally:
            self._prune_uploads(session)
        return rendered

    def open_uploads(
        self,
        session: Session,
        paths: list[str | Path],
        progress: Progress = _no_progress,
        *,
        add: bool = False,
    ) -> list[Note]:
        """Open several uploads (a ZIP stands for its documents) as the session's documents, or
        add them to the open ones (``add``). Every file is opened on its own: one that cannot be
        opened is left out and named in the returned notes, the others are opened. Raises when
        none could be (the session is left as it was)."""
        from app.ingest.archive import is_archive

        paths = [Path(p) for p in paths if p]
        if not paths:
            return []
        if not add and len(paths) == 1 and not is_archive(paths[0]):
            self.open_upload(session, paths[0], progress)  # one file: the password flow too
            return []
        workdir = session.workdir()
        try:
            taken = set(session.names) if add else set()  # names a new one must not repeat
            opened, failed = self._open_each(workdir, paths, progress, session.lang, taken)
            if not opened:
                raise failed_all(failed)
            files = [*session.files, *opened] if add else opened
            if len(files) > MAX_DOCUMENTS:
                failed += [too_many_documents(f.name) for f in files[MAX_DOCUMENTS:]]
                files = files[:MAX_DOCUMENTS]
            before = set(session.names)
            not_opened = [*session.not_opened, *failed] if add else failed
            self._set_files(session, files, progress, not_opened)
            if session.selected is not None:  # what was added is asked too
                session.selected += [n for n in session.names if n not in before]
            session.pending_path = None
            if not add:
                session.collection = None
        finally:
            self._prune_uploads(session)
        return [note for _, note in failed]

    def _open_each(
        self, workdir: Path, paths: list[Path], progress: Progress, lang: str, taken: set[str]
    ) -> tuple[list[OpenedFile], list[tuple[str, Note]]]:
        """Each upload (each member of a ZIP) opened on its own: (opened, (name, why) failed);
        a name in ``taken`` (or repeated) is numbered ("report.pdf (2)")."""
        from app.ingest import supported_suffixes
        from app.ingest.archive import is_archive, unpack
        from app.ingest.base import Limits

        limits = Limits.from_settings(self.pipeline.settings)
        todo: list[tuple[str, Path | None, GlyphError | None]] = []
        for path in paths:
            copy = storage.copy_upload(workdir, path)
            if not is_archive(copy):
                todo.append((copy.name, copy, None))
                continue
            try:
                members = unpack(copy, copy.parent, limits, set(supported_suffixes()))
            except GlyphError as err:
                todo.append((copy.name, None, err))
                continue
            finally:
                copy.unlink(missing_ok=True)
            todo += [(m.name, m.path, m.error) for m in members]
        opened: list[OpenedFile] = []
        failed: list[tuple[str, Note]] = []
        names = set(taken)
        for n, (name, path, error) in enumerate(todo):
            progress(n / len(todo), t("status_open_n", lang, n=n + 1, total=len(todo),
                                      name=name))  # fmt: skip
            if path is not None and error is None:
                try:
                    document = self.pipeline.open_document(path, name=name)
                except Exception as err:  # one bad file never stops the others
                    error = err if isinstance(err, GlyphError) else None
                    if error is None:
                        log.exception("cannot open %s", name)
                        error = GlyphError(t("err_unexpected", "en", kind=type(err).__name__),
                                           t("err_unexpected", "zh", kind=type(err).__name__))  # fmt: skip
                else:
                    shown = numbered(name, names)
                    names.add(shown)
                    if shown != document.name:
                        document = document.model_copy(update={"name": shown})
                    opened.append(OpenedFile(shown, document, path))
                    continue
            assert error is not None
            failed.append((name, file_note(name, error)))
        return opened, failed

    def _prune_uploads(self, session: Session) -> None:
        keep = {f.path for f in session.files} | {session.pending_path}
        storage.prune_uploads(session.workdir(), keep=keep)

    def unlock(self, session: Session, password: str, progress: Progress = _no_progress):
        """Retry the encrypted upload with ``password``."""
        if session.pending_path is None:
            raise UserError(t("err_no_document", "en"), t("err_no_document", "zh"))
        return self.open_file(session, session.pending_path, progress, password=password or "")

    def open_text(self, session: Session, text: str, progress: Progress = _no_progress):
        progress(None, t("status_ingest", session.lang))
        document = self.pipeline.open_text(text or "")
        rendered = self._set_files(session, [OpenedFile(document.name, document)], progress)
        session.collection = None
        return rendered

    def remove_document(self, session: Session, name: str, progress: Progress = _no_progress):
        """Take ``name`` out of the session's documents (never the last one)."""
        rest = [f for f in session.files if f.name != name]
        if len(rest) == len(session.files):
            return session.rendered
        if not rest:
            raise UserError(t("err_last_document", "en"), t("err_last_document", "zh"))
        rendered = self._set_files(session, rest, progress, session.not_opened)
        self._prune_uploads(session)
        return rendered

    def select_documents(self, session: Session, names: list[str] | None) -> None:
        """Questions go to ``names`` (None or all of them: the whole collection; none: a
        question asks to tick one)."""
        chosen = [n for n in session.names if names is None or n in names]
        session.selected = None if len(chosen) == len(session.files) else chosen

    def document_choices(self, session: Session) -> tuple[list[tuple[str, str]], list[str]]:
        """The document list: (label, name) of each document, and the names questions go to."""
        lang, choices = session.lang, []
        for f in session.files:
            doc = f.document
            n = len(doc.pages)
            pages = t("doc_entry_page" if n == 1 else "doc_entry_pages", lang, n=n) if n else ""
            label = t("doc_entry", lang, name=f.name, kind=doc.format.upper(), pages=pages)
            choices.append((label, f.name))
        return choices, [f.name for f in session.chosen()]

    @staticmethod
    def document_status(session: Session) -> str:
        """The uploads that could not be opened, one line each with why (Markdown; "" for none):
        listed under the documents until the next upload replaces them."""
        if not session.not_opened:
            return ""
        lang = session.lang
        rows = [f"- ✗ {md_escape(note.text(lang))}" for _, note in session.not_opened]
        return f"**{t('doc_not_opened', lang, n=len(rows))}**\n\n" + "\n".join(rows)

    def document_pages(self, session: Session) -> list[int]:
        """The rendered pages the preview shows: those of the document chosen in the preview's
        selector (all of them for a single document)."""
        rendered = session.rendered
        if rendered is None:
            return []
        document = rendered.document
        if len(session.files) < 2 or document is None:
            return list(range(len(rendered.pages)))
        name = session.preview_name or session.files[0].name
        part = next((p for p in document.parts() if p.name == name), None)
        if part is None:
            return list(range(len(rendered.pages)))
        return rendered.layout.pages_of_span(part.start, part.end)

    def show_document(self, session: Session, name: str | None) -> None:
        """The preview shows ``name``'s pages."""
        session.preview_name = name if name in session.names else None

    # --- saved collections ----------------------------------------------------------------------
    @staticmethod
    def collection_owner(session: Session) -> str:
        """Whose collections a session sees: the logged-in user's, else this server's one user."""
        return f"user:{session.user}" if session.user else "local"

    def collection_choices(self, session: Session) -> list[tuple[str, str]]:
        """(label, id) of the session's user's saved collections, the newest first."""
        saved = self.collections.list(self.collection_owner(session))
        lang = session.lang
        return [(f"{c.name} · {t('coll_count', lang, n=len(c.documents))}", c.id) for c in saved]

    def save_collection(self, session: Session, name: str) -> str:
        """Keep the open documents as the user's collection ``name``; returns its id."""
        name = " ".join((name or "").split())[:80]
        if not name:
            raise UserError(t("err_coll_name", "en"), t("err_coll_name", "zh"))
        if not session.files:
            raise UserError(t("err_coll_empty", "en"), t("err_coll_empty", "zh"))
        from dataclasses import asdict

        documents = [(f.name, f.path, f.document) for f in session.files]
        try:
            saved = self.collections.save(
                self.collection_owner(session), name, documents, asdict(session.options)
            )
        except OSError as err:
            raise storage.storage_error(err, "the collection", "文档集") from None
        session.collection = saved.name
        return saved.id

    def open_collection(
        self, session: Session, cid: str, progress: Progress = _no_progress
    ) -> list[Note]:
        """Open the user's saved collection ``cid`` in place of the open documents (its render
        settings too); a document that cannot be opened any more is named in the notes."""
        from app.datamodel import Document
        from app.ui.session import RenderOptions

        saved = self.collections.get(self.collection_owner(session), cid or "")
        if saved is None:
            raise UserError(t("err_coll_missing", "en"), t("err_coll_missing", "zh"))
        files: list[OpenedFile] = []
        failed: list[Note] = []
        for n, entry in enumerate(saved.documents):
            progress(n / max(len(saved.documents), 1), t("status_open_n", session.lang, n=n + 1,
                     total=len(saved.documents), name=entry.name))  # fmt: skip
            try:
                if entry.kind == "file":
                    document = self.pipeline.open_document(entry.path, name=entry.name)
                    files.append(OpenedFile(entry.name, document, entry.path))
                else:
                    text = entry.path.read_text(encoding="utf-8")
                    files.append(OpenedFile(entry.name, Document.model_validate_json(text)))
            except GlyphError as err:
                failed.append(file_note(entry.name, err))
            except (OSError, ValueError) as err:
                log.warning("collection %s: cannot read %s: %s", saved.id, entry.name, err)
                failed.append(file_note(entry.name, UserError(
                    t("err_coll_missing", "en"), t("err_coll_missing", "zh"))))  # fmt: skip
        if not files:
            raise failed_all([("", note) for note in failed]) if failed else UserError(
                t("err_coll_missing", "en"), t("err_coll_missing", "zh"))  # fmt: skip
        previous = session.options
        try:
            session.options = RenderOptions(**saved.options)
            self._set_files(session, files, progress)
        except Exception:
            session.options = previous
            raise
        session.selected, session.preview_name = None, None
        session.collection = saved.name
        return failed

    def delete_collection(self, session: Session, cid: str) -> str | None:
        """Delete the user's saved collection ``cid``; returns its name (None: there was none)."""
        owner = self.collection_owner(session)
        saved = self.collections.get(owner, cid or "")
        if saved is None or not self.collections.delete(owner, saved.id):
            return None
        if session.collection == saved.name:
            session.collection = None
        return saved.name

    def _set_files(
        self,
        session: Session,
        files: list[OpenedFile],
        progress: Progress,
        not_opened: list[tuple[str, Note]] | None = None,
    ):
        """Render ``files`` as the session's documents (one: itself; several: a collection),
        with ``not_opened`` the uploads among them that could not be opened; a failure leaves
        the session as it was."""
        from app.ingest.collection import merge_documents

        document = merge_documents([f.document for f in files])
        rendered = self._render(session, document, progress)
        session.files, session.document, session.rendered = files, document, rendered
        session.not_opened = list(not_opened or [])
        if session.selected is not None:
            session.selected = [n for n in session.selected if n in session.names] or None
        if session.preview_name not in session.names:
            session.preview_name = None
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
        # a step without measurable parts: its line, no made-up percentage
        progress(None, t("status_render", session.lang))
        opts = session.options
        cache = session.render_cache
        rendered = self.pipeline.render(document, opts.spec(), cache=cache, **opts.overrides())
        # keep only the renders of these documents at these settings
        used = {id(p.image) for p in rendered.pages}
        for key in [k for k, v in cache.items() if not v.pages or id(v.pages[0].image) not in used]:
            del cache[key]
        if not opts.coarse_to_fine:  # the reader starts on the pages while the user types
            self.pipeline.prefetch(rendered)
        return rendered

    def scoped(self, session: Session) -> RenderedDoc | None:
        """What a question reads: the whole render, or the selected documents' pages (their
        renders joined again; the same pixels, so nothing is rendered or read twice)."""
        document = session.chosen_document()
        if session.rendered is None or document is session.document:
            return session.rendered
        assert document is not None
        return self.pipeline.render(document, session.rendered.config, cache=session.render_cache)

    # --- preview --------------------------------------------------------------------------------
    def preview(self, session: Session) -> tuple[list[tuple[Image.Image, str]], str]:
        """(gallery items, stats line) for the middle pane."""
        rendered = session.rendered
        if rendered is None:
            return [], t("no_document", session.lang)
        shown = self.document_pages(session)
        pages = [rendered.pages[i] for i in shown[:PREVIEW_MAX_PAGES]]
        items = [(p.image, f"{n + 1}") for n, p in enumerate(pages)]
        line = stats_line(rendered, session.lang)
        if session.options.coarse_to_fine:
            line += " · " + t("coarse_to_fine_note", session.lang)
        if len(session.files) > 1 and shown:
            name = md_escape(session.preview_name or session.files[0].name)
            line += " · " + t("preview_of", session.lang, name=name, first=shown[0] + 1,
                              last=shown[-1] + 1, total=len(rendered.pages))  # fmt: skip
        if len(shown) > PREVIEW_MAX_PAGES:
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
        if not session.chosen():
            raise UserError(t("err_no_selection", "en"), t("err_no_selection", "zh"))
        question = question_for(mode_, question)
        started = time.perf_counter()
        rendered = self.scoped(session)
        assert rendered is not None
        update = AskUpdate(status=t("status_reading", session.lang))
        progress(None, update.status)
        yield replace(update)
        # the pipeline lets one question at a time use the reader (a status chunk says when this
        # one waits) and releases it when the stream ends or is closed (a cancelled request)
        asked = self._questions[session.id] = _Question()
        chunks = self.pipeline.ask(
            rendered,
            question,
            mode_,
            coarse_to_fine=session.options.coarse_to_fine,
            cancel=asked.cancel,
        )
        try:
            yield from self._stream(session, rendered, chunks, update, question, started, progress)
        except GeneratorExit:  # the stream was closed early: the browser went away or cancelled
            asked.stopped = True
            raise
        finally:
            chunks.close()
            asked.stopped = asked.stopped or asked.cancel.is_set()
            asked.cancel.set()  # nothing of this question goes on reading
            asked.ended.set()

    def end_session(self, session: Session) -> None:
        """The tab is gone: its question (stopped if still reading) and its files go with it."""
        asked = self._questions.pop(session.id, None)
        if asked is not None:
            asked.cancel.set()
        session.cleanup()

    def stop(self, session: Session, wait_s: float = 0.0) -> bool:
        """Stop ``session``'s question and wait up to ``wait_s`` for it to end (the reader stops
        after its page in progress); False when no question was in progress or stopped."""
        asked = self._questions.get(session.id)
        if asked is None or (asked.ended.is_set() and not asked.stopped):
            return False  # none asked, or the last one was answered
        asked.stopped = True
        asked.cancel.set()
        asked.ended.wait(wait_s)
        return True

    def _stream(
        self,
        session: Session,
        rendered: RenderedDoc,
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
                progress(None, line)
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
                session.asked = rendered
                session.evidence_images = annotate_pages(rendered, answer.shown_evidence)
                update.evidence_pages = sorted(session.evidence_images)
            yield replace(update)

    def evidence_image(self, session: Session, page: int | None) -> Image.Image | None:
        """The annotated page, cropped to a readable window around its red boxes."""
        if not session.evidence_images or not session.answers:
            return None
        if page is None or page not in session.evidence_images:
            page = min(session.evidence_images)
        image = session.evidence_images[page]
        boxes = [
            b for ev in session.answers[-1].shown_evidence if ev.page == page for b in ev.boxes
        ]
        return crop_around(image, boxes)

    def reader_thinks(self) -> bool:
        """Whether the active reader may stream a reasoning trace (the Thinking panel is shown)."""
        try:
            return bool(self.pipeline.reader().reader.capabilities.thinking)
        except Exception:  # no reader could be loaded: reader_status says why
            return False

    def evidence_place(self, session: Session, value: object) -> EvidenceShown | None:
        """The cited place ``value`` (an evidence-list value) of the answer shown: on the
        original PDF page, or as the passage in the document's text, and on the rendered page."""
        answer, parsed = session.shown, ev_view.parse_choice(value)
        if answer is None or parsed is None:
            return None
        found = ev_view.places(answer)
        if not 0 <= parsed[1] < len(found):
            return None
        session.shown_place = str(value)
        place = found[parsed[1]]
        last = answer is (session.answers or [None])[-1]
        rendered = session.asked if last and session.asked is not None else session.rendered
        text = rendered.text if rendered is not None else None
        same = rendered is not None and ev_view.matching_text(answer, text)
        document = (rendered.document or session.document) if same and rendered else None
        original = self._original(session, answer, place, document) if document else None
        if original is not None:
            passage = ""
        elif same and text is not None:
            passage = ev_view.passage_html(text, place.start, place.end, color=box_color(place))
        else:
            passage = ev_view.cited_html(place.text, color=box_color(place))
        images = session.evidence_images if answer is (session.answers or [None])[-1] else {}
        dense = ev_view.rendered_crop(images, answer.shown_evidence, place)
        preview, preview_doc = None, None
        if same and rendered is not None:
            preview, preview_doc = self._preview_place(session, rendered, place)
        caption = self._caption(session, answer, found, parsed[1], document, original, same)
        return EvidenceShown(caption, original, passage, dense, preview, preview_doc)

    @staticmethod
    def _preview_place(
        session: Session, rendered: RenderedDoc, place
    ) -> tuple[int | None, str | None]:
        """(the preview gallery's index of the place's first page, the document it belongs to):
        the preview shows one document's pages, which are the same in any scope."""
        pages = rendered.layout.pages_of_span(place.start, place.end)
        if not pages:
            return None, None
        document = rendered.document
        part = document.part_at(place.start) if document is not None else None
        if part is None or len(session.files) < 2:
            return (pages[0] if pages[0] < PREVIEW_MAX_PAGES else None), None
        first = rendered.layout.pages_of_span(part.start, part.end)[0]
        index = pages[0] - first
        return (index if index < PREVIEW_MAX_PAGES else None), part.name

    def _original(self, session: Session, answer: Answer, place, document) -> Image.Image | None:
        """The original PDF page of ``place`` with its red boxes, cut around them (cached per
        answer and place)."""
        from app.ingest.store import find_original, find_original_file

        page_no = place.source_page
        part = document.part_at(place.start)
        if page_no is None or part is None or not 0 <= page_no < len(document.pages):
            return None
        if part.format != "pdf":
            return None
        key = (ev_view.answer_key(answer), place.items[0])
        if key not in session.evidence_cache:
            # a collection: the PDF the place is in, at its own page
            settings = self.pipeline.settings
            pdf = (
                find_original(document, settings)
                if len(document.parts()) == 1
                else find_original_file(part.original_path, part.source_sha256, settings)
            )
            own = document.own_page(page_no)
            items = [answer.shown_evidence[i].model_copy(update={"source_page": own})
                     for i in place.items]  # fmt: skip
            image = ev_view.annotated_original(pdf, items, own) if pdf is not None else None
            if image is not None:
                page = document.pages[page_no]
                boxes = [b for ev in items for b in ev.source_boxes]
                extent = ev_view.text_extent(document, page_no)
                image = ev_view.original_crop(image, (page.width, page.height), boxes, extent)
            # one answer's pages at a time
            session.evidence_cache = {
                k: v for k, v in session.evidence_cache.items() if k[0] == key[0]
            }
            session.evidence_cache[key] = image
        return session.evidence_cache[key]

    @staticmethod
    def _caption(session, answer, found, index, document, original, same) -> str:
        """Where the place is: the document's page (or passage n of m), the rendered page."""
        lang, place = session.lang, found[index]
        part = document.part_at(place.start) if document is not None else None
        name = md_escape(part.name if part else document.name) if document is not None else ""
        if place.source_page is not None and document is not None:
            own = document.own_page(place.source_page) or 0
            pages = part.pages if part is not None and part.pages else len(document.pages)
            where = t("evidence_where_page", lang, page=own + 1, pages=pages, name=name)
        elif place.source_page is not None:
            where = f"**{t('evidence_item', lang, page=place.source_page + 1)}**"
        else:
            doc_name = name or (md_escape(session.document.name) if session.document else "")
            where = t("evidence_where_passage", lang, n=index + 1, count=len(found), name=doc_name)
        parts = [where.rstrip(" ·")]
        if place.closest:  # not evidence: say so beside the page it points at
            parts.append(f"🔍 {t('evidence_closest', lang)}")
        if same and session.rendered is not None:
            pages = sorted({answer.shown_evidence[i].page + 1 for i in place.items})
            listed = ", ".join(str(p) for p in pages)
            parts.append(t("evidence_rendered_page", lang, page=listed,
                           pages=len(session.rendered.pages)))  # fmt: skip
        if original is not None:
            parts.append(
                t("evidence_enlarge_closest" if place.closest else "evidence_enlarge", lang)
            )
        elif place.source_page is not None:
            parts.append(
                t("evidence_no_original", lang) if same else t("evidence_no_context", lang)
            )
        elif not same:
            parts.append(t("evidence_no_context", lang))
        return " · ".join(parts)

    @staticmethod
    def check_line(answer: Answer, lang: str) -> str:
        """The answer's values that the document has in another form (near) or not at all."""
        parts = []
        for check in answer.checks:
            if check.status == "near" and check.document_value:
                part = t("check_near", lang, value=md_escape(check.value),
                         document=md_escape(check.document_value))  # fmt: skip
            elif check.status in ("near", "absent"):
                part = t("check_absent", lang, value=md_escape(check.value))
            else:
                continue
            page = check.page_number
            parts.append(part + (t("check_page", lang, page=page) if page else ""))
        return " · ".join(parts[:6])

    @staticmethod
    def confidence_line(answer: Answer, lang: str) -> str:
        line = t("confidence", lang, value=percent(answer.confidence))
        if answer.needs_review:
            line += " · " + t("needs_review", lang)
        if answer.fine_pages:  # coarse-to-fine: say which pages were re-read at fine resolution
            pages = ", ".join(str(p + 1) for p in answer.fine_pages[:30])
            line += " · " + t("pages_read_fine", lang, pages=pages)
        elif answer.pages_read:
            pages = ", ".join(str(p + 1) for p in answer.pages_read[:30])
            line += " · " + t("pages_read", lang, pages=pages)
        checks = UIManager.check_line(answer, lang)
        if checks:
            line += "\n\n" + checks
        notes = "".join(f"\n\nℹ {md_escape(note_text(n, lang))}" for n in answer.notes)
        return line + notes

    @staticmethod
    def evidence_choices(answer: Answer, lang: str, named: bool = False) -> list[tuple[str, str]]:
        """The evidence list: (label, value) of every cited place (``evidence_view.Place``)."""
        key = ev_view.answer_key(answer)
        return [
            (ev_view.place_label(place, n + 1, lang), ev_view.choice_value(key, n))
            for n, place in enumerate(ev_view.places(answer, named))
        ]

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

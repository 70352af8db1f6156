"""The built-in CPU reader: OCR of the rendered page images, retrieval, extractive answers.

Every answer word comes from OCR of the page pixels; the layout map only ties read characters to
positions in the rendered text so that evidence boxes are exact. Pages are OCR'd once per page
image hash (disk cache), the assembled text and its retrieval index once per rendered document
(memory), so follow-up questions cost retrieval only.
"""

from __future__ import annotations

import atexit
import concurrent.futures.thread  # noqa: F401 - must register its exit hook before ours
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from app.datamodel import Answer, AnswerChunk, Mode, RenderedDoc, Span
from app.readers.base import Reader, ReaderCapabilities
from app.readers.ocr.cache import OcrCache
from app.readers.ocr.engines import OcrLine, get_engine
from app.readers.ocr.extract import extract, key_matches, profile
from app.readers.ocr.keyinfo import format_items, key_information
from app.readers.ocr.lines import OcrText, assemble
from app.readers.ocr.retrieve import HybridIndex, is_cjk_text, warm_up_embeddings
from app.readers.ocr.summarize import requested_length, summarize
from app.settings import Settings

log = logging.getLogger(__name__)

NOT_FOUND = {"en": "Not found in the document.", "zh": "文档中未找到答案。"}
MIN_COVERAGE = 0.34  # fewer of the question's key words than this: no answer
TOP_K = 12
DOCS_IN_MEMORY = 8
_READERS: weakref.WeakSet[OcrReader] = weakref.WeakSet()


def _stop_background_reads() -> None:
    # Daemon threads inside onnxruntime abort the process when the interpreter finalises under
    # them ("terminate called without an active exception", exit 134): stop them first.
    for reader in list(_READERS):
        reader.close()


# Run before concurrent.futures shuts its thread pools down at exit (those callbacks run in
# reverse order of registration; concurrent.futures.thread, imported above, registers first),
# so a background read finishes its page instead of failing on a closed pool.
try:
    threading._register_atexit(_stop_background_reads)  # type: ignore[attr-defined]
except (AttributeError, RuntimeError):
    atexit.register(_stop_background_reads)


def _text_language(text: str) -> str:
    """'zh' when CJK characters are at least 10% of the letters read, else 'en'."""
    sample = text[:20_000]
    cjk = sum("\u3400" <= ch <= "\u9fff" for ch in sample)
    latin = sum(ch.isascii() and ch.isalpha() for ch in sample)
    return "zh" if cjk and cjk >= 0.1 * (cjk + latin) else "en"


@dataclass
class _Doc:
    ocr: OcrText
    index: HybridIndex
    ocr_s: float
    pages: int


class OcrReader(Reader):
    """OCR (rapidocr or tesseract) + BM25/MiniLM retrieval + extractive QA, summary, key info."""

    name = "ocr"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine_name = settings.ocr_engine
        self.engine = get_engine(self.engine_name)  # fails early if the extra is missing
        self.cache = OcrCache(settings.resolved_cache_dir / "ocr")
        self._docs: OrderedDict[str, _Doc] = OrderedDict()
        self._inflight: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self.background: threading.Thread | None = None  # the latest prefetch, for callers/tests
        self._stop = threading.Event()
        _READERS.add(self)

    @property
    def capabilities(self) -> ReaderCapabilities:
        return ReaderCapabilities(
            modes=frozenset(Mode),
            streaming=True,
            thinking=False,
            device="cpu",
            description=f"built-in OCR reader ({self.engine_name}, CPU)",
        )

    # -- reading the pixels ------------------------------------------------------------------
    def _language(self, rendered: RenderedDoc) -> str:
        lang = rendered.config.language
        if lang in ("en", "zh"):
            return lang
        return (
            rendered.document.language
            if rendered.document and rendered.document.language
            else "auto"
        )

    def read_pages(
        self, rendered: RenderedDoc, only: list[int] | None = None
    ) -> Iterator[tuple[int, list[OcrLine], bool]]:
        """(page index, lines, from cache) for every page (or those in ``only``), OCR'ing
        those not cached."""
        version = self.engine.version
        lang = self._language(rendered)
        chosen = rendered.pages if only is None else [rendered.pages[i] for i in only]
        for page in chosen:
            sha = page.sha256
            lines = self.cache.get(self.engine_name, version, sha)
            cached = lines is not None
            if lines is None:
                lines = self.engine.read(page.image, lang)
                self.cache.put(self.engine_name, version, sha, lines)
            yield page.index, lines, cached

    def _document(self, rendered: RenderedDoc) -> Iterator[AnswerChunk | _Doc]:
        """The read document (OCR text + index), from memory, from a read in progress, or new."""
        key = f"{rendered.key}:{self.engine_name}:{self.engine.version}"
        while True:
            with self._lock:
                doc = self._docs.get(key)
                if doc is not None:
                    self._docs.move_to_end(key)
                    break
                pending = self._inflight.get(key)
                if pending is None:
                    self._inflight[key] = threading.Event()
                    break
            # another thread (a prefetch, a second user) is reading these pages: wait for it
            yield AnswerChunk(kind="status", text="OCR already in progress for this document")
            pending.wait()
        if doc is not None:
            yield doc
            return
        try:
            started = time.perf_counter()
            total = len(rendered.pages)
            pages: list[list[OcrLine]] = [[] for _ in range(total)]
            for index, lines, cached in self.read_pages(rendered):
                pages[index] = lines
                note = " (cached)" if cached else ""
                yield AnswerChunk(kind="status", text=f"OCR page {index + 1}/{total}{note}")
            ocr = assemble(pages, rendered.layout, rendered.text)
            index = HybridIndex([s.text for s in ocr.sentences])
            doc = _Doc(ocr, index, time.perf_counter() - started, total)
            with self._lock:
                self._docs[key] = doc
                while len(self._docs) > DOCS_IN_MEMORY:
                    self._docs.popitem(last=False)
        finally:
            with self._lock:
                event = self._inflight.pop(key, None)
            if event is not None:
                event.set()
        yield doc

    def _is_read(self, rendered: RenderedDoc) -> bool:
        key = f"{rendered.key}:{self.engine_name}:{self.engine.version}"
        with self._lock:
            return key in self._docs

    def _first_pages(self, rendered: RenderedDoc, question: str) -> list[int]:
        """The pages to read first for a question: best BM25 match of the page texts (known
        from the layout map) — only the ORDER of reading; the answer still comes from pixels."""
        from app.readers.vlm.select import bm25_scores

        k = self.settings.ocr_first_pages
        if k <= 0 or len(rendered.pages) <= k or self._is_read(rendered):
            return []
        texts = [rendered.page_text(i) for i in range(len(rendered.pages))]
        scores = bm25_scores(question, texts)
        ranked = sorted(range(len(texts)), key=lambda i: -scores[i])
        return sorted(i for i in ranked[:k] if scores[i] > 0)

    def _read_subset(self, rendered: RenderedDoc, pages: list[int]) -> Iterator[AnswerChunk | _Doc]:
        started = time.perf_counter()
        total = len(rendered.pages)
        read: list[list[OcrLine]] = [[] for _ in range(total)]
        for n, (index, lines, cached) in enumerate(self.read_pages(rendered, pages), 1):
            read[index] = lines
            note = " (cached)" if cached else ""
            yield AnswerChunk(
                kind="status", text=f"OCR page {index + 1} ({n}/{len(pages)} first){note}"
            )
        ocr = assemble(read, rendered.layout, rendered.text)
        yield _Doc(
            ocr,
            HybridIndex([s.text for s in ocr.sentences]),
            time.perf_counter() - started,
            len(pages),
        )

    def prefetch(self, rendered: RenderedDoc) -> threading.Thread:
        """Start reading ``rendered``'s pages in the background (e.g. while the user looks at
        the render preview and types a question); a question asked meanwhile waits for it
        instead of reading the pages a second time."""

        def run() -> None:
            try:
                for _ in self._document(rendered):
                    if self._stop.is_set():  # closing: leave the rest unread
                        break
            except Exception:  # the question asked later reports the error to the user
                log.exception("background OCR failed")

        thread = threading.Thread(target=run, name="ocr-prefetch", daemon=True)
        thread.start()
        self.background = thread
        return thread

    def close(self) -> None:
        """Stop a background read (after the page in progress) and wait for it."""
        self._stop.set()
        thread = self.background
        if thread is not None and thread.is_alive():
            thread.join(timeout=120)

    # -- answering ---------------------------------------------------------------------------
    def answer(
        self, rendered: RenderedDoc, question: str, mode: Mode = Mode.QA, *, stream: bool = True
    ) -> Iterator[AnswerChunk]:
        started = time.perf_counter()
        mode = Mode(mode)
        if mode is Mode.QA and not is_cjk_text(question):
            warm_up_embeddings()
        first = self._first_pages(rendered, question) if mode is Mode.QA else []
        if first:
            early = yield from self._answer_first_pages(rendered, question, first, started, stream)
            if early is not None:
                yield AnswerChunk(kind="answer", text=early.text)
                yield AnswerChunk(kind="final", answer=early)
                return
        doc: _Doc | None = None
        for item in self._document(rendered):
            if isinstance(item, _Doc):
                doc = item
            elif stream:
                yield item
        assert doc is not None
        ocr_s = time.perf_counter() - started
        if stream:
            yield AnswerChunk(
                kind="status", text=f"Searching {len(doc.ocr.sentences)} read sentences"
            )
        t0 = time.perf_counter()
        # answer in the question's language; summaries and key facts in the document's
        lang = "zh" if is_cjk_text(question) else "en"
        if mode is not Mode.QA:
            lang = _text_language(doc.ocr.text)
        if mode is Mode.QA:
            answer = self._qa(doc, rendered, question, lang)
        elif mode is Mode.SUMMARY:
            answer = self._summary(doc, rendered, question, lang)
        else:
            answer = self._extract(doc, rendered, lang)
        answer.timings.update(
            {
                "ocr": round(ocr_s, 4),
                "answer": round(time.perf_counter() - t0, 4),
                "total": round(time.perf_counter() - started, 4),
            }
        )
        answer.stats = rendered.stats.model_copy()
        answer.pages_read = list(range(len(rendered.pages)))
        if answer.text:
            yield AnswerChunk(kind="answer", text=answer.text)
        yield AnswerChunk(kind="final", answer=answer)

    def _answer_first_pages(
        self,
        rendered: RenderedDoc,
        question: str,
        pages: list[int],
        started: float,
        stream: bool,
    ) -> Iterator[AnswerChunk]:
        """Read the best-matching pages first; a confident answer there is returned at once
        (the other pages are then read in the background for follow-ups). Returns None when
        the whole document has to be read."""
        part: _Doc | None = None
        for item in self._read_subset(rendered, pages):
            if isinstance(item, _Doc):
                part = item
            elif stream:
                yield item
        assert part is not None
        t0 = time.perf_counter()
        lang = "zh" if is_cjk_text(question) else "en"
        answer = self._qa(part, rendered, question, lang)
        if not answer.spans or answer.confidence < self.settings.review_threshold:
            return None  # not sure from these pages: read them all
        self.prefetch(rendered)
        shown = ", ".join(str(p + 1) for p in pages)
        answer.notes.append(
            f"read pages {shown} first (ranked by the question against the page texts); "
            "the remaining pages are being read in the background"
        )
        answer.timings.update(
            {
                "ocr": round(t0 - started, 4),
                "answer": round(time.perf_counter() - t0, 4),
                "total": round(time.perf_counter() - started, 4),
            }
        )
        answer.stats = rendered.stats.model_copy()
        answer.pages_read = list(pages)
        return answer

    def _span(
        self,
        doc: _Doc,
        rendered: RenderedDoc,
        start: int,
        end: int,
        score: float,
        label: str | None = None,
    ) -> Span | None:
        src = doc.ocr.source_span(start, end)
        if src is None:
            return None
        a, b = src
        return Span(
            start=a,
            end=b,
            text=rendered.text[a:b],
            score=round(min(1.0, max(0.0, score)), 4),
            label=label,
        )

    def _qa(self, doc: _Doc, rendered: RenderedDoc, question: str, lang: str) -> Answer:
        prof = profile(question)
        weight = doc.index.bm25.idf_of  # rare keys (the thing asked about) count more
        sentences = doc.ocr.sentences
        text = doc.ocr.text
        best = None  # (total, coverage, candidate, sentence index, window start)
        for idx, retrieval in doc.index.search(question, k=TOP_K):
            sent = sentences[idx]
            # a key followed by a colon at the end of its sentence: the value is in the next one
            end = (
                sentences[idx + 1].end
                if idx + 1 < len(sentences) and sent.text.rstrip().endswith((":", "："))
                else sent.end
            )
            window = text[sent.start : end]
            coverage, _ = key_matches(prof, window, weight)
            if coverage < MIN_COVERAGE:
                continue
            cand = extract(prof, window, weight)
            if cand is None:
                continue
            total = (0.55 * coverage + 0.25 * retrieval + 0.2) * cand.score
            if best is None or total > best[0]:
                best = (total, coverage, cand, idx, sent.start)
        if best is None:
            return Answer(
                text=NOT_FOUND[lang],
                mode=Mode.QA,
                reader=self.name,
                confidence=0.0,
                needs_review=True,
                notes=["no sentence read on the pages matches the question"],
            )
        _, coverage, cand, idx, base = best
        a, b = base + cand.start, base + cand.end
        answer_text = " ".join(text[a:b].split())
        ocr_conf = doc.ocr.confidence(a, b)
        typed = 0.8 if cand.kind in ("phrase", "sentence") else 1.0
        confidence = round(ocr_conf * (0.3 + 0.7 * coverage) * typed, 4)
        spans = []
        value_span = self._span(doc, rendered, a, b, ocr_conf)
        if value_span is not None:
            spans.append(value_span)
        sent = sentences[idx]
        sent_span = self._span(doc, rendered, sent.start, sent.end, coverage)
        if sent_span is not None and (
            value_span is None
            or (sent_span.start, sent_span.end) != (value_span.start, value_span.end)
        ):
            spans.append(sent_span)
        return Answer(
            text=answer_text,
            mode=Mode.QA,
            reader=self.name,
            confidence=confidence,
            needs_review=confidence < self.settings.review_threshold,
            spans=spans,
            notes=[f"read by OCR ({self.engine_name}); answer kind: {cand.kind}"],
        )

    def _summary(self, doc: _Doc, rendered: RenderedDoc, question: str, lang: str) -> Answer:
        sentences = doc.ocr.sentences
        n = requested_length(question)
        chosen = summarize([s.text for s in sentences], n, max_chars=n * 220)
        if not chosen:
            return Answer(
                text="", mode=Mode.SUMMARY, reader=self.name, confidence=0.0, needs_review=True
            )
        joiner = "" if lang == "zh" else " "
        parts, spans, confs = [], [], []
        for i in chosen:
            s = sentences[i]
            parts.append(" ".join(s.text.split()))
            conf = doc.ocr.confidence(s.start, s.end)
            confs.append(conf)
            span = self._span(doc, rendered, s.start, s.end, conf)
            if span is not None:
                spans.append(span)
        confidence = round(min(confs), 4) if confs else 0.0
        return Answer(
            text=joiner.join(parts),
            mode=Mode.SUMMARY,
            reader=self.name,
            confidence=confidence,
            needs_review=confidence < self.settings.review_threshold,
            spans=spans,
            notes=[f"extractive summary: {len(chosen)} of {len(sentences)} sentences (TextRank)"],
        )

    def _extract(self, doc: _Doc, rendered: RenderedDoc, lang: str) -> Answer:
        items = key_information(doc.ocr.text)
        spans, confs, kept = [], [], []
        for item in items:
            conf = doc.ocr.confidence(item.start, item.end)
            span = self._span(doc, rendered, item.start, item.end, conf, label=item.kind)
            if span is None:
                continue
            kept.append(item)
            spans.append(span)
            confs.append(conf)
        if not kept:
            return Answer(
                text=NOT_FOUND[lang],
                mode=Mode.EXTRACT,
                reader=self.name,
                confidence=0.0,
                needs_review=True,
            )
        confidence = round(float(sum(confs) / len(confs)), 4)
        return Answer(
            text=format_items(kept, lang),
            mode=Mode.EXTRACT,
            reader=self.name,
            confidence=confidence,
            needs_review=confidence < self.settings.review_threshold,
            spans=spans,
        )

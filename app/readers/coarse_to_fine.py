"""Coarse-to-fine reading: skim the whole document coarse, read the relevant pages fine.

The document is rendered once at a dense (coarse) config — cheap, and what the user sees in the
preview. For a question, the coarse pages are ranked against it (BM25 over the page texts known
from the layout map, ``app.readers.vlm.select``), the best ``max_pages`` (plus neighbours when
room is left) have their text re-rendered at the fine preset, and the wrapped reader answers from
those fine pages only: fewer visual tokens than rendering everything fine, more legible pixels
than reading everything coarse.

The wrapped reader receives a ``FineView``: a ``RenderedDoc`` whose text is the *full* document
text and whose layout marks every character outside the re-rendered spans as not drawn (page
-1). Offsets therefore mean the same character in the view, in the coarse render and in the
document, so answer spans, ``app.evidence`` and source (PDF) boxes work unchanged; evidence is
drawn on the coarse pages the user sees. ``Answer.fine_pages`` lists the coarse pages read
finely, ``Answer.pages_read`` the coarse pages the answer was read from.

Summaries and key-information extraction need the whole document: they pass through to the
wrapped reader on the coarse render.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from app.datamodel import (
    Answer,
    AnswerChunk,
    LayoutMap,
    Mode,
    Note,
    Page,
    RenderConfig,
    RenderedDoc,
    Span,
    TokenStats,
)
from app.readers.base import Reader, ReaderCapabilities
from app.readers.vlm.select import PageSelection, select_pages
from app.settings import Settings

log = logging.getLogger(__name__)

FINE_PRESET = "fine"
VIEWS_IN_MEMORY = 8
# settings of the overview that describe the *text* rather than its density: kept when re-rendering
_CARRIED = ("language", "font_path", "fallback_fonts", "newline_markup", "tab_size")


@dataclass(eq=False)
class FineView(RenderedDoc):
    """Some pages of a coarse render, re-rendered fine, over the full document text."""

    segments: list[tuple[int, int]] = field(default_factory=list)  # re-rendered char spans
    coarse_pages: list[int] = field(default_factory=list)  # the coarse pages they came from
    page_sources: list[list[int]] = field(default_factory=list)  # per view page: coarse pages
    coarse_key: str = ""

    @property
    def key(self) -> str:
        # the text is the whole document: the spans must be part of every cache key
        digest = hashlib.sha256(super().key.encode())
        digest.update(repr(self.segments).encode())
        return digest.hexdigest()[:24]

    def coarse_pages_of(self, view_pages: Sequence[int]) -> list[int]:
        """The coarse pages shown on ``view_pages``."""
        return sorted(
            {c for p in view_pages if 0 <= p < len(self.page_sources) for c in self.page_sources[p]}
        )


def fine_config(coarse: RenderConfig, fine: RenderConfig | str = FINE_PRESET) -> RenderConfig:
    """The fine preset, keeping the overview's language, fonts and newline marker."""
    from app.render import resolve_config

    base = resolve_config(fine) if isinstance(fine, str) else fine
    return base.model_copy(update={k: getattr(coarse, k) for k in _CARRIED})


def _segments(coarse: RenderedDoc, pages: Sequence[int]) -> list[tuple[list[int], int, int]]:
    """(coarse pages, start, end) of runs of consecutive pages; a run is re-rendered as one text,
    so a sentence that crosses a page break stays whole."""
    runs: list[tuple[list[int], int, int]] = []
    for p in sorted(set(pages)):
        span = coarse.layout.span_of_page(p)
        if span is None:
            continue
        if runs and runs[-1][0][-1] == p - 1:
            prev_pages, start, _ = runs[-1]
            runs[-1] = ([*prev_pages, p], start, span[1])
        else:
            runs.append(([p], span[0], span[1]))
    return runs


def build_view(
    coarse: RenderedDoc, pages: Sequence[int], fine: RenderConfig | str = FINE_PRESET
) -> FineView:
    """Re-render the text of ``pages`` (coarse page indices) at ``fine``; see ``FineView``."""
    from app.render import estimate_text_tokens, render, visual_tokens

    config = fine if isinstance(fine, RenderConfig) else fine_config(coarse.config, fine)
    n = len(coarse.text)
    page_of = np.full(n, -1, np.int32)
    boxes = np.zeros((n, 4), np.float32)
    lines = np.zeros(n, np.int32)
    view_pages: list[Page] = []
    sources: list[list[int]] = []
    segments: list[tuple[int, int]] = []
    read_pages: list[int] = []
    texts: list[str] = []
    line_base = 0
    for run_pages, start, end in _segments(coarse, pages):
        sub = render(coarse.text[start:end], config, name=coarse.name)
        drawn = sub.layout.page >= 0
        base = len(view_pages)
        seg_page = np.where(drawn, sub.layout.page + base, -1)
        page_of[start:end] = seg_page
        boxes[start:end] = sub.layout.boxes
        lines[start:end] = np.where(drawn, sub.layout.line + line_base, line_base)
        if drawn.any():
            line_base += int(sub.layout.line[drawn].max()) + 1
        coarse_page = coarse.layout.page[start:end]
        for page in sub.pages:
            on_it = seg_page == base + page.index
            sources.append(sorted({int(c) for c in np.unique(coarse_page[on_it]) if c >= 0}))
            view_pages.append(replace(page, index=base + page.index))
        segments.append((start, end))
        read_pages.extend(run_pages)
        texts.append(sub.text)
    stats = TokenStats(
        text_tokens=estimate_text_tokens("\n".join(texts)),
        visual_tokens=sum(visual_tokens(*p.size) for p in view_pages),
    )
    return FineView(
        text=coarse.text,
        config=config,
        pages=view_pages,
        layout=LayoutMap(page_of, boxes, lines),
        name=coarse.name,
        stats=stats,
        document=coarse.document,
        segments=segments,
        coarse_pages=read_pages,
        page_sources=sources,
        coarse_key=coarse.key,
    )


class CoarseToFineReader(Reader):
    """Wraps any reader: QA reads the question's pages re-rendered fine (see the module doc)."""

    def __init__(
        self,
        inner: Reader,
        settings: Settings | None = None,
        *,
        fine: RenderConfig | str = FINE_PRESET,
        max_pages: int | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.fine = fine
        default_pages = settings.coarse_to_fine_pages if settings is not None else 3
        self.max_pages = max(1, max_pages or default_pages)
        self._views: OrderedDict[tuple, FineView] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def capabilities(self) -> ReaderCapabilities:
        caps = self.inner.capabilities
        return caps.model_copy(update={"description": f"{caps.description} · coarse-to-fine"})

    def select(self, coarse: RenderedDoc, question: str) -> PageSelection:
        """The coarse pages to read finely: best BM25 matches, at most ``max_pages``."""
        n = len(coarse.pages)
        texts = [coarse.page_text(p) for p in range(n)]
        return select_pages([1] * n, texts, question, Mode.QA, self.max_pages, "coarse-to-fine")

    def view(self, coarse: RenderedDoc, pages: Sequence[int]) -> FineView:
        """``build_view``, remembered for follow-up questions about the same pages."""
        fine_key = self.fine.fingerprint() if isinstance(self.fine, RenderConfig) else self.fine
        key = (coarse.key, tuple(sorted(pages)), fine_key)
        with self._lock:
            view = self._views.get(key)
            if view is not None:
                self._views.move_to_end(key)
                return view
        view = build_view(coarse, pages, self.fine)
        with self._lock:
            self._views[key] = view
            while len(self._views) > VIEWS_IN_MEMORY:
                self._views.popitem(last=False)
        return view

    def answer(
        self, rendered: RenderedDoc, question: str, mode: Mode = Mode.QA, *, stream: bool = True
    ) -> Iterator[AnswerChunk]:
        mode = Mode(mode)
        if mode is not Mode.QA or not rendered.pages:
            # summaries and key information need every page: read the overview as it is
            yield from self.inner.answer(rendered, question, mode, stream=stream)
            return
        started = time.perf_counter()
        selection = self.select(rendered, question)
        view = self.view(rendered, selection.pages)
        prepared = time.perf_counter() - started
        shown = ", ".join(str(p + 1) for p in view.coarse_pages)
        status = Note(
            en=f"Coarse-to-fine: reading page(s) {shown} of {len(rendered.pages)} at "
            f"{view.config.dpi} dpi ({len(view.pages)} fine page(s))",
            zh=f"由粗到细：以 {view.config.dpi} dpi 精读第 {shown} 页（共 {len(rendered.pages)} 页）",
        )
        yield AnswerChunk(kind="status", text=status.en, note=status)
        for chunk in self.inner.answer(view, question, mode, stream=stream):
            if chunk.kind != "final":
                yield chunk
                continue
            assert chunk.answer is not None
            answer = self._finish(chunk.answer, view, rendered, selection, question)
            answer.timings["coarse_to_fine"] = round(prepared, 4)
            yield AnswerChunk(kind="final", answer=answer)

    def _finish(
        self,
        answer: Answer,
        view: FineView,
        coarse: RenderedDoc,
        selection: PageSelection,
        question: str,
    ) -> Answer:
        answer = answer.model_copy(deep=True)
        answer.fine_pages = list(view.coarse_pages)
        answer.pages_read = view.coarse_pages_of(answer.pages_read) or list(view.coarse_pages)
        if not answer.spans and answer.found and answer.text.strip():
            answer.spans = self._locate(answer.text, view, question)
        how = {
            "retrieval": "the pages that best match the question",
            "spread": "pages spread over the document (nothing matched the question)",
            "all": "every page",
        }[selection.strategy]
        how_zh = {"retrieval": "与问题最相关的页面", "spread": "均匀分布的页面", "all": "全部页面"}[
            selection.strategy
        ]
        shown = ", ".join(str(p + 1) for p in view.coarse_pages)
        answer.notes.append(
            Note(
                en=f"Coarse-to-fine: read {how} (page(s) {shown} of {len(coarse.pages)}) "
                f"re-rendered at '{view.config.name}' ({view.config.dpi} dpi): "
                f"{view.stats.visual_tokens} visual tokens.",
                zh=f"由粗到细：以 {view.config.dpi} dpi 精读{how_zh}（第 {shown} 页，共 "
                f"{len(coarse.pages)} 页），{view.stats.visual_tokens} 个视觉 token。",
            )
        )
        return answer

    @staticmethod
    def _locate(text: str, view: FineView, question: str) -> list[Span]:
        """Spans of an answer without spans (VLM, OpenAI), searched in the pages read only."""
        from app.evidence.match import locate_answer

        spans: list[Span] = []
        for start, end in view.segments:
            for span in locate_answer(view.text[start:end], text, question):
                spans.append(
                    span.model_copy(
                        update={
                            "start": span.start + start,
                            "end": span.end + start,
                            "text": view.text[span.start + start : span.end + start],
                        }
                    )
                )
        # one span: the best-supported segment (ties: the earliest)
        return sorted(spans, key=lambda s: -s.score)[:1]

    def close(self) -> None:
        with self._lock:
            self._views.clear()

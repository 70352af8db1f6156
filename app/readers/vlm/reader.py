"""``VlmReader``: Glyph / GLM-4.1V in-process, reading the rendered pages as images.

One question: choose pages within the visual-token budget → prompt (pages, then the mode's
template with the question) → document prefix from the cache or the model → streamed decoding
split into thinking and answer → an ``Answer`` with token statistics, timings and a confidence
computed from the answer tokens' probabilities. Evidence boxes are added later by
``app.evidence`` as for every reader.
"""

from __future__ import annotations

import logging
import math
import resource
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.datamodel import Answer, AnswerChunk, Mode, Note, RenderedDoc, TokenStats
from app.errors import ReaderError
from app.readers.base import Reader, ReaderCapabilities, model_answer
from app.readers.vlm.cache import LRU
from app.readers.vlm.loader import LoadedModel, is_oom, load_model
from app.readers.vlm.output import OutputSplitter, split_output
from app.readers.vlm.prompts import chat_prompt, instruction
from app.readers.vlm.quant import load_profile
from app.readers.vlm.select import PageSelection, select_pages, visual_budget
from app.settings import Settings
from app.text import detect_language

log = logging.getLogger(__name__)

MAX_LOW_CONFIDENCE_NOTES = 3


def oom_error(pages: int, visual_tokens: int, profile: str, err: BaseException) -> ReaderError:
    hint_profile = (
        "" if profile == "int4-all" else " or GLYPH_MODEL_PROFILE=int4-all (4-bit language model)"
    )
    hint_profile_zh = (
        "" if profile == "int4-all" else "，或使用 GLYPH_MODEL_PROFILE=int4-all（4-bit 语言模型）"
    )
    return ReaderError(
        f"The GPU ran out of memory reading {pages} pages ({visual_tokens} visual tokens). "
        f"Try a lower render dpi or a coarser preset, fewer pages (GLYPH_MAX_VISUAL_TOKENS)"
        f"{hint_profile}. The model's caches were cleared; you can ask again.",
        f"读取 {pages} 页（{visual_tokens} 个视觉 token）时 GPU 显存不足。请降低渲染 dpi 或改用更粗的预设、"
        f"减少页数（GLYPH_MAX_VISUAL_TOKENS）{hint_profile_zh}。模型缓存已清空，可以重新提问。",
        detail=repr(err),
    )


def _onnx_file(path: Path) -> Path:
    if not path.is_file():
        raise ReaderError(
            f"GLYPH_VISION_ONNX: no ONNX file at {path} (export one with scripts/export_onnx.py).",
            f"GLYPH_VISION_ONNX：{path} 处没有 ONNX 文件（可用 scripts/export_onnx.py 导出）。",
        )
    return path


class VlmReader(Reader):
    """The in-process VLM reader (transformers)."""

    name = "vlm"

    def __init__(self, settings: Settings, *, loaded: LoadedModel | None = None) -> None:
        from app.readers.vlm.engine import VlmEngine

        self.settings = settings
        self.profile = (
            loaded.profile if loaded is not None else load_profile(settings.model_profile)
        )
        self.loaded = loaded if loaded is not None else load_model(settings, self.profile)
        self.engine = VlmEngine(self.loaded)
        if settings.vision_onnx is not None:  # GLYPH_VISION_ONNX: pages through onnxruntime
            from app.readers.vlm.onnx_engine import use_onnx_vision

            use_onnx_vision(self, _onnx_file(settings.vision_onnx))
        self._lock = threading.Lock()
        self._text_tokens = LRU(32)
        self._special = special_tokens(self.engine.tokenizer)

    @property
    def capabilities(self) -> ReaderCapabilities:
        return ReaderCapabilities(
            thinking=True,
            description=f"VLM {self.loaded.source} ({self.profile.name}, {self.loaded.device}"
            + (", ONNX vision encoder)" if self.settings.vision_onnx else ")"),
        )

    # --- helpers --------------------------------------------------------------------------------
    def _text_token_count(self, rendered: RenderedDoc, pages: list[int], all_pages: bool) -> int:
        if all_pages:
            key = rendered.key
            text = rendered.text
        else:
            key = (rendered.key, tuple(pages))
            text = "\n".join(rendered.page_text(p) for p in pages)
        count = self._text_tokens.get(key)
        if count is None:
            count = self.engine.count_text_tokens(text)
            self._text_tokens.put(key, count)
        return count

    def _select(self, rendered: RenderedDoc, question: str, mode: Mode) -> PageSelection:
        tokens = [self.engine.page_tokens(page.image) for page in rendered.pages]
        context = getattr(self.loaded.model.config.text_config, "max_position_embeddings", None)
        budget, limit = visual_budget(
            self.settings.max_visual_tokens, context, self.settings.max_new_tokens
        )
        if sum(tokens) <= budget:
            texts: list[str] = []  # not needed: every page fits
        else:
            texts = [rendered.page_text(i) for i in range(len(rendered.pages))]
        return select_pages(tokens, texts, question, mode, budget, limit)

    def _peak_memory_mb(self) -> float:
        import torch

        if self.loaded.device == "cuda":
            return torch.cuda.max_memory_allocated() / 2**20
        # CPU: the process's peak resident set size (Linux reports KiB)
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def _confidence(self, token_ids: list[int], logprobs: list[float]) -> tuple[float, list[str]]:
        """exp(mean log p) over the answer's tokens, and the low-probability answer fragments."""
        splitter = OutputSplitter(self._special)
        decode = self.engine.tokenizer.decode
        answer_lp: list[float] = []
        runs: list[list[int]] = []
        current: list[int] = []
        threshold = math.log(max(self.settings.review_threshold, 1e-6))
        for tid, lp in zip(token_ids, logprobs, strict=False):
            kinds = {kind for kind, _ in splitter.feed(decode([tid], skip_special_tokens=False))}
            if "answer" not in kinds:
                continue
            answer_lp.append(lp)
            if lp < threshold:
                current.append(tid)
            elif current:
                runs.append(current)
                current = []
        if current:
            runs.append(current)
        scored = answer_lp or list(logprobs)
        confidence = math.exp(sum(scored) / len(scored)) if scored else 0.0
        fragments = [decode(r, skip_special_tokens=True).strip() for r in runs]
        return min(max(confidence, 0.0), 1.0), [f for f in fragments if f]

    # --- the Reader interface -------------------------------------------------------------------
    def answer(
        self, rendered: RenderedDoc, question: str, mode: Mode = Mode.QA, *, stream: bool = True
    ) -> Iterator[AnswerChunk]:
        mode = Mode(mode)
        if not rendered.pages:
            raise ReaderError("The document has no rendered pages.", "文档没有渲染出任何页面。")
        if mode is Mode.QA and not question.strip():
            raise ReaderError("Please enter a question.", "请输入问题。")
        with self._lock:  # one generation at a time: the model keeps per-call state (M-RoPE)
            selection: PageSelection | None = None
            try:
                selection = self._select(rendered, question, mode)
                yield from self._answer(rendered, question, mode, selection, stream=stream)
            except ReaderError:
                raise
            except Exception as err:
                if not is_oom(err):
                    raise
                self._recover_from_oom()
                pages = len(selection.pages) if selection else len(rendered.pages)
                tokens = selection.selected_tokens if selection else 0
                raise oom_error(pages, tokens, self.profile.name, err) from err

    def _recover_from_oom(self) -> None:
        import torch

        self.engine.clear()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        log.warning("CUDA out of memory: caches cleared, reader still available")

    def _answer(
        self,
        rendered: RenderedDoc,
        question: str,
        mode: Mode,
        selection: PageSelection,
        *,
        stream: bool,
    ) -> Iterator[AnswerChunk]:
        import torch

        started = time.perf_counter()
        if self.loaded.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        notes: list[Note] = []
        if selection.reduced:
            notes.append(selection.note())
            yield AnswerChunk(kind="status", text=selection.note().en, note=selection.note())
        pages = selection.pages
        images = [rendered.pages[p].image for p in pages]
        hashes = [rendered.pages[p].sha256 for p in pages]
        lang = detect_language(question, rendered.text)
        prefix_text, suffix_text = chat_prompt(
            self.engine.processor, len(pages), instruction(mode, question, len(pages), lang)
        )
        timings = {"select": time.perf_counter() - started}

        if stream:
            reading = Note(
                en=f"Reading {len(pages)} page(s), {selection.selected_tokens} visual tokens…",
                zh=f"正在读取 {len(pages)} 页，{selection.selected_tokens} 个视觉 token…",
            )
            yield AnswerChunk(kind="status", text=reading.en, note=reading)
        entry, hit = self.engine.prefix(images, hashes, prefix_text, rendered.config.fingerprint())
        timings["prefill_document"] = 0.0 if hit else entry.prefill_s
        timings["vision"] = 0.0 if hit else entry.vision_s
        if hit:
            notes.append(
                Note(
                    en="Follow-up on a cached document: vision encoder and document prefill "
                    "skipped.",
                    zh="已缓存的文档：跳过视觉编码和文档预填充。",
                )
            )
        elif entry.vision_runs == 0:
            notes.append(
                Note(
                    en="Page features came from the cache; the vision encoder was skipped.",
                    zh="页面特征来自缓存，跳过了视觉编码。",
                )
            )

        splitter = OutputSplitter(self._special)
        result = None
        for item in self.engine.answer(
            entry, suffix_text, max_new_tokens=self.settings.max_new_tokens, stream=stream
        ):
            if isinstance(item, str):
                for kind, piece in splitter.feed(item):
                    yield AnswerChunk(kind=kind, text=piece)  # type: ignore[arg-type]
            else:
                result = item
        if stream:
            for kind, piece in splitter.finish():
                yield AnswerChunk(kind=kind, text=piece)  # type: ignore[arg-type]
        assert result is not None, "stream_generate always ends with a Generated record"

        answer = self._finish(
            result, entry, rendered, mode, pages, selection, notes, timings, suffix_text, started
        )
        yield AnswerChunk(kind="final", answer=answer)

    def _finish(
        self,
        result,
        entry,
        rendered: RenderedDoc,
        mode: Mode,
        pages: list[int],
        selection: PageSelection,
        notes: list[Note],
        timings: dict[str, float],
        suffix_text: str,
        started: float,
    ) -> Answer:
        """The generated text as an ``Answer``: thinking split off, confidence, notes, stats."""
        thinking, text = split_output(result.text, self._special)
        confidence, low = self._confidence(result.token_ids, result.logprobs)
        needs_review = confidence < self.settings.review_threshold
        if low and needs_review:
            shown = "; ".join(f"«{frag[:80]}»" for frag in low[:MAX_LOW_CONFIDENCE_NOTES])
            notes.append(
                Note(en=f"Low-confidence parts of the answer: {shown}", zh=f"低置信度片段：{shown}")
            )
        if result.stopped_on == "length":
            notes.append(
                Note(
                    en=f"The answer was cut at GLYPH_MAX_NEW_TOKENS={self.settings.max_new_tokens}"
                    " tokens.",
                    zh=f"回答在 {self.settings.max_new_tokens} 个 token 处被截断"
                    "（GLYPH_MAX_NEW_TOKENS）。",
                )
            )
        all_pages = not selection.reduced
        text_tokens = self._text_token_count(rendered, pages, all_pages)
        if not all_pages:
            whole = self._text_token_count(rendered, [], True)
            notes.append(
                Note(
                    en=f"Compression ratio is over the {len(pages)} pages read "
                    f"(the whole document is {whole} text tokens).",
                    zh=f"压缩比按读取的 {len(pages)} 页计算（全文约 {whole} 个文本 token）。",
                )
            )
        timings["prefill_question"] = result.prefill_s
        timings["decode"] = result.decode_s
        timings["total"] = time.perf_counter() - started
        stats = TokenStats(
            text_tokens=text_tokens,
            visual_tokens=entry.visual_tokens,
            prompt_tokens=entry.length + _count(self.engine.tokenizer, suffix_text),
            output_tokens=len(result.token_ids),
            prefill_s=timings["vision"] + timings["prefill_document"] + result.prefill_s,
            decode_s=result.decode_s,
            peak_memory_mb=round(self._peak_memory_mb(), 1),
        )
        return model_answer(
            self.name,
            mode,
            text,
            thinking,
            confidence,
            needs_review,
            pages,
            notes,
            stats=stats,
            timings=timings,
        )

    def close(self) -> None:
        import gc

        self.engine.clear()
        self.engine.model = None
        self.loaded.model = None
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:  # pragma: no cover
            pass


def special_tokens(tokenizer: Any) -> list[str]:
    """Every special / control token of the tokenizer except the thinking tags (dropped from text)."""
    tokens = set(tokenizer.all_special_tokens)
    for added in getattr(tokenizer, "added_tokens_decoder", {}).values():
        if getattr(added, "special", False):
            tokens.add(str(added))
    return sorted(tokens - {"<think>", "</think>"})


def _count(tokenizer: Any, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])

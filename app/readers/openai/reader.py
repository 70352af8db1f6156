"""``OpenAIReader``: Glyph behind any OpenAI-compatible chat-completions server (vLLM, SGLang).

The scale-out path: the pages travel as base64 PNG data URLs, the answer streams back. Reasoning
arrives either as ``reasoning_content`` deltas (vLLM started with a reasoning parser) or as
``<think>…</think>`` inside the content; both end up in ``Answer.thinking``. Token usage comes from
the final usage chunk (``stream_options.include_usage``); the confidence from the answer tokens'
log-probabilities when the server returns them (``logprobs=true``; vLLM does).

Timeouts and retries are the OpenAI SDK's own (``GLYPH_OPENAI_TIMEOUT_S``,
``GLYPH_OPENAI_MAX_RETRIES``: connection errors, timeouts, 408/409/429/5xx are retried with
exponential backoff before any output; a stream that breaks midway is reported, not replayed).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.datamodel import Answer, AnswerChunk, Mode, Note, RenderedDoc, TokenStats
from app.errors import MissingExtraError, ReaderError
from app.readers.base import Reader, ReaderCapabilities, model_answer
from app.readers.openai.messages import chat_messages, reasoning_of
from app.readers.vlm.output import OutputSplitter, split_output
from app.readers.vlm.select import PageSelection, select_pages, visual_budget
from app.settings import Settings

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 10.0


@dataclass
class _Reply:
    """What the server sent back for one request, filled while it streams."""

    select_s: float = 0.0
    sent: float = 0.0
    first: float | None = None
    ended: float = 0.0
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    token_lps: list[tuple[str, float]] = field(default_factory=list)
    usage: Any = None
    finish: str | None = None


def _estimate_text_tokens(text: str) -> int:
    from app.render.tokens import estimate_text_tokens

    return estimate_text_tokens(text)


def _page_tokens(size: tuple[int, int]) -> int:
    from app.render.tokens import visual_tokens

    return visual_tokens(*size)


class OpenAIReader(Reader):
    """A client of an OpenAI-compatible server configured by ``GLYPH_OPENAI_*``."""

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        if not settings.openai_base_url:
            raise ReaderError(
                "No OpenAI-compatible server is configured: set GLYPH_OPENAI_BASE_URL "
                "(e.g. http://vllm:8000/v1).",
                "未配置 OpenAI 兼容服务：请设置 GLYPH_OPENAI_BASE_URL（如 http://vllm:8000/v1）。",
            )
        try:
            import openai
        except ImportError as err:  # pragma: no cover - openai is in the vlm extra
            raise MissingExtraError("vlm", "openai") from err
        self.settings = settings
        self.base_url = settings.openai_base_url.rstrip("/")
        self.model = settings.openai_model
        self._openai = openai
        self.context: int | None = None  # tokens, when the server says (vLLM's max_model_len)
        self.client = openai.OpenAI(
            base_url=self.base_url,
            api_key=settings.openai_api_key,
            timeout=settings.openai_timeout_s,
            max_retries=settings.openai_max_retries,
        )
        self._check_server()

    # --- errors ---------------------------------------------------------------------------------
    def _error(self, err: Exception) -> ReaderError:
        openai = self._openai
        where = f"{self.base_url} (model {self.model})"
        if isinstance(err, openai.APITimeoutError):
            en = (
                f"The server at {where} did not answer within {self.settings.openai_timeout_s:g} s "
                "(GLYPH_OPENAI_TIMEOUT_S)."
            )
            zh = f"服务 {where} 在 {self.settings.openai_timeout_s:g} 秒内没有响应（GLYPH_OPENAI_TIMEOUT_S）。"
        elif isinstance(err, openai.APIConnectionError):
            en = f"Cannot reach the OpenAI-compatible server at {self.base_url}: {err}."
            zh = f"无法连接 OpenAI 兼容服务 {self.base_url}：{err}。"
        elif isinstance(err, openai.AuthenticationError | openai.PermissionDeniedError):
            en = f"The server at {self.base_url} rejected the API key (GLYPH_OPENAI_API_KEY)."
            zh = f"服务 {self.base_url} 拒绝了 API 密钥（GLYPH_OPENAI_API_KEY）。"
        elif isinstance(err, openai.NotFoundError):
            en = f"The server at {self.base_url} does not serve the model {self.model} (GLYPH_OPENAI_MODEL)."
            zh = f"服务 {self.base_url} 没有提供模型 {self.model}（GLYPH_OPENAI_MODEL）。"
        elif isinstance(err, openai.BadRequestError):
            en = (
                f"The server at {where} refused the request: {_server_message(err)}. If the "
                "document is too long for its context, use fewer pages (GLYPH_MAX_VISUAL_TOKENS) "
                "or a coarser render preset."
            )
            zh = (
                f"服务 {where} 拒绝了请求：{_server_message(err)}。若文档超出模型上下文，请减少页数"
                "（GLYPH_MAX_VISUAL_TOKENS）或改用更粗的渲染预设。"
            )
        elif isinstance(err, openai.APIStatusError):
            en = (
                f"The server at {where} failed with HTTP {err.status_code}: {_server_message(err)}."
            )
            zh = f"服务 {where} 返回 HTTP {err.status_code} 错误：{_server_message(err)}。"
        else:
            en = f"The request to {where} failed: {err}."
            zh = f"请求 {where} 失败：{err}。"
        return ReaderError(en, zh, detail=repr(err))

    def _check_server(self) -> None:
        """Fail early (so the app falls back to OCR and says why) when the server is unusable."""
        openai = self._openai
        probe = self.client.with_options(
            timeout=min(PROBE_TIMEOUT_S, self.settings.openai_timeout_s), max_retries=0
        )
        try:
            listed = probe.models.list().data
        except (
            openai.NotFoundError
        ):  # some gateways have no /models: find out at the first question
            log.info("%s has no /models endpoint; not checking the model name", self.base_url)
            return
        except openai.APIError as err:
            raise self._error(err) from err
        served = [m.id for m in listed]
        for item in listed:  # vLLM reports the context length it serves the model with
            if item.id == self.model and isinstance(getattr(item, "max_model_len", None), int):
                self.context = item.max_model_len
        if served and self.model not in served:
            raise ReaderError(
                f"The server at {self.base_url} does not serve {self.model} (GLYPH_OPENAI_MODEL); "
                f"it serves: {', '.join(served)}.",
                f"服务 {self.base_url} 没有提供 {self.model}（GLYPH_OPENAI_MODEL），可用：{', '.join(served)}。",
            )

    @property
    def capabilities(self) -> ReaderCapabilities:
        return ReaderCapabilities(
            thinking=True,
            description=f"OpenAI-compatible server {self.base_url} ({self.model})",
        )

    # --- answering ------------------------------------------------------------------------------
    def _select(self, rendered: RenderedDoc, question: str, mode: Mode) -> PageSelection:
        tokens = [_page_tokens(page.size) for page in rendered.pages]
        budget, limit = visual_budget(
            self.settings.max_visual_tokens, self.context, self.settings.max_new_tokens
        )
        texts = [] if sum(tokens) <= budget else [rendered.page_text(i) for i in range(len(tokens))]
        return select_pages(tokens, texts, question, mode, budget, limit)

    def _confidence(self, tokens: list[tuple[str, float]]) -> tuple[float | None, list[str]]:
        if not tokens:
            return None, []
        splitter = OutputSplitter()
        answer_lp: list[float] = []
        low: list[str] = []
        threshold = math.log(max(self.settings.review_threshold, 1e-6))
        for text, logprob in tokens:
            if "answer" in {kind for kind, _ in splitter.feed(text)}:
                answer_lp.append(logprob)
                if logprob < threshold and text.strip():
                    low.append(text.strip())
        scored = answer_lp or [lp for _, lp in tokens]
        return min(max(math.exp(sum(scored) / len(scored)), 0.0), 1.0), low

    def answer(
        self, rendered: RenderedDoc, question: str, mode: Mode = Mode.QA, *, stream: bool = True
    ) -> Iterator[AnswerChunk]:
        mode = Mode(mode)
        if not rendered.pages:
            raise ReaderError("The document has no rendered pages.", "文档没有渲染出任何页面。")
        if mode is Mode.QA and not question.strip():
            raise ReaderError("Please enter a question.", "请输入问题。")
        started = time.perf_counter()
        selection = self._select(rendered, question, mode)
        notes: list[Note] = []
        if selection.reduced:
            notes.append(selection.note())
            yield AnswerChunk(kind="status", text=selection.note().en, note=selection.note())
        pages = [rendered.pages[p] for p in selection.pages]
        messages = chat_messages(pages, question, mode, document_text=rendered.text)
        if stream:
            sending = Note(
                en=f"Sending {len(pages)} page(s) to {self.base_url}…",
                zh=f"正在把 {len(pages)} 页发送到 {self.base_url}…",
            )
            yield AnswerChunk(kind="status", text=sending.en, note=sending)
        reply = _Reply(select_s=time.perf_counter() - started)
        yield from self._stream(messages, reply, stream)
        answer = self._finish(reply, rendered, selection, mode, notes)
        answer.timings["total"] = round(time.perf_counter() - started, 4)
        yield AnswerChunk(kind="final", answer=answer)

    def _stream(self, messages: list[dict], reply: _Reply, stream: bool) -> Iterator[AnswerChunk]:
        """Send the request and stream the reply's pieces, filling ``reply`` as they come."""
        splitter = OutputSplitter()
        reply.sent = time.perf_counter()
        try:
            response = self.client.chat.completions.create(
                model=self.model,
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
                max_tokens=self.settings.max_new_tokens,
                temperature=0.0,
                logprobs=True,
            )
            for chunk in response:
                if chunk.usage is not None:
                    reply.usage = chunk.usage
                for choice in chunk.choices[:1]:
                    think = reasoning_of(choice.delta)
                    text = choice.delta.content or ""
                    if (think or text) and reply.first is None:
                        reply.first = time.perf_counter()
                    if think:
                        reply.reasoning.append(think)
                        if stream:
                            yield AnswerChunk(kind="thinking", text=think)
                    if text:
                        reply.content.append(text)
                        for kind, piece in splitter.feed(text):
                            if stream:
                                yield AnswerChunk(kind=kind, text=piece)  # type: ignore[arg-type]
                        logprobs = getattr(choice, "logprobs", None)
                        for item in (logprobs.content or []) if logprobs else []:
                            reply.token_lps.append((item.token, float(item.logprob)))
                    reply.finish = choice.finish_reason or reply.finish
        except self._openai.APIError as err:
            raise self._error(err) from err
        if stream:
            for kind, piece in splitter.finish():
                yield AnswerChunk(kind=kind, text=piece)  # type: ignore[arg-type]
        reply.ended = time.perf_counter()
        reply.first = reply.first or reply.ended

    def _finish(
        self,
        reply: _Reply,
        rendered: RenderedDoc,
        selection: PageSelection,
        mode: Mode,
        notes: list[Note],
    ) -> Answer:
        """The reply as an ``Answer``: thinking split off, confidence, notes, stats, timings."""
        content_thinking, text = split_output("".join(reply.content))
        thinking = "\n".join(t for t in ("".join(reply.reasoning).strip(), content_thinking) if t)
        confidence, low = self._confidence(reply.token_lps)
        if confidence is None:
            confidence = 1.0
            notes.append(
                Note(
                    en="The server returned no token log-probabilities: the answer's confidence "
                    "was not measured.",
                    zh="服务未返回 token 概率，未计算置信度。",
                )
            )
        needs_review = confidence < self.settings.review_threshold
        if low and needs_review:
            shown = "; ".join(f"«{frag[:80]}»" for frag in low[:3])
            notes.append(
                Note(en=f"Low-confidence parts of the answer: {shown}", zh=f"低置信度片段：{shown}")
            )
        if reply.finish == "length":
            notes.append(
                Note(
                    en=f"The answer was cut at GLYPH_MAX_NEW_TOKENS={self.settings.max_new_tokens}"
                    " tokens.",
                    zh=f"回答在 {self.settings.max_new_tokens} 个 token 处被截断"
                    "（GLYPH_MAX_NEW_TOKENS）。",
                )
            )
        if selection.reduced:
            text_tokens = _estimate_text_tokens(
                "\n".join(rendered.page_text(p) for p in selection.pages)
            )
        else:
            text_tokens = rendered.stats.text_tokens or _estimate_text_tokens(rendered.text)
        first, ended, sent = reply.first or reply.ended, reply.ended, reply.sent
        timings = {
            "select": reply.select_s,
            "first_token": first - sent,
            "decode": ended - first,
            "request": ended - sent,
        }
        stats = TokenStats(
            text_tokens=text_tokens,
            visual_tokens=selection.selected_tokens,
            prompt_tokens=getattr(reply.usage, "prompt_tokens", None),
            output_tokens=getattr(reply.usage, "completion_tokens", None),
            prefill_s=first - sent,
            decode_s=ended - first,
        )
        return model_answer(
            self.name,
            mode,
            text,
            thinking,
            confidence,
            needs_review,
            selection.pages,
            notes,
            stats=stats,
            timings=timings,
        )

    def close(self) -> None:
        self.client.close()


def _server_message(err: Any) -> str:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
    return str(getattr(err, "message", err))

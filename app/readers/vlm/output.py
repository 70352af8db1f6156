"""Turn GLM-4.1V / Glyph output text into thinking and answer (streamed and final).

The model writes ``<think>reasoning</think><answer>…<|begin_of_box|>result<|end_of_box|>…</answer>``
(the ``<answer>`` and box markers are optional). Special tokens are decoded as text (some
checkpoints mark ``<think>`` as special, so skipping special tokens would lose the split) and
removed here. Used by the in-process VLM and by the OpenAI-compatible reader alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
# Markers removed from the visible text (their content is kept).
STRIP_MARKERS: tuple[str, ...] = (
    "<answer>",
    "</answer>",
    "<|begin_of_box|>",
    "<|end_of_box|>",
)
# GLM-4.1V's control tokens; any of them in the output is a stop token or noise.
CONTROL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|user|>",
    "<|observation|>",
    "<|assistant|>",
    "<|system|>",
    "[gMASK]",
    "[sMASK]",
    "[MASK]",
    "<sop>",
    "<eop>",
    "<|begin_of_image|>",
    "<|end_of_image|>",
    "<|begin_of_video|>",
    "<|end_of_video|>",
    "<|image|>",
    "<|video|>",
)


class OutputSplitter:
    """Incremental splitter: ``feed(delta)`` yields ``(kind, text)`` with kind 'thinking'/'answer'.

    Markers may arrive cut across deltas; text that could be the start of a marker is held back
    until the next delta (or ``finish``) decides.
    """

    def __init__(self, extra_drop: Iterable[str] = (), *, start_in_thinking: bool = False) -> None:
        drop = {*STRIP_MARKERS, *CONTROL_TOKENS, *(t for t in extra_drop if t)}
        drop -= {THINK_OPEN, THINK_CLOSE}
        self._markers = sorted({THINK_OPEN, THINK_CLOSE, *drop}, key=len, reverse=True)
        self._drop = drop
        self._buf = ""
        self.state = "thinking" if start_in_thinking else "answer"
        self.saw_open = start_in_thinking
        self.saw_close = False

    def _held_back(self) -> int:
        """Length of the buffer's longest suffix that is a proper prefix of a marker."""
        best = 0
        for marker in self._markers:
            for n in range(min(len(marker) - 1, len(self._buf)), best, -1):
                if marker.startswith(self._buf[-n:]):
                    best = n
                    break
        return best

    def feed(self, delta: str) -> Iterator[tuple[str, str]]:
        self._buf += delta
        while self._buf:
            hits = [(self._buf.find(m), m) for m in self._markers]
            hits = [(i, m) for i, m in hits if i >= 0]
            if not hits:
                keep = self._held_back()
                emit, self._buf = (
                    self._buf[: len(self._buf) - keep],
                    self._buf[len(self._buf) - keep :],
                )
                if emit:
                    yield self.state, emit
                return
            idx, marker = min(hits, key=lambda h: (h[0], -len(h[1])))
            if idx:
                yield self.state, self._buf[:idx]
            self._buf = self._buf[idx + len(marker) :]
            if marker == THINK_OPEN:
                self.state, self.saw_open = "thinking", True
            elif marker == THINK_CLOSE:
                self.state, self.saw_close = "answer", True

    def finish(self) -> Iterator[tuple[str, str]]:
        rest, self._buf = self._buf, ""
        if rest:
            yield self.state, rest


def split_output(text: str, extra_drop: Iterable[str] = ()) -> tuple[str, str]:
    """(thinking, answer) of a complete output, both stripped.

    A closing ``</think>`` without an opening tag (templates that open the thought in the prompt)
    makes everything before it thinking.
    """
    splitter = OutputSplitter(extra_drop)
    thinking: list[str] = []
    answer: list[str] = []
    pieces = [*splitter.feed(text), *splitter.finish()]
    if splitter.saw_close and not splitter.saw_open:
        close_at = text.find(THINK_CLOSE)
        _, answer_text = split_output(text[close_at + len(THINK_CLOSE) :], extra_drop)
        return visible_text(text[:close_at], extra_drop).strip(), answer_text
    for kind, piece in pieces:
        (thinking if kind == "thinking" else answer).append(piece)
    return "".join(thinking).strip(), "".join(answer).strip()


def visible_text(text: str, extra_drop: Iterable[str] = ()) -> str:
    """``text`` without any marker or control token (thinking and answer together)."""
    splitter = OutputSplitter(extra_drop)
    return "".join(piece for _, piece in [*splitter.feed(text), *splitter.finish()])

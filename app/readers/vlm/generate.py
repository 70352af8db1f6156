"""Decoding: ``model.generate`` streamed through ``TextIteratorStreamer``, with token log-probs.

``stream_generate`` yields text deltas while the model writes and finally one ``Generated``
record (token ids, each token's log-probability, timings). Streaming runs ``generate`` in a worker
thread, as ``TextIteratorStreamer`` is designed for; errors raised there (CUDA out of memory, …)
are re-raised in the caller's thread, and a consumer that stops early cancels decoding.

Log-probabilities come from a logits processor that sees each step's scores and, one step later,
the token that was chosen. It keeps one vocabulary-sized vector instead of every step's logits.
With greedy decoding (the profiles' default) the scores it sees are the model's raw logits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import (
    GenerationConfig,
    LogitsProcessor,
    LogitsProcessorList,
    StoppingCriteria,
    StoppingCriteriaList,
    TextIteratorStreamer,
)

log = logging.getLogger(__name__)


class LogprobRecorder(LogitsProcessor):
    """Records log p(chosen token) per generated token, and when the first scores arrived."""

    def __init__(self) -> None:
        self.logprobs: list[float] = []
        self.first_scores_at: float | None = None
        self._pending: torch.Tensor | None = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.first_scores_at is None:
            self.first_scores_at = time.perf_counter()
        self._take(input_ids[0, -1])
        self._pending = torch.log_softmax(scores[0].float(), dim=-1)
        return scores

    def _take(self, token: torch.Tensor | int) -> None:
        if self._pending is not None:
            self.logprobs.append(float(self._pending[int(token)]))
            self._pending = None

    def finish(self, last_token: int | None) -> None:
        """The last chosen token has no later call: record it from the final sequence."""
        if last_token is not None:
            self._take(last_token)


class CancelCriteria(StoppingCriteria):
    """Stops decoding when ``event`` is set (the consumer went away)."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(
        self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: Any
    ) -> Any:
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool)


@dataclass
class Generated:
    token_ids: list[int]
    logprobs: list[float]
    text: str
    prefill_s: float  # from the call to the first scores: the question's prefill
    decode_s: float
    stopped_on: str = "length"  # eos | length | cancelled
    extra: dict[str, Any] = field(default_factory=dict)


def stop_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """Stop tokens from the checkpoint's generation config (GLM-4.1V: endoftext, user, observation)."""
    eos = model.generation_config.eos_token_id
    ids = [eos] if isinstance(eos, int) else list(eos or [])
    if not ids:
        for token in ("<|endoftext|>", "<|user|>", "<|observation|>"):
            tid = tokenizer.convert_tokens_to_ids(token)
            if isinstance(tid, int) and tid != tokenizer.unk_token_id:
                ids.append(tid)
    return ids


def stream_generate(
    model: Any,
    tokenizer: Any,
    inputs: dict[str, Any],
    *,
    max_new_tokens: int,
    do_sample: bool = False,
    temperature: float | None = None,
    top_p: float | None = None,
    repetition_penalty: float = 1.0,
    stream: bool = True,
) -> Iterator[str | Generated]:
    """Yield text deltas (when ``stream``), then one ``Generated``."""
    stops = stop_token_ids(model, tokenizer)
    recorder = LogprobRecorder()
    cancel = threading.Event()
    config = model.generation_config.to_dict()
    config.update(
        max_new_tokens=max_new_tokens,
        do_sample=do_sample,
        temperature=temperature if do_sample else None,
        top_p=top_p if do_sample else None,
        top_k=None,
        repetition_penalty=repetition_penalty,
        eos_token_id=stops,
        pad_token_id=stops[0] if stops else None,
        return_dict_in_generate=True,
    )
    gen_config = GenerationConfig.from_dict(config)
    kwargs = dict(
        inputs,
        generation_config=gen_config,
        logits_processor=LogitsProcessorList([recorder]),
        stopping_criteria=StoppingCriteriaList([CancelCriteria(cancel)]),
    )
    prompt_len = int(inputs["input_ids"].shape[1])
    started = time.perf_counter()
    output: dict[str, Any] = {}

    def run() -> None:
        try:
            output["result"] = model.generate(**kwargs)
        except BaseException as err:  # re-raised in the consumer's thread
            output["error"] = err
        finally:
            if streamer is not None:
                streamer.end()

    streamer: TextIteratorStreamer | None = None
    worker: threading.Thread | None = None
    try:
        if stream:
            streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=False)
            kwargs["streamer"] = streamer
            worker = threading.Thread(target=run, name="glyph-vlm-generate", daemon=True)
            worker.start()
            for delta in streamer:
                if delta:
                    yield delta
        else:
            run()
    finally:
        cancel.set()  # a consumer that stopped early ends decoding at the next step
        if worker is not None:
            worker.join()  # never leave a thread running on the shared model
    if "error" in output:
        raise output["error"]
    ended = time.perf_counter()
    sequences = output["result"].sequences[0, prompt_len:].tolist()
    recorder.finish(sequences[-1] if sequences else None)
    first = recorder.first_scores_at or ended
    stopped = "eos" if sequences and sequences[-1] in stops else "length"
    if stopped == "eos":  # the stop token is not part of the answer
        sequences = sequences[:-1]
    text = tokenizer.decode(sequences, skip_special_tokens=False)
    yield Generated(
        token_ids=sequences,
        logprobs=recorder.logprobs[: len(sequences)],
        text=text,
        prefill_s=first - started,
        decode_s=ended - first,
        stopped_on=stopped,
    )

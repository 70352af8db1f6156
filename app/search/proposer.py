"""Optional "LLM proposer": a language model suggests the next candidates from the history.

Glyph drives its rendering search with an LLM that reads the configurations tried so far and
their scores and proposes new ones. Here any OpenAI-compatible chat-completions endpoint does
(the server in ``GLYPH_OPENAI_BASE_URL`` by default, e.g. vLLM). The model gets the search space,
the fitness formula and the best and latest evaluations, and must answer with JSON:
``{"candidates": [{"font_size": 8.5, ...}, ...]}`` (a single candidate object or a list is
accepted too). Proposals are snapped onto the search grid; anything unusable — a network error,
prose instead of JSON, unknown choices — is logged and the genetic operators fill the slots, so
the proposer can only add candidates, never stop a search. Off unless asked for.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from app.search.space import Candidate, SearchSpace
from app.settings import Settings

log = logging.getLogger(__name__)

SYSTEM = (
    "You tune how text is typeset into page images that a vision-language model (or OCR) reads. "
    "Smaller text and fewer pixels save visual tokens (higher compression) but become harder to "
    "read (lower accuracy). Propose new render settings likely to score a higher fitness. "
    "Answer with JSON only."
)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)
_THINK = re.compile(r"<think>.*?</think>", re.S)


def parse_candidates(content: str) -> list[dict[str, Any]]:
    """Candidate dicts from a model's reply: bare JSON, a fenced block, or the outermost {...}."""
    text = _THINK.sub("", content or "").strip()
    attempts = [text, *_FENCE.findall(text)]
    for opener, closer in (("{", "}"), ("[", "]")):
        a, b = text.find(opener), text.rfind(closer)
        if 0 <= a < b:
            attempts.append(text[a : b + 1])
    for attempt in attempts:
        try:
            data = json.loads(attempt)
        except (json.JSONDecodeError, TypeError):
            continue
        if isinstance(data, Mapping) and isinstance(data.get("candidates"), list):
            data = data["candidates"]
        if isinstance(data, Mapping):
            data = [data]
        if isinstance(data, list):
            return [dict(c) for c in data if isinstance(c, Mapping)]
    return []


class LlmProposer:
    """Asks a chat model for candidates; returns ``[]`` (and logs why) whenever it cannot."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "EMPTY",
        *,
        timeout_s: float = 120.0,
        temperature: float = 0.7,
        max_history: int = 24,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.temperature = temperature
        self.max_history = max_history
        self.calls = 0
        self.failures = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, *, base_url: str | None = None, model: str | None = None
    ) -> LlmProposer:
        url = base_url or settings.openai_base_url
        if not url:
            from app.errors import ConfigError

            raise ConfigError(
                "The LLM proposer needs an OpenAI-compatible server: set GLYPH_OPENAI_BASE_URL "
                "or pass --proposer-url.",
                "LLM 提议器需要 OpenAI 兼容服务：请设置 GLYPH_OPENAI_BASE_URL 或使用 --proposer-url。",
            )
        return cls(
            url,
            model or settings.openai_model,
            settings.openai_api_key,
            timeout_s=settings.openai_timeout_s,
        )

    def prompt(
        self, space: SearchSpace, history: Sequence[Mapping[str, Any]], n: int, weights: str
    ) -> str:
        """The user message: space, fitness, best and most recent evaluations, the request."""
        ranked = sorted(history, key=lambda h: -float(h.get("fitness", 0.0)))
        half = max(1, self.max_history // 2)
        shown: list[Mapping[str, Any]] = []
        for h in [*ranked[:half], *list(history)[-half:]]:
            if h not in shown:
                shown.append(h)
        rows = [
            {
                "genes": h["genes"],
                "fitness": round(float(h.get("fitness", 0.0)), 4),
                "accuracy": round(float(h.get("accuracy", 0.0)), 4),
                "compression": round(float(h.get("compression", 0.0)), 3),
            }
            for h in shown
        ]
        return (
            f"Search space (numbers on a grid low..high by step; or one of the choices):\n"
            f"{json.dumps(space.describe(), ensure_ascii=False)}\n"
            f"line_spacing is line height / font size.\n"
            f"Fitness = {weights}; compression = text tokens / visual tokens.\n"
            f"Evaluated so far (best first, then the latest):\n"
            f"{json.dumps(rows, ensure_ascii=False)}\n"
            f"Propose {n} new candidates, different from those above, as JSON: "
            f'{{"candidates": [{{"<gene>": <value>, ...}}, ...]}}'
        )

    def _chat(self, content: str) -> str:
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": content},
            ],
            "temperature": self.temperature,
            "max_tokens": 2048,
            "stream": False,
        }
        request = urllib.request.Request(
            self.url,
            data=json.dumps(body).encode("utf-8"),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.api_key}",
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            data = json.loads(response.read().decode("utf-8"))
        message = data["choices"][0]["message"]
        return message.get("content") or ""

    def propose(
        self,
        space: SearchSpace,
        history: Sequence[Mapping[str, Any]],
        n: int,
        weights: str = "accuracy x compression",
    ) -> list[Candidate]:
        """Up to ``n`` candidates on the grid of ``space`` (possibly fewer, possibly none)."""
        if n <= 0:
            return []
        self.calls += 1
        try:
            content = self._chat(self.prompt(space, history, n, weights))
        except (OSError, urllib.error.URLError, ValueError, KeyError, IndexError, TypeError) as err:
            self.failures += 1
            log.warning("LLM proposer at %s failed (%s); using genetic candidates", self.url, err)
            return []
        out: list[Candidate] = []
        for raw in parse_candidates(content):
            known = {k: v for k, v in raw.items() if k in space.names}
            if not known:
                continue
            try:
                cand = space.snap(known)
            except (ValueError, TypeError) as err:
                log.info("LLM proposal %s skipped: %s", raw, err)
                continue
            if space.valid(cand) and space.key(cand) not in {space.key(c) for c in out}:
                out.append(cand)
        if not out:
            self.failures += 1
            log.warning("LLM proposer gave no usable candidate; reply was: %.300s", content)
        return out[:n]

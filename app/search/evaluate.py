"""Evaluating one render config: reader accuracy on the validation set and its compression.

``ReaderEvaluator`` renders every validation text at the config, asks the reader each question
and scores the answers; compression is the validation texts' estimated text tokens divided by the
visual tokens of their pages (the same figure the UI shows). Any ``Reader`` works: the built-in
OCR reader (default, CPU), the in-process VLM or an OpenAI-compatible server
(``make_evaluator``).

Results are cached on disk under a key of the evaluator's identity, the dataset hash and the
config fingerprint, so a resumed or repeated search never reads the same pages twice. Fitness is
*not* cached: it is computed from accuracy and compression with the current weights.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from app.datamodel import RenderConfig
from app.errors import GlyphError
from app.files import atomic_write_json
from app.readers.base import Reader, final_answer
from app.search.dataset import ValidationItem, dataset_hash, score_answer
from app.settings import Settings

log = logging.getLogger(__name__)

CACHE_FORMAT = 1


@dataclass
class EvalResult:
    """What one config scored on the validation set."""

    accuracy: float = 0.0
    compression: float = 0.0
    correct: int = 0
    questions: int = 0
    text_tokens: int = 0
    visual_tokens: int = 0
    pages: int = 0
    seconds: float = 0.0
    error: str | None = None
    reader_errors: int = 0  # questions the reader failed on (not cached: may be transient)
    answers: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> EvalResult:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class FitnessWeights:
    """fitness = accuracy ** accuracy_weight × compression ** compression_weight."""

    accuracy: float = 1.0
    compression: float = 0.5

    def __call__(self, result: EvalResult) -> float:
        if result.error:
            return 0.0
        acc, comp = max(result.accuracy, 0.0), max(result.compression, 0.0)
        return float(acc**self.accuracy * comp**self.compression)


class Evaluator(Protocol):
    """Scores one config on the validation items. ``id`` names it in cache keys."""

    id: str

    def evaluate(self, config: RenderConfig, items: Sequence[ValidationItem]) -> EvalResult: ...


class ReaderEvaluator:
    """Accuracy of a ``Reader`` on pages rendered at the config."""

    def __init__(self, reader: Reader, evaluator_id: str) -> None:
        self.reader = reader
        self.id = evaluator_id

    def evaluate(self, config: RenderConfig, items: Sequence[ValidationItem]) -> EvalResult:
        from app.render import render

        started = time.perf_counter()
        result = EvalResult(questions=len(items))
        rendered_by_text: dict[str, object] = {}
        correct = 0.0
        for item in items:
            rendered = rendered_by_text.get(item.text)
            if rendered is None:
                try:
                    rendered = render(item.text, config, name=item.name)
                except GlyphError as err:
                    result.error = f"render: {err.en}"
                    break
                rendered_by_text[item.text] = rendered
                result.text_tokens += rendered.stats.text_tokens
                result.visual_tokens += rendered.stats.visual_tokens
                result.pages += len(rendered.pages)
            try:
                chunks = self.reader.answer(rendered, item.question, stream=False)  # type: ignore[union-attr]
                answer = final_answer(chunks).text
            except GlyphError as err:
                log.warning("reader failed on %r: %s", item.question, err.detail or err)
                result.reader_errors += 1
                answer = ""
            result.answers.append(answer)
            correct += score_answer(answer, item.answers)
        result.correct = int(correct)
        result.accuracy = correct / len(items) if items and not result.error else 0.0
        if result.visual_tokens and not result.error:
            result.compression = result.text_tokens / result.visual_tokens
        result.seconds = time.perf_counter() - started
        return result

    def close(self) -> None:
        self.reader.close()


def make_evaluator(name: str, settings: Settings) -> ReaderEvaluator:
    """The reader ``name`` ('ocr', 'vlm' or 'openai') wrapped as an evaluator."""
    from app.readers import load_reader

    reader = load_reader(name, settings)
    if hasattr(reader, "reuse_reads"):
        reader.reuse_reads = False  # every config is judged on its own pixels
    if name == "ocr":
        engine = getattr(reader, "engine", None)
        ident = f"ocr:{settings.ocr_engine}:{getattr(engine, 'version', '?')}"
    elif name == "vlm":
        ident = f"vlm:{settings.model}:{settings.model_profile}:{settings.max_new_tokens}"
    else:
        ident = f"openai:{settings.openai_base_url}:{settings.openai_model}"
    return ReaderEvaluator(reader, ident)


class EvalCache:
    """Evaluations on disk: ``root/<key[:2]>/<key>.json``, written atomically."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(evaluator_id: str, data_hash: str, config: RenderConfig) -> str:
        blob = f"{CACHE_FORMAT}\0{evaluator_id}\0{data_hash}\0{config.fingerprint()}"
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def _path(self, key: str) -> Path | None:
        return None if self.root is None else self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> EvalResult | None:
        path = self._path(key)
        if path is None or not path.is_file():
            self.misses += 1
            return None
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.get("format") != CACHE_FORMAT or data.get("key") != key:
                raise ValueError("stale or foreign entry")
            result = EvalResult.from_json(data["result"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("search cache entry %s unreadable (%s); evaluating again", path, err)
            self.misses += 1
            return None
        self.hits += 1
        return result

    def put(self, key: str, result: EvalResult) -> None:
        path = self._path(key)
        if path is None:
            return
        payload = {"format": CACHE_FORMAT, "key": key, "result": result.to_json()}
        try:
            atomic_write_json(path, payload, durable=False, mode=0o600, indent=None)
        except OSError as err:  # a full disk costs time, not the search
            log.warning("cannot write search cache entry %s: %s", path, err)


def cached_evaluate(
    evaluator: Evaluator,
    config: RenderConfig,
    items: Sequence[ValidationItem],
    cache: EvalCache,
    data_hash: str | None = None,
) -> tuple[EvalResult, bool]:
    """(result, came from the cache)."""
    key = EvalCache.key(evaluator.id, data_hash or dataset_hash(items), config)
    hit = cache.get(key)
    if hit is not None:
        return hit, True
    result = evaluator.evaluate(config, items)
    if not result.reader_errors:
        cache.put(key, result)
    return result, False

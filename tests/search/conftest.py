"""Fixtures of the rendering-search tests: a small synthetic validation set and a cheap
evaluator stand-in used ONLY to test the genetic machinery (the real OCR evaluator is tested in
test_search_ocr.py)."""

from __future__ import annotations

import json

import pytest

from app.datamodel import RenderConfig
from app.render import render, resolve_config
from app.search import EvalResult, SearchSpace, ValidationItem, default_genes

FACTS = [
    ("The delivery code for the north warehouse is 58213.", "delivery code", "58213"),
    ("The invoice total for March was 4120 dollars.", "invoice total for March", "4120"),
    ("Staff meetings happen every Tuesday at nine.", "staff meetings", "every Tuesday"),
    ("The backup server is named Falcon.", "backup server", "Falcon"),
]


def synthetic_items() -> list[ValidationItem]:
    """One short document, one question per fact."""
    text = " ".join(f for f, _, _ in FACTS)
    questions = [
        "What is the delivery code for the north warehouse?",
        "What was the invoice total for March?",
        "When do staff meetings happen?",
        "What is the backup server named?",
    ]
    return [
        ValidationItem(text, q, (a,), "facts")
        for q, (_, _, a) in zip(questions, FACTS, strict=True)
    ]


def write_jsonl(path, items) -> None:
    path.write_text(
        "\n".join(
            json.dumps({"text": i.text, "question": i.question, "answer": i.answers[0]})
            for i in items
        )
        + "\n",
        encoding="utf-8",
    )


class LegibilityStandIn:
    """Pretends a reader answers question i when glyphs are at least 7 + i pixels tall and the
    text is left-aligned or justified. Compression comes from a real render. A stand-in for the
    genetic-search mechanics only: it is cheap and fully deterministic."""

    id = "stand-in:legibility:1"

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls = 0
        self.fail_after = fail_after

    def evaluate(self, config: RenderConfig, items) -> EvalResult:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("simulated interruption")
        self.calls += 1
        pixels = config.font_size * config.dpi / 72
        rendered = render(items[0].text, config)
        aligned = config.alignment in ("LEFT", "JUSTIFY")
        correct = sum(1 for i in range(len(items)) if aligned and pixels >= 7 + i)
        return EvalResult(
            accuracy=correct / len(items),
            compression=rendered.stats.compression_ratio,
            correct=correct,
            questions=len(items),
            text_tokens=rendered.stats.text_tokens,
            visual_tokens=rendered.stats.visual_tokens,
            pages=len(rendered.pages),
        )


def small_space(name: str = "searched") -> SearchSpace:
    """The default genes over a small page (cheap renders, cheap OCR)."""
    base = resolve_config("en", page_size=(320, 160), margin_x=6, margin_y=6)
    return SearchSpace(base, default_genes(), name=name)


@pytest.fixture
def items():
    return synthetic_items()


@pytest.fixture
def space():
    return small_space()

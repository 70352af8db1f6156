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
    ("The delivery code for the north warehouse is 58213.", "58213"),
    ("The invoice total for March was 4120 dollars.", "4120"),
    ("Staff meetings happen every Tuesday at nine.", "every Tuesday"),
    ("The backup server is named Falcon.", "Falcon"),
]
QUESTIONS = [
    "What is the delivery code for the north warehouse?",
    "What was the invoice total for March?",
    "When do staff meetings happen?",
    "What is the backup server named?",
]
FILLER = [
    "The lobby plants are watered by the front desk team.",
    "Visitors sign in at the reception and wear a badge.",
    "The printer on the second floor prints double sided by default.",
    "Coffee beans are ordered from a local roaster each month.",
    "The parking garage closes at midnight on weekdays.",
    "Old laptops are wiped and donated to the school nearby.",
    "The fire drill takes place twice a year in spring and autumn.",
    "Team lunches are announced on the notice board in the kitchen.",
]


def synthetic_items() -> list[ValidationItem]:
    """One memo of about 700 characters (facts among filler), one question per fact."""
    sentences = []
    for i, (fact, _) in enumerate(FACTS):
        sentences += [FILLER[2 * i], fact, FILLER[2 * i + 1]]
    text = " ".join(sentences)
    return [
        ValidationItem(text, q, (a,), "memo") for q, (_, a) in zip(QUESTIONS, FACTS, strict=True)
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

    def close(self) -> None:
        pass


def small_space(name: str = "searched") -> SearchSpace:
    """The default genes over a small page (cheap renders, cheap OCR)."""
    base = resolve_config("en", page_size=(320, 240), margin_x=6, margin_y=6)
    return SearchSpace(base, default_genes(), name=name)


@pytest.fixture
def items():
    return synthetic_items()


@pytest.fixture
def space():
    return small_space()

"""A job's question through the pipeline: the answer (status lines mapped to progress) and its
record with evidence images, shared by single questions and batches."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.datamodel import Answer, Mode, RenderedDoc
from app.errors import GlyphError
from app.jobs.files import atomic_save_png

if TYPE_CHECKING:
    from app.pipeline import Pipeline

Progress = Callable[[float, str], None]


_PAGE_OF = re.compile(r"(\d+)\s*/\s*(\d+)")


def ask_rendered(
    pipeline: Pipeline,
    rendered: RenderedDoc,
    question: str,
    mode: Mode,
    reader: str | None,
    progress: Progress,
    span: tuple[float, float] = (0.3, 0.9),
    coarse_to_fine: bool | None = None,
) -> Answer:
    """Run the reader to its final answer, mapping its status lines ("OCR page 3/12") to progress."""
    lo, hi = span
    final: Answer | None = None
    # the pipeline takes its reader lock: one question at a time with the UI's
    chunks = pipeline.ask(
        rendered,
        question,
        mode,
        reader=reader,
        stream=False,
        coarse_to_fine=coarse_to_fine,
        interactive=False,  # waits while questions from the UI wait, and pauses for them
    )
    for chunk in chunks:
        if chunk.kind == "status":
            match = _PAGE_OF.search(chunk.text)
            frac = int(match[1]) / max(1, int(match[2])) if match else 0.0
            progress(lo + (hi - lo) * min(1.0, frac), chunk.text)
        elif chunk.kind == "final":
            final = chunk.answer
    if final is None:
        raise GlyphError("The reader gave no answer.", "阅读器未给出答案。")
    return final


def save_answer(
    answer: Answer, question: str, rendered: RenderedDoc, out_dir: Path, prefix: str = "evidence"
) -> tuple[dict[str, Any], list[Path]]:
    """Evidence PNGs (atomically) under ``out_dir``; returns the answer record and the PNGs."""
    from app.evidence import annotate_pages
    from app.report import answer_record

    paths: dict[int, Path] = {}
    for page, image in annotate_pages(rendered, answer.shown_evidence).items():
        paths[page] = atomic_save_png(out_dir / f"{prefix}-page{page + 1:03d}.png", image)
    for ev in answer.shown_evidence:
        if ev.page in paths:
            ev.image_path = str(paths[ev.page])
    return answer_record(answer, question, rendered), sorted(paths.values())

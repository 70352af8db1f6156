"""``python -m app ask FILE QUESTION [--mode qa|summary|extract] [--reader R] [--config C] [--json]``.

Opens the file (or stdin for '-'), renders it, asks the reader and prints the answer with its
confidence, the review flag, the evidence (page, red boxes, annotated page image written under
``--out`` or a temporary folder), token statistics and timings. Progress lines ("OCR page 3/12")
go to stderr as they happen unless ``--json``, which prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import typer

from app.datamodel import Answer, Mode
from app.errors import GlyphError
from app.report import REVIEW_LABEL, answer_record


def _mode(mode: str) -> Mode:
    try:
        return Mode(mode.lower())
    except ValueError:
        raise GlyphError(
            f"Unknown mode '{mode}'. Choose qa, summary or extract.",
            f"未知的模式 '{mode}'，可选 qa、summary 或 extract。",
        ) from None


def ask_command(
    file: str,
    question: str,
    *,
    mode: str = "qa",
    reader: str | None = None,
    config: str = "auto",
    as_json: bool = False,
    out: Path | None = None,
) -> None:
    """Run one question end to end and print the result (see the module docstring)."""
    from app.evidence import save_annotated, save_annotated_sources
    from app.pipeline import Pipeline, question_for

    chosen = _mode(mode)
    if chosen is Mode.QA and not question.strip():
        raise GlyphError("Please give a question.", "请输入问题。")
    question = question_for(chosen, question)

    def status(line: str) -> None:
        if not as_json:
            typer.echo(f"… {line}", err=True)

    pipeline = Pipeline()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    if file == "-":
        doc = pipeline.open_document(sys.stdin.buffer.read(), name="stdin.txt")
    else:
        doc = pipeline.open_document(file)
    timings["open"] = time.perf_counter() - started
    for note in doc.notes:
        status(f"note: {note.en}")
    t0 = time.perf_counter()
    rendered = pipeline.render(doc, config)
    timings["render"] = time.perf_counter() - t0
    status(f"rendered {len(rendered.pages)} page(s) at config '{rendered.config.name}'")
    t0 = time.perf_counter()
    final: Answer | None = None
    for chunk in pipeline.ask(rendered, question, chosen, reader=reader):
        if chunk.kind == "status":
            status(chunk.text)
        elif chunk.kind == "final":
            final = chunk.answer
    if final is None:  # every reader ends with a final chunk; guard the CLI anyway
        raise GlyphError("The reader gave no answer.", "阅读器未给出答案。")
    timings["ask"] = time.perf_counter() - t0
    for key, value in final.timings.items():
        timings.setdefault(f"reader_{key}" if key in timings else key, value)
    out_dir = out if out is not None else Path(tempfile.mkdtemp(prefix="glyph-ask-"))
    if final.evidence:
        save_annotated(rendered, final.evidence, out_dir)
        if doc.format == "pdf":  # the same boxes on the user's own PDF pages
            from app.ingest.store import find_original

            original = find_original(doc, pipeline.settings)
            if original is not None:
                save_annotated_sources(original, final.evidence, out_dir)
    timings["total"] = time.perf_counter() - started
    data = answer_record(final, question, rendered, file=file, timings=timings)
    pipeline.close()
    if as_json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    _print_text(data)


def _print_text(data: dict[str, Any]) -> None:
    echo = typer.echo
    echo(
        f"answer: {data['answer']}"
        if data["mode"] == "qa"
        else f"{data['mode']}:\n{data['answer']}"
    )
    review = f" — {REVIEW_LABEL}" if data["needs_review"] else ""
    echo(f"confidence: {data['confidence']:.2f}{review}  (reader: {data['reader']})")
    if data["evidence"]:
        echo("evidence:")
    for ev in data["evidence"]:
        boxes = ", ".join("[" + ", ".join(f"{v:g}" for v in box) + "]" for box in ev["boxes"])
        label = f"{ev['label']}: " if ev["label"] else ""
        echo(f"  page {ev['page_number']}: {label}{ev['text'][:80]!r}")
        echo(f"    boxes {boxes}")
        if ev["source_page"] is not None:
            echo(f"    original page {ev['source_page_number']}: {ev['source_boxes']}")
            if ev["source_image"]:
                echo(f"    original image {ev['source_image']}")
        if ev["image"]:
            echo(f"    image {ev['image']}")
    doc = data["document"]
    echo(
        f"tokens: {doc['visual_tokens']} visual for ~{doc['text_tokens']} text "
        f"({doc['compression_ratio']:.2f}x), {doc['pages']} page(s) at '{doc['config']}'"
    )
    echo("timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in data["timings"].items()))
    for note in data["notes"]:
        echo(f"note: {note['en']}")

"""An answer as a portable record: JSON for machines, Markdown for people.

Used by the UI's downloads, the CLI's ``--json`` and the job store, so all three agree.
"""

from __future__ import annotations

import json
from typing import Any

from app.datamodel import Answer, RenderedDoc


def answer_record(answer: Answer, question: str, rendered: RenderedDoc | None = None) -> dict:
    """A JSON-serialisable dict: question, answer, confidence, evidence, stats, document."""
    record: dict[str, Any] = {
        "question": question,
        "mode": answer.mode.value,
        "answer": answer.text,
        "thinking": answer.thinking,
        "reader": answer.reader,
        "confidence": answer.confidence,
        "needs_review": answer.needs_review,
        "evidence": [
            {
                "page": ev.page + 1,
                "boxes": [[round(v, 1) for v in box] for box in ev.boxes],
                "text": ev.span.text,
                "start": ev.span.start,
                "end": ev.span.end,
                "label": ev.span.label,
                "confidence": ev.confidence,
                "needs_review": ev.needs_review,
                "source_page": None if ev.source_page is None else ev.source_page + 1,
                "source_boxes": [[round(v, 1) for v in box] for box in ev.source_boxes],
                "image_path": ev.image_path,
            }
            for ev in answer.evidence
        ],
        "stats": {
            **answer.stats.model_dump(exclude_none=True),
            "compression_ratio": round(answer.stats.compression_ratio, 3),
        },
        "timings": {k: round(v, 4) for k, v in answer.timings.items()},
        "pages_read": [p + 1 for p in answer.pages_read],
        "fine_pages": [p + 1 for p in answer.fine_pages],
        "notes": answer.notes,
    }
    if rendered is not None:
        record["document"] = {
            "name": rendered.name,
            "pages": len(rendered.pages),
            "config": rendered.config.name,
            "dpi": rendered.config.dpi,
            "text_tokens": rendered.stats.text_tokens,
            "visual_tokens": rendered.stats.visual_tokens,
            "compression_ratio": round(rendered.stats.compression_ratio, 3),
        }
    return record


def answer_json(answer: Answer, question: str, rendered: RenderedDoc | None = None) -> str:
    return json.dumps(answer_record(answer, question, rendered), ensure_ascii=False, indent=2)


def answer_markdown(answer: Answer, question: str, rendered: RenderedDoc | None = None) -> str:
    """A readable report. Document text is quoted, never interpreted as HTML."""
    rec = answer_record(answer, question, rendered)
    lines = [f"# {rec['mode'].upper()}: {question}", "", "## Answer", "", answer.text, ""]
    review = " — **needs review (需人工确认)**" if answer.needs_review else ""
    lines += [f"Confidence: {answer.confidence:.0%}{review} · reader: {answer.reader}", ""]
    if answer.thinking:
        lines += ["<details><summary>Thinking</summary>", "", answer.thinking, "", "</details>", ""]
    if rec["evidence"]:
        lines += ["## Evidence", ""]
        for ev in rec["evidence"]:
            where = f"page {ev['page']}"
            if ev["source_page"]:
                where += f" (original page {ev['source_page']})"
            quoted = ev["text"].replace("\n", " ").strip()
            lines.append(f"- {where}: “{quoted}”")
        lines.append("")
    if "document" in rec:
        d = rec["document"]
        lines += [
            "## Document",
            "",
            f"{d['name']} · {d['pages']} pages · {d['text_tokens']:,} text tokens → "
            f"{d['visual_tokens']:,} visual tokens ({d['compression_ratio']:.1f}×)",
            "",
        ]
    return "\n".join(lines)

"""An answer as a portable record: JSON for machines, Markdown for people.

Used by the UI's downloads, the CLI's ``--json`` and the job store, so all three agree.
"""

from __future__ import annotations

import json
from typing import Any

from app.datamodel import Answer, Evidence, RenderedDoc
from app.markup import md_block, md_inline, percent

REVIEW_LABEL = "需人工确认 / needs review"

SCHEMA = 2
"""Version of the record's shape. Pages: ``page`` (and ``source_page``, ``pages_read``,
``fine_pages``) are 0-based indexes for code; ``page_number`` (``source_page_number``,
``page_numbers_read``, ``fine_page_numbers``) the 1-based numbers people read. ``checks``: the
answer's values looked up in the document (``value``, ``status`` exact/near/absent,
``document_value``, ``start``/``end``, ``page``, ``page_number``). Evidence items name their
``document`` and its own ``document_page_number`` (a collection of several documents numbers its
pages one after another in ``source_page``). ``closest`` (added within version 2; absent in older
records): a not-found answer's closest passage, items shaped like evidence, where a person should
look; it supports nothing."""


def _number(index: int | None) -> int | None:
    return None if index is None else index + 1


def _evidence(items: list[Evidence]) -> list[dict[str, Any]]:
    return [
        {
            "page": ev.page,
            "page_number": ev.page + 1,
            "boxes": [[round(v, 1) for v in box] for box in ev.boxes],
            "text": ev.span.text,
            "start": ev.span.start,
            "end": ev.span.end,
            "label": ev.span.label,
            "confidence": round(ev.confidence, 4),
            "needs_review": ev.needs_review,
            "source_page": ev.source_page,
            "source_page_number": _number(ev.source_page),
            "document": ev.document,
            "document_page_number": _number(ev.document_page),
            "source_boxes": [[round(v, 2) for v in box] for box in ev.source_boxes],
            "image": ev.image_path,
            "source_image": ev.source_image_path,
        }
        for ev in items
    ]


def answer_record(
    answer: Answer,
    question: str,
    rendered: RenderedDoc | None = None,
    *,
    file: str | None = None,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The one JSON-serialisable shape of an answer: ``ask --json``, the UI's downloads, job
    results and batch output all write it."""
    record: dict[str, Any] = {
        "schema": SCHEMA,
        "question": question,
        "mode": answer.mode.value,
        "answer": answer.text,
        "found": answer.found,
        "thinking": answer.thinking,
        "reader": answer.reader,
        "confidence": round(answer.confidence, 4),
        "needs_review": answer.needs_review,
        "review": REVIEW_LABEL if answer.needs_review else "",
        "evidence": _evidence(answer.evidence),
        # a not-found answer: the passage nearest the question, where to look (not evidence)
        "closest": _evidence(answer.closest_evidence),
        "stats": {
            **answer.stats.model_dump(exclude_none=True),
            "compression_ratio": round(answer.stats.compression_ratio, 3),
        },
        "timings": {k: round(v, 4) for k, v in (timings or answer.timings).items()},
        "pages_read": list(answer.pages_read),
        "page_numbers_read": [p + 1 for p in answer.pages_read],
        "fine_pages": list(answer.fine_pages),
        "fine_page_numbers": [p + 1 for p in answer.fine_pages],
        "notes": [note.model_dump() for note in answer.notes],
        "checks": [check.model_dump() for check in answer.checks],
    }
    if file is not None:
        record["file"] = file
    if rendered is not None:
        parts = rendered.document.parts() if rendered.document is not None else []
        record["document"] = {
            "name": rendered.name,
            "pages": len(rendered.pages),
            "source_pages": len(rendered.document.pages) if rendered.document else None,
            "config": rendered.config.name,
            "dpi": rendered.config.dpi,
            "text_tokens": rendered.stats.text_tokens,
            "visual_tokens": rendered.stats.visual_tokens,
            "compression_ratio": round(rendered.stats.compression_ratio, 3),
            "documents": max(1, len(parts)),
            # what ingest said of the document (a collection: the files it left out)
            "notes": [n.model_dump() for n in rendered.document.notes] if rendered.document else [],
        }
        if len(parts) > 1:
            record["document"]["parts"] = [
                {"name": p.name, "format": p.format, "pages": p.pages} for p in parts
            ]
    return record


def answer_json(answer: Answer, question: str, rendered: RenderedDoc | None = None) -> str:
    return json.dumps(answer_record(answer, question, rendered), ensure_ascii=False, indent=2)


def _failed_checks(checks: list[dict[str, Any]]) -> list[str]:
    """Markdown lines for the answer's values the document does not have as written."""
    failed = [c for c in checks if c["status"] != "exact"]
    if not failed:
        return []
    lines = ["## Values not found as written / 与文档不符的值", ""]
    for check in failed:
        value = md_inline(check["value"])
        if check["status"] == "absent" or check["document_value"] is None:
            lines.append(f"- “{value}”: not in the document / 文档中没有")
            continue
        page = f" (page {check['page_number']})" if check["page_number"] else ""
        theirs = md_inline(check["document_value"])
        lines.append(f"- “{value}”: the document says “{theirs}”{page} / 文档中为 “{theirs}”")
    return [*lines, ""]


def _places_markdown(rec: dict[str, Any], items: list[dict[str, Any]]) -> list[str]:
    """One Markdown line per cited place: where (page, original page, document), what."""
    lines = []
    for ev in items:
        where = f"page {ev['page_number']}"
        own = ev["document_page_number"] or ev["source_page_number"]
        if own:
            where += f" (original page {own})"
        if rec.get("document", {}).get("documents", 1) > 1 and ev["document"]:
            where = f"{md_inline(ev['document'])}, {where}"
        lines.append(f"- {where}: “{md_inline(ev['text'])}”")
    return lines


def answer_markdown(answer: Answer, question: str, rendered: RenderedDoc | None = None) -> str:
    """A readable report. Every string from the user, the document or a reader (question,
    answer, thinking, quotes, names) is escaped (``app.markup``): shown as written, never
    interpreted as HTML or as Markdown links and images."""
    rec = answer_record(answer, question, rendered)
    heading = f"# {rec['mode'].upper()}: {md_inline(question)}"
    lines = [heading, "", "## Answer", "", md_block(answer.text), ""]
    review = f" — **{REVIEW_LABEL}**" if answer.needs_review else ""
    reader = md_inline(answer.reader)
    lines += [f"Confidence: {percent(answer.confidence)}{review} · reader: {reader}", ""]
    if answer.thinking:
        thinking = md_block(answer.thinking)
        lines += ["<details><summary>Thinking</summary>", "", thinking, "", "</details>", ""]
    if rec["evidence"]:
        lines += ["## Evidence", "", *_places_markdown(rec, rec["evidence"]), ""]
    elif rec["closest"]:
        lines += ["## Closest passage, not an answer / 最接近的段落（并非答案）", ""]
        lines += [*_places_markdown(rec, rec["closest"][:1]), ""]
    lines += _failed_checks(rec["checks"])
    if "document" in rec:
        d = rec["document"]
        lines += [
            "## Document",
            "",
            f"{md_inline(d['name'])} · {d['pages']} pages · {d['text_tokens']:,} text tokens → "
            f"{d['visual_tokens']:,} visual tokens ({d['compression_ratio']:.1f}×)",
            "",
        ]
    return "\n".join(lines)

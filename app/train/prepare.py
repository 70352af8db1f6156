"""Rendering a training / evaluation JSONL ahead of time (``scripts/render_text.py`` on QA rows).

Rows given as ``text`` or ``path`` are rendered once per distinct document by the batch renderer
(``app.render.batch.run_batch``: workers, progress bar, resume) into ``OUT/docs/<doc-id>/``, and
``OUT/<name>.jsonl`` is written with the same rows pointing at the page images::

    {"id": …, "image_paths": ["docs/doc-…/page_001.png", …], "doc_dir": "docs/doc-…",
     "question": …, "answer": …}

(paths relative to the new JSONL). ``doc_dir`` keeps the layout map and text next to the pages, so
the auxiliary OCR task still works on pre-rendered rows. Image rows are copied with their paths
made relative to the new file. Rows whose document failed to render are left out and counted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from app.render.batch import MANIFEST
from app.train.data import Row, read_rows

log = logging.getLogger(__name__)

DOCS = "docs"


def doc_id(row: Row) -> str:
    return "doc-" + hashlib.sha1(row.doc_key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _row_record(row: Row) -> dict[str, Any]:
    record: dict[str, Any] = {"id": row.id, "question": row.question}
    if row.answers:
        record["answer"] = row.answers[0]
        if len(row.answers) > 1:
            record["answers"] = row.answers
    if row.thinking:
        record["thinking"] = row.thinking
    if row.lang:
        record["lang"] = row.lang
    if row.mode != "qa":
        record["mode"] = row.mode
    return record


def _latest_manifest(path: Path) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            entries[str(entry.get("id"))] = entry
    return entries


def render_rows(
    source: Path,
    out: Path,
    *,
    config: str = "auto",
    overrides: dict[str, Any] | None = None,
    workers: int = 1,
    resume: bool = True,
    progress: bool = True,
    need_answer: bool = True,
) -> dict[str, Any]:
    """Render ``source``'s text/path rows; write ``OUT/<source name>`` with image paths."""
    from app.render.batch import run_batch

    rows = read_rows(source, need_answer=need_answer)
    out.mkdir(parents=True, exist_ok=True)
    docs_in = out / "docs.jsonl"
    seen: set[str] = set()
    with docs_in.open("w", encoding="utf-8") as fh:
        for row in rows:
            if row.images or doc_id(row) in seen:
                continue
            seen.add(doc_id(row))
            item = {"id": doc_id(row), "name": row.id}
            if row.text is not None:
                item["text"] = row.text
            else:
                item["path"] = str(row.path)
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    counts = {"ok": 0, "error": 0, "skipped": 0}
    if seen:
        counts = run_batch(
            docs_in,
            out / DOCS,
            config=config,
            overrides=overrides,
            workers=workers,
            resume=resume,
            progress=progress,
        )
    manifest = _latest_manifest(out / DOCS / MANIFEST)
    target = out / source.name
    if target.resolve() == source.resolve():  # never overwrite the input
        target = out / f"{source.stem}.rendered.jsonl"
    written = failed = 0
    with target.open("w", encoding="utf-8") as fh:
        for row in rows:
            record = _row_record(row)
            if row.images:
                record["image_paths"] = [os.path.relpath(p.resolve(), out) for p in row.images]
            else:
                entry = manifest.get(doc_id(row), {})
                if entry.get("status") != "ok":
                    failed += 1
                    log.warning("row %s left out: %s", row.id, entry.get("error", "not rendered"))
                    continue
                record["image_paths"] = [f"{DOCS}/{page}" for page in entry["pages"]]
                record["doc_dir"] = f"{DOCS}/{entry['dir']}"
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
    return {
        "rows": written,
        "rows_failed": failed,
        "documents": len(seen),
        "rendered": counts["ok"],
        "render_errors": counts["error"],
        "already_rendered": counts["skipped"],
        "jsonl": str(target),
    }

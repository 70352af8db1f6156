"""Batch jobs: documents × questions from a folder or a JSONL file, results as JSONL with resume.

Input:
* a folder: every supported document in it (recursively, sorted) × every ``--question``;
* a JSONL file, one object per line: ``{"file": "a.pdf"}`` (relative to the JSONL's folder) or
  ``{"text": "..."}``, with ``"question"`` or ``"questions": [...]``, optional ``"mode"``
  (qa | summary | extract), ``"id"`` and ``"name"``.

Output (``out_dir``): ``results.jsonl``, one line per item — ``key``, ``document``, ``question``,
``mode``, ``status`` (done | error), the answer ``record`` (app/report.py, with evidence boxes
and stats) or the ``error`` — and ``evidence/item-<hash>-page*.png``. Each line is appended and
fsynced as soon as its item is finished; a run over an existing ``results.jsonl`` skips the items
already there (resume), and a line cut short by a crash is dropped and its item read again.
Errors from an item's input (``GlyphError``) are recorded on its line and the batch goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import GlyphError
from app.files import atomic_write_json, atomic_write_text
from app.jobs.files import open_ref, resolve, result_dir
from app.jobs.items import read_manifest
from app.jobs.models import BatchItem, Job, JobKind
from app.settings import Settings

if TYPE_CHECKING:
    from app.pipeline import Pipeline

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
RESULTS = "results.jsonl"


def finished_items(results: Path) -> dict[str, dict[str, Any]]:
    """Lines already in results.jsonl by key; a torn last line is dropped from the file."""
    if not results.exists():
        return {}
    good: dict[str, dict[str, Any]] = {}
    kept: list[str] = []
    torn = 0
    for line in results.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            good[entry["key"]] = entry
            kept.append(line)
        except (ValueError, KeyError, TypeError):
            torn += 1
    if torn:
        log.warning("%s: dropping %d unreadable line(s) before resuming", results, torn)
        atomic_write_text(results, "".join(line + "\n" for line in kept))
    return good


def _append(fh, entry: dict[str, Any]) -> None:
    fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    fh.flush()
    os.fsync(fh.fileno())


def run_batch(
    pipeline: Pipeline,
    items: list[BatchItem],
    out_dir: Path,
    *,
    settings: Settings | None = None,
    render_preset: str | None = None,
    overrides: dict[str, Any] | None = None,
    reader: str | None = None,
    coarse_to_fine: bool | None = None,
    progress: Progress = lambda _f, _t: None,
    confirm: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Answer every item not yet in ``out_dir/results.jsonl``; returns counts and paths.

    ``confirm`` runs before each line is appended; a queued batch passes the lease check
    there, so a worker that lost its job never adds a line behind the new owner's back.
    """
    from app.jobs.answering import ask_rendered, save_answer

    out_dir.mkdir(parents=True, exist_ok=True)
    results = out_dir / RESULTS
    finished = finished_items(results)
    total = len(items)
    todo = [item for item in items if item.key not in finished]
    count = total - len(todo)
    if count:
        log.info("batch: %d of %d items already in %s, resuming", count, total, results)
    progress(count / max(1, total), f"{count}/{total}")
    cached: tuple[str, Any] | None = None  # the last document's render, reused for its questions
    with results.open("a", encoding="utf-8") as fh:
        for item in todo:
            here = count

            def step(frac: float, text: str, here: int = here) -> None:
                progress((here + frac) / total, f"{here + 1}/{total}: {text}")

            entry: dict[str, Any] = {
                "key": item.key,
                "document": item.document.name,
                "question": item.question,
                "mode": item.mode.value,
            }
            try:
                if cached is None or cached[0] != item.document.path:
                    step(0.05, "rendering")
                    doc = open_ref(pipeline, settings or pipeline.settings, item.document)
                    cached = (
                        item.document.path,
                        pipeline.render(doc, render_preset, **(overrides or {})),
                    )
                rendered = cached[1]
                answer = ask_rendered(
                    pipeline,
                    rendered,
                    item.question,
                    item.mode,
                    reader,
                    step,
                    span=(0.2, 0.9),
                    coarse_to_fine=coarse_to_fine,
                )
                prefix = "item-" + hashlib.sha1(item.key.encode()).hexdigest()[:10]
                record, images = save_answer(
                    answer, item.question, rendered, out_dir / "evidence", prefix
                )
                entry.update(
                    status="done",
                    record=record,
                    evidence_images=[p.relative_to(out_dir).as_posix() for p in images],
                )
            except GlyphError as err:
                entry.update(status="error", error=err.en, error_zh=err.zh)
            confirm()
            _append(fh, entry)
            finished[item.key] = entry
            count += 1
            progress(count / total, f"{count}/{total}")
    keys = {item.key for item in items}
    lines = [e for k, e in finished.items() if k in keys]
    return {
        "total": total,
        "done": sum(1 for e in lines if e.get("status") == "done"),
        "errors": sum(1 for e in lines if e.get("status") == "error"),
        "results": str(results),
        "out_dir": str(out_dir),
    }


def batch_out_dir(settings: Settings, job: Job) -> Path:
    spec = job.batch_spec()
    return resolve(settings, spec.out_dir) if spec.out_dir else result_dir(settings, job.id)


def run_batch_job(
    pipeline: Pipeline,
    settings: Settings,
    job: Job,
    progress: Progress,
    confirm: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """The queued form: items from the job's manifest, result.json next to results.jsonl."""
    spec = job.batch_spec()
    items = read_manifest(settings, spec.manifest)
    out_dir = batch_out_dir(settings, job)
    summary = run_batch(
        pipeline,
        items,
        out_dir,
        settings=settings,
        render_preset=spec.render.preset,
        overrides=spec.render.overrides,
        reader=spec.reader,
        coarse_to_fine=spec.coarse_to_fine,
        progress=progress,
        confirm=confirm,
    )
    result = {"job_id": job.id, "kind": JobKind.BATCH.value, **summary}
    atomic_write_json(result_dir(settings, job.id) / "result.json", result)
    return result

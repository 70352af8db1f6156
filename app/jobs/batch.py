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

from app.datamodel import Mode
from app.errors import GlyphError
from app.jobs.files import (
    atomic_write_json,
    atomic_write_text,
    open_ref,
    relative,
    resolve,
    result_dir,
    safe_name,
    stage_file,
    stage_text,
    upload_dir,
)
from app.jobs.models import BatchItem, DocumentRef, Job, JobKind
from app.settings import Settings

if TYPE_CHECKING:
    from app.pipeline import Pipeline

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
DEFAULT_PROMPT = {Mode.SUMMARY: "Summarize the document.", Mode.EXTRACT: "Key information"}
RESULTS = "results.jsonl"


class BatchInputError(GlyphError):
    code = "batch_input"


def parse_mode(mode: str | Mode) -> Mode:
    try:
        return Mode(str(mode).lower())
    except ValueError:
        raise BatchInputError(
            f"Unknown mode '{mode}'. Choose qa, summary or extract.",
            f"未知的模式 '{mode}'，可选 qa、summary 或 extract。",
        ) from None


def question_for(question: str, mode: Mode) -> str:
    """The question to ask; summary and extraction work without one."""
    if question.strip():
        return question.strip()
    if mode is Mode.QA:
        raise BatchInputError("Please give a question.", "请输入问题。")
    return DEFAULT_PROMPT[mode]


def _key(name: str, question: str, mode: Mode) -> str:
    digest = hashlib.sha1(f"{mode.value}\0{question}".encode()).hexdigest()[:8]
    return f"{name}::{digest}"


def collect_items(source: Path, questions: list[str], mode: str = "qa") -> list[dict[str, Any]]:
    """Raw items (``file`` path or ``text``, ``name``, ``question``, ``mode``, ``key``)."""
    from app.ingest import supported_suffixes

    source = Path(source)
    default_mode = parse_mode(mode)
    items: list[dict[str, Any]] = []
    if source.is_dir():
        suffixes = set(supported_suffixes())
        files = sorted(
            p
            for p in source.rglob("*")
            if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith(".")
        )
        if not files:
            raise BatchInputError(
                f"No supported documents in {source}.", f"{source} 中没有可读取的文档。"
            )
        for path in files:
            name = path.relative_to(source).as_posix()
            for q in questions or [""]:
                question = question_for(q, default_mode)
                items.append(
                    {
                        "key": _key(name, question, default_mode),
                        "file": path,
                        "name": name,
                        "question": question,
                        "mode": default_mode,
                    }
                )
        return _unique(items)
    if not source.is_file():
        raise BatchInputError(f"{source} does not exist.", f"{source} 不存在。")
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise ValueError("not an object")
        except ValueError as err:
            raise BatchInputError(
                f"{source.name}, line {number}: not a JSON object ({err}).",
                f"{source.name} 第 {number} 行不是 JSON 对象（{err}）。",
            ) from None
        item_mode = parse_mode(entry.get("mode", default_mode))
        asked = entry.get("questions") or [entry.get("question", "")]
        asked = asked + questions if questions and not entry.get("questions") else asked
        if "file" in entry:
            path = (source.parent / entry["file"]).resolve()
            if not path.is_file():
                raise BatchInputError(
                    f"{source.name}, line {number}: {entry['file']} does not exist.",
                    f"{source.name} 第 {number} 行：{entry['file']} 不存在。",
                )
            doc: dict[str, Any] = {"file": path, "name": entry.get("name", entry["file"])}
        elif "text" in entry:
            doc = {"text": str(entry["text"]), "name": entry.get("name", f"line{number}.txt")}
        else:
            raise BatchInputError(
                f"{source.name}, line {number}: needs 'file' or 'text'.",
                f"{source.name} 第 {number} 行需要 'file' 或 'text'。",
            )
        for index, q in enumerate(a for a in asked if a is not None):
            question = question_for(str(q), item_mode)
            base = entry.get("id")
            key = f"{base}#{index + 1}" if base else _key(doc["name"], question, item_mode)
            items.append({**doc, "key": key, "question": question, "mode": item_mode})
    if not items:
        raise BatchInputError(f"{source} lists no items.", f"{source} 中没有条目。")
    return _unique(items)


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Make keys unique (the same question listed twice for one document)."""
    seen: set[str] = set()
    for n, item in enumerate(items):
        if item["key"] in seen:
            item["key"] = f"{item['key']}@{n}"
        seen.add(item["key"])
    return items


def stage_items(settings: Settings, job_id: str, raw: list[dict[str, Any]]) -> list[BatchItem]:
    """Copy each distinct input into the job's upload folder (once per document)."""
    staged: dict[str, DocumentRef] = {}
    items: list[BatchItem] = []
    for item in raw:
        ident = str(item["file"]) if "file" in item else "text:" + item["text"]
        ref = staged.get(ident)
        if ref is None:
            sub = f"docs/{len(staged):05d}"
            if "file" in item:
                ref = stage_file(settings, job_id, item["file"], item["name"], sub=sub)
            else:
                ref = stage_text(settings, job_id, item["text"], item["name"], sub=sub)
            staged[ident] = ref
        items.append(
            BatchItem(key=item["key"], document=ref, question=item["question"], mode=item["mode"])
        )
    return items


def write_manifest(settings: Settings, job_id: str, items: list[BatchItem]) -> str:
    path = upload_dir(settings, job_id) / "items.json"
    atomic_write_json(path, [i.model_dump(mode="json") for i in items])
    return relative(settings, path)


def read_manifest(settings: Settings, manifest: str) -> list[BatchItem]:
    data = json.loads(resolve(settings, manifest).read_text(encoding="utf-8"))
    return [BatchItem.model_validate(d) for d in data]


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
    from app.jobs.runner import ask_rendered, save_answer

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


def local_items(raw: list[dict[str, Any]], inputs_dir: Path) -> list[BatchItem]:
    """Items for a run in this process: files stay where they are, texts go to ``inputs_dir``."""
    items = []
    for item in raw:
        if "file" in item:
            ref = DocumentRef(
                kind="file", path=str(Path(item["file"]).resolve()), name=item["name"]
            )
        else:
            digest = hashlib.sha1(item["text"].encode()).hexdigest()[:12]
            path = inputs_dir / f"{digest}-{safe_name(item['name'], 'text.txt')}"
            if not path.exists():
                atomic_write_text(path, item["text"])
            ref = DocumentRef(kind="text", path=str(path.resolve()), name=item["name"])
        items.append(
            BatchItem(key=item["key"], document=ref, question=item["question"], mode=item["mode"])
        )
    return items

"""``python -m app jobs submit|batch|status|result|list|cancel`` (the Typer wiring is in app/cli.py).

``submit`` and ``batch`` print the job id (``--wait`` follows the job with a progress bar and
then prints its result); ``batch --local`` runs a batch in this process, without the queue, with
the same output files and resume. ``status`` and ``list`` print JSON; ``result`` prints the result
record (for an ask job: the answer with evidence boxes, evidence image paths and stats).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import typer

from app.jobs.files import read_json, resolve, result_dir
from app.jobs.models import Job, JobStatus
from app.jobs.queue import JobError, JobQueue


def _print(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _overrides(pairs: list[str] | None) -> dict[str, Any]:
    """``--set font_size=10 --set dpi=96`` → {"font_size": 10, "dpi": 96} (values as JSON)."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise JobError(
                f"--set expects KEY=VALUE, got '{pair}'.", f"--set 需要 KEY=VALUE：'{pair}'。"
            )
        try:
            out[key.strip()] = json.loads(raw)
        except ValueError:
            out[key.strip()] = raw
    return out


def follow(queue: JobQueue, job_id: str, poll: float = 0.5) -> Job:
    """A progress bar (stderr) until the job is finished."""
    from tqdm import tqdm

    job = queue.get(job_id)
    with tqdm(total=1000, desc=job_id, unit="‰", file=sys.stderr, leave=True) as bar:
        while True:
            job = queue.get(job_id)
            bar.n = int(job.progress * 1000)
            bar.set_postfix_str(f"{job.status.value} {job.progress_text}"[:60])
            bar.refresh()
            if job.finished_state:
                return job
            time.sleep(poll)


def _finish(queue: JobQueue, job: Job, wait: bool) -> None:
    if not wait:
        typer.echo(job.id)
        return
    typer.echo(job.id, err=True)
    job = follow(queue, job.id)
    if job.status is not JobStatus.DONE:
        raise JobError(
            f"Job {job.id} {job.status.value}: {job.error or ''}".strip(),
            f"任务 {job.id} {job.status.value}：{job.error_zh or job.error or ''}".strip(),
        )
    _print(job.result)


def submit_command(
    file: Path,
    question: str,
    mode: str = "qa",
    *,
    preset: str | None = None,
    reader: str | None = None,
    overrides: list[str] | None = None,
    wait: bool = False,
) -> None:
    queue = JobQueue()
    job = queue.submit_ask(
        question,
        file=file,
        mode=mode,
        preset=preset,
        overrides=_overrides(overrides),
        reader=reader,
    )
    _finish(queue, job, wait)


def batch_command(
    source: Path,
    questions: list[str] | None,
    mode: str = "qa",
    *,
    out: Path | None = None,
    preset: str | None = None,
    reader: str | None = None,
    overrides: list[str] | None = None,
    wait: bool = False,
    local: bool = False,
    collection: bool = False,
) -> None:
    if local:
        _run_local(
            source, questions or [], mode, out, preset, reader, _overrides(overrides), collection
        )
        return
    queue = JobQueue()
    job = queue.submit_batch(
        source,
        questions or [],
        collection=collection,
        mode=mode,
        out_dir=out,
        preset=preset,
        overrides=_overrides(overrides),
        reader=reader,
    )
    _finish(queue, job, wait)


def _run_local(
    source: Path,
    questions: list[str],
    mode: str,
    out: Path | None,
    preset: str | None,
    reader: str | None,
    overrides: dict[str, Any],
    collection: bool = False,
) -> None:
    from tqdm import tqdm

    from app.jobs.batch import run_batch
    from app.jobs.items import collect_items, local_items
    from app.pipeline import Pipeline

    if out is None:
        raise JobError("--local needs --out DIR.", "--local 需要 --out 目录。")
    items = local_items(collect_items(source, questions, mode, collection), out / "inputs")
    pipeline = Pipeline()
    with tqdm(total=len(items), desc="batch", unit="item", file=sys.stderr) as bar:

        def progress(fraction: float, text: str) -> None:
            bar.n = round(fraction * len(items), 2)
            bar.set_postfix_str(text[:50])
            bar.refresh()

        summary = run_batch(
            pipeline,
            items,
            out,
            render_preset=preset,
            overrides=overrides,
            reader=reader,
            progress=progress,
        )
    pipeline.close()
    _print(summary)


def status_command(job_id: str) -> None:
    queue = JobQueue()
    job = queue.get(job_id)
    data = job.public()
    data["runs"] = queue.store.runs(job.id)
    _print(data)


def list_command(limit: int = 20, owner: str | None = None) -> None:
    queue = JobQueue()
    _print(
        [
            {
                "id": j.id,
                "kind": j.kind.value,
                "status": j.status.value,
                "progress": round(j.progress, 3),
                "title": j.title,
                "attempts": j.attempts,
                "error": j.error,
                "created": j.created,
            }
            for j in queue.list(owner, limit)
        ]
    )


def load_result(queue: JobQueue, job: Job) -> dict[str, Any] | None:
    """A finished job's result: from the job table, else from result.json on disk."""
    if job.result is not None:
        return job.result
    return read_json(result_dir(queue.settings, job.id) / "result.json")


def result_command(job_id: str) -> None:
    queue = JobQueue()
    job = queue.get(job_id)
    if job.status is not JobStatus.DONE:
        detail = f": {job.error}" if job.error else ""
        raise JobError(
            f"Job {job.id} is {job.status.value}{detail}; no result yet.",
            f"任务 {job.id} 状态为 {job.status.value}{'：' + (job.error_zh or '') if job.error else ''}，尚无结果。",
        )
    result = load_result(queue, job)
    if result is None:
        raise JobError(
            f"The result files of job {job.id} are missing.", f"任务 {job.id} 的结果文件缺失。"
        )
    result = dict(result)
    if "result_dir" in result:
        result["result_dir"] = str(resolve(queue.settings, result["result_dir"]))
    _print(result)


def cancel_command(job_id: str) -> None:
    queue = JobQueue()
    job = queue.get(job_id)
    if not queue.cancel(job.id):
        raise JobError(
            f"Job {job.id} is {job.status.value}; only queued jobs can be cancelled.",
            f"任务 {job.id} 状态为 {job.status.value}，只能取消排队中的任务。",
        )
    typer.echo(f"{job.id} cancelled")

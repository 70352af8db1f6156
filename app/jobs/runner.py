"""Running one claimed job: the heartbeat that keeps its lease, the ask job, the result files.

A worker thread calls ``JobRunner.run(job_id)`` for every queue message. The runner claims the
job (a message for a job that is not queued is dropped), keeps the lease alive from a heartbeat
thread while the pipeline works, writes the result files atomically and only then marks the job
done. User errors (``GlyphError``: an unreadable file, a bad preset) fail the job at once since a
retry would fail the same way; any other exception is retried up to ``job_max_attempts``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.errors import GlyphError
from app.files import atomic_write_json, atomic_write_text
from app.jobs.answering import Progress, ask_rendered, save_answer
from app.jobs.files import open_ref, read_json, relative, result_dir
from app.jobs.models import Job, JobKind, JobStatus
from app.settings import Settings

if TYPE_CHECKING:
    from app.jobs.queue import JobQueue
    from app.pipeline import Pipeline

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


class LeaseLost(Exception):
    """The job's lease expired and another worker may own it now: stop working on it."""


class Heartbeat:
    """Renews a job's lease from a thread and carries progress to the job table."""

    MIN_GAP_S = 0.5  # progress is pushed at most this often

    def __init__(self, queue: JobQueue, job: Job) -> None:
        self.store, self.job_id = queue.store, job.id
        self.token = job.lease_owner or ""
        self.lease_s = queue.settings.job_lease_s
        self.interval = max(0.2, self.lease_s / 3)
        self.fraction, self.text = job.progress, job.progress_text
        self.lost = False
        self._stop, self._wake = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{job.id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def update(self, fraction: float, text: str) -> None:
        """Record progress (0..1); raises ``LeaseLost`` when the job is no longer ours."""
        if self.lost:
            raise LeaseLost(self.job_id)
        self.fraction, self.text = max(0.0, min(1.0, fraction)), text[:300]
        self._wake.set()

    def confirm(self) -> None:
        """Renew the lease now and raise ``LeaseLost`` unless it is still ours.

        Called right before a result is written: the lease was just extended by a full
        ``job_lease_s``, so no other worker can take the job over while the write happens.
        """
        if self.lost or not self.store.heartbeat(
            self.job_id, self.token, self.lease_s, self.fraction, self.text
        ):
            self.lost = True
            raise LeaseLost(self.job_id)

    def _beat(self) -> None:
        try:
            ok = self.store.heartbeat(
                self.job_id, self.token, self.lease_s, self.fraction, self.text
            )
        except Exception as err:  # a busy database must not kill the job; the next beat retries
            log.warning("job %s: heartbeat failed (%s)", self.job_id, err)
            return
        if not ok and not self.lost:
            log.warning("job %s: lease lost (another worker may be running it)", self.job_id)
            self.lost = True

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            self._beat()
            self._stop.wait(self.MIN_GAP_S)


def run_ask(
    pipeline: Pipeline,
    settings: Settings,
    job: Job,
    progress: Progress,
    confirm: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Open, render, read, write ``result.json`` (+ answer.json, result.md, evidence PNGs).

    ``settings`` places the files (the queue's data dir); ``pipeline`` does the reading.
    """
    from app.report import answer_markdown

    spec = job.ask_spec()
    out = result_dir(settings, job.id)
    previous = read_json(out / "result.json")
    if previous and previous.get("job_id") == job.id:
        # An earlier attempt wrote the result and died before marking the job done: keep it.
        progress(1.0, "result already written")
        return previous
    started = time.perf_counter()
    progress(0.05, "opening the document")
    doc = open_ref(pipeline, settings, spec.document)
    progress(0.15, "rendering")
    t0 = time.perf_counter()
    rendered = pipeline.render(doc, spec.render.preset, **spec.render.overrides)
    render_s = time.perf_counter() - t0
    progress(0.3, f"reading {len(rendered.pages)} page(s)")
    answer = ask_rendered(
        pipeline,
        rendered,
        spec.question,
        spec.mode,
        spec.reader,
        progress,
        coarse_to_fine=spec.coarse_to_fine,
    )
    answer.timings.setdefault("render", render_s)
    progress(0.92, "writing the result")
    confirm()
    record, images = save_answer(answer, spec.question, rendered, out)
    atomic_write_text(out / "answer.json", answer.model_dump_json(indent=2))
    atomic_write_text(out / "result.md", answer_markdown(answer, spec.question, rendered))
    result = {
        "job_id": job.id,
        "kind": JobKind.ASK.value,
        "result_dir": relative(settings, out),
        "record": record,
        "files": {
            "json": "result.json",
            "answer": "answer.json",
            "markdown": "result.md",
            "evidence": [p.name for p in images],
        },
        "seconds": round(time.perf_counter() - started, 3),
    }
    # result.json last: its presence means every other file of the result is complete
    atomic_write_json(out / "result.json", result)
    return result


class JobRunner:
    """Executes queue messages in a worker (see the module docstring)."""

    def __init__(self, queue: JobQueue, pipeline: Pipeline) -> None:
        self.queue, self.pipeline = queue, pipeline

    def run(self, job_id: str) -> JobStatus | None:
        store, settings = self.queue.store, self.queue.settings
        worker = worker_name()
        job = store.claim(job_id, worker, settings.job_lease_s)
        if job is None:
            log.debug("job %s is not queued (duplicate message or cancelled); skipped", job_id)
            return None
        token = job.lease_owner or ""
        log.info("job %s (%s) attempt %d/%d on %s", job.id, job.kind, job.attempts,
                 job.max_attempts, worker)  # fmt: skip
        with Heartbeat(self.queue, job) as beat:
            try:
                if job.kind is JobKind.BATCH:
                    from app.jobs.batch import run_batch_job

                    result = run_batch_job(self.pipeline, settings, job, beat.update, beat.confirm)
                else:
                    result = run_ask(self.pipeline, settings, job, beat.update, beat.confirm)
            except LeaseLost:
                return None
            except GlyphError as err:
                log.info("job %s failed: %s", job.id, err.en)
                return store.fail(job.id, token, err.en, err.zh, retry=False)
            except Exception as err:
                log.exception("job %s: attempt %d failed", job.id, job.attempts)
                reason = f"{type(err).__name__}: {err}"[:1000]
                status = store.fail(job.id, token, reason, reason, retry=True)
                if status is JobStatus.QUEUED:
                    self.queue.enqueue(job.id)
                return status
        if beat.lost or not store.complete(job.id, token, result):
            log.warning("job %s finished after losing its lease; result kept on disk", job.id)
            return None
        log.info("job %s done", job.id)
        return JobStatus.DONE

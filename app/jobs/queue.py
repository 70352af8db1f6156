"""``JobQueue``: submit jobs, look them up, and keep huey's queue in step with the job table.

huey carries one message per job ("run job X"); the job table (store.py) says what state each
job is in. A message may be lost (a worker popped it and died; the app crashed between writing
the job and enqueueing it) or duplicated (a job re-enqueued while its old message still waits);
``maintain()`` makes both harmless: it re-queues jobs whose lease expired and re-sends a message
for every job queued longer than the grace period without being claimed, and ``claim`` ignores a
message for a job that is not queued.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.datamodel import Document, Mode
from app.errors import GlyphError
from app.jobs.files import jobs_root, stage_document, stage_file, stage_text
from app.jobs.models import (
    AskSpec,
    BatchSpec,
    Job,
    JobKind,
    JobStatus,
    RenderSpec,
    new_job_id,
)
from app.jobs.store import JobStore, SqliteJobStore
from app.settings import Settings, get_settings

log = logging.getLogger(__name__)

HUEY_NAME = "glyph"


class JobError(GlyphError):
    """A job cannot be submitted or found."""

    code = "job"


def _check_reader(reader: str | None) -> None:
    from app.readers import READERS

    if reader and reader != "auto" and reader not in READERS:
        raise JobError(
            f"Unknown reader '{reader}'. Choose one of: auto, {', '.join(READERS)}.",
            f"未知的阅读器 '{reader}'，可选：auto、{'、'.join(READERS)}。",
        )


class JobQueue:
    """The queue of one data dir (SQLite) or one Redis server. Cheap to create: opens lazily."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.runner: Callable[[str], Any] | None = None  # set by a worker in this process
        self._lock = threading.Lock()
        self._store: JobStore | None = None
        self._huey: Any = None
        self._task: Any = None

    # --- backends -------------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        return "redis" if self.settings.redis_url else "sqlite"

    @property
    def store(self) -> JobStore:
        with self._lock:
            if self._store is None:
                if self.settings.redis_url:
                    from app.jobs.redis_store import RedisJobStore

                    self._store = RedisJobStore(self.settings.redis_url)
                else:
                    self._store = SqliteJobStore(jobs_root(self.settings) / "jobs.db")
            return self._store

    @property
    def huey(self) -> Any:
        with self._lock:
            if self._huey is None:
                if self.settings.redis_url:
                    from huey import RedisHuey

                    huey = RedisHuey(
                        HUEY_NAME, url=self.settings.redis_url, results=False, read_timeout=1
                    )
                else:
                    from huey import SqliteHuey

                    root = jobs_root(self.settings)
                    root.mkdir(parents=True, exist_ok=True)
                    huey = SqliteHuey(
                        HUEY_NAME,
                        filename=str(root / "queue.db"),
                        results=False,
                        fsync=True,
                        timeout=30,
                    )
                # Retries are ours (the job table counts attempts), so huey retries nothing.
                self._task = huey.task(name="run_job", retries=0)(self._on_message)
                self._huey = huey
            return self._huey

    def open(self) -> None:
        """Open the SQLite queue now (server and worker start-up): a data dir whose databases
        cannot be created or read (disk full, not writable, a damaged file) is a ``JobError``
        naming the directory, not a traceback from a worker thread later. Redis: nothing to do."""
        if self.backend != "sqlite":
            return
        root = jobs_root(self.settings)
        try:
            self.store.list(limit=1)
            self.pending_job_ids()  # huey connects (and creates its tables) on first use
        except (sqlite3.Error, OSError) as err:
            reason = str(err) or type(err).__name__
            raise JobError(
                f"The job queue cannot open its database in {root}: {reason}. Free some space, "
                "make the directory writable, or set GLYPH_DATA_DIR to another directory.",
                f"任务队列无法打开其数据库（目录 {root}）：{reason}。请释放磁盘空间、使该目录可写，"
                "或将 GLYPH_DATA_DIR 设为其他目录。",
                detail=repr(err),
            ) from None

    def _on_message(self, job_id: str) -> None:
        runner = self.runner
        if runner is None:
            # A worker that is stopping took one more message: hand it back to the queue.
            log.info("job %s: message returned to the queue (worker stopping)", job_id)
            self.enqueue(job_id)
            return
        runner(job_id)

    def enqueue(self, job_id: str) -> None:
        """Send the job's message (again); duplicates are harmless."""
        _ = self.huey
        self._task(job_id)
        self.store.mark_enqueued(job_id)

    def pending_job_ids(self) -> set[str]:
        return {task.args[0] for task in self.huey.pending() if task.args}

    # --- submit ---------------------------------------------------------------------------------
    def _submit(self, job: Job) -> Job:
        self.store.create(job)
        try:
            self.enqueue(job.id)
        except Exception:
            # The job is in the table; the next maintain() pass sends its message.
            log.exception("job %s saved but not enqueued yet", job.id)
        return job

    def submit_ask(
        self,
        question: str,
        *,
        file: str | Path | None = None,
        text: str | None = None,
        document: Document | None = None,
        name: str | None = None,
        mode: str | Mode = Mode.QA,
        preset: str | None = None,
        overrides: dict[str, Any] | None = None,
        reader: str | None = None,
        coarse_to_fine: bool | None = None,
        owner: str = "cli",
    ) -> Job:
        """Queue one question; the input (a file, pasted text or an extracted document) is copied
        into the data dir first, so the job never depends on a temporary upload."""
        from app.jobs.items import parse_mode, question_for

        mode_ = parse_mode(mode)
        question = question_for(question or "", mode_)
        _check_reader(reader)
        job_id = new_job_id()
        if document is not None:
            ref = stage_document(self.settings, job_id, document)
        elif text is not None:
            if not text.strip():
                raise JobError("The text is empty.", "文本为空。")
            ref = stage_text(self.settings, job_id, text, name or "pasted.txt")
        elif file is not None:
            path = Path(file)
            if not path.is_file():
                raise JobError(f"{path} does not exist.", f"{path} 不存在。")
            if path.stat().st_size > self.settings.max_upload_bytes:
                raise JobError(
                    f"{path.name} is larger than GLYPH_MAX_UPLOAD_MB "
                    f"({self.settings.max_upload_mb:g} MB).",
                    f"{path.name} 超过 GLYPH_MAX_UPLOAD_MB（{self.settings.max_upload_mb:g} MB）。",
                )
            ref = stage_file(self.settings, job_id, path, name)
        else:
            raise JobError("Nothing to ask about: give a file or text.", "请提供文件或文本。")
        spec = AskSpec(
            document=ref,
            question=question,
            mode=mode_,
            render=RenderSpec(preset=preset, overrides=overrides or {}),
            reader=reader,
            coarse_to_fine=coarse_to_fine,
        )
        job = Job(
            id=job_id,
            kind=JobKind.ASK,
            owner=owner,
            title=f"{question[:80]} · {ref.name}",
            spec=spec.model_dump(mode="json"),
            max_attempts=self.settings.job_max_attempts,
        )
        return self._submit(job)

    def submit_batch(
        self,
        source: str | Path,
        questions: list[str] | None = None,
        *,
        collection: bool = False,
        mode: str | Mode = Mode.QA,
        out_dir: str | Path | None = None,
        preset: str | None = None,
        overrides: dict[str, Any] | None = None,
        reader: str | None = None,
        coarse_to_fine: bool | None = None,
        owner: str = "cli",
    ) -> Job:
        """Queue a batch (a folder or JSONL of documents × questions; see batch.py);
        ``collection``: a folder's documents are asked as one, each question once."""
        from app.jobs.items import collect_items, stage_items, write_manifest

        _check_reader(reader)
        raw = collect_items(Path(source), list(questions or []), str(Mode(mode).value), collection)
        job_id = new_job_id()
        items = stage_items(self.settings, job_id, raw)
        spec = BatchSpec(
            manifest=write_manifest(self.settings, job_id, items),
            total=len(items),
            out_dir=str(Path(out_dir).resolve()) if out_dir else None,
            render=RenderSpec(preset=preset, overrides=overrides or {}),
            reader=reader,
            coarse_to_fine=coarse_to_fine,
        )
        job = Job(
            id=job_id,
            kind=JobKind.BATCH,
            owner=owner,
            title=f"batch · {len(items)} items · {Path(source).name}",
            spec=spec.model_dump(mode="json"),
            max_attempts=self.settings.job_max_attempts,
        )
        return self._submit(job)

    # --- look up --------------------------------------------------------------------------------
    def get(self, job_id: str) -> Job:
        job = self.store.get(job_id.strip())
        if job is None:
            raise JobError(f"No job with id '{job_id}'.", f"没有 ID 为 '{job_id}' 的任务。")
        return job

    def list(self, owner: str | None = None, limit: int = 50) -> list[Job]:
        return self.store.list(owner, limit)

    def cancel(self, job_id: str) -> bool:
        return self.store.cancel(job_id)

    def wait(self, job_id: str, timeout: float | None = None, poll: float = 0.5) -> Job:
        """Block until the job is finished (done, failed, cancelled) or ``timeout`` passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job.finished_state or (deadline is not None and time.monotonic() > deadline):
                return job
            time.sleep(poll)

    # --- upkeep ---------------------------------------------------------------------------------
    def maintain(self) -> dict[str, list[str]]:
        """Retry jobs of dead workers and re-send lost messages (run by every worker)."""
        lease = self.settings.job_lease_s
        requeued: list[str] = []
        failed: list[str] = []
        for job_id, status in self.store.reap(lease):
            if status is JobStatus.QUEUED:
                requeued.append(job_id)
            else:
                failed.append(job_id)
        resent: list[str] = []
        stale = self.store.stale_queued(time.time() - max(lease, 5.0))
        pending = self.pending_job_ids() if stale else set()
        for job_id in [*requeued, *(j for j in stale if j not in pending and j not in requeued)]:
            self.enqueue(job_id)
            resent.append(job_id)
        return {"requeued": requeued, "failed": failed, "resent": resent}

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

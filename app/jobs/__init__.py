"""Async queue (异步队列): long documents and batches run in workers, not in a browser tab.

Pieces
------
* ``queue.JobQueue`` — submit an *ask* job (document + question + mode + render settings +
  reader) or a *batch* job (folder or JSONL of documents × questions), look jobs up, cancel.
* huey carries the messages: ``SqliteHuey`` in ``DATA_DIR/jobs/queue.db`` by default,
  ``RedisHuey`` when ``GLYPH_REDIS_URL`` is set (workers on several machines share one queue).
* ``store`` / ``redis_store`` — the job table: status, attempts, lease, progress, error, result.
* ``worker`` — ``python -m app worker`` and the UI's in-process worker thread.
* ``runner`` — claims a job, keeps its lease alive, runs it, writes its result.
* ``batch`` — batch input, JSONL output with evidence images, resume.

Why a job table beside huey
---------------------------
huey deletes a message when a worker takes it. If that worker dies (SIGKILL, OOM killer, power
loss) the message is gone and huey alone would forget the job. So the job table — SQLite in
``DATA_DIR/jobs/jobs.db``, or Redis — is the source of truth, and huey only says "job X may be
ready". Life of a job::

    submit: input copied to DATA_DIR/jobs/uploads/<id>/ → row 'queued' → huey message
    worker: claim (queued → running, attempts+1, lease = now + GLYPH_JOB_LEASE_S, token
            'host:pid:thread#attempt'; one atomic compare-and-set, so a duplicate message or a
            second worker gets nothing) → heartbeat thread renews the lease every third of it
            and records progress → result files written atomically (temp file + fsync +
            rename; result.json last) → complete (only for the owning token) → 'done'
    error:  a GlyphError (bad input) → 'failed' with its message at once; any other exception
            → 'queued' again while attempts < GLYPH_JOB_MAX_ATTEMPTS, else 'failed'
    death:  the lease expires; every worker's maintenance pass (each half lease) moves expired
            jobs back to 'queued' (or to 'failed' with "worker stopped responding … attempt
            n of N" once attempts are used up) and sends a new message
    lost message: a job queued for longer than the grace period and not in huey's pending list
            gets its message again (duplicates are dropped by the claim)

Guarantees: a job is owned by at most one live worker at a time; a result once written is never
lost (files are renamed into place before the job is marked done, and a retry that finds a
complete result.json uses it instead of reading again); after a restart of the app or the
workers the queue, the table and the results are still there. A worker that is alive but stuck
keeps renewing its lease — there is no per-job time limit.
"""

from app.jobs.models import Job, JobKind, JobStatus
from app.jobs.queue import JobError, JobQueue

__all__ = ["Job", "JobError", "JobKind", "JobQueue", "JobStatus"]

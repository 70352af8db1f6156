"""The job table: status, attempts and leases of every job (SQLite here, Redis in redis_store.py).

The table, not huey's queue, is the source of truth. Every state change is one atomic
compare-and-set, so two workers can never both own a job and a late worker cannot overwrite a
newer attempt:

* ``claim``     queued → running (attempts + 1, lease = now + lease_s, owner token
                ``worker#attempt``); returns ``None`` for a job that is not queued, so a duplicate
                queue message is a harmless no-op.
* ``heartbeat`` extends the lease and records progress, only while the caller's token still owns
                the job (False tells the worker it lost the job).
* ``complete``  running → done with the result, only for the owning token.
* ``fail``      running → queued (retry, while attempts < max_attempts) or → failed with the
                reason, only for the owning token.
* ``reap``      running jobs whose lease expired (their worker died: SIGKILL, power loss, OOM
                killer) → queued again, or → failed with the reason once attempts are used up.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from app.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)

LOST_REASON_EN = (
    "The worker running this job stopped responding (no heartbeat for {lease:g} s) "
    "on attempt {attempt} of {max}."
)
LOST_REASON_ZH = "执行此任务的 worker 停止响应（{lease:g} 秒无心跳），第 {attempt}/{max} 次尝试。"

_COLUMNS = (
    "id",
    "kind",
    "owner",
    "title",
    "spec",
    "status",
    "attempts",
    "max_attempts",
    "lease_owner",
    "lease_expires",
    "progress",
    "progress_text",
    "error",
    "error_zh",
    "result",
    "created",
    "enqueued",
    "started",
    "finished",
    "updated",
)
_JSON_COLUMNS = ("spec", "result")


class JobStore(ABC):
    """Interface shared by the SQLite and Redis job tables."""

    @abstractmethod
    def create(self, job: Job) -> None: ...

    @abstractmethod
    def get(self, job_id: str) -> Job | None: ...

    @abstractmethod
    def list(self, owner: str | None = None, limit: int = 50) -> list[Job]:
        """Newest first; only ``owner``'s jobs when given."""

    @abstractmethod
    def claim(self, job_id: str, worker: str, lease_s: float) -> Job | None: ...

    @abstractmethod
    def heartbeat(
        self, job_id: str, token: str, lease_s: float, progress: float, text: str
    ) -> bool: ...

    @abstractmethod
    def complete(self, job_id: str, token: str, result: dict[str, Any]) -> bool: ...

    @abstractmethod
    def fail(
        self, job_id: str, token: str, error: str, error_zh: str, *, retry: bool
    ) -> JobStatus | None:
        """The new status (queued = retried, failed), or None when ``token`` no longer owns it."""

    @abstractmethod
    def reap(self, lease_s: float) -> list[tuple[str, JobStatus]]:
        """Expired leases → queued/failed; returns (job id, new status) for each."""

    @abstractmethod
    def stale_queued(self, older_than: float) -> list[str]:
        """Queued jobs last handed to the queue before ``older_than`` (epoch seconds)."""

    @abstractmethod
    def mark_enqueued(self, job_id: str) -> None: ...

    @abstractmethod
    def cancel(self, job_id: str) -> bool:
        """queued → cancelled; False for a job that already started or finished."""

    @abstractmethod
    def runs(self, job_id: str) -> list[dict[str, Any]]:
        """Every attempt: attempt, worker, started, ended, outcome."""

    def count_active(self, owner: str) -> int:
        return sum(1 for j in self.list(owner, limit=1000) if not j.finished_state)

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections."""


class SqliteJobStore(JobStore):
    """The job table in one SQLite file (WAL), shared by every process on this machine."""

    SCHEMA = """
    create table if not exists jobs (
        id text primary key, kind text not null, owner text not null default '',
        title text not null default '', spec text not null, status text not null,
        attempts integer not null default 0, max_attempts integer not null,
        lease_owner text, lease_expires real, progress real not null default 0,
        progress_text text not null default '', error text, error_zh text, result text,
        created real not null, enqueued real, started real, finished real,
        updated real not null);
    create index if not exists jobs_status on jobs (status, lease_expires);
    create index if not exists jobs_owner on jobs (owner, created);
    create table if not exists runs (
        job_id text not null, attempt integer not null, worker text not null,
        started real not null, ended real, outcome text, primary key (job_id, attempt));
    """

    def __init__(self, path: Path, timeout_s: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn().executescript(self.SCHEMA)  # "if not exists": safe for every process

    # --- connections ----------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
            conn.row_factory = sqlite3.Row
            self._set_wal(conn)
            conn.execute("pragma synchronous=full")  # a committed result survives power loss
            self._local.conn = conn
        return conn

    def _set_wal(self, conn: sqlite3.Connection) -> None:
        """Switching a new database to WAL upgrades a read lock to a write lock, which fails at
        once ("database is locked", no busy wait) when another process opens the new file at the
        same moment (a worker and the CLI started together); retry until ``timeout_s``, as huey
        does for its queue."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                conn.execute("pragma journal_mode=wal")
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    class _Tx:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def __enter__(self) -> sqlite3.Connection:
            # IMMEDIATE takes the write lock up front: read-check-write cannot interleave.
            self.conn.execute("begin immediate")
            return self.conn

        def __exit__(self, exc_type, exc, tb) -> None:
            self.conn.execute("rollback" if exc_type else "commit")

    def _tx(self) -> SqliteJobStore._Tx:
        return self._Tx(self._conn())

    @staticmethod
    def _row(row: sqlite3.Row | None) -> Job | None:
        if row is None:
            return None
        data = dict(row)
        for key in _JSON_COLUMNS:
            if data[key] is not None:
                data[key] = json.loads(data[key])
        return Job.model_validate(data)

    # --- reads ----------------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        cur = self._conn().execute("select * from jobs where id = ?", (job_id,))
        return self._row(cur.fetchone())

    def list(self, owner: str | None = None, limit: int = 50) -> list[Job]:
        if owner is None:
            sql, args = "select * from jobs order by created desc limit ?", (limit,)
        else:
            sql = "select * from jobs where owner = ? order by created desc limit ?"
            args = (owner, limit)
        return [j for j in map(self._row, self._conn().execute(sql, args)) if j is not None]

    def runs(self, job_id: str) -> list[dict[str, Any]]:
        cur = self._conn().execute(
            "select attempt, worker, started, ended, outcome from runs where job_id = ? "
            "order by attempt",
            (job_id,),
        )
        return [dict(r) for r in cur]

    def stale_queued(self, older_than: float) -> list[str]:
        cur = self._conn().execute(
            "select id from jobs where status = 'queued' and coalesce(enqueued, 0) < ?",
            (older_than,),
        )
        return [r[0] for r in cur]

    def count_active(self, owner: str) -> int:
        cur = self._conn().execute(
            "select count(*) from jobs where owner = ? and status in ('queued', 'running')",
            (owner,),
        )
        return int(cur.fetchone()[0])

    # --- writes ---------------------------------------------------------------------------------
    def create(self, job: Job) -> None:
        data = job.model_dump(mode="json")
        for key in _JSON_COLUMNS:
            data[key] = None if data[key] is None else json.dumps(data[key], ensure_ascii=False)
        cols = ", ".join(_COLUMNS)
        marks = ", ".join("?" for _ in _COLUMNS)
        with self._tx() as conn:
            conn.execute(f"insert into jobs ({cols}) values ({marks})", [data[c] for c in _COLUMNS])

    def mark_enqueued(self, job_id: str) -> None:
        with self._tx() as conn:
            conn.execute("update jobs set enqueued = ? where id = ?", (time.time(), job_id))

    def claim(self, job_id: str, worker: str, lease_s: float) -> Job | None:
        now = time.time()
        with self._tx() as conn:
            row = conn.execute(
                "select status, attempts from jobs where id = ?", (job_id,)
            ).fetchone()
            if row is None or row["status"] != JobStatus.QUEUED:
                return None
            attempt = row["attempts"] + 1
            token = f"{worker}#{attempt}"
            conn.execute(
                "update jobs set status = 'running', attempts = ?, lease_owner = ?, "
                "lease_expires = ?, started = coalesce(started, ?), updated = ? where id = ?",
                (attempt, token, now + lease_s, now, now, job_id),
            )
            conn.execute(
                "insert or replace into runs (job_id, attempt, worker, started) values (?,?,?,?)",
                (job_id, attempt, worker, now),
            )
        return self.get(job_id)

    def heartbeat(
        self, job_id: str, token: str, lease_s: float, progress: float, text: str
    ) -> bool:
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute(
                "update jobs set lease_expires = ?, progress = ?, progress_text = ?, updated = ? "
                "where id = ? and status = 'running' and lease_owner = ?",
                (now + lease_s, progress, text, now, job_id, token),
            )
            return cur.rowcount == 1

    def _end_run(self, conn: sqlite3.Connection, job_id: str, token: str, outcome: str) -> None:
        attempt = int(token.rsplit("#", 1)[1])
        conn.execute(
            "update runs set ended = ?, outcome = ? where job_id = ? and attempt = ?",
            (time.time(), outcome, job_id, attempt),
        )

    def complete(self, job_id: str, token: str, result: dict[str, Any]) -> bool:
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute(
                "update jobs set status = 'done', result = ?, progress = 1, lease_owner = null, "
                "lease_expires = null, error = null, error_zh = null, finished = ?, updated = ? "
                "where id = ? and status = 'running' and lease_owner = ?",
                (json.dumps(result, ensure_ascii=False), now, now, job_id, token),
            )
            if cur.rowcount == 1:
                self._end_run(conn, job_id, token, "done")
            return cur.rowcount == 1

    def fail(
        self, job_id: str, token: str, error: str, error_zh: str, *, retry: bool
    ) -> JobStatus | None:
        now = time.time()
        with self._tx() as conn:
            row = conn.execute(
                "select attempts, max_attempts from jobs where id = ? and status = 'running' "
                "and lease_owner = ?",
                (job_id, token),
            ).fetchone()
            if row is None:
                return None
            again = retry and row["attempts"] < row["max_attempts"]
            status = JobStatus.QUEUED if again else JobStatus.FAILED
            conn.execute(
                "update jobs set status = ?, error = ?, error_zh = ?, lease_owner = null, "
                "lease_expires = null, finished = ?, updated = ? where id = ?",
                (status.value, error, error_zh, None if again else now, now, job_id),
            )
            self._end_run(conn, job_id, token, f"error: {error}"[:500])
            return status

    def reap(self, lease_s: float) -> list[tuple[str, JobStatus]]:
        now = time.time()
        changed: list[tuple[str, JobStatus]] = []
        with self._tx() as conn:
            rows = conn.execute(
                "select id, attempts, max_attempts, lease_owner from jobs "
                "where status = 'running' and lease_expires < ?",
                (now,),
            ).fetchall()
            for row in rows:
                fmt = {"lease": lease_s, "attempt": row["attempts"], "max": row["max_attempts"]}
                en, zh = LOST_REASON_EN.format(**fmt), LOST_REASON_ZH.format(**fmt)
                again = row["attempts"] < row["max_attempts"]
                status = JobStatus.QUEUED if again else JobStatus.FAILED
                conn.execute(
                    "update jobs set status = ?, error = ?, error_zh = ?, lease_owner = null, "
                    "lease_expires = null, enqueued = null, finished = ?, updated = ? "
                    "where id = ?",
                    (status.value, en, zh, None if again else now, now, row["id"]),
                )
                self._end_run(conn, row["id"], row["lease_owner"], "lost")
                changed.append((row["id"], status))
        for job_id, status in changed:
            log.warning("job %s: worker lost, now %s", job_id, status.value)
        return changed

    def cancel(self, job_id: str) -> bool:
        now = time.time()
        with self._tx() as conn:
            cur = conn.execute(
                "update jobs set status = 'cancelled', finished = ?, updated = ? "
                "where id = ? and status = 'queued'",
                (now, now, job_id),
            )
            return cur.rowcount == 1

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

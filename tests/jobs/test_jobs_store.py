"""The job table's compare-and-set transitions, on SQLite and on a real redis-server."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import pytest

from app.jobs.models import Job, JobKind, JobStatus
from app.jobs.store import SqliteJobStore


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = SqliteJobStore(tmp_path / "jobs.db")
    else:
        from app.jobs.redis_store import RedisJobStore

        s = RedisJobStore(request.getfixturevalue("redis_db"))
    yield s
    s.close()


def _job(owner: str = "s1", max_attempts: int = 3) -> Job:
    return Job(kind=JobKind.ASK, owner=owner, title="q", spec={"x": 1}, max_attempts=max_attempts)


def test_create_get_list(store):
    a, b, c = _job("s1"), _job("s2"), _job("s1")
    for job in (a, b, c):
        store.create(job)
        time.sleep(0.002)
    got = store.get(a.id)
    assert got is not None and got.status is JobStatus.QUEUED and got.spec == {"x": 1}
    assert [j.id for j in store.list("s1")] == [c.id, a.id]  # newest first
    assert {j.id for j in store.list()} == {a.id, b.id, c.id}
    assert store.get("missing") is None
    assert store.count_active("s1") == 2


def test_claim_is_exclusive_across_threads(store):
    job = _job()
    store.create(job)
    winners: list[str] = []
    barrier = threading.Barrier(8)

    def grab(n: int) -> None:
        barrier.wait()
        if store.claim(job.id, f"w{n}", 5.0) is not None:
            winners.append(f"w{n}")

    threads = [threading.Thread(target=grab, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    got = store.get(job.id)
    assert got.status is JobStatus.RUNNING and got.attempts == 1
    assert got.lease_owner == f"{winners[0]}#1"
    assert store.claim(job.id, "late", 5.0) is None  # a duplicate message is a no-op


def test_only_the_owner_heartbeats_and_completes(store):
    job = _job()
    store.create(job)
    token = store.claim(job.id, "w1", 5.0).lease_owner
    assert store.heartbeat(job.id, token, 5.0, 0.5, "half way")
    assert not store.heartbeat(job.id, "w2#1", 5.0, 0.9, "impostor")
    got = store.get(job.id)
    assert got.progress == pytest.approx(0.5) and got.progress_text == "half way"
    assert not store.complete(job.id, "w2#1", {"answer": "wrong"})
    assert store.complete(job.id, token, {"answer": "42"})
    got = store.get(job.id)
    assert got.status is JobStatus.DONE and got.result == {"answer": "42"} and got.progress == 1
    assert not store.complete(job.id, token, {"answer": "again"})  # done stays done
    assert [r["outcome"] for r in store.runs(job.id)] == ["done"]


def test_failures_retry_until_attempts_are_used_up(store):
    job = _job(max_attempts=2)
    store.create(job)
    token = store.claim(job.id, "w1", 5.0).lease_owner
    assert store.fail(job.id, token, "boom", "炸了", retry=True) is JobStatus.QUEUED
    token = store.claim(job.id, "w1", 5.0).lease_owner
    assert token.endswith("#2")
    assert store.fail(job.id, token, "boom again", "又炸了", retry=True) is JobStatus.FAILED
    got = store.get(job.id)
    assert got.status is JobStatus.FAILED and got.error == "boom again" and got.finished
    assert store.fail(job.id, token, "x", "x", retry=True) is None  # no longer owned


def test_user_errors_fail_at_once(store):
    job = _job(max_attempts=5)
    store.create(job)
    token = store.claim(job.id, "w1", 5.0).lease_owner
    assert store.fail(job.id, token, "not a PDF", "不是 PDF", retry=False) is JobStatus.FAILED
    assert store.get(job.id).attempts == 1


def test_expired_leases_are_requeued_then_failed_with_the_reason(store):
    job = _job(max_attempts=2)
    store.create(job)
    token = store.claim(job.id, "dead-worker", 0.2).lease_owner
    assert store.reap(0.2) == []  # lease still valid
    time.sleep(0.4)
    assert store.reap(0.2) == [(job.id, JobStatus.QUEUED)]
    got = store.get(job.id)
    assert got.status is JobStatus.QUEUED and "stopped responding" in got.error
    assert not store.heartbeat(job.id, token, 5.0, 0.1, "zombie")  # the dead worker lost it
    store.claim(job.id, "dead-again", 0.2)
    time.sleep(0.4)
    assert store.reap(0.2) == [(job.id, JobStatus.FAILED)]
    got = store.get(job.id)
    assert got.status is JobStatus.FAILED
    assert "attempt 2 of 2" in got.error and "2/2" in got.error_zh
    assert [r["outcome"] for r in store.runs(job.id)] == ["lost", "lost"]


def test_heartbeat_keeps_a_live_job_from_being_reaped(store):
    job = _job()
    store.create(job)
    token = store.claim(job.id, "w1", 0.3).lease_owner
    for _ in range(4):
        time.sleep(0.15)
        assert store.heartbeat(job.id, token, 0.3, 0.1, "")
        assert store.reap(0.3) == []
    assert store.get(job.id).status is JobStatus.RUNNING


def test_cancel_and_stale_queued(store):
    a, b = _job(), _job()
    store.create(a)
    store.create(b)
    assert set(store.stale_queued(time.time() + 1)) == {a.id, b.id}  # never enqueued
    store.mark_enqueued(a.id)
    assert store.stale_queued(time.time() - 60) == [b.id]
    assert store.cancel(b.id)
    assert store.get(b.id).status is JobStatus.CANCELLED
    assert store.stale_queued(time.time() + 1) == [a.id]
    store.claim(a.id, "w", 5.0)
    assert not store.cancel(a.id)  # started jobs are not cancelled


def test_sqlite_table_survives_reopening(tmp_path):
    first = SqliteJobStore(tmp_path / "jobs.db")
    job = _job()
    first.create(job)
    token = first.claim(job.id, "w1", 5.0).lease_owner
    first.complete(job.id, token, {"answer": "kept"})
    first.close()
    second = SqliteJobStore(tmp_path / "jobs.db")
    assert second.get(job.id).result == {"answer": "kept"}


def _open_new_store(path: str, barrier) -> str | None:
    barrier.wait()  # every process opens the new file at the same moment
    try:
        SqliteJobStore(Path(path)).list(limit=1)
    except Exception as err:  # reported to the parent, which asserts on it
        return repr(err)
    return None


def test_processes_that_create_the_table_together_all_open_it(tmp_path):
    """A worker and the CLI started together: switching the new file to WAL used to fail at
    once in one of them ("database is locked", a traceback, exit 1) — about 1 round in 6 here."""
    ctx = multiprocessing.get_context("fork")
    errors = []
    with ctx.Manager() as manager, ctx.Pool(6) as pool:
        for n in range(12):
            barrier = manager.Barrier(6)
            path = str(tmp_path / f"jobs-{n}.db")
            errors += [e for e in pool.starmap(_open_new_store, [(path, barrier)] * 6) if e]
    assert errors == []

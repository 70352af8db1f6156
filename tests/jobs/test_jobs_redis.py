"""The Redis variant against a real redis-server (skipped when the Debian package is missing)."""

from __future__ import annotations

import signal

import pytest

from app.jobs import JobQueue, JobStatus
from tests.jobs.jobs_helpers import needle_text, wait_for

CODES = {n: 5000 + n * 11 for n in range(8)}
TEXT = "\n".join(f"The access code for locker {n} is {code}." for n, code in CODES.items())


@pytest.fixture
def redis_settings(job_settings, redis_db):
    return job_settings.model_copy(update={"redis_url": redis_db})


def test_two_workers_share_one_redis_queue_exactly_once(redis_settings, run_worker):
    from huey import RedisHuey

    producer = JobQueue(redis_settings)
    jobs = {
        n: producer.submit_ask(f"What is the access code for locker {n}?", text=TEXT) for n in CODES
    }
    assert isinstance(producer.huey, RedisHuey) and producer.backend == "redis"
    assert producer.huey.pending_count() == len(CODES)
    # the job table and the queue are in Redis: no SQLite files under the data dir
    root = redis_settings.data_dir / "jobs"
    assert not (root / "jobs.db").exists() and not (root / "queue.db").exists()

    # two consumers with their own connections, as on two machines
    first, second = JobQueue(redis_settings), JobQueue(redis_settings)
    run_worker(first)
    run_worker(second)
    for n, job in jobs.items():
        done = producer.wait(job.id, timeout=180)
        assert done.status is JobStatus.DONE, done.error
        assert str(CODES[n]) in done.result["record"]["answer"]
        runs = producer.store.runs(job.id)
        assert done.attempts == 1 and len(runs) == 1 and runs[0]["outcome"] == "done"
    # results survive a restart of the producer (a new connection reads the same table)
    again = JobQueue(redis_settings)
    assert {j.id for j in again.list(limit=100)} == {j.id for j in jobs.values()}
    assert again.get(jobs[0].id).result["record"]["answer"]


@pytest.mark.slow  # two worker processes; the SQLite twin runs by default
def test_redis_job_of_a_killed_worker_completes(redis_settings, spawn_worker):
    queue = JobQueue(redis_settings)
    job = queue.submit_ask("What is the vault code for osprey?", text=needle_text("osprey", 2))
    first = spawn_worker(redis_settings, name="doomed")
    wait_for(lambda: queue.get(job.id).status is JobStatus.RUNNING, 180, "the first claim")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert queue.get(job.id).status is JobStatus.RUNNING
    spawn_worker(redis_settings, name="rescuer")
    done = queue.wait(job.id, timeout=240)
    assert done.status is JobStatus.DONE and done.attempts == 2
    assert [r["outcome"] for r in queue.store.runs(job.id)] == ["lost", "done"]
    assert str(sum(map(ord, "osprey")) * 7) in done.result["record"]["answer"]

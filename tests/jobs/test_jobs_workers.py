"""Worker processes (`python -m app worker`): SIGKILL mid-job, resume, 50 jobs on 2 workers."""

from __future__ import annotations

import json
import signal

import pytest

from app.jobs import JobQueue, JobStatus
from app.jobs.batch import RESULTS
from app.jobs.files import result_dir
from tests.jobs.jobs_helpers import needle_text, wait_for


def _kill(proc) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


@pytest.mark.slow
def test_job_of_a_killed_worker_completes_on_a_new_worker(job_settings, spawn_worker):
    queue = JobQueue(job_settings)
    text = needle_text("kestrel", pages=2)
    job = queue.submit_ask("What is the vault code for kestrel?", text=text)
    first = spawn_worker(job_settings, name="doomed")
    wait_for(lambda: queue.get(job.id).status is JobStatus.RUNNING, 180, "the first claim")
    _kill(first)
    killed = queue.get(job.id)
    assert killed.status is JobStatus.RUNNING, "the job finished before the worker was killed"
    assert killed.attempts == 1

    second = spawn_worker(job_settings, name="rescuer")
    done = queue.wait(job.id, timeout=240)
    assert done.status is JobStatus.DONE, done.error
    assert done.attempts == 2
    runs = queue.store.runs(job.id)
    assert [r["outcome"] for r in runs] == ["lost", "done"]
    assert str(first.pid) in runs[0]["worker"] and str(second.pid) in runs[1]["worker"]
    assert str(sum(map(ord, "kestrel")) * 7) in done.result["record"]["answer"]


@pytest.mark.slow  # ~1-2 min on 2 busy cores; resume itself is also covered by test_jobs_batch.py
def test_batch_resumes_after_its_worker_is_killed(job_settings, spawn_worker, tmp_path):
    src = tmp_path / "items.jsonl"
    tags = ["alder", "birch", "cedar", "dogwood"]
    src.write_text(
        "\n".join(
            json.dumps({"text": needle_text(tag, pages=1), "question": f"Vault code for {tag}?"})
            for tag in tags
        )
    )
    queue = JobQueue(job_settings)
    job = queue.submit_batch(src)
    results = result_dir(job_settings, job.id) / RESULTS

    def lines() -> list[str]:
        return results.read_text().splitlines() if results.exists() else []

    first = spawn_worker(job_settings, name="doomed")
    wait_for(lambda: len(lines()) >= 1, 240, "the first batch item")
    _kill(first)
    before = lines()
    assert 1 <= len(before) < len(tags), "the batch finished before the worker was killed"
    assert queue.get(job.id).progress > 0

    spawn_worker(job_settings, name="rescuer")
    done = queue.wait(job.id, timeout=240)
    assert done.status is JobStatus.DONE, done.error
    after = lines()
    assert after[: len(before)] == before  # finished items were kept, not read again
    entries = [json.loads(x) for x in after]
    assert len(entries) == len(tags) == len({e["key"] for e in entries})
    for tag, entry in zip(tags, entries, strict=True):
        assert entry["status"] == "done"
        assert str(sum(map(ord, tag)) * 7) in entry["record"]["answer"]
    assert done.result["done"] == len(tags) and done.result["errors"] == 0
    assert [r["outcome"] for r in queue.store.runs(job.id)] == ["lost", "done"]


@pytest.mark.slow  # a soak run; a killed worker's job (above) covers recovery in the default run
def test_fifty_jobs_on_two_workers_complete_exactly_once(job_settings, spawn_worker):
    lockers = {n: 1000 + n * 37 for n in range(50)}
    text = "\n".join(f"The access code for locker {n} is {code}." for n, code in lockers.items())
    queue = JobQueue(job_settings)
    jobs = {
        n: queue.submit_ask(f"What is the access code for locker {n}?", text=text) for n in lockers
    }
    procs = [spawn_worker(job_settings, name=f"w{i}") for i in range(2)]
    for job in jobs.values():
        assert queue.wait(job.id, timeout=300).status is JobStatus.DONE
    workers = set()
    for n, job in jobs.items():
        done = queue.get(job.id)
        runs = queue.store.runs(job.id)
        assert done.attempts == 1 and len(runs) == 1, f"job {n} ran {len(runs)} times"
        assert runs[0]["outcome"] == "done"
        workers.add(runs[0]["worker"].split(":")[1])
        assert done.result["job_id"] == job.id
        assert str(lockers[n]) in done.result["record"]["answer"], n
    assert workers == {str(p.pid) for p in procs}  # both workers took part

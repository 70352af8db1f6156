"""Submit → worker → result with the real SQLite store, retries, restarts, lost messages."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from app.datamodel import Answer
from app.jobs import JobQueue, JobStatus
from app.jobs.files import read_json, result_dir, upload_dir
from tests.jobs.jobs_helpers import ROOT, worker_env

LOCKERS = "Locker register.\nThe access code for locker 3 is 4711.\nLocker 9 opens with 2208."


def _red_pixels(path) -> int:
    a = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return int(((a[..., 0] > 180) & (a[..., 1] < 80) & (a[..., 2] < 80)).sum())


def test_submit_worker_result_files_and_cli(job_settings, run_worker, tmp_path):
    src = tmp_path / "lockers.txt"
    src.write_text(LOCKERS)
    queue = JobQueue(job_settings)
    job = queue.submit_ask(
        "What is the access code for locker 3?", file=src, preset="en", overrides={"dpi": 96}
    )
    # the input was copied into the data dir: deleting the original does not hurt the job
    staged = upload_dir(job_settings, job.id) / "lockers.txt"
    assert staged.read_text() == LOCKERS
    src.unlink()
    assert queue.get(job.id).status is JobStatus.QUEUED
    run_worker(queue)
    done = queue.wait(job.id, timeout=120)
    assert done.status is JobStatus.DONE, done.error
    assert done.attempts == 1 and done.progress == 1 and done.finished >= done.started
    record = done.result["record"]
    assert "4711" in record["answer"] and record["document"]["dpi"] == 96
    assert record["evidence"] and record["evidence"][0]["boxes"]
    assert record["stats"]["visual_tokens"] > 0

    out = result_dir(job_settings, job.id)
    assert read_json(out / "result.json") == done.result
    answer = Answer.model_validate_json((out / "answer.json").read_text())
    assert answer.text == record["answer"]
    assert "4711" in (out / "result.md").read_text()
    image = out / done.result["files"]["evidence"][0]
    assert _red_pixels(image) > 20
    assert not list(out.glob(".*.tmp"))  # atomic writes leave nothing behind

    env = worker_env(job_settings)
    status = subprocess.run(
        [sys.executable, "-m", "app", "jobs", "status", job.id],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    data = json.loads(status.stdout)
    assert data["status"] == "done" and data["runs"][0]["outcome"] == "done"
    result = subprocess.run(
        [sys.executable, "-m", "app", "jobs", "result", job.id],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    printed = json.loads(result.stdout)
    assert printed["record"]["answer"] == record["answer"]
    assert (out / "result.json").samefile(f"{printed['result_dir']}/result.json")


def test_queue_and_results_survive_a_restart(job_settings, run_worker):
    first = JobQueue(job_settings)
    job = first.submit_ask("Which locker opens with 2208?", text=LOCKERS)
    first.close()  # the app stops before any worker ran
    second = JobQueue(job_settings)  # ... and starts again
    assert second.get(job.id).status is JobStatus.QUEUED
    assert job.id in second.pending_job_ids()
    run_worker(second)
    assert second.wait(job.id, timeout=120).status is JobStatus.DONE
    third = JobQueue(job_settings)
    assert "9" in third.get(job.id).result["record"]["answer"]


def test_bad_input_fails_at_once_with_the_reason(job_settings, run_worker, tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7 definitely broken \x00\xff" * 40)
    queue = JobQueue(job_settings)
    job = queue.submit_ask("Anything?", file=bad)
    run_worker(queue)
    failed = queue.wait(job.id, timeout=60)
    assert failed.status is JobStatus.FAILED and failed.attempts == 1
    assert "PDF" in failed.error and failed.error_zh


def test_unexpected_errors_are_retried_then_fail(job_settings, run_worker, monkeypatch):
    import app.jobs.runner as runner

    real = runner.run_ask
    calls: list[str] = []

    def flaky(pipeline, settings, job, progress, confirm):
        calls.append(job.id)
        if job.spec["question"].startswith("Always") or calls.count(job.id) == 1:
            raise RuntimeError("GPU fell off the bus")
        return real(pipeline, settings, job, progress, confirm)

    monkeypatch.setattr(runner, "run_ask", flaky)
    queue = JobQueue(job_settings)
    once = queue.submit_ask("What is the access code for locker 3?", text=LOCKERS)
    never = queue.submit_ask("Always failing: the code?", text=LOCKERS)
    run_worker(queue)
    ok = queue.wait(once.id, timeout=120)
    assert ok.status is JobStatus.DONE and ok.attempts == 2 and ok.error is None
    outcomes = [r["outcome"] for r in queue.store.runs(once.id)]
    assert outcomes[0].startswith("error: RuntimeError") and outcomes[1] == "done"
    bad = queue.wait(never.id, timeout=60)
    assert bad.status is JobStatus.FAILED and bad.attempts == job_settings.job_max_attempts
    assert "GPU fell off the bus" in bad.error
    assert calls.count(never.id) == job_settings.job_max_attempts


def test_duplicate_and_lost_messages(job_settings, run_worker):
    queue = JobQueue(job_settings)
    dup = queue.submit_ask("What is the access code for locker 3?", text=LOCKERS)
    lost = queue.submit_ask("Which locker opens with 2208?", text=LOCKERS)
    queue.huey.storage.flush_queue()  # both messages are gone (popped by a worker that died)
    queue.enqueue(dup.id)
    queue.enqueue(dup.id)  # ... and dup now has two
    # a job written to the table whose message was never sent (the app crashed in between)
    never = lost.model_copy(update={"id": "f" * 16, "enqueued": None})
    queue.store.create(never)
    run_worker(queue)
    assert queue.wait(dup.id, timeout=120).status is JobStatus.DONE
    assert len(queue.store.runs(dup.id)) == 1  # the duplicate message was a no-op
    # maintenance sends a message again for queued jobs that have none (after a grace period)
    for job_id in (never.id, lost.id):
        assert queue.wait(job_id, timeout=60).status is JobStatus.DONE
        assert len(queue.store.runs(job_id)) == 1


def test_a_written_result_is_kept_when_its_worker_died(job_settings, run_worker, pipeline):
    from app.jobs.runner import run_ask

    queue = JobQueue(job_settings)
    job = queue.submit_ask("What is the access code for locker 3?", text=LOCKERS)
    claimed = queue.store.claim(job.id, "doomed-worker", job_settings.job_lease_s)
    written = run_ask(pipeline, job_settings, claimed, lambda _f, _t: None)
    # ... and the worker died before it could mark the job done
    time.sleep(job_settings.job_lease_s + 0.2)
    run_worker(queue)
    done = queue.wait(job.id, timeout=60)
    assert done.status is JobStatus.DONE and done.attempts == 2
    assert done.result == written  # the same result, not a second reading
    assert [r["outcome"] for r in queue.store.runs(job.id)] == ["lost", "done"]


def test_cancel_a_queued_job(job_settings):
    queue = JobQueue(job_settings)
    job = queue.submit_ask("What is the access code for locker 3?", text=LOCKERS)
    assert queue.cancel(job.id)
    assert queue.get(job.id).status is JobStatus.CANCELLED
    with pytest.raises(Exception, match="No job"):
        queue.get("nope")


def test_submit_rejects_bad_requests_clearly(job_settings, tmp_path):
    from app.errors import GlyphError

    queue = JobQueue(job_settings)
    with pytest.raises(GlyphError, match="question"):
        queue.submit_ask("  ", text=LOCKERS)
    with pytest.raises(GlyphError, match="does not exist"):
        queue.submit_ask("q", file=tmp_path / "missing.pdf")
    with pytest.raises(GlyphError, match="Unknown reader"):
        queue.submit_ask("q", text=LOCKERS, reader="gpt")
    summary = queue.submit_ask("", text=LOCKERS, mode="summary")
    assert summary.spec["question"] == "Summarize the document."
    assert queue.list() and all(j.status is JobStatus.QUEUED for j in queue.list())

"""`python -m app jobs …` as a user runs it (subprocesses with their own environment)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.jobs.jobs_helpers import ROOT, worker_env

LOCKERS = "Locker register.\nThe access code for locker 3 is 4711.\nLocker 9 opens with 2208."


def _app(settings, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=worker_env(settings),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert not check or done.returncode == 0, f"exit {done.returncode}:\n{done.stderr[-3000:]}"
    return done


def test_submit_status_list_cancel_and_errors(job_settings, tmp_path):
    doc = tmp_path / "lockers.txt"
    doc.write_text(LOCKERS)
    out = _app(job_settings, "jobs", "submit", str(doc), "Code of locker 3?", "--render-preset",
               "en", "--set", "dpi=96", "--reader", "ocr")  # fmt: skip
    job_id = out.stdout.strip()
    assert len(job_id) == 16
    status = json.loads(_app(job_settings, "jobs", "status", job_id).stdout)
    assert status["status"] == "queued" and status["runs"] == [] and status["attempts"] == 0
    listed = json.loads(_app(job_settings, "jobs", "list").stdout)
    assert [j["id"] for j in listed] == [job_id] and "lockers.txt" in listed[0]["title"]

    early = _app(job_settings, "jobs", "result", job_id, check=False)
    assert early.returncode == 2 and "queued" in early.stderr and "Traceback" not in early.stderr
    assert "cancelled" in _app(job_settings, "jobs", "cancel", job_id).stdout
    again = _app(job_settings, "jobs", "cancel", job_id, check=False)
    assert again.returncode == 2 and "only queued jobs" in again.stderr

    missing = _app(job_settings, "jobs", "status", "nope", check=False)
    assert missing.returncode == 2 and "No job with id 'nope'" in missing.stderr
    bad = _app(job_settings, "jobs", "submit", str(doc), "q", "--reader", "gpt", check=False)
    assert bad.returncode == 2 and "Unknown reader" in bad.stderr
    empty = _app(job_settings, "jobs", "batch", str(tmp_path / "none"), check=False)
    assert empty.returncode == 2 and "does not exist" in empty.stderr


@pytest.mark.slow
def test_local_batch_with_progress_bar_and_resume(job_settings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lockers.txt").write_text(LOCKERS)
    (docs / "note.md").write_text("# Note\nThe parcel weighs 12 kg and ships to Anna Berg.")
    out = tmp_path / "out"
    args = ["jobs", "batch", str(docs), "-q", "What is the access code for locker 3?",
            "-q", "How much does the parcel weigh?", "--local", "--out", str(out)]  # fmt: skip
    first = _app(job_settings, *args)
    summary = json.loads(first.stdout)
    assert summary["total"] == 4 and summary["done"] == 4 and summary["errors"] == 0
    assert "4/4" in first.stderr and "batch" in first.stderr  # tqdm's bar on stderr
    lines = (out / "results.jsonl").read_text().splitlines()
    answers = {(e["document"], e["question"][:8]): e["record"]["answer"] for e in map(json.loads, lines)}  # fmt: skip
    assert "4711" in answers[("lockers.txt", "What is ")]
    assert "12" in answers[("note.md", "How much")]
    assert list((out / "evidence").glob("item-*-page001.png"))

    second = _app(job_settings, *args)  # resume: every item is already there
    assert json.loads(second.stdout) == summary
    assert (out / "results.jsonl").read_text().splitlines() == lines


@pytest.mark.slow
def test_queued_batch_waits_with_a_progress_bar(job_settings, spawn_worker, tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text(
        json.dumps({"text": LOCKERS, "questions": ["Which locker opens with 2208?"], "id": "a"})
        + "\n"
        + json.dumps({"text": LOCKERS, "mode": "extract", "id": "b"})
        + "\n"
    )
    spawn_worker(job_settings)
    done = _app(job_settings, "jobs", "batch", str(items), "--wait")
    result = json.loads(done.stdout)
    assert result["kind"] == "batch" and result["total"] == 2 and result["done"] == 2
    assert "done" in done.stderr  # the bar's last status
    job_id = result["job_id"]
    assert json.loads(_app(job_settings, "jobs", "result", job_id).stdout) == result
    text = Path(result["results"]).read_text(encoding="utf-8")
    entries = [json.loads(x) for x in text.splitlines()]
    assert [e["key"] for e in entries] == ["a#1", "b#1"]
    assert "9" in entries[0]["record"]["answer"] and entries[1]["mode"] == "extract"


def test_batch_over_a_collection_asks_each_question_once(job_settings, tmp_path):
    """``--collection``: the folder's documents are one collection; every evidence item names
    the document it is in; a file that cannot be opened is left out with a note."""
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "lockers.txt").write_text(LOCKERS)
    (docs / "sub" / "note.md").write_text("# Note\nThe parcel weighs 12 kg and ships to Anna Berg.")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7 not a PDF")
    out = tmp_path / "out"
    args = ["jobs", "batch", str(docs), "-q", "What is the access code for locker 3?",
            "-q", "How much does the parcel weigh?", "--collection", "--local", "--out", str(out)]  # fmt: skip
    summary = json.loads(_app(job_settings, *args).stdout)
    assert summary["total"] == 2 and summary["done"] == 2 and summary["errors"] == 0
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    by_question = {e["question"][:8]: e["record"] for e in results}
    assert {e["document"] for e in results} == {"docs"}
    lockers, parcel = by_question["What is "], by_question["How much"]
    assert "4711" in lockers["answer"] and "12" in parcel["answer"]
    assert {ev["document"] for ev in lockers["evidence"]} == {"lockers.txt"}
    assert {ev["document"] for ev in parcel["evidence"]} == {"note.md"}
    assert any("Left out broken.pdf" in n["en"] for n in lockers["document"]["notes"])
    refused = _app(job_settings, "jobs", "batch", str(docs / "lockers.txt"), "--collection",
                   check=False)  # fmt: skip
    assert refused.returncode == 2 and "needs a folder" in refused.stderr

"""Damaged files on disk are recomputed (caches, rendered batches) or reported clearly (finished
job results), never fatal and never served as if they were good."""

from __future__ import annotations

import json
import time

import pytest

from app.errors import GlyphError
from app.pipeline import Pipeline
from app.settings import Settings
from app.ui.manager import UIManager
from app.ui.session import Session

NOTE = "Shipping note. The parcel weighs 12 kg and ships on 3 May 2025 to Anna Berg."
WEIGHT = "How much does the parcel weigh?"


def _ask(pipeline: Pipeline, text: str, question: str) -> str:
    manager, s = UIManager(pipeline), Session()
    manager.open_text(s, text)
    return [u for u in manager.ask(s, question, "qa") if u.final is not None][-1].final.text


DAMAGE = {
    "truncated": lambda raw: raw[: len(raw) // 2],
    "empty": lambda raw: b"",
    "binary": lambda raw: b"\x00\xff\xfe garbage \x00" * 3,
    "foreign": lambda raw: raw.replace(b'"sha256":"', b'"sha256":"0'),
    "wrong shape": lambda raw: json.dumps({"format": 1, "lines": "nope"}).encode(),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damaged_ocr_cache_entries_are_read_again_and_rewritten(tmp_path, kind):
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", reader="ocr")
    first = Pipeline(settings)
    assert "12" in _ask(first, NOTE, WEIGHT)
    first.close()
    entries = list((settings.resolved_cache_dir / "ocr").rglob("*.json"))
    assert entries
    for path in entries:
        path.write_bytes(DAMAGE[kind](path.read_bytes()))

    second = Pipeline(settings)  # a restarted server: nothing in memory, the disk is all it has
    assert "12" in _ask(second, NOTE, WEIGHT)
    second.close()
    for path in entries:  # recomputed entries replaced the damaged ones
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["sha256"] == path.stem and isinstance(data["lines"], list)


def test_damaged_search_cache_entry_is_evaluated_again(tmp_path, caplog):
    from app.search.evaluate import EvalCache, EvalResult

    cache = EvalCache(tmp_path / "search")
    result = EvalResult(accuracy=0.5, compression=3.0, correct=1, questions=2)
    cache.put("ab" * 16, result)
    path = next((tmp_path / "search").rglob("*.json"))
    path.write_text('{"format": ', encoding="utf-8")
    assert cache.get("ab" * 16) is None and "unreadable" in caplog.text
    cache.put("ab" * 16, result)
    assert cache.get("ab" * 16) == result


@pytest.fixture
def finished_job(tmp_path):
    """A job answered by a real in-process worker; (manager, jobs, session, job)."""
    from app.jobs import JobQueue
    from app.jobs.worker import Worker
    from app.ui.jobs_view import JobsManager

    settings = Settings(_env_file=None, data_dir=tmp_path / "data", reader="ocr", job_lease_s=10)
    pipeline, queue = Pipeline(settings), JobQueue(settings)
    worker = Worker(settings, pipeline=pipeline, queue=queue).start()
    manager, jobs, s = UIManager(pipeline), JobsManager(queue), Session(root=tmp_path / "sess")
    manager.open_text(s, NOTE)
    job = jobs.submit(s, WEIGHT, "qa")
    deadline = time.monotonic() + 180
    while jobs.has_active(s):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    yield manager, jobs, s, job
    worker.stop()
    pipeline.close()


def test_damaged_job_results_are_reported_clearly(finished_job):
    from app.jobs.files import resolve, result_dir

    _manager, jobs, s, job = finished_job
    out = result_dir(jobs.queue.settings, job.id)
    record = jobs.queue.get(job.id).result or json.loads((out / "result.json").read_text())
    folder = resolve(jobs.queue.settings, record["result_dir"])
    # a damaged evidence image: the answer still loads, without that picture
    for png in folder.glob("evidence-page*.png"):
        png.write_bytes(png.read_bytes()[:40])
    loaded = jobs.load(s, job.id)
    assert "12" in loaded.answer.text and s.evidence_images == {}
    # a damaged answer: a clear message (submit again), not a traceback
    (folder / "answer.json").write_text('{"text": "12 kg", "conf', encoding="utf-8")
    with pytest.raises(GlyphError, match=r"missing or damaged.*submit the question again") as info:
        jobs.load(s, job.id)
    assert "已损坏" in info.value.zh
    (folder / "answer.json").unlink()
    with pytest.raises(GlyphError, match="missing or damaged"):
        jobs.load(s, job.id)


def test_damaged_rendered_pages_are_rendered_again_on_resume(tmp_path):
    from app.render.batch import done_ids, run_batch

    source = tmp_path / "docs.jsonl"
    source.write_text(
        "\n".join(json.dumps({"id": f"d{i}", "text": NOTE * (i + 1)}) for i in range(3)) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert run_batch(source, out, config="en", progress=False)["ok"] == 3
    page = next((out / "d1").glob("*.png"))
    good = page.read_bytes()
    page.write_bytes(good[: len(good) // 2])  # cut short (a full disk, a killed copy)
    (out / "d2" / next((out / "d2").glob("*.png")).name).unlink()
    assert done_ids(out / "manifest.jsonl") == {"d0"}
    counts = run_batch(source, out, config="en", progress=False)
    assert counts == {"ok": 2, "error": 0, "skipped": 1}
    assert page.read_bytes() == good  # deterministic renderer: the same bytes again
    assert done_ids(out / "manifest.jsonl") == {"d0", "d1", "d2"}

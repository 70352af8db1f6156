"""Batch input (folder, JSONL), the resumable JSONL output, and atomic files."""

from __future__ import annotations

import json

import pytest

from app.files import atomic_write_json
from app.jobs.batch import finished_items, run_batch
from app.jobs.files import read_json
from app.jobs.items import BatchInputError, collect_items, local_items

LOCKERS = "Locker register.\nThe access code for locker 3 is 4711.\nLocker 9 opens with 2208."
SHIPPING = "Shipping note. The parcel weighs 12 kg and ships on 3 May 2025 to Anna Berg."


def test_folder_items_are_documents_times_questions(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text(LOCKERS)
    (tmp_path / "sub" / "b.md").write_text(SHIPPING)
    (tmp_path / "notes.xyz").write_text("not a document type")
    (tmp_path / ".hidden.txt").write_text("skipped")
    items = collect_items(tmp_path, ["Q1?", "Q2?"])
    assert [(i["name"], i["question"]) for i in items] == [
        ("a.txt", "Q1?"),
        ("a.txt", "Q2?"),
        ("sub/b.md", "Q1?"),
        ("sub/b.md", "Q2?"),
    ]
    assert len({i["key"] for i in items}) == 4
    # keys are stable: the same folder and questions give the same keys (resume relies on it)
    assert [i["key"] for i in collect_items(tmp_path, ["Q1?", "Q2?"])] == [i["key"] for i in items]
    summary = collect_items(tmp_path, [], mode="summary")
    assert len(summary) == 2 and summary[0]["question"] == "Summarize the document."
    with pytest.raises(BatchInputError, match="question"):
        collect_items(tmp_path, [])  # qa needs a question


def test_jsonl_items(tmp_path):
    (tmp_path / "a.txt").write_text(LOCKERS)
    lines = [
        {"file": "a.txt", "question": "What is the code of locker 3?"},
        {"text": SHIPPING, "questions": ["Weight?", "Date?"], "id": "ship"},
        {"text": SHIPPING, "mode": "summary", "name": "ship.txt"},
    ]
    src = tmp_path / "items.jsonl"
    src.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    items = collect_items(src, [])
    assert [i["key"] for i in items][1:3] == ["ship#1", "ship#2"]
    assert items[0]["file"] == (tmp_path / "a.txt").resolve()
    assert items[3]["mode"].value == "summary" and items[3]["name"] == "ship.txt"

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"file": "missing.pdf", "question": "x"}\n')
    with pytest.raises(BatchInputError, match="does not exist"):
        collect_items(bad, [])
    bad.write_text("[1, 2]\n")
    with pytest.raises(BatchInputError, match="line 1"):
        collect_items(bad, [])
    bad.write_text('{"question": "x"}\n')
    with pytest.raises(BatchInputError, match="'file' or 'text'"):
        collect_items(bad, [])
    bad.write_text('{"text": "x", "question": "x", "mode": "poem"}\n')
    with pytest.raises(BatchInputError, match="Unknown mode"):
        collect_items(bad, [])


def test_torn_last_line_is_dropped_before_resuming(tmp_path):
    results = tmp_path / "results.jsonl"
    results.write_text('{"key": "a", "status": "done"}\n{"key": "b", "stat')
    assert set(finished_items(results)) == {"a"}
    assert results.read_text() == '{"key": "a", "status": "done"}\n'  # repaired on disk
    assert finished_items(tmp_path / "none.jsonl") == {}


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "out" / "result.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"a": 2})
    assert read_json(target) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["result.json"]
    target.write_text("{ half")
    assert read_json(target) is None


def test_local_batch_writes_jsonl_and_evidence_and_resumes(job_settings, tmp_path):
    from app.pipeline import Pipeline

    src = tmp_path / "items.jsonl"
    src.write_text(
        "\n".join(
            json.dumps(x)
            for x in [
                {"text": LOCKERS, "questions": ["What is the access code for locker 3?"]},
                {"text": LOCKERS, "question": "Which locker opens with 2208?"},
                {"file": "broken.pdf", "question": "Anything?"},
            ]
        )
    )
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7 broken \x00\xff" * 20)
    out = tmp_path / "out"
    items = local_items(collect_items(src, []), out / "inputs")
    pipeline = Pipeline(job_settings)
    seen: list[float] = []
    summary = run_batch(pipeline, items, out, reader="ocr", progress=lambda f, _t: seen.append(f))
    assert summary["total"] == 3 and summary["done"] == 2 and summary["errors"] == 1
    assert seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert [x["status"] for x in lines] == ["done", "done", "error"]
    assert "4711" in lines[0]["record"]["answer"]
    assert lines[2]["error"] and lines[2]["error_zh"]
    for line in lines[:2]:
        assert line["evidence_images"] and all((out / p).is_file() for p in line["evidence_images"])
        assert line["record"]["evidence"][0]["boxes"]

    # resume: nothing left to do; drop one line and only that item is read again
    again = run_batch(pipeline, items, out, reader="ocr")
    assert again == summary
    kept = (out / "results.jsonl").read_text().splitlines()
    (out / "results.jsonl").write_text("\n".join([kept[0], kept[2]]) + "\n")
    redone: list[str] = []
    run_batch(pipeline, items, out, reader="ocr", progress=lambda _f, t: redone.append(t))
    final = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(x["key"] for x in final) == sorted(i.key for i in items)
    assert redone[0] == "2/3" and any(t.startswith("3/3:") for t in redone)
    pipeline.close()

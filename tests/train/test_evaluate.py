"""scripts/eval_inference.py: metrics over known answers, per-row outputs, timing, every reader."""

import json
import os
import runpy
import sys

import pytest

from app.datamodel import Answer, AnswerChunk, Mode
from app.errors import ReaderError
from app.readers.base import Reader, ReaderCapabilities
from app.train.data import Documents, read_rows
from app.train.evaluate import PREDICTIONS, SUMMARY, evaluate
from app.train.synth import make_qa_rows


class CannedReader(Reader):
    """Answers from a table (the harness is under test here, not a reader)."""

    name = "canned"

    def __init__(self, answers):
        self.answers = answers
        self.seen_pages = []

    @property
    def capabilities(self):
        return ReaderCapabilities(description="canned answers")

    def answer(self, rendered, question, mode=Mode.QA, *, stream=True):
        self.seen_pages.append(len(rendered.pages))
        text = self.answers[question]
        if text is None:
            raise ReaderError("the model is gone", "模型不见了")
        yield AnswerChunk(kind="final", answer=Answer(text=text, reader=self.name))


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def run_script(argv):
    old = sys.argv
    sys.argv = ["eval_inference.py", *argv]
    try:
        runpy.run_path("scripts/eval_inference.py", run_name="__main__")
    except SystemExit as exit_:
        return exit_.code
    finally:
        sys.argv = old
    return None


@pytest.fixture
def clean_env(monkeypatch):
    for key in list(os.environ):
        if key.startswith("GLYPH_"):
            monkeypatch.delenv(key, raising=False)


def test_scores_on_known_answers(tmp_path):
    data = write_jsonl(
        tmp_path / "qa.jsonl",
        [
            {
                "id": "r1",
                "text": "Signed by Grace Liu.",
                "question": "Who signed?",
                "answer": "Grace Liu",
            },
            {
                "id": "r2",
                "text": "会议在成都举行。",
                "question": "会议在哪里举行？",
                "answer": "成都",
            },
            {
                "id": "r3",
                "text": "Total: 4.5 million.",
                "question": "What is the amount?",
                "answers": ["4.5 million dollars", "$4.5 million"],
            },
            {"id": "r4", "text": "Nothing here.", "question": "Is it broken?", "answer": "yes"},
        ],
    )
    reader = CannedReader(
        {
            "Who signed?": "grace liu.",  # case and punctuation do not matter
            "会议在哪里举行？": "在成都",  # characters: P = 2/3, R = 1 → F1 = ROUGE-L = 0.8
            "What is the amount?": "4.5 million",  # matches the second reference exactly
            "Is it broken?": None,  # the reader fails on this row
        }
    )
    out = tmp_path / "predictions.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        report = evaluate(read_rows(data), reader, Documents("auto", {"dpi": 48}), out=fh)
    summary = report.summary()
    assert summary["rows"] == 4 and summary["errors"] == 1
    assert summary["scores"] == {"exact_match": 50.0, "f1": 70.0, "rouge_l": 70.0}
    assert summary["by_lang"]["zh"] == {"rows": 1, "exact_match": 0.0, "f1": 80.0, "rouge_l": 80.0}
    assert summary["by_lang"]["en"]["rows"] == 3
    assert summary["by_lang"]["en"]["exact_match"] == pytest.approx(66.67)
    lines = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["r1", "r2", "r3", "r4"]
    assert lines[1]["prediction"] == "在成都" and lines[1]["f1"] == pytest.approx(0.8)
    assert lines[3]["error"] == "the model is gone" and lines[3]["f1"] == 0.0
    assert all(p >= 1 for p in reader.seen_pages)  # readers got rendered pages
    timing = summary["timing"]
    assert timing["render_s"] > 0 and timing["wall_s"] >= timing["answer_s_total"] >= 0
    assert set(timing) >= {"answer_s_mean", "answer_s_p50", "answer_s_p90", "rows_per_s"}


def test_script_runs_the_vlm_reader(tiny_vlm_dir, tmp_path, clean_env):
    data = write_jsonl(tmp_path / "qa.jsonl", make_qa_rows(2, lang="en", sentences=2))
    out = tmp_path / "eval-vlm"
    code = run_script(
        [
            str(data),
            "--reader",
            "vlm",
            "--model",
            str(tiny_vlm_dir),
            "--config",
            "en",
            "--set",
            "device=cpu",
            "--set",
            "dtype=float32",
            "--set",
            "max_new_tokens=4",
            "--set",
            f"data_dir={tmp_path / 'data'}",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    summary = json.loads((out / SUMMARY).read_text("utf-8"))
    assert summary["reader"] == "vlm" and str(tiny_vlm_dir) in summary["description"]
    assert summary["rows"] == 2 and summary["errors"] == 0
    assert summary["timing"]["answer_s_total"] > 0 and summary["timing"]["reader_load_s"] > 0
    rows = [json.loads(x) for x in (out / PREDICTIONS).read_text("utf-8").splitlines()]
    assert len(rows) == 2 and all(r["visual_tokens"] > 0 for r in rows)
    for row in rows:  # per-row scores are the metrics of that row's prediction
        from app.train.metrics import score

        assert row["f1"] == pytest.approx(score(row["prediction"], row["answers"]).f1)


def test_script_scores_the_builtin_ocr_reader_on_text_and_image_rows(tmp_path, clean_env):
    rows = make_qa_rows(2, lang="en", sentences=2, per_document=2)
    from app.render import render, resolve_config

    page = render(rows[0]["text"], resolve_config("en", text=rows[0]["text"])).pages[0]
    page.image.save(tmp_path / "page.png")
    rows.append({**rows[0], "id": "as-image", "image_path": "page.png"})
    del rows[-1]["text"]
    data = write_jsonl(tmp_path / "qa.jsonl", rows)
    out = tmp_path / "eval-ocr"
    code = run_script(
        [
            str(data),
            "--reader",
            "ocr",
            "--set",
            f"data_dir={tmp_path / 'data'}",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    summary = json.loads((out / SUMMARY).read_text("utf-8"))
    assert summary["reader"] == "ocr" and summary["rows"] == 3 and summary["errors"] == 0
    predictions = [json.loads(x) for x in (out / PREDICTIONS).read_text("utf-8").splitlines()]
    # the same question on the same page, once from text and once from a bare image: same answer
    assert predictions[2]["prediction"] == predictions[0]["prediction"] != ""
    assert 0 <= summary["scores"]["f1"] <= 100


def test_script_rejects_unknown_settings(tmp_path, clean_env, capsys):
    data = write_jsonl(tmp_path / "qa.jsonl", make_qa_rows(1))
    assert run_script([str(data), "--set", "max_new_tokenz=3"]) == 2
    assert "unknown setting(s): max_new_tokenz" in capsys.readouterr().err

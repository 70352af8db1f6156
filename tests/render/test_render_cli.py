"""`python -m app render` and scripts/render_text.py (batch, workers, resume)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from app.cli import app
from app.datamodel import LayoutMap
from app.render.batch import done_ids, run_batch, safe_id

ROOT = Path(__file__).resolve().parents[2]
TEXT = "Glyph renders text.\n视觉文本压缩。\n" + "More words to fill a line. " * 30


def _check_output_dir(out: Path, prefix: str) -> dict:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    # ingest normalises the text a little (trailing white space); text.txt is what was drawn
    text = (out / "text.txt").read_text(encoding="utf-8")
    assert text.startswith(prefix)
    layout = LayoutMap.from_npz((out / "layout.npz").read_bytes())
    assert len(layout) == len(text)
    assert manifest["chars"] == len(text)
    assert manifest["config"]["page-size"] == "595,842"
    for page in manifest["pages"]:
        image = Image.open(out / page["file"])
        assert image.size == (page["width"], page["height"])
        assert page["visual_tokens"] > 0
    assert manifest["stats"]["visual_tokens"] == sum(p["visual_tokens"] for p in manifest["pages"])
    return manifest


def test_render_command_from_stdin(tmp_path):
    result = CliRunner().invoke(
        app, ["render", "-", "--config", "en", "--out", str(tmp_path)], input=TEXT
    )
    assert result.exit_code == 0, result.output
    assert "visual tokens" in result.output
    manifest = _check_output_dir(tmp_path, TEXT.strip())
    assert manifest["name"] == "stdin.txt"


def test_render_command_from_a_text_file_and_stale_pages_go(tmp_path):
    source = tmp_path / "doc.txt"
    long_text = "A line of text that repeats.\n" * 400
    source.write_text(long_text, encoding="utf-8")
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(app, ["render", str(source), "-c", "en", "-o", str(out)]).exit_code == 0
    _check_output_dir(out, "A line of text that repeats.\n")
    many = len(list(out.glob("page_*.png")))
    assert many >= 2
    source.write_text("short\n", encoding="utf-8")
    assert runner.invoke(app, ["render", str(source), "-c", "zh", "-o", str(out)]).exit_code == 0
    assert sorted(p.name for p in out.glob("page_*.png")) == ["page_001.png"]
    manifest = _check_output_dir(out, "short")
    assert manifest["config"]["name"] == "zh"


def test_render_command_reports_user_errors_cleanly(tmp_path):
    result = CliRunner().invoke(
        app, ["render", "-", "--config", "nope", "--out", str(tmp_path)], input="x"
    )
    assert result.exit_code == 2
    assert "Unknown render preset" in result.output
    assert "Traceback" not in result.output


def _jsonl(path: Path, records: list) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records)
    )
    return path


def test_batch_renders_records_records_failures_and_resumes(tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text("From a file.\n" * 3, encoding="utf-8")
    source = _jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "a", "text": "Hello"},
            {"id": "b/2", "text": "你好，世界。"},
            {"id": 3, "path": str(doc)},
            {"id": "missing", "path": str(tmp_path / "nope.txt")},
            "not json",
            {"id": "a", "text": "duplicate id"},
        ],
    )
    out = tmp_path / "out"
    counts = run_batch(source, out, config="auto", workers=2, progress=False)
    assert counts == {"ok": 3, "error": 2, "skipped": 0}
    lines = [
        json.loads(x) for x in (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    by_id = {x["id"]: x for x in lines}
    assert by_id["b/2"]["config"] == "zh" and by_id["a"]["config"] == "en"
    assert by_id["missing"]["status"] == "error" and by_id["missing"]["error_zh"]
    for entry in (by_id["a"], by_id["b/2"], by_id["3"]):
        assert entry["status"] == "ok"
        for page in entry["pages"]:
            assert (out / page).is_file()
    assert (out / safe_id("b/2") / "manifest.json").is_file()
    assert done_ids(out / "manifest.jsonl") == {"a", "b/2", "3"}

    # resume: finished ids are skipped, failed ones retried
    again = run_batch(source, out, config="auto", workers=1, progress=False)
    assert again == {"ok": 0, "error": 2, "skipped": 4}  # the duplicate "a" counts as done


def test_batch_overrides_apply_to_every_record(tmp_path):
    source = _jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": "Hello world"}])
    out = tmp_path / "out"
    run_batch(
        source, out, config="en", overrides={"dpi": 144, "auto_crop_width": False}, progress=False
    )
    entry = json.loads((out / "manifest.jsonl").read_text(encoding="utf-8"))
    assert entry["sizes"][0][0] == 1190


def test_render_text_script_end_to_end(tmp_path):
    source = _jsonl(
        tmp_path / "in.jsonl", [{"id": "one", "text": "Hello"}, {"id": "two", "text": "世界"}]
    )
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        str(ROOT / "scripts" / "render_text.py"),
        str(source),
        str(out),
        "--workers",
        "2",
        "--set",
        "dpi=96",
        "--no-progress",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "ok 2" in done.stdout
    pages = sorted(out.glob("*/page_001.png"))
    assert len(pages) == 2
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert "skipped 2" in again.stdout
    bad = subprocess.run(
        [*cmd[:4], "--set", "nosuchfield=1"], capture_output=True, text=True, cwd=ROOT
    )
    assert bad.returncode == 2 and "nosuchfield" in bad.stderr
    image = np.asarray(Image.open(pages[0]).convert("L"))
    assert image.min() < 100  # something was drawn

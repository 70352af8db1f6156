"""``python -m app ask``: the new user's path, JSON output, stdin, modes and errors."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "app" / "ui" / "examples"

pytest.importorskip("rapidocr")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """One data dir for the module: its OCR cache spares re-reading the same example pages."""
    return tmp_path_factory.mktemp("ask-data")


@pytest.fixture
def runner(data_dir, monkeypatch):
    from app.settings import get_settings

    for key in ("GLYPH_READER", "GLYPH_MODEL", "GLYPH_OPENAI_BASE_URL", "GLYPH_CACHE_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GLYPH_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_ask_prints_answer_with_evidence(runner, tmp_path):
    out = tmp_path / "evidence"
    result = runner.invoke(
        app,
        [
            "ask",
            str(EXAMPLES / "service_agreement.md"),
            "What is the annual subscription fee?",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "answer: EUR 186,400" in result.stdout
    assert "OCR page 1/1" in result.stderr  # progress streamed to stderr
    assert "evidence:" in result.stdout and "image " in result.stdout
    assert list(out.glob("evidence-page001.png"))


def test_ask_json_is_one_object_with_boxes_and_images(runner, tmp_path):
    out = tmp_path / "ev"
    result = runner.invoke(
        app,
        [
            "ask",
            str(EXAMPLES / "年度财报摘要.txt"),
            "公司2024年营业收入是多少？",
            "--reader",
            "ocr",
            "--json",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answer"] == "38.62 亿元" and data["reader"] == "ocr"
    assert 0.6 <= data["confidence"] <= 1 and data["needs_review"] is False
    ev = data["evidence"][0]
    assert ev["page"] == 0 and ev["page_number"] == 1 and len(ev["boxes"][0]) == 4
    assert Path(ev["image"]).is_file() and Path(ev["image"]).parent == out
    assert data["document"]["visual_tokens"] > 0 and data["document"]["pages"] >= 1
    assert {"open", "render", "ask", "total"} <= set(data["timings"])
    assert result.stderr == ""  # --json: nothing but the object


def test_ask_stdin_modes_and_review(runner):
    text = (
        "Meeting notes of 2 June 2025.\n"
        "The budget for the Lima office is USD 48,000 per year.\n"
        "Contact: lima@example.org or +51 1 555 0199.\n"
    )
    result = runner.invoke(app, ["ask", "-", "--mode", "extract", "--json"], input=text)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["mode"] == "extract"
    assert {e["label"] for e in data["evidence"]} >= {"date", "amount", "email"}
    summary = runner.invoke(app, ["ask", "-", "--mode", "summary"], input=text)
    assert summary.exit_code == 0 and summary.stdout.startswith("summary:")
    unknown = runner.invoke(app, ["ask", "-", "Who won the 1998 World Cup?"], input=text)
    assert unknown.exit_code == 0 and "需人工确认 / needs review" in unknown.stdout


def test_ask_user_errors_exit_2(runner, tmp_path):
    missing = runner.invoke(app, ["ask", str(tmp_path / "nope.txt"), "q"])
    assert missing.exit_code == 2 and "error:" in missing.stderr
    bad_mode = runner.invoke(app, ["ask", "-", "q", "--mode", "poem"], input="text")
    assert bad_mode.exit_code == 2 and "poem" in bad_mode.stderr
    no_question = runner.invoke(app, ["ask", "-"], input="text")
    assert no_question.exit_code == 2


def test_ask_pdf_marks_the_original_page_too(runner, tmp_path):
    pymupdf = pytest.importorskip("pymupdf")
    pdf = pymupdf.open()
    pdf.new_page(width=595, height=842).insert_text(
        (72, 120), "The late fee of the contract is EUR 2,300 per month.", fontsize=11
    )
    pdf.save(tmp_path / "contract.pdf")
    out = tmp_path / "ev"
    result = runner.invoke(
        app,
        [
            "ask",
            str(tmp_path / "contract.pdf"),
            "What is the late fee?",
            "--json",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answer"] == "EUR 2,300"
    ev = next(e for e in data["evidence"] if e["source_boxes"])
    assert ev["source_page"] == 0 and Path(ev["source_image"]).is_file()

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


def test_not_found_points_at_the_closest_passage_in_its_own_image(runner, tmp_path):
    """The agreement does not say how many people the provider employs: "not found", and the
    passage to check drawn apart from evidence, under its own name."""
    out = tmp_path / "closest"
    question = "How many employees does the provider have?"
    result = runner.invoke(app, ["ask", str(EXAMPLES / "service_agreement.md"), question,
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "answer: Not found in the document." in result.stdout
    assert "evidence:" not in result.stdout
    assert "closest passage (not an answer; please check there):\n  page 1: " in result.stdout
    assert "(outlined in blue)" in result.stdout
    assert [p.name for p in out.glob("*.png")] == ["closest-page001.png"]


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
    # flagged exactly when the calibrated confidence is under the default threshold (0.9)
    assert 0.6 <= data["confidence"] <= 1 and data["needs_review"] is (data["confidence"] < 0.9)
    assert data["checks"] == [
        {**data["checks"][0], "value": "38.62 亿元", "status": "exact", "page_number": 1}
    ]
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


@pytest.mark.slow
def test_ask_huge_pdf_page_draws_bounded_evidence(tmp_path):
    """#21: a 14400 x 14400 pt page (200 inches) crashed `ask` with MuPDF's 'Overly large
    image' after the answer was computed. The original page is drawn at a bounded size."""
    import os
    import subprocess
    import sys

    from PIL import Image

    from app.evidence.draw import MAX_SOURCE_PIXELS, MAX_SOURCE_SIDE

    pymupdf = pytest.importorskip("pymupdf")
    pdf = pymupdf.open()
    page = pdf.new_page(width=14400, height=14400)
    page.insert_text((72, 120), "The late fee of the contract is EUR 2,300 per month.", fontsize=11)
    pdf.save(tmp_path / "poster.pdf")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLYPH_")}
    env["GLYPH_DATA_DIR"] = str(tmp_path / "data")
    out = tmp_path / "ev"
    args = [str(tmp_path / "poster.pdf"), "What is the late fee?", "--json", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, "-m", "app", "ask", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert data["answer"] == "EUR 2,300"
    ev = next(e for e in data["evidence"] if e["source_boxes"])
    with Image.open(ev["source_image"]) as image:
        w, h = image.size
    assert max(w, h) <= MAX_SOURCE_SIDE + 1 and w * h <= MAX_SOURCE_PIXELS * 1.01  # rounding


def test_source_scale_is_bounded_for_every_page_size():
    from app.evidence.draw import MAX_SOURCE_PIXELS, MAX_SOURCE_SIDE, source_scale

    assert source_scale(595, 842, 110) == pytest.approx(110 / 72)  # A4: as asked
    for w, h in [(14400, 14400), (14400, 3), (3, 14400), (0, 0), (2384, 3370)]:
        s = source_scale(w, h, 110)
        assert 0 < s <= 110 / 72
        assert max(w, h) * s <= MAX_SOURCE_SIDE + 1 and w * h * s * s <= MAX_SOURCE_PIXELS + 1


def test_ask_keeps_the_answer_when_drawing_fails(runner, tmp_path, monkeypatch):
    """Drawing evidence happens after the answer: a failure there is a note, not a crash."""

    def broken(*args, **kwargs):
        raise RuntimeError("code=5: Overly large image")

    monkeypatch.setattr("app.evidence.save_annotated", broken)
    text = "The budget for the Lima office is USD 48,000 per year.\n"
    result = runner.invoke(app, ["ask", "-", "What is the budget?", "--json"], input=text)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "48,000" in data["answer"]
    assert any("evidence images could not be drawn" in n["en"] for n in data["notes"])
    assert all(n["zh"] for n in data["notes"])


def _locked_pdf(path, password="s3cret-pw"):
    pymupdf = pytest.importorskip("pymupdf")
    pdf = pymupdf.open()
    pdf.new_page(width=595, height=842).insert_text(
        (72, 120), "The late fee of the contract is EUR 2,300 per month.", fontsize=11
    )
    pdf.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=password, owner_pw="owner-pw")
    return path


def test_ask_and_render_open_encrypted_pdfs_with_password(runner, tmp_path, caplog):
    """#21: the CLI said 'Enter the password' but had no way to give one."""
    pdf = _locked_pdf(tmp_path / "locked.pdf")
    missing = runner.invoke(app, ["ask", str(pdf), "What is the late fee?"])
    assert missing.exit_code == 2 and "--password" in missing.stderr
    wrong = runner.invoke(app, ["ask", str(pdf), "What is the late fee?", "--password", "nope"])
    assert wrong.exit_code == 2 and "--password" in wrong.stderr and "nope" not in wrong.output
    assert "Traceback" not in wrong.output
    out = tmp_path / "ev"
    args = ["ask", str(pdf), "What is the late fee?", "--password", "s3cret-pw", "--json"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answer"] == "EUR 2,300"
    ev = next(e for e in data["evidence"] if e["source_boxes"])
    assert Path(ev["source_image"]).is_file()  # the original page, unlocked for drawing only
    rendered = runner.invoke(
        app, ["render", str(pdf), "--password", "s3cret-pw", "--out", str(tmp_path / "r")]
    )
    assert rendered.exit_code == 0, rendered.output and (tmp_path / "r" / "manifest.json").is_file()
    bad = runner.invoke(app, ["render", str(pdf), "--password", "x", "--out", str(tmp_path / "b")])
    assert bad.exit_code == 2 and "--password" in bad.stderr
    assert "s3cret-pw" not in caplog.text and "s3cret-pw" not in result.stderr


def test_wrong_password_message_is_bilingual(runner, tmp_path, monkeypatch):
    from app.settings import get_settings

    pdf = _locked_pdf(tmp_path / "锁.pdf")
    monkeypatch.setenv("GLYPH_LANGUAGE", "zh")
    get_settings.cache_clear()
    wrong = runner.invoke(app, ["render", str(pdf), "--password", "x", "--out", str(tmp_path)])
    assert wrong.exit_code == 2 and "密码" in wrong.stderr and "--password" in wrong.stderr

"""Issue #18, part 3 — values checked against the document, measured.

Hundreds of values taken from real text (a Chinese contract, the Chinese annual-report and
English service-agreement examples, Debian's libtasn1 manual read through the app's PDF
ingest) are put into model-style answers as written, and then with one injected
single-character error each (substitute, OCR confusion, transpose, delete, insert):

* no answer quoting a value as written is flagged (0 false flags);
* at least 99% of the injected errors are flagged (``near`` or ``absent``, with a note),
  in English and in Chinese. An error that turns a value into another value the document
  really has (a "collision": the checker rightly says ``exact``) is counted apart.

The rates are measured on the evidence step's decision (``check_answer``) for speed; the
end-to-end tests drive the same kind of answers through the OpenAI-compatible reader (a fake
server) via ``python -m app ask --json`` and the pipeline, and through the built-in OCR reader.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.datamodel import Mode
from app.evidence.checks import check_answer, flatten
from app.pipeline import Pipeline
from tests.helpers.fake_render import fake_render
from tests.helpers.openai_server import FakeServer
from tests.helpers.values import (
    CONTRACT_ZH,
    CONTRACT_ZH_VALUES,
    is_quote,
    mutations,
    values_of,
    whole_in,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "app" / "ui" / "examples"
LIBTASN1 = Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf")
TEMPLATES = {"en": "According to the document, it is {}.", "zh": "根据文档，该项为 {}。"}


@pytest.fixture(scope="module")
def documents():
    """(name, rendered, values, language) of every document the rates are measured on."""
    report = (EXAMPLES / "年度财报摘要.txt").read_text(encoding="utf-8")
    agreement = (EXAMPLES / "service_agreement.md").read_text(encoding="utf-8")
    docs = [
        ("contract-zh", fake_render(CONTRACT_ZH), CONTRACT_ZH_VALUES, "zh"),
        ("report-zh", fake_render(report), values_of(report), "zh"),
        ("agreement-en", fake_render(agreement), values_of(agreement), "en"),
    ]
    if LIBTASN1.is_file():  # Debian's libtasn1-doc (scripts/setup.sh --dev installs it)
        from app.ingest import load

        manual = load(LIBTASN1)
        docs.append(("libtasn1-en", fake_render(manual, 100, 60), values_of(manual.text), "en"))
    return docs


def _answer(value: str, lang: str) -> str:
    return TEMPLATES[lang].format(f"“{value}”" if is_quote(value) else value)


def test_injected_errors_are_flagged_and_values_as_written_are_not(documents):
    rng = random.Random(18)
    counts: Counter[str] = Counter()
    false_flags, misses = [], []
    for name, rendered, values, lang in documents:
        flat = flatten(rendered.text)[0]
        for value in values:
            assert whole_in(flat, value), (name, value)
            counts[f"{lang} values"] += 1
            checks, notes = check_answer(rendered, _answer(value, lang), Mode.QA, [])
            if notes or any(c.status != "exact" for c in checks):
                false_flags.append((name, value, [(c.value, c.status) for c in checks]))
            for op, wrong in mutations(value, rng).items():
                counts[f"{lang} injected"] += 1
                counts[f"op {op}"] += 1
                if whole_in(flat, wrong):  # another value the document has
                    counts[f"{lang} collisions"] += 1
                    continue
                checks, notes = check_answer(rendered, _answer(wrong, lang), Mode.QA, [])
                if notes and any(c.status != "exact" for c in checks):
                    counts[f"{lang} flagged"] += 1
                else:
                    misses.append((name, value, op, wrong, [(c.value, c.status) for c in checks]))
    rates = {
        lang: counts[f"{lang} flagged"]
        / (counts[f"{lang} injected"] - counts[f"{lang} collisions"])
        for lang in ("en", "zh")
    }
    print(f"\nvalue checks: {dict(sorted(counts.items()))}")
    print("flagged: " + ", ".join(f"{lang} {rate:.2%}" for lang, rate in rates.items()))
    print(f"false flags: {len(false_flags)}; missed: {len(misses)}")
    for miss in misses:
        print("  missed:", miss)
    assert counts["en values"] + counts["zh values"] >= 100
    assert counts["zh values"] >= 60 and counts["en values"] >= 40
    assert false_flags == []
    assert all(rate >= 0.99 for rate in rates.values()), rates


# --- end to end -------------------------------------------------------------------------------


@pytest.fixture
def server():
    s = FakeServer()
    yield s
    s.close()


@pytest.fixture
def cli(tmp_path, monkeypatch, server):
    from app.settings import get_settings

    for key in ("GLYPH_READER", "GLYPH_MODEL", "GLYPH_CACHE_DIR", "GLYPH_COARSE_TO_FINE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GLYPH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GLYPH_OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("GLYPH_OPENAI_API_KEY", "k")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def _ask_json(cli, path: Path, question: str) -> dict:
    from app.cli import app

    result = cli.invoke(
        app, ["ask", str(path), question, "--reader", "openai", "--json", "--out", str(path.parent)]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ask_json_checks_an_openai_answer(cli, server, tmp_path):
    contract = tmp_path / "合同.txt"
    contract.write_text(CONTRACT_ZH, encoding="utf-8")
    server.say("合同编号为 HT-2024-0971，合同总金额为 186,400 元。")
    data = _ask_json(cli, contract, "合同编号和总金额是多少？")
    checks = {c["value"]: c for c in data["checks"]}
    assert checks["HT-2024-0971"]["status"] == "near"
    assert checks["HT-2024-0971"]["document_value"] == "HT-2024-0917"
    assert checks["HT-2024-0971"]["page_number"] == 1
    assert checks["186,400 元"]["status"] == "exact"
    assert data["needs_review"] is True
    assert {"en": "The document says HT-2024-0917, not HT-2024-0971 (page 1).",
            "zh": "文档中为 HT-2024-0917，而不是 HT-2024-0971（第 1 页）。"} in data["notes"]  # fmt: skip

    server.say("合同编号为 HT-2024-0917，签订日期为2024年9月17日，总金额 186,400元。")
    data = _ask_json(cli, contract, "合同编号和总金额是多少？")
    assert [c["status"] for c in data["checks"]] == ["exact", "exact", "exact"]
    assert not any("文档中" in note["zh"] for note in data["notes"])


def test_pipeline_checks_injected_errors_through_the_openai_reader(settings, server):
    """A sample of injected errors, each through the whole answer path."""
    pipeline = Pipeline(
        settings.model_copy(
            update={"reader": "openai", "openai_base_url": server.url, "openai_api_key": "k"}
        )
    )
    rendered = pipeline.render(CONTRACT_ZH, "coarse")
    rng, flagged, cases = random.Random(7), 0, 0
    for value in CONTRACT_ZH_VALUES[::3]:
        server.say(_answer(value, "zh"))
        answer = pipeline.ask_once(rendered, "合同的关键信息是什么？", coarse_to_fine=False)
        assert [c.status for c in answer.checks] == ["exact"], (value, answer.checks)
        for wrong in mutations(value, rng).values():
            if whole_in(flatten(CONTRACT_ZH)[0], wrong):
                continue
            server.say(_answer(wrong, "zh"))
            answer = pipeline.ask_once(rendered, "合同的关键信息是什么？", coarse_to_fine=False)
            cases += 1
            flagged += answer.needs_review and any(c.status != "exact" for c in answer.checks)
    pipeline.close()
    print(f"\npipeline + OpenAI reader: {flagged}/{cases} injected errors flagged")
    assert cases >= 40 and flagged == cases


def test_an_english_pdf_answer_is_checked_on_its_original_page(settings, server, tmp_path):
    pymupdf = pytest.importorskip("pymupdf")
    pdf = pymupdf.open()
    pdf.new_page(width=595, height=842).insert_text((72, 100), "Chapter 1. Introduction.")
    pdf.new_page(width=595, height=842).insert_text(
        (72, 100), "ASN1_MAX_NAME_SIZE is the maximum length of an identifier: 128 bytes."
    )
    pdf.save(tmp_path / "manual.pdf")
    pipeline = Pipeline(
        settings.model_copy(
            update={"reader": "openai", "openai_base_url": server.url, "openai_api_key": "k"}
        )
    )
    rendered = pipeline.render(pipeline.open_document(tmp_path / "manual.pdf"), "coarse")
    server.say("The limit is ASN1_MAX_NAME_S1ZE, 129 bytes.")
    answer = pipeline.ask_once(rendered, "What is the name size limit?", coarse_to_fine=False)
    name, size = answer.checks
    assert (name.status, name.document_value, name.page, name.page_number) == (
        "near",
        "ASN1_MAX_NAME_SIZE",
        1,
        2,
    )
    assert size.value == "129"
    assert size.status in ("near", "absent") and answer.needs_review
    assert "The document says ASN1_MAX_NAME_SIZE, not ASN1_MAX_NAME_S1ZE (page 2)." in [
        n.en for n in answer.notes
    ]
    pipeline.close()


def test_the_builtin_ocr_reader_answers_are_checked_too(settings):
    pytest.importorskip("rapidocr")
    pipeline = Pipeline(settings.model_copy(update={"reader": "ocr"}))
    rendered = pipeline.render(CONTRACT_ZH.split("第一条")[0])  # the parties: one page to read
    answer = pipeline.ask_once(rendered, "合同编号是什么？", coarse_to_fine=False)
    assert answer.reader == "ocr" and "HT-2024-0917" in answer.text
    assert answer.checks and all(c.status == "exact" for c in answer.checks), answer.checks
    assert answer.checks[0].page_number == 1
    assert not any("文档中" in note.zh for note in answer.notes)
    items = pipeline.ask_once(rendered, "", Mode.EXTRACT, coarse_to_fine=False)
    values = {c.value for c in items.checks}
    assert {"HT-2024-0917", "2024年9月17日", "contract@qinghe-soft.example"} <= values
    assert all(c.status == "exact" for c in items.checks), items.checks
    pipeline.close()

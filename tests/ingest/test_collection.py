"""Collections (issue 20): several documents asked as one, every place naming its document."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from app.datamodel import Document
from app.ingest.collection import merge_documents
from tests.helpers.documents import memo_docx, report_pdf


def test_merged_documents_keep_their_names_ranges_and_own_pages(tmp_path):
    from app.pipeline import Pipeline
    from app.settings import Settings

    pipeline = Pipeline(Settings(_env_file=None, data_dir=tmp_path / "data"))
    first = pipeline.open_document(report_pdf(tmp_path / "report.pdf", pages=2))
    memo = pipeline.open_document(memo_docx(tmp_path / "memo.docx"))
    (tmp_path / "b").mkdir()
    second = pipeline.open_document(report_pdf(tmp_path / "b" / "report.pdf", pages=3))
    merged = merge_documents([first, memo, second])
    assert merge_documents([memo]) is memo  # one document stays itself
    assert merged.format == "collection" and len(merged.pages) == 5
    parts = merged.parts()
    assert [p.name for p in parts] == ["report.pdf", "memo.docx", "report.pdf (2)"]
    assert [(p.first_page, p.pages) for p in parts] == [(0, 2), (2, 0), (2, 3)]
    text = merged.text
    for part, doc in zip(parts, [first, memo, second], strict=True):
        # each document opens with its name, then its own text, at the recorded range
        assert text[part.start :].startswith(part.name + "\n" + doc.text)
        assert merged.part_at(part.start + len(part.name) + 5).name == part.name
    assert merged.own_page(3) == 1 and merged.part_at(len(text) - 1).name == "report.pdf (2)"
    pages = [b.source_page for b in merged.blocks if b.source_page is not None]
    assert max(pages) == 4  # the second PDF's pages come after the first's
    # evidence on the second PDF names it and gives its own page, not the collection's
    from app.datamodel import Answer, Mode, Span
    from app.evidence import attach

    rendered = pipeline.render(merged)
    start = parts[2].start + len(parts[2].name) + 1 + second.text.index(second.blocks[-1].text)
    end = start + len(second.blocks[-1].text)
    span = Span(start=start, end=end, text=rendered.text[start:end])
    answer = Answer(text=span.text, mode=Mode.QA, reader="test", confidence=0.9, spans=[span])
    evidence = attach(rendered, answer).evidence
    assert evidence and {e.document for e in evidence} == {"report.pdf (2)"}
    assert {(e.source_page, e.document_page) for e in evidence} == {(4, 2)}
    pipeline.close()
    with pytest.raises(Exception, match="No documents"):
        merge_documents([])
    assert Document.from_text("x").parts()[0].name == "pasted.txt"


@pytest.fixture(scope="module")
def real_docs():
    """Real documents of Debian packages, as the evaluation set derives them (its cache)."""
    from eval.qa_real.build import check_sources, default_cache, load_documents, materialise

    wanted = ["en-apache-license", "zh-debref-boot", "zh-vimtutor", "en-debref-readme"]
    docs = [d for d in load_documents() if d.id in wanted]
    missing = check_sources(docs)
    if missing:
        pytest.skip("; ".join(missing))
    return {d.id: materialise(d, default_cache()) for d in docs}


@pytest.fixture
def runner(tmp_path, monkeypatch):
    from app.settings import get_settings

    for key in ("GLYPH_READER", "GLYPH_MODEL", "GLYPH_OPENAI_BASE_URL", "GLYPH_CACHE_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GLYPH_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_ask_across_real_documents_names_the_document(runner, real_docs, tmp_path):
    """TXT, DOCX, Markdown, English and Chinese: the answer comes from the right document, and
    every evidence item names it (a folder stands for its documents)."""
    from app.cli import app

    folder = tmp_path / "folder"
    folder.mkdir()
    for key in ("zh-debref-boot", "en-debref-readme"):
        (folder / real_docs[key].name).write_bytes(real_docs[key].read_bytes())
    (folder / ".hidden.txt").write_text("not a document of the collection")
    files = [str(real_docs["en-apache-license"]), str(folder), str(real_docs["zh-vimtutor"])]
    for question, name, needle in (
        ("Where can I obtain a copy of the License?", "en-apache-license.txt", "LICENSE-2.0"),
        ("加密文件系统的配置设置在哪个文件里？", "zh-debref-boot.docx", "crypttab"),
    ):
        result = runner.invoke(app, ["ask", *files, question, "--json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert needle in data["answer"], data["answer"]
        assert data["evidence"] and {e["document"] for e in data["evidence"]} == {name}
        assert data["document"]["documents"] == 4
        names = [p["name"] for p in data["document"]["parts"]]
        assert ".hidden.txt" not in names and "zh-vimtutor.txt" in names

    text = runner.invoke(app, ["ask", *files, "Where can I obtain a copy of the License?"])
    assert "en-apache-license.txt, page" in text.stdout  # the plain output names it too


def test_ask_with_a_bad_file_among_good_ones_answers_and_says_which(runner, real_docs, tmp_path):
    from app.cli import app

    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 not really")
    question = "Where can I obtain a copy of the License?"
    good = str(real_docs["en-apache-license"])
    result = runner.invoke(app, ["ask", good, str(broken), question, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "LICENSE-2.0" in data["answer"]
    assert any("Left out broken.pdf" in n["en"] for n in data["notes"])
    alone = runner.invoke(app, ["ask", str(broken), "What?"])
    assert alone.exit_code == 2 and "Traceback" not in alone.output
    empty = runner.invoke(app, ["ask", str(tmp_path / "nothing"), "What?"])
    assert empty.exit_code == 2


def test_a_model_answer_drawn_from_two_documents_cites_both(tmp_path):
    """An OpenAI-compatible reader (a fake server giving a realistic model answer) reads the
    collection's page images; the answer joins facts of the first and the last document, and
    each is cited with its document's name and its own page."""
    from app.pipeline import Pipeline
    from app.settings import Settings
    from tests.helpers.openai_server import FakeServer

    filler = "The office keeps records of every contract, its parties and its dates. " * 30
    texts = {
        "lease.txt": f"Lease for the Harbour Street office. {filler}"
        "The notice period of the lease is ninety days.",
        "cleaning.txt": f"Cleaning contract. {filler}",
        "insurance.txt": f"Insurance policy. {filler}The yearly insurance premium is 2,340 EUR.",
    }
    docs = [Document.from_text(text, name=name, fmt="txt") for name, text in texts.items()]
    server = FakeServer()
    server.deltas = [{"delta": {"role": "assistant", "content": (
        "The notice period of the lease is ninety days, and the yearly insurance premium is "
        "2,340 EUR.")}}]  # fmt: skip
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", openai_base_url=server.url,
                        openai_api_key="sk-test", max_new_tokens=64)  # fmt: skip
    pipeline = Pipeline(settings)
    try:
        rendered = pipeline.render(merge_documents(docs), "en")
        answer = pipeline.ask_once(rendered, "What are the notice period and the premium?",
                                   reader="openai")  # fmt: skip
    finally:
        pipeline.close()
        server.close()
    images = [p for p in server.chats[-1]["body"]["messages"][-1]["content"]
              if p.get("type") == "image_url"]  # fmt: skip
    assert images  # the model was shown the collection's page images
    cited = {(e.document, e.document_page) for e in answer.evidence}
    assert {name for name, _ in cited} == {"lease.txt", "insurance.txt"}
    assert all(page is None for _, page in cited)  # text files have no pages of their own
    for e in answer.evidence:  # each place is drawn on a page of its own document
        start, _ = rendered.layout.span_of_page(e.page)
        assert rendered.document.part_at(start).name == e.document
